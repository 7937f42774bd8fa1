// The mutation suite of cross-entropy's options: every option mutant of option_variants.hpp (each
// modelled on a real kernel bug) is caught by the default catalog within its default case counts,
// and the correct built-in implementations pass every property of the family over 1000 cases in
// double and float (bf16/f16 forms in the float column), with a fixed seed.
#include "impl/builtin.hpp"
#include "mutation/option_variants.hpp"
#include "plugin/abi.hpp"
#include "runner/runner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <sstream>

using namespace gradproof;

namespace {

constexpr std::uint64_t suite_seed = 20261207;

// The properties that need a version-2 entry point.
bool in_option_family(const property& p) {
    return std::any_of(p.needs.begin(), p.needs.end(), [](entry_point e) {
        return e == entry_point::cross_entropy_ex || plugin::is_half_form(e) || e == entry_point::fused_linear_cross_entropy;
    });
}

std::vector<std::string> option_family() {
    std::vector<std::string> out;
    for (const auto& p : catalog())
        if (in_option_family(p)) out.push_back(p.name);
    return out;
}

// A truncated bf16 output is the right mathematics rounded the wrong way: `accuracy`. Every
// other mutant computes a different function at ordinary inputs: `wrong`.
finding_class deserved_class(const std::string& name) {
    return name == "bf16_output_truncated" ? finding_class::accuracy : finding_class::wrong;
}

}  // namespace

class option_mutant : public ::testing::TestWithParam<std::size_t> {};

TEST_P(option_mutant, is_caught_by_the_default_catalog) {
    const auto& v = mutation::option_mutants()[GetParam()];
    run_config cfg;
    cfg.seed = suite_seed;
    cfg.properties = option_family();
    cfg.shrink = false;  // caught is the claim; shrinking every failure multiplies the time only
    const run_result r = run_catalog({v.subj}, cfg);
    std::ostringstream caught;
    int failures = 0;
    for (const auto& p : r.results)
        if (p.status == verdict::fail) {
            ++failures;
            caught << "  " << p.property << " [" << to_string(p.prec) << "]: " << p.message << "\n";
        }
    std::cout << v.name << " (" << v.description << "): caught by " << failures << " property runs\n" << caught.str();
    EXPECT_GT(failures, 0) << v.name << " (" << v.description << ") escaped the catalog";
    bool has_deserved = false;
    std::ostringstream findings;
    for (const auto& f : r.findings) {
        findings << "  #" << f.id + 1 << " " << to_string(f.cls) << ": " << f.summary << "\n    " << f.message << "\n";
        has_deserved = has_deserved || f.cls == deserved_class(v.name);
        EXPECT_NE(f.cls, finding_class::crash) << f.message;
    }
    std::cout << findings.str();
    EXPECT_TRUE(has_deserved) << v.name << " has no " << to_string(deserved_class(v.name)) << " finding:\n" << findings.str();
}

INSTANTIATE_TEST_SUITE_P(options, option_mutant, ::testing::Range<std::size_t>(0, mutation::option_mutants().size()),
                         [](const auto& info) { return mutation::option_mutants()[info.param].name; });

// ---- the correct built-ins: no property of the family fails over 1000 cases ---------------------

namespace {

struct correct_run {
    std::string subject;
    precision prec;
    const property* prop;
};

std::vector<correct_run> correct_runs() {
    std::vector<correct_run> out;
    for (const char* name : {"naive", "vectorized"}) {
        const subject* s = find_builtin(name);
        if (!s) continue;
        for (precision p : {precision::f64, precision::f32})
            for (const auto& prop : catalog())
                if (in_option_family(prop) && prop.applicable(*s, p)) out.push_back({name, p, &prop});
    }
    return out;
}

void PrintTo(const correct_run& r, std::ostream* os) { *os << r.subject << "_" << to_string(r.prec) << " / " << r.prop->name; }

}  // namespace

class correct_options : public ::testing::TestWithParam<correct_run> {};

TEST_P(correct_options, pass_1000_cases) {
    const auto& [name, prec, prop] = GetParam();
    run_config cfg;
    cfg.seed = suite_seed;
    // Vocabulary widths (C up to 256 000, ≈ 0.5 s of 128-bit reference a row) run their default count.
    cfg.cases = prop->name.find("vocabulary_widths") == std::string::npos ? std::max(1, static_cast<int>(1000 * cfg.case_scale))
                                                                         : prop->default_cases;
    const property_result p = run_property(*prop, *find_builtin(name), prec, cfg);
    std::cout << name << "_" << to_string(prec) << " / " << prop->name << ": " << to_string(p.status) << ", " << p.cases_run
              << " cases, worst margin " << p.worst_margin << "\n";
    EXPECT_EQ(p.status, verdict::pass) << name << " flagged by " << prop->name << ": " << p.message << "\ncounterexample:\n"
                                       << p.counterexample;
    EXPECT_GE(p.cases_run, *cfg.cases) << "fewer cases than required (discards?): " << p.message;
}

INSTANTIATE_TEST_SUITE_P(options, correct_options, ::testing::ValuesIn(correct_runs()), [](const auto& info) {
    return info.param.subject + "_" + std::string(to_string(info.param.prec)) + "_" + info.param.prop->name;
});
