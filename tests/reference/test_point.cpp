// Tests of the point references (reference/point.hpp). Expected values are exact (derivable by
// hand), well-known constants computed by the long double math library, or recomputations from
// the reference's own outputs; every tolerance is derived from the error analysis at its use.
#include "reference/point.hpp"

#include "support/throws_invalid.hpp"

#include <gtest/gtest.h>
#include <mpfr.h>

#include <cmath>
#include <functional>
#include <initializer_list>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace gradproof::reference {
namespace {

using ld_limits = std::numeric_limits<long double>;
constexpr long double inf = ld_limits::infinity();
constexpr long double nan_ld = ld_limits::quiet_NaN();
// Unit roundoff of long double: an output rounded to nearest is within u_ld relative of the value.
const long double u_ld = std::ldexp(1.0L, -ld_limits::digits);

lmatrix mat(std::initializer_list<std::initializer_list<long double>> rows) {
    lmatrix m(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows.begin()->size()));
    Eigen::Index i = 0;
    for (const auto& row : rows) {
        Eigen::Index j = 0;
        for (long double v : row) m(i, j++) = v;
        ++i;
    }
    return m;
}

// Uniform doubles in [−scale, scale], stored exactly in long double as the library's inputs are.
lmatrix random_matrix(std::mt19937_64& rng, Eigen::Index rows, Eigen::Index cols, double scale) {
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    lmatrix m(rows, cols);
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<long double>(u(rng) * scale);
    return m;
}

label_vector random_labels(std::mt19937_64& rng, Eigen::Index n, Eigen::Index c) {
    label_vector y(static_cast<std::size_t>(n));
    for (auto& v : y) v = static_cast<std::int32_t>(rng() % static_cast<std::uint64_t>(c));
    return y;
}

// The spacing of long doubles at |x| (the subnormal spacing below the normal range).
long double ulp(long double x) {
    x = std::fabs(x);
    if (x < ld_limits::min()) return ld_limits::denorm_min();
    return std::ldexp(1.0L, std::ilogb(x) - (ld_limits::digits - 1));
}

// |a − b| ≤ k ulps of long double at b. The reference is within ½ ulp (+2^−100 relative) of the
// exact value; glibc's long double exp, log and log1p are within an ulp or two, so expectations
// computed with them get k = 2 for one call and k = 4 for two.
testing::AssertionResult within_ulps(long double a, long double b, long double k) {
    if (a == b) return testing::AssertionSuccess();
    const long double tol = k * ulp(b);
    if (std::fabs(a - b) <= tol) return testing::AssertionSuccess();
    return testing::AssertionFailure() << a << " differs from " << b << " by " << std::fabs(a - b) << " > " << tol;
}

// The sum of xs correctly rounded from 512 bits: accurate enough that a test of Σ = 0 measures
// the error of the summands, not of the test.
long double accurate_sum(const std::vector<long double>& xs) {
    mpfr_t acc, t;
    mpfr_init2(acc, 512);
    mpfr_init2(t, ld_limits::digits);
    mpfr_set_zero(acc, 1);
    for (long double x : xs) {
        mpfr_set_ld(t, x, MPFR_RNDN);
        mpfr_add(acc, acc, t, MPFR_RNDN);
    }
    const long double r = mpfr_get_ld(acc, MPFR_RNDN);
    mpfr_clear(acc);
    mpfr_clear(t);
    return r;
}

// The call throws std::invalid_argument whose message starts with "<argument>: ".

struct shape {
    Eigen::Index n, d, c;
    double x_scale, w_scale;
    long double reg;
};

// Small to moderate batches, C = 1 and odd C, score spreads from ~1e−5 (p ≈ 1/C) to ~1e6 (every
// probability but the largest underflows long double).
const std::vector<shape> shapes = {
    {5, 3, 4, 1, 1, 0},      {8, 6, 7, 10, 3, 0.125L}, {3, 4, 2, 100, 10, 0.5L},  {16, 5, 1, 1, 1, 0.01L},
    {4, 2, 33, 1e3, 1e3, 0}, {2, 3, 300, 1e-3, 1e-3, 1e-3L}, {70, 4, 5, 2, 2, 0.25L},
};

