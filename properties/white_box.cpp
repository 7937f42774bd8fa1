#include "properties/white_box.hpp"

#include "fd/richardson.hpp"
#include "gen/generators.hpp"
#include "gen/show.hpp"
#include "properties/checks.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace gradproof::properties {

namespace {

// 256 bits, order 4, two Richardson levels: the extrapolated value is accurate to ≈ 60 digits on
// these functions (tests/fd), far beyond the 25 required, at two thirds of the cost of three levels.
fd::fd_options fd_settings() { return fd::fd_options{.bits = 256, .order = 4, .step = 1e-12, .levels = 2}; }

// 10^-digits as an mp_real at the current precision.
mp_real agreement(int digits) { return pow(mp_real(10), -digits); }

template <class T>
struct mp_case {
    matrix<mp_real> W, X;
    mp_real reg;
    label_vector y;
};

template <class T>
mp_case<T> to_mp(const loss_case<T>& c) {
    mp_case<T> m;
    m.W = convert<mp_real>(convert<long double>(c.W));
    m.X = convert<mp_real>(convert<long double>(c.X));
    m.reg = mp_real(static_cast<long double>(c.reg));
    m.y = c.y;
    return m;
}

std::vector<mp_real> flatten(const matrix<mp_real>& m) { return {m.data(), m.data() + m.size()}; }
matrix<mp_real> unflatten(const std::vector<mp_real>& v, Eigen::Index rows, Eigen::Index cols) {
    matrix<mp_real> m(rows, cols);
    for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = v[static_cast<std::size_t>(k)];
    return m;
}

std::string sci(const mp_real& x) { return x.str(6, std::ios_base::scientific); }

// Both values agree to `digits` significant digits relative to `scale` (normwise).
void require_digits(property_context& ctx, const std::string& what, const mp_real& analytic, const mp_real& fd_value, const mp_real& fd_error,
                    const mp_real& scale) {
    const mp_real tol = agreement(white_box_digits) * scale;
    if (fd_error > tol / 10) RC_DISCARD("finite differences inconclusive at this point");
    const mp_real diff = abs(analytic - fd_value);
    const mp_real margin = tol > 0 ? mp_real(diff / tol) : mp_real(diff > 0 ? 1e300 : 0);
    auto& m = ctx.margins();
    const long double lm = static_cast<long double>(margin);
    if (lm > m.normwise) {
        m.normwise = lm;
        m.worst_where = what;
    }
    if (margin > 1)
        GRADPROOF_FAIL(fmt::format("{}: analytic {} vs 256-bit finite differences {} (FD error estimate {}): agreement "
                            "only to {} relative to scale {}, need 1e-{}",
                            what, sci(analytic), sci(fd_value), sci(fd_error), sci(mp_real(diff / scale)), sci(scale),
                            white_box_digits));
}

// Natural magnitude of each dW element: |dS_ij| ≤ 1, so |dW_kj| ≤ (1/N)·Σ_i|X_ik| + reg·|W_kj|.
// Agreement is required to 25 digits relative to this bound (normwise), not relative to the
// element itself: a gradient element of 1e−85 next to O(1) ones cannot be resolved by any
// evaluation of the loss, which has O(1) absolute rounding at 256 bits.
matrix<mp_real> gradient_bound(const matrix<mp_real>& W, const matrix<mp_real>& X, const mp_real& reg) {
    matrix<mp_real> b(W.rows(), W.cols());
    for (Eigen::Index k = 0; k < W.rows(); ++k) {
        mp_real col = 0;
        for (Eigen::Index i = 0; i < X.rows(); ++i) col += abs(X(i, k));
        col /= X.rows();
        for (Eigen::Index j = 0; j < W.cols(); ++j) b(k, j) = col + reg * abs(W(k, j));
    }
    return b;
}

gen::loss_options small_ordinary() {
    gen::loss_options o;
    o.hazards = gen::hazard_mode::ordinary;
    // The full gradient costs D·C·2·order·levels/2 loss evaluations at 256 bits: small shapes
    // here; larger ones are covered by the directional property.
    o.shape.max_c = 5;
    o.shape.max_d = 4;
    o.shape.max_n = 6;
    o.shape.max_work = 80;
    return o;
}

}  // namespace

template <class T>
void gradient_equals_multiprecision_finite_differences(property_context& ctx, const subject& s) {
    const auto c = ctx.loss<T>(small_ordinary());
    const auto opt = fd_settings();
    const mp_precision_guard guard(opt.bits);
    const auto m = to_mp(c);
    const auto analytic = call_entry("softmax_loss<mp_real>", [&] { return s.softmax_loss_mp(m.W, m.X, m.y, m.reg); });
    require_shape("dW", analytic.dW, m.W.rows(), m.W.cols());
    const auto rows = m.W.rows(), cols = m.W.cols();
    const auto est = fd::gradient(
        [&](const std::vector<mp_real>& w) { return s.softmax_loss_mp(unflatten(w, rows, cols), m.X, m.y, m.reg).loss; },
        flatten(m.W), opt);
    const matrix<mp_real> bound = gradient_bound(m.W, m.X, m.reg);
    mp_real scale = 0;
    for (Eigen::Index k = 0; k < bound.size(); ++k) scale = std::max<mp_real>(scale, bound.data()[k]);
    for (Eigen::Index k = 0; k < analytic.dW.size(); ++k)
        require_digits(ctx, fmt::format("dW[{},{}]", k / cols, k % cols), analytic.dW.data()[k],
                       est[static_cast<std::size_t>(k)].value, est[static_cast<std::size_t>(k)].error_estimate, scale);
}

