// Merging results files (e.g. CI shards) into one run for a single report; see merge_runs in
// report/reporters.hpp.
#include "report/reporters.hpp"

#include "runner/summary.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

namespace gradproof {

namespace {

// Two files of the same run (the same shard passed twice, a rerun) carry identical findings; they
// are one cause.
bool same_cause(const finding& a, const finding& b) {
    return a.implementation == b.implementation && a.prec == b.prec && a.cls == b.cls && a.kind == b.kind &&
           a.property == b.property && a.summary == b.summary && a.counterexample == b.counterexample &&
           a.message == b.message;
}

bool valid_finding(const run_result& run, int index) {
    return index >= 0 && static_cast<std::size_t>(index) < run.findings.size();
}

std::vector<finding_class> fail_on_of(const run_metadata& meta) {
    if (meta.fail_on.empty()) return {std::begin(all_finding_classes), std::end(all_finding_classes)};
    std::vector<finding_class> out;
    for (const auto& c : meta.fail_on) out.push_back(finding_class_from(c));
    return out;
}

}  // namespace

run_result merge_runs(const std::vector<run_result>& runs) {
    if (runs.empty()) throw std::invalid_argument("merge_runs: no results to merge");
    run_result out;
    out.meta = runs.front().meta;
    // The run each kept result came from: its finding index is one of that run's findings.
    std::vector<std::size_t> source;
    std::map<std::tuple<std::string, precision, std::string>, std::size_t> result_at;
    std::set<std::tuple<std::string, std::string, precision>> ulp_keys;
    std::set<std::tuple<std::string, precision, std::string>> stability_keys;
    for (std::size_t k = 0; k < runs.size(); ++k) {
        const run_result& run = runs[k];
        out.incomplete = out.incomplete || run.incomplete;
        if (run.incomplete && out.incomplete_reason.empty()) out.incomplete_reason = run.incomplete_reason;
        for (const auto& r : run.results) {
            const auto key = std::tuple{r.implementation, r.prec, r.property};
            const auto it = result_at.find(key);
            if (it == result_at.end()) {
                result_at[key] = out.results.size();
                out.results.push_back(r);
                source.push_back(k);
            } else if (detail::verdict_rank(r.status) > detail::verdict_rank(out.results[it->second].status)) {
                out.results[it->second] = r;
                source[it->second] = k;
            }
        }
        for (const auto& i : run.implementations)
            if (std::none_of(out.implementations.begin(), out.implementations.end(),
                             [&](const auto& o) { return o.name == i.name; }))
                out.implementations.push_back(i);
        for (const auto& u : run.diagnostics.ulp)
            if (ulp_keys.insert({u.implementation, u.entry_point, u.prec}).second) out.diagnostics.ulp.push_back(u);
        for (const auto& c : run.diagnostics.stability)
            if (stability_keys.insert({c.implementation, c.prec, c.label_on}).second) out.diagnostics.stability.push_back(c);
        if (out.diagnostics.fd.empty()) out.diagnostics.fd = run.diagnostics.fd;
    }

    // Findings: every run's, except one whose results all lost to another run's (it explains
    // nothing in the merged report). A finding no result of its own run points to (the ordinary
    // counterpart of a cause found outside the ordinary domain) is kept.
    std::vector<std::vector<char>> referenced(runs.size()), used(runs.size());
    for (std::size_t k = 0; k < runs.size(); ++k) {
        referenced[k].assign(runs[k].findings.size(), 0);
        used[k].assign(runs[k].findings.size(), 0);
        for (const auto& r : runs[k].results)
            if (valid_finding(runs[k], r.finding)) referenced[k][static_cast<std::size_t>(r.finding)] = 1;
    }
    for (std::size_t i = 0; i < out.results.size(); ++i)
        if (valid_finding(runs[source[i]], out.results[i].finding))
            used[source[i]][static_cast<std::size_t>(out.results[i].finding)] = 1;
    std::vector<std::vector<int>> new_index(runs.size());
    for (std::size_t k = 0; k < runs.size(); ++k) {
        new_index[k].assign(runs[k].findings.size(), -1);
        for (std::size_t j = 0; j < runs[k].findings.size(); ++j) {
            if (referenced[k][j] && !used[k][j]) continue;
            const finding& f = runs[k].findings[j];
            const auto same = std::find_if(out.findings.begin(), out.findings.end(),
                                           [&](const finding& o) { return same_cause(o, f); });
            if (same != out.findings.end()) {
                new_index[k][j] = same->id;
                continue;
            }
            out.findings.push_back(f);
            out.findings.back().id = static_cast<int>(out.findings.size() - 1);
            new_index[k][j] = out.findings.back().id;
        }
    }
    for (std::size_t i = 0; i < out.results.size(); ++i) {
        auto& r = out.results[i];
        r.finding = valid_finding(runs[source[i]], r.finding) ? new_index[source[i]][static_cast<std::size_t>(r.finding)] : -1;
    }
    out.summary = summarize(out, fail_on_of(out.meta));
    return out;
}

}  // namespace gradproof
