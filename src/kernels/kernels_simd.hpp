// Entry points of the SIMD kernel libraries libgradproof_kernels_avx2 and
// libgradproof_kernels_avx512, both built from kernels/kernels_simd.cpp with different flags (see
// kernels/kernel_isa.hpp): the only symbols they export (kernels/kernels_simd.map). Call one only when
// the CPU has its instruction set (kernels/kernel_isa.cpp checks).
#pragma once

#include <cstdint>

namespace gradproof::detail {
struct fused_context;
}

// The libraries are compiled with hidden visibility; their entry points are the exception.
#define GRADPROOF_KERNEL_EXPORT __attribute__((visibility("default")))

// For each instruction set `isa`:
//  • gradproof_<isa>_fused_loss_{f64,f32}: fused_softmax_loss_into on row-major W (d×c), X (n×d)
//    and labels y (n), into dS (n×c) and dW (d×c); returns mean_i ℓ_i and stores fl(ΣW²) in
//    *w_sumsq (the caller adds ½·reg·‖W‖²). Shapes and labels validated by the caller.
//  • gradproof_<isa>_gemm_{f64,f32}: c = a·b for row-major a (m×k), b (k×p), c (m×p) with row
//    strides lda, ldb, ldc, Eigen's GEMM of this build on the calling thread (the flop bound of
//    `gradproof bench`, the error-free products of reference/ozaki_product.hpp).
//  • gradproof_<isa>_exp_{f64,f32}: out[i] = exp(x[i]) by the vector exp the kernels use for the
//    softmax weights (kernels/simd_exp.hpp), exported so that its error can be tested.
//  • gradproof_<isa>_log1p_{f64,f32}: out[i] = log1p(x[i]) by the vector log1p of the small-problem
//    kernel (kernels/simd_log1p.hpp), exported for the same reason.
#define GRADPROOF_DECLARE_KERNELS(isa)                                                                              \
    GRADPROOF_KERNEL_EXPORT double gradproof_##isa##_fused_loss_f64(                                                \
        const double* W, const double* X, const std::int32_t* y, std::int64_t n, std::int64_t d, std::int64_t c,   \
        double reg, double* dS, double* dW, double* w_sumsq, const gradproof::detail::fused_context* ctx);         \
    GRADPROOF_KERNEL_EXPORT float gradproof_##isa##_fused_loss_f32(                                                 \
        const float* W, const float* X, const std::int32_t* y, std::int64_t n, std::int64_t d, std::int64_t c,     \
        float reg, float* dS, float* dW, float* w_sumsq, const gradproof::detail::fused_context* ctx);             \
    GRADPROOF_KERNEL_EXPORT void gradproof_##isa##_gemm_f64(const double* a, std::int64_t lda, const double* b,   \
                                                            std::int64_t ldb, double* c, std::int64_t ldc,         \
                                                            std::int64_t m, std::int64_t k, std::int64_t p);       \
    GRADPROOF_KERNEL_EXPORT void gradproof_##isa##_gemm_f32(const float* a, std::int64_t lda, const float* b,     \
                                                            std::int64_t ldb, float* c, std::int64_t ldc,          \
                                                            std::int64_t m, std::int64_t k, std::int64_t p);       \
    GRADPROOF_KERNEL_EXPORT void gradproof_##isa##_exp_f64(const double* x, double* out, std::int64_t n);          \
    GRADPROOF_KERNEL_EXPORT void gradproof_##isa##_exp_f32(const float* x, float* out, std::int64_t n);            \
    GRADPROOF_KERNEL_EXPORT void gradproof_##isa##_log1p_f64(const double* x, double* out, std::int64_t n);        \
    GRADPROOF_KERNEL_EXPORT void gradproof_##isa##_log1p_f32(const float* x, float* out, std::int64_t n);

extern "C" {
GRADPROOF_DECLARE_KERNELS(avx2)
GRADPROOF_DECLARE_KERNELS(avx512)
}
