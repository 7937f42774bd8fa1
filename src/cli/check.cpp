// gradproof check: run the catalog against implementations that are not ours — C plug-ins
// (--plugin, loaded in worker processes) and programs speaking the subprocess protocol (--exec).
#include "cli/commands.hpp"

#include "plugin/external.hpp"
#include "report/reporters.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace gradproof::cli {

void add_run_options(CLI::App& cmd, run_options& o) {
    cmd.add_option("-p,--property", o.properties, "property name (default: all; see `gradproof list`)");
    cmd.add_option("--precision", o.precisions, "f32 and/or f64 (default: both)");
    cmd.add_option("--seed", o.seed, "run seed (default 1, or RC_PARAMS seed=)");
    cmd.add_option("--cases", o.cases, "cases per property, replacing the defaults");
    cmd.add_option("--shard", o.shard, "I/N: run the deterministic I-th of N shards (also GTEST_SHARD_INDEX/GTEST_TOTAL_SHARDS)");
    cmd.add_option("--shrink-time", o.shrink_seconds, "seconds of shrinking after a failure (default 30)");
    cmd.add_option("--json", o.json_path, "write results JSON to FILE");
    cmd.add_option("--junit", o.junit_path, "write JUnit XML to FILE");
    add_html_option(cmd, o.html);
    cmd.add_flag("-q,--quiet", o.quiet, "no progress lines");
}

namespace {
int parse_int(const std::string& s, const char* what) {
    try {
        std::size_t pos = 0;
        const int v = std::stoi(s, &pos);
        if (pos != s.size()) throw std::invalid_argument(s);
        return v;
    } catch (const std::exception&) {
        throw usage_error(std::string(what) + ": expected an integer, got '" + s + "'");
    }
}
}  // namespace

run_config make_config(const run_options& o) {
    run_config cfg;
    apply_rc_params(cfg);
    if (o.seed) cfg.seed = *o.seed;
    if (o.cases) {
        if (*o.cases < 1) throw usage_error("--cases: must be ≥ 1");
        cfg.cases = *o.cases;
    }
    for (const auto& name : o.properties)
        if (!find_property(name)) throw usage_error("--property: unknown property '" + name + "' (see `gradproof list`)");
    cfg.properties = o.properties;
    if (!o.precisions.empty()) {
        cfg.precisions.clear();
        for (const auto& p : o.precisions) {
            if (p == "f32") cfg.precisions.push_back(precision::f32);
            else if (p == "f64") cfg.precisions.push_back(precision::f64);
            else throw usage_error("--precision: expected f32 or f64, got '" + p + "'");
        }
    }
    if (!(o.shrink_seconds >= 0)) throw usage_error("--shrink-time: must be ≥ 0 seconds");
    cfg.shrink_budget_seconds = o.shrink_seconds;
    const char* gi = std::getenv("GTEST_SHARD_INDEX");
    const char* gn = std::getenv("GTEST_TOTAL_SHARDS");
    if (gi && gn && *gi && *gn) {
        cfg.shard_index = parse_int(gi, "GTEST_SHARD_INDEX");
        cfg.shard_count = parse_int(gn, "GTEST_TOTAL_SHARDS");
    }
    if (!o.shard.empty()) {
        const auto slash = o.shard.find('/');
        if (slash == std::string::npos) throw usage_error("--shard: expected I/N, got '" + o.shard + "'");
        cfg.shard_index = parse_int(o.shard.substr(0, slash), "--shard");
        cfg.shard_count = parse_int(o.shard.substr(slash + 1), "--shard");
    }
    if (cfg.shard_count < 1 || cfg.shard_index < 0 || cfg.shard_index >= cfg.shard_count)
        throw usage_error(fmt::format("--shard: need 0 ≤ I < N, got {}/{}", cfg.shard_index, cfg.shard_count));
    if (!o.quiet) cfg.on_result = [](const property_result& r) { write_progress_line(std::cerr, r); };
    return cfg;
}

void check_outputs_writable(const run_options& o) {
    for (const auto* path : {&o.json_path, &o.junit_path, &o.html.path})
        if (!path->empty()) {
            try {
                write_file_atomically(*path, "");
            } catch (const std::exception& e) {
                throw usage_error(e.what());
            }
        }
}