TEST(PointReference, SoftmaxOfEqualLogitsIsExactlyUniform) {
    const lmatrix p = softmax(mat({{0, 0}, {3, 3}, {-7.5L, -7.5L}}));
    for (Eigen::Index i = 0; i < p.rows(); ++i)
        for (Eigen::Index j = 0; j < 2; ++j) EXPECT_EQ(p(i, j), 0.5L);
    const lmatrix q = softmax(mat({{1e300L, 1e300L, 1e300L, 1e300L}}));
    for (Eigen::Index j = 0; j < 4; ++j) EXPECT_EQ(q(0, j), 0.25L);
}

TEST(PointReference, LossAtZeroWeightsIsLogC) {
    std::mt19937_64 rng(1);
    for (Eigen::Index c : {1, 2, 3, 10, 1000}) {
        const Eigen::Index n = 6, d = 3;
        const lmatrix W = lmatrix::Zero(d, c);
        const lmatrix X = random_matrix(rng, n, d, 5);
        const label_vector y = random_labels(rng, n, c);
        const loss_reference r = softmax_loss(W, X, y, 0.5L);
        const long double log_c = std::log(static_cast<long double>(c));
        // The exact loss is log C; the reference rounds it to nearest and std::log is within 1 ulp.
        EXPECT_TRUE(within_ulps(r.loss, log_c, 2)) << "C = " << c;
        for (long double l : r.row_loss) EXPECT_TRUE(within_ulps(l, log_c, 2)) << "C = " << c;
        for (Eigen::Index i = 0; i < n; ++i)
            for (Eigen::Index j = 0; j < c; ++j) {
                // 1/C is correctly rounded by both (≤ 1 ulp apart after the reference's double
                // rounding); 1/C − 1 in long double adds ½ ulp for the subtraction and ½ for 1/C.
                const long double p = 1.0L / static_cast<long double>(c);
                EXPECT_TRUE(within_ulps(r.probs(i, j), p, 1));
                EXPECT_TRUE(within_ulps(r.dS(i, j), j == y[static_cast<std::size_t>(i)] ? p - 1 : p, 2));
            }
    }
}

TEST(PointReference, LogSoftmaxNextToZeroIsComponentwiseAccurate) {
    const lmatrix o = log_softmax(mat({{0, -40}}));
    // log_softmax([0, −40])_0 = −log1p(e^−40) ≈ −4.248e−18: a log(1 + s) rounded to long double
    // would give 0. 1e−15 relative, as accuracy.md states it, with margin for expl and log1pl.
    const long double expected = -std::log1p(std::exp(-40.0L));
    EXPECT_LT(o(0, 0), 0);
    EXPECT_LE(std::fabs(o(0, 0) - expected), 1e-15L * std::fabs(expected));
    EXPECT_TRUE(within_ulps(o(0, 0), expected, 4));
    EXPECT_TRUE(within_ulps(o(0, 1), -40.0L + expected, 1));
}

TEST(PointReference, HugeEqualLogitsGiveLog2) {
    const long double log2 = std::log(2.0L);
    const cross_entropy_reference ce = cross_entropy(mat({{1e16L, 1e16L}}), {0});
    EXPECT_TRUE(within_ulps(ce.row_loss[0], log2, 2));
    EXPECT_TRUE(within_ulps(ce.loss, log2, 2));
    // The same through softmax_loss: S = 1e8·1e8 = 1e16 in both classes.
    const loss_reference r = softmax_loss(mat({{1e8L, 1e8L}}), mat({{1e8L}}), {1}, 0);
    EXPECT_EQ(r.scores(0, 0), 1e16L);
    EXPECT_TRUE(within_ulps(r.loss, log2, 2));
    EXPECT_EQ(r.probs(0, 1), 0.5L);
    EXPECT_EQ(r.dS(0, 1), -0.5L);
}

