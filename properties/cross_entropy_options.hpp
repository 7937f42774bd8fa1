// Properties of cross-entropy with options and of fused linear cross-entropy (plug-in ABI
// version 2, include/gradproof/plugin.h): agreement with the MPFR reference under the derived
// tolerance, in f64, f32 and bf16/f16 storage, at ordinary, extreme and vocabulary-sized inputs;
// and the identities the options must satisfy, each checked on the implementation's own outputs
// (the regressions of PyTorch #73205, #69339, #104776, Liger-Kernel #968, #243 and sockeye #200
// each break one of them).
#pragma once

#include "core/subject.hpp"
#include "properties/context.hpp"

namespace gradproof::properties {

// Against the reference.
template <class T> void cross_entropy_with_options_matches_the_reference(property_context&, const subject&);
template <class T> void cross_entropy_with_options_matches_the_reference_in_bf16(property_context&, const subject&);
template <class T> void cross_entropy_with_options_matches_the_reference_in_f16(property_context&, const subject&);
template <class T> void cross_entropy_with_options_stays_finite_and_accurate_under_extreme_logits(property_context&, const subject&);
template <class T> void cross_entropy_with_options_stays_accurate_at_vocabulary_widths(property_context&, const subject&);
template <class T> void fused_linear_cross_entropy_matches_the_reference(property_context&, const subject&);
template <class T> void fused_linear_cross_entropy_matches_the_reference_in_bf16(property_context&, const subject&);
template <class T> void fused_linear_cross_entropy_matches_the_reference_in_f16(property_context&, const subject&);
template <class T>
void fused_linear_cross_entropy_lies_within_tolerance_of_the_certified_enclosure(property_context&, const subject&);

// Identities of the options, on the implementation's own outputs.
template <class T> void an_ignored_sample_changes_nothing_else_and_gets_a_zero_gradient(property_context&, const subject&);
template <class T> void mean_is_the_sum_divided_by_the_weight_of_the_samples_not_ignored(property_context&, const subject&);
template <class T> void reduction_none_summed_equals_reduction_sum(property_context&, const subject&);
template <class T> void label_smoothing_is_the_convex_combination_of_hard_and_uniform_cross_entropy(property_context&, const subject&);
template <class T> void equal_class_weights_leave_the_mean_unchanged(property_context&, const subject&);
template <class T> void scaling_every_class_weight_leaves_the_mean_unchanged(property_context&, const subject&);
template <class T> void z_loss_adds_two_s_lse_p_to_the_gradient(property_context&, const subject&);
template <class T> void soft_capping_multiplies_the_gradient_by_the_derivative_of_the_cap(property_context&, const subject&);
template <class T> void fused_linear_cross_entropy_equals_cross_entropy_of_the_projected_logits(property_context&, const subject&);

// Contract: a batch whose every row is ignored.
template <class T> void a_batch_with_every_row_ignored_is_handled_per_contract(property_context&, const subject&);

}  // namespace gradproof::properties
