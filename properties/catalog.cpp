#include "properties/accuracy.hpp"
#include "properties/case_counts.hpp"
#include "properties/contract.hpp"
#include "properties/cross_entropy_options.hpp"
#include "properties/identities.hpp"
#include "properties/invariances.hpp"
#include "properties/property.hpp"
#include "properties/white_box.hpp"

#include <algorithm>

namespace gradproof {

bool property::applicable(const subject& s, precision p) const {
    if (white_box && !s.softmax_loss_mp) return false;
    bool any = false;  // a property with no specific needs still needs some entry point
    // The generic contract properties (needs empty) exercise the six version-1 entry points.
    for (auto e : {entry_point::softmax, entry_point::log_softmax, entry_point::softmax_backward,
                   entry_point::log_softmax_backward, entry_point::cross_entropy, entry_point::softmax_loss})
        any = any || (p == precision::f32 ? s.f32.has(e) : s.f64.has(e));
    if (needs.empty() && !any) return false;
    for (auto e : needs) {
        if (p == precision::f32 ? !s.f32.has(e) : !s.f64.has(e)) return false;
    }
    return !applies_to || applies_to(s);
}

const char* to_string(property_category c) {
    switch (c) {
        case property_category::reference: return "reference";
        case property_category::extreme: return "extreme";
        case property_category::identity: return "identity";
        case property_category::invariance: return "invariance";
        case property_category::white_box: return "white_box";
        case property_category::determinism: return "determinism";
        case property_category::contract: return "contract";
    }
    return "?";
}

std::string property::needs_text() const {
    std::string out;
    for (auto e : needs) out += (out.empty() ? "" : ", ") + std::string(to_string(e));
    if (white_box) out += (out.empty() ? "" : ", ") + std::string("mp_real instantiation");
    return out;
}

namespace {
using E = entry_point;
namespace p = properties;
namespace n = case_counts;

// The case-count constant names the kind of claim, so it also gives the category.
constexpr property_category category_of(int n_kind) { return static_cast<property_category>(n_kind); }
namespace kind {
constexpr int accuracy = static_cast<int>(property_category::reference), certified = accuracy, wide = accuracy,
              extreme = static_cast<int>(property_category::extreme), identity = static_cast<int>(property_category::identity),
              invariance = static_cast<int>(property_category::invariance),
              white_box_fd = static_cast<int>(property_category::white_box),
              determinism = static_cast<int>(property_category::determinism),
              contract = static_cast<int>(property_category::contract);
}  // namespace kind
#define GRADPROOF_ENTRY(fn, claim, needs, cases) \
    property { #fn, claim, needs, false, n::cases, &p::fn<float>, &p::fn<double>, {}, category_of(kind::cases) }
#define GRADPROOF_WHITE_BOX(fn, claim, cases) \
    property { #fn, claim, {}, true, n::cases, &p::fn<float>, &p::fn<double>, {}, category_of(kind::cases) }

std::vector<property> build() {
    const std::vector<entry_point> ce_and_softmax{E::cross_entropy, E::softmax};
    std::vector<property> c{
        GRADPROOF_ENTRY(loss_and_gradient_match_the_reference,
                        "The loss, dW and dS agree element-wise with the 128-bit MPFR reference within the derived tolerance.",
                        {E::softmax_loss}, accuracy),
        GRADPROOF_ENTRY(loss_and_gradient_lie_within_tolerance_of_the_certified_enclosure,
                        "The loss and dW lie within the derived tolerance of the certified MPFI enclosure of the exact values.",
                        {E::softmax_loss}, certified),
        GRADPROOF_ENTRY(loss_and_gradient_stay_finite_and_accurate_under_extreme_logits,
                        "Under extreme logits (spreads past 709/745, label far below the max, all logits below −800, huge equal logits, ties, subnormals, huge shifts) the loss and gradient stay finite and accurate.",
                        {E::softmax_loss}, extreme),
        GRADPROOF_ENTRY(agrees_elementwise_with_the_naive_loop,
                        "The loss and dW agree element-wise with the seed's naive loop within the sum of both tolerances.",
                        {E::softmax_loss}, accuracy),
        GRADPROOF_WHITE_BOX(gradient_equals_multiprecision_finite_differences,
                            "The analytic dW equals the 256-bit finite-difference gradient of the same algorithm to at least 25 significant digits.",
                            white_box_fd),
        GRADPROOF_WHITE_BOX(directional_derivative_equals_multiprecision_finite_differences,
                            "⟨dW, V⟩ equals the 256-bit finite-difference directional derivative of the loss along a random V to at least 25 digits.",
                            white_box_fd),
        GRADPROOF_WHITE_BOX(hessian_vector_products_are_symmetric,
                            "Hessian–vector products from finite differences of the gradient are symmetric: ⟨V1, H·V2⟩ = ⟨V2, H·V1⟩.",
                            white_box_fd),
        GRADPROOF_ENTRY(gradient_matches_finite_differences_of_its_own_loss,
                        "dW agrees with central differences of the same implementation's own loss along a random direction, within the rounding and truncation bound.",
                        {E::softmax_loss}, accuracy),
        GRADPROOF_ENTRY(every_row_of_ds_sums_to_zero, "Every row of dS = softmax − onehot sums to zero within tolerance.",
                        {E::softmax_loss}, identity),
        GRADPROOF_ENTRY(loss_is_nonnegative_without_regularization, "Without regularisation the loss is never negative.",
                        {E::softmax_loss}, identity),
        GRADPROOF_ENTRY(loss_at_zero_weights_is_log_c, "At W = 0 the loss is log C.", {E::softmax_loss}, identity),
        GRADPROOF_ENTRY(regularization_adds_reg_times_w_to_the_gradient, "dW(reg) − dW(0) = reg·W.", {E::softmax_loss},
                        invariance),
        GRADPROOF_ENTRY(regularization_adds_half_reg_times_squared_norm_to_the_loss, "L(reg) − L(0) = ½·reg·‖W‖².",
                        {E::softmax_loss}, invariance),
        GRADPROOF_ENTRY(adding_a_vector_to_every_column_of_w_leaves_the_unregularized_loss_unchanged,
                        "Adding the same vector to every column of W leaves the unregularised loss unchanged.",
                        {E::softmax_loss}, invariance),
        GRADPROOF_ENTRY(permuting_the_batch_leaves_loss_and_gradient_unchanged,
                        "Permuting the rows of X (with their labels) leaves the loss and dW unchanged.", {E::softmax_loss},
                        invariance),
        GRADPROOF_ENTRY(permuting_classes_permutes_the_gradient_and_keeps_the_loss,
                        "Permuting the classes (columns of W, relabelled y) permutes the columns of dW and keeps the loss.",
                        {E::softmax_loss}, invariance),
        GRADPROOF_ENTRY(loss_over_a_union_of_batches_is_the_weighted_mean_of_their_losses,
                        "Without regularisation, L and dW over A∪B are the size-weighted means of those over A and B.",
                        {E::softmax_loss}, invariance),
        GRADPROOF_ENTRY(cross_entropy_matches_the_reference,
                        "Cross-entropy loss and dlogits agree with the reference within tolerance.", {E::cross_entropy},
                        accuracy),
        GRADPROOF_ENTRY(cross_entropy_stays_finite_and_accurate_under_extreme_logits,
                        "Under extreme logits the cross-entropy loss and dlogits stay finite and accurate.",
                        {E::cross_entropy}, extreme),
        GRADPROOF_ENTRY(cross_entropy_stays_accurate_at_language_model_widths,
                        "At language-model widths (C = 50 257, odd C above 256, C in the tens of thousands) the cross-entropy loss and dlogits stay accurate.",
                        {E::cross_entropy}, wide),
        GRADPROOF_ENTRY(cross_entropy_gradient_equals_softmax_minus_onehot_over_n,
                        "cross_entropy's dlogits equal (softmax − onehot)/N from the same implementation's softmax.",
                        ce_and_softmax, accuracy),
        GRADPROOF_ENTRY(shift_leaves_cross_entropy_loss_and_gradient_unchanged,
                        "Adding a constant (up to ±1e300) to a row of logits leaves the loss and dlogits unchanged.",
                        {E::cross_entropy}, invariance),
        GRADPROOF_ENTRY(soft_label_gradient_equals_p_times_sum_t_minus_t,
                        "The soft-label gradient assembled from hard-label gradients equals p·Σt − t.", {E::cross_entropy},
                        invariance),
        GRADPROOF_ENTRY(cross_entropy_with_options_matches_the_reference,
                        "Cross-entropy with options (ignore_index, reduction, label smoothing, class weights, z-loss, soft-capping, soft targets) agrees in loss and dlogits with the 128-bit MPFR reference within the derived tolerance.",
                        {E::cross_entropy_ex}, accuracy),
        GRADPROOF_ENTRY(cross_entropy_with_options_matches_the_reference_in_bf16,
                        "In bf16 storage with f32 accumulation, cross-entropy with options agrees with the reference within the derived tolerance (each output rounded once to nearest).",
                        {E::cross_entropy_ex_bf16}, accuracy),
        GRADPROOF_ENTRY(cross_entropy_with_options_matches_the_reference_in_f16,
                        "In f16 storage with f32 accumulation, cross-entropy with options agrees with the reference within the derived tolerance (each output rounded once to nearest).",
                        {E::cross_entropy_ex_f16}, accuracy),
        GRADPROOF_ENTRY(cross_entropy_with_options_stays_finite_and_accurate_under_extreme_logits,
                        "Under extreme logits, cross-entropy with options stays finite and accurate.", {E::cross_entropy_ex},
                        extreme),
        GRADPROOF_ENTRY(cross_entropy_with_options_stays_accurate_at_vocabulary_widths,
                        "At vocabulary widths up to 256 000 classes, cross-entropy with options stays accurate.",
                        {E::cross_entropy_ex}, wide),
        GRADPROOF_ENTRY(an_ignored_sample_changes_nothing_else_and_gets_a_zero_gradient,
                        "Adding an ignored row changes neither the loss nor the other rows' dlogits, and the ignored row's dlogits are exactly 0.",
                        {E::cross_entropy_ex}, invariance),
        GRADPROOF_ENTRY(mean_is_the_sum_divided_by_the_weight_of_the_samples_not_ignored,
                        "The mean loss and its gradient are the sum's divided by the total class weight of the rows not ignored (by N for soft targets).",
                        {E::cross_entropy_ex}, invariance),
        GRADPROOF_ENTRY(reduction_none_summed_equals_reduction_sum,
                        "The per-row losses of reduction none add up to reduction sum, with the same gradient.",
                        {E::cross_entropy_ex}, invariance),
        GRADPROOF_ENTRY(label_smoothing_is_the_convex_combination_of_hard_and_uniform_cross_entropy,
                        "Loss and gradient at smoothing ε are (1−ε)·those at ε = 0 plus ε·those at ε = 1.",
                        {E::cross_entropy_ex}, invariance),
        GRADPROOF_ENTRY(equal_class_weights_leave_the_mean_unchanged,
                        "Equal class weights give the same mean loss and gradient as no weights.", {E::cross_entropy_ex},
                        invariance),
        GRADPROOF_ENTRY(scaling_every_class_weight_leaves_the_mean_unchanged,
                        "Multiplying every class weight by 2^k leaves the mean loss and gradient unchanged.",
                        {E::cross_entropy_ex}, invariance),
        GRADPROOF_ENTRY(z_loss_adds_two_s_lse_p_to_the_gradient,
                        "The z-loss s·lse² adds 2·s·lse·softmax to each counted row's gradient.", {E::cross_entropy_ex},
                        invariance),
        GRADPROOF_ENTRY(soft_capping_multiplies_the_gradient_by_the_derivative_of_the_cap,
                        "With soft-capping, the gradient is the uncapped gradient at cap·tanh(x/cap) times 1 − tanh²(x/cap).",
                        {E::cross_entropy_ex}, invariance),
        GRADPROOF_ENTRY(fused_linear_cross_entropy_matches_the_reference,
                        "Fused linear cross-entropy's loss, dH, dW and dbias agree with the 128-bit MPFR reference within the derived tolerance.",
                        {E::fused_linear_cross_entropy}, accuracy),
        GRADPROOF_ENTRY(fused_linear_cross_entropy_lies_within_tolerance_of_the_certified_enclosure,
                        "Fused linear cross-entropy's loss, dH, dW and dbias lie within the derived tolerance of the certified MPFI enclosure of the exact values.",
                        {E::fused_linear_cross_entropy}, certified),
        GRADPROOF_ENTRY(fused_linear_cross_entropy_matches_the_reference_in_bf16,
                        "In bf16 storage, fused linear cross-entropy agrees with the reference within the derived tolerance.",
                        {E::fused_linear_cross_entropy_bf16}, accuracy),
        GRADPROOF_ENTRY(fused_linear_cross_entropy_matches_the_reference_in_f16,
                        "In f16 storage, fused linear cross-entropy agrees with the reference within the derived tolerance.",
                        {E::fused_linear_cross_entropy_f16}, accuracy),
        GRADPROOF_ENTRY(fused_linear_cross_entropy_equals_cross_entropy_of_the_projected_logits,
                        "The fused loss equals cross_entropy_ex of H·Wᵀ + b, and dH equals that dlogits times W.",
                        (std::vector<entry_point>{E::fused_linear_cross_entropy, E::cross_entropy_ex}), invariance),
        GRADPROOF_ENTRY(a_batch_with_every_row_ignored_is_handled_per_contract,
                        "With every row ignored, mean gives NaN or 0 and sum/none give 0, with every gradient element 0.",
                        {E::cross_entropy_ex}, contract),
        GRADPROOF_ENTRY(softmax_matches_the_reference, "Softmax agrees with the reference within tolerance.",
                        {E::softmax}, accuracy),
        GRADPROOF_ENTRY(softmax_stays_accurate_at_language_model_widths,
                        "At language-model widths (C = 50 257, odd C above 256, C in the tens of thousands) softmax stays accurate.",
                        {E::softmax}, wide),
        GRADPROOF_ENTRY(every_softmax_row_sums_to_one, "Every softmax row sums to one within tolerance.", {E::softmax},
                        identity),
        GRADPROOF_ENTRY(probabilities_lie_in_the_unit_interval, "Every probability lies in [0, 1].", {E::softmax},
                        identity),
        GRADPROOF_ENTRY(shift_leaves_softmax_unchanged,
                        "Adding a constant (up to ±1e300) to a row of logits leaves softmax unchanged.", {E::softmax},
                        invariance),
        GRADPROOF_ENTRY(log_softmax_matches_the_reference,
                        "Log-softmax agrees with the reference within tolerance (componentwise margin reported).",
                        {E::log_softmax}, accuracy),
        GRADPROOF_ENTRY(softmax_backward_matches_the_reference_vjp,
                        "softmax_backward returns p ⊙ (g − ⟨g, p⟩) within tolerance.", {E::softmax_backward}, accuracy),
        GRADPROOF_ENTRY(log_softmax_backward_matches_the_reference_vjp,
                        "log_softmax_backward returns g − exp(o)·Σg within tolerance.", {E::log_softmax_backward},
                        accuracy),
        GRADPROOF_ENTRY(softmax_jacobian_is_symmetric, "The softmax Jacobian diag(p) − ppᵀ is symmetric.",
                        {E::softmax_backward}, identity),
        GRADPROOF_ENTRY(softmax_jacobian_annihilates_the_ones_vector, "The softmax Jacobian annihilates the ones vector.",
                        {E::softmax_backward}, identity),
        GRADPROOF_ENTRY(softmax_jacobian_is_positive_semidefinite, "The softmax Jacobian is positive semi-definite.",
                        {E::softmax_backward}, identity),
        GRADPROOF_ENTRY(labels_outside_the_class_range_are_rejected,
                        "Every entry point taking labels rejects a label outside [0, C).", {}, contract),
        GRADPROOF_ENTRY(a_class_count_of_zero_is_rejected, "Every entry point rejects C = 0.", {}, contract),
        GRADPROOF_ENTRY(an_empty_batch_is_handled_per_contract,
                        "N = 0 is an empty batch for the row-wise functions and is rejected by cross_entropy and softmax_loss.",
                        {}, contract),
        GRADPROOF_ENTRY(nan_or_inf_in_a_row_stays_in_that_row,
                        "A NaN or +inf logit is rejected or makes only its own row NaN; other rows stay accurate.", {},
                        contract),
        GRADPROOF_ENTRY(repeated_calls_are_bitwise_identical, "Repeated calls with the same input are bitwise identical.",
                        {}, determinism),
    };
    for (auto& prop : c) {
        if (prop.name == "agrees_elementwise_with_the_naive_loop")
            prop.applies_to = [](const subject& s) { return s.name != "naive"; };
        // Compared with the implementation's own loss, not with a reference: self-consistency.
        if (prop.name == "gradient_matches_finite_differences_of_its_own_loss") prop.category = property_category::invariance;
    }
    return c;
}
#undef GRADPROOF_ENTRY
#undef GRADPROOF_WHITE_BOX
}  // namespace

const std::vector<property>& catalog() {
    static const std::vector<property> all = build();
    return all;
}

const property* find_property(std::string_view name) {
    const auto& all = catalog();
    auto it = std::find_if(all.begin(), all.end(), [&](const property& p) { return p.name == name; });
    return it == all.end() ? nullptr : &*it;
}

}  // namespace gradproof
