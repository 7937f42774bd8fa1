// Invariances and equivariances of the softmax classifier. Transformed inputs are built so that
// the transformation is exact in the scalar type (shifts are quantised to a grid on which the
// sums are representable), hence the exact outputs are equal and the implementation's outputs
// may differ by at most the sum of their two tolerances.
#pragma once

#include "core/subject.hpp"
#include "properties/context.hpp"

namespace gradproof::properties {

template <class T> void shift_leaves_softmax_unchanged(property_context& ctx, const subject& s);
template <class T> void shift_leaves_cross_entropy_loss_and_gradient_unchanged(property_context& ctx, const subject& s);
template <class T> void adding_a_vector_to_every_column_of_w_leaves_the_unregularized_loss_unchanged(property_context& ctx, const subject& s);
template <class T> void regularization_adds_reg_times_w_to_the_gradient(property_context& ctx, const subject& s);
template <class T> void regularization_adds_half_reg_times_squared_norm_to_the_loss(property_context& ctx, const subject& s);
template <class T> void permuting_the_batch_leaves_loss_and_gradient_unchanged(property_context& ctx, const subject& s);
template <class T> void permuting_classes_permutes_the_gradient_and_keeps_the_loss(property_context& ctx, const subject& s);
template <class T> void loss_over_a_union_of_batches_is_the_weighted_mean_of_their_losses(property_context& ctx, const subject& s);
template <class T> void soft_label_gradient_equals_p_times_sum_t_minus_t(property_context& ctx, const subject& s);

}  // namespace gradproof::properties
