// HTML output of the gradproof executable: the --html [FILE] option of verify and check, and the
// `report` subcommand that renders (and merges) saved results files.
#pragma once

#include "core/subject.hpp"
#include "runner/result.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace gradproof::cli {

struct html_request {
    bool enabled = false;  // --html given, with or without a path
    std::string path;      // empty: default_html_path()
};

// Registers --html [FILE] on a run command.
void add_html_option(CLI::App& cmd, html_request& r);
// The path to write to (default reports/out/gradproof-<UTC time>.html, its folder created), or ""
// when no HTML was requested; throws usage_error when the folder cannot be created.
std::string resolve_html_path(const html_request& r);
// Fills what only the HTML report and the JSON results need: implementations and chart data.
void add_report_data(run_result& run, const std::vector<subject>& subjects, const std::vector<precision>& precisions,
                     std::uint64_t seed);
// Renders run to path (atomically) and prints the path.
void write_html_report(const std::string& path, const run_result& run);

struct report_options {
    std::vector<std::string> inputs;
    std::string output;
};
CLI::App* add_report_command(CLI::App& app, report_options& o);
// Exit 0 once written (verdicts belong to verify/check); 2 for unreadable or malformed input.
int run_report(const report_options& o);

}  // namespace gradproof::cli
