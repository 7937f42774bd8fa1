// Runs a shell command line and captures its exit code and combined stdout/stderr, for tests of
// the gradproof executable.
#pragma once

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace gradproof::test_support {

struct outcome {
    int exit_code = -1;  // -1 when the command could not run or died from a signal
    std::string out;     // stdout and stderr together
};

inline outcome run_command(const std::string& command_line) {
    const std::string cmd = command_line + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    outcome o;
    if (!p) return o;
    std::array<char, 4096> buf{};
    while (std::fgets(buf.data(), buf.size(), p)) o.out += buf.data();
    const int status = pclose(p);
    o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return o;
}

inline int line_count(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace gradproof::test_support
