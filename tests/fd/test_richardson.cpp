// Tests of the high-precision finite-difference engine (src/fd): stencil coefficients, Richardson
// accuracy at 256 bits (≥ 30 significant digits for every order), honesty of the error estimate,
// gradient/directional derivatives of log-sum-exp and a quadratic form, argument checking, and the
// error-versus-step sweep (V in double, flat in mp_real).
#include "fd/richardson.hpp"
#include "fd/stencil.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

using gradproof::mp_precision_guard;
using gradproof::mp_real;
namespace fd = gradproof::fd;

constexpr unsigned kBits = 256;
constexpr int kOrders[] = {2, 4, 6, 8};
const mp_real& floor_abs() {
    static const mp_real v("1e-60");
    return v;
}

mp_real rel_error(const mp_real& estimate, const mp_real& exact) {
    return abs(estimate - exact) / abs(exact);
}

double digits(const mp_real& rel) {
    return rel == 0 ? std::numeric_limits<double>::infinity() : -static_cast<double>(log10(rel));
}

// |error| ≤ 10·estimate + 1e−60: the estimate is an honest (upper-ish) bound.
::testing::AssertionResult honest(const fd::fd_estimate& e, const mp_real& exact) {
    const mp_real err = abs(e.value - exact);
    if (err <= 10 * e.error_estimate + floor_abs()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "error " << err.str(5) << " > 10 x estimate "
                                         << e.error_estimate.str(5) << " + 1e-60";
}

template <class F>
::testing::AssertionResult throws_with_prefix(F&& call, const std::string& prefix) {
    try {
        call();
    } catch (const std::invalid_argument& e) {
        if (std::string(e.what()).rfind(prefix, 0) == 0) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "message '" << e.what() << "' lacks prefix '" << prefix << "'";
    } catch (...) {
        return ::testing::AssertionFailure() << "threw something other than std::invalid_argument";
    }
    return ::testing::AssertionFailure() << "did not throw";
}

fd::fd_options options_with_order(int order) {
    fd::fd_options o;
    o.order = order;
    return o;
}

// log Σ exp(x_i), shifted by the maximum so that exp never overflows.
mp_real log_sum_exp(const std::vector<mp_real>& x) {
    mp_real m = x[0];
    for (const mp_real& xi : x) {
        if (xi > m) m = xi;
    }
    mp_real s = 0;
    for (const mp_real& xi : x) s += exp(xi - m);
    return m + log(s);
}

std::vector<mp_real> softmax(const std::vector<mp_real>& x) {
    const mp_real lse = log_sum_exp(x);
    std::vector<mp_real> p;
    for (const mp_real& xi : x) p.push_back(exp(xi - lse));
    return p;
}

// A fixed non-symmetric 5×5 matrix with exact binary entries.
mp_real a_entry(std::size_t i, std::size_t j) {
    return mp_real(static_cast<int>(3 * i) - static_cast<int>(2 * j) + 1) / 4 +
           mp_real(static_cast<int>(i * j % 3)) / 8;
}
constexpr std::size_t kQuadDim = 5;

mp_real quadratic_form(const std::vector<mp_real>& x) {
    mp_real s = 0;
    for (std::size_t i = 0; i < kQuadDim; ++i) {
        for (std::size_t j = 0; j < kQuadDim; ++j) s += x[i] * a_entry(i, j) * x[j];
    }
    return s;
}

std::vector<mp_real> quadratic_gradient(const std::vector<mp_real>& x) {
    std::vector<mp_real> g(kQuadDim, mp_real(0));
    for (std::size_t i = 0; i < kQuadDim; ++i) {
        for (std::size_t j = 0; j < kQuadDim; ++j) g[i] += (a_entry(i, j) + a_entry(j, i)) * x[j];
    }
    return g;
}

mp_real dot(const std::vector<mp_real>& a, const std::vector<mp_real>& b) {
    mp_real s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

std::vector<mp_real> to_mp(const std::vector<double>& v) {
    return {v.begin(), v.end()};
}

const auto mp_exp = [](const mp_real& t) { return mp_real(exp(t)); };

// ---------------------------------------------------------------------------------------------
// Stencils

// Order p is exact for polynomials of degree ≤ p; for x^(p+1) the error is exactly
// γ_p·(p+1)!·h^p with γ = 1/6, −1/30, 1/140, −1/630. This pins every coefficient.
TEST(Stencil, PolynomialsGiveTheKnownTruncationError) {
    const mp_precision_guard guard(kBits);
    const mp_real x("0.75");
    const mp_real h("0.0625");
    const int leading[] = {1, -4, 36, -576};  // γ_p·(p+1)!
    for (int idx = 0; idx < 4; ++idx) {
        const int p = kOrders[idx];
        SCOPED_TRACE("order " + std::to_string(p));
        const auto exact_poly = [p](const mp_real& t) { return mp_real(pow(t, p) - 3 * t + 2); };
        const mp_real exact_poly_d = p * pow(x, p - 1) - 3;
        EXPECT_LE(abs(fd::central_difference(exact_poly, x, h, p) - exact_poly_d), mp_real("1e-70"));

        const auto monomial = [p](const mp_real& t) { return mp_real(pow(t, p + 1)); };
        const mp_real error = fd::central_difference(monomial, x, h, p) - (p + 1) * pow(x, p);
        const mp_real expected = leading[idx] * pow(h, p);
        EXPECT_LE(abs(error - expected) / abs(expected), mp_real("1e-60"));
    }
}

TEST(Stencil, RejectsUnsupportedOrdersAndSteps) {
    const mp_precision_guard guard(kBits);
    const mp_real x(1);
    for (int order : {-2, 0, 1, 3, 5, 7, 9, 10}) {
        EXPECT_TRUE(throws_with_prefix([&] { fd::central_difference(mp_exp, x, mp_real("1e-3"), order); },
                                       "order:"))
            << "order " << order;
    }
    const mp_real nan = std::numeric_limits<mp_real>::quiet_NaN();
    const mp_real inf = std::numeric_limits<mp_real>::infinity();
    for (const mp_real& h : {mp_real(0), mp_real("-1e-3"), nan, inf}) {
        EXPECT_TRUE(throws_with_prefix([&] { fd::central_difference(mp_exp, x, h, 4); }, "step:")) << h;
    }
}

// ---------------------------------------------------------------------------------------------
// 1-D derivative

TEST(Richardson, ExpToThirtyDigitsForEveryOrder) {
    const mp_precision_guard guard(kBits);
    const double points[] = {-50, -3.25, -1, 0, 0.1, 1, 2.5, 10, 30};
    for (int order : kOrders) {
        double worst = std::numeric_limits<double>::infinity();
        for (double xd : points) {
            SCOPED_TRACE("order " + std::to_string(order) + ", x = " + std::to_string(xd));
            const mp_real x(xd);
            const mp_real exact = exp(x);
            const fd::fd_estimate e = fd::derivative(mp_exp, x, options_with_order(order));
            const mp_real rel = rel_error(e.value, exact);
            EXPECT_LE(rel, mp_real("1e-30"));
            EXPECT_TRUE(honest(e, exact));
            // The estimate itself certifies the 30 digits, i.e. it is not vacuous.
            EXPECT_LE(e.error_estimate / exact, mp_real("1e-30"));
            worst = std::min(worst, digits(rel));
        }
        std::cout << "[ digits   ] exp, order " << order << ": >= " << worst << " correct digits\n";
    }
}

TEST(Richardson, ResultAndPrecisionFollowOptionsBits) {
    // Outside any guard: the engine must set its own precision and restore the caller's.
    const unsigned before = mp_real(0).precision();
    unsigned seen = 0;
    const auto f = [&](const mp_real& t) {
        seen = mp_real(0).precision();
        return mp_real(exp(t));
    };
    fd::fd_options o;
    o.bits = 512;
    o.order = 8;
    o.step = 1e-20;
    o.levels = 4;
    const fd::fd_estimate e = fd::derivative(f, mp_real(1), o);
    EXPECT_EQ(seen, gradproof::bits_to_digits10(512));
    EXPECT_EQ(mp_real(0).precision(), before);

    const mp_precision_guard guard(512);
    const mp_real exact = exp(mp_real(1));
    // 512 bits: rounding floor ≈ 2^-512/1e-20 ≈ 1e-134.
    EXPECT_LE(rel_error(e.value, exact), mp_real("1e-120"));
    EXPECT_TRUE(honest(e, exact));
}

// With a coarse step the bare stencil is truncation-dominated; extrapolation recovers many digits
// and the estimate still bounds the error.
TEST(Richardson, ExtrapolationBeatsTheBareStencilAtCoarseSteps) {
    const mp_precision_guard guard(kBits);
    const mp_real x(1);
    const mp_real exact = exp(x);
    fd::fd_options o;
    o.order = 2;
    o.step = 1e-3;
    o.levels = 3;
    const mp_real bare = rel_error(fd::central_difference(mp_exp, x, mp_real(o.step), 2), exact);
    const fd::fd_estimate e = fd::derivative(mp_exp, x, o);
    const mp_real extrapolated = rel_error(e.value, exact);
    EXPECT_GE(bare, mp_real("1e-8"));           // ≈ h²/6 = 1.7e-7
    EXPECT_LE(extrapolated, mp_real("1e-17"));  // O(h⁶)
    EXPECT_TRUE(honest(e, exact));
    EXPECT_LE(e.error_estimate / exact, mp_real("1e-10"));  // still certifies 10 digits

    // More levels push the truncation error down further.
    o.levels = 6;
    const fd::fd_estimate deeper = fd::derivative(mp_exp, x, o);
    EXPECT_LE(rel_error(deeper.value, exact), mp_real("1e-35"));
    EXPECT_TRUE(honest(deeper, exact));
}

// At a far too small step the result is rounding-dominated (≈ u/h ≈ 1e−17) and the tableau
// entries can agree by chance; the propagated rounding bound must still cover the error.
TEST(Richardson, ErrorEstimateCoversRoundingAtTinySteps) {
    const mp_precision_guard guard(kBits);
    for (int order : kOrders) {
        fd::fd_options o = options_with_order(order);
        o.step = 1e-60;
        for (int i = 0; i < 60; ++i) {
            const mp_real x = mp_real(3 * i + 1) / 21 - 4;  // never 0, where exp is too kind
            SCOPED_TRACE("order " + std::to_string(order) + ", x = " + x.str(6));
            const mp_real exact = exp(x);
            const fd::fd_estimate e = fd::derivative(mp_exp, x, o);
            EXPECT_GE(rel_error(e.value, exact), mp_real("1e-25"));  // really rounding-dominated
            EXPECT_LE(abs(e.value - exact), e.error_estimate);      // no slack factor, no floor
            EXPECT_LE(e.error_estimate / exact, mp_real("1e-12"));  // and not vacuous
        }
    }
}

// Node spacing is step·max(1, |x|): with order 4 (nodes ±h, ±2h) and 3 levels the farthest node is
// 2·step·max(1, |x|) away and the nearest step·max(1, |x|)/4.
TEST(Richardson, StepsAreRelativeToThePoint) {
    const mp_precision_guard guard(kBits);
    const fd::fd_options o;  // order 4, 3 levels, step 1e-12
    const auto offsets_seen = [&](double xd) {
        const mp_real x(xd);
        mp_real lo = 1;
        mp_real hi = 0;
        const auto probe = [&](const mp_real& t) {
            const mp_real d = abs(t - x);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
            return mp_real(exp(t / 1000));
        };
        (void)fd::derivative(probe, x, o);
        return std::pair{lo, hi};
    };
    for (double xd : {1000.0, -250.0, 0.001, 0.0}) {
        SCOPED_TRACE("x = " + std::to_string(xd));
        const double scale = std::max(1.0, std::abs(xd));
        const auto [lo, hi] = offsets_seen(xd);
        EXPECT_LE(abs(hi / (2 * o.step * scale) - 1), mp_real("1e-9"));
        EXPECT_LE(abs(lo / (o.step * scale / 4) - 1), mp_real("1e-9"));
    }

    // Gradient: coordinate i moves by at most 2·step·max(1, |x_i|).
    const std::vector<mp_real> x = to_mp({1000, 0.5, -40});
    std::vector<mp_real> max_move(x.size(), mp_real(0));
    (void)fd::gradient(
        [&](const std::vector<mp_real>& y) {
            for (std::size_t k = 0; k < x.size(); ++k) {
                const mp_real d = abs(y[k] - x[k]);
                if (d > max_move[k]) max_move[k] = d;
            }
            return quadratic_form({y[0], y[1], y[2], mp_real(0), mp_real(0)});
        },
        x, o);
    for (std::size_t k = 0; k < x.size(); ++k) {
        const mp_real expected = 2 * mp_real(o.step) * (abs(x[k]) > 1 ? abs(x[k]) : mp_real(1));
        EXPECT_LE(abs(max_move[k] / expected - 1), mp_real("1e-9")) << "coordinate " << k;
    }

    // Directional: the largest coordinate move is 2·step·max(1, ‖x‖∞), whatever the scale of v.
    for (double v_scale : {1e-6, 1.0, 1e6}) {
        SCOPED_TRACE("v scale " + std::to_string(v_scale));
        const std::vector<mp_real> v{mp_real(0.25 * v_scale), mp_real(-1 * v_scale), mp_real(0.5 * v_scale)};
        mp_real largest = 0;
        (void)fd::directional(
            [&](const std::vector<mp_real>& y) {
                for (std::size_t k = 0; k < x.size(); ++k) {
                    const mp_real d = abs(y[k] - x[k]);
                    if (d > largest) largest = d;
                }
                return quadratic_form({y[0], y[1], y[2], mp_real(0), mp_real(0)});
            },
            x, v, o);
        EXPECT_LE(abs(largest / (2 * mp_real(o.step) * 1000) - 1), mp_real("1e-9"));
    }
}

TEST(Richardson, RejectsInvalidOptions) {
    const mp_real x(1);
    const std::vector<mp_real> v{mp_real(1), mp_real(2)};
    const auto sum = [](const std::vector<mp_real>& y) { return mp_real(y[0] + y[1]); };
    for (int order : {0, 3, 10}) {
        EXPECT_TRUE(throws_with_prefix([&] { fd::derivative(mp_exp, x, options_with_order(order)); }, "order:"));
        EXPECT_TRUE(throws_with_prefix([&] { fd::gradient(sum, v, options_with_order(order)); }, "order:"));
        EXPECT_TRUE(throws_with_prefix([&] { fd::directional(sum, v, v, options_with_order(order)); }, "order:"));
    }
    for (double step : {0.0, -1e-12, std::numeric_limits<double>::quiet_NaN(),
                        std::numeric_limits<double>::infinity()}) {
        fd::fd_options o;
        o.step = step;
        EXPECT_TRUE(throws_with_prefix([&] { fd::derivative(mp_exp, x, o); }, "step:")) << step;
        EXPECT_TRUE(throws_with_prefix([&] { fd::gradient(sum, v, o); }, "step:")) << step;
        EXPECT_TRUE(throws_with_prefix([&] { fd::directional(sum, v, v, o); }, "step:")) << step;
    }
    fd::fd_options one_level;
    one_level.levels = 1;
    EXPECT_TRUE(throws_with_prefix([&] { fd::derivative(mp_exp, x, one_level); }, "levels:"));
    fd::fd_options few_bits;
    few_bits.bits = 8;
    EXPECT_TRUE(throws_with_prefix([&] { fd::derivative(mp_exp, x, few_bits); }, "bits:"));
    EXPECT_TRUE(throws_with_prefix(
        [&] { fd::directional(sum, v, std::vector<mp_real>{mp_real(1)}); }, "direction:"));
    EXPECT_TRUE(throws_with_prefix(
        [&] { fd::derivative(mp_exp, mp_real(std::numeric_limits<double>::infinity())); }, "point:"));
}

// ---------------------------------------------------------------------------------------------
// Gradients

const std::vector<double> kLseInput{0.5, -1.25, 3, 30, -40, 7.75, 0};
const std::vector<double> kQuadInput{0.5, -1.75, 2.25, 3, -0.625};

TEST(Gradient, LogSumExpGradientIsSoftmax) {
    const mp_precision_guard guard(kBits);
    const std::vector<mp_real> x = to_mp(kLseInput);
    const std::vector<mp_real> p = softmax(x);
    for (int order : kOrders) {
        const std::vector<fd::fd_estimate> g = fd::gradient(log_sum_exp, x, options_with_order(order));
        ASSERT_EQ(g.size(), x.size());
        double worst = std::numeric_limits<double>::infinity();
        for (std::size_t i = 0; i < x.size(); ++i) {
            SCOPED_TRACE("order " + std::to_string(order) + ", i = " + std::to_string(i));
            const mp_real rel = rel_error(g[i].value, p[i]);
            EXPECT_LE(rel, mp_real("1e-30"));
            EXPECT_TRUE(honest(g[i], p[i]));
            worst = std::min(worst, digits(rel));
        }
        std::cout << "[ digits   ] softmax = grad lse, order " << order << ": >= " << worst << "\n";
    }
}

TEST(Gradient, QuadraticFormGradientIsSymmetrisedProduct) {
    const mp_precision_guard guard(kBits);
    const std::vector<mp_real> x = to_mp(kQuadInput);
    const std::vector<mp_real> exact = quadratic_gradient(x);
    for (int order : kOrders) {
        const std::vector<fd::fd_estimate> g = fd::gradient(quadratic_form, x, options_with_order(order));
        ASSERT_EQ(g.size(), x.size());
        for (std::size_t i = 0; i < x.size(); ++i) {
            SCOPED_TRACE("order " + std::to_string(order) + ", i = " + std::to_string(i));
            EXPECT_LE(rel_error(g[i].value, exact[i]), mp_real("1e-30"));
            EXPECT_TRUE(honest(g[i], exact[i]));
        }
    }
}

TEST(Gradient, PerturbsOneCoordinateAtATime) {
    const mp_precision_guard guard(kBits);
    const std::vector<mp_real> x = to_mp(kQuadInput);
    std::size_t calls = 0;
    std::size_t bad_calls = 0;
    const auto watched = [&](const std::vector<mp_real>& y) {
        ++calls;
        std::size_t moved = 0;
        for (std::size_t k = 0; k < x.size(); ++k) moved += (y[k] != x[k]);
        if (moved != 1) ++bad_calls;
        return quadratic_form(y);
    };
    fd::fd_options o;  // order 4 (2 nodes per side), 3 levels
    (void)fd::gradient(watched, x, o);
    EXPECT_EQ(calls, x.size() * 4 * 3);
    EXPECT_EQ(bad_calls, 0u);
    EXPECT_TRUE(fd::gradient(watched, std::vector<mp_real>{}, o).empty());
}

// ---------------------------------------------------------------------------------------------
// Directional derivatives

TEST(Directional, MatchesInnerProductWithGradient) {
    const mp_precision_guard guard(kBits);
    const std::vector<mp_real> x_lse = to_mp(kLseInput);
    const std::vector<mp_real> v_lse = to_mp({1, -0.5, 0.25, 2, -3, 0.125, 1.5});
    const mp_real d_lse = dot(softmax(x_lse), v_lse);
    const std::vector<mp_real> x_quad = to_mp(kQuadInput);
    const std::vector<mp_real> v_quad = to_mp({-1, 0.5, 2, -0.25, 1});
    const mp_real d_quad = dot(quadratic_gradient(x_quad), v_quad);
    ASSERT_GT(abs(d_lse), mp_real("0.1"));  // no cancellation: relative errors are meaningful
    ASSERT_GT(abs(d_quad), mp_real("0.1"));
    for (int order : kOrders) {
        SCOPED_TRACE("order " + std::to_string(order));
        const fd::fd_estimate e_lse = fd::directional(log_sum_exp, x_lse, v_lse, options_with_order(order));
        EXPECT_LE(rel_error(e_lse.value, d_lse), mp_real("1e-30"));
        EXPECT_TRUE(honest(e_lse, d_lse));
        const fd::fd_estimate e_quad = fd::directional(quadratic_form, x_quad, v_quad, options_with_order(order));
        EXPECT_LE(rel_error(e_quad.value, d_quad), mp_real("1e-30"));
        EXPECT_TRUE(honest(e_quad, d_quad));
    }
}

TEST(Directional, IsLinearInTheDirectionAndCheapInTheDimension) {
    const mp_precision_guard guard(kBits);
    const std::vector<mp_real> x = to_mp(kLseInput);
    const std::vector<mp_real> v = to_mp({1, -0.5, 0.25, 2, -3, 0.125, 1.5});
    const mp_real d = dot(softmax(x), v);
    std::vector<mp_real> tiny = v;
    std::vector<mp_real> huge = v;
    for (mp_real& t : tiny) t *= mp_real("1e-20");
    for (mp_real& t : huge) t *= mp_real("1e20");
    std::size_t calls = 0;
    const auto counted = [&](const std::vector<mp_real>& y) {
        ++calls;
        return log_sum_exp(y);
    };
    EXPECT_LE(rel_error(fd::directional(counted, x, tiny).value, d * mp_real("1e-20")), mp_real("1e-30"));
    EXPECT_EQ(calls, 4u * 3u);  // order 4 × 3 levels, independent of x.size()
    EXPECT_LE(rel_error(fd::directional(counted, x, huge).value, d * mp_real("1e20")), mp_real("1e-30"));

    const fd::fd_estimate zero = fd::directional(counted, x, std::vector<mp_real>(x.size(), mp_real(0)));
    EXPECT_EQ(zero.value, 0);
    EXPECT_EQ(zero.error_estimate, 0);
}

// ---------------------------------------------------------------------------------------------
// Step sweep

void check_sweeps(const auto& f, const auto& df, double x, const std::string& name) {
    SCOPED_TRACE(name);
    const std::vector<fd::step_sweep_point> v = fd::step_sweep<double>(f, df, x);
    ASSERT_EQ(v.size(), 15u);
    std::size_t best = 0;
    for (std::size_t k = 0; k < v.size(); ++k) {
        EXPECT_NEAR(v[k].step, std::pow(10.0, -static_cast<int>(k + 1)), 1e-3 * v[k].step);
        if (v[k].error < v[best].error) best = k;
    }
    std::cout << "[ sweep    ] " << name << " double: min error " << v[best].error << " at step "
              << v[best].step << "; ends " << v.front().error << ", " << v.back().error << "\n";
    EXPECT_GE(v[best].step, 1e-7 * 0.999);
    EXPECT_LE(v[best].step, 1e-4 * 1.001);
    EXPECT_LT(v[best].error, 1e-9);  // the bottom of the V is deep …
    EXPECT_GT(v.front().error, 1e-12);  // … and both arms are high
    EXPECT_GT(v.back().error, 1e-12);

    const std::vector<fd::step_sweep_point> m = fd::step_sweep<mp_real>(f, df, x);
    ASSERT_EQ(m.size(), 15u);
    double worst = 0;
    for (const fd::step_sweep_point& p : m) {
        EXPECT_LT(p.error, 1e-30) << "step " << p.step;
        worst = std::max(worst, p.error);
    }
    std::cout << "[ sweep    ] " << name << " mp_real: max error " << worst << "\n";
}

TEST(StepSweep, DoubleIsVShapedAndMpRealIsFlat) {
    using std::exp;
    using std::sin;
    using std::cos;
    check_sweeps([](auto t) { return exp(t); }, [](auto t) { return exp(t); }, 1.0, "exp at 1");
    check_sweeps([](auto t) { return sin(t); }, [](auto t) { return cos(t); }, 0.5, "sin at 0.5");
    check_sweeps([](auto t) { return t * t * t - 2 * t; }, [](auto t) { return 3 * t * t - 2; }, -2.0,
                 "cubic at -2");
}

}  // namespace
