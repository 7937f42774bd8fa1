// Central finite-difference stencils of order 2, 4, 6 and 8 in mp_real.
//
// Error analysis. The central stencil of order p = 2m with step h,
//     D_p(h) = (1/h)·Σ_{j=1..m} a_j·(f(x+jh) − f(x−jh)),
// is symmetric, so its error expansion has even powers only, starting at h^p:
//     D_p(h) = f'(x) + γ_p·h^p·f^(p+1)(x) + γ'·h^(p+2)·f^(p+3)(x) + …,
// with γ_2 = 1/6, γ_4 = −1/30, γ_6 = 1/140, γ_8 = −1/630 (truncation ≈ |γ_p|·h^p·|f^(p+1)|).
// Rounding: with unit roundoff u = 2^-bits, each f(x±jh) carries an absolute error of a few u·|f|,
// and the node x±jh is itself rounded (error u·|x|, which moves f by u·|x|·|f'|). The stencil
// divides differences of nearly equal values by h, so rounding ≈ W·u·(|f| + |x|·|f'|)/h, where
// W = Σ|a_j| over all 2m nodes (1, 1.5, 1.83, 2.08 for p = 2, 4, 6, 8). Balancing the two terms gives
// h_opt ∝ u^(1/(p+1)) and a best error ∝ u^(p/(p+1)): in double (u ≈ 1.1e−16) order 2 bottoms out
// near h ≈ 1e−5 with ≈ 1e−11 relative error, the classic V-shaped error-versus-step curve.
// At 256 bits (u ≈ 8.6e−78) the rounding floor is u/h ≈ 1e−65 for h = 1e−12, so the truncation
// term decides; richardson.hpp removes it and turns the remaining tableau into an error estimate.
//
// The weights are the standard ones (Fornberg 1988), kept as integers over a common denominator
// so that the only stencil-specific rounding is the final division:
//     order 2: (f₁ − f₋₁) / 2h
//     order 4: (8(f₁ − f₋₁) − (f₂ − f₋₂)) / 12h
//     order 6: (45(f₁ − f₋₁) − 9(f₂ − f₋₂) + (f₃ − f₋₃)) / 60h
//     order 8: (672(f₁ − f₋₁) − 168(f₂ − f₋₂) + 32(f₃ − f₋₃) − 3(f₄ − f₋₄)) / 840h
//
// References:
//   B. Fornberg, "Generation of finite difference formulas on arbitrarily spaced grids",
//     Math. Comp. 51 (1988) 699–706.
//   N. J. Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., SIAM 2002, ch. 1–2.
//   Boost.Math, boost/math/differentiation/finite_difference.hpp (N. Thompson): the model for the
//     truncation/rounding trade-off above.
#pragma once

#include "core/scalar.hpp"

#include <array>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace gradproof::fd {

namespace detail {

// f'(x) ≈ Σ_{j=1..half_width} numerators[j-1]·(f(x+jh) − f(x−jh)) / (denominator·h).
struct stencil {
    int order;
    int half_width;
    int denominator;
    std::array<int, 4> numerators;
};

inline const stencil& central_stencil(int order) {
    static constexpr std::array<stencil, 4> table{{
        {2, 1, 2, {1, 0, 0, 0}},
        {4, 2, 12, {8, -1, 0, 0}},
        {6, 3, 60, {45, -9, 1, 0}},
        {8, 4, 840, {672, -168, 32, -3}},
    }};
    for (const stencil& s : table) {
        if (s.order == order) return s;
    }
    throw std::invalid_argument("order: central difference order must be 2, 4, 6 or 8, got " +
                                std::to_string(order));
}

// W = Σ|weight| over all 2m nodes, in units of 1/h: how much the stencil amplifies evaluation noise.
inline double abs_weight_sum(const stencil& s) {
    int sum = 0;
    for (int j = 0; j < s.half_width; ++j) sum += 2 * std::abs(s.numerators[j]);
    return static_cast<double>(sum) / s.denominator;
}

inline void check_step(const mp_real& h) {
    // Written so that NaN fails too.
    if (!(h > 0) || !isfinite(h)) {
        throw std::invalid_argument("step: finite-difference step must be finite and > 0");
    }
}

struct stencil_value {
    mp_real derivative;    // the stencil's estimate of f'
    mp_real abs_weighted;  // Σ|w_j|·|f(node_j)|/h: the magnitude that cancels, for noise bounds
};

// Applies stencil s with eval(t) = f(x + t) for t = ±h, ±2h, …; h must be positive.
template <class Eval>
stencil_value apply_stencil(Eval&& eval, const mp_real& h, const stencil& s) {
    mp_real sum = 0;
    mp_real abs_sum = 0;
    for (int j = 1; j <= s.half_width; ++j) {
        const mp_real offset = h * j;
        const mp_real f_plus = eval(offset);
        const mp_real f_minus = eval(-offset);
        const int c = s.numerators[j - 1];
        sum += c * (f_plus - f_minus);
        abs_sum += std::abs(c) * (abs(f_plus) + abs(f_minus));
    }
    const mp_real scale = h * s.denominator;
    return {sum / scale, abs_sum / scale};
}

}  // namespace detail

// Central difference of the given order (2, 4, 6 or 8) of f: mp_real → mp_real at x with step h,
// computed at the caller's current mp_real precision (no extrapolation; see richardson.hpp).
// Throws std::invalid_argument("order: …") or ("step: …") for unsupported orders or h ≤ 0.
template <class F>
mp_real central_difference(F&& f, const mp_real& x, const mp_real& h, int order) {
    const detail::stencil& s = detail::central_stencil(order);
    detail::check_step(h);
    return detail::apply_stencil([&](const mp_real& t) { return mp_real(f(mp_real(x + t))); }, h, s)
        .derivative;
}

}  // namespace gradproof::fd
