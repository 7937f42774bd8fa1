// The line between rounding and wrong mathematics for black-box failures: half the storage's
// digits, by the bound (1/√u of it) or by the exact value (√u of it).
#include "runner/rapidcheck_adapter.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using gradproof::detail::beyond_half_the_digits;

TEST(beyond_half_the_digits, bf16_keeps_1_2_of_its_2_4_digits) {
    const long double u = 0x1p-8L;  // bf16: 1/√u = 16 bounds, √u = 6.25 %
    EXPECT_TRUE(beyond_half_the_digits(21, 0.07L, u));    // 7 % off and 21 bounds: more than half the digits lost
    EXPECT_FALSE(beyond_half_the_digits(21, 0.05L, u));   // 21 bounds, but 5 %: the bound is below an ulp
    EXPECT_FALSE(beyond_half_the_digits(10, 0.5L, u));    // 50 % of an element whose bound is wide (cancellation)
    EXPECT_TRUE(beyond_half_the_digits(17, std::numeric_limits<long double>::infinity(), u));  // an exact 0 missed
    EXPECT_TRUE(beyond_half_the_digits(17, -1, u));       // no relative error known: the bound decides
}

TEST(beyond_half_the_digits, double_keeps_half_of_its_16_digits) {
    const long double u = 0x1p-53L;  // 1/√u ≈ 9.5e7, √u ≈ 1.05e-8
    EXPECT_TRUE(beyond_half_the_digits(1e9L, 1e-7L, u));
    EXPECT_FALSE(beyond_half_the_digits(1e9L, 1e-9L, u));
    EXPECT_FALSE(beyond_half_the_digits(1e7L, 1e-3L, u));
}
