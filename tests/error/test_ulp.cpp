// Tests of error/ulp.hpp: ULP spacing, ULP distance with the non-finite rules of accuracy.md,
// margins, and exact formatting. Expected values are exact facts of IEEE 754 binary32/binary64
// (ulp(1) = 2^-52, spacing at max = 2^971, spacing of subnormals = denorm_min, …) or are
// obtained independently from the hardware (std::nextafter, conversion to T, strtod/strtof).
#include "error/ulp.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace gradproof {
namespace {

constexpr long double inf = std::numeric_limits<long double>::infinity();
constexpr long double nan_ld = std::numeric_limits<long double>::quiet_NaN();

template <class T>
long double ld(T x) {
    return static_cast<long double>(x);
}

// A random finite double with uniformly random bits (all exponents, subnormals included).
double random_finite_double(std::mt19937_64& r) {
    for (;;) {
        const double x = std::bit_cast<double>(r());
        if (std::isfinite(x)) return x;
    }
}
float random_finite_float(std::mt19937_64& r) {
    for (;;) {
        const float x = std::bit_cast<float>(static_cast<std::uint32_t>(r()));
        if (std::isfinite(x)) return x;
    }
}

// ---- ulp_of -----------------------------------------------------------------------------------

TEST(UlpOf, AtOne) {
    EXPECT_EQ(ulp_of<double>(1.0L), std::ldexp(1.0L, -52));
    EXPECT_EQ(ulp_of<float>(1.0L), std::ldexp(1.0L, -23));
    EXPECT_EQ(ulp_of<double>(-1.0L), std::ldexp(1.0L, -52));
    // Just below 1 the spacing halves.
    EXPECT_EQ(ulp_of<double>(ld(std::nextafter(1.0, 0.0))), std::ldexp(1.0L, -53));
    EXPECT_EQ(ulp_of<float>(ld(std::nextafter(1.0f, 0.0f))), std::ldexp(1.0L, -24));
}

TEST(UlpOf, PowersOfTwoDouble) {
    for (int k = -1022; k <= 1023; ++k) {
        const long double x = std::ldexp(1.0L, k);
        ASSERT_EQ(ulp_of<double>(x), std::ldexp(1.0L, k - 52)) << "2^" << k;
        ASSERT_EQ(ulp_of<double>(-x), std::ldexp(1.0L, k - 52)) << "-2^" << k;
        // The largest double below 2^k lies in the binade below (2^(k-1) ≤ x < 2^k).
        if (k > -1022) {
            ASSERT_EQ(ulp_of<double>(ld(std::nextafter(static_cast<double>(x), 0.0))), std::ldexp(1.0L, k - 53));
        }
    }
}

TEST(UlpOf, PowersOfTwoFloat) {
    for (int k = -126; k <= 127; ++k) {
        const long double x = std::ldexp(1.0L, k);
        ASSERT_EQ(ulp_of<float>(x), std::ldexp(1.0L, k - 23)) << "2^" << k;
        if (k > -126) {
            ASSERT_EQ(ulp_of<float>(ld(std::nextafter(static_cast<float>(x), 0.0f))), std::ldexp(1.0L, k - 24));
        }
    }
}

// For every finite x ≥ 0 below max, the spacing at x is the gap to the next number up.
TEST(UlpOf, MatchesNextafterForRandomValues) {
    std::mt19937_64 r(12345);
    for (int i = 0; i < 20000; ++i) {
        const double x = std::fabs(random_finite_double(r));
        if (x == std::numeric_limits<double>::max()) continue;
        ASSERT_EQ(ulp_of<double>(ld(x)), ld(std::nextafter(x, HUGE_VAL)) - ld(x)) << x;
        ASSERT_EQ(ulp_of<double>(-ld(x)), ulp_of<double>(ld(x))) << x;
        const float f = std::fabs(random_finite_float(r));
        if (f == std::numeric_limits<float>::max()) continue;
        ASSERT_EQ(ulp_of<float>(ld(f)), ld(std::nextafter(f, HUGE_VALF)) - ld(f)) << f;
    }
}

TEST(UlpOf, SubnormalsAreDenormMin) {
    const long double dmin = ld(std::numeric_limits<double>::denorm_min());
    const long double fmin = ld(std::numeric_limits<float>::denorm_min());
    for (long double x : {0.0L, dmin, 3 * dmin, ld(std::numeric_limits<double>::min()) / 2,
                          ld(std::numeric_limits<double>::min()) - dmin, ld(std::numeric_limits<double>::min())}) {
        EXPECT_EQ(ulp_of<double>(x), dmin) << x;
        EXPECT_EQ(ulp_of<double>(-x), dmin) << x;
    }
    for (long double x : {0.0L, fmin, 7 * fmin, ld(std::numeric_limits<float>::min()) / 2,
                          ld(std::numeric_limits<float>::min()) - fmin, ld(std::numeric_limits<float>::min())}) {
        EXPECT_EQ(ulp_of<float>(x), fmin) << x;
    }
    // A value below double's subnormal range (representable in long double) still gets denorm_min.
    EXPECT_EQ(ulp_of<double>(dmin / 1024), dmin);
    // Twice the smallest normal: spacing doubles.
    EXPECT_EQ(ulp_of<double>(2 * ld(std::numeric_limits<double>::min())), 2 * dmin);
}

TEST(UlpOf, AtAndBeyondMax) {
    EXPECT_EQ(ulp_of<double>(ld(std::numeric_limits<double>::max())), std::ldexp(1.0L, 971));
    EXPECT_EQ(ulp_of<float>(ld(std::numeric_limits<float>::max())), std::ldexp(1.0L, 104));
    EXPECT_EQ(ulp_of<double>(-ld(std::numeric_limits<double>::max())), std::ldexp(1.0L, 971));
    // Beyond the range the spacing at max() applies.
    EXPECT_EQ(ulp_of<double>(1e400L), std::ldexp(1.0L, 971));
    EXPECT_EQ(ulp_of<double>(inf), std::ldexp(1.0L, 971));
    EXPECT_EQ(ulp_of<double>(-inf), std::ldexp(1.0L, 971));
    EXPECT_EQ(ulp_of<float>(1e39L), std::ldexp(1.0L, 104));
    EXPECT_EQ(ulp_of<float>(inf), std::ldexp(1.0L, 104));
}

// ---- ulp_distance -----------------------------------------------------------------------------

TEST(UlpDistance, EqualValuesAreZero) {
    std::mt19937_64 r(7);
    for (int i = 0; i < 20000; ++i) {
        const double x = random_finite_double(r);
        ASSERT_EQ(ulp_distance<double>(ld(x), ld(x)), 0.0L) << x;
        const float f = random_finite_float(r);
        ASSERT_EQ(ulp_distance<float>(ld(f), ld(f)), 0.0L) << f;
    }
    EXPECT_EQ(ulp_distance<double>(0.0L, -0.0L), 0.0L);
    EXPECT_EQ(ulp_distance<double>(inf, inf), 0.0L);
    EXPECT_EQ(ulp_distance<double>(-inf, -inf), 0.0L);
}

// The neighbour away from zero is exactly one spacing of the expected value away.
TEST(UlpDistance, AdjacentValuesAreOne) {
    std::mt19937_64 r(8);
    for (int i = 0; i < 20000; ++i) {
        const double x = random_finite_double(r);
        if (std::fabs(x) == std::numeric_limits<double>::max()) continue;
        const double away = std::nextafter(x, std::signbit(x) ? -HUGE_VAL : HUGE_VAL);
        ASSERT_EQ(ulp_distance<double>(ld(away), ld(x)), 1.0L) << x;
        const float f = random_finite_float(r);
        if (std::fabs(f) == std::numeric_limits<float>::max()) continue;
        const float fa = std::nextafter(f, std::signbit(f) ? -HUGE_VALF : HUGE_VALF);
        ASSERT_EQ(ulp_distance<float>(ld(fa), ld(f)), 1.0L) << f;
    }
    EXPECT_EQ(ulp_distance<double>(1.0L + std::ldexp(1.0L, -52), 1.0L), 1.0L);
    EXPECT_EQ(ulp_distance<double>(1.0L, 1.0L + std::ldexp(1.0L, -52)), 1.0L);
    const long double dmin = ld(std::numeric_limits<double>::denorm_min());
    EXPECT_EQ(ulp_distance<double>(dmin, 0.0L), 1.0L);
    EXPECT_EQ(ulp_distance<double>(-dmin, dmin), 2.0L);
    // Below a power of two the spacing halves: 1 − 2^-53 is half an ULP of 1 away from 1.
    EXPECT_EQ(ulp_distance<double>(ld(std::nextafter(1.0, 0.0)), 1.0L), 0.5L);
}

TEST(UlpDistance, ExpectedNaNOnlyNaNPasses) {
    EXPECT_EQ(ulp_distance<double>(nan_ld, nan_ld), 0.0L);
    EXPECT_EQ(ulp_distance<float>(nan_ld, nan_ld), 0.0L);
    for (long double actual : {0.0L, 1.0L, -1.0L, inf, -inf, ld(std::numeric_limits<double>::max())}) {
        EXPECT_EQ(ulp_distance<double>(actual, nan_ld), inf) << actual;
        EXPECT_EQ(ulp_distance<float>(actual, nan_ld), inf) << actual;
    }
}

TEST(UlpDistance, NonFiniteForRepresentableExpectedIsInfinite) {
    const long double dmax = ld(std::numeric_limits<double>::max());
    for (long double expected : {0.0L, 1.0L, -2.5L, 1e300L, dmax, -dmax, ld(std::numeric_limits<double>::denorm_min())}) {
        EXPECT_EQ(ulp_distance<double>(inf, expected), inf) << expected;
        EXPECT_EQ(ulp_distance<double>(-inf, expected), inf) << expected;
        EXPECT_EQ(ulp_distance<double>(nan_ld, expected), inf) << expected;
    }
    const long double fmax = ld(std::numeric_limits<float>::max());
    for (long double expected : {0.0L, 1.0L, 1e38L, fmax, -fmax}) {
        EXPECT_EQ(ulp_distance<float>(inf, expected), inf) << expected;
        EXPECT_EQ(ulp_distance<float>(-inf, expected), inf) << expected;
        EXPECT_EQ(ulp_distance<float>(nan_ld, expected), inf) << expected;
    }
}

TEST(UlpDistance, OverflowingExpectedValueRoundsToInfinity) {
    // Exact values beyond double's range: ±inf of the same sign is the correctly rounded answer.
    for (long double e : {1e309L, 1e4000L, 2 * ld(std::numeric_limits<double>::max()), inf}) {
        EXPECT_EQ(ulp_distance<double>(inf, e), 0.0L) << e;
        EXPECT_EQ(ulp_distance<double>(-inf, -e), 0.0L) << e;
        EXPECT_EQ(ulp_distance<double>(-inf, e), inf) << e;
        EXPECT_EQ(ulp_distance<double>(inf, -e), inf) << e;
        EXPECT_EQ(ulp_distance<double>(ld(std::numeric_limits<double>::max()), e), inf) << e;
        EXPECT_EQ(ulp_distance<double>(nan_ld, e), inf) << e;
    }
    // float: a double-sized loss (6e38) overflows float.
    EXPECT_EQ(ulp_distance<float>(inf, 6e38L), 0.0L);
    EXPECT_EQ(ulp_distance<float>(-inf, 6e38L), inf);
    EXPECT_EQ(ulp_distance<float>(ld(std::numeric_limits<float>::max()), 6e38L), inf);
}

// The overflow rule agrees with the hardware's rounding of the exact value to T: inf is correct
// exactly when static_cast<T>(expected) is inf (round to nearest, ties to even).
template <class T>
void check_overflow_boundary() {
    const long double maxv = ld(std::numeric_limits<T>::max());
    const long double half = std::ldexp(1.0L, std::numeric_limits<T>::max_exponent - std::numeric_limits<T>::digits - 1);
    std::vector<long double> probes;
    for (long double f : {-1.0L, -0.5L, -0.25L, -std::ldexp(1.0L, -8), 0.0L, std::ldexp(1.0L, -8), 0.25L, 0.5L, 1.0L, 2.0L})
        probes.push_back(maxv + half * (1 + f));
    probes.push_back(maxv);
    for (long double e : probes) {
        const bool rounds_to_inf = std::isinf(static_cast<T>(e));
        EXPECT_EQ(ulp_distance<T>(inf, e) == 0, rounds_to_inf) << format_exact<long double>(e);
        EXPECT_EQ(ulp_distance<T>(-inf, -e) == 0, rounds_to_inf) << format_exact<long double>(e);
        EXPECT_EQ(std::isinf(ulp_distance<T>(maxv, e)), rounds_to_inf) << format_exact<long double>(e);
        if (!rounds_to_inf) {
            // A value rounding to max: distance from max in ULPs of max.
            EXPECT_EQ(ulp_distance<T>(maxv, e), std::fabs(e - maxv) / (2 * half)) << format_exact<long double>(e);
        }
    }
}
TEST(UlpDistance, OverflowBoundaryMatchesRoundingDouble) { check_overflow_boundary<double>(); }
TEST(UlpDistance, OverflowBoundaryMatchesRoundingFloat) { check_overflow_boundary<float>(); }

// ---- measure ------------------------------------------------------------------------------------

TEST(Measure, MarginIsErrorOverTolerance) {
    const long double u = std::ldexp(1.0L, -53);
    const element_error e = measure<double>(1 + 6 * u, 1, 4 * u);
    EXPECT_EQ(e.abs_error, 6 * u);
    EXPECT_EQ(e.ulps, 3.0L);  // 6u = 3 ulps of 1
    EXPECT_EQ(e.margin, 1.5L);
    EXPECT_EQ(e.tolerance, 4 * u);
    EXPECT_EQ(e.actual, 1 + 6 * u);
    EXPECT_EQ(e.expected, 1.0L);
    EXPECT_FALSE(e.passed());

    std::mt19937_64 r(99);
    std::uniform_real_distribution<double> val(-100, 100), rel(-1e-13, 1e-13), tol(1e-16, 1e-10);
    for (int i = 0; i < 5000; ++i) {
        const long double expected = val(r), actual = expected * (1 + rel(r)), t = tol(r);
        const element_error m = measure<double>(actual, expected, t);
        ASSERT_EQ(m.abs_error, std::fabs(actual - expected));
        ASSERT_EQ(m.margin, std::fabs(actual - expected) / t);
        ASSERT_EQ(m.passed(), std::fabs(actual - expected) <= t);
        ASSERT_EQ(m.ulps, ulp_distance<double>(actual, expected));
    }
}

TEST(Measure, PassesExactlyUpToTheTolerance) {
    const long double err = std::ldexp(1.0L, -50);
    EXPECT_TRUE(measure<double>(1 + err, 1, err).passed());
    EXPECT_EQ(measure<double>(1 + err, 1, err).margin, 1.0L);
    EXPECT_FALSE(measure<double>(1 + err, 1, err * (1 - std::ldexp(1.0L, -20))).passed());
    EXPECT_TRUE(measure<float>(2, 2, 0).passed());
}

TEST(Measure, ZeroToleranceWithNonzeroErrorIsInfinite) {
    const element_error e = measure<double>(1 + std::ldexp(1.0L, -52), 1, 0);
    EXPECT_EQ(e.margin, inf);
    EXPECT_FALSE(e.passed());
    const element_error z = measure<double>(3, 3, 0);
    EXPECT_EQ(z.margin, 0.0L);
    EXPECT_TRUE(z.passed());
}

TEST(Measure, NonFiniteRules) {
    // inf where the exact value is representable: forbidden.
    const element_error a = measure<double>(inf, 2, 1e300L);
    EXPECT_EQ(a.margin, inf);
    EXPECT_EQ(a.ulps, inf);
    EXPECT_FALSE(a.passed());
    // NaN where a number is expected, and a number where NaN is expected.
    EXPECT_FALSE(measure<double>(nan_ld, 2, 1e300L).passed());
    EXPECT_FALSE(measure<double>(2, nan_ld, 1e300L).passed());
    // Matching NaN (undefined row) passes with zero error.
    const element_error n = measure<double>(nan_ld, nan_ld, 0);
    EXPECT_TRUE(n.passed());
    EXPECT_EQ(n.abs_error, 0.0L);
    // The exact value overflows: inf of the right sign passes even with zero tolerance.
    const element_error o = measure<float>(inf, 6e38L, 0);
    EXPECT_TRUE(o.passed());
    EXPECT_EQ(o.margin, 0.0L);
    EXPECT_FALSE(measure<float>(-inf, 6e38L, 1e30L).passed());
    EXPECT_FALSE(measure<float>(ld(std::numeric_limits<float>::max()), 6e38L, 1e38L).passed());
    // Masked class: log-probability −inf exactly.
    EXPECT_TRUE(measure<double>(-inf, -inf, 0).passed());
    EXPECT_FALSE(measure<double>(-1e300L, -inf, 1e300L).passed());
}

// ---- format_exact --------------------------------------------------------------------------------

void expect_round_trip_double(double x) {
    const std::string s = format_exact<double>(ld(x));
    char* end = nullptr;
    const double back = std::strtod(s.c_str(), &end);
    ASSERT_EQ(*end, '\0') << s;
    ASSERT_EQ(std::bit_cast<std::uint64_t>(back), std::bit_cast<std::uint64_t>(x)) << s;
}
void expect_round_trip_float(float x) {
    const std::string s = format_exact<float>(ld(x));
    char* end = nullptr;
    const float back = std::strtof(s.c_str(), &end);
    ASSERT_EQ(*end, '\0') << s;
    ASSERT_EQ(std::bit_cast<std::uint32_t>(back), std::bit_cast<std::uint32_t>(x)) << s;
}
// Significant digits printed (mantissa digits of a %g-style string, leading zeros excluded).
int significant_digits(const std::string& s) {
    std::string mant = s.substr(0, s.find_first_of("eE"));
    int n = 0;
    bool leading = true;
    for (char ch : mant) {
        if (ch < '0' || ch > '9') continue;
        if (leading && ch == '0') continue;
        leading = false;
        ++n;
    }
    return n;
}

TEST(FormatExact, RandomDoublesRoundTrip) {
    std::mt19937_64 r(2024);
    int seventeen = 0;
    for (int i = 0; i < 20000; ++i) {
        const double x = random_finite_double(r);
        expect_round_trip_double(x);
        const int d = significant_digits(format_exact<double>(ld(x)));
        ASSERT_LE(d, 17) << format_exact<double>(ld(x));
        seventeen += d == 17;
        // Values of ordinary magnitude too (random bits rarely give them).
        expect_round_trip_double(std::ldexp(std::uniform_real_distribution<double>(0.5, 1)(r), static_cast<int>(r() % 40) - 20));
    }
    // 17 digits are needed for most doubles; a formatter printing fewer would not round-trip.
    EXPECT_GT(seventeen, 1000);
}

TEST(FormatExact, RandomFloatsRoundTrip) {
    std::mt19937_64 r(2025);
    int nine = 0;
    for (int i = 0; i < 20000; ++i) {
        const float x = random_finite_float(r);
        expect_round_trip_float(x);
        const int d = significant_digits(format_exact<float>(ld(x)));
        ASSERT_LE(d, 9) << format_exact<float>(ld(x));  // float digits, not double's 17
        nine += d == 9;
    }
    EXPECT_GT(nine, 1000);
}

TEST(FormatExact, Subnormals) {
    const double dmin = std::numeric_limits<double>::denorm_min();
    for (double x : {dmin, -dmin, 2 * dmin, 3 * dmin, std::numeric_limits<double>::min() - dmin,
                     std::numeric_limits<double>::min() / 3, std::nextafter(std::numeric_limits<double>::min(), 0.0)})
        expect_round_trip_double(x);
    const float fmin = std::numeric_limits<float>::denorm_min();
    for (float x : {fmin, -fmin, 5 * fmin, std::numeric_limits<float>::min() - fmin, std::numeric_limits<float>::min() / 3})
        expect_round_trip_float(x);
}

TEST(FormatExact, SignedZeroAndExtremes) {
    expect_round_trip_double(-0.0);
    expect_round_trip_double(0.0);
    expect_round_trip_float(-0.0f);
    expect_round_trip_double(std::numeric_limits<double>::max());
    expect_round_trip_double(-std::numeric_limits<double>::max());
    expect_round_trip_float(std::numeric_limits<float>::max());
    expect_round_trip_double(0.1);
    expect_round_trip_float(0.1f);
}

TEST(FormatExact, NonFiniteSpelledOut) {
    EXPECT_EQ(format_exact<double>(inf), "inf");
    EXPECT_EQ(format_exact<double>(-inf), "-inf");
    EXPECT_EQ(format_exact<double>(nan_ld), "nan");
    EXPECT_EQ(format_exact<float>(-inf), "-inf");
    // …and they read back.
    EXPECT_EQ(std::strtod(format_exact<double>(-inf).c_str(), nullptr), -HUGE_VAL);
    EXPECT_TRUE(std::isnan(std::strtod(format_exact<double>(nan_ld).c_str(), nullptr)));
}

}  // namespace
}  // namespace gradproof

namespace gradproof {
namespace {

// The exponent-field reading agrees with the library's ldexp(1, ilogb(x)) across the whole long
// double range: random exponents and fractions, the largest and smallest normals, subnormals.
TEST(PowerOfTwoFloor, MatchesIlogbOverTheLongDoubleRange) {
    std::mt19937_64 r(2026);
    std::uniform_int_distribution<int> exponent(-16440, 16383);
    std::uniform_real_distribution<long double> fraction(1.0L, 2.0L);
    std::vector<long double> xs = {1.0L, 0.75L, std::numeric_limits<long double>::max(),
                                   std::numeric_limits<long double>::min(), std::numeric_limits<long double>::denorm_min(),
                                   std::numeric_limits<long double>::min() / 3};
    for (int i = 0; i < 20000; ++i) xs.push_back(std::ldexp(fraction(r), exponent(r)));
    for (const long double x : xs) {
        if (!(x > 0) || !std::isfinite(x)) continue;
        ASSERT_EQ(detail::power_of_two_floor(x), std::ldexp(1.0L, std::ilogb(x))) << static_cast<double>(x);
    }
}

}  // namespace
}  // namespace gradproof
