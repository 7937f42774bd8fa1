// Tests of the certified references (reference/interval.hpp): enclosures contain the point
// reference and independently computed 256-bit MPFR values, are as narrow as long double
// endpoints allow, and correctly_rounded returns the round-to-nearest value exactly when the
// enclosure decides it.
#include "reference/interval.hpp"
#include "reference/point.hpp"

#include "support/throws_invalid.hpp"

#include <gtest/gtest.h>
#include <mpfr.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace gradproof::reference {
namespace {

using ld_limits = std::numeric_limits<long double>;
constexpr long double inf = ld_limits::infinity();
constexpr long double nan_ld = ld_limits::quiet_NaN();

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

long double ulp(long double x) {
    x = std::fabs(x);
    if (x < ld_limits::min()) return ld_limits::denorm_min();
    return std::ldexp(1.0L, std::ilogb(x) - (ld_limits::digits - 1));
}

// A 256-bit MPFR number for independent evaluations.
class mp256 {
public:
    mp256() { mpfr_init2(v_, 256); }
    ~mp256() { mpfr_clear(v_); }
    mp256(const mp256&) = delete;
    mp256& operator=(const mp256&) = delete;
    operator mpfr_ptr() { return v_; }
    operator mpfr_srcptr() const { return v_; }

private:
    mpfr_t v_;
};

enclosure at(const interval_matrix& m, Eigen::Index i, Eigen::Index j) { return {m.lo(i, j), m.hi(i, j)}; }

testing::AssertionResult contains(const enclosure& e, long double x) {
    if (e.lo <= x && x <= e.hi) return testing::AssertionSuccess();
    return testing::AssertionFailure() << "[" << e.lo << ", " << e.hi << "] does not contain " << x;
}

testing::AssertionResult contains(const enclosure& e, mpfr_srcptr x) {
    if (mpfr_cmp_ld(x, e.lo) >= 0 && mpfr_cmp_ld(x, e.hi) <= 0) return testing::AssertionSuccess();
    return testing::AssertionFailure() << "[" << e.lo << ", " << e.hi << "] does not contain "
                                       << mpfr_get_ld(x, MPFR_RNDN);
}

// At 128 bits an enclosure is ≤ 2^−100 wide relative to its value, far below an ulp of long
// double, so after outward rounding it spans at most the two ulps around one long double (one
// ulp when it contains none). This is the part of the 2^−100 claim that long double endpoints can
// show; `slack` adds a normwise allowance where the value may cancel (dW).
testing::AssertionResult narrow(const enclosure& e, long double slack = 0) {
    if (e.lo == e.hi) return testing::AssertionSuccess();
    const long double tol = 2 * ulp(std::max(std::fabs(e.lo), std::fabs(e.hi))) + slack;
    if (e.hi - e.lo <= tol) return testing::AssertionSuccess();
    return testing::AssertionFailure() << "[" << e.lo << ", " << e.hi << "] is wider than " << tol;
}


struct shape {
    Eigen::Index n, d, c;
    double x_scale, w_scale;
    long double reg;
};

const std::vector<shape> shapes = {
    {5, 3, 4, 1, 1, 0},      {8, 6, 7, 10, 3, 0.125L}, {3, 4, 2, 100, 10, 0.5L},  {16, 5, 1, 1, 1, 0.01L},
    {4, 2, 33, 1e3, 1e3, 0}, {2, 3, 300, 1e-3, 1e-3, 1e-3L}, {70, 4, 5, 2, 2, 0.25L},
};

TEST(IntervalReference, SoftmaxLossEnclosesThePointReferenceNarrowly) {
    std::mt19937_64 rng(11);
    for (const shape& s : shapes) {
        SCOPED_TRACE("C = " + std::to_string(s.c));
        const lmatrix W = random_matrix(rng, s.d, s.c, s.w_scale), X = random_matrix(rng, s.n, s.d, s.x_scale);
        const label_vector y = random_labels(rng, s.n, s.c);
        const loss_reference r = softmax_loss(W, X, y, s.reg);
        const certified_loss cert = certify_softmax_loss(W, X, y, s.reg);
        EXPECT_TRUE(contains(cert.loss, r.loss));
        EXPECT_TRUE(narrow(cert.loss));
        for (std::size_t i = 0; i < r.row_loss.size(); ++i) {
            EXPECT_TRUE(contains(cert.row_loss[i], r.row_loss[i]));
            EXPECT_TRUE(narrow(cert.row_loss[i]));
        }
        for (Eigen::Index i = 0; i < s.n; ++i)
            for (Eigen::Index j = 0; j < s.c; ++j) {
                EXPECT_TRUE(contains(at(cert.probs, i, j), r.probs(i, j)));
                EXPECT_TRUE(narrow(at(cert.probs, i, j)));
                EXPECT_TRUE(contains(at(cert.dS, i, j), r.dS(i, j)));
                EXPECT_TRUE(narrow(at(cert.dS, i, j)));
            }
        // dW cancels, so its width is bounded normwise: 2^−100 of |X|ᵀ|dS|/N + reg·|W| (taken as
        // 2^−90 to cover the constant factors of the error analysis).
        for (Eigen::Index k = 0; k < s.d; ++k)
            for (Eigen::Index j = 0; j < s.c; ++j) {
                long double scale = 0;
                for (Eigen::Index i = 0; i < s.n; ++i) scale += std::fabs(X(i, k) * r.dS(i, j));
                scale = scale / static_cast<long double>(s.n) + s.reg * std::fabs(W(k, j));
                EXPECT_TRUE(contains(at(cert.dW, k, j), r.dW(k, j)));
                EXPECT_TRUE(narrow(at(cert.dW, k, j), std::ldexp(scale, -90)));
            }
    }
}

TEST(IntervalReference, RowWiseFunctionsEncloseThePointReferenceNarrowly) {
    std::mt19937_64 rng(12);
    for (const shape& s : shapes) {
        SCOPED_TRACE("C = " + std::to_string(s.c));
        const lmatrix z = random_matrix(rng, s.n, s.d, s.x_scale) * random_matrix(rng, s.d, s.c, s.w_scale);
        const label_vector y = random_labels(rng, s.n, s.c);
        const lmatrix p = softmax(z), o = log_softmax(z);
        const cross_entropy_reference ce = cross_entropy(z, y);
        const interval_matrix cp = certify_softmax(z), co = certify_log_softmax(z);
        const certified_cross_entropy cce = certify_cross_entropy(z, y);
        EXPECT_TRUE(contains(cce.loss, ce.loss));
        EXPECT_TRUE(narrow(cce.loss));
        for (Eigen::Index i = 0; i < s.n; ++i) {
            EXPECT_TRUE(contains(cce.row_loss[static_cast<std::size_t>(i)], ce.row_loss[static_cast<std::size_t>(i)]));
            EXPECT_TRUE(narrow(cce.row_loss[static_cast<std::size_t>(i)]));
            for (Eigen::Index j = 0; j < s.c; ++j) {
                EXPECT_TRUE(contains(at(cp, i, j), p(i, j)));
                EXPECT_TRUE(narrow(at(cp, i, j)));
                EXPECT_TRUE(contains(at(co, i, j), o(i, j)));
                EXPECT_TRUE(narrow(at(co, i, j)));
                EXPECT_TRUE(contains(at(cce.probs, i, j), ce.probs(i, j)));
                EXPECT_TRUE(contains(at(cce.dlogits, i, j), ce.dlogits(i, j)));
                EXPECT_TRUE(narrow(at(cce.dlogits, i, j)));
            }
        }
    }
}

TEST(IntervalReference, UniformSoftmaxIsCertifiedAsOneHalf) {
    const interval_matrix p = certify_softmax(mat({{0, 0}}));
    EXPECT_EQ(correctly_rounded<double>(at(p, 0, 0)), std::optional<double>(0.5));
    EXPECT_EQ(correctly_rounded<double>(at(p, 0, 1)), std::optional<double>(0.5));
    EXPECT_EQ(correctly_rounded<float>(at(p, 0, 0)), std::optional<float>(0.5f));
    // 1/(1 + 1) is computed exactly, so the enclosure is the point itself.
    EXPECT_EQ(p.lo(0, 0), 0.5L);
    EXPECT_EQ(p.hi(0, 0), 0.5L);
}

TEST(IntervalReference, LossAtZeroWeightsEnclosesLogC) {
    std::mt19937_64 rng(13);
    for (Eigen::Index c : {2, 3, 10, 1000}) {
        const Eigen::Index n = 5, d = 3;
        const certified_loss cert =
            certify_softmax_loss(lmatrix::Zero(d, c), random_matrix(rng, n, d, 4), random_labels(rng, n, c), 0.5L);
        mp256 log_c;
        mpfr_set_si(log_c, static_cast<long>(c), MPFR_RNDN);
        mpfr_log(log_c, log_c, MPFR_RNDN);
        EXPECT_TRUE(contains(cert.loss, log_c)) << "C = " << c;
        EXPECT_EQ(correctly_rounded<double>(cert.loss), std::optional<double>(mpfr_get_d(log_c, MPFR_RNDN)))
            << "C = " << c;
        EXPECT_EQ(correctly_rounded<float>(cert.loss), std::optional<float>(mpfr_get_flt(log_c, MPFR_RNDN)))
            << "C = " << c;
    }
}

TEST(IntervalReference, AgreesWithAnIndependent256BitEvaluation) {
    // The unshifted textbook formulas at 256 bits (safe for |z| ≤ 30): p_j = e^{z_j}/Σe^{z_k},
    // o_j = z_j − log Σe^{z_k}, ℓ = log Σe^{z_k} − z_y. Their 2^−250 error cannot move a value
    // across an endpoint or a rounding boundary of double except with negligible probability.
    // Soundness does not depend on the precision, so the 64-bit enclosures must contain them too.
    std::mt19937_64 rng(14);
    const Eigen::Index n = 40, c = 3;
    const lmatrix z = random_matrix(rng, n, c, 30);
    const label_vector y = random_labels(rng, n, c);
    const interval_matrix cp = certify_softmax(z), co = certify_log_softmax(z);
    const certified_cross_entropy cce = certify_cross_entropy(z, y);
    const interval_matrix cp64 = certify_softmax(z, 64);
    const certified_cross_entropy cce64 = certify_cross_entropy(z, y, 64);
    int values = 0, determined = 0;
    auto check = [&](const enclosure& e, mpfr_srcptr exact) {
        ++values;
        EXPECT_TRUE(contains(e, exact));
        const std::optional<double> d = correctly_rounded<double>(e);
        const std::optional<float> f = correctly_rounded<float>(e);
        if (d) {
            ++determined;
            EXPECT_EQ(*d, mpfr_get_d(exact, MPFR_RNDN));
        }
        if (f) {
            EXPECT_EQ(*f, mpfr_get_flt(exact, MPFR_RNDN));
        }
    };
    mp256 sum, t, lse, zj;
    for (Eigen::Index i = 0; i < n; ++i) {
        mpfr_set_zero(sum, 1);
        for (Eigen::Index j = 0; j < c; ++j) {
            mpfr_set_ld(t, z(i, j), MPFR_RNDN);
            mpfr_exp(t, t, MPFR_RNDN);
            mpfr_add(sum, sum, t, MPFR_RNDN);
        }
        mpfr_log(lse, sum, MPFR_RNDN);
        for (Eigen::Index j = 0; j < c; ++j) {
            mpfr_set_ld(zj, z(i, j), MPFR_RNDN);
            mpfr_exp(t, zj, MPFR_RNDN);
            mpfr_div(t, t, sum, MPFR_RNDN);
            check(at(cp, i, j), t);
            EXPECT_TRUE(contains(at(cp64, i, j), t));
            mpfr_sub(t, zj, lse, MPFR_RNDN);
            check(at(co, i, j), t);
        }
        mpfr_set_ld(zj, z(i, y[static_cast<std::size_t>(i)]), MPFR_RNDN);
        mpfr_sub(t, lse, zj, MPFR_RNDN);
        check(cce.row_loss[static_cast<std::size_t>(i)], t);
        EXPECT_TRUE(contains(cce64.row_loss[static_cast<std::size_t>(i)], t));
    }
    // An enclosure a few ulps of long double wide straddles a rounding boundary of double with
    // probability about 2^−10 per value: nearly all must be decided.
    EXPECT_GE(determined, values * 9 / 10) << determined << " of " << values;
}

TEST(IntervalReference, CorrectlyRoundedFollowsRoundToNearestEven) {
    const long double one = 1.0L, e53 = std::ldexp(1.0L, -53), e63 = std::ldexp(1.0L, -63);
    // Both ends round to 1.0.
    EXPECT_EQ(correctly_rounded<double>({one, one + e63}), std::optional<double>(1.0));
    // Straddling the midpoint 1 + 2^−53 between 1 and 1 + 2^−52: undecided.
    EXPECT_EQ(correctly_rounded<double>({one + e53 - e63, one + e53 + e63}), std::nullopt);
    // Exactly the midpoint: ties-to-even gives 1.0; just above it gives 1 + 2^−52.
    EXPECT_EQ(correctly_rounded<double>({one + e53, one + e53}), std::optional<double>(1.0));
    EXPECT_EQ(correctly_rounded<double>({one + e53 + e63, one + e53 + 2 * e63}),
              std::optional<double>(1.0 + std::ldexp(1.0, -52)));
    // float: the midpoint 1 + 2^−24 between 1 and 1 + 2^−23.
    const long double e24 = std::ldexp(1.0L, -24);
    EXPECT_EQ(correctly_rounded<float>({one + e24 - e63, one + e24 + e63}), std::nullopt);
    EXPECT_EQ(correctly_rounded<float>({one + e24 + e63, one + e24 + e63}),
              std::optional<float>(1.0f + std::ldexp(1.0f, -23)));
    // Beyond the format the correctly rounded value is +inf.
    EXPECT_EQ(correctly_rounded<double>({2.0L * DBL_MAX, inf}), std::optional<double>(inf));
    EXPECT_EQ(correctly_rounded<float>({2.0L * FLT_MAX, 4.0L * FLT_MAX}),
              std::optional<float>(std::numeric_limits<float>::infinity()));
    // An enclosure around 0 narrower than the subnormals: the rounded value is a zero.
    const std::optional<double> zero = correctly_rounded<double>({-ld_limits::denorm_min(), ld_limits::denorm_min()});
    ASSERT_TRUE(zero.has_value());
    EXPECT_EQ(*zero, 0.0);
    EXPECT_FALSE(std::signbit(*zero));
    // NaN and inverted enclosures decide nothing.
    EXPECT_EQ(correctly_rounded<double>({nan_ld, nan_ld}), std::nullopt);
    EXPECT_EQ(correctly_rounded<double>({one + e63, one}), std::nullopt);  // empty, though both ends round to 1
}

TEST(IntervalReference, MaskedClassesAndUndefinedRows) {
    const lmatrix z = mat({{0, -inf, 0}, {nan_ld, 1, 2}, {-inf, -inf, -inf}, {inf, 0, 0}});
    const interval_matrix p = certify_softmax(z), o = certify_log_softmax(z);
    EXPECT_EQ(p.lo(0, 0), 0.5L);
    EXPECT_EQ(p.hi(0, 0), 0.5L);
    EXPECT_EQ(p.lo(0, 1), 0.0L);
    EXPECT_EQ(p.hi(0, 1), 0.0L);
    EXPECT_EQ(o.lo(0, 1), -inf);
    EXPECT_EQ(o.hi(0, 1), -inf);
    mp256 log2;
    mpfr_const_log2(log2, MPFR_RNDN);
    mpfr_neg(log2, log2, MPFR_RNDN);
    EXPECT_TRUE(contains(at(o, 0, 0), log2));
    for (Eigen::Index i = 1; i < 4; ++i)
        for (Eigen::Index j = 0; j < 3; ++j) {
            EXPECT_TRUE(std::isnan(p.lo(i, j)) && std::isnan(p.hi(i, j))) << i << "," << j;
            EXPECT_TRUE(std::isnan(o.lo(i, j)) && std::isnan(o.hi(i, j))) << i << "," << j;
        }

    // A masked label gives [+inf, +inf]; undefined rows make the mean NaN but leave row 0 intact.
    const certified_cross_entropy masked = certify_cross_entropy(z.topRows(1), {1});
    EXPECT_EQ(masked.row_loss[0].lo, inf);
    EXPECT_EQ(masked.row_loss[0].hi, inf);
    EXPECT_EQ(masked.loss.lo, inf);
    EXPECT_EQ(masked.dlogits.lo(0, 1), -1.0L);
    EXPECT_EQ(masked.dlogits.hi(0, 1), -1.0L);
    const certified_cross_entropy ce = certify_cross_entropy(z, {0, 0, 0, 0});
    EXPECT_TRUE(std::isnan(ce.loss.lo) && std::isnan(ce.loss.hi));
    mpfr_neg(log2, log2, MPFR_RNDN);
    EXPECT_TRUE(contains(ce.row_loss[0], log2));
    EXPECT_TRUE(narrow(ce.row_loss[0]));
    for (std::size_t i = 1; i < 4; ++i) EXPECT_TRUE(std::isnan(ce.row_loss[i].lo) && std::isnan(ce.row_loss[i].hi));
}

TEST(IntervalReference, HugeEqualLogitsCertifyLog2) {
    const certified_cross_entropy ce = certify_cross_entropy(mat({{1e16L, 1e16L}}), {0});
    mp256 log2;
    mpfr_const_log2(log2, MPFR_RNDN);
    EXPECT_TRUE(contains(ce.row_loss[0], log2));
    EXPECT_EQ(correctly_rounded<double>(ce.row_loss[0]), std::optional<double>(mpfr_get_d(log2, MPFR_RNDN)));
    EXPECT_EQ(correctly_rounded<float>(ce.loss), std::optional<float>(mpfr_get_flt(log2, MPFR_RNDN)));
}

TEST(IntervalReference, ExactScoresKeepTinyLossesNarrow) {
    // S = [2^200, 2^200 − 50] (X = [2^170, 1], W columns [2^30, 0] and [2^30, −50]): a score
    // rounded to 128 bits would lose the −50 entirely. With exact scores the label's loss
    // log1p(e^−50) ≈ 2e−22 and dS = ∓e^−50/(1 + e^−50) get enclosures a few ulps of long double
    // wide (~1e−41), which also rules out log(1 + s) and p_y − 1: at 128 bits each leaves an
    // absolute width near 2^−128 ≈ 3e−39.
    const lmatrix X = mat({{std::ldexp(1.0L, 170), 1}});
    const lmatrix W = mat({{std::ldexp(1.0L, 30), std::ldexp(1.0L, 30)}, {0, -50}});
    const certified_loss cert = certify_softmax_loss(W, X, {0}, 0);
    const loss_reference r = softmax_loss(W, X, {0}, 0);
    mp256 s, expected;
    mpfr_set_si(s, -50, MPFR_RNDN);
    mpfr_exp(s, s, MPFR_RNDN);
    mpfr_log1p(expected, s, MPFR_RNDN);
    EXPECT_TRUE(contains(cert.row_loss[0], expected));
    EXPECT_TRUE(narrow(cert.row_loss[0]));
    EXPECT_TRUE(contains(cert.row_loss[0], r.row_loss[0]));
    EXPECT_EQ(correctly_rounded<double>(cert.loss), std::optional<double>(mpfr_get_d(expected, MPFR_RNDN)));
    // dS_0 = −s/(1 + s) and dS_1 = s/(1 + s).
    mpfr_add_ui(expected, s, 1, MPFR_RNDN);
    mpfr_div(expected, s, expected, MPFR_RNDN);
    EXPECT_TRUE(contains(at(cert.dS, 0, 1), expected));
    EXPECT_TRUE(narrow(at(cert.dS, 0, 1)));
    mpfr_neg(expected, expected, MPFR_RNDN);
    EXPECT_TRUE(contains(at(cert.dS, 0, 0), expected));
    EXPECT_TRUE(narrow(at(cert.dS, 0, 0)));
}

TEST(IntervalReference, ShiftedLogitsAreRoundedOutward) {
    // z = [2^70, 2^−70]: d_1 = 2^−70 − 2^70 needs 141 bits, so at 128 bits it must be rounded
    // outward to [−2^70, −2^70 + 2^−57]. o_1 = d_1 − log1p(e^{d_1}) then lies just above −2^70,
    // and the upper endpoint must reach past it (to the long double −2^70 + 2^6); a difference
    // rounded to nearest would give the point −2^70 and an enclosure ending at −2^70.
    const lmatrix z = mat({{std::ldexp(1.0L, 70), std::ldexp(1.0L, -70)}});
    const interval_matrix o = certify_log_softmax(z);
    mp256 exact, t;
    mpfr_set_ld(exact, std::ldexp(1.0L, -70), MPFR_RNDN);
    mpfr_sub_d(exact, exact, std::ldexp(1.0, 70), MPFR_RNDN);  // exact at 256 bits
    mpfr_exp(t, exact, MPFR_RNDN);  // e^{−2^70} is below MPFR's exponent range: 0 or its least positive
    mpfr_log1p(t, t, MPFR_RNDN);
    mpfr_sub(exact, exact, t, MPFR_RNDN);
    EXPECT_TRUE(contains(at(o, 0, 1), exact));
    EXPECT_GT(o.hi(0, 1), -std::ldexp(1.0L, 70));
    EXPECT_TRUE(narrow(at(o, 0, 1)));
    // The point reference rounds the same value to nearest: −2^70.
    EXPECT_EQ(log_softmax(z)(0, 1), -std::ldexp(1.0L, 70));
    EXPECT_TRUE(contains(at(o, 0, 1), log_softmax(z)(0, 1)));
}

TEST(IntervalReference, ArgumentsAreValidated) {
    const lmatrix W = lmatrix::Ones(2, 3), X = lmatrix::Ones(1, 2);
    EXPECT_TRUE(throws_invalid([&] { certify_softmax_loss(W, X, {0}, 0, 63); }, "bits"));
    EXPECT_TRUE(throws_invalid([&] { certify_softmax_loss(W, X, {0}, -0.5L); }, "reg"));
    EXPECT_TRUE(throws_invalid([&] { certify_softmax_loss(W, lmatrix::Ones(1, 3), {0}, 0); }, "X"));
    try {
        certify_softmax_loss(W, X, {5}, 0);
        ADD_FAILURE() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()), "y: label 5 at index 0 is outside [0, 3)");
    }
    EXPECT_TRUE(throws_invalid([] { certify_softmax(lmatrix(1, 0)); }, "logits"));
    EXPECT_TRUE(throws_invalid([] { certify_log_softmax(lmatrix::Zero(1, 2), 0); }, "bits"));
    EXPECT_TRUE(throws_invalid([] { certify_cross_entropy(lmatrix::Zero(1, 3), {3}); }, "labels"));
    EXPECT_TRUE(throws_invalid([] { certify_cross_entropy(lmatrix(0, 3), {}); }, "logits"));
}

}  // namespace
}  // namespace gradproof::reference
