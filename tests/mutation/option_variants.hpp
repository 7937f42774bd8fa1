// Mutants of cross-entropy with options and fused linear cross-entropy: realistic option bugs,
// each modelled on a real issue. Every mutant is the built-in loop implementation
// (impl/cross_entropy_options.hpp) with exactly one hook of detail::ce_semantics replaced, so it
// shares the correct row core, validation and reductions and differs from the built-in only in its
// bug. Each exposes every option entry point (cross_entropy_ex and fused_linear_cross_entropy in
// f32/f64, the bf16/f16 forms in f32); the bug shows only where its option is in play (noted per
// mutant), the other entry points are correct.
#pragma once

#include "core/subject.hpp"
#include "impl/builtin.hpp"
#include "impl/cross_entropy_options.hpp"
#include "mutation/variants.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

namespace gradproof::mutation {

// The entry points of the built-in loop implementation under the semantics Policy.
template <class Policy>
struct option_variant {
    template <class T>
    static ce_ex_result<T> cross_entropy_ex(const ce_ex_input<T>& in) {
        return detail::cross_entropy_ex_as<Policy, T>(in);
    }
    template <class T>
    static fused_ce_result<T> fused_linear_cross_entropy(const fused_ce_input<T>& in) {
        return detail::fused_linear_cross_entropy_as<Policy, T>(in);
    }
    static ce_ex_result<float> cross_entropy_ex_half(half_format f, const ce_ex_input<float>& in) {
        return detail::cross_entropy_ex_half_as<Policy>(
            f, in, [](const ce_ex_input<float>& x) { return detail::cross_entropy_ex_as<Policy, float, float>(x); });
    }
    static fused_ce_result<float> fused_linear_cross_entropy_half(half_format f, const fused_ce_input<float>& in) {
        return detail::fused_linear_cross_entropy_half_as<Policy>(
            f, in, [](const fused_ce_input<float>& x) { return detail::fused_linear_cross_entropy_as<Policy, float, float>(x); });
    }
};

// ---- mutants ---------------------------------------------------------------------------------

// PyTorch #73205 (1.10): with label_smoothing, the uniform part of the loss is taken over every
// row, ignored ones included, while the one-hot part masks them. Ignored rows gain the smoothing
// term (ε/C)·Σ_c w[c]·(lse − z_c) and its gradient. Needs ignore_index, ε > 0 and an ignored row.
struct smoothing_counts_ignored_rows : detail::ce_semantics {
    static constexpr const char* name = "smoothing_counts_ignored_rows";
    static constexpr const char* description = "label smoothing's uniform term includes ignored rows (PyTorch #73205)";
    static detail::ce_terms row_terms(bool is_ignored, bool smoothing) {
        if (is_ignored) return {false, smoothing, false};
        return {};
    }
};

// Liger-Kernel #678 / #968: with reduction none the backward reads grad_output as a scalar and
// scales every row by dloss[0] instead of dloss[i]; when the first row is masked out upstream
// (dloss[0] = 0, e.g. a padded or ignored first token) every gradient is 0. Needs reduction none
// and a dloss that is not constant.
struct none_reduction_scalar_upstream : detail::ce_semantics {
    static constexpr const char* name = "none_reduction_scalar_upstream";
    static constexpr const char* description =
        "reduction none scales every row by dloss[0]: zero gradients when row 0 is masked (Liger #678/#968)";
    template <class A>
    static A none_upstream(const std::vector<A>& dloss, Eigen::Index /*i*/) {
        return dloss[0];
    }
};

// PyTorch #104776 discusses weighting the smoothing term; plugin.h fixes PyTorch 1.13's per-class
// weighting, and an implementation that smooths with unit weights (weights on the one-hot part
// only) is wrong. Needs class weights other than all-equal-to-1 and ε > 0.
struct smoothing_term_unweighted : detail::ce_semantics {
    static constexpr const char* name = "smoothing_term_unweighted";
    static constexpr const char* description =
        "class weights not applied to the label-smoothing term (PyTorch #104776's alternative)";
    template <class A>
    static A smoothing_class_weight(const A& /*w*/) {
        return A(1);
    }
};

// Liger-Kernel #243: the fused linear cross-entropy did not forward label_smoothing to its
// cross-entropy kernel, so ε was silently 0. Needs the fused entry point and ε > 0.
struct fused_drops_label_smoothing : detail::ce_semantics {
    static constexpr const char* name = "fused_drops_label_smoothing";
    static constexpr const char* description = "fused linear cross-entropy ignores label_smoothing (Liger #243)";
    static ce_options fused_options(const ce_options& o) {
        ce_options dropped = o;
        dropped.label_smoothing = 0;
        return dropped;
    }
};

// `loss.sum() / labels.numel()`: the mean divides by the number of rows n instead of the kept
// weight sum (and the z-loss by n instead of the kept row count). Needs reduction mean with an
// ignored row or non-unit class weights.
struct mean_divides_by_n : detail::ce_semantics {
    static constexpr const char* name = "mean_divides_by_n";
    static constexpr const char* description = "mean divides by n, not by the non-ignored weight sum";
    template <class A>
    static detail::ce_divisors<A> mean_divisors(const A&, const A&, Eigen::Index n) {
        return {A(static_cast<double>(n)), A(static_cast<double>(n))};
    }
};

// ∂(s·lse²)/∂z = 2·s·lse·p, written as s·lse·p: the z-loss forward is right, its gradient half.
// Needs lse_square_scale > 0.
struct zloss_gradient_missing_factor_2 : detail::ce_semantics {
    static constexpr const char* name = "zloss_gradient_missing_factor_2";
    static constexpr const char* description = "z-loss gradient s·lse·p instead of 2·s·lse·p";
    template <class A>
    static A zloss_grad_coeff(const A& s, const A& lse) {
        return s * lse;
    }
};

// Soft-capping's backward forgets the chain factor 1 − tanh²(x/cap): the gradient is taken with
// respect to the capped logits. Needs softcap > 0 and logits not ≪ cap.
struct softcap_gradient_missing_chain : detail::ce_semantics {
    static constexpr const char* name = "softcap_gradient_missing_chain";
    static constexpr const char* description = "soft-cap gradient missing the 1 − tanh²(x/cap) factor";
    template <class A>
    static A softcap_chain(const A& /*x_over_cap*/) {
        return A(1);
    }
};

// sockeye #200: the smoothed cross-entropy applied the padding mask the wrong way round
// (where(ignore, dist, 0)): padding rows were scored (their one-hot part empty when the pad label is
// out of range, as mx.nd.one_hot gives) and real rows dropped. Only the smoothed loss (ε > 0) has
// the inverted mask; the z-loss and the mean's divisors keep the right one. Needs ignore_index and
// ε > 0.
struct smoothing_mask_inverted : detail::ce_semantics {
    static constexpr const char* name = "smoothing_mask_inverted";
    static constexpr const char* description =
        "padding mask inverted in the label-smoothed loss: ignored rows scored, kept rows dropped (sockeye #200)";
    static detail::ce_terms row_terms(bool is_ignored, bool smoothing) {
        if (!smoothing) return detail::ce_semantics::row_terms(is_ignored, smoothing);
        return {is_ignored, is_ignored, !is_ignored};
    }
};

// bf16 outputs narrowed by dropping the low 16 bits of the float (round toward zero), the cheap
// conversion many kernels used before hardware round-to-nearest: off by up to one bf16 ulp, below
// every tolerance the field uses (ce-semantics.md). f16 outputs are rounded correctly. Needs a
// bf16 entry point.
struct bf16_output_truncated : detail::ce_semantics {
    static constexpr const char* name = "bf16_output_truncated";
    static constexpr const char* description = "bf16 outputs truncated (low 16 bits dropped) instead of rounded";
    static float round_half(half_format f, float x) {
        if (f != half_format::bf16 || std::isnan(x)) return detail::ce_semantics::round_half(f, x);
        return std::bit_cast<float>(std::bit_cast<std::uint32_t>(x) & 0xffff0000u);
    }
};

// The ignore test hard-coded as `label < 0` (PyTorch's default −100 is negative) instead of
// `label == ignore_index`: an ignore_index that is a real class (a padding id 0) is trained on,
// and any other negative label is dropped. Needs has_ignore_index with ignore_index ≥ 0 present
// among the labels.
struct ignore_test_label_negative : detail::ce_semantics {
    static constexpr const char* name = "ignore_test_label_negative";
    static constexpr const char* description = "ignore test `label < 0` instead of `label == ignore_index`";
    static bool ignored(const ce_options& o, std::int32_t label) { return o.has_ignore_index && label < 0; }
};

using option_mutant_types =
    std::tuple<smoothing_counts_ignored_rows, none_reduction_scalar_upstream, smoothing_term_unweighted,
               fused_drops_label_smoothing, mean_divides_by_n, zloss_gradient_missing_factor_2,
               softcap_gradient_missing_chain, smoothing_mask_inverted, bf16_output_truncated,
               ignore_test_label_negative>;

// A known-flawed subject "mutant_<name>" exposing every option entry point under Policy.
template <class Policy>
variant_info make_option_mutant() {
    return {Policy::name, Policy::description,
            make_subject<option_variant<Policy>>(std::string("mutant_") + Policy::name, Policy::description, true)};
}

inline const std::vector<variant_info>& option_mutants() {
    static const std::vector<variant_info> all = std::apply(
        [](auto... policy) { return std::vector<variant_info>{make_option_mutant<decltype(policy)>()...}; },
        option_mutant_types{});
    return all;
}

}  // namespace gradproof::mutation
