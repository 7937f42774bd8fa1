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
void check_loss_case(const subject& s, const loss_case<T>& c) {
    const auto& f = s.at<T>().softmax_loss;
    const auto out = call_entry("softmax_loss", [&] { return f(c.W, c.X, c.y, c.reg); });
    const lmatrix W = widen(c.W), X = widen(c.X);
    const auto ref = reference::softmax_loss(W, X, c.y, static_cast<long double>(c.reg));
    const auto tol = softmax_loss_tolerance<T>(W, X, c.y, static_cast<long double>(c.reg), ref);
    require_close<T>("loss", out.loss, ref.loss, tol.loss, tol.loss_componentwise);
    require_close<T>("dW", out.dW, ref.dW, tol.dW);
    if (out.dS.size() > 0) require_close<T>("dS", out.dS, ref.dS, tol.dS);
}

template <class T>
void check_cross_entropy_case(const subject& s, const logits_case<T>& c) {
    const auto out = call_entry("cross_entropy", [&] { return s.at<T>().cross_entropy(c.z, c.y); });
    const lmatrix z = widen(c.z);
    const auto ref = reference::cross_entropy(z, c.y);
    const auto tol = cross_entropy_tolerance<T>(z, c.y, ref);
    require_close<T>("loss", out.loss, ref.loss, tol.loss, tol.loss_componentwise);
    require_close<T>("dlogits", out.dlogits, ref.dlogits, tol.dlogits);
}

template <class T>
void loss_and_gradient_match_the_reference(const subject& s) {
    check_loss_case<T>(s, *gen::loss<T>());
}

template <class T>
void loss_and_gradient_lie_within_tolerance_of_the_certified_enclosure(const subject& s) {
    gen::loss_options opt;
    opt.shape.max_work = 6000;  // MPFI is several times slower than MPFR
    const auto c = *gen::loss<T>(opt);
    const auto out = call_entry("softmax_loss", [&] { return s.at<T>().softmax_loss(c.W, c.X, c.y, c.reg); });
    const lmatrix W = widen(c.W), X = widen(c.X);
    const auto cert = reference::certify_softmax_loss(W, X, c.y, static_cast<long double>(c.reg));
    const auto ref = reference::softmax_loss(W, X, c.y, static_cast<long double>(c.reg));
    const auto tol = softmax_loss_tolerance<T>(W, X, c.y, static_cast<long double>(c.reg), ref);
    // Distance to the enclosure: the point of [lo, hi] nearest to the output is a valid "exact".
    auto nearest = [](long double a, long double lo, long double hi) {
        if (std::isnan(lo) || std::isnan(hi)) return lo;
        return a < lo ? lo : a > hi ? hi : a;
    };
    require_close<T>("loss", out.loss, nearest(static_cast<long double>(out.loss), cert.loss.lo, cert.loss.hi), tol.loss);
    lmatrix e(c.W.rows(), c.W.cols());
    RC_ASSERT(out.dW.rows() == c.W.rows() && out.dW.cols() == c.W.cols());
    for (Eigen::Index i = 0; i < e.size(); ++i)
        e.data()[i] = nearest(static_cast<long double>(out.dW.data()[i]), cert.dW.lo.data()[i], cert.dW.hi.data()[i]);
    require_close<T>("dW", out.dW, e, tol.dW);
}

template <class T>
void cross_entropy_matches_the_reference(const subject& s) {
    check_cross_entropy_case<T>(s, *gen::logits<T>());
}

template <class T>
void softmax_matches_the_reference(const subject& s) {
    const auto c = *gen::logits<T>();
    const auto p = call_entry("softmax", [&] { return s.at<T>().softmax(c.z); });
    const lmatrix z = widen(c.z);
    const lmatrix ref = reference::softmax(z);
    const auto tol = softmax_tolerance<T>(z, ref);
    require_close<T>("probs", p, ref, tol.probs);
}

template <class T>
void log_softmax_matches_the_reference(const subject& s) {
    const auto c = *gen::logits<T>();
    const auto o = call_entry("log_softmax", [&] { return s.at<T>().log_softmax(c.z); });
    const lmatrix z = widen(c.z);
    const lmatrix ref = reference::log_softmax(z);
    const auto tol = softmax_tolerance<T>(z, reference::softmax(z));
    require_close<T>("log_probs", o, ref, tol.log_probs, &tol.log_probs_componentwise);
}

// Backward entry points take the forward output; feed them the correctly rounded reference
// forward output (what a correct forward pass returns), so only the backward formula is judged.
template <class T>
void softmax_backward_matches_the_reference_vjp(const subject& s) {
    gen::logits_options opt;
    opt.with_upstream = true;
    const auto c = *gen::logits<T>(opt);
    const matrix<T> p = convert<T>(reference::softmax(widen(c.z)));
    const auto dz = call_entry("softmax_backward", [&] { return s.at<T>().softmax_backward(p, c.g); });
    const lmatrix lp = widen(p), lg = widen(c.g);
    const lmatrix ref = reference::softmax_backward(lp, lg);
    require_close<T>("dlogits", dz, ref, softmax_backward_tolerance<T>(lp, lg, ref));
}

