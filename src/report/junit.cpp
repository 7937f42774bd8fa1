#include "report/reporters.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <map>
#include <ostream>

namespace gradproof {

std::string xml_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (unsigned char ch : s) {
        switch (ch) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default:
                // XML 1.0 forbids most control characters even when escaped.
                if (ch < 0x20 && ch != '\n' && ch != '\t' && ch != '\r') out += fmt::format("\\x{:02x}", ch);
                else out += static_cast<char>(ch);
        }
    }
    return out;
}

namespace {
// A failure counts as one in JUnit when the run fails on it: known-flawed specimens and findings
// of classes outside --fail-on are reported as skipped, with their message kept, so that the
// JUnit file and the exit code agree.
const finding* finding_of(const run_result& run, const property_result& r) {
    return r.finding >= 0 && static_cast<std::size_t>(r.finding) < run.findings.size()
               ? &run.findings[static_cast<std::size_t>(r.finding)]
               : nullptr;
}
bool outside_fail_on(const run_result& run, const property_result& r) {
    const finding* f = finding_of(run, r);
    if (!f || run.meta.fail_on.empty()) return false;
    return std::find(run.meta.fail_on.begin(), run.meta.fail_on.end(), to_string(f->cls)) == run.meta.fail_on.end();
}
bool skipped(const run_result& run, const property_result& r) {
    return r.status == verdict::not_applicable ||
           (r.status != verdict::pass && (r.known_flawed || outside_fail_on(run, r)));
}
}  // namespace

// One <testsuite> per implementation and precision.
void write_junit(std::ostream& os, const run_result& run) {
    std::map<std::string, std::vector<const property_result*>> suites;
    std::vector<std::string> order;
    for (const auto& r : run.results) {
        const std::string key = r.implementation + "." + std::string(to_string(r.prec));
        if (!suites.count(key)) order.push_back(key);
        suites[key].push_back(&r);
    }
    int total = 0, failures = 0, errors = 0, skipped = 0;
    double time = 0;
    for (const auto& r : run.results) {
        ++total;
        time += r.seconds;
        if (gradproof::skipped(run, r)) ++skipped;
        else if (r.status == verdict::fail) ++failures;
        else if (r.status == verdict::error) ++errors;
    }
    fmt::print(os, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fmt::print(os, "<testsuites name=\"gradproof\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3f}\">\n",
               total, failures, errors, skipped, time);
    // An interrupted run says so in a property of the whole file (the exit code, 128 + signal,
    // fails the CI job as well).
    fmt::print(os, "  <properties>\n");
    if (run.incomplete)
        fmt::print(os, "    <property name=\"incomplete\" value=\"{}\"/>\n",
                   xml_escape(run.incomplete_reason.empty() ? std::string("interrupted") : run.incomplete_reason));
    fmt::print(os, "    <property name=\"domain\" value=\"{}\"/>\n", xml_escape(run.meta.domain_text.empty() ? run.meta.domain : run.meta.domain_text));
    std::string fail_on;
    for (const auto& c : run.meta.fail_on) fail_on += (fail_on.empty() ? "" : ",") + c;
    fmt::print(os, "    <property name=\"fail_on\" value=\"{}\"/>\n", xml_escape(fail_on));
    for (const auto& i : run.summary.implementations)
        fmt::print(os, "    <property name=\"verdict.{}\" value=\"{}{}\"/>\n", xml_escape(i.implementation),
                   i.fails ? "FAIL: " : "", xml_escape(i.headline));
    for (const auto& f : run.findings)
        fmt::print(os, "    <property name=\"finding.{}\" value=\"{} {} {}: {}\"/>\n", f.id + 1, to_string(f.cls),
                   xml_escape(f.implementation), to_string(f.prec), xml_escape(f.summary));
    fmt::print(os, "  </properties>\n");
    for (const auto& key : order) {
        const auto& rs = suites[key];
        int f = 0, e = 0, s = 0;
        double t = 0;
        for (const auto* r : rs) {
            t += r->seconds;
            if (gradproof::skipped(run, *r)) ++s;
            else if (r->status == verdict::fail) ++f;
            else if (r->status == verdict::error) ++e;
        }
        fmt::print(os, "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3f}\">\n",
                   xml_escape(key), rs.size(), f, e, s, t);
        for (const auto* r : rs) {
            fmt::print(os, "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\">\n", xml_escape(key), xml_escape(r->property),
                       r->seconds);
            const finding* fd = finding_of(run, *r);
            const std::string head = fd ? fmt::format("finding #{} ({}): {}\n", fd->id + 1, to_string(fd->cls), fd->summary) : "";
            const std::string detail = head + r->message + "\n" + r->counterexample + (r->reproduce.empty() ? "" : "\nreproduce: " + r->reproduce);
            if (r->status == verdict::not_applicable) {
                fmt::print(os, "      <skipped message=\"not applicable: needs {}\"/>\n", xml_escape(r->needs));
            } else if (r->known_flawed && r->status != verdict::pass) {
                fmt::print(os, "      <skipped message=\"known-flawed specimen failed (expected): {}\"/>\n", xml_escape(r->message));
            } else if (outside_fail_on(run, *r)) {
                fmt::print(os, "      <skipped message=\"finding #{} is {}, not a --fail-on class: {}\"/>\n", fd->id + 1,
                           to_string(fd->cls), xml_escape(r->message));
            } else if (r->status == verdict::fail) {
                fmt::print(os, "      <failure message=\"{}\">{}</failure>\n", xml_escape(r->message), xml_escape(detail));
            } else if (r->status == verdict::error) {
                fmt::print(os, "      <error message=\"{}\"/>\n", xml_escape(r->message));
            }
            fmt::print(os, "      <system-out>cases={} worst_margin={} componentwise_margin={} seed={}</system-out>\n",
                       r->cases_run, r->worst_margin, r->worst_componentwise, r->seed);
            fmt::print(os, "    </testcase>\n");
        }
        fmt::print(os, "  </testsuite>\n");
    }
    fmt::print(os, "</testsuites>\n");
}

}  // namespace gradproof
