// High-precision finite differences with Richardson extrapolation: derivative, gradient and
// directional derivative in mp_real, plus the error-versus-step sweep used in reports.
//
// Error analysis (see stencil.hpp for the single stencil). A central stencil of order p has the
// error expansion D(h) = f' + c₁·h^p + c₂·h^(p+2) + c₃·h^(p+4) + …, so from the steps
// h, h/2, …, h/2^(L−1) (L = fd_options::levels) the Richardson tableau
//     T[i][0] = D(h/2^i),   T[i][k] = T[i][k−1] + (T[i][k−1] − T[i−1][k−1]) / (2^(p+2(k−1)) − 1)
// cancels one term per column: T[L−1][L−1] has truncation O(h^(p+2(L−1))). With the defaults
// (256 bits, order 4, h = 1e−12, L = 3) that is O(1e−96), already O(1e−48) for the bare stencil,
// while rounding stays near W·u/h ≈ 1.5·8.6e−78/1e−12 ≈ 1e−65 relative (the combination weights
// (r ± 1)/(r − 1) barely amplify it). Both are far below 1e−40: the result is exact to many more
// digits than any double holds, i.e. a reference for gradients computed in float or double.
//
// What Richardson buys: (1) an a-posteriori error estimate, the spread of the last tableau entries
// (Ridders 1982; Numerical Recipes' dfridr), which a single stencil cannot give; (2) high order from
// a narrow stencil, so a step that turns out too coarse for f's scale (large derivatives) still
// converges; (3) each column removes one more term, so even order 2 (O(h⁶) ≈ 1e−72 after two
// columns) reaches the rounding floor at the default step: all orders give ≈ 66 digits for exp.
//
// The error estimate is max(|T[L−1][L−1] − T[L−1][L−2]|, |T[L−1][L−1] − T[L−2][L−2]|) (truncation
// side, as in Ridders' method) plus a rounding bound propagated through the tableau by the triangle
// inequality from a per-evaluation noise of noise_ulps·u·(|f| + |x|·|f'|). It assumes f is
// evaluated to a few units of u relative to |f| (a short chain of correctly rounded MPFR
// operations); an ill-conditioned f needs more bits, not a larger estimate. It is deliberately
// pessimistic: the spread measures the error of the previous entries (order 2 at the defaults
// certifies ≈ 45–50 of its ≈ 66 correct digits), and when rounding dominates the bound sits
// ≈ 1e3–1e5 above the actual error. Either way it is far below what a double-precision check needs.
//
// Steps are relative, h·max(1, |x_i|): the node x_i ± j·h is rounded by up to u·|x_i|, so the rounding
// floor is ≈ u·|x_i|·|f'|/h; scaling h with |x_i| keeps that (and the relative perturbation of the
// input) constant whatever the magnitude of x_i, and the max(1, ·) keeps h from vanishing at 0.
//
// References:
//   L. F. Richardson, "The approximate arithmetical solution by finite differences of physical
//     problems involving differential equations, with an application to the stresses in a
//     masonry dam", Phil. Trans. R. Soc. A 210 (1911) 307–357.
//   L. F. Richardson, J. A. Gaunt, "The deferred approach to the limit", Phil. Trans. R. Soc. A 226
//     (1927) 299–361.
//   C. J. F. Ridders, "Accurate computation of F'(x) and F'(x)F''(x)", Adv. Eng. Software 4 (1982)
//     75–76; W. H. Press et al., Numerical Recipes, 3rd ed. (2007), §5.7.
//   B. Fornberg, "Generation of finite difference formulas on arbitrarily spaced grids",
//     Math. Comp. 51 (1988) 699–706.
//   Boost.Math, boost/math/differentiation/finite_difference.hpp (N. Thompson).
#pragma once

#include "core/scalar.hpp"
#include "fd/stencil.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace gradproof::fd {

struct fd_options {
    unsigned bits = 256;  // working precision of every operation, set with mp_precision_guard
    int order = 4;        // central stencil order: 2, 4, 6 or 8
    double step = 1e-12;  // relative base step h; the node spacing is h·max(1, |x_i|)
    int levels = 3;       // number of steps h, h/2, h/4, … in the Richardson tableau (≥ 2)
};

struct fd_estimate {
    mp_real value;           // most extrapolated tableau entry
    mp_real error_estimate;  // an upper-ish bound on |value − exact|
};

