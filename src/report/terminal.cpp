#include "report/reporters.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <ostream>

namespace gradproof {

namespace {
std::string margin_text(double m) {
    if (std::isinf(m)) return "inf";
    return fmt::format("{:.3g}", m);
}
std::string status_text(const property_result& r) {
    if (r.status == verdict::fail && r.known_flawed) return "FAIL (known flaw)";
    if (r.status == verdict::fail) return "FAIL";
    if (r.status == verdict::error) return "ERROR";
    return to_string(r.status);
}
}  // namespace

void write_progress_line(std::ostream& os, const property_result& r) {
    if (r.status == verdict::not_applicable) return;
    fmt::print(os, "  {:<18} {:<4} {:<78} {:<17} {:>5} cases  margin {:>7}  {:6.2f}s\n", r.implementation,
               to_string(r.prec), r.property, status_text(r), r.cases_run, margin_text(r.worst_margin), r.seconds);
    os.flush();
}

void write_terminal(std::ostream& os, const run_result& run, const terminal_options& opt) {
    const auto& m = run.meta;
    fmt::print(os, "gradproof {} — {} — seed {} — cases: {}\nmachine: {}\n", m.gradproof_version, m.date_utc, m.seed,
               m.case_counts, m.machine);
    std::string fail_on;
    for (const auto& c : m.fail_on) fail_on += (fail_on.empty() ? "" : ", ") + c;
    fmt::print(os, "domain: {}\nfail on: {}\n\n", m.domain_text.empty() ? m.domain : m.domain_text,
               fail_on.empty() ? "every finding class" : fail_on);
    // Table: one row per property, one column group per implementation/precision.
    std::vector<std::string> columns;
    std::map<std::string, std::map<std::string, const property_result*>> cell;
    std::vector<std::string> rows;
    for (const auto& r : run.results) {
        const std::string col = r.implementation + " " + std::string(to_string(r.prec));
        if (std::find(columns.begin(), columns.end(), col) == columns.end()) columns.push_back(col);
        if (std::find(rows.begin(), rows.end(), r.property) == rows.end()) rows.push_back(r.property);
        cell[r.property][col] = &r;
    }
    std::size_t w0 = 8;
    for (const auto& r : rows) w0 = std::max(w0, r.size());
    const std::size_t wc = 22;
    fmt::print(os, "{:<{}}", "property", w0);
    for (const auto& c : columns) fmt::print(os, " │ {:<{}}", c, wc);
    fmt::print(os, "\n{}", std::string(w0, '-'));
    for (std::size_t i = 0; i < columns.size(); ++i) fmt::print(os, "-┼-{}", std::string(wc, '-'));
    fmt::print(os, "\n");
    for (const auto& row : rows) {
        bool any = false;
        for (const auto& c : columns) {
            auto it = cell[row].find(c);
            any = any || (it != cell[row].end() && it->second->status != verdict::not_applicable);
        }
        if (!any && !opt.show_not_applicable) continue;
        fmt::print(os, "{:<{}}", row, w0);
        for (const auto& c : columns) {
            auto it = cell[row].find(c);
            std::string text = "";
            if (it != cell[row].end()) {
                const auto& r = *it->second;
                if (r.status == verdict::not_applicable) text = "n/a";
                else if (r.status == verdict::pass)
                    text = fmt::format("pass {}× m={}", r.cases_run, margin_text(r.worst_margin));
                else if (r.finding >= 0 && static_cast<std::size_t>(r.finding) < run.findings.size())
                    text = fmt::format("{} #{} {}", r.status == verdict::fail ? "FAIL" : "ERR ", r.finding + 1,
                                       to_string(run.findings[static_cast<std::size_t>(r.finding)].cls));
                else
                    text = fmt::format("{} {}× m={}", r.status == verdict::fail ? "FAIL" : "ERR ", r.cases_run,
                                       margin_text(r.worst_margin));
            }
            fmt::print(os, " │ {:<{}}", text, wc);
        }
        fmt::print(os, "\n");
    }
    const auto& sum = run.summary;
    fmt::print(os, "\nm = worst normwise margin (|error| / derived tolerance; ≤ 1 passes). {}× = cases run. #K = finding K.\n", "N");
    bool header = false;
    for (const auto& r : run.results) {
        if (r.status != verdict::pass || !(r.worst_componentwise > 1)) continue;
        if (!header) {
            fmt::print(os, "\nPassed normwise but exceeded the stricter componentwise level (error relative to the output "
                           "itself, reported only):\n");
            header = true;
        }
        fmt::print(os, "  {} {} {}: componentwise margin {}\n", r.implementation, to_string(r.prec), r.property,
                   margin_text(r.worst_componentwise));
    }
    for (const auto& f : run.findings) {
        fmt::print(os, "\n=== finding #{}: {} — {} {}{}\n", f.id + 1, to_string(f.cls), f.implementation, to_string(f.prec),
                   f.known_flawed ? " (known-flawed specimen)" : "");
        fmt::print(os, "{}\n", f.summary);
        std::string props;
        for (const auto& p : f.properties) props += (props.empty() ? "" : ", ") + p;
        fmt::print(os, "fails: {}\n", props);
        if (!f.hazard.empty()) fmt::print(os, "hazard: {}\n", f.hazard);
        if (!f.threshold.empty()) fmt::print(os, "threshold: {}\n", f.threshold);
        if (f.cls == finding_class::accuracy)
            fmt::print(os, "digits lost beyond the bound: {:.1f} (componentwise margin {})\n", f.digits_lost,
                       margin_text(f.componentwise_margin));
        fmt::print(os, "{}: {}\n", f.property, f.message);
        if (!f.counterexample.empty()) fmt::print(os, "minimal counterexample:\n{}", f.counterexample);
        if (!f.reproduce.empty()) fmt::print(os, "reproduce: {}\n", f.reproduce);
    }
    // Failures without a finding (results files written before findings existed).
    for (const auto& r : run.results) {
        if ((r.status != verdict::fail && r.status != verdict::error) || r.finding >= 0) continue;
        fmt::print(os, "\n=== {} {} {}{}: {}\n", r.implementation, to_string(r.prec), r.property,
                   r.known_flawed ? " (known-flawed specimen)" : "", status_text(r));
        fmt::print(os, "claim: {}\n", r.claim);
        fmt::print(os, "after {} passing cases: {}\n", r.cases_run, r.message);
        if (!r.counterexample.empty()) fmt::print(os, "shrunk counterexample:{}", r.counterexample);
        if (!r.reproduce.empty()) fmt::print(os, "reproduce: {}\n", r.reproduce);
    }
    fmt::print(os, "\n");
    for (const auto& i : sum.implementations)
        fmt::print(os, "{} {}{}: {}\n", i.fails ? "✗" : "✓", i.implementation, i.known_flawed ? " (known-flawed specimen)" : "",
                   i.headline);
    fmt::print(os, "\n{} passed, {} failed", sum.passed, sum.failed);
    if (sum.failed_known_flawed) fmt::print(os, ", {} failed on known-flawed specimens (expected)", sum.failed_known_flawed);
    fmt::print(os, ", {} not applicable", sum.not_applicable);
    if (!run.findings.empty()) {
        std::string by_class;
        for (auto c : all_finding_classes)
            if (sum.findings[static_cast<int>(c)] > 0)
                by_class += fmt::format("{}{} {}", by_class.empty() ? "" : ", ", sum.findings[static_cast<int>(c)], to_string(c));
        fmt::print(os, "; {} finding{} ({})", run.findings.size(), run.findings.size() == 1 ? "" : "s", by_class);
    }
    fmt::print(os, "{}\n", run.incomplete ? " — INCOMPLETE RUN" : "");
    if (run.incomplete && !run.incomplete_reason.empty()) fmt::print(os, "incomplete: {}\n", run.incomplete_reason);
}

}  // namespace gradproof