TEST(PointReference, LargeSpreadKeepsTheLossFinite) {
    // ℓ = 1000 + log1p(e^−1000): e^−1000 ≈ 5e−435 is far below half an ulp of 1000.
    const cross_entropy_reference ce = cross_entropy(mat({{0, 1000}, {0, 1000}}), {0, 1});
    EXPECT_EQ(ce.row_loss[0], 1000.0L);
    // ℓ_1 = log1p(e^−1000) = e^−1000·(1 − ½e^−1000…): representable in long double (not in double).
    const long double tiny = std::exp(-1000.0L);
    EXPECT_TRUE(within_ulps(ce.row_loss[1], tiny, 2));
    EXPECT_TRUE(within_ulps(ce.probs(0, 0), tiny, 2));
    EXPECT_EQ(ce.probs(0, 1), 1.0L);
    // dlogits at the label of row 1: (p_1 − 1)/2 = −e^−1000/(1 + e^−1000)/2.
    EXPECT_TRUE(within_ulps(ce.dlogits(1, 1), -tiny / 2, 2));
}

TEST(PointReference, TinyLossesAreComponentwiseAccurate) {
    // S = [2^52, 2^52 − 50] exactly (X = 2^26, W = [2^26, 2^26 − 50·2^−26], all doubles); with the
    // label at the max, ℓ = log1p(e^−50) ≈ 2e−22 and dS_y = −e^−50/(1 + e^−50). Computing p_y − 1
    // or log(1 + s) at 128 bits would leave a relative error near 2^−128/2e−22 ≈ 1e−17, far
    // above the few-ulp tolerance.
    const long double two26 = std::ldexp(1.0L, 26);
    const loss_reference r = softmax_loss(mat({{two26, two26 - 50 / two26}}), mat({{two26}}), {0}, 0);
    EXPECT_EQ(r.scores(0, 0), std::ldexp(1.0L, 52));
    EXPECT_EQ(r.scores(0, 1), std::ldexp(1.0L, 52) - 50);
    const long double s = std::exp(-50.0L);  // 1 + s rounds to 1, an error of s ≪ 1 ulp in s/(1 + s)
    EXPECT_TRUE(within_ulps(r.loss, std::log1p(s), 4));
    EXPECT_TRUE(within_ulps(r.dS(0, 0), -s / (1 + s), 2));
    EXPECT_TRUE(within_ulps(r.dS(0, 1), s / (1 + s), 2));
}

TEST(PointReference, ScoresAreExact) {
    // 1e40 + 1 − 1e40 = 1 needs 134 bits: any rounded dot product at 128 bits returns 0.
    const lmatrix X = mat({{1e40L, 1, -1e40L}});
    const lmatrix W = mat({{1, 1}, {1, 0}, {1, 1}});
    const loss_reference r = softmax_loss(W, X, {0}, 0);
    EXPECT_EQ(r.scores(0, 0), 1.0L);
    EXPECT_EQ(r.scores(0, 1), 0.0L);
    EXPECT_TRUE(within_ulps(r.loss, std::log1p(std::exp(-1.0L)), 4));
}

