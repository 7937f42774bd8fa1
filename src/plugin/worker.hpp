// The plug-in worker: a separate process (`gradproof worker PLUGIN.so`) that loads the plug-in
// and serves protocol requests on its stdin/stdout. Plug-in code runs only here, so a crash,
// abort, exit() or hang cannot touch the parent's state; the parent restarts the worker.
#pragma once

#include "protocol/wire.hpp"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace gradproof::plugin {

// Serves requests until end of input; returns the process exit code.
int run_worker(const std::string& plugin_path);

namespace detail {
// What symbol discovery found in a plug-in: entry name ("softmax_f64") → function, and the names
// that exist but are not functions.
struct discovered_symbols {
    bool loaded = false;
    std::string load_error;
    std::map<std::string, void*> functions;
    std::vector<std::string> wrong_kind;
};
// Answers one request (hello or a call) from the discovered symbols: the header and payload of
// the answer. Header dimensions are checked against the payload before any buffer is sized, so
// a request claiming n = 1e18 is refused, not allocated. Separate from run_worker so that the
// fuzzer (tests/fuzz/fuzz_symbols.cpp) drives it with stub functions.
std::pair<nlohmann::json, std::string> handle_request(const discovered_symbols& symbols, const protocol::message& m);
}  // namespace detail

}  // namespace gradproof::plugin
