// In-process subjects built from ABI-style callables: correct kernels pass, buggy ones fail with
// the same verdicts as through a plug-in, and contract breaches are caught in-process too.
#include "properties/property.hpp"
#include "runner/runner.hpp"
#include "testing/in_process.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace gradproof;

namespace {

int good_softmax(const double* z, std::int64_t n, std::int64_t c, double* p) {
    if (n < 0 || c <= 0) return 1;
    for (std::int64_t i = 0; i < n; ++i) {
        double a = -INFINITY;
        bool bad = false;
        for (std::int64_t j = 0; j < c; ++j) {
            bad = bad || std::isnan(z[i * c + j]) || z[i * c + j] == INFINITY;
            a = std::fmax(a, z[i * c + j]);
        }
        double s = 0;
        for (std::int64_t j = 0; j < c; ++j) s += std::exp(z[i * c + j] - a);
        for (std::int64_t j = 0; j < c; ++j) p[i * c + j] = (bad || a == -INFINITY) ? NAN : std::exp(z[i * c + j] - a) / s;
    }
    return 0;
}

// No max shift: overflows for logits above 709.
int unshifted_softmax(const double* z, std::int64_t n, std::int64_t c, double* p) {
    if (n < 0 || c <= 0) return 1;
    for (std::int64_t i = 0; i < n; ++i) {
        double s = 0;
        for (std::int64_t j = 0; j < c; ++j) s += std::exp(z[i * c + j]);
        for (std::int64_t j = 0; j < c; ++j) p[i * c + j] = std::exp(z[i * c + j]) / s;
    }
    return 0;
}

// Correct values, but the last output element is never written.
int lazy_softmax(const double* z, std::int64_t n, std::int64_t c, double* p) {
    std::vector<double> tmp(static_cast<std::size_t>(n * c));
    const int rc = good_softmax(z, n, c, tmp.data());
    for (std::int64_t k = 0; k + 1 < n * c; ++k) p[k] = tmp[static_cast<std::size_t>(k)];
    return rc;
}

// Cross-entropy whose gradient forgets the 1/N (correct loss): inconsistent with its softmax.
int ce_not_divided(const double* z, const std::int32_t* y, std::int64_t n, std::int64_t c, double* loss, double* dz) {
    if (n <= 0 || c <= 0) return 1;
    std::vector<double> p(static_cast<std::size_t>(n * c));
    good_softmax(z, n, c, p.data());
    double total = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        if (y[i] < 0 || y[i] >= c) return 2;
        total -= std::log(p[static_cast<std::size_t>(i * c + y[i])]);
        for (std::int64_t j = 0; j < c; ++j) dz[i * c + j] = p[static_cast<std::size_t>(i * c + j)] - (j == y[i] ? 1.0 : 0.0);
    }
    *loss = total / static_cast<double>(n);
    return 0;
}

property_result run(const subject& s, const char* property) {
    run_config cfg;
    cfg.cases = 60;
    return run_property(*find_property(property), s, precision::f64, cfg);
}

TEST(in_process, correct_kernel_passes) {
    const subject s = gradproof::testing::as_subject(gradproof::testing::implementation("good").softmax<double>(good_softmax).build());
    for (const char* p : {"softmax_matches_the_reference", "shift_leaves_softmax_unchanged", "every_softmax_row_sums_to_one",
                          "an_empty_batch_is_handled_per_contract", "nan_or_inf_in_a_row_stays_in_that_row"}) {
        const auto r = run(s, p);
        EXPECT_EQ(r.status, verdict::pass) << p << ": " << r.message << r.counterexample;
    }
}

TEST(in_process, unshifted_kernel_fails_with_a_large_logit) {
    const subject s = gradproof::testing::as_subject(gradproof::testing::implementation("unshifted").softmax<double>(unshifted_softmax).build());
    const auto r = run(s, "softmax_matches_the_reference");
    EXPECT_EQ(r.status, verdict::fail);
    EXPECT_FALSE(r.counterexample.empty());
}

