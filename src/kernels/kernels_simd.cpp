// The SIMD kernel libraries: the fused loss kernel and Eigen's GEMM compiled with wider vector
// instructions than the portable build (see kernels/kernel_isa.hpp for why each is a library of its
// own), the register-tiled kernels for few classes (kernels/narrow_loss_avx2.hpp) and for many
// (kernels/wide_loss.hpp), the one-vector-a-row kernel for small problems (kernels/small_loss_avx2.hpp),
// the vector exp (kernels/simd_exp.hpp) and log1p (kernels/simd_log1p.hpp). Built twice:
// GRADPROOF_KERNEL_ISA=avx2 with -mavx2 -mfma, and =avx512 with the x86-64-v4 set (AVX-512
// F/VL/DQ/BW), where Eigen uses 512-bit packets and the tiles get 32 vector registers. Nothing here
// calls into gradproof::core: threads come in through the fused_context.
#include "kernels/kernels_simd.hpp"

#include "kernels/fused_loss.hpp"
#include "kernels/narrow_loss_avx2.hpp"
#include "kernels/simd_exp.hpp"
#include "kernels/simd_log1p.hpp"
#include "kernels/small_loss_avx2.hpp"
#include "kernels/wide_loss.hpp"

#include <Eigen/Core>

#include <algorithm>

#if !defined(__AVX2__) || !defined(__FMA__)
#error "kernels/kernels_simd.cpp must be compiled with at least -mavx2 -mfma"
#endif

#define GRADPROOF_KERNEL_NAME2(isa, name) gradproof_##isa##_##name
#define GRADPROOF_KERNEL_NAME(isa, name) GRADPROOF_KERNEL_NAME2(isa, name)
#define GRADPROOF_KERNEL(name) GRADPROOF_KERNEL_NAME(GRADPROOF_KERNEL_ISA, name)

namespace {

template <class T>
T fused_loss(const T* W, const T* X, const std::int32_t* y, std::int64_t n, std::int64_t d, std::int64_t c, T reg,
             T* dS, T* dW, T* w_sumsq, const gradproof::detail::fused_context* ctx) {
    using gradproof::matrix;
    namespace detail = gradproof::detail;
    detail::fused_sums<T> r;
    if (detail::small_loss_applies<T>(n, d, c)) {
        r = detail::small_softmax_loss<T>(W, X, y, n, d, c, reg, dS, dW);
    } else if (n >= 2 * c && c <= detail::narrow_params::max_classes) {
        r = detail::narrow_softmax_loss<T>(W, X, y, n, d, c, reg, dS, dW, *ctx);
    } else if (n < 2 * c) {
        r = detail::wide_softmax_loss<T>(W, X, y, n, d, c, reg, dS, dW, *ctx);
    } else {
        const Eigen::Map<const matrix<T>> w(W, d, c), x(X, n, d);
        Eigen::Map<matrix<T>> ds(dS, n, c), dw(dW, d, c);
        r = detail::fused_softmax_loss_into<T>(w, x, y, reg, ds, dw, *ctx);
    }
    *w_sumsq = r.w_sumsq;
    return r.data_loss;
}

template <class T>
void gemm(const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T* c, std::int64_t ldc, std::int64_t m,
          std::int64_t k, std::int64_t p) {
    using M = gradproof::matrix<T>;
    using S = Eigen::OuterStride<>;
    Eigen::Map<M, 0, S>(c, m, p, S(ldc)).noalias() =
        Eigen::Map<const M, 0, S>(a, m, k, S(lda)) * Eigen::Map<const M, 0, S>(b, k, p, S(ldb));
}

// out = f(x) by one of the in-place vector functions.
template <class T, class F>
void copy_then(const T* x, T* out, std::int64_t n, F inplace) {
    std::copy(x, x + n, out);
    inplace(out, n);
}

struct exp_inplace {
    template <class T>
    void operator()(T* v, std::int64_t n) const { gradproof::detail::exp_nonpositive_inplace(v, n); }
};

struct log1p_inplace {
    template <class T>
    void operator()(T* v, std::int64_t n) const { gradproof::detail::log1p_nonnegative_inplace(v, n); }
};

}  // namespace

extern "C" {

double GRADPROOF_KERNEL(fused_loss_f64)(const double* W, const double* X, const std::int32_t* y, std::int64_t n,
                                        std::int64_t d, std::int64_t c, double reg, double* dS, double* dW,
                                        double* w_sumsq, const gradproof::detail::fused_context* ctx) {
    return fused_loss(W, X, y, n, d, c, reg, dS, dW, w_sumsq, ctx);
}

float GRADPROOF_KERNEL(fused_loss_f32)(const float* W, const float* X, const std::int32_t* y, std::int64_t n,
                                       std::int64_t d, std::int64_t c, float reg, float* dS, float* dW,
                                       float* w_sumsq, const gradproof::detail::fused_context* ctx) {
    return fused_loss(W, X, y, n, d, c, reg, dS, dW, w_sumsq, ctx);
}

void GRADPROOF_KERNEL(gemm_f64)(const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double* c,
                                std::int64_t ldc, std::int64_t m, std::int64_t k, std::int64_t p) {
    gemm(a, lda, b, ldb, c, ldc, m, k, p);
}
void GRADPROOF_KERNEL(gemm_f32)(const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float* c,
                                std::int64_t ldc, std::int64_t m, std::int64_t k, std::int64_t p) {
    gemm(a, lda, b, ldb, c, ldc, m, k, p);
}

void GRADPROOF_KERNEL(exp_f64)(const double* x, double* out, std::int64_t n) { copy_then(x, out, n, exp_inplace{}); }
void GRADPROOF_KERNEL(exp_f32)(const float* x, float* out, std::int64_t n) { copy_then(x, out, n, exp_inplace{}); }
void GRADPROOF_KERNEL(log1p_f64)(const double* x, double* out, std::int64_t n) { copy_then(x, out, n, log1p_inplace{}); }
void GRADPROOF_KERNEL(log1p_f32)(const float* x, float* out, std::int64_t n) { copy_then(x, out, n, log1p_inplace{}); }
}
