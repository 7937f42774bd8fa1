// Fuzzes the command line of the run commands and the environment they read: the real option
// grammar of `verify` and `check` (src/cli/options.cpp; the `-i` option of verify is repeated
// from main.cpp) and config_from_options with RC_PARAMS and GTEST_SHARD_INDEX/TOTAL.
// Input: NUL-separated tokens — RC_PARAMS, GTEST_SHARD_INDEX, GTEST_TOTAL_SHARDS, then argv.
// Allowed outcomes are the ones main() turns into exit 0/2: CLI::ParseError or usage_error.
#include "cli/commands.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {
void set_or_unset(const char* name, const std::string& value) {
    if (value.empty()) ::unsetenv(name);
    else ::setenv(name, value.c_str(), 1);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace gradproof;
    std::vector<std::string> tokens(1);
    for (std::size_t i = 0; i < size && tokens.size() <= 67; ++i) {
        if (data[i] == '\0') tokens.emplace_back();
        else tokens.back().push_back(static_cast<char>(data[i]));
    }
    tokens.resize(std::max<std::size_t>(tokens.size(), 3));
    set_or_unset("RC_PARAMS", tokens[0]);
    set_or_unset("GTEST_SHARD_INDEX", tokens[1]);
    set_or_unset("GTEST_TOTAL_SHARDS", tokens[2]);
    std::vector<std::string> args(tokens.rbegin(), tokens.rend() - 3);  // CLI11 takes them reversed

    CLI::App app{"gradproof"};
    app.require_subcommand(1);
    cli::run_options verify_run;
    std::vector<std::string> implementations;
    auto* verify = app.add_subcommand("verify", "");
    verify->add_option("-i,--implementation", implementations, "");
    cli::add_run_options(*verify, verify_run);
    cli::check_options check;
    cli::add_check_command(app, check);
    try {
        app.parse(args);
    } catch (const CLI::ParseError&) {
        return 0;
    }
    try {
        const run_config cfg = cli::config_from_options(verify->parsed() ? verify_run : check.run);
        // What the runner relies on.
        if (cfg.shard_count < 1 || cfg.shard_index < 0 || cfg.shard_index >= cfg.shard_count) std::abort();
        if (cfg.cases && *cfg.cases < 1) std::abort();
        if (cfg.max_size < 0 || !(cfg.shrink_budget_seconds >= 0) || !(cfg.case_scale > 0)) std::abort();
    } catch (const cli::usage_error&) {
    }
    return 0;
}
