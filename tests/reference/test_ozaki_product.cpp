// Tests of reference/ozaki_product.hpp: the enclosures hold the exact products (computed by the
// integer superaccumulator, compared in MPFR exactly) on data with wide exponent ranges,
// cancellation and zero lines; they are as narrow as the final rounding to double plus 2^-58 of
// |A|·|B| (the a-priori bound of a rounded GEMM is k·2^-53 of it); exponents that would make a
// slice product underflow, or the splitting constant overflow, fall back to the a-priori bound,
// which still encloses; bad arguments are named.
#include "reference/exact_sum.hpp"
#include "reference/mpfr_support.hpp"
#include "reference/ozaki_product.hpp"

#include "support/throws_invalid.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <tuple>

namespace gradproof::reference {
namespace {

using namespace detail;
using dmatrix = matrix<double>;

// Doubles with full 53-bit significands and exponents over ±range (shifted by `shift`), a few zeros.
dmatrix random_doubles(std::mt19937_64& rng, Eigen::Index rows, Eigen::Index cols, int range, int shift = 0) {
    std::uniform_int_distribution<int> e(-range, range);
    dmatrix m(rows, cols);
    for (Eigen::Index k = 0; k < m.size(); ++k) {
        const double f = static_cast<double>(rng() >> 11) * 0x1p-53;
        m.data()[k] = rng() % 13 == 0 ? 0.0 : std::ldexp(f, e(rng) + shift) * ((rng() & 1) ? -1 : 1);
    }
    return m;
}

// Every exact (A·B)_ij lies in [mid − rad, mid + rad]; returns the largest rad / (u·|mid| + 2^-58·(|A||B|)_ij).
double check_encloses(const dmatrix& A, const dmatrix& B, const product_enclosure& e) {
    const Eigen::Index m = A.rows(), p = B.cols();
    const matrix<long double> Al = A.cast<long double>(), Bl = B.cast<long double>();
    mpfr_vec exact(m * p, MPFR_PREC_MIN);
    exact_products(split_matrix_of(Al, false), split_matrix_of(Bl, true), exact, 1);
    const matrix<long double> mag = Al.cwiseAbs() * Bl.cwiseAbs();
    mpfr_num diff(4096);
    double worst = 0;
    for (Eigen::Index i = 0; i < m; ++i)
        for (Eigen::Index j = 0; j < p; ++j) {
            EXPECT_TRUE(std::isfinite(e.mid(i, j)) && std::isfinite(e.rad(i, j)))
                << "(" << i << ", " << j << "): " << e.mid(i, j) << " ± " << e.rad(i, j);
            mpfr_set_d(diff, e.mid(i, j), MPFR_RNDN);
            mpfr_sub(diff, exact[i * p + j], diff, MPFR_RNDN);  // exact at 4096 bits for these exponents
            mpfr_abs(diff, diff, MPFR_RNDN);
            EXPECT_LE(mpfr_cmp_d(diff, e.rad(i, j)), 0) << "(" << i << ", " << j << "): rad " << e.rad(i, j);
            const long double scale = 0x1p-53L * std::fabs(e.mid(i, j)) + 0x1p-58L * mag(i, j);
            if (scale > 0) worst = std::max(worst, static_cast<double>(e.rad(i, j) / scale));
        }
    return worst;
}

TEST(OzakiProduct, EnclosesTheExactProductAndIsAsNarrowAsItsFinalRounding) {
    std::mt19937_64 rng(41);
    for (auto [m, k, p, range] : {std::tuple{5, 7, 6, 3}, std::tuple{4, 300, 9, 20}, std::tuple{9, 64, 3, 40}, std::tuple{3, 1000, 4, 2},
                                        // wide and tall: row and column blocks over the threads
                                        std::tuple{4, 40, 301, 3}, std::tuple{333, 30, 5, 3}}) {
        const dmatrix A = random_doubles(rng, m, k, range), B = random_doubles(rng, k, p, range);
        for (auto [sa, sb] : {std::pair{3, 3}, std::pair{4, 3}, std::pair{2, 2}}) {
            SCOPED_TRACE(testing::Message() << m << "×" << k << "×" << p << " range " << range << " slices " << sa << "," << sb);
            const auto e = enclose_product(A, B, sa, sb, 2);
            EXPECT_TRUE(e.error_free);
            const double worst = check_encloses(A, B, e);
            // Two slices of β ≥ 21 bits leave a truncation of 2^-42 of the lines' maxima: narrow only from three on.
            if (sa >= 3 && sb >= 3 && range <= 3) {
                EXPECT_LE(worst, 1.01);
            }
        }
    }
}

TEST(OzakiProduct, CancellationAndZeroLinesStayExact) {
    std::mt19937_64 rng(42);
    dmatrix A = random_doubles(rng, 6, 50, 5), B = random_doubles(rng, 50, 5, 5);
    A.row(2).setZero();
    B.col(4).setZero();
    // Row 3 of A·B cancels to tiny values: b_l1 paired with ±a.
    for (Eigen::Index l = 0; l < 25; ++l) {
        A(3, 25 + l) = -A(3, l);
        B(25 + l, 1) = B(l, 1);
    }
    const auto e = enclose_product(A, B, 3, 3, 1);
    // Narrow relative to |A|·|B| even where the result cancels to 0.
    EXPECT_LE(check_encloses(A, B, e), 1.01);
    EXPECT_EQ(e.mid.row(2).cwiseAbs().maxCoeff(), 0);
    EXPECT_EQ(e.rad.row(2).maxCoeff(), 0);
    EXPECT_EQ(e.mid.col(4).cwiseAbs().maxCoeff(), 0);
    EXPECT_EQ(e.rad.col(4).maxCoeff(), 0);
    EXPECT_EQ(e.mid(3, 1), 0);
}

TEST(OzakiProduct, ExtremeExponentsFallBackToTheAPrioriBound) {
    std::mt19937_64 rng(43);
    const dmatrix A = random_doubles(rng, 4, 20, 2, -500), B = random_doubles(rng, 20, 3, 2, -480);
    const auto e = enclose_product(A, B, 3, 3, 1);
    EXPECT_FALSE(e.error_free);
    check_encloses(A, B, e);
    // Huge values beside tiny ones: the splitting constant would overflow.
    const dmatrix H = random_doubles(rng, 3, 8, 2, 998), T = random_doubles(rng, 8, 2, 2, 0);
    const auto h = enclose_product(H, T, 3, 3, 1);
    EXPECT_FALSE(h.error_free);
    check_encloses(H, T, h);
}

TEST(OzakiProduct, BadArgumentsAreNamed) {
    const dmatrix A = dmatrix::Ones(2, 3), B = dmatrix::Ones(3, 2);
    EXPECT_TRUE(throws_invalid([&] { enclose_product(A, B, 0, 3); }, "slices_a"));
    EXPECT_TRUE(throws_invalid([&] { enclose_product(A, B, 3, 0); }, "slices_b"));
    EXPECT_TRUE(throws_invalid([&] { enclose_product(A, dmatrix::Ones(2, 2), 3, 3); }, "B"));
}

}  // namespace
}  // namespace gradproof::reference
