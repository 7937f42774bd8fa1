#include "impl/kernel_isa.hpp"

#include "impl/fused_loss.hpp"
#include "impl/parallel.hpp"

#if GRADPROOF_HAVE_AVX2_KERNELS
#include "impl/kernels_avx2.hpp"
#endif

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace gradproof {

namespace {

bool cpu_has_avx2_fma() {
#if GRADPROOF_HAVE_AVX2_KERNELS && (defined(__x86_64__) || defined(__i386__))
    // libgcc's check also requires the OS to save the AVX state (XGETBV).
    static const bool value = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return value;
#else
    return false;
#endif
}

kernel_isa best_available() { return cpu_has_avx2_fma() ? kernel_isa::avx2_fma : kernel_isa::portable; }

kernel_isa default_isa() {
    static const kernel_isa value = [] {
        const char* env = std::getenv("GRADPROOF_ISA");
        const auto requested = parse_kernel_isa(env == nullptr ? "" : env);
        // Unknown or unavailable: the best available (an environment variable must not make
        // every call fail).
        return requested && kernel_isa_available(*requested) ? *requested : best_available();
    }();
    return value;
}

// -1: default_isa(); else the kernel_isa value set.
std::atomic<int> selected{-1};

}  // namespace

std::string_view kernel_isa_name(kernel_isa isa) { return isa == kernel_isa::avx2_fma ? "avx2" : "portable"; }

std::optional<kernel_isa> parse_kernel_isa(std::string_view name) {
    if (name == "portable") return kernel_isa::portable;
    if (name == "avx2") return kernel_isa::avx2_fma;
    return std::nullopt;
}

bool kernel_isa_available(kernel_isa isa) { return isa == kernel_isa::portable || cpu_has_avx2_fma(); }

kernel_isa active_kernel_isa() {
    const int s = selected.load(std::memory_order_relaxed);
    return s < 0 ? default_isa() : static_cast<kernel_isa>(s);
}

void set_kernel_isa(kernel_isa isa) {
    if (!kernel_isa_available(isa))
        throw std::invalid_argument("isa: " + std::string(kernel_isa_name(isa)) +
                                    " is not available (this CPU lacks AVX2/FMA or the build has no AVX2 kernels)");
    selected.store(static_cast<int>(isa), std::memory_order_relaxed);
}

void reset_kernel_isa() { selected.store(-1, std::memory_order_relaxed); }

namespace detail {

#if GRADPROOF_HAVE_AVX2_KERNELS

bool run_accelerated_fused_loss(const matrix<double>& W, const matrix<double>& X, const label_vector& y,
                                double reg, loss_result<double>& r) {
    if (active_kernel_isa() != kernel_isa::avx2_fma) return false;
    const fused_context ctx = portable_fused_context();
    r.loss = gradproof_avx2_fused_loss_f64(W.data(), X.data(), y.data(), X.rows(), X.cols(), W.cols(), reg,
                                           r.dS.data(), r.dW.data(), &ctx);
    return true;
}

bool run_accelerated_fused_loss(const matrix<float>& W, const matrix<float>& X, const label_vector& y, float reg,
                                loss_result<float>& r) {
    if (active_kernel_isa() != kernel_isa::avx2_fma) return false;
    const fused_context ctx = portable_fused_context();
    r.loss = gradproof_avx2_fused_loss_f32(W.data(), X.data(), y.data(), X.rows(), X.cols(), W.cols(), reg,
                                           r.dS.data(), r.dW.data(), &ctx);
    return true;
}

bool run_accelerated_gemm(const double* a, const double* b, double* c, std::int64_t n) {
    if (active_kernel_isa() != kernel_isa::avx2_fma) return false;
    gradproof_avx2_gemm_f64(a, b, c, n);
    return true;
}

bool run_accelerated_gemm(const float* a, const float* b, float* c, std::int64_t n) {
    if (active_kernel_isa() != kernel_isa::avx2_fma) return false;
    gradproof_avx2_gemm_f32(a, b, c, n);
    return true;
}

#else

bool run_accelerated_fused_loss(const matrix<double>&, const matrix<double>&, const label_vector&, double,
                                loss_result<double>&) {
    return false;
}
bool run_accelerated_fused_loss(const matrix<float>&, const matrix<float>&, const label_vector&, float,
                                loss_result<float>&) {
    return false;
}
bool run_accelerated_gemm(const double*, const double*, double*, std::int64_t) { return false; }
bool run_accelerated_gemm(const float*, const float*, float*, std::int64_t) { return false; }

#endif

}  // namespace detail
}  // namespace gradproof
