// Tests of the fused linear cross-entropy certification (bench/certify_fused.hpp): its enclosures
// hold the exact values (the 128-bit reference, whose products are exact), they are narrow enough
// to judge float and double implementations, correct implementations pass, and wrong ones fail.
// Speed is never asserted.
#include "bench/certify_fused.hpp"
#include "impl/cross_entropy_options.hpp"
#include "reference/cross_entropy_options.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>

namespace gradproof {
namespace {

// float_data: float-representable values, so one certificate serves the f64 and the f32
// implementation; otherwise full doubles with large logits (|S| ≈ 20), whose rounding in the
// double products exceeds everything else the certificate rounds.
fused_ce_input<double> fused_input(Eigen::Index n, Eigen::Index d, Eigen::Index v, const ce_options& o, std::uint64_t seed,
                                   bool weighted = false, bool float_data = true) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    fused_ce_input<double> in;
    in.hidden.resize(n, d);
    in.weight.resize(v, d);
    auto value = [&](double x) { return float_data ? static_cast<double>(static_cast<float>(x)) : x; };
    const double scale = float_data ? 0.3 : 2.5;
    for (Eigen::Index k = 0; k < in.hidden.size(); ++k) in.hidden.data()[k] = value(normal(rng));
    for (Eigen::Index k = 0; k < in.weight.size(); ++k) in.weight.data()[k] = value(scale * normal(rng));
    in.has_bias = true;
    for (Eigen::Index j = 0; j < v; ++j) in.bias.push_back(static_cast<float>(0.5 * normal(rng)));
    in.options = o;
    for (Eigen::Index i = 0; i < n; ++i) in.labels.push_back(static_cast<std::int32_t>(rng() % static_cast<std::uint64_t>(v)));
    if (o.has_ignore_index) in.labels[1] = o.ignore_index;
    if (weighted)
        for (Eigen::Index j = 0; j < v; ++j) in.class_weights.push_back(static_cast<float>(0.25 + (rng() % 8) / 4.0));
    if (o.reduce == reduction::none)
        for (Eigen::Index i = 0; i < n; ++i) in.dloss.push_back(static_cast<float>(normal(rng)));
    else
        in.dloss = {0.75};
    return in;
}

std::vector<ce_options> option_sets() {
    std::vector<ce_options> sets;
    ce_options o;
    o.has_ignore_index = true;
    sets.push_back(o);  // mean, one row ignored
    o.label_smoothing = 0.1;
    o.lse_square_scale = 1e-3;
    sets.push_back(o);
    o.softcap = 3.0;
    o.reduce = reduction::none;
    sets.push_back(o);
    o.reduce = reduction::sum;
    o.softcap = 0;
    sets.push_back(o);
    return sets;
}

bool within(long double exact, long double mid, long double rad) { return std::fabs(exact - mid) <= rad * (1 + 0x1p-60L); }

TEST(CertifyFused, EnclosuresHoldTheExactValues) {
    int set = 0;
    for (const ce_options& o : option_sets()) {
        const auto in = fused_input(6, 64, 41, o, 10 + static_cast<std::uint64_t>(set), set % 2 == 1, false);
        const auto cert = bench::certify_fused(in);
        const auto ref = reference::fused_linear_cross_entropy(in);
        SCOPED_TRACE("option set " + std::to_string(set++));
        ASSERT_EQ(cert.loss.size(), ref.ce.loss.size());
        for (std::size_t k = 0; k < ref.ce.loss.size(); ++k) {
            EXPECT_LE(cert.loss[k].lo, ref.ce.loss[k]);
            EXPECT_GE(cert.loss[k].hi, ref.ce.loss[k]);
        }
        for (Eigen::Index k = 0; k < ref.dhidden.size(); ++k)
            EXPECT_TRUE(within(ref.dhidden.data()[k], cert.dhidden_mid.data()[k], cert.dhidden_rad.data()[k])) << k;
        for (Eigen::Index k = 0; k < ref.dweight.size(); ++k)
            EXPECT_TRUE(within(ref.dweight.data()[k], cert.dweight_mid.data()[k], cert.dweight_rad.data()[k])) << k;
        for (std::size_t j = 0; j < ref.dbias.size(); ++j)
            EXPECT_TRUE(within(ref.dbias[j], cert.dbias_mid[j], cert.dbias_rad[j])) << j;
        // Narrow: the rounded products' a-priori bounds, ≈ γ_D relative to the magnitudes (|H| ≈ 1,
        // |dlogits| ≤ 1, |S| ≈ 20: a few times 10⁻¹³ at most).
        for (Eigen::Index k = 0; k < ref.dweight.size(); ++k)
            EXPECT_LT(cert.dweight_rad.data()[k], 1e-11) << k;
    }
}

TEST(CertifyFused, CorrectImplementationsPassInBothPrecisions) {
    for (const ce_options& o : option_sets()) {
        const auto in = fused_input(8, 24, 67, o, 3);
        const auto cert = bench::certify_fused(in);
        const auto r64 = bench::compare_fused(cert, in, impl::fused_linear_cross_entropy_blocked<double>(in));
        EXPECT_TRUE(r64.passed) << describe(o, false, false);
        const long losses = o.reduce == reduction::none ? 8 : 1;
        EXPECT_EQ(r64.elements, losses + 8 * 24 + 67 * 24 + 67);
        const auto out32 = impl::fused_linear_cross_entropy<float>(cast<float>(in));
        const auto r32 = bench::compare_fused(cert, in, out32);
        EXPECT_TRUE(r32.passed) << describe(o, false, false);
        // The comparison in row blocks over 3 workers (67 rows: unequal blocks) records what one
        // pass does: the same counts, worst element and widths.
        const auto r32_one = bench::compare_fused(cert, in, out32, 1), r32_three = bench::compare_fused(cert, in, out32, 3);
        ASSERT_EQ(r32_one.parts.size(), r32_three.parts.size());
        for (std::size_t q = 0; q < r32_one.parts.size(); ++q) {
            const auto &a = r32_one.parts[q], &b = r32_three.parts[q];
            EXPECT_EQ(a.elements, b.elements) << a.name;
            EXPECT_EQ(a.max_ulps, b.max_ulps) << a.name;
            EXPECT_EQ(a.worst_margin, b.worst_margin) << a.name;
            EXPECT_EQ(a.worst_row, b.worst_row) << a.name;
            EXPECT_EQ(a.worst_col, b.worst_col) << a.name;
            EXPECT_EQ(a.max_width_relative, b.max_width_relative) << a.name;
        }
        // The certificate resolves float far below its tolerance, and double well below its own:
        // the products are enclosed error-free (reference/ozaki_product.hpp), not by γ_k·|A||B|,
        // which is about a double implementation's own tolerance.
        for (const auto& p : r32.parts) EXPECT_LT(p.max_width_relative, 1e-5) << p.name;
        for (const auto& p : r64.parts) EXPECT_LT(p.max_width_relative, 0.2) << p.name << " " << describe(o, false, false);
        // The a-priori certificate (the bench's for float results) still resolves float.
        bench::fused_certify_options a_priori;
        a_priori.error_free_products = false;
        const auto r32a = bench::compare_fused(bench::certify_fused(in, a_priori), in,
                                               impl::fused_linear_cross_entropy<float>(cast<float>(in)));
        EXPECT_TRUE(r32a.passed) << describe(o, false, false);
        for (const auto& p : r32a.parts) EXPECT_LT(p.max_width_relative, 1e-5) << p.name;
    }
}

TEST(CertifyFused, WrongImplementationsFail) {
    ce_options o;
    o.has_ignore_index = true;
    o.label_smoothing = 0.1;
    const auto in = fused_input(8, 24, 67, o, 4);
    const auto cert = bench::certify_fused(in);
    // Smoothing silently dropped (Liger-Kernel #243's shape of bug).
    auto dropped = in;
    dropped.options.label_smoothing = 0;
    const auto r = bench::compare_fused(cert, in, impl::fused_linear_cross_entropy<float>(cast<float>(dropped)));
    EXPECT_FALSE(r.passed);
    // One dweight element off by 10⁻¹⁰ relative in double: outside the double tolerance.
    auto out = impl::fused_linear_cross_entropy_blocked<double>(in);
    ASSERT_TRUE(bench::compare_fused(cert, in, out).passed);
    out.dweight(5, 7) *= 1 + 1e-10;
    const auto bad = bench::compare_fused(cert, in, out);
    EXPECT_FALSE(bad.passed);
    EXPECT_EQ(bad.parts[2].name, "dweight");
    EXPECT_EQ(bad.parts[2].worst_row, 5);
    EXPECT_EQ(bad.parts[2].worst_col, 7);
    EXPECT_TRUE(bad.parts[1].passed);
}

TEST(CertifyFused, BadArgumentsAreNamed) {
    ce_options o;
    auto in = fused_input(4, 5, 7, o, 5);
    auto bad = in;
    bad.weight.resize(7, 4);
    try {
        bench::certify_fused(bad);
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()).rfind("weight", 0), 0u) << e.what();
    }
    bad = in;
    bad.hidden(0, 0) = NAN;
    EXPECT_THROW(bench::certify_fused(bad), std::invalid_argument);
    const auto cert = bench::certify_fused(in);
    auto out = impl::fused_linear_cross_entropy<double>(in);
    out.dweight.resize(6, 5);
    EXPECT_THROW(bench::compare_fused(cert, in, out), std::invalid_argument);
}

