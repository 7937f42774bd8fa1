// The version-2 entry points through the public testing API: examples/plugins/options_plugin.c,
// linked into this test and registered in-process, passes every option property in f64, f32 and
// bf16; the identities run in bf16 as well (a reduction bug in the bf16 form alone fails one); a kernel that drops label smoothing is a `wrong` finding; one that writes into its class
// weights is a `contract` finding; GRADPROOF_UNSUPPORTED skips cases instead of failing them.
#include "testing/in_process.hpp"

#include <gradproof/plugin.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace {

using gradproof::testing::catalog_report;
using gradproof::testing::implementation;
using gradproof::testing::run_options;

std::string describe(const catalog_report& r) {
    std::string s = r.headline;
    for (const auto& f : r.findings) s += "\n" + f.finding_class + ": " + f.summary + "\n" + f.message + "\n" + f.counterexample;
    return s;
}

bool fails(const catalog_report& r, const std::string& finding_class, const std::string& property) {
    return std::any_of(r.findings.begin(), r.findings.end(), [&](const auto& f) {
        return f.finding_class == finding_class &&
               std::find(f.properties.begin(), f.properties.end(), property) != f.properties.end();
    });
}

int ce_drops_label_smoothing(const double* z, const std::int32_t* y, std::int64_t n, std::int64_t c,
                             const gradproof_ce_options* o, const double* dloss, double* loss, double* dz) {
    gradproof_ce_options without = *o;
    without.label_smoothing = 0;
    return gradproof_cross_entropy_ex_f64(z, y, n, c, &without, dloss, loss, dz);
}

int ce_scribbles_on_its_weights(const double* z, const std::int32_t* y, std::int64_t n, std::int64_t c,
                                const gradproof_ce_options* o, const double* dloss, double* loss, double* dz) {
    const int rc = gradproof_cross_entropy_ex_f64(z, y, n, c, o, dloss, loss, dz);
    if (o->class_weights) const_cast<double*>(static_cast<const double*>(o->class_weights))[0] += 1;
    return rc;
}

int ce_without_soft_targets(const double* z, const std::int32_t* y, std::int64_t n, std::int64_t c,
                            const gradproof_ce_options* o, const double* dloss, double* loss, double* dz) {
    if (o->soft_targets) return GRADPROOF_UNSUPPORTED;
    return gradproof_cross_entropy_ex_f64(z, y, n, c, o, dloss, loss, dz);
}

int fused_dweight_off_by_2_pow_minus_36(const double* h, const double* w, const double* b, const std::int32_t* y,
                                       std::int64_t n, std::int64_t d, std::int64_t v, const gradproof_ce_options* o,
                                       const double* dloss, double* loss, double* dh, double* dw, double* db) {
    const int rc = gradproof_fused_linear_cross_entropy_f64(h, w, b, y, n, d, v, o, dloss, loss, dh, dw, db);
    for (std::int64_t k = 0; k < v * d; ++k) dw[k] *= 1 + 0x1p-36;
    return rc;
}

// A bf16 kernel whose reduction sum returns the mean: its f32 form is the example plug-in's, correct.
int ce_bf16_sum_is_a_mean(const std::uint16_t* z, const std::int32_t* y, std::int64_t n, std::int64_t c,
                          const gradproof_ce_options* o, const std::uint16_t* dloss, std::uint16_t* loss,
                          std::uint16_t* dz) {
    gradproof_ce_options as_mean = *o;
    if (as_mean.reduction == GRADPROOF_REDUCTION_SUM) as_mean.reduction = GRADPROOF_REDUCTION_MEAN;
    return gradproof_cross_entropy_ex_bf16(z, y, n, c, &as_mean, dloss, loss, dz);
}

const char* const against_reference = "cross_entropy_with_options_matches_the_reference";
const char* const fused_certified = "fused_linear_cross_entropy_lies_within_tolerance_of_the_certified_enclosure";

TEST(in_process_options, the_options_plugin_passes_every_option_property_in_f64_f32_and_bf16) {
    const auto impl = implementation("options_plugin")
                          .cross_entropy_ex<double>(gradproof_cross_entropy_ex_f64)
                          .cross_entropy_ex<float>(gradproof_cross_entropy_ex_f32)
                          .cross_entropy_ex_bf16(gradproof_cross_entropy_ex_bf16)
                          .fused_linear_cross_entropy<double>(gradproof_fused_linear_cross_entropy_f64)
                          .fused_linear_cross_entropy<float>(gradproof_fused_linear_cross_entropy_f32);
    run_options o;
    o.cases = 25;
    const auto r = gradproof::testing::run_catalog(impl, o);
    EXPECT_TRUE(r.passed) << describe(r);
    int ran = 0;
    for (const auto& p : r.properties) {
        if (p.status == "n/a") continue;
        ++ran;
        EXPECT_EQ(p.status, "pass") << p.precision << " " << p.property << ": " << p.message;
    }
    // The reference, extreme-logit, width and identity properties in both precisions, bf16 and the fused ones.
    EXPECT_GE(ran, 25) << describe(r);
    const bool bf16_ran = std::any_of(r.properties.begin(), r.properties.end(), [](const auto& p) {
        return p.property == "cross_entropy_with_options_matches_the_reference_in_bf16" && p.status == "pass";
    });
    EXPECT_TRUE(bf16_ran);
}

