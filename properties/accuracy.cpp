#include "properties/accuracy.hpp"

#include "gen/generators.hpp"
#include "gen/show.hpp"
#include "impl/builtin.hpp"
#include "properties/checks.hpp"
#include "reference/interval.hpp"

#include <fmt/format.h>

namespace gradproof::properties {

using reference::lmatrix;

template <class T>
void check_loss_case(property_context& ctx, const subject& s, const loss_case<T>& c) {
    const auto& f = s.at<T>().softmax_loss;
    const auto out = call_entry("softmax_loss", [&] { return f(c.W, c.X, c.y, c.reg); });
    const lmatrix W = widen(c.W), X = widen(c.X);
    const auto ref = reference::softmax_loss(W, X, c.y, static_cast<long double>(c.reg));
    const auto tol = softmax_loss_tolerance<T>(W, X, c.y, static_cast<long double>(c.reg), ref);
    require_close<T>(ctx, "loss", out.loss, ref.loss, tol.loss, tol.loss_componentwise);
    require_close<T>(ctx, "dW", out.dW, ref.dW, tol.dW);
    if (out.dS.size() > 0) require_close<T>(ctx, "dS", out.dS, ref.dS, tol.dS);
}

template <class T>
void check_cross_entropy_case(property_context& ctx, const subject& s, const logits_case<T>& c) {
    const auto out = call_entry("cross_entropy", [&] { return s.at<T>().cross_entropy(c.z, c.y); });
    const lmatrix z = widen(c.z);
    const auto ref = reference::cross_entropy(z, c.y);
    const auto tol = cross_entropy_tolerance<T>(z, c.y, ref);
    require_close<T>(ctx, "loss", out.loss, ref.loss, tol.loss, tol.loss_componentwise);
    require_close<T>(ctx, "dlogits", out.dlogits, ref.dlogits, tol.dlogits);
}

template <class T>
void loss_and_gradient_match_the_reference(property_context& ctx, const subject& s) {
    check_loss_case<T>(ctx, s, ctx.loss<T>());
}

template <class T>
void loss_and_gradient_lie_within_tolerance_of_the_certified_enclosure(property_context& ctx, const subject& s) {
    gen::loss_options opt;
    opt.shape.max_work = 6000;  // MPFI is several times slower than MPFR
    const auto c = ctx.loss<T>(opt);
    const auto out = call_entry("softmax_loss", [&] { return s.at<T>().softmax_loss(c.W, c.X, c.y, c.reg); });
    const lmatrix W = widen(c.W), X = widen(c.X);
    const auto cert = reference::certify_softmax_loss(W, X, c.y, static_cast<long double>(c.reg));
    const auto ref = reference::softmax_loss(W, X, c.y, static_cast<long double>(c.reg));
    const auto tol = softmax_loss_tolerance<T>(W, X, c.y, static_cast<long double>(c.reg), ref);
    // Distance to the enclosure: the point of [lo, hi] nearest to the output is a valid "exact".
    require_close<T>(ctx, "loss", out.loss, reference::nearest_point(static_cast<long double>(out.loss), cert.loss), tol.loss);
    require_shape("dW", out.dW, c.W.rows(), c.W.cols());
    require_close<T>(ctx, "dW", out.dW, reference::nearest_points(out.dW, cert.dW), tol.dW);
}

template <class T>
void cross_entropy_matches_the_reference(property_context& ctx, const subject& s) {
    check_cross_entropy_case<T>(ctx, s, ctx.logits<T>());
}

template <class T>
void softmax_matches_the_reference(property_context& ctx, const subject& s) {
    const auto c = ctx.unlabelled_logits<T>();
    const auto p = call_entry("softmax", [&] { return s.at<T>().softmax(c.z); });
    const lmatrix z = widen(c.z);
    const lmatrix ref = reference::softmax(z);
    const auto tol = softmax_tolerance<T>(z, ref);
    require_close<T>(ctx, "probs", p, ref, tol.probs);
}

template <class T>
void log_softmax_matches_the_reference(property_context& ctx, const subject& s) {
    const auto c = ctx.unlabelled_logits<T>();
    const auto o = call_entry("log_softmax", [&] { return s.at<T>().log_softmax(c.z); });
    const lmatrix z = widen(c.z);
    const lmatrix ref = reference::log_softmax(z);
    const auto tol = softmax_tolerance<T>(z, reference::softmax(z));
    require_close<T>(ctx, "log_probs", o, ref, tol.log_probs, &tol.log_probs_componentwise);
}

// Backward entry points take the forward output; feed them the correctly rounded reference
// forward output (what a correct forward pass returns), so only the backward formula is judged.
template <class T>
void softmax_backward_matches_the_reference_vjp(property_context& ctx, const subject& s) {
    gen::logits_options opt;
    opt.with_upstream = true;
    const auto c = ctx.unlabelled_logits<T>(opt);
    const matrix<T> p = convert<T>(reference::softmax(widen(c.z)));
    const auto dz = call_entry("softmax_backward", [&] { return s.at<T>().softmax_backward(p, c.g); });
    const lmatrix lp = widen(p), lg = widen(c.g);
    const lmatrix ref = reference::softmax_backward(lp, lg);
    require_close<T>(ctx, "dlogits", dz, ref, softmax_backward_tolerance<T>(lp, lg, ref));
}

template <class T>
void log_softmax_backward_matches_the_reference_vjp(property_context& ctx, const subject& s) {
    gen::logits_options opt;
    opt.with_upstream = true;
    const auto c = ctx.unlabelled_logits<T>(opt);
    const matrix<T> o = convert<T>(reference::log_softmax(widen(c.z)));
    const auto dz = call_entry("log_softmax_backward", [&] { return s.at<T>().log_softmax_backward(o, c.g); });
    const lmatrix lo = widen(o), lg = widen(c.g);
    const lmatrix ref = reference::log_softmax_backward(lo, lg);
    require_close<T>(ctx, "dlogits", dz, ref, log_softmax_backward_tolerance<T>(lo, lg, ref));
}

template <class T>
void loss_and_gradient_stay_finite_and_accurate_under_extreme_logits(property_context& ctx, const subject& s) {
    gen::loss_options opt;
    opt.hazards = gen::hazard_mode::extreme;
    check_loss_case<T>(ctx, s, ctx.loss<T>(opt));
}

template <class T>
void cross_entropy_stays_finite_and_accurate_under_extreme_logits(property_context& ctx, const subject& s) {
    gen::logits_options opt;
    opt.hazards = gen::hazard_mode::extreme;
    check_cross_entropy_case<T>(ctx, s, ctx.logits<T>(opt));
}

// Both must be within their own tolerance of the exact value, so they differ by at most the sum.
template <class T>
void agrees_elementwise_with_the_naive_loop(property_context& ctx, const subject& s) {
    const subject* naive = find_builtin("naive");
    const auto c = ctx.loss<T>();
    const auto a = call_entry("softmax_loss", [&] { return s.at<T>().softmax_loss(c.W, c.X, c.y, c.reg); });
    const auto b = naive->at<T>().softmax_loss(c.W, c.X, c.y, c.reg);
    const lmatrix W = widen(c.W), X = widen(c.X);
    const auto ref = reference::softmax_loss(W, X, c.y, static_cast<long double>(c.reg));
    const auto tol = softmax_loss_tolerance<T>(W, X, c.y, static_cast<long double>(c.reg), ref);
    require_close<T>(ctx, "loss vs naive", a.loss, static_cast<long double>(b.loss), 2 * tol.loss);
    require_close<T>(ctx, "dW vs naive", a.dW, widen(b.dW), lmatrix(2 * tol.dW));
}

template <class T>
void softmax_stays_accurate_at_language_model_widths(property_context& ctx, const subject& s) {
    gen::logits_options opt;
    opt.shape.wide = true;
    const auto c = ctx.unlabelled_logits<T>(opt);
    const auto p = call_entry("softmax", [&] { return s.at<T>().softmax(c.z); });
    const lmatrix z = widen(c.z);
    const lmatrix ref = reference::softmax(z);
    require_close<T>(ctx, "probs", p, ref, softmax_tolerance<T>(z, ref).probs);
}

// Consistency between entry points: cross_entropy's dlogits must equal (softmax − onehot)/N
// computed from the same implementation's softmax. Both are within their tolerance of exact
// values that agree, so they may differ by tol(dlogits) + (tol(p) + rounding of p − 1)/N.
template <class T>
void cross_entropy_gradient_equals_softmax_minus_onehot_over_n(property_context& ctx, const subject& s) {
    gen::logits_options opt;
    opt.allow_masked = false;
    const auto c = ctx.logits<T>(opt);
    const auto ce = call_entry("cross_entropy", [&] { return s.at<T>().cross_entropy(c.z, c.y); });
    const auto p = call_entry("softmax", [&] { return s.at<T>().softmax(c.z); });
    require_shape("probs", p, c.z.rows(), c.z.cols());
    const lmatrix z = widen(c.z);
    const auto ref = reference::cross_entropy(z, c.y);
    const auto tce = cross_entropy_tolerance<T>(z, c.y, ref);
    const auto tp = softmax_tolerance<T>(z, ref.probs);
    const long double N = static_cast<long double>(c.z.rows());
    const long double u = unit_roundoff<T>();
    lmatrix expected = widen(p), tol(c.z.rows(), c.z.cols());
    for (Eigen::Index i = 0; i < c.z.rows(); ++i)
        for (Eigen::Index j = 0; j < c.z.cols(); ++j) {
            const long double ds = expected(i, j) - (j == c.y[static_cast<std::size_t>(i)] ? 1.0L : 0.0L);
            expected(i, j) = ds / N;
            tol(i, j) = tce.dlogits(i, j) + (tp.probs(i, j) + u * std::fabs(ds)) / N;
        }
    require_close<T>(ctx, "dlogits vs (softmax − onehot)/N", ce.dlogits, expected, tol);
}

// Consistency between softmax_loss's two outputs, black-box: dW must be the derivative of the
// same implementation's own loss. Along a direction V, with W± = fl(W ± h·V) (rounded in T) and
// Δ = W⁺ − W⁻ (formed exactly in long double), Taylor's theorem about W gives
//   L(W⁺) − L(W⁻) = ⟨∇L(W), Δ⟩ + ½(a⁺ᵀH a⁺ − a⁻ᵀH a⁻) + R₃,   a± = W± − W,
//   |R₃| ≤ (M₃/3)·h³ with M₃ = mean_i max over rows of range_j((x_i·V)_j)³ + 0:
// the third derivative of lse along s is the third central moment of s under p, at most
// range(s)³, and the regulariser is quadratic. The Hessian term vanishes for symmetric rounding;
// with r = a⁺ + a⁻ it is ≤ ½‖r‖·‖H‖·‖a⁺ − a⁻‖, ‖H‖ ≤ ½·mean_i‖x_i‖² + reg (‖diag p − ppᵀ‖ ≤ ½).
// The implementation's two losses and its dW are within their derived tolerances (tolerance.hpp)
// of the exact values, so
//   |L̂⁺ − L̂⁻ − ⟨dŴ, Δ⟩| ≤ tol_L(W⁺) + tol_L(W⁻) + Σ tol_dW|Δ| + F·(M₃h³/3 + Hessian term)
// plus long-double rounding of the comparison itself; F is the one safety factor. The step
// h = 2^⌊log₂ ∛(3·tol_L/M₃)⌋ balances the truncation and the rounding terms, so the relative
// resolution is about (u·|L|)^(2/3): coarser than the reference properties, but it needs nothing
// but the implementation's own outputs (an inconsistent loss/gradient pair: a missing 1/N, a
// reg·W term of the wrong size, a gradient of a different loss).
template <class T>
void gradient_matches_finite_differences_of_its_own_loss(property_context& ctx, const subject& s) {
    gen::loss_options opt;
    opt.shape.max_work = 2000;
    opt.hazards = gen::hazard_mode::ordinary;
    const auto c = ctx.loss<T>(opt);
    const matrix<T> V = ctx.draw("V", gen::direction<T>(c.W.rows(), c.W.cols())).V;
    const auto& f = s.at<T>().softmax_loss;
    const long double reg = static_cast<long double>(c.reg);
    const lmatrix W = widen(c.W), X = widen(c.X), Vl = widen(V);
    const Eigen::Index n = X.rows();

    long double m3 = 0, hess = reg;  // M₃ for V (per unit step), bound on ‖H‖
    for (Eigen::Index i = 0; i < n; ++i) {
        const Eigen::Matrix<long double, 1, Eigen::Dynamic> sv = X.row(i) * Vl;
        const long double range = sv.maxCoeff() - sv.minCoeff();
        m3 += range * range * range / static_cast<long double>(n);
        hess += 0.5L * X.row(i).squaredNorm() / static_cast<long double>(n);
    }
    const auto ref0 = reference::softmax_loss(W, X, c.y, reg);
    const auto tol0 = softmax_loss_tolerance<T>(W, X, c.y, reg, ref0);
    const long double h_opt = m3 > 0 ? std::cbrt(3 * tol0.loss / m3) : 1.0L;
    const T h = static_cast<T>(std::exp2(std::floor(std::log2(std::min(h_opt, 1.0L)))));

    const matrix<T> Wp = (c.W + h * V).eval(), Wm = (c.W - h * V).eval();
    const auto lp = call_entry("softmax_loss", [&] { return f(Wp, c.X, c.y, c.reg); });
    const auto lm = call_entry("softmax_loss", [&] { return f(Wm, c.X, c.y, c.reg); });
    const auto l0 = call_entry("softmax_loss", [&] { return f(c.W, c.X, c.y, c.reg); });
    require_shape("dW", l0.dW, c.W.rows(), c.W.cols());

    const lmatrix Wpl = widen(Wp), Wml = widen(Wm);
    const auto refp = reference::softmax_loss(Wpl, X, c.y, reg);
    const auto refm = reference::softmax_loss(Wml, X, c.y, reg);
    const long double tol_p = softmax_loss_tolerance<T>(Wpl, X, c.y, reg, refp).loss;
    const long double tol_m = softmax_loss_tolerance<T>(Wml, X, c.y, reg, refm).loss;

    const long double ul = std::numeric_limits<long double>::epsilon() / 2;
    const lmatrix delta = Wpl - Wml, ap = Wpl - W, am = Wml - W;
    const lmatrix dW = widen(l0.dW);
    const long double directional = (dW.array() * delta.array()).sum();
    const long double magnitude = (dW.array() * delta.array()).abs().sum();
    const long double grad_tol = (tol0.dW.array() * delta.array().abs()).sum();
    const long double hl = static_cast<long double>(h);
    const long double truncation = m3 * hl * hl * hl / 3 + 0.5L * (ap + am).norm() * hess * (ap - am).norm();
    const long double rounding = gamma(static_cast<long double>(dW.size() + 2), ul) * (magnitude + std::fabs(static_cast<long double>(lp.loss)) + std::fabs(static_cast<long double>(lm.loss)));
    const long double tol = tol_p + tol_m + grad_tol + tolerance_policy::safety_factor * (truncation + rounding);
    const long double fd = static_cast<long double>(lp.loss) - static_cast<long double>(lm.loss);
    require_close_ld<T>(ctx, fmt::format("L(W + hV) − L(W − hV) with h = {:g} vs ⟨dW, Δ⟩", static_cast<double>(h)), fd,
                        directional, tol);
}

template <class T>
void cross_entropy_stays_accurate_at_language_model_widths(property_context& ctx, const subject& s) {
    gen::logits_options opt;
    opt.shape.wide = true;
    check_cross_entropy_case<T>(ctx, s, ctx.logits<T>(opt));
}

#define GRADPROOF_INSTANTIATE(T)                                                                 \
    template void loss_and_gradient_match_the_reference<T>(property_context&, const subject&);                     \
    template void loss_and_gradient_lie_within_tolerance_of_the_certified_enclosure<T>(property_context&, const subject&); \
    template void cross_entropy_matches_the_reference<T>(property_context&, const subject&);                       \
    template void softmax_matches_the_reference<T>(property_context&, const subject&);                             \
    template void log_softmax_matches_the_reference<T>(property_context&, const subject&);                         \
    template void softmax_backward_matches_the_reference_vjp<T>(property_context&, const subject&);                \
    template void log_softmax_backward_matches_the_reference_vjp<T>(property_context&, const subject&);            \
    template void loss_and_gradient_stay_finite_and_accurate_under_extreme_logits<T>(property_context&, const subject&); \
    template void cross_entropy_stays_finite_and_accurate_under_extreme_logits<T>(property_context&, const subject&); \
    template void agrees_elementwise_with_the_naive_loop<T>(property_context&, const subject&);                    \
    template void softmax_stays_accurate_at_language_model_widths<T>(property_context&, const subject&);           \
    template void cross_entropy_gradient_equals_softmax_minus_onehot_over_n<T>(property_context&, const subject&); \
    template void cross_entropy_stays_accurate_at_language_model_widths<T>(property_context&, const subject&);     \
    template void gradient_matches_finite_differences_of_its_own_loss<T>(property_context&, const subject&);       \
    template void check_loss_case<T>(property_context&, const subject&, const loss_case<T>&);                      \
    template void check_cross_entropy_case<T>(property_context&, const subject&, const logits_case<T>&);
GRADPROOF_INSTANTIATE(float)
GRADPROOF_INSTANTIATE(double)
#undef GRADPROOF_INSTANTIATE

}  // namespace gradproof::properties
