// gradproof command line.
//   gradproof verify   run the property catalog on the built-in implementations
//   gradproof check    run it on plug-ins (--plugin) and protocol programs (--exec)
//   gradproof list     list implementations and properties
//   gradproof report   render saved results files (merged) as one HTML report
//   gradproof bench    time the implementations against the machine's bounds and peers
// Exit codes: 0 all pass (failures of known-flawed specimens are expected), 1 a property failed,
// 2 usage error or bad input (one clear line on stderr).
#include "cli/commands.hpp"
#include "impl/builtin.hpp"
#include "plugin/worker.hpp"
#include "properties/property.hpp"

#include <gradproof/version.hpp>

#include <fmt/format.h>

#include <iostream>

namespace {

using namespace gradproof;
using gradproof::cli::usage_error;

std::string join_args(int argc, char** argv) {
    std::string s;
    for (int i = 0; i < argc; ++i) s += (i ? " " : "") + std::string(argv[i]);
    return s;
}

int cmd_list() {
    fmt::print("implementations:\n");
    for (const auto& s : builtin_subjects())
        fmt::print("  {:<16} {}{}\n", s.name, s.description, s.known_flawed ? "  [known-flawed specimen]" : "");
    fmt::print("\nproperties:\n");
    for (const auto& p : catalog())
        fmt::print("  {}\n      {} (needs: {}; {} cases)\n", p.name, p.claim, p.needs_text().empty() ? "any entry point" : p.needs_text(),
                   p.default_cases);
    return 0;
}

struct verify_options {
    cli::run_options run;
    std::vector<std::string> implementations;
};

int cmd_verify(const verify_options& o, const std::string& command_line) {
    run_config cfg = cli::make_config(o.run);
    std::vector<subject> subjects;
    if (o.implementations.empty()) subjects = builtin_subjects();
    for (const auto& name : o.implementations) {
        const subject* s = find_builtin(name);
        if (!s) throw usage_error("--implementation: unknown implementation '" + name + "' (see `gradproof list`)");
        subjects.push_back(*s);
    }
    cli::check_outputs_writable(o.run);
    install_stop_handlers();  // SIGINT/SIGTERM: stop at the next case, still write the files
    run_result run = run_catalog(subjects, cfg);
    return cli::finish_run(run, subjects, cfg, o.run, command_line, [](const replay_data& r) {
        return fmt::format("gradproof verify --implementation {} --property {} --precision {} --seed {} --cases {}{}",
                           r.implementation, r.property, to_string(r.prec), r.seed, r.cases,
                           r.domain_args.empty() ? "" : " " + r.domain_args);
    });
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"gradproof: property-based verification of softmax loss and gradient implementations"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "gradproof " GRADPROOF_VERSION_STRING);
    verify_options vo;
    auto* verify = app.add_subcommand("verify", "run the property catalog on the built-in implementations");
    verify->add_option("-i,--implementation", vo.implementations, "naive, vectorized, seed_vectorized (default: all)");
    cli::add_run_options(*verify, vo.run);
    cli::check_options co;
    cli::add_check_command(app, co);
    cli::bench_options bo;
    auto* bench = cli::add_bench_command(app, bo);
    auto* list = app.add_subcommand("list", "list implementations and properties");
    cli::report_options ro;
    auto* report = cli::add_report_command(app, ro);
    std::string worker_plugin;
    auto* worker = app.add_subcommand("worker", "(internal) serve a plug-in over the subprocess protocol");
    worker->add_option("plugin", worker_plugin)->required();
    worker->group("");  // hidden from --help
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();
        return 0;
    } catch (const CLI::CallForVersion&) {
        std::cout << "gradproof " GRADPROOF_VERSION_STRING "\n";
        return 0;
    } catch (const CLI::CallForAllHelp&) {
        std::cout << app.help("", CLI::AppFormatMode::All);
        return 0;
    } catch (const CLI::ParseError& e) {
        std::string what = e.what();
        if (const auto nl = what.find('\n'); nl != std::string::npos) what = what.substr(0, nl);
        std::cerr << "gradproof: " << what << "\n";
        return 2;
    }
    try {
        if (worker->parsed()) return plugin::run_worker(worker_plugin);
        if (list->parsed()) return cmd_list();
        const std::string command_line = join_args(argc, argv);
        if (verify->parsed()) return cmd_verify(vo, command_line);
        if (report->parsed()) return cli::run_report(ro);
        if (bench->parsed()) return cli::run_bench_command(bo);
        for (auto* sub : app.get_subcommands())
            if (sub->get_name() == "check") return cli::run_check(co, command_line);
    } catch (const usage_error& e) {
        std::cerr << "gradproof: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "gradproof: " << e.what() << "\n";
        return 2;
    }
    return 2;
}
