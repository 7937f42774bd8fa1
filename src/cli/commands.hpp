// Subcommands of the gradproof executable, each registering its options on the CLI11 app and
// returning a runner that yields the exit code (0 pass, 1 a property failed, 2 usage or load
// error). Shared helpers for run configuration and output files live here too.
#pragma once

#include "cli/html_output.hpp"
#include "runner/runner.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace gradproof::cli {

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Options shared by verify and check.
struct run_options {
    std::vector<std::string> properties;
    std::vector<std::string> precisions;
    std::optional<std::uint64_t> seed;
    std::optional<int> cases;
    std::string shard;  // "I/N"
    double shrink_seconds = 15;
    std::string domain = "full";              // --domain
    std::optional<double> max_abs_logit, max_abs_input;
    std::string fail_on = "all";              // --fail-on
    std::string json_path, junit_path;
    html_request html;  // --html [FILE]
    bool quiet = false;
};

void add_run_options(CLI::App& cmd, run_options& o);
// Builds a run_config (RC_PARAMS, GTEST_SHARD_* and the options); throws usage_error.
run_config make_config(const run_options& o);
// The part of make_config that needs no catalog (cli/options.cpp, fuzzed by tests/fuzz/fuzz_cli.cpp):
// RC_PARAMS, the shard environment and every option except the property names' existence.
run_config config_from_options(const run_options& o);
// Refuses unwritable output paths before a long run (usage_error).
void check_outputs_writable(const run_options& o);
// Prints the terminal report and writes the requested files; returns the exit code. subjects are
// those of the run: the HTML report and the results JSON describe them and carry their chart data.
// format_reproduce turns each failure's replay data into this front end's command line.
int finish_run(run_result& run, const std::vector<subject>& subjects, const run_config& cfg, const run_options& o,
               const std::string& command_line, const std::function<std::string(const replay_data&)>& format_reproduce);

// Quotes a word for a POSIX shell when it needs quoting.
std::string shell_quote(const std::string& s);

struct check_options {
    run_options run;
    std::vector<std::string> plugins;
    std::vector<std::string> execs;
    std::vector<std::string> implementations;  // filter by name (reproduce strings use it)
    double timeout_seconds = 10;
};
void add_check_command(CLI::App& app, check_options& o);
int run_check(const check_options& o, const std::string& command_line);

// gradproof bench (cli/bench.cpp; measuring code in src/bench/).
struct bench_options {
    std::vector<std::string> shapes;  // NxDxC
    std::optional<std::vector<std::string>> fused_shapes;  // NxDxV; an empty value: none
    std::optional<int> repetitions, threads;
    bool quick = false, no_certify = false, no_peers = false, quiet = false;
    std::string certify_shape;
    std::string certify_fused_shape;  // NxDxV
    std::string python = "/usr/bin/python3";
    std::optional<std::string> torch_peer;
    std::string json_path;
};
CLI::App* add_bench_command(CLI::App& app, bench_options& o);
int run_bench_command(const bench_options& o);

}  // namespace gradproof::cli
