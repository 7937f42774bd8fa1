// Entry points of libgradproof_kernels_avx2 (impl/kernels_avx2.cpp, compiled with -mavx2 -mfma):
// the only symbols the library exports (impl/kernels_avx2.map). Call them only when the CPU has
// AVX2 and FMA (impl/kernel_isa.cpp checks).
#pragma once

#include <cstdint>

namespace gradproof::detail {
struct fused_context;
}

// The library is compiled with hidden visibility; its entry points are the exception.
#define GRADPROOF_AVX2_EXPORT __attribute__((visibility("default")))

extern "C" {

// fused_softmax_loss_into on row-major W (d×c), X (n×d) and labels y (n), into dS (n×c) and dW (d×c);
// returns L. Inputs validated by the caller.
GRADPROOF_AVX2_EXPORT double gradproof_avx2_fused_loss_f64(const double* W, const double* X, const std::int32_t* y, std::int64_t n,
                                     std::int64_t d, std::int64_t c, double reg, double* dS, double* dW,
                                     const gradproof::detail::fused_context* ctx);
GRADPROOF_AVX2_EXPORT float gradproof_avx2_fused_loss_f32(const float* W, const float* X, const std::int32_t* y, std::int64_t n,
                                    std::int64_t d, std::int64_t c, float reg, float* dS, float* dW,
                                    const gradproof::detail::fused_context* ctx);

// c = a·b, column-major n×n, Eigen's GEMM of this build on the calling thread.
GRADPROOF_AVX2_EXPORT void gradproof_avx2_gemm_f64(const double* a, const double* b, double* c, std::int64_t n);
GRADPROOF_AVX2_EXPORT void gradproof_avx2_gemm_f32(const float* a, const float* b, float* c, std::int64_t n);
}
