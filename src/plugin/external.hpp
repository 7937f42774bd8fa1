// Subjects backed by another process: a C plug-in (loaded by a gradproof worker process) or any
// program speaking the subprocess protocol (--exec). Their entry points encode each call on the
// wire; a rejection becomes rejected_input, a crash/hang/garbage an implementation_failure, and
// a contract breach seen by the worker (input modified, output not written) a contract_violation.
#pragma once

#include "core/subject.hpp"
#include "plugin/process.hpp"

#include <memory>
#include <string>
#include <vector>

namespace gradproof::plugin {

struct load_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct contract_violation : contract_breached {
    using contract_breached::contract_breached;
};

struct external_implementation {
    subject subj;
    std::vector<std::string> entry_points;  // "softmax_f64", …
    std::vector<std::string> wrong_kind;    // symbols that exist but are not functions
    std::shared_ptr<implementation_process> process;
};

// Loads PATH in a worker process (`gradproof worker PATH`); throws load_error for a missing or
// unloadable file or one exporting none of the twelve symbols.
external_implementation open_plugin(const std::string& path, const process_options& options);

// Runs `/bin/sh -c COMMAND` as a protocol peer; throws load_error when it does not answer hello.
external_implementation open_exec(const std::string& command, const process_options& options);

// What a hello answer says: validated entry points (names of the ABI only), symbols of the wrong
// kind, and the peer's display name (empty when absent). Throws load_error (prefixed by `what`)
// for an answer that is not "ok" or lists no entry point.
struct hello_info {
    std::vector<std::string> entry_points;
    std::vector<std::string> wrong_kind;
    std::string name;
};
hello_info parse_hello(const nlohmann::json& header, const std::string& what);

// Path of the running gradproof executable (to start workers).
std::string self_executable();

}  // namespace gradproof::plugin
