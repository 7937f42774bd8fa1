#include "core/half.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

namespace gradproof {
namespace {

// Every finite 16-bit pattern widens to a float that narrows back to the same pattern.
TEST(half, every_finite_pattern_round_trips) {
    for (std::uint32_t h = 0; h < 65536; ++h) {
        const auto bits = static_cast<std::uint16_t>(h);
        const float b = bf16_to_float(bits), f = f16_to_float(bits);
        if (!std::isnan(b)) {
            EXPECT_EQ(float_to_bf16(b), bits) << std::hex << h;
        }
        if (!std::isnan(f)) {
            EXPECT_EQ(float_to_f16(f), bits) << std::hex << h;
        }
    }
}

// Narrowing a float gives the nearest value of the format, ties to the even pattern: checked
// against the two neighbours of every midpoint between consecutive positive finite values.
TEST(half, narrowing_rounds_to_nearest_with_ties_to_even) {
    for (half_format fmt : {half_format::bf16, half_format::f16}) {
        for (std::uint32_t h = 0; h + 1 < (fmt == half_format::bf16 ? 0x7f80u : 0x7c00u); ++h) {
            const float lo = half_to_float(fmt, static_cast<std::uint16_t>(h));
            const float hi = half_to_float(fmt, static_cast<std::uint16_t>(h + 1));
            const double mid = (static_cast<double>(lo) + hi) / 2;
            const auto even = static_cast<std::uint16_t>(h % 2 == 0 ? h : h + 1);
            if (static_cast<double>(static_cast<float>(mid)) == mid) {
                ASSERT_EQ(float_to_half(fmt, static_cast<float>(mid)), even) << to_string(fmt) << " tie above " << h;
            }
            const float below = std::nextafter(static_cast<float>(mid), lo), above = std::nextafter(static_cast<float>(mid), hi);
            if (below > lo && static_cast<double>(below) < mid) {
                ASSERT_EQ(float_to_half(fmt, below), h) << to_string(fmt);
            }
            if (above < hi && static_cast<double>(above) > mid) {
                ASSERT_EQ(float_to_half(fmt, above), h + 1) << to_string(fmt);
            }
        }
    }
}

TEST(half, overflow_gives_infinity_and_nan_stays_nan) {
    EXPECT_EQ(float_to_f16(65504.0f), 0x7bffu);
    EXPECT_EQ(float_to_f16(65519.0f), 0x7bffu);     // below the midpoint 65520
    EXPECT_EQ(float_to_f16(65520.0f), 0x7c00u);     // the midpoint rounds to even: infinity
    EXPECT_EQ(float_to_f16(-1e6f), 0xfc00u);
    EXPECT_EQ(float_to_bf16(std::numeric_limits<float>::max()), 0x7f80u);  // above bf16's largest finite
    EXPECT_TRUE(std::isnan(f16_to_float(float_to_f16(std::numeric_limits<float>::quiet_NaN()))));
    EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
    // A signalling-looking NaN whose payload sits in the low half must not become infinity.
    EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(std::bit_cast<float>(0x7f800001u)))));
}

TEST(half, subnormals_and_facts_agree_with_the_formats) {
    EXPECT_EQ(f16_to_float(0x0001), std::ldexp(1.0f, -24));
    EXPECT_EQ(f16_to_float(0x0400), std::ldexp(1.0f, -14));
    EXPECT_EQ(float_to_f16(std::ldexp(1.0f, -25)), 0x0000u);  // a tie between 0 and 2^-24: even is 0
    EXPECT_EQ(float_to_f16(std::ldexp(3.0f, -26)), 0x0001u);
    for (half_format fmt : {half_format::bf16, half_format::f16}) {
        const half_facts f = facts_of(fmt);
        // 1 + u is the midpoint above 1: it rounds to 1 (even); 1 + 2u is the next value.
        EXPECT_EQ(round_to_half(fmt, static_cast<float>(1 + f.unit_roundoff)), 1.0f);
        EXPECT_EQ(round_to_half(fmt, static_cast<float>(1 + 2 * f.unit_roundoff)), static_cast<float>(1 + 2 * f.unit_roundoff));
        EXPECT_EQ(round_to_half(fmt, static_cast<float>(f.max_finite)), static_cast<float>(f.max_finite));
        EXPECT_EQ(round_to_half(fmt, static_cast<float>(f.min_normal)), static_cast<float>(f.min_normal));
        EXPECT_EQ(round_to_half(fmt, static_cast<float>(f.underflow_step)), static_cast<float>(f.underflow_step));
    }
}

}  // namespace
}  // namespace gradproof
