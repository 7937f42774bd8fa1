// gradproof command line.
//   gradproof verify   run the property catalog on the built-in implementations
//   gradproof list     list implementations and properties
// Exit codes: 0 all pass (failures of known-flawed specimens are expected), 1 a property failed,
// 2 usage error or bad input (one clear line on stderr).
#include "impl/builtin.hpp"
#include "properties/property.hpp"
#include "report/reporters.hpp"
#include "runner/runner.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>
#include <sstream>

namespace {

using namespace gradproof;

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

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
    for (const auto& p : catalog()) fmt::print("  {}\n      {} (needs: {}; {} cases)\n", p.name, p.claim, p.needs_text(), p.default_cases);
    return 0;
}

struct verify_options {
    std::vector<std::string> implementations;
    std::vector<std::string> properties;
    std::vector<std::string> precisions;
    std::optional<std::uint64_t> seed;
    std::optional<int> cases;
    std::string json_path, junit_path;
    bool quiet = false;
};

int cmd_verify(const verify_options& o, const std::string& command_line) {
    run_config cfg;
    apply_rc_params(cfg);
    if (o.seed) cfg.seed = *o.seed;
    if (o.cases) {
        if (*o.cases < 1) throw usage_error("--cases: must be ≥ 1");
        cfg.cases = *o.cases;
    }
    cfg.properties = o.properties;
    for (const auto& name : o.properties)
        if (!find_property(name)) throw usage_error("--property: unknown property '" + name + "' (see `gradproof list`)");
    if (!o.precisions.empty()) {
        cfg.precisions.clear();
        for (const auto& p : o.precisions) {
            if (p == "f32") cfg.precisions.push_back(precision::f32);
            else if (p == "f64") cfg.precisions.push_back(precision::f64);
            else throw usage_error("--precision: expected f32 or f64, got '" + p + "'");
        }
    }
    std::vector<subject> subjects;
    if (o.implementations.empty()) subjects = builtin_subjects();
    for (const auto& name : o.implementations) {
        const subject* s = find_builtin(name);
        if (!s) throw usage_error("--implementation: unknown implementation '" + name + "' (see `gradproof list`)");
        subjects.push_back(*s);
    }
    // Fail early on unwritable outputs rather than after a long run.
    for (const auto* path : {&o.json_path, &o.junit_path})
        if (!path->empty()) {
            try {
                write_file_atomically(*path, "");
            } catch (const std::exception& e) {
                throw usage_error(e.what());
            }
        }
    if (!o.quiet) cfg.on_result = [](const property_result& r) { write_progress_line(std::cerr, r); };
    run_result run = run_catalog(subjects, cfg);
    run.meta = describe_run(cfg, command_line);
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
    return run.has_unexpected_failure() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"gradproof: property-based verification of softmax loss and gradient implementations"};
    app.require_subcommand(1);
    verify_options vo;
    auto* verify = app.add_subcommand("verify", "run the property catalog on the built-in implementations");
    verify->add_option("-i,--implementation", vo.implementations, "naive, vectorized, seed_vectorized (default: all)");
    verify->add_option("-p,--property", vo.properties, "property name (default: all; see `gradproof list`)");
    verify->add_option("--precision", vo.precisions, "f32 and/or f64 (default: both)");
    verify->add_option("--seed", vo.seed, "run seed (default 1, or RC_PARAMS seed=)");
    verify->add_option("--cases", vo.cases, "cases per property, replacing the defaults");
    verify->add_option("--json", vo.json_path, "write results JSON to FILE");
    verify->add_option("--junit", vo.junit_path, "write JUnit XML to FILE");
    verify->add_flag("-q,--quiet", vo.quiet, "no progress lines");
    auto* list = app.add_subcommand("list", "list implementations and properties");
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();
        return 0;
    } catch (const CLI::CallForAllHelp&) {
        std::cout << app.help("", CLI::AppFormatMode::All);
        return 0;
    } catch (const CLI::ParseError& e) {
        std::cerr << "gradproof: " << e.what() << "\n";
        return 2;
    }
    try {
        if (list->parsed()) return cmd_list();
        if (verify->parsed()) return cmd_verify(vo, join_args(argc, argv));
    } catch (const usage_error& e) {
        std::cerr << "gradproof: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "gradproof: " << e.what() << "\n";
        return 2;
    }
    return 2;
}
