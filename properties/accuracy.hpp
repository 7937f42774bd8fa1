// Accuracy properties: outputs agree element-wise with the multiprecision reference within the
// tolerance derived in error/tolerance.hpp (normwise verdict; componentwise margin reported).
#pragma once

#include "core/subject.hpp"
#include "properties/context.hpp"
#include "gen/cases.hpp"

namespace gradproof::properties {

template <class T> void loss_and_gradient_match_the_reference(property_context& ctx, const subject& s);
template <class T> void loss_and_gradient_lie_within_tolerance_of_the_certified_enclosure(property_context& ctx, const subject& s);
template <class T> void cross_entropy_matches_the_reference(property_context& ctx, const subject& s);
template <class T> void softmax_matches_the_reference(property_context& ctx, const subject& s);
template <class T> void log_softmax_matches_the_reference(property_context& ctx, const subject& s);
template <class T> void softmax_backward_matches_the_reference_vjp(property_context& ctx, const subject& s);
template <class T> void log_softmax_backward_matches_the_reference_vjp(property_context& ctx, const subject& s);
template <class T> void loss_and_gradient_stay_finite_and_accurate_under_extreme_logits(property_context& ctx, const subject& s);
template <class T> void cross_entropy_stays_finite_and_accurate_under_extreme_logits(property_context& ctx, const subject& s);
template <class T> void agrees_elementwise_with_the_naive_loop(property_context& ctx, const subject& s);
template <class T> void softmax_stays_accurate_at_language_model_widths(property_context& ctx, const subject& s);
template <class T> void cross_entropy_gradient_equals_softmax_minus_onehot_over_n(property_context& ctx, const subject& s);
template <class T> void cross_entropy_stays_accurate_at_language_model_widths(property_context& ctx, const subject& s);
template <class T> void gradient_matches_finite_differences_of_its_own_loss(property_context& ctx, const subject& s);

// Shared checks, also used by the invariance properties and by tests.
template <class T> void check_loss_case(property_context& ctx, const subject& s, const loss_case<T>& c);
template <class T> void check_cross_entropy_case(property_context& ctx, const subject& s, const logits_case<T>& c);

}  // namespace gradproof::properties