TEST(PointReference, MaskedClassesHaveZeroProbability) {
    const lmatrix z = mat({{0, -inf, 0}, {-inf, 5, -inf}});
    const lmatrix p = softmax(z);
    EXPECT_EQ(p(0, 0), 0.5L);
    EXPECT_EQ(p(0, 1), 0.0L);
    EXPECT_EQ(p(0, 2), 0.5L);
    EXPECT_EQ(p(1, 0), 0.0L);
    EXPECT_EQ(p(1, 1), 1.0L);
    const lmatrix o = log_softmax(z);
    EXPECT_TRUE(within_ulps(o(0, 0), -std::log(2.0L), 2));
    EXPECT_EQ(o(0, 1), -inf);
    EXPECT_EQ(o(1, 1), 0.0L);
    EXPECT_EQ(o(1, 2), -inf);

    // A masked label makes that row's loss +inf; the other row stays finite.
    const cross_entropy_reference ce = cross_entropy(z, {1, 1});
    EXPECT_EQ(ce.row_loss[0], inf);
    EXPECT_EQ(ce.row_loss[1], 0.0L);
    EXPECT_EQ(ce.loss, inf);
    EXPECT_EQ(ce.dlogits(0, 1), -0.5L);  // (0 − 1)/N
    EXPECT_EQ(ce.dlogits(0, 0), 0.25L);
    const cross_entropy_reference ok = cross_entropy(z, {2, 1});
    EXPECT_TRUE(within_ulps(ok.loss, std::log(2.0L) / 2, 2));
}

TEST(PointReference, UndefinedRowsAreIsolated) {
    const lmatrix z = mat({{nan_ld, 0}, {inf, 0}, {-inf, -inf}, {0, 0}});
    const lmatrix p = softmax(z), o = log_softmax(z);
    for (Eigen::Index i = 0; i < 3; ++i)
        for (Eigen::Index j = 0; j < 2; ++j) {
            EXPECT_TRUE(std::isnan(p(i, j))) << i << "," << j;
            EXPECT_TRUE(std::isnan(o(i, j))) << i << "," << j;
        }
    EXPECT_EQ(p(3, 0), 0.5L);
    EXPECT_EQ(p(3, 1), 0.5L);
    EXPECT_TRUE(within_ulps(o(3, 1), -std::log(2.0L), 2));

    const cross_entropy_reference ce = cross_entropy(z, {0, 1, 0, 1});
    EXPECT_TRUE(std::isnan(ce.loss));
    for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(std::isnan(ce.row_loss[i]));
    EXPECT_TRUE(std::isnan(ce.dlogits(1, 1)));
    EXPECT_TRUE(within_ulps(ce.row_loss[3], std::log(2.0L), 2));
    EXPECT_EQ(ce.dlogits(3, 0), 0.125L);  // 0.5/4
    EXPECT_EQ(ce.dlogits(3, 1), -0.125L);
}

TEST(PointReference, ShiftingARowLeavesEveryOutputBitwiseUnchanged) {
    // z + 2^20 is exact for these integers, and the reference sees only the exact differences
    // z_j − max z, so the outputs must agree bit for bit (an unshifted evaluation would not).
    std::mt19937_64 rng(2);
    lmatrix z(3, 9);
    for (Eigen::Index i = 0; i < z.size(); ++i) z.data()[i] = static_cast<long double>(rng() % 200) - 100;
    const lmatrix shifted = (z.array() + std::ldexp(1.0L, 20)).matrix();
    const label_vector y = random_labels(rng, 3, 9);
    const lmatrix p = softmax(z), ps = softmax(shifted);
    const lmatrix o = log_softmax(z), os = log_softmax(shifted);
    const cross_entropy_reference ce = cross_entropy(z, y), ces = cross_entropy(shifted, y);
    for (Eigen::Index i = 0; i < z.rows(); ++i) {
        EXPECT_EQ(ce.row_loss[static_cast<std::size_t>(i)], ces.row_loss[static_cast<std::size_t>(i)]);
        for (Eigen::Index j = 0; j < z.cols(); ++j) {
            EXPECT_EQ(p(i, j), ps(i, j));
            EXPECT_EQ(o(i, j), os(i, j));
            EXPECT_EQ(ce.dlogits(i, j), ces.dlogits(i, j));
        }
    }
    EXPECT_EQ(ce.loss, ces.loss);
}

