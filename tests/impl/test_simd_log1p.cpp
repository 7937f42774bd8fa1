// The vector log1p of the SIMD kernel builds (kernels/simd_log1p.hpp), in every build this machine
// runs, against log1p correctly rounded from 256-bit MPFR: the relative error bound derived in the
// header — ≤ 1.03·2^-53 for double — and ≤ (1 + 2^-28)·2^-24 for float (half a subnormal step where
// the result is subnormal); ±0 kept, std::log1p outside the vector path's domain. Also the two
// claims the header's analysis rests on: every c_j has 8 significant bits and keeps |r| small.
#include "kernels/kernel_isa.hpp"
#include "kernels/log1p_table.hpp"
#include "support/mpfr_error.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace gradproof;

namespace {

long double log1p_error(long double computed, double x) {
    return test_support::mpfr_error(computed, x, mpfr_log1p);
}

TEST(log1p_table, reciprocals_have_eight_bits_and_keep_the_reduced_argument_small) {
    const auto& t = detail::log1p_table::get();
    EXPECT_EQ(t.inv[0], 1.0);
    EXPECT_EQ(t.log_hi[0], 0.0);
    EXPECT_EQ(t.log_lo[0], 0.0);
    for (int j = 0; j < detail::log1p_table::size; ++j) {
        const auto uj = static_cast<std::size_t>(j);
        const double c = t.inv[uj];
        ASSERT_EQ(c * 256, std::floor(c * 256)) << "j = " << j;  // a multiple of 2^-8 in [1/2, 1]
        ASSERT_GE(c, 0.5);
        ASSERT_LE(c, 1.0);
        // |m·c − 1| is largest at an end of the interval [1 + j/128, 1 + (j+1)/128) (exact products).
        const double left = 1.0 + j / 128.0, right = left + 1.0 / 128;
        const double r = std::max(std::fabs(left * c - 1), std::fabs(right * c - 1));
        if (j == 0) ASSERT_LE(r, std::ldexp(1.0, -7));  // reached only at the open end
        else ASSERT_LE(r, 0.00559) << "j = " << j;
        // −log c_j to double-double accuracy.
        const long double l = -logl(static_cast<long double>(c));
        ASSERT_LE(std::fabs(static_cast<long double>(t.log_hi[uj]) + t.log_lo[uj] - l), std::ldexp(1.0L, -62) * l);
    }
}

// Arguments: uniform over the range the loss uses (s ≤ C − 1), log-uniform over the whole double
// range, the edges of the direct path and of the table's intervals, and the values that leave
// the vector path.
std::vector<double> arguments() {
    std::mt19937_64 rng(20261127);
    std::uniform_real_distribution<double> small_c(0.0, 8.0), expo(-320.0, 307.0);
    std::vector<double> x;
    for (int i = 0; i < 60000; ++i) x.push_back(small_c(rng));
    for (int i = 0; i < 60000; ++i) x.push_back(std::pow(10.0, expo(rng)));
    auto around = [&x](double v) {
        double a = v, b = v;
        for (int i = 0; i < 8; ++i) {
            x.push_back(a);
            x.push_back(b);
            a = std::nextafter(a, 0.0);
            b = std::nextafter(b, 1e308);
        }
    };
    around(std::ldexp(1.0, -7));         // the direct path's edge
    around(std::ldexp(1.0, -52));        // 1 + s leaves 1
    around(std::ldexp(1.0, -53));
    around(std::ldexp(3.0, -53));
    for (int j = 1; j <= 128; ++j) around(j / 128.0);                        // interval ends, k = 0
    for (int e = 1; e < 1022; e += 37) around(std::ldexp(1.0, e) - 1);       // hi at a power of two
    around(std::ldexp(1.0, 1022));                                           // the domain's end
    for (double v : {0.0, -0.0, std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::min(), 1e-300,
                     0.5, 1.0, 3.0, 7.0, -1e-300, -0.5, -1.0, -2.0, std::numeric_limits<double>::max(),
                     std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::quiet_NaN()})
        x.push_back(v);
    return x;
}

bool in_vector_domain(double s) { return s >= 0 && s < std::ldexp(1.0, 1022); }

class simd_log1p_build : public ::testing::TestWithParam<kernel_isa> {};

TEST_P(simd_log1p_build, double_log1p_is_within_its_derived_bound_and_std_log1p_outside_the_vector_domain) {
    if (!kernel_isa_available(GetParam()) || GetParam() == kernel_isa::portable) GTEST_SKIP();
    set_kernel_isa(GetParam());
    const auto x = arguments();
    std::vector<double> out(x.size());
    ASSERT_TRUE(detail::run_accelerated_log1p(x.data(), out.data(), static_cast<std::int64_t>(x.size())));
    reset_kernel_isa();
    const long double u = std::ldexp(1.0L, -53);
    long double worst = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (x[i] == 0) {
            ASSERT_EQ(out[i], 0.0);
            ASSERT_EQ(std::signbit(out[i]), std::signbit(x[i]));
        } else if (in_vector_domain(x[i])) {
            const long double rel = log1p_error(out[i], x[i]) / log1pl(static_cast<long double>(x[i]));
            worst = std::max(worst, rel / u);
            ASSERT_LE(rel, 1.03L * u) << "s = " << x[i];
        } else {
            const double want = std::log1p(x[i]);
            if (std::isnan(want)) ASSERT_TRUE(std::isnan(out[i])) << "s = " << x[i];
            else ASSERT_EQ(out[i], want) << "s = " << x[i];
        }
    }
    RecordProperty("worst_relative_error_in_u", std::to_string(static_cast<double>(worst)));
}

TEST_P(simd_log1p_build, float_log1p_is_one_rounding_from_the_double_result) {
    if (!kernel_isa_available(GetParam()) || GetParam() == kernel_isa::portable) GTEST_SKIP();
    set_kernel_isa(GetParam());
    std::vector<float> x;
    for (double v : arguments())
        if (std::isnan(v) || std::fabs(v) <= std::numeric_limits<float>::max()) x.push_back(static_cast<float>(v));
    std::vector<float> out(x.size());
    ASSERT_TRUE(detail::run_accelerated_log1p(x.data(), out.data(), static_cast<std::int64_t>(x.size())));
    reset_kernel_isa();
    const long double u = std::ldexp(1.0L, -24), half_subnormal_step = std::ldexp(1.0L, -150);
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (std::isnan(x[i]) || x[i] <= -1) {
            ASSERT_EQ(std::isnan(out[i]), std::isnan(std::log1p(x[i]))) << "s = " << x[i];
            continue;
        }
        if (x[i] < 0) continue;  // outside the use; std::log1p in double, then rounded
        const long double exact = log1pl(static_cast<long double>(x[i]));
        const long double err = log1p_error(out[i], x[i]);
        if (exact >= std::numeric_limits<float>::min())
            ASSERT_LE(err, (1 + std::ldexp(1.0L, -28)) * u * exact) << "s = " << x[i];
        else
            ASSERT_LE(err, half_subnormal_step + std::ldexp(1.0L, -52) * exact) << "s = " << x[i];
    }
}

INSTANTIATE_TEST_SUITE_P(builds, simd_log1p_build, ::testing::Values(kernel_isa::avx2, kernel_isa::avx512),
                         [](const auto& info) { return std::string(kernel_isa_name(info.param)); });

TEST(simd_log1p, the_portable_build_has_no_vector_log1p) {
    set_kernel_isa(kernel_isa::portable);
    double x = 1, out = 0;
    EXPECT_FALSE(detail::run_accelerated_log1p(&x, &out, 1));
    reset_kernel_isa();
}

}  // namespace
