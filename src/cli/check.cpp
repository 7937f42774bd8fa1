// gradproof check: run the catalog against implementations that are not ours — C plug-ins
// (--plugin, loaded in worker processes) and programs speaking the subprocess protocol (--exec).
#include "cli/commands.hpp"

#include "plugin/external.hpp"
#include "diagnostics/diagnostics.hpp"
#include "report/reporters.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace gradproof::cli {

run_config make_config(const run_options& o) {
    run_config cfg = config_from_options(o);
    for (const auto& name : o.properties)
        if (!find_property(name)) throw usage_error("--property: unknown property '" + name + "' (see `gradproof list`)");
    if (!o.quiet) cfg.on_result = [](const property_result& r) { write_progress_line(std::cerr, r); };
    return cfg;
}

void check_outputs_writable(const run_options& o) {
    // Probes with the temporary name write_file_atomically will use, so that nothing appears at
    // the final path before the run has something to put there.
    for (const auto* path : {&o.json_path, &o.junit_path, &o.html.path})
        if (!path->empty()) {
            std::error_code ec;
            if (std::filesystem::is_directory(*path, ec)) throw usage_error(*path + ": is a directory");
            const std::string probe = *path + ".tmp." + std::to_string(::getpid());
            if (!std::ofstream(probe, std::ios::binary | std::ios::trunc)) throw usage_error(*path + ": cannot be written");
            std::remove(probe.c_str());
        }
}

int finish_run(run_result& run, const std::vector<subject>& subjects, const run_config& cfg, const run_options& o,
               const std::string& command_line, const std::function<std::string(const replay_data&)>& format_reproduce) {
    run.meta = describe_run(cfg, command_line);
    format_reproduce_lines(run, format_reproduce);
    const std::string html_path = resolve_html_path(o.html);
    // Chart data costs about a second (and calls the implementations again): only for the files
    // that carry it, and not after an interruption, when the user wants the files now.
    if (run.incomplete) {
        for (const auto& s : subjects) run.implementations.push_back(describe_subject(s));
    } else if (!html_path.empty() || !o.json_path.empty()) {
        add_report_data(run, subjects, cfg.precisions, cfg.seed);
    }
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
    // Interrupted: the shell convention 128 + signal (130 for SIGINT, 143 for SIGTERM), so that
    // scripts and CI see the run did not finish even when everything gathered passed.
    if (run.incomplete && stop_signal() != 0) return 128 + stop_signal();
    return run.summary.fails ? 1 : 0;
}

std::string shell_quote(const std::string& s) {
    if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+") ==
                          std::string::npos)
        return s;
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

int run_check(const check_options& o, const std::string& command_line) {
    if (o.plugins.empty() && o.execs.empty()) throw usage_error("check: give at least one --plugin or --exec");
    if (!(o.timeout_seconds > 0) || !std::isfinite(o.timeout_seconds))
        throw usage_error("--timeout: must be a positive number of seconds");
    run_config cfg = make_config(o.run);
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
    install_stop_handlers();
    run_result run = run_catalog(subjects, cfg);
    // Reproduce lines name the same plug-ins and programs, so that the implementation names resolve.
    std::string args;
    for (const auto& p : o.plugins) args += " --plugin " + shell_quote(p);
    for (const auto& e : o.execs) args += " --exec " + shell_quote(e);
    return finish_run(run, subjects, cfg, o.run, command_line, [&](const replay_data& r) {
        return fmt::format("gradproof check{} --implementation {} --property {} --precision {} --seed {} --cases {}{}", args,
                           shell_quote(r.implementation), r.property, to_string(r.prec), r.seed, r.cases,
                           r.domain_args.empty() ? "" : " " + r.domain_args);
    });
}

}  // namespace gradproof::cli
