// Tests of the integer superaccumulator behind the references' exact stages
// (reference/exact_sum.hpp): sums of products agree bit for bit with MPFR's exact_dot on data
// with wide exponent ranges, heavy cancellation, subnormal long doubles and 128-bit MPFR pieces;
// and the threaded references are bitwise identical to single-threaded ones.
#include "reference/exact_sum.hpp"
#include "reference/interval.hpp"
#include "reference/mpfr_support.hpp"
#include "reference/point.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace gradproof::reference {
namespace {

using namespace detail;

// Random long doubles with exponents spread over ±range and full 64-bit significands.
std::vector<long double> wide(std::mt19937_64& rng, std::size_t n, int range) {
    std::uniform_int_distribution<int> e(-range, range);
    std::vector<long double> v(n);
    for (auto& x : v) {
        const long double m = static_cast<long double>(rng()) / 18446744073709551616.0L;  // [0, 1), 64 bits
        x = std::ldexp(m, e(rng)) * ((rng() & 1) ? -1 : 1);
        if (rng() % 11 == 0) x = 0;
    }
    return v;
}

// The exact dot product by both methods, compared exactly.
void expect_same_dot(const std::vector<long double>& a, const std::vector<long double>& b) {
    const auto n = static_cast<Eigen::Index>(a.size());
    mpfr_vec ma(n, ld_digits), mb(n, ld_digits);
    std::vector<split_ld> sa, sb;
    exp_range ra, rb;
    for (Eigen::Index k = 0; k < n; ++k) {
        mpfr_set_ld(ma[k], a[static_cast<std::size_t>(k)], MPFR_RNDN);
        mpfr_set_ld(mb[k], b[static_cast<std::size_t>(k)], MPFR_RNDN);
        sa.push_back(split(a[static_cast<std::size_t>(k)]));
        sb.push_back(split(b[static_cast<std::size_t>(k)]));
        ra.add(sa.back());
        rb.add(sb.back());
    }
    mpfr_num expected(MPFR_PREC_MIN), actual(MPFR_PREC_MIN);
    exact_dot dot;
    dot(expected, ma.ptrs(), mb.ptrs(), static_cast<unsigned long>(n));
    fixed_accumulator acc;
    acc.reset(ra, rb);
    for (std::size_t k = 0; k < sa.size(); ++k) acc.add(sa[k], sb[k]);
    acc.to_mpfr(actual);
    EXPECT_TRUE(mpfr_equal_p(expected, actual) || (mpfr_zero_p(expected) && mpfr_zero_p(actual)))
        << mpfr_get_ld(expected, MPFR_RNDN) << " vs " << mpfr_get_ld(actual, MPFR_RNDN);
}

TEST(ExactSum, SplitIsExact) {
    for (long double x : {1.0L, -0.75L, 3.0e-4950L, std::numeric_limits<long double>::max(),
                          -std::numeric_limits<long double>::denorm_min(), 0.1L}) {
        const split_ld s = split(x);
        EXPECT_EQ(std::ldexp(static_cast<long double>(s.sig), s.exp) * (s.neg ? -1 : 1), x);
    }
    EXPECT_EQ(split(0.0L).sig, 0u);
}

TEST(ExactSum, MatchesMpfrExactDotOnWideRanges) {
    std::mt19937_64 rng(7);
    for (int range : {0, 3, 60, 300, 5000, 16000}) {
        for (std::size_t n : {1u, 2u, 7u, 100u, 3000u}) {
            expect_same_dot(wide(rng, n, range), wide(rng, n, range));
        }
    }
}

TEST(ExactSum, CancelsExactly) {
    // x·y + (−x)·y + tiny: everything but the tiny term cancels; a rounded sum would lose it.
    const long double big = 0x1.fffffffffffffffep+1000L, tiny = 0x1p-1000L;
    expect_same_dot({big, -big, tiny, 1.0L}, {big, big, tiny, -1.0L});
    expect_same_dot({0x1p-16445L, 0x1p-16445L}, {1.0L, -1.0L});  // subnormal long doubles
}

TEST(ExactSum, MpfrPiecesAreExact) {
    mpfr_num x(256);
    mpfr_const_pi(x, MPFR_RNDN);
    mpfr_neg(x, x, MPFR_RNDN);
    mpz_t z;
    mpz_init(z);
    std::vector<split_ld> pieces;
    split_mpfr(x, z, pieces);
    mpz_clear(z);
    EXPECT_LE(pieces.size(), 4u);
    fixed_accumulator acc;
    exp_range ones, r;
    ones.add(split(1.0L));
    for (const auto& p : pieces) r.add(p);
    acc.reset(r, ones);
    for (const auto& p : pieces) acc.add(p, split(1.0L));
    mpfr_num back(MPFR_PREC_MIN);
    acc.to_mpfr(back);
    EXPECT_TRUE(mpfr_equal_p(back, x));
}

TEST(ExactSum, ThreadedReferencesAreBitwiseIdentical) {
    std::mt19937_64 rng(3);
    std::normal_distribution<double> normal(0.0, 1.0);
    lmatrix W(300, 10), X(100, 300);  // 300 000 products: above the threading threshold
    for (Eigen::Index k = 0; k < W.size(); ++k) W.data()[k] = 1e-2 * normal(rng);
    for (Eigen::Index k = 0; k < X.size(); ++k) X.data()[k] = normal(rng);
    label_vector y(100);
    for (auto& v : y) v = static_cast<std::int32_t>(rng() % 10);
    const auto one = certify_softmax_loss(W, X, y, 1e-3L, 128, 1), two = certify_softmax_loss(W, X, y, 1e-3L, 128, 2);
    EXPECT_TRUE((one.dW.lo.array() == two.dW.lo.array()).all());
    EXPECT_TRUE((one.dW.hi.array() == two.dW.hi.array()).all());
    const auto p1 = softmax_loss(W, X, y, 1e-3L, 128, 1), p2 = softmax_loss(W, X, y, 1e-3L, 128, 2);
    EXPECT_TRUE((p1.dW.array() == p2.dW.array()).all());
    // And the point reference lies inside the enclosures.
    for (Eigen::Index k = 0; k < W.size(); ++k) {
        EXPECT_LE(one.dW.lo.data()[k], p1.dW.data()[k]);
        EXPECT_GE(one.dW.hi.data()[k], p1.dW.data()[k]);
    }
}

// Regression: a tiny probability (e^−700) in the same dS column as an O(1) one paired with X = 0.
// The grid cap of the dW sums must be measured from the terms actually present, or the tiny term
// is dropped and dW = 0 instead of ≈ 4.93e−305.
TEST(ExactSum, TinyTermsNextToZeroWeightedLargeOnesAreKept) {
    lmatrix W(1, 3), X(2, 1);
    W << 0, 0, 700;
    X << 0, 1;
    const label_vector y{0, 0};
    const auto p = softmax_loss(W, X, y, 0);
    const auto cert = certify_softmax_loss(W, X, y, 0);
    // Row 1 has scores (0, 0, 700): p_1 = e^−700 / (1 + 2·e^−700); row 0 has X = 0, so
    // dW[0, 1] = (0·dS_01 + 1·p_1) / 2. Compared with long double, and contained.
    const long double p1 = std::exp(-700.0L) / (1 + 2 * std::exp(-700.0L));
    EXPECT_NEAR(static_cast<double>(p.dW(0, 1) / (p1 / 2)), 1.0, 1e-15);
    EXPECT_LE(cert.dW.lo(0, 1), p.dW(0, 1));
    EXPECT_GE(cert.dW.hi(0, 1), p.dW(0, 1));
    EXPECT_LT(static_cast<double>((cert.dW.hi(0, 1) - cert.dW.lo(0, 1)) / p.dW(0, 1)), 1e-17);
}

}  // namespace
}  // namespace gradproof::reference