template <class T>
void log_softmax_backward_matches_the_reference_vjp(const subject& s) {
    gen::logits_options opt;
    opt.with_upstream = true;
    const auto c = *gen::logits<T>(opt);
    const matrix<T> o = convert<T>(reference::log_softmax(widen(c.z)));
    const auto dz = call_entry("log_softmax_backward", [&] { return s.at<T>().log_softmax_backward(o, c.g); });
    const lmatrix lo = widen(o), lg = widen(c.g);
    const lmatrix ref = reference::log_softmax_backward(lo, lg);
    require_close<T>("dlogits", dz, ref, log_softmax_backward_tolerance<T>(lo, lg, ref));
}

template <class T>
void loss_and_gradient_stay_finite_and_accurate_under_extreme_logits(const subject& s) {
    gen::loss_options opt;
    opt.hazards = gen::hazard_mode::extreme;
    check_loss_case<T>(s, *gen::loss<T>(opt));
}

template <class T>
void cross_entropy_stays_finite_and_accurate_under_extreme_logits(const subject& s) {
    gen::logits_options opt;
    opt.hazards = gen::hazard_mode::extreme;
    check_cross_entropy_case<T>(s, *gen::logits<T>(opt));
}

// Both must be within their own tolerance of the exact value, so they differ by at most the sum.
template <class T>
void agrees_elementwise_with_the_naive_loop(const subject& s) {
    const subject* naive = find_builtin("naive");
    const auto c = *gen::loss<T>();
    const auto a = call_entry("softmax_loss", [&] { return s.at<T>().softmax_loss(c.W, c.X, c.y, c.reg); });
    const auto b = naive->at<T>().softmax_loss(c.W, c.X, c.y, c.reg);
    const lmatrix W = widen(c.W), X = widen(c.X);
    const auto ref = reference::softmax_loss(W, X, c.y, static_cast<long double>(c.reg));
    const auto tol = softmax_loss_tolerance<T>(W, X, c.y, static_cast<long double>(c.reg), ref);
    require_close<T>("loss vs naive", a.loss, static_cast<long double>(b.loss), 2 * tol.loss);
    require_close<T>("dW vs naive", a.dW, widen(b.dW), lmatrix(2 * tol.dW));
}

template <class T>
void softmax_stays_accurate_at_language_model_widths(const subject& s) {
    gen::logits_options opt;
    opt.shape.wide = true;
    const auto c = *gen::logits<T>(opt);
    const auto p = call_entry("softmax", [&] { return s.at<T>().softmax(c.z); });
    const lmatrix z = widen(c.z);
    const lmatrix ref = reference::softmax(z);
    require_close<T>("probs", p, ref, softmax_tolerance<T>(z, ref).probs);
}

// Consistency between entry points: cross_entropy's dlogits must equal (softmax − onehot)/N
// computed from the same implementation's softmax. Both are within their tolerance of exact
// values that agree, so they may differ by tol(dlogits) + (tol(p) + rounding of p − 1)/N.
template <class T>
void cross_entropy_gradient_equals_softmax_minus_onehot_over_n(const subject& s) {
    gen::logits_options opt;
    opt.allow_masked = false;
    const auto c = *gen::logits<T>(opt);
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
    require_close<T>("dlogits vs (softmax − onehot)/N", ce.dlogits, expected, tol);
}

template <class T>
void cross_entropy_stays_accurate_at_language_model_widths(const subject& s) {
    gen::logits_options opt;
    opt.shape.wide = true;
    check_cross_entropy_case<T>(s, *gen::logits<T>(opt));
}

#define GRADPROOF_INSTANTIATE(T)                                                                 \
    template void loss_and_gradient_match_the_reference<T>(const subject&);                     \
    template void loss_and_gradient_lie_within_tolerance_of_the_certified_enclosure<T>(const subject&); \
    template void cross_entropy_matches_the_reference<T>(const subject&);                       \
    template void softmax_matches_the_reference<T>(const subject&);                             \
    template void log_softmax_matches_the_reference<T>(const subject&);                         \
    template void softmax_backward_matches_the_reference_vjp<T>(const subject&);                \
    template void log_softmax_backward_matches_the_reference_vjp<T>(const subject&);            \
    template void loss_and_gradient_stay_finite_and_accurate_under_extreme_logits<T>(const subject&); \
    template void cross_entropy_stays_finite_and_accurate_under_extreme_logits<T>(const subject&); \
    template void agrees_elementwise_with_the_naive_loop<T>(const subject&);                    \
    template void softmax_stays_accurate_at_language_model_widths<T>(const subject&);           \
    template void cross_entropy_gradient_equals_softmax_minus_onehot_over_n<T>(const subject&); \
    template void cross_entropy_stays_accurate_at_language_model_widths<T>(const subject&);     \
    template void check_loss_case<T>(const subject&, const loss_case<T>&);                      \
    template void check_cross_entropy_case<T>(const subject&, const logits_case<T>&);
GRADPROOF_INSTANTIATE(float)
GRADPROOF_INSTANTIATE(double)
#undef GRADPROOF_INSTANTIATE

}  // namespace gradproof::properties
