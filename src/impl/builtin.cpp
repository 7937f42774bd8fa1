#include "impl/builtin.hpp"

#include "impl/cross_entropy_options.hpp"
#include "impl/naive.hpp"
#include "impl/seed_vectorized.hpp"
#include "impl/vectorized.hpp"

namespace gradproof {

namespace {

// naive plus the loop implementations of cross-entropy with options and fused linear cross-entropy.
struct naive_with_options : impl::naive {
    template <class T>
    static ce_ex_result<T> cross_entropy_ex(const ce_ex_input<T>& in) {
        return impl::cross_entropy_ex<T>(in);
    }
    template <class T>
    static fused_ce_result<T> fused_linear_cross_entropy(const fused_ce_input<T>& in) {
        return impl::fused_linear_cross_entropy<T>(in);
    }
    static ce_ex_result<float> cross_entropy_ex_half(half_format f, const ce_ex_input<float>& in) {
        return impl::cross_entropy_ex_half(f, in);
    }
    static fused_ce_result<float> fused_linear_cross_entropy_half(half_format f, const fused_ce_input<float>& in) {
        return impl::fused_linear_cross_entropy_half(f, in);
    }
};

// vectorized plus the Eigen array form of cross-entropy with options and the blocked (GEMM) form
// of the fused loss.
struct vectorized_with_options : impl::vectorized {
    template <class T>
    static ce_ex_result<T> cross_entropy_ex(const ce_ex_input<T>& in) {
        return impl::cross_entropy_ex_vectorized<T>(in);
    }
    template <class T>
    static fused_ce_result<T> fused_linear_cross_entropy(const fused_ce_input<T>& in) {
        return impl::fused_linear_cross_entropy_blocked<T>(in);
    }
    static ce_ex_result<float> cross_entropy_ex_half(half_format f, const ce_ex_input<float>& in) {
        return impl::cross_entropy_ex_vectorized_half(f, in);
    }
    static fused_ce_result<float> fused_linear_cross_entropy_half(half_format f, const fused_ce_input<float>& in) {
        return impl::fused_linear_cross_entropy_blocked_half(f, in);
    }
};

}  // namespace

const std::vector<subject>& builtin_subjects() {
    static const std::vector<subject> all = [] {
        std::vector<subject> v;
        v.push_back(make_subject<naive_with_options>("naive", "the seed's per-sample, per-class loop"));
        v.push_back(make_subject<vectorized_with_options>("vectorized", "Eigen, shifted log-sum-exp with log1p (Blanchard et al. 2021)"));
        v.push_back(make_subject<impl::seed_vectorized>(
            "seed_vectorized", "faithful port of the seed's numpy code: loss = −log(rounded p_y)", true));
        return v;
    }();
    return all;
}

const subject* find_builtin(std::string_view name) {
    for (const auto& s : builtin_subjects())
        if (s.name == name) return &s;
    return nullptr;
}

}  // namespace gradproof
