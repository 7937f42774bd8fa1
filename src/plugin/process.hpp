// Parent side of the subprocess protocol: starts an implementation's process (a plug-in worker
// or an --exec command), sends requests, and waits for answers with a per-call timeout. A crash,
// exit, hang or protocol violation of the child becomes an implementation_failure carrying a
// one-line description; the child is restarted on the next call, and a restarted child gets the
// handshake (hello) first, as the protocol has every child begin.
#pragma once

#include "protocol/wire.hpp"

#include "core/subject.hpp"

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/types.h>
#include <vector>

namespace gradproof::plugin {

struct implementation_failure : implementation_crashed {
    using implementation_crashed::implementation_crashed;
};

struct process_options {
    // Per-call limit (`gradproof check --timeout`). Default 10 s: far above any correct call on
    // the inputs gradproof draws, short enough that a hang costs little.
    std::chrono::milliseconds timeout{10000};
};

class implementation_process {
public:
    implementation_process(std::vector<std::string> argv, std::string display_name, process_options options);
    ~implementation_process();
    implementation_process(const implementation_process&) = delete;
    implementation_process& operator=(const implementation_process&) = delete;

    // One request/response exchange; max_payload bounds the answer's payload.
    protocol::message call(const nlohmann::json& header, const std::string& payload, std::uint64_t max_payload);
    // The request every restarted child is sent first (hello); its answer must have status "ok".
    void set_handshake(nlohmann::json header) { handshake_ = std::move(header); }

    const std::string& name() const { return name_; }
    int restarts() const { return starts_ > 0 ? starts_ - 1 : 0; }

private:
    void start();
    void stop();
    std::string exit_description();  // after the child has died or was killed
    std::string stderr_tail() const;

    std::vector<std::string> argv_;
    std::string name_;
    process_options options_;
    pid_t pid_ = -1;
    int to_child_ = -1;
    int from_child_ = -1;
    std::string stderr_path_;
    int starts_ = 0;
    std::optional<nlohmann::json> handshake_;
};

}  // namespace gradproof::plugin
