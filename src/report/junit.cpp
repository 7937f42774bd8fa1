#include "report/reporters.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

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

// One <testsuite> per implementation and precision; known-flawed failures are reported as
// skipped (expected failure) so they do not break the user's CI, with the message kept.
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
        if (r.status == verdict::not_applicable || (r.known_flawed && r.status != verdict::pass)) ++skipped;
        else if (r.status == verdict::fail) ++failures;
        else if (r.status == verdict::error) ++errors;
    }
    fmt::print(os, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fmt::print(os, "<testsuites name=\"gradproof\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3f}\">\n",
               total, failures, errors, skipped, time);
    // An interrupted run says so in a property of the whole file (the exit code, 128 + signal,
    // fails the CI job as well).
    if (run.incomplete)
        fmt::print(os, "  <properties>\n    <property name=\"incomplete\" value=\"{}\"/>\n  </properties>\n",
                   xml_escape(run.incomplete_reason.empty() ? std::string("interrupted") : run.incomplete_reason));
    for (const auto& key : order) {
        const auto& rs = suites[key];
        int f = 0, e = 0, s = 0;
        double t = 0;
        for (const auto* r : rs) {
            t += r->seconds;
            if (r->status == verdict::not_applicable || (r->known_flawed && r->status != verdict::pass)) ++s;
            else if (r->status == verdict::fail) ++f;
            else if (r->status == verdict::error) ++e;
        }
        fmt::print(os, "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3f}\">\n",
                   xml_escape(key), rs.size(), f, e, s, t);
        for (const auto* r : rs) {
            fmt::print(os, "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\">\n", xml_escape(key), xml_escape(r->property),
                       r->seconds);
            const std::string detail = r->message + "\n" + r->counterexample + (r->reproduce.empty() ? "" : "\nreproduce: " + r->reproduce);
            if (r->status == verdict::not_applicable) {
                fmt::print(os, "      <skipped message=\"not applicable: needs {}\"/>\n", xml_escape(r->needs));
            } else if (r->known_flawed && r->status != verdict::pass) {
                fmt::print(os, "      <skipped message=\"known-flawed specimen failed (expected): {}\"/>\n", xml_escape(r->message));
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
