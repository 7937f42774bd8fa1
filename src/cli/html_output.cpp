#include "cli/html_output.hpp"

#include "cli/commands.hpp"
#include "diagnostics/diagnostics.hpp"
#include "report/reporters.hpp"

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace gradproof::cli {

std::string resolve_html_path(const html_request& r) {
    if (!r.enabled) return {};
    if (!r.path.empty()) return r.path;
    const std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::gmtime(&now));
    const std::filesystem::path dir = std::filesystem::path("reports") / "out";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw usage_error(dir.string() + ": cannot be created: " + ec.message());
    return (dir / (std::string("gradproof-") + stamp + ".html")).string();
}

void add_report_data(run_result& run, const std::vector<subject>& subjects, const std::vector<precision>& precisions,
                     std::uint64_t seed) {
    for (const auto& s : subjects) run.implementations.push_back(describe_subject(s));
    run.diagnostics = compute_diagnostics(subjects, precisions, {.seed = seed});
}

namespace {
void write_html_file(const std::string& path, const run_result& run, const html_options& opt) {
    std::ostringstream hs;
    write_html(hs, run, opt);
    write_file_atomically(path, hs.str());
    std::cout << "HTML report: " << path << "\n";
}
}  // namespace

void write_html_report(const std::string& path, const run_result& run) { write_html_file(path, run, {}); }

CLI::App* add_report_command(CLI::App& app, report_options& o) {
    auto* cmd = app.add_subcommand("report", "render results JSON files (merged, e.g. CI shards) as one HTML report");
    cmd->add_option("results", o.inputs, "results JSON files written with --json")->required();
    cmd->add_option("-o,--output", o.output, "HTML file (default: reports/out/gradproof-<time>.html)");
    return cmd;
}

int run_report(const report_options& o) {
    std::vector<run_result> runs;
    html_options opt;
    for (const auto& path : o.inputs) {
        std::ifstream f(path);
        if (!f) throw usage_error(path + ": cannot be read");
        try {
            runs.push_back(read_json(f));
        } catch (const std::exception& e) {
            throw usage_error(path + ": " + e.what());
        }
        opt.sources.push_back({path, runs.back().meta});
    }
    const std::string out = resolve_html_path({true, o.output});
    write_html_file(out, merge_runs(runs), opt);
    return 0;
}

}  // namespace gradproof::cli
