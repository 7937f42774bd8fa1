// gradproof::testing::run_catalog (include/gradproof/testing.hpp): the runner's catalog over one
// in-process implementation, returned as the public header's plain structs.
#include "properties/property.hpp"
#include "runner/runner.hpp"
#include "runner/summary.hpp"
#include "testing/in_process.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace gradproof::testing {

namespace {

run_config to_config(const run_options& o) {
    run_config cfg;
    cfg.seed = o.seed;
    if (o.cases < 0) throw std::invalid_argument("run_options.cases: must be ≥ 0");
    if (o.cases > 0) cfg.cases = o.cases;
    cfg.domain.kind = parse_domain_kind(o.domain, "run_options.domain");
    for (const auto& name : o.properties)
        if (!find_property(name)) throw std::invalid_argument("run_options.properties: unknown property '" + name + "'");
    cfg.properties = o.properties;
    cfg.precisions.clear();
    for (const auto& p : o.precisions) {
        if (p == "f64") cfg.precisions.push_back(precision::f64);
        else if (p == "f32") cfg.precisions.push_back(precision::f32);
        else throw std::invalid_argument("run_options.precisions: expected f64 or f32, got '" + p + "'");
    }
    if (!o.fail_on.empty()) {
        cfg.fail_on.clear();
        for (const auto& c : o.fail_on) cfg.fail_on.push_back(finding_class_from(c));
    }
    return cfg;
}

// This front end's reproduce line: the run_options that replay the failure alone.
std::string format_replay(const replay_data& r, const std::string& domain) {
    return fmt::format("run_catalog(impl, {{.seed = {}, .cases = {}, .domain = \"{}\", .properties = {{\"{}\"}}, "
                       ".precisions = {{\"{}\"}}}})",
                       r.seed, r.cases, domain, r.property, to_string(r.prec));
}

}  // namespace

catalog_report run_catalog(const implementation& impl, const run_options& options) {
    const run_config cfg = to_config(options);
    run_result run = gradproof::run_catalog({as_subject(impl)}, cfg);
    format_reproduce_lines(run, [&](const replay_data& r) { return format_replay(r, options.domain); });

    catalog_report out;
    out.passed = !run.summary.fails;
    if (!run.summary.implementations.empty()) out.headline = run.summary.implementations.front().headline;
    for (const auto& r : run.results)
        out.properties.push_back({r.property, std::string(to_string(r.prec)), to_string(r.status), r.cases_run,
                                  r.worst_margin, r.finding, r.message});
    for (const auto& f : run.findings)
        out.findings.push_back({to_string(f.cls), std::string(to_string(f.prec)), f.summary, f.properties, f.message,
                                f.counterexample, f.hazard, f.threshold, f.reproduce});
    return out;
}

}  // namespace gradproof::testing
