#include "runner/summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace gradproof {

finding_class finding_class_from(std::string_view text) {
    for (auto c : all_finding_classes)
        if (text == to_string(c)) return c;
    throw std::invalid_argument(fmt::format("unknown finding class '{}' (expected wrong, extreme_inputs, accuracy, "
                                            "contract or crash)",
                                            text));
}

std::vector<finding_class> parse_finding_classes(std::string_view text, const char* what) {
    std::vector<finding_class> out;
    if (text == "all") return {std::begin(all_finding_classes), std::end(all_finding_classes)};
    if (text == "none") return out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto comma = text.find(',', start);
        const auto item = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        try {
            const auto c = finding_class_from(item);
            if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(std::string(what) + ": " + e.what());
        }
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return out;
}

namespace {

std::string plural(int n, const char* one, const char* many) { return fmt::format("{} {}", n, n == 1 ? one : many); }

int& reference_count(implementation_summary& i, const property_result& r) {
    static int ignored;
    ignored = 0;
    return r.category == "reference" ? i.reference_cases : r.category == "white_box" ? i.finite_difference_cases : ignored;
}

}  // namespace

run_summary summarize(const run_result& run, const std::vector<finding_class>& fail_on) {
    run_summary s;
    auto impl = [&](const std::string& name, bool known_flawed) -> implementation_summary& {
        for (auto& i : s.implementations)
            if (i.implementation == name) return i;
        s.implementations.push_back({});
        s.implementations.back().implementation = name;
        s.implementations.back().known_flawed = known_flawed;
        return s.implementations.back();
    };
    for (const auto& r : run.results) {
        auto& i = impl(r.implementation, r.known_flawed);
        switch (r.status) {
            case verdict::pass:
                ++s.passed;
                reference_count(i, r) += r.cases_run;
                break;
            case verdict::not_applicable: ++s.not_applicable; break;
            case verdict::error: ++s.errors; [[fallthrough]];
            case verdict::fail:
                reference_count(i, r) += r.ordinary_cases;
                if (r.known_flawed) ++s.failed_known_flawed;
                else ++s.failed;
                break;
        }
    }
    for (const auto& f : run.findings) {
        auto& i = impl(f.implementation, f.known_flawed);
        const auto c = static_cast<std::size_t>(f.cls);
        ++i.findings[c];
        ++s.findings[c];
        if (!f.known_flawed && std::find(fail_on.begin(), fail_on.end(), f.cls) != fail_on.end()) i.fails = true;
    }
    for (auto& i : s.implementations) {
        const int wrong = i.findings[static_cast<int>(finding_class::wrong)];
        const int crash = i.findings[static_cast<int>(finding_class::crash)];
        const finding* first_wrong = nullptr;
        const finding* first_crash = nullptr;
        bool crashes_only_at_extreme_inputs = true;  // every crash finding names the hazard behind it
        bool crash_at_ordinary_input = false;
        for (const auto& f : run.findings) {
            if (f.implementation != i.implementation) continue;
            if (f.cls == finding_class::wrong && !first_wrong) first_wrong = &f;
            if (f.cls != finding_class::crash) continue;
            if (!first_crash) first_crash = &f;
            crashes_only_at_extreme_inputs = crashes_only_at_extreme_inputs && !f.hazard.empty();
            crash_at_ordinary_input = crash_at_ordinary_input || f.ordinary;
        }
        // A crash confined to extreme inputs leaves the question of ordinary inputs open, and the
        // crashed properties were run again there (runner.cpp): the user hears both answers.
        const bool compared = i.reference_cases + i.finite_difference_cases > 0;
        const bool correct = wrong == 0 && (crash == 0 || crashes_only_at_extreme_inputs) && compared;
        i.correct_at_ordinary_inputs = correct && run.meta.domain != "extreme";
        // What was established depends on the domain drawn: in the extreme domain, the cases
        // were hazards, not ordinary inputs.
        // An accuracy finding means the mathematics is right but some output is not within its
        // bound: "correct" would say more than was established.
        const bool rounding_beyond = i.findings[static_cast<int>(finding_class::accuracy)] > 0;
        const std::string where = run.meta.domain == "extreme"
                                      ? (rounding_beyond ? "mathematics right at the extreme inputs drawn" : "correct at the extreme inputs drawn")
                                      : (rounding_beyond ? "mathematics right at ordinary inputs" : "correct at ordinary inputs");
        const std::string established =
            i.finite_difference_cases == 0
                ? fmt::format("{} ({} cases against the certified and 128-bit references)", where, i.reference_cases)
                : fmt::format("{} ({} cases against the certified and 128-bit references, {} against 256-bit finite differences)",
                              where, i.reference_cases, i.finite_difference_cases);
        std::string head;
        if (wrong > 0) {
            head = "WRONG at ordinary inputs: " + (first_wrong ? first_wrong->summary : std::string());
        } else if (crash > 0 && crashes_only_at_extreme_inputs && first_crash) {
            const std::string& t = first_crash->threshold;
            head = fmt::format("CRASHES at extreme inputs, from {} on; {}",
                               t.empty() ? first_crash->hazard : t.substr(0, t.find(" (bisection")),
                               compared ? established : "no property compared it with the reference at ordinary inputs");
        } else if (crash > 0) {
            // Neither: a hang, which is not replayed to find where it starts.
            head = fmt::format("CRASHES{}: {}", crash_at_ordinary_input ? " at ordinary inputs" : "",
                               plural(crash, "crash finding", "crash findings"));
        } else if (correct) {
            head = established;
        } else {
            head = "no property compared it with the reference";
        }
        const char* names[] = {"wrong finding", "extreme-input finding", "accuracy finding", "contract finding",
                               "crash finding"};
        const char* names_many[] = {"wrong findings", "extreme-input findings", "accuracy findings", "contract findings",
                                    "crash findings"};
        bool any = false;
        for (int c = 0; c < 5; ++c) {
            // The crash count is already in the head when the crashes reach ordinary inputs.
            if (i.findings[c] == 0 || (c == static_cast<int>(finding_class::crash) && wrong == 0 && !crashes_only_at_extreme_inputs))
                continue;
            head += fmt::format("; {}", plural(i.findings[c], names[c], names_many[c]));
            any = true;
        }
        if (!any && wrong == 0 && crash == 0) head += "; no findings";
        i.headline = head;
        s.fails = s.fails || i.fails;
    }
    // A run cut short is not a pass: the exit code reports the interruption.
    return s;
}

}  // namespace gradproof
