// The vector exp of the SIMD kernel builds (kernels/simd_exp.hpp), in every build this machine runs,
// against exp correctly rounded from 256-bit MPFR: the relative error bounds derived in the header
// — ≤ 1.025·2^-53 for double results in the normal range (N = 128, AVX2), ≤ 1.19·2^-53 (N = 16,
// AVX-512), ≤ (1 + 2^-28)·2^-24 for float results, half a float subnormal step beyond that — and
// exactly std::exp outside the vector path's domain; and the AVX-512 build's constant table.
#include "kernels/exp_table.hpp"
#include "kernels/kernel_isa.hpp"
#include "support/mpfr_error.hpp"

#include <gtest/gtest.h>
#include <mpfr.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace gradproof;

namespace {

long double exp_error(long double computed, double x) { return test_support::mpfr_error(computed, x, mpfr_exp); }

// Arguments: uniform over the whole nonpositive range, log-uniform small magnitudes, the domain
// edges and the values that leave the vector path.
std::vector<double> arguments(double lowest) {
    std::mt19937_64 rng(20261127);
    std::uniform_real_distribution<double> wide(lowest, 0.0), expo(-40.0, 3.0);
    std::vector<double> x;
    for (int i = 0; i < 100000; ++i) x.push_back(wide(rng));
    for (int i = 0; i < 50000; ++i) x.push_back(-std::pow(10.0, expo(rng)));
    for (double v : {0.0, -0.0, -1e-300, -std::numeric_limits<double>::denorm_min(), -0.5, -1.0, -std::log(2.0),
                     -708.39, -708.3964, -708.4, -709.0, -744.4, -745.2, -746.0, -1e10,
                     -std::numeric_limits<double>::infinity(), 0.5, 700.0, 710.0})
        x.push_back(v);
    return x;
}

class simd_exp_build : public ::testing::TestWithParam<kernel_isa> {};

TEST_P(simd_exp_build, double_exp_is_within_its_derived_bound_and_std_exp_outside_the_vector_domain) {
    if (!kernel_isa_available(GetParam()) || GetParam() == kernel_isa::portable) GTEST_SKIP();
    set_kernel_isa(GetParam());
    const auto x = arguments(-745.5);
    std::vector<double> out(x.size());
    ASSERT_TRUE(detail::run_accelerated_exp(x.data(), out.data(), static_cast<std::int64_t>(x.size())));
    reset_kernel_isa();
    const long double u = std::ldexp(1.0L, -53);
    // The bounds derived in kernels/simd_exp.hpp for each build's table size.
    const long double bound = GetParam() == kernel_isa::avx512 ? 1.19L : 1.025L;
    long double worst = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (x[i] >= -708.39 && x[i] <= 0) {
            const long double rel = exp_error(out[i], x[i]) / std::exp(static_cast<long double>(x[i]));
            worst = std::max(worst, rel / u);
            ASSERT_LE(rel, bound * u) << "x = " << x[i];
        } else {
            const double want = std::exp(x[i]);
            if (std::isnan(want)) ASSERT_TRUE(std::isnan(out[i])) << "x = " << x[i];
            else ASSERT_EQ(out[i], want) << "x = " << x[i];
        }
    }
    RecordProperty("worst_relative_error_in_u", std::to_string(static_cast<double>(worst)));
}

TEST_P(simd_exp_build, float_exp_is_one_rounding_from_the_double_result) {
    if (!kernel_isa_available(GetParam()) || GetParam() == kernel_isa::portable) GTEST_SKIP();
    set_kernel_isa(GetParam());
    std::vector<float> x;
    for (double v : arguments(-110.0)) x.push_back(static_cast<float>(v));
    x.push_back(std::numeric_limits<float>::quiet_NaN());
    std::vector<float> out(x.size());
    ASSERT_TRUE(detail::run_accelerated_exp(x.data(), out.data(), static_cast<std::int64_t>(x.size())));
    reset_kernel_isa();
    const long double u = std::ldexp(1.0L, -24), half_subnormal_step = std::ldexp(1.0L, -150);
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (std::isnan(x[i])) {
            ASSERT_TRUE(std::isnan(out[i]));
            continue;
        }
        if (x[i] > 0) continue;  // outside the use; exp through std::exp in double, then rounded
        const long double exact = std::exp(static_cast<long double>(x[i]));
        const long double err = exp_error(out[i], x[i]);
        if (exact >= std::numeric_limits<float>::min())
            ASSERT_LE(err, (1 + std::ldexp(1.0L, -28)) * u * exact) << "x = " << x[i];
        else
            ASSERT_LE(err, half_subnormal_step + std::ldexp(1.0L, -52) * exact) << "x = " << x[i];
    }
}

INSTANTIATE_TEST_SUITE_P(builds, simd_exp_build, ::testing::Values(kernel_isa::avx2, kernel_isa::avx512),
                         [](const auto& info) { return std::string(kernel_isa_name(info.param)); });

TEST(simd_exp, the_sixteenths_table_is_two_to_the_j_over_16_rounded_to_a_double_double) {
    mpfr_t t, rest;
    mpfr_inits2(300, t, rest, static_cast<mpfr_ptr>(nullptr));
    for (int j = 0; j < 16; ++j) {
        mpfr_set_si(t, j, MPFR_RNDN);
        mpfr_div_si(t, t, 16, MPFR_RNDN);  // exact
        mpfr_exp2(t, t, MPFR_RNDN);
        const double hi = mpfr_get_d(t, MPFR_RNDN);
        mpfr_sub_d(rest, t, hi, MPFR_RNDN);
        EXPECT_EQ(detail::exp_sixteenths::hi[j], hi) << "j = " << j;
        EXPECT_EQ(detail::exp_sixteenths::lo[j], mpfr_get_d(rest, MPFR_RNDN)) << "j = " << j;
    }
    mpfr_clears(t, rest, static_cast<mpfr_ptr>(nullptr));
}

TEST(simd_exp, the_portable_build_has_no_vector_exp) {
    set_kernel_isa(kernel_isa::portable);
    double x = -1, out = 0;
    EXPECT_FALSE(detail::run_accelerated_exp(&x, &out, 1));
    reset_kernel_isa();
}

}  // namespace
