// Identities that hold exactly in real arithmetic, checked within the sum of the tolerances of
// the outputs involved: row sums, ranges, Jacobian structure, special values, determinism.
#pragma once

#include "core/subject.hpp"

namespace gradproof::properties {

template <class T> void every_row_of_ds_sums_to_zero(const subject& s);
template <class T> void every_softmax_row_sums_to_one(const subject& s);
template <class T> void probabilities_lie_in_the_unit_interval(const subject& s);
template <class T> void softmax_jacobian_is_symmetric(const subject& s);
template <class T> void softmax_jacobian_annihilates_the_ones_vector(const subject& s);
template <class T> void softmax_jacobian_is_positive_semidefinite(const subject& s);
template <class T> void loss_is_nonnegative_without_regularization(const subject& s);
template <class T> void loss_at_zero_weights_is_log_c(const subject& s);
template <class T> void repeated_calls_are_bitwise_identical(const subject& s);

}  // namespace gradproof::properties
