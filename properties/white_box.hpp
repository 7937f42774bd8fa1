// White-box properties: the subject's own templated algorithm instantiated in mp_real and
// differentiated by 256-bit finite differences (src/fd). They need no reference and no
// tolerance model: at 256 bits the analytic gradient and the FD estimate of a correct
// implementation agree to far more than 25 significant digits, while a gradient that is wrong
// by any amount above ~1e−25 relative (a dropped term, a wrong factor, a bias of 1e−12) fails.
#pragma once

#include "core/subject.hpp"
#include "properties/context.hpp"

namespace gradproof::properties {

// Digits of agreement required (issue: ≥ 25 at 256 bits); FD precision and stencil are in
// fd_settings() below.
inline constexpr int white_box_digits = 25;

template <class T> void gradient_equals_multiprecision_finite_differences(property_context& ctx, const subject& s);
template <class T> void directional_derivative_equals_multiprecision_finite_differences(property_context& ctx, const subject& s);
template <class T> void hessian_vector_products_are_symmetric(property_context& ctx, const subject& s);

}  // namespace gradproof::properties