TEST(PointReference, GradientRowsSumToZero) {
    // Σ_j (p_j − e_yj) = 0 exactly. Each output is the exact value (to 2^−100) rounded to nearest,
    // so |Σ_j dS_ij| ≤ u_ld·Σ_j |dS_ij| (plus half a subnormal per entry); the sum itself is taken
    // from 512 bits so that it adds nothing measurable.
    std::mt19937_64 rng(3);
    for (const shape& s : shapes) {
        const lmatrix W = random_matrix(rng, s.d, s.c, s.w_scale), X = random_matrix(rng, s.n, s.d, s.x_scale);
        const label_vector y = random_labels(rng, s.n, s.c);
        const loss_reference r = softmax_loss(W, X, y, s.reg);
        for (Eigen::Index i = 0; i < s.n; ++i) {
            std::vector<long double> row(r.dS.row(i).begin(), r.dS.row(i).end());
            long double abs_sum = 0;
            for (long double v : row) abs_sum += std::fabs(v);
            const long double bound = (1 + 1e-6L) * u_ld * abs_sum + s.c * ld_limits::denorm_min();
            EXPECT_LE(std::fabs(accurate_sum(row)), bound) << "C = " << s.c << ", row " << i;
            // Off the label dS is the probability itself, rounded the same way.
            for (Eigen::Index j = 0; j < s.c; ++j)
                if (j != y[static_cast<std::size_t>(i)]) {
                    EXPECT_EQ(r.dS(i, j), r.probs(i, j));
                }
        }
    }
}

TEST(PointReference, WeightGradientMatchesDirectRecomputation) {
    // dW = Xᵀ·dS/N + reg·W recomputed in long double from the returned dS. Errors: dS rounding
    // (u_ld relative each), the test's dot product (γ_N·|X|ᵀ|dS|, Higham ch. 3), /N, reg·W and the
    // sum (3u_ld), the reference's own rounding of dW (u_ld) and its 2^−100 normwise error: all
    // within (N + 6)·u_ld·(|X|ᵀ|dS|/N + reg·|W|); a safety factor of 2 covers γ_N's 1/(1 − Nu).
    std::mt19937_64 rng(4);
    for (const shape& s : shapes) {
        const lmatrix W = random_matrix(rng, s.d, s.c, s.w_scale), X = random_matrix(rng, s.n, s.d, s.x_scale);
        const label_vector y = random_labels(rng, s.n, s.c);
        const loss_reference r = softmax_loss(W, X, y, s.reg);
        const long double nn = static_cast<long double>(s.n);
        for (Eigen::Index k = 0; k < s.d; ++k)
            for (Eigen::Index j = 0; j < s.c; ++j) {
                long double dot = 0, mag = 0;
                for (Eigen::Index i = 0; i < s.n; ++i) {
                    dot += X(i, k) * r.dS(i, j);
                    mag += std::fabs(X(i, k) * r.dS(i, j));
                }
                const long double expected = dot / nn + s.reg * W(k, j);
                const long double scale = mag / nn + s.reg * std::fabs(W(k, j));
                const long double bound = 2 * (s.n + 6) * u_ld * scale + ld_limits::denorm_min();
                EXPECT_LE(std::fabs(r.dW(k, j) - expected), bound) << "shape C = " << s.c << " k=" << k << " j=" << j;
            }
    }
}

TEST(PointReference, LossIsMeanRowLossPlusRegularization) {
    // L = mean ℓ_i + ½·reg·‖W‖² with nonnegative terms: recomputed in long double from the row
    // losses within (N + D·C + 6)·u_ld relative (two sums, a few products, the reference's
    // rounding), doubled for safety.
    std::mt19937_64 rng(5);
    for (const shape& s : shapes) {
        const lmatrix W = random_matrix(rng, s.d, s.c, s.w_scale), X = random_matrix(rng, s.n, s.d, s.x_scale);
        const label_vector y = random_labels(rng, s.n, s.c);
        const loss_reference r = softmax_loss(W, X, y, s.reg);
        long double sum = 0;
        for (long double l : r.row_loss) {
            EXPECT_GE(l, 0);
            sum += l;
        }
        const long double expected = sum / static_cast<long double>(s.n) + s.reg / 2 * W.squaredNorm();
        EXPECT_TRUE(within_ulps(r.loss, expected, 2 * static_cast<long double>(s.n + s.d * s.c + 6)))
            << "C = " << s.c;
        // scores = X·W: |error| ≤ γ_D·|X||W| in the test's long double product, u_ld in the reference.
        const lmatrix S = X * W;
        const lmatrix mag = X.cwiseAbs() * W.cwiseAbs();
        for (Eigen::Index i = 0; i < S.size(); ++i)
            EXPECT_LE(std::fabs(r.scores.data()[i] - S.data()[i]), 2 * (s.d + 2) * u_ld * mag.data()[i]);
    }
}