namespace detail {

// Per-evaluation noise assumed for f, in units of u = 2^-bits (see the header comment).
inline constexpr int noise_ulps = 16;

inline void validate(const fd_options& o) {
    central_stencil(o.order);  // throws "order: …"
    if (!(o.step > 0) || !std::isfinite(o.step)) {
        throw std::invalid_argument("step: fd_options::step must be finite and > 0, got " +
                                    std::to_string(o.step));
    }
    // Two levels are the minimum for an error estimate; 40 halvings of the step are far past the
    // point where rounding dominates at any sensible precision.
    if (o.levels < 2 || o.levels > 40) {
        throw std::invalid_argument("levels: fd_options::levels must be in [2, 40], got " +
                                    std::to_string(o.levels));
    }
    // Below single precision a finite difference is no reference for anything.
    if (o.bits < 24) {
        throw std::invalid_argument("bits: fd_options::bits must be >= 24, got " + std::to_string(o.bits));
    }
}

inline void check_point(const mp_real& x) {
    if (!isfinite(x)) throw std::invalid_argument("point: finite differences need a finite point");
}

// h·max(1, scale), at the current precision.
inline mp_real relative_step(double step, const mp_real& scale) {
    return mp_real(step) * (scale > 1 ? scale : mp_real(1));
}

// Richardson extrapolation of the central stencil over h0, h0/2, …, with eval(t) = f(x + t).
// abscissa_scale s models the rounding of the nodes: each evaluation is taken to be off by
// noise_ulps·u·(|f| + s·|f'|), i.e. s = |x| for a coordinate step.
template <class Eval>
fd_estimate richardson(Eval&& eval, const mp_real& h0, const mp_real& abscissa_scale, const fd_options& o) {
    const stencil& s = central_stencil(o.order);
    check_step(h0);
    const mp_real noise = ldexp(mp_real(noise_ulps), -static_cast<int>(o.bits));
    const double weight_sum = abs_weight_sum(s);
    const auto levels = static_cast<std::size_t>(o.levels);

    // Two rows of the tableau (values and propagated rounding bounds) suffice.
    std::vector<mp_real> prev, cur, prev_bound, cur_bound;
    mp_real h = h0;
    for (std::size_t i = 0; i < levels; ++i) {
        cur.assign(i + 1, mp_real(0));
        cur_bound.assign(i + 1, mp_real(0));
        const stencil_value sv = apply_stencil(eval, h, s);
        cur[0] = sv.derivative;
        cur_bound[0] = noise * (sv.abs_weighted + weight_sum * abscissa_scale * abs(sv.derivative) / h);
        for (std::size_t k = 1; k <= i; ++k) {
            // Column k removes the h^(p+2(k−1)) term; the step ratio is 2.
            const mp_real r = ldexp(mp_real(1), o.order + 2 * static_cast<int>(k - 1));
            cur[k] = cur[k - 1] + (cur[k - 1] - prev[k - 1]) / (r - 1);
            cur_bound[k] = (r * cur_bound[k - 1] + prev_bound[k - 1]) / (r - 1);
        }
        if (i + 1 < levels) {
            std::swap(prev, cur);
            std::swap(prev_bound, cur_bound);
            h /= 2;  // exact: only the exponent changes
        }
    }
    const std::size_t last = levels - 1;
    const mp_real spread_row = abs(cur[last] - cur[last - 1]);
    const mp_real spread_diag = abs(cur[last] - prev[last - 1]);
    return {cur[last], (spread_row > spread_diag ? spread_row : spread_diag) + cur_bound[last]};
}

inline mp_real max_abs(const std::vector<mp_real>& v) {
    mp_real m = 0;
    for (const mp_real& e : v) {
        const mp_real a = abs(e);
        if (a > m) m = a;
    }
    return m;
}

}  // namespace detail

// f'(x) for f: mp_real → mp_real, at options.bits precision.
template <class F>
fd_estimate derivative(F&& f, const mp_real& x, const fd_options& options = {}) {
    detail::validate(options);
    const mp_precision_guard guard(options.bits);
    detail::check_point(x);
    const mp_real scale = abs(x);
    return detail::richardson([&](const mp_real& t) { return mp_real(f(mp_real(x + t))); },
                              detail::relative_step(options.step, scale), scale, options);
}

// ∇f(x) for f: const std::vector<mp_real>& → mp_real, one coordinate at a time (2m·levels
// evaluations per coordinate). x is copied once; each coordinate is perturbed and restored in place.
template <class F>
std::vector<fd_estimate> gradient(F&& f, const std::vector<mp_real>& x, const fd_options& options = {}) {
    detail::validate(options);
    const mp_precision_guard guard(options.bits);
    for (const mp_real& xi : x) detail::check_point(xi);
    std::vector<mp_real> work(x);
    const std::vector<mp_real>& view = work;
    std::vector<fd_estimate> result;
    result.reserve(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        const mp_real& xi = x[i];
        const mp_real scale = abs(xi);
        result.push_back(detail::richardson(
            [&](const mp_real& t) {
                work[i] = xi + t;
                return mp_real(f(view));
            },
            detail::relative_step(options.step, scale), scale, options));
        work[i] = xi;
    }
    return result;
}

