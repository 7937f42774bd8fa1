// The property catalog as a GoogleTest suite: every applicable property on every correct
// built-in implementation, in float and double, with the default case counts
// (properties/case_counts.hpp); and the known-flawed specimen's flaw demonstrated.
#include "impl/builtin.hpp"
#include "properties/property.hpp"
#include "runner/runner.hpp"

#include <gtest/gtest.h>

#include <regex>

using namespace gradproof;

namespace {

struct catalog_case {
    std::string implementation;
    precision prec;
    std::string property;
};

std::vector<catalog_case> all_cases() {
    std::vector<catalog_case> out;
    for (const char* impl : {"naive", "vectorized"})
        for (auto p : {precision::f64, precision::f32})
            for (const auto& prop : catalog()) out.push_back({impl, p, prop.name});
    return out;
}

class correct_implementation : public ::testing::TestWithParam<catalog_case> {};

TEST_P(correct_implementation, passes_the_property) {
    const auto& c = GetParam();
    const subject* s = find_builtin(c.implementation);
    ASSERT_NE(s, nullptr);
    const property* prop = find_property(c.property);
    ASSERT_NE(prop, nullptr);
    run_config cfg;
    apply_rc_params(cfg);
    const auto r = run_property(*prop, *s, c.prec, cfg);
    if (r.status == verdict::not_applicable) GTEST_SKIP() << "not applicable: needs " << r.needs;
    EXPECT_EQ(r.status, verdict::pass) << r.message << "\ncounterexample:" << r.counterexample << "\nreproduce: " << r.reproduce;
    EXPECT_LE(r.worst_margin, 1.0);
    EXPECT_GT(r.cases_run, 0);
}

INSTANTIATE_TEST_SUITE_P(catalog, correct_implementation, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<catalog_case>& info) {
                             return info.param.implementation + "_" + std::string(to_string(info.param.prec)) + "_" +
                                    info.param.property;
                         });

// Number of classes in a printed loss counterexample ("W (D×C) =").
int classes_in(const std::string& counterexample) {
    std::smatch m;
    const std::regex re("W \\(([0-9]+)×([0-9]+)\\)");
    if (!std::regex_search(counterexample, m, re)) return -1;
    return std::stoi(m[2]);
}

// The seed's vectorized code takes −log of the rounded probability: the catalog must show it,
// with a counterexample shrunk to at most two classes, in both precisions.
TEST(seed_vectorized, fails_extreme_logits_with_a_two_class_counterexample) {
    const subject* s = find_builtin("seed_vectorized");
    ASSERT_NE(s, nullptr);
    EXPECT_TRUE(s->known_flawed);
    const property* prop = find_property("loss_and_gradient_stay_finite_and_accurate_under_extreme_logits");
    ASSERT_NE(prop, nullptr);
    for (auto p : {precision::f64, precision::f32}) {
        const auto r = run_property(*prop, *s, p, run_config{});
        EXPECT_EQ(r.status, verdict::fail) << to_string(p);
        const int c = classes_in(r.counterexample);
        EXPECT_GE(c, 1) << r.counterexample;
        EXPECT_LE(c, 2) << r.counterexample;
        EXPECT_NE(r.message.find("loss"), std::string::npos) << r.message;
        // The replay data a front end formats its reproduce line from.
        EXPECT_EQ(r.replay.implementation, "seed_vectorized");
        EXPECT_EQ(r.replay.property, prop->name);
        EXPECT_EQ(r.replay.prec, p);
        EXPECT_EQ(r.replay.seed, run_config{}.seed);
    }
}

// A run with a known-flawed failure alone is not an unexpected failure (exit code 0).
TEST(runner, known_flawed_failures_do_not_fail_the_run) {
    run_config cfg;
    cfg.properties = {"loss_and_gradient_stay_finite_and_accurate_under_extreme_logits"};
    cfg.precisions = {precision::f64};
    const auto run = run_catalog({*find_builtin("seed_vectorized"), *find_builtin("vectorized")}, cfg);
    ASSERT_EQ(run.results.size(), 2u);
    EXPECT_EQ(run.results[0].status, verdict::fail);
    EXPECT_EQ(run.results[1].status, verdict::pass);
    EXPECT_FALSE(run.summary.fails);
    ASSERT_EQ(run.findings.size(), 1u);
    EXPECT_TRUE(run.findings[0].known_flawed);
}

// Same seed, same results (timing apart): every property run is reproducible.
TEST(runner, same_seed_gives_identical_results) {
    run_config cfg;
    cfg.seed = 42;
    cfg.cases = 10;
    cfg.precisions = {precision::f64};
    cfg.properties = {"loss_and_gradient_match_the_reference", "shift_leaves_softmax_unchanged"};
    const auto a = run_catalog({*find_builtin("seed_vectorized")}, cfg);
    const auto b = run_catalog({*find_builtin("seed_vectorized")}, cfg);
    ASSERT_EQ(a.results.size(), b.results.size());
    for (std::size_t i = 0; i < a.results.size(); ++i) {
        EXPECT_EQ(a.results[i].status, b.results[i].status);
        EXPECT_EQ(a.results[i].message, b.results[i].message);
        EXPECT_EQ(a.results[i].counterexample, b.results[i].counterexample);
        EXPECT_EQ(a.results[i].worst_margin, b.results[i].worst_margin);
        EXPECT_EQ(a.results[i].seed, b.results[i].seed);
    }
}

TEST(catalog, property_names_are_unique_sentences) {
    std::set<std::string> names;
    for (const auto& p : catalog()) {
        EXPECT_TRUE(names.insert(p.name).second) << p.name;
        EXPECT_TRUE(std::regex_match(p.name, std::regex("[a-z0-9]+(_[a-z0-9]+)+"))) << p.name;
        EXPECT_FALSE(p.claim.empty());
        EXPECT_GT(p.default_cases, 0);
    }
    EXPECT_GE(catalog().size(), 25u);
}

}  // namespace