int finish_run(run_result& run, const std::vector<subject>& subjects, const run_config& cfg, const run_options& o,
               const std::string& command_line) {
    run.meta = describe_run(cfg, command_line);
    const std::string html_path = resolve_html_path(o.html);
    // Chart data costs about a second: only for the files that carry it.
    if (!html_path.empty() || !o.json_path.empty()) add_report_data(run, subjects, cfg.precisions, cfg.seed);
    write_terminal(std::cout, run);
    if (!o.json_path.empty()) {
        std::ostringstream js;
        write_json(js, run);
        write_file_atomically(o.json_path, js.str());
        std::cout << "results JSON: " << o.json_path << "\n";
    }
    if (!o.junit_path.empty()) {
        std::ostringstream xs;
        write_junit(xs, run);
        write_file_atomically(o.junit_path, xs.str());
        std::cout << "JUnit XML: " << o.junit_path << "\n";
    }
    if (!html_path.empty()) write_html_report(html_path, run);
    return run.has_unexpected_failure() ? 1 : 0;
}

void add_check_command(CLI::App& app, check_options& o) {
    auto* cmd = app.add_subcommand("check", "run the catalog against plug-ins (--plugin) and protocol programs (--exec)");
    cmd->add_option("--plugin", o.plugins, "shared library exporting gradproof_* entry points (repeatable)");
    cmd->add_option("--exec", o.execs, "command speaking the subprocess protocol on stdin/stdout (repeatable)");
    cmd->add_option("-i,--implementation", o.implementations, "only the implementations with these names");
    cmd->add_option("--timeout", o.timeout_seconds, "per-call timeout in seconds (default 10)");
    add_run_options(*cmd, o.run);
}

int run_check(const check_options& o, const std::string& command_line) {
    if (o.plugins.empty() && o.execs.empty()) throw usage_error("check: give at least one --plugin or --exec");
    if (!(o.timeout_seconds > 0) || !std::isfinite(o.timeout_seconds))
        throw usage_error("--timeout: must be a positive number of seconds");
    run_config cfg = make_config(o.run);
    cfg.program = "gradproof";
    check_outputs_writable(o.run);
    plugin::process_options popt;
    popt.timeout = std::chrono::milliseconds(static_cast<long long>(o.timeout_seconds * 1000));
    std::vector<plugin::external_implementation> impls;
    try {
        for (const auto& p : o.plugins) impls.push_back(plugin::open_plugin(p, popt));
        for (const auto& e : o.execs) impls.push_back(plugin::open_exec(e, popt));
    } catch (const plugin::load_error& e) {
        throw usage_error(e.what());
    }
    std::vector<subject> subjects;
    for (const auto& x : impls) {
        std::string eps;
        for (const auto& e : x.entry_points) eps += (eps.empty() ? "" : ", ") + e;
        std::cout << x.subj.name << " (" << x.subj.description << "): " << eps << "\n";
        for (const auto& w : x.wrong_kind) std::cout << "  warning: " << w << " is exported but is not a function; ignored\n";
        if (o.implementations.empty() ||
            std::find(o.implementations.begin(), o.implementations.end(), x.subj.name) != o.implementations.end())
            subjects.push_back(x.subj);
    }
    if (subjects.empty()) throw usage_error("--implementation: no loaded implementation has that name");
    // Reproduce strings must name the same implementations.
    std::string args;
    for (const auto& p : o.plugins) args += " --plugin " + p;
    for (const auto& e : o.execs) args += " --exec '" + e + "'";
    cfg.program = "gradproof check" + args + " #";
    run_result run = run_catalog(subjects, cfg);
    for (auto& r : run.results)
        if (!r.reproduce.empty()) {
            // "gradproof check … # verify --implementation X --property P …" → a check command line.
            const auto pos = r.reproduce.find(" # verify ");
            if (pos != std::string::npos)
                r.reproduce = r.reproduce.substr(0, pos) + " " +
                              r.reproduce.substr(pos + std::string(" # verify ").size());
        }
    return finish_run(run, subjects, cfg, o.run, command_line);
}

}  // namespace gradproof::cli