// d/dt f(x + t·v) at t = 0 = ⟨∇f(x), v⟩, for f: const std::vector<mp_real>& → mp_real; the cost
// (2m·levels evaluations) does not depend on the dimension.
//
// Step in t: h·max(1, ‖x‖∞)/‖v‖∞, so the largest coordinate perturbation |t·v_k| equals the
// gradient's coordinate step h·max(1, ‖x‖∞) whatever the scale of v (the result is linear in v).
// Node rounding moves f by up to u·‖x‖∞·‖∇f‖₁; ‖∇f‖₁ is unknown here and is modelled by
// |⟨∇f, v⟩|/‖v‖∞ (a lower bound of it), so the rounding part of the estimate is a model, not a
// bound, for gradients much larger than their component along v.
template <class F>
fd_estimate directional(F&& f, const std::vector<mp_real>& x, const std::vector<mp_real>& v,
                        const fd_options& options = {}) {
    detail::validate(options);
    if (x.size() != v.size()) {
        throw std::invalid_argument("direction: x has " + std::to_string(x.size()) + " entries, v has " +
                                    std::to_string(v.size()));
    }
    const mp_precision_guard guard(options.bits);
    for (const mp_real& xi : x) detail::check_point(xi);
    for (const mp_real& vi : v) detail::check_point(vi);
    const mp_real v_inf = detail::max_abs(v);
    if (v_inf == 0) return {mp_real(0), mp_real(0)};  // exactly 0 along the zero direction
    const mp_real x_inf = detail::max_abs(x);
    std::vector<mp_real> work(x);
    const std::vector<mp_real>& view = work;
    return detail::richardson(
        [&](const mp_real& t) {
            for (std::size_t k = 0; k < x.size(); ++k) work[k] = x[k] + t * v[k];
            return mp_real(f(view));
        },
        detail::relative_step(options.step, x_inf) / v_inf, x_inf / v_inf, options);
}

// One point of an error-versus-step curve: the relative step and the relative error of the
// derivative (absolute where the exact derivative is 0).
struct step_sweep_point {
    double step;
    double error;
};

// Options of the mp_real curve of step_sweep: enough levels that the extrapolation removes the
// truncation error even at the coarsest step 1e−1 (for functions analytic on a disc of radius
// ≳ 0.1·max(1, |x|) around x), so the curve is flat at the rounding floor.
inline constexpr fd_options step_sweep_mp_options{.bits = 256, .order = 8, .step = 1e-1, .levels = 12};

// Error of a finite-difference derivative of f at x against the exact derivative df, at the relative
// steps 1e−1, 1e−2, …, 1e−15 (node spacing step·max(1, |x|)). f and df are generic callables (e.g.
// generic lambdas) over the scalar type; df is evaluated in mp_real at mp_options.bits, so the
// reference is exact to far more digits than either curve resolves.
//   Scalar = double:  the plain order-2 central difference (f(x+h) − f(x−h))/2h in double:
//                     the classic V (truncation h²/6·|f'''| falling, rounding u/h rising).
//   Scalar = mp_real: derivative(f, x, mp_options with step = each step): flat and tiny, because
//                     precision removes the rounding side and Richardson the truncation side.
template <class Scalar = double, class F, class DF>
std::vector<step_sweep_point> step_sweep(F&& f, DF&& df, double x,
                                         const fd_options& mp_options = step_sweep_mp_options) {
    static_assert(std::is_same_v<Scalar, double> || std::is_same_v<Scalar, mp_real>,
                  "step_sweep: Scalar must be double or mp_real");
    detail::validate(mp_options);
    if (!std::isfinite(x)) throw std::invalid_argument("point: step_sweep needs a finite point");
    const mp_precision_guard guard(mp_options.bits);
    const mp_real exact = mp_real(df(mp_real(x)));
    const mp_real denominator = exact == 0 ? mp_real(1) : mp_real(abs(exact));

    std::vector<step_sweep_point> curve;
    for (int decade = 1; decade <= 15; ++decade) {
        const double step = std::pow(10.0, -decade);
        mp_real estimate;
        if constexpr (std::is_same_v<Scalar, double>) {
            const double h = step * std::max(1.0, std::abs(x));
            const double f_plus = static_cast<double>(f(x + h));
            const double f_minus = static_cast<double>(f(x - h));
            estimate = mp_real((f_plus - f_minus) / (2 * h));
        } else {
            fd_options o = mp_options;
            o.step = step;
            estimate = derivative(f, mp_real(x), o).value;
        }
        curve.push_back({step, static_cast<double>(mp_real(abs(estimate - exact) / denominator))});
    }
    return curve;
}

}  // namespace gradproof::fd