TEST(PointReference, WeightGradientIsTheDerivativeOfTheLoss) {
    // ⟨dW, V⟩ against the central difference (L(W + hV) − L(W − hV))/2h. Along the line,
    // L'''(t) = (1/N)Σ_i κ3_i, the third cumulant of u_i = (X·V)_i under p_i, so
    // |L'''| ≤ (1/N)Σ_i R_i³ with R_i the range of u_i (the regularizer is quadratic), and the
    // truncation error is ≤ h²/6 times that. Rounding: each L is within u_ld (plus 2^−100) of
    // exact, and W ± hV rounds to long double, moving L by ≤ u_ld·Σ|dW|·|W ± hV| (to first order):
    // divided by 2h. The test's dot ⟨dW, V⟩ adds γ_{DC}·Σ|dW||V|. A safety factor of 4 covers the
    // first-order approximations.
    std::mt19937_64 rng(6);
    const long double h = std::ldexp(1.0L, -20);
    for (const shape& s : {shape{6, 3, 5, 1, 1, 0.25L}, shape{20, 4, 3, 2, 1, 0}, shape{3, 2, 40, 1, 2, 1}}) {
        const lmatrix W = random_matrix(rng, s.d, s.c, s.w_scale), X = random_matrix(rng, s.n, s.d, s.x_scale);
        const lmatrix V = random_matrix(rng, s.d, s.c, 1);
        const label_vector y = random_labels(rng, s.n, s.c);
        const loss_reference r = softmax_loss(W, X, y, s.reg);
        const lmatrix Wp = W + h * V, Wm = W - h * V;
        const long double lp = softmax_loss(Wp, X, y, s.reg).loss, lm = softmax_loss(Wm, X, y, s.reg).loss;
        const long double fd = (lp - lm) / (2 * h);
        long double directional = 0, mag = 0, shift = 0;
        for (Eigen::Index i = 0; i < W.size(); ++i) {
            directional += r.dW.data()[i] * V.data()[i];
            mag += std::fabs(r.dW.data()[i] * V.data()[i]);
            shift += std::fabs(r.dW.data()[i]) * (std::fabs(W.data()[i]) + h * std::fabs(V.data()[i]));
        }
        const lmatrix U = X * V;
        long double third = 0;
        for (Eigen::Index i = 0; i < s.n; ++i) {
            const long double range = U.row(i).maxCoeff() - U.row(i).minCoeff();
            third += range * range * range;
        }
        third /= static_cast<long double>(s.n);
        const long double truncation = h * h / 6 * third;
        const long double rounding = (u_ld * (std::fabs(lp) + std::fabs(lm)) + 2 * u_ld * shift) / (2 * h);
        const long double bound = 4 * (truncation + rounding + (W.size() + 2) * u_ld * mag);
        EXPECT_LE(std::fabs(fd - directional), bound) << "C = " << s.c << ", fd = " << fd << ", <dW,V> = " << directional;
    }
}

