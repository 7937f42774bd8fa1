// Identities that hold exactly in real arithmetic, checked within the sum of the tolerances of
// the outputs involved: row sums, ranges, Jacobian structure, special values, determinism.
#pragma once

#include "core/subject.hpp"
#include "properties/context.hpp"

namespace gradproof::properties {

template <class T> void every_row_of_ds_sums_to_zero(property_context& ctx, const subject& s);
template <class T> void every_softmax_row_sums_to_one(property_context& ctx, const subject& s);
template <class T> void probabilities_lie_in_the_unit_interval(property_context& ctx, const subject& s);
template <class T> void softmax_jacobian_is_symmetric(property_context& ctx, const subject& s);
template <class T> void softmax_jacobian_annihilates_the_ones_vector(property_context& ctx, const subject& s);
template <class T> void softmax_jacobian_is_positive_semidefinite(property_context& ctx, const subject& s);
template <class T> void loss_is_nonnegative_without_regularization(property_context& ctx, const subject& s);
template <class T> void loss_at_zero_weights_is_log_c(property_context& ctx, const subject& s);
template <class T> void repeated_calls_are_bitwise_identical(property_context& ctx, const subject& s);

}  // namespace gradproof::properties
