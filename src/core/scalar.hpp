// Scalar types used by gradproof and their rounding facts.
//
// Implementations are templates over the scalar type; the references and the finite-difference
// engine instantiate them with Boost.Multiprecision types over MPFR (points) and MPFI
// (intervals). Expression templates are switched off (et_off) because Eigen stores and copies
// scalars and must never hold an unevaluated expression.
#pragma once

#include <boost/multiprecision/mpfi.hpp>
#include <boost/multiprecision/mpfr.hpp>
#include <boost/multiprecision/eigen.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

namespace gradproof {

// Arbitrary-precision real; precision set per thread with mp_precision_guard.
using mp_real = boost::multiprecision::number<boost::multiprecision::mpfr_float_backend<0>,
                                              boost::multiprecision::et_off>;
// Arbitrary-precision interval (MPFI): every operation returns an enclosure of the exact result.
using mp_interval = boost::multiprecision::number<boost::multiprecision::mpfi_float_backend<0>,
                                                  boost::multiprecision::et_off>;

// Binary digits <-> the decimal digits Boost.Multiprecision is configured in.
inline unsigned bits_to_digits10(unsigned bits) { return static_cast<unsigned>(bits * 0.30103) + 1; }

// Sets the default precision of mp_real and mp_interval and restores the previous one on
// destruction. In Boost 1.74 (Debian 12) this default is process-wide, not per thread: gradproof
// evaluates multiprecision code on one thread only.
class mp_precision_guard {
public:
    explicit mp_precision_guard(unsigned bits)
        : real_digits_(mp_real::default_precision()),
          interval_digits_(mp_interval::default_precision()) {
        mp_real::default_precision(bits_to_digits10(bits));
        mp_interval::default_precision(bits_to_digits10(bits));
    }
    ~mp_precision_guard() {
        mp_real::default_precision(real_digits_);
        mp_interval::default_precision(interval_digits_);
    }
    mp_precision_guard(const mp_precision_guard&) = delete;
    mp_precision_guard& operator=(const mp_precision_guard&) = delete;

private:
    unsigned real_digits_;
    unsigned interval_digits_;
};

// Unit roundoff u = 2^-p for the hardware types (Higham, ch. 2).
template <class T>
constexpr long double unit_roundoff() {
    return std::ldexp(1.0L, -std::numeric_limits<T>::digits);
}

// The two floating-point types that the black-box interface (and the plug-in ABI) speaks.
enum class precision { f32, f64 };

inline std::string_view to_string(precision p) { return p == precision::f32 ? "f32" : "f64"; }

template <class T>
constexpr precision precision_of() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
    return std::is_same_v<T, float> ? precision::f32 : precision::f64;
}

}  // namespace gradproof
