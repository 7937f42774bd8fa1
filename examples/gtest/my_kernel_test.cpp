// How a C++ user tests their own softmax kernel with gradproof inside their GoogleTest suite:
// no shared library, one registration per implementation. Link gradproof::gtest and
// GTest::gtest_main; every applicable catalog property becomes a test such as
// my_kernel_f64.softmax_matches_the_reference.
#include <gradproof/gtest.hpp>

#include <cmath>
#include <cstdint>

namespace my {

// The kernel under test: a row-wise softmax with the usual max shift.
template <class T>
int softmax(const T* z, std::int64_t n, std::int64_t c, T* p) {
    if (n < 0 || c <= 0) return 1;
    for (std::int64_t i = 0; i < n; ++i) {
        const T* row = z + i * c;
        T a = row[0];
        bool bad = false;
        for (std::int64_t j = 0; j < c; ++j) {
            bad = bad || std::isnan(row[j]) || row[j] == INFINITY;
            a = row[j] > a ? row[j] : a;
        }
        if (bad || a == -INFINITY) {
            for (std::int64_t j = 0; j < c; ++j) p[i * c + j] = NAN;
            continue;
        }
        T s = 0;
        for (std::int64_t j = 0; j < c; ++j) s += std::exp(row[j] - a);
        for (std::int64_t j = 0; j < c; ++j) p[i * c + j] = std::exp(row[j] - a) / s;
    }
    return 0;
}

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

}  // namespace my

GRADPROOF_REGISTER_CATALOG(gradproof::testing::implementation("my_kernel")
                               .softmax<double>(my::softmax<double>)
                               .softmax<float>(my::softmax<float>)
                               .cross_entropy<double>(my::cross_entropy<double>)
                               .build());