template <class T>
void directional_derivative_equals_multiprecision_finite_differences(property_context& ctx, const subject& s) {
    gen::loss_options o;
    o.hazards = gen::hazard_mode::ordinary;
    o.shape.max_work = 1200;
    const auto c = ctx.loss<T>(o);
    const auto V = ctx.draw("V", gen::direction<double>(c.W.rows(), c.W.cols())).V;
    const auto opt = fd_settings();
    const mp_precision_guard guard(opt.bits);
    const auto m = to_mp(c);
    const matrix<mp_real> Vm = convert<mp_real>(convert<long double>(V));
    const auto analytic = call_entry("softmax_loss<mp_real>", [&] { return s.softmax_loss_mp(m.W, m.X, m.y, m.reg); });
    require_shape("dW", analytic.dW, m.W.rows(), m.W.cols());
    const matrix<mp_real> bound = gradient_bound(m.W, m.X, m.reg);
    mp_real inner = 0, scale = 0;
    for (Eigen::Index k = 0; k < Vm.size(); ++k) {
        inner += analytic.dW.data()[k] * Vm.data()[k];
        scale += abs(Vm.data()[k]) * bound.data()[k];
    }
    const auto rows = m.W.rows(), cols = m.W.cols();
    const auto est = fd::directional(
        [&](const std::vector<mp_real>& w) { return s.softmax_loss_mp(unflatten(w, rows, cols), m.X, m.y, m.reg).loss; },
        flatten(m.W), flatten(Vm), opt);
    require_digits(ctx, "⟨dW, V⟩", inner, est.value, est.error_estimate, scale);
}

template <class T>
void hessian_vector_products_are_symmetric(property_context& ctx, const subject& s) {
    const auto c = ctx.loss<T>(small_ordinary());
    const auto V1 = ctx.draw("V1", gen::direction<double>(c.W.rows(), c.W.cols())).V;
    const auto V2 = ctx.draw("V", gen::direction<double>(c.W.rows(), c.W.cols())).V;
    const auto opt = fd_settings();
    const mp_precision_guard guard(opt.bits);
    const auto m = to_mp(c);
    const matrix<mp_real> A = convert<mp_real>(convert<long double>(V1)), B = convert<mp_real>(convert<long double>(V2));
    // ⟨U, H·V⟩ = d/dt ⟨U, ∇L(W + t·V)⟩ at t = 0.
    auto hvp = [&](const matrix<mp_real>& U, const matrix<mp_real>& V) {
        return fd::derivative(
            [&](const mp_real& t) {
                const matrix<mp_real> Wt = m.W + t * V;
                const auto r = s.softmax_loss_mp(Wt, m.X, m.y, m.reg);
                mp_real acc = 0;
                for (Eigen::Index k = 0; k < U.size(); ++k) acc += U.data()[k] * r.dW.data()[k];
                return acc;
            },
            mp_real(0), opt);
    };
    const auto ab = call_entry("softmax_loss<mp_real>", [&] { return hvp(A, B); });
    const auto ba = call_entry("softmax_loss<mp_real>", [&] { return hvp(B, A); });
    // Scale: a bound on |⟨U, H·V⟩| ≤ ‖U‖_F‖V‖_F‖H‖₂ with ‖H‖₂ ≤ ‖X‖²_F/(2N) + reg (each row's
    // softmax Jacobian has norm ≤ ½). Relative to it the two products must agree to 25 digits; a
    // Hessian value far below it (probabilities of 1e−87) is then compared at the right scale.
    mp_real xn = 0, an = 0, bn = 0;
    for (Eigen::Index k = 0; k < m.X.size(); ++k) xn += m.X.data()[k] * m.X.data()[k];
    for (Eigen::Index k = 0; k < A.size(); ++k) {
        an += A.data()[k] * A.data()[k];
        bn += B.data()[k] * B.data()[k];
    }
    const mp_real scale = sqrt(an) * sqrt(bn) * (xn / (2 * mp_real(m.X.rows())) + m.reg);
    require_digits(ctx, "⟨V1, H·V2⟩ vs ⟨V2, H·V1⟩", ab.value, ba.value, ab.error_estimate + ba.error_estimate, scale);
}

#define GRADPROOF_INSTANTIATE(T)                                                                      \
    template void gradient_equals_multiprecision_finite_differences<T>(property_context&, const subject&);              \
    template void directional_derivative_equals_multiprecision_finite_differences<T>(property_context&, const subject&); \
    template void hessian_vector_products_are_symmetric<T>(property_context&, const subject&);
GRADPROOF_INSTANTIATE(float)
GRADPROOF_INSTANTIATE(double)
#undef GRADPROOF_INSTANTIATE

}  // namespace gradproof::properties
