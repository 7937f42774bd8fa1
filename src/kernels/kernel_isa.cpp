#include "kernels/kernel_isa.hpp"

#include "kernels/fused_loss.hpp"
#include "kernels/kernels_simd.hpp"
#include "kernels/parallel.hpp"

#include <array>
#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace gradproof {

namespace {

// The entry points of one SIMD kernel library.
struct kernel_table {
    decltype(&gradproof_avx2_fused_loss_f64) loss_f64;
    decltype(&gradproof_avx2_fused_loss_f32) loss_f32;
    decltype(&gradproof_avx2_gemm_f64) gemm_f64;
    decltype(&gradproof_avx2_gemm_f32) gemm_f32;
    decltype(&gradproof_avx2_exp_f64) exp_f64;
    decltype(&gradproof_avx2_exp_f32) exp_f32;
    decltype(&gradproof_avx2_log1p_f64) log1p_f64;
    decltype(&gradproof_avx2_log1p_f32) log1p_f32;
};

#if GRADPROOF_HAVE_AVX2_KERNELS
constexpr kernel_table avx2_table{&gradproof_avx2_fused_loss_f64, &gradproof_avx2_fused_loss_f32,
                                  &gradproof_avx2_gemm_f64, &gradproof_avx2_gemm_f32,
                                  &gradproof_avx2_exp_f64, &gradproof_avx2_exp_f32,
                                  &gradproof_avx2_log1p_f64, &gradproof_avx2_log1p_f32};
#endif
#if GRADPROOF_HAVE_AVX512_KERNELS
constexpr kernel_table avx512_table{&gradproof_avx512_fused_loss_f64, &gradproof_avx512_fused_loss_f32,
                                    &gradproof_avx512_gemm_f64, &gradproof_avx512_gemm_f32,
                                    &gradproof_avx512_exp_f64, &gradproof_avx512_exp_f32,
                                    &gradproof_avx512_log1p_f64, &gradproof_avx512_log1p_f32};
#endif

// The library of `isa` if it is built in and this CPU runs it (libgcc's checks also require the
// OS to save the AVX/AVX-512 register state), else nullptr.
const kernel_table* detect(kernel_isa isa) {
#if defined(__x86_64__)
    switch (isa) {
        case kernel_isa::avx2:
#if GRADPROOF_HAVE_AVX2_KERNELS
            if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &avx2_table;
#endif
            return nullptr;
        case kernel_isa::avx512:
#if GRADPROOF_HAVE_AVX512_KERNELS
            if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
                __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
                return &avx512_table;
#endif
            return nullptr;
        case kernel_isa::portable: return nullptr;
    }
#endif
    (void)isa;
    return nullptr;
}

// detect() for every kernel_isa, once per process (the portable build has no table).
const kernel_table* table_for(kernel_isa isa) {
    static const std::array<const kernel_table*, 3> tables = {nullptr, detect(kernel_isa::avx2),
                                                             detect(kernel_isa::avx512)};
    return tables[static_cast<std::size_t>(isa)];
}

kernel_isa best_available() {
    for (kernel_isa isa : {kernel_isa::avx512, kernel_isa::avx2})
        if (kernel_isa_available(isa)) return isa;
    return kernel_isa::portable;
}

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

const kernel_table* active_table() { return table_for(active_kernel_isa()); }

}  // namespace

std::string_view kernel_isa_name(kernel_isa isa) {
    switch (isa) {
        case kernel_isa::avx2: return "avx2";
        case kernel_isa::avx512: return "avx512";
        case kernel_isa::portable: break;
    }
    return "portable";
}

std::optional<kernel_isa> parse_kernel_isa(std::string_view name) {
    for (kernel_isa isa : {kernel_isa::portable, kernel_isa::avx2, kernel_isa::avx512})
        if (name == kernel_isa_name(isa)) return isa;
    return std::nullopt;
}

bool kernel_isa_available(kernel_isa isa) { return isa == kernel_isa::portable || table_for(isa) != nullptr; }

kernel_isa active_kernel_isa() {
    const int s = selected.load(std::memory_order_relaxed);
    return s < 0 ? default_isa() : static_cast<kernel_isa>(s);
}

void set_kernel_isa(kernel_isa isa) {
    if (!kernel_isa_available(isa))
        throw std::invalid_argument("isa: " + std::string(kernel_isa_name(isa)) +
                                    " is not available (this CPU lacks the instructions or the build lacks the library)");
    selected.store(static_cast<int>(isa), std::memory_order_relaxed);
}

void reset_kernel_isa() { selected.store(-1, std::memory_order_relaxed); }

namespace detail {

namespace {

template <class T, class F>
bool run_fused(F kernel_table::*entry, const matrix<T>& W, const matrix<T>& X, const label_vector& y, T reg,
               matrix<T>& dS, matrix<T>& dW, T& data_loss, T& w_sumsq) {
    const kernel_table* k = active_table();
    if (k == nullptr) return false;
    const fused_context ctx = portable_fused_context();
    data_loss = (k->*entry)(W.data(), X.data(), y.data(), X.rows(), X.cols(), W.cols(), reg, dS.data(), dW.data(),
                            &w_sumsq, &ctx);
    return true;
}

// Calls the entry point `entry` of the active build with args, or returns false (portable).
template <class F, class... A>
bool run_entry(F kernel_table::*entry, A... args) {
    const kernel_table* k = active_table();
    if (k == nullptr) return false;
    (k->*entry)(args...);
    return true;
}

}  // namespace

bool run_accelerated_fused_loss(const matrix<double>& W, const matrix<double>& X, const label_vector& y,
                                double reg, matrix<double>& dS, matrix<double>& dW, double& data_loss,
                                double& w_sumsq) {
    return run_fused(&kernel_table::loss_f64, W, X, y, reg, dS, dW, data_loss, w_sumsq);
}

bool run_accelerated_fused_loss(const matrix<float>& W, const matrix<float>& X, const label_vector& y, float reg,
                                matrix<float>& dS, matrix<float>& dW, float& data_loss, float& w_sumsq) {
    return run_fused(&kernel_table::loss_f32, W, X, y, reg, dS, dW, data_loss, w_sumsq);
}

bool run_accelerated_gemm(const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double* c,
                          std::int64_t ldc, std::int64_t m, std::int64_t k, std::int64_t p) {
    return run_entry(&kernel_table::gemm_f64, a, lda, b, ldb, c, ldc, m, k, p);
}

bool run_accelerated_gemm(const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float* c,
                          std::int64_t ldc, std::int64_t m, std::int64_t k, std::int64_t p) {
    return run_entry(&kernel_table::gemm_f32, a, lda, b, ldb, c, ldc, m, k, p);
}

bool run_accelerated_exp(const double* x, double* out, std::int64_t n) {
    return run_entry(&kernel_table::exp_f64, x, out, n);
}

bool run_accelerated_exp(const float* x, float* out, std::int64_t n) {
    return run_entry(&kernel_table::exp_f32, x, out, n);
}

bool run_accelerated_log1p(const double* x, double* out, std::int64_t n) {
    return run_entry(&kernel_table::log1p_f64, x, out, n);
}

bool run_accelerated_log1p(const float* x, float* out, std::int64_t n) {
    return run_entry(&kernel_table::log1p_f32, x, out, n);
}

}  // namespace detail
}  // namespace gradproof