// The identities run in the half formats too: a reduction bug in the bf16 form alone fails the
// mean = sum / weight identity as wrong mathematics, with bf16 storage in its counterexample.
TEST(in_process_options, a_reduction_bug_in_the_bf16_form_alone_fails_the_mean_identity_in_bf16) {
    const char* const mean_identity = "mean_is_the_sum_divided_by_the_weight_of_the_samples_not_ignored";
    run_options o;
    o.precisions = {"f32"};
    o.properties = {mean_identity};
    const auto good = gradproof::testing::run_catalog(implementation("options_plugin")
                                                          .cross_entropy_ex<float>(gradproof_cross_entropy_ex_f32)
                                                          .cross_entropy_ex_bf16(gradproof_cross_entropy_ex_bf16),
                                                      o);
    EXPECT_TRUE(good.passed) << describe(good);
    const auto bad = gradproof::testing::run_catalog(implementation("bf16_sum_is_a_mean")
                                                         .cross_entropy_ex<float>(gradproof_cross_entropy_ex_f32)
                                                         .cross_entropy_ex_bf16(ce_bf16_sum_is_a_mean),
                                                     o);
    EXPECT_FALSE(bad.passed);
    ASSERT_EQ(bad.findings.size(), 1u) << describe(bad);
    EXPECT_EQ(bad.findings[0].finding_class, "wrong") << describe(bad);
    EXPECT_NE(bad.findings[0].counterexample.find("storage = \"bf16\""), std::string::npos) << describe(bad);
}

TEST(in_process_options, a_fused_dweight_off_by_two_to_the_minus_36_leaves_the_certified_enclosure) {
    run_options o;
    o.precisions = {"f64"};
    o.properties = {fused_certified};
    const auto good = gradproof::testing::run_catalog(
        implementation("fused").fused_linear_cross_entropy<double>(gradproof_fused_linear_cross_entropy_f64), o);
    EXPECT_TRUE(good.passed) << describe(good);
    ASSERT_EQ(good.properties.size(), 1u);
    EXPECT_EQ(good.properties[0].status, "pass");
    // With the point-reference property beside it: one cause, one finding naming both.
    o.properties = {fused_certified, "fused_linear_cross_entropy_matches_the_reference"};
    const auto bad = gradproof::testing::run_catalog(
        implementation("fused_off").fused_linear_cross_entropy<double>(fused_dweight_off_by_2_pow_minus_36), o);
    EXPECT_FALSE(bad.passed);
    ASSERT_EQ(bad.findings.size(), 1u) << describe(bad);
    const auto& props = bad.findings[0].properties;
    EXPECT_NE(std::find(props.begin(), props.end(), fused_certified), props.end()) << describe(bad);
    EXPECT_NE(std::find(props.begin(), props.end(), "fused_linear_cross_entropy_matches_the_reference"), props.end())
        << describe(bad);
}

TEST(in_process_options, a_kernel_that_drops_label_smoothing_is_wrong) {
    const auto impl = implementation("drops_smoothing").cross_entropy_ex<double>(ce_drops_label_smoothing);
    run_options o;
    o.precisions = {"f64"};
    o.properties = {against_reference};
    const auto r = gradproof::testing::run_catalog(impl, o);
    EXPECT_FALSE(r.passed);
    EXPECT_TRUE(fails(r, "wrong", against_reference)) << describe(r);
}

TEST(in_process_options, a_kernel_that_writes_into_its_class_weights_breaks_the_contract) {
    const auto impl = implementation("scribbles").cross_entropy_ex<double>(ce_scribbles_on_its_weights);
    run_options o;
    o.precisions = {"f64"};
    o.properties = {against_reference};
    const auto r = gradproof::testing::run_catalog(impl, o);
    EXPECT_FALSE(r.passed);
    ASSERT_TRUE(fails(r, "contract", against_reference)) << describe(r);
    EXPECT_NE(describe(r).find("class_weights was modified"), std::string::npos) << describe(r);
}

TEST(in_process_options, an_unsupported_option_skips_its_cases_instead_of_failing) {
    const auto impl = implementation("hard_labels_only").cross_entropy_ex<double>(ce_without_soft_targets);
    run_options o;
    o.precisions = {"f64"};
    o.properties = {against_reference};
    const auto r = gradproof::testing::run_catalog(impl, o);
    EXPECT_TRUE(r.passed) << describe(r);
    ASSERT_EQ(r.properties.size(), 1u);
    EXPECT_EQ(r.properties[0].status, "pass");
    EXPECT_GT(r.properties[0].cases, 0);
}

}  // namespace
