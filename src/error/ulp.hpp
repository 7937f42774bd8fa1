// Error measures of one output element against a reference: distance in ULPs of the output type
// and the ratio of the error to its tolerance ("margin"; ≤ 1 passes).
//
// The reference is a long double holding the exact value to ≈2^-64 relative (reference/point.hpp),
// i.e. to ≈1/2048 ULP of double: ULP figures are exact to about three decimals. Non-finite rules
// (accuracy.md): where the exact value overflows T, ±inf of the right sign is the correctly rounded
// answer; where it is finite and representable, inf or NaN is always a failure (margin = +inf);
// where the exact value is NaN (an undefined row), only NaN is correct.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

namespace gradproof {

namespace detail {
// 2^⌊log₂ x⌋ for finite x > 0, exactly. On x87's 64-digit extended format it is read off the
// exponent field (an explicit leading 1 over a zero fraction): tolerances and ULP distances take
// it per element, and the library's ilogbl/ldexpl cost more than the rest of an element's work.
inline long double power_of_two_floor(long double x) {
    if constexpr (std::numeric_limits<long double>::digits == 64 && sizeof(long double) >= 10) {
        struct extended {
            std::uint64_t fraction;
            std::uint16_t sign_exponent;
        } bits;
        std::memcpy(&bits, &x, 10);
        if ((bits.sign_exponent & 0x7fff) != 0) {  // normal: exponent field nonzero
            bits.fraction = std::uint64_t{1} << 63;
            bits.sign_exponent &= 0x7fff;
            long double r = 0;
            std::memcpy(&r, &bits, 10);
            return r;
        }
    }
    return std::ldexp(1.0L, std::ilogb(x));
}
}  // namespace detail

// Spacing of the floating-point numbers of type T at magnitude |x| (denorm_min below the normal
// range; the spacing at max() beyond it).
template <class T>
long double ulp_of(long double x);

// |actual − expected| in ULPs of T at the expected value; +inf where a non-finite mismatch.
template <class T>
long double ulp_distance(long double actual, long double expected);

struct element_error {
    long double actual = 0;
    long double expected = 0;
    long double abs_error = 0;   // |actual − expected| (0 for matching non-finite values)
    long double ulps = 0;        // abs_error in ULPs of the output type
    long double tolerance = 0;   // bound derived from error analysis
    long double margin = 0;      // abs_error / tolerance; +inf for a forbidden non-finite value
    bool passed() const { return margin <= 1; }
};

template <class T>
element_error measure(long double actual, long double expected, long double tolerance);

// Formats a value for counterexamples and messages: 17 significant digits (9 for float), with
// inf/nan spelled out, so that every printed value reads back to the same binary number.
template <class T>
std::string format_exact(long double v);

}  // namespace gradproof
