// Command-line grammar of the run commands and the run configuration it yields: everything that
// interprets outside text (argv, RC_PARAMS, GTEST_SHARD_*) without touching the catalog, so that
// tests/fuzz/fuzz_cli.cpp can drive it alone.
#include "cli/commands.hpp"

#include "runner/summary.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

namespace gradproof::cli {

void add_html_option(CLI::App& cmd, html_request& r) {
    // A callback rather than a plain string option: `--html` alone must be told apart from no --html.
    cmd.add_option_function<std::vector<std::string>>(
           "--html",
           [&r](const std::vector<std::string>& v) {
               r.enabled = true;
               if (!v.empty()) r.path = v.front();
           },
           "write an HTML report to FILE (default: reports/out/gradproof-<time>.html)")
        ->expected(0, 1);
}

void add_run_options(CLI::App& cmd, run_options& o) {
    cmd.add_option("-p,--property", o.properties, "property name (default: all; see `gradproof list`)");
    cmd.add_option("--precision", o.precisions, "f32 and/or f64 (default: both)");
    cmd.add_option("--seed", o.seed, "run seed (default 1, or RC_PARAMS seed=)");
    cmd.add_option("--cases", o.cases, "cases per property, replacing the defaults");
    cmd.add_option("--shard", o.shard, "I/N: run the deterministic I-th of N shards (also GTEST_SHARD_INDEX/GTEST_TOTAL_SHARDS)");
    cmd.add_option("--shrink-time", o.shrink_seconds, "seconds of shrinking after a new finding's first failure (default 15)");
    cmd.add_option("--domain", o.domain,
                   "inputs to draw: ordinary (finite, no subnormals, bounded logits and inputs), extreme (hazards) "
                   "or full (both; default)");
    cmd.add_option("--max-abs-logit", o.max_abs_logit, "bound on |logit| of the ordinary domain (default 30)");
    cmd.add_option("--max-abs-input", o.max_abs_input, "bound on |W|, |X| and upstream gradients of the ordinary domain (default 100)");
    cmd.add_option("--fail-on", o.fail_on,
                   "finding classes that make the exit code 1: a comma-separated list of wrong, extreme_inputs, "
                   "accuracy, contract, crash, or all (default) or none");
    cmd.add_option("--json", o.json_path, "write results JSON to FILE");
    cmd.add_option("--junit", o.junit_path, "write JUnit XML to FILE");
    add_html_option(cmd, o.html);
    cmd.add_flag("-q,--quiet", o.quiet, "no progress lines");
}

void add_check_command(CLI::App& app, check_options& o) {
    auto* cmd = app.add_subcommand("check", "run the catalog against plug-ins (--plugin) and protocol programs (--exec)");
    cmd->add_option("--plugin", o.plugins, "shared library exporting gradproof_* entry points (repeatable)");
    cmd->add_option("--exec", o.execs, "command speaking the subprocess protocol on stdin/stdout (repeatable)");
    cmd->add_option("-i,--implementation", o.implementations, "only the implementations with these names");
    cmd->add_option("--timeout", o.timeout_seconds, "per-call timeout in seconds (default 10)");
    add_run_options(*cmd, o.run);
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

run_config config_from_options(const run_options& o) {
    run_config cfg;
    try {
        apply_rc_params(cfg);
    } catch (const std::exception& e) {
        throw usage_error(std::string("RC_PARAMS: ") + e.what());
    }
    if (o.seed) cfg.seed = *o.seed;
    if (o.cases) {
        if (*o.cases < 1) throw usage_error("--cases: must be ≥ 1");
        cfg.cases = *o.cases;
    }
    cfg.properties = o.properties;
    if (!o.precisions.empty()) {
        cfg.precisions.clear();
        for (const auto& p : o.precisions) {
            if (p == "f32") cfg.precisions.push_back(precision::f32);
            else if (p == "f64") cfg.precisions.push_back(precision::f64);
            else throw usage_error("--precision: expected f32 or f64, got '" + p + "'");
        }
    }
    try {
        cfg.domain.kind = parse_domain_kind(o.domain, "--domain");
        cfg.fail_on = parse_finding_classes(o.fail_on, "--fail-on");
    } catch (const std::invalid_argument& e) {
        throw usage_error(e.what());
    }
    if (o.max_abs_logit) {
        if (!(*o.max_abs_logit > 0) || !std::isfinite(*o.max_abs_logit)) throw usage_error("--max-abs-logit: must be a positive number");
        cfg.domain.max_abs_logit = *o.max_abs_logit;
    }
    if (o.max_abs_input) {
        if (!(*o.max_abs_input > 0) || !std::isfinite(*o.max_abs_input)) throw usage_error("--max-abs-input: must be a positive number");
        cfg.domain.max_abs_input = *o.max_abs_input;
    }
    if (!(o.shrink_seconds >= 0) || !std::isfinite(o.shrink_seconds))
        throw usage_error("--shrink-time: must be a finite number ≥ 0 of seconds");
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
    return cfg;
}

}  // namespace gradproof::cli