TEST(PointReference, SoftmaxBackwardIsExactAtTheGivenInputs) {
    // p ⊙ (g − ⟨g, p⟩) with exactly representable answers.
    const lmatrix p = mat({{0.25L, 0.75L}, {0.25L, 0.75L}, {0.5L, 0.5L}});
    const long double e = std::ldexp(1.0L, -63);  // the ulp of 1
    const lmatrix g = mat({{1, 1}, {1, 0}, {1 + e, 1}});
    const lmatrix dz = softmax_backward(p, g);
    EXPECT_EQ(dz(0, 0), 0.0L);
    EXPECT_EQ(dz(0, 1), 0.0L);
    EXPECT_EQ(dz(1, 0), 0.1875L);
    EXPECT_EQ(dz(1, 1), -0.1875L);
    // ⟨g, p⟩ = 1 + 2^−64 (a tie between two long doubles) and g − ⟨g, p⟩ = ±2^−64, so
    // dz = ±2^−65; a long double ⟨g, p⟩ rounds to 1 and gives 2^−64 and 0.
    EXPECT_EQ(dz(2, 0), std::ldexp(1.0L, -65));
    EXPECT_EQ(dz(2, 1), -std::ldexp(1.0L, -65));
}

TEST(PointReference, LogSoftmaxBackwardUsesTheRowSum) {
    // g − exp(o)·Σ g: with o = [0, −inf], g = [2, 3] the answer is [2 − 5, 3 − 0] = [−3, 3]; the
    // shipped bug g − g⊙exp(o) would give [0, 3].
    const lmatrix dz = log_softmax_backward(mat({{0, -inf}}), mat({{2, 3}}));
    EXPECT_EQ(dz(0, 0), -3.0L);
    EXPECT_EQ(dz(0, 1), 3.0L);
}

TEST(PointReference, BackwardFunctionsMatchLongDoubleRecomputation) {
    // Recomputed in long double: softmax_backward within (C + 4)·u_ld·p_j·(|g_j| + Σ|g||p|);
    // log_softmax_backward within (C + 8)·u_ld·(|g_j| + exp(o_j)·Σ|g|) (expl adds a few ulps).
    // Doubled for safety.
    std::mt19937_64 rng(7);
    for (Eigen::Index c : {1, 2, 5, 64}) {
        const lmatrix z = random_matrix(rng, 4, c, 8), g = random_matrix(rng, 4, c, 3);
        const lmatrix p = softmax(z), o = log_softmax(z);
        const lmatrix dz = softmax_backward(p, g), dzl = log_softmax_backward(o, g);
        for (Eigen::Index i = 0; i < 4; ++i) {
            long double dot = 0, dot_mag = 0, sum = 0, sum_mag = 0;
            for (Eigen::Index j = 0; j < c; ++j) {
                dot += g(i, j) * p(i, j);
                dot_mag += std::fabs(g(i, j) * p(i, j));
                sum += g(i, j);
                sum_mag += std::fabs(g(i, j));
            }
            for (Eigen::Index j = 0; j < c; ++j) {
                const long double k = static_cast<long double>(c);
                EXPECT_LE(std::fabs(dz(i, j) - p(i, j) * (g(i, j) - dot)),
                          2 * (k + 4) * u_ld * p(i, j) * (std::fabs(g(i, j)) + dot_mag));
                const long double eo = std::exp(o(i, j));
                EXPECT_LE(std::fabs(dzl(i, j) - (g(i, j) - eo * sum)),
                          2 * (k + 8) * u_ld * (std::fabs(g(i, j)) + eo * sum_mag));
            }
        }
    }
}

TEST(PointReference, PrecisionAboveDefaultAgreesToTheLastUlp) {
    // At 128 and at 256 bits both results lie within 2^−100 of the exact value before rounding to
    // nearest, so they differ by at most one ulp of long double.
    std::mt19937_64 rng(8);
    const lmatrix W = random_matrix(rng, 3, 6, 2), X = random_matrix(rng, 5, 3, 4);
    const label_vector y = random_labels(rng, 5, 6);
    const loss_reference a = softmax_loss(W, X, y, 0.1L), b = softmax_loss(W, X, y, 0.1L, 256);
    EXPECT_TRUE(within_ulps(a.loss, b.loss, 1));
    for (Eigen::Index i = 0; i < a.probs.size(); ++i) {
        EXPECT_TRUE(within_ulps(a.probs.data()[i], b.probs.data()[i], 1));
        EXPECT_TRUE(within_ulps(a.dS.data()[i], b.dS.data()[i], 1));
    }
}

