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
    fmt::print(os, "gradproof {} — {} — seed {} — cases: {}\nmachine: {}\n\n", m.gradproof_version, m.date_utc, m.seed,
               m.case_counts, m.machine);
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
                else
                    text = fmt::format("{} {}× m={}", r.status == verdict::pass ? "pass" : r.status == verdict::fail ? "FAIL" : "ERR ",
                                       r.cases_run, margin_text(r.worst_margin));
            }
            fmt::print(os, " │ {:<{}}", text, wc);
        }
        fmt::print(os, "\n");
    }
    int pass = 0, fail = 0, flawed = 0, na = 0;
    for (const auto& r : run.results) {
        if (r.status == verdict::pass) ++pass;
        else if (r.status == verdict::not_applicable) ++na;
        else if (r.known_flawed) ++flawed;
        else ++fail;
    }
    fmt::print(os, "\nm = worst normwise margin (|error| / derived tolerance; ≤ 1 passes). {}× = cases run.\n", "N");
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
    for (const auto& r : run.results) {
        if (r.status != verdict::fail && r.status != verdict::error) continue;
        fmt::print(os, "\n=== {} {} {}{}: {}\n", r.implementation, to_string(r.prec), r.property,
                   r.known_flawed ? " (known-flawed specimen)" : "", status_text(r));
        fmt::print(os, "claim: {}\n", r.claim);
        fmt::print(os, "after {} passing cases: {}\n", r.cases_run, r.message);
        if (!r.counterexample.empty()) fmt::print(os, "shrunk counterexample:{}", r.counterexample);
        if (!r.reproduce.empty()) fmt::print(os, "reproduce: {}\n", r.reproduce);
    }
    fmt::print(os, "\n{} passed, {} failed", pass, fail);
    if (flawed) fmt::print(os, ", {} failed on known-flawed specimens (expected)", flawed);
    fmt::print(os, ", {} not applicable{}\n", na, run.incomplete ? " — INCOMPLETE RUN" : "");
    if (run.incomplete && !run.incomplete_reason.empty()) fmt::print(os, "incomplete: {}\n", run.incomplete_reason);
}

}  // namespace gradproof