TEST(in_process, unwritten_output_is_a_contract_violation) {
    const subject s = gradproof::testing::as_subject(gradproof::testing::implementation("lazy").softmax<double>(lazy_softmax).build());
    const auto r = run(s, "softmax_matches_the_reference");
    EXPECT_EQ(r.status, verdict::fail);
    EXPECT_NE(r.message.find("was not written"), std::string::npos) << r.message;
}

TEST(in_process, gradient_inconsistent_with_softmax_is_caught) {
    const subject s = gradproof::testing::as_subject(gradproof::testing::implementation("inconsistent")
                       .softmax<double>(good_softmax)
                       .cross_entropy<double>(ce_not_divided)
                                             .build());
    const auto r = run(s, "cross_entropy_gradient_equals_softmax_minus_onehot_over_n");
    EXPECT_EQ(r.status, verdict::fail) << r.message;
    EXPECT_NE(r.message.find("dlogits vs (softmax − onehot)/N"), std::string::npos) << r.message;
}

TEST(in_process, only_registered_entry_points_apply) {
    const subject s = gradproof::testing::as_subject(gradproof::testing::implementation("good").softmax<double>(good_softmax).build());
    EXPECT_TRUE(find_property("softmax_matches_the_reference")->applicable(s, precision::f64));
    EXPECT_FALSE(find_property("softmax_matches_the_reference")->applicable(s, precision::f32));
    EXPECT_FALSE(find_property("cross_entropy_matches_the_reference")->applicable(s, precision::f64));
}

// The public entry point (include/gradproof/testing.hpp): plain results, findings grouped and
// classed as `gradproof check` does.
TEST(run_catalog, correct_kernel_passes_with_plain_results) {
    const auto impl = gradproof::testing::implementation("good").softmax<double>(good_softmax);
    gradproof::testing::run_options o;
    o.cases = 30;
    o.precisions = {"f64"};
    o.properties = {"softmax_matches_the_reference", "every_softmax_row_sums_to_one"};
    const auto r = gradproof::testing::run_catalog(impl, o);
    EXPECT_TRUE(r.passed) << r.headline;
    ASSERT_EQ(r.properties.size(), 2u);
    for (const auto& p : r.properties) EXPECT_EQ(p.status, "pass") << p.property << ": " << p.message;
    EXPECT_TRUE(r.findings.empty());
    EXPECT_NE(r.headline.find("correct at ordinary inputs"), std::string::npos) << r.headline;
}

TEST(run_catalog, unshifted_kernel_has_a_finding_with_a_replay) {
    const auto impl = gradproof::testing::implementation("unshifted").softmax<double>(unshifted_softmax);
    gradproof::testing::run_options o;
    o.cases = 60;
    o.precisions = {"f64"};
    o.properties = {"softmax_matches_the_reference"};
    const auto r = gradproof::testing::run_catalog(impl, o);
    EXPECT_FALSE(r.passed);
    ASSERT_FALSE(r.findings.empty());
    EXPECT_EQ(r.properties.at(0).status, "fail");
    EXPECT_EQ(r.properties.at(0).finding, 0);
    EXPECT_FALSE(r.findings[0].counterexample.empty());
    EXPECT_NE(r.findings[0].reproduce.find(".properties = {\"softmax_matches_the_reference\"}"), std::string::npos)
        << r.findings[0].reproduce;
}

TEST(run_catalog, unknown_names_are_refused) {
    const auto impl = gradproof::testing::implementation("good").softmax<double>(good_softmax);
    gradproof::testing::run_options o;
    o.properties = {"no_such_property"};
    EXPECT_THROW(gradproof::testing::run_catalog(impl, o), std::invalid_argument);
    o = {};
    o.domain = "sideways";
    EXPECT_THROW(gradproof::testing::run_catalog(impl, o), std::invalid_argument);
}

TEST(run_catalog, a_copy_changed_later_leaves_the_original) {
    const auto original = gradproof::testing::implementation("good").softmax<double>(good_softmax);
    auto copy = original;
    copy.softmax<float>([](const float*, std::int64_t, std::int64_t, float*) { return 1; });
    EXPECT_FALSE(static_cast<bool>(gradproof::testing::as_subject(original).f32.softmax));
    EXPECT_TRUE(static_cast<bool>(gradproof::testing::as_subject(copy).f32.softmax));
}

}  // namespace