TEST(PointReference, EmptyBatchIsAllowedForRowWiseFunctions) {
    const lmatrix z(0, 3);
    EXPECT_EQ(softmax(z).rows(), 0);
    EXPECT_EQ(softmax(z).cols(), 3);
    EXPECT_EQ(log_softmax(z).rows(), 0);
    EXPECT_EQ(softmax_backward(z, z).rows(), 0);
}

TEST(PointReference, ArgumentsAreValidated) {
    const lmatrix W = lmatrix::Ones(2, 3), X = lmatrix::Ones(1, 2);
    EXPECT_TRUE(throws_invalid([&] { softmax_loss(lmatrix(0, 3), X, {0}, 0); }, "W"));
    EXPECT_TRUE(throws_invalid([&] { softmax_loss(W, lmatrix::Ones(1, 3), {0}, 0); }, "X"));
    EXPECT_TRUE(throws_invalid([&] { softmax_loss(W, lmatrix(0, 2), {}, 0); }, "X"));
    EXPECT_TRUE(throws_invalid([&] { softmax_loss(W, X, {0, 1}, 0); }, "y"));
    EXPECT_TRUE(throws_invalid([&] { softmax_loss(W, X, {0}, -1); }, "reg"));
    EXPECT_TRUE(throws_invalid([&] { softmax_loss(W, X, {0}, nan_ld); }, "reg"));
    lmatrix bad = W;
    bad(1, 2) = nan_ld;
    EXPECT_TRUE(throws_invalid([&] { softmax_loss(bad, X, {0}, 0); }, "W"));
    EXPECT_TRUE(throws_invalid([&] { softmax_loss(W, mat({{inf, 1}}), {0}, 0); }, "X"));
    EXPECT_TRUE(throws_invalid([&] { softmax_loss(W, X, {0}, 0, 63); }, "bits"));
    try {
        softmax_loss(W, X, {5}, 0);
        ADD_FAILURE() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()), "y: label 5 at index 0 is outside [0, 3)");
    }
    EXPECT_NO_THROW(softmax_loss(W, X, {2}, 0, 64));

    EXPECT_TRUE(throws_invalid([] { softmax(lmatrix(2, 0)); }, "logits"));
    EXPECT_TRUE(throws_invalid([] { log_softmax(lmatrix(2, 0)); }, "logits"));
    EXPECT_TRUE(throws_invalid([] { softmax(lmatrix::Zero(1, 2), 10); }, "bits"));
    EXPECT_TRUE(throws_invalid([] { cross_entropy(lmatrix(0, 3), {}); }, "logits"));
    EXPECT_TRUE(throws_invalid([] { cross_entropy(lmatrix::Zero(2, 3), {0}); }, "labels"));
    EXPECT_TRUE(throws_invalid([] { cross_entropy(lmatrix::Zero(1, 3), {-1}); }, "labels"));
    EXPECT_TRUE(throws_invalid([] { softmax_backward(lmatrix::Zero(2, 3), lmatrix::Zero(2, 2)); }, "dprobs"));
    EXPECT_TRUE(throws_invalid([] { softmax_backward(lmatrix(2, 0), lmatrix(2, 0)); }, "probs"));
    EXPECT_TRUE(throws_invalid([] { log_softmax_backward(lmatrix::Zero(2, 3), lmatrix::Zero(3, 3)); }, "dlogprobs"));
    EXPECT_TRUE(throws_invalid([] { log_softmax_backward(lmatrix(1, 0), lmatrix(1, 0)); }, "logprobs"));
}

}  // namespace
}  // namespace gradproof::reference
