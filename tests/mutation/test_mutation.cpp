// The mutation suite: the default catalog must catch every mutant of variants.hpp within its
// default case counts and give its findings the class its bug deserves (a bug in the mathematics
// is `wrong`, a hazard only extreme logits reach is `extreme_inputs`, rounding alone is
// `accuracy`), and must flag no correct variant over at least 1000 cases per property.
// Both run in double with a fixed seed, so a result is reproducible with the printed command.
#include "mutation/variants.hpp"
#include "runner/runner.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <chrono>
#include <iostream>
#include <sstream>

using namespace gradproof;

namespace {

constexpr std::uint64_t suite_seed = 20240611;

run_config double_only() {
    run_config cfg;
    cfg.seed = suite_seed;
    cfg.precisions = {precision::f64};
    return cfg;
}

std::string variant_name(const ::testing::TestParamInfo<std::size_t>& info, const std::vector<mutation::variant_info>& v) {
    return v[info.param].name;
}

}  // namespace

// ---- mutants: caught within the default case counts --------------------------------------------

class mutant : public ::testing::TestWithParam<std::size_t> {};

// The class each mutant's bug deserves. A `wrong` mutant may also fail in ways that only extreme
// inputs reach; an `extreme_inputs` or `accuracy` mutant must never be called wrong.
finding_class deserved_class(const std::string& name) {
    if (name == "missing_max_shift" || name == "max_initialized_at_zero" || name == "log_of_rounded_probability" ||
        name == "clamped_logits")
        return finding_class::extreme_inputs;
    if (name == "float_accumulation") return finding_class::accuracy;
    return finding_class::wrong;
}

TEST_P(mutant, is_caught_by_the_default_catalog) {
    const auto& v = mutation::mutants()[GetParam()];
    run_config cfg = double_only();
    // A mutant only has to be caught; shrinking every failing property's counterexample would
    // multiply the run time without changing the verdict.
    cfg.shrink = false;
    const auto start = std::chrono::steady_clock::now();
    const run_result r = run_catalog({v.subj}, cfg);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::ostringstream caught;
    int failures = 0;
    for (const auto& p : r.results) {
        if (p.status != verdict::fail) continue;
        ++failures;
        caught << "  " << p.property << " (after " << p.cases_run << " passing cases of " << p.cases_requested
               << "): " << p.message << "\n";
    }
    std::cout << v.name << " (" << v.description << "): caught by " << failures << " properties in " << seconds
              << " s\n"
              << caught.str();
    EXPECT_GT(failures, 0) << v.name << " (" << v.description << ") escaped the default catalog";
    const finding_class deserved = deserved_class(v.name);
    std::ostringstream findings;
    bool has_deserved = false, called_wrong = false;
    for (const auto& f : r.findings) {
        findings << "  #" << f.id + 1 << " " << to_string(f.cls) << ": " << f.summary << "\n    " << f.message << "\n";
        has_deserved = has_deserved || f.cls == deserved;
        called_wrong = called_wrong || f.cls == finding_class::wrong;
        EXPECT_NE(f.cls, finding_class::crash) << f.message;
        EXPECT_NE(f.cls, finding_class::contract) << f.message;
    }
    std::cout << findings.str();
    EXPECT_TRUE(has_deserved) << v.name << " has no " << to_string(deserved) << " finding:\n" << findings.str();
    if (deserved != finding_class::wrong) {
        EXPECT_FALSE(called_wrong) << v.name << " is not wrong at ordinary inputs:\n" << findings.str();
    }
}

INSTANTIATE_TEST_SUITE_P(mutation, mutant, ::testing::Range<std::size_t>(0, mutation::mutants().size()),
                         [](const auto& info) { return variant_name(info, mutation::mutants()); });

// ---- correct variants: no property fails over 1000 cases ----------------------------------------
// One test per (variant, applicable property), so that ctest can spread them over the cores.

namespace {

struct variant_property {
    std::size_t variant;
    const property* prop;
};

std::vector<variant_property> applicable_pairs() {
    std::vector<variant_property> out;
    const auto& variants = mutation::correct_variants();
    for (std::size_t v = 0; v < variants.size(); ++v)
        for (const auto& prop : catalog())
            if (prop.applicable(variants[v].subj, precision::f64)) out.push_back({v, &prop});
    return out;
}

void PrintTo(const variant_property& vp, std::ostream* os) {
    *os << mutation::correct_variants()[vp.variant].name << " / " << vp.prop->name;
}

}  // namespace

class correct_variant : public ::testing::TestWithParam<variant_property> {};

TEST_P(correct_variant, passes_1000_cases) {
    const auto& v = mutation::correct_variants()[GetParam().variant];
    const property& prop = *GetParam().prop;
    run_config cfg = double_only();
    // 1000 cases per property, except the language-model-width properties: their 128-bit
    // reference at C = 50 257 costs ≈ 0.1 s a row, so they run their default count here (they
    // exercise the same formulas as the other accuracy properties, only wider).
    // Under the sanitizers (GRADPROOF_CASE_SCALE < 1, see CMakePresets.json) the 1000 scale too.
    cfg.cases = prop.name.find("language_model_widths") == std::string::npos
                    ? std::max(1, static_cast<int>(1000 * cfg.case_scale))
                    : prop.default_cases;
    const property_result p = run_property(prop, v.subj, precision::f64, cfg);
    // A property needing an entry point that the variant lacks discards every case.
    if (p.status == verdict::not_applicable) GTEST_SKIP() << prop.name << ": " << p.message;
    std::cout << v.name << " / " << prop.name << ": " << to_string(p.status) << ", " << p.cases_run << " cases, worst margin "
              << p.worst_margin << ", " << p.seconds << " s\n";
    EXPECT_EQ(p.finding, -1);
    EXPECT_EQ(p.status, verdict::pass) << v.name << " (" << v.description << ") flagged by " << prop.name << " ["
                                       << to_string(p.status) << "]\n"
                                       << p.message << "\ncounterexample:\n"
                                       << p.counterexample << "\nRapidCheck seed " << p.seed << " (derived from suite_seed)";
    EXPECT_GE(p.cases_run, *cfg.cases) << "fewer cases than required (discards?): " << p.message;
}

INSTANTIATE_TEST_SUITE_P(mutation, correct_variant, ::testing::ValuesIn(applicable_pairs()),
                         [](const ::testing::TestParamInfo<variant_property>& info) {
                             return mutation::correct_variants()[info.param.variant].name + "__" + info.param.prop->name;
                         });
