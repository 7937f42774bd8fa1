// bfloat16 and IEEE binary16 (f16) storage: conversions between their bit patterns (uint16_t, as
// in the plug-in ABI) and float.
//
// Widening is exact: every bf16 and f16 value is a float. Narrowing rounds to nearest, ties to
// even, with gradual underflow (f16 subnormals down to 2^-24), overflow to ±inf and NaN kept NaN
// (quiet). bf16 is the top half of a binary32 (8 exponent bits, 8 significant bits: u = 2^-8);
// f16 has 5 exponent bits and 11 significant bits (u = 2^-11, largest finite 65504,
// smallest normal 2^-14). IEEE 754-2019 §3.6; Intel, "BFLOAT16 – Hardware Numerics Definition"
// (2018) for bf16 rounding.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace gradproof {

enum class half_format { bf16, f16 };

inline const char* to_string(half_format f) { return f == half_format::bf16 ? "bf16" : "f16"; }

// Facts used by the error analysis (error/cross_entropy_tolerance.hpp).
struct half_facts {
    long double unit_roundoff;   // 2^-8 (bf16), 2^-11 (f16)
    long double min_normal;      // 2^-126, 2^-14
    long double underflow_step;  // spacing of the subnormals: 2^-133, 2^-24
    long double max_finite;      // ≈ 3.39e38, 65504
};
inline half_facts facts_of(half_format f) {
    if (f == half_format::bf16)
        return {std::ldexp(1.0L, -8), std::ldexp(1.0L, -126), std::ldexp(1.0L, -133),
                std::ldexp(255.0L, 120)};
    return {std::ldexp(1.0L, -11), std::ldexp(1.0L, -14), std::ldexp(1.0L, -24), 65504.0L};
}

inline float bf16_to_float(std::uint16_t h) { return std::bit_cast<float>(std::uint32_t{h} << 16); }

inline std::uint16_t float_to_bf16(float x) {
    std::uint32_t b = std::bit_cast<std::uint32_t>(x);
    if (std::isnan(x)) return static_cast<std::uint16_t>((b >> 16) | 0x0040u);  // stays a quiet NaN
    b += 0x7fffu + ((b >> 16) & 1u);                                            // nearest, ties to even
    return static_cast<std::uint16_t>(b >> 16);
}

inline float f16_to_float(std::uint16_t h) {
    const std::uint32_t sign = (std::uint32_t{h} & 0x8000u) << 16;
    const int exp = (h >> 10) & 0x1f;
    const std::uint32_t man = h & 0x3ffu;
    float mag;
    if (exp == 0) mag = std::ldexp(static_cast<float>(man), -24);
    else if (exp == 31) mag = man ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
    else mag = std::ldexp(static_cast<float>(man | 0x400u), exp - 25);
    return std::bit_cast<float>(std::bit_cast<std::uint32_t>(mag) | sign);
}

inline std::uint16_t float_to_f16(float x) {
    const std::uint16_t sign = std::signbit(x) ? 0x8000u : 0;
    if (std::isnan(x)) return 0x7e00u | sign;
    const float a = std::fabs(x);
    // Values at or above 65520 (the midpoint between 65504 and 2^16) round to infinity.
    if (a >= 65520.0f) return sign | 0x7c00u;
    if (a < std::ldexp(1.0f, -14)) {
        // Subnormal range: a multiple of 2^-24, rounded to nearest-even by the float arithmetic
        // (a·2^24 is exact in float, nearbyint rounds ties to even in the default mode).
        const float q = std::nearbyint(a * 16777216.0f);
        return static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(q));  // q = 1024 is the smallest normal
    }
    int e;
    const float m = std::frexp(a, &e);                      // a = m·2^e, m in [0.5, 1)
    float q = std::nearbyint(std::ldexp(m, 11));            // 11 significant bits, ties to even
    if (q == 2048.0f) { q = 1024.0f; ++e; }
    const std::uint32_t biased = static_cast<std::uint32_t>(e - 1 + 15);
    if (biased >= 31) return sign | 0x7c00u;
    return static_cast<std::uint16_t>(sign | (biased << 10) | (static_cast<std::uint32_t>(q) - 1024u));
}

inline float half_to_float(half_format f, std::uint16_t h) { return f == half_format::bf16 ? bf16_to_float(h) : f16_to_float(h); }
inline std::uint16_t float_to_half(half_format f, float x) { return f == half_format::bf16 ? float_to_bf16(x) : float_to_f16(x); }
// x rounded to the format and widened back (exact in float).
inline float round_to_half(half_format f, float x) { return half_to_float(f, float_to_half(f, x)); }

}  // namespace gradproof