// The enclosures over interval logits (fast certified exp) agree with the MPFI reference on exact
// logits: with radius 0 both hold the exact value, and they overlap.
TEST(CertifyFused, IntervalLogitRowsAgreeWithTheMpfiReference) {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> normal(0.0, 3.0);
    matrix<double> x(5, 300), zero = matrix<double>::Zero(5, 300);
    for (Eigen::Index k = 0; k < x.size(); ++k) x.data()[k] = normal(rng);
    x(2, 3) = -800;  // below the fast exp's range: mpfi_exp serves
    label_vector y{3, 0, 299, 17, 5};
    for (double cap : {0.0, 4.0}) {
        ce_options o;
        o.softcap = cap;
        o.label_smoothing = 0.05;
        const auto fast = reference::certify_cross_entropy_with_options(x, zero, y, o, {}, {1.0L});
        const auto point = reference::cross_entropy_with_options(x.cast<long double>(), y, o, {}, reference::lmatrix(), {1.0L});
        for (Eigen::Index k = 0; k < x.size(); ++k) {
            EXPECT_LE(fast.dlogits.lo.data()[k], point.dlogits.data()[k]) << k;
            EXPECT_GE(fast.dlogits.hi.data()[k], point.dlogits.data()[k]) << k;
            // exp bounded to ≈ 20 u relative (values ≤ 1): widths of a few hundred u at most.
            EXPECT_LT(fast.dlogits.hi.data()[k] - fast.dlogits.lo.data()[k], 0x1p-46L) << k;
        }
        EXPECT_LE(fast.loss[0].lo, point.loss[0]);
        EXPECT_GE(fast.loss[0].hi, point.loss[0]);
    }
    EXPECT_THROW(reference::certify_cross_entropy_with_options(x, matrix<double>::Constant(5, 300, -1.0), y, ce_options{}, {},
                                                               {1.0L}),
                 std::invalid_argument);
}

}  // namespace
}  // namespace gradproof
