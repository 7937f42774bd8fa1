// Which instruction-set build of the fused loss kernel runs (runtime dispatch).
//
// gradproof is built with the compiler's portable x86-64 flags (SSE2 Eigen) so that one binary runs
// on every machine. The fused softmax_loss kernel (kernels/fused_loss.hpp; for few classes the
// register tiles of kernels/narrow_loss_avx2.hpp, for many kernels/wide_loss.hpp, for small problems
// kernels/small_loss_avx2.hpp; the vector exp of kernels/simd_exp.hpp) and the GEMM of `gradproof bench`'s flop bound are
// also compiled into two shared libraries, libgradproof_kernels_avx2 (-mavx2 -mfma) and
// libgradproof_kernels_avx512 (the x86-64-v4 set: AVX-512 F/VL/DQ/BW), both from
// kernels/kernels_simd.cpp, and called there when the CPU has the instructions. Separate libraries,
// not more objects in the same link: Eigen's inline functions compiled with other flags would be
// the same symbols (an ODR violation), and the linker could hand AVX code to the portable path;
// each library's version script exports only its entry points, so its copies stay private.
//
// Selection: set_kernel_isa(), else the environment variable GRADPROOF_ISA (read once:
// "portable", "avx2", "avx512" or "auto"; unset, empty, unknown or unavailable means "auto"), else
// the best available. Results differ between builds only by rounding (FMA contracts a·b + c into
// one rounding, and the sums are grouped differently); every build is within the same error bounds
// (error/tolerance.hpp), and each build on its own is bitwise deterministic for every thread count.
#pragma once

#include "core/matrix.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace gradproof {

enum class kernel_isa { portable, avx2, avx512 };

// "portable", "avx2" or "avx512".
std::string_view kernel_isa_name(kernel_isa isa);
// The ISA named by `name` ("portable", "avx2", "avx512"), or nothing.
std::optional<kernel_isa> parse_kernel_isa(std::string_view name);
// Built into this binary and supported by this CPU.
bool kernel_isa_available(kernel_isa isa);
// The build used now.
kernel_isa active_kernel_isa();
// Selects a build for the whole process; throws std::invalid_argument naming `isa` when it is not
// available. reset_kernel_isa() returns to GRADPROOF_ISA or the best available.
void set_kernel_isa(kernel_isa isa);
void reset_kernel_isa();

namespace detail {

// Runs the fused loss kernel (kernels/fused_loss.hpp) of the selected accelerated build into dS and dW
// (already sized) and sets the data term mean_i ℓ_i and fl(ΣW²), returning true; or returns false
// when the portable build is selected.
bool run_accelerated_fused_loss(const matrix<double>& W, const matrix<double>& X, const label_vector& y,
                                double reg, matrix<double>& dS, matrix<double>& dW, double& data_loss,
                                double& w_sumsq);
bool run_accelerated_fused_loss(const matrix<float>& W, const matrix<float>& X, const label_vector& y, float reg,
                                matrix<float>& dS, matrix<float>& dW, float& data_loss, float& w_sumsq);

// c = a·b for row-major a (m×k), b (k×p), c (m×p) with row strides lda, ldb, ldc, by the selected
// accelerated build's Eigen GEMM, or false when the portable build is selected (the caller then
// uses its own Eigen).
bool run_accelerated_gemm(const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double* c,
                          std::int64_t ldc, std::int64_t m, std::int64_t k, std::int64_t p);
bool run_accelerated_gemm(const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float* c,
                          std::int64_t ldc, std::int64_t m, std::int64_t k, std::int64_t p);

// out[i] = exp(x[i]) by the selected accelerated build's vector exp (kernels/simd_exp.hpp, the one its
// kernels use for the softmax weights), or false when the portable build is selected.
bool run_accelerated_exp(const double* x, double* out, std::int64_t n);
bool run_accelerated_exp(const float* x, float* out, std::int64_t n);

// out[i] = log1p(x[i]) by the selected accelerated build's vector log1p (kernels/simd_log1p.hpp, the
// small-problem kernel's), or false when the portable build is selected.
bool run_accelerated_log1p(const double* x, double* out, std::int64_t n);
bool run_accelerated_log1p(const float* x, float* out, std::int64_t n);

}  // namespace detail
}  // namespace gradproof
