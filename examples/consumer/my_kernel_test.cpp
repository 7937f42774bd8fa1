// A user's kernel tested with an installed gradproof: only <gradproof/...> headers and the
// standard library are included (no Eigen, Boost or MPFR in this translation unit).
#include <gradproof/gtest.hpp>
#include <gradproof/testing.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

namespace my {

// Mean cross-entropy with its gradient, from the shifted log-sum-exp.
template <class T>
int cross_entropy(const T* z, const std::int32_t* y, std::int64_t n, std::int64_t c, T* loss, T* dz) {
    if (n <= 0 || c <= 0) return 1;
    for (std::int64_t i = 0; i < n; ++i)
        if (y[i] < 0 || y[i] >= c) return 2;
    T total = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        const T* row = z + i * c;
        T a = row[0];
        for (std::int64_t j = 0; j < c; ++j) a = row[j] > a ? row[j] : a;
        T s = 0;
        for (std::int64_t j = 0; j < c; ++j) s += std::exp(row[j] - a);
        total += (a - row[y[i]]) + std::log(s);
        for (std::int64_t j = 0; j < c; ++j) {
            const T p = std::exp(row[j] - a) / s;
            dz[i * c + j] = ((j == y[i]) ? p - 1 : p) / static_cast<T>(n);
        }
    }
    *loss = total / static_cast<T>(n);
    return 0;
}

gradproof::testing::implementation implementation() {
    return gradproof::testing::implementation("consumer_kernel")
        .cross_entropy<double>(cross_entropy<double>)
        .cross_entropy<float>(cross_entropy<float>);
}

}  // namespace my

// Every applicable catalog property becomes a test, e.g. consumer_kernel_f64.cross_entropy_matches_the_reference.
GRADPROOF_REGISTER_CATALOG(my::implementation());

// The same kernel through run_catalog: plain results a test can inspect.
TEST(consumer, run_catalog_passes_at_ordinary_inputs) {
    gradproof::testing::run_options o;
    o.cases = 20;
    o.domain = "ordinary";
    o.precisions = {"f64"};
    o.fail_on = {"wrong", "accuracy", "crash"};
    const auto r = gradproof::testing::run_catalog(my::implementation(), o);
    EXPECT_TRUE(r.passed) << r.headline;
    EXPECT_FALSE(r.properties.empty());
    if (!r.passed)
        for (const auto& f : r.findings) ADD_FAILURE() << f.finding_class << ": " << f.summary << "\n" << f.reproduce;
}
