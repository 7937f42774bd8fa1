#include "properties/identities.hpp"

#include "gen/generators.hpp"
#include "gen/show.hpp"
#include "properties/checks.hpp"

#include <Eigen/Eigenvalues>
#include <fmt/format.h>

#include <cmath>

namespace gradproof::properties {

using reference::lmatrix;

// Rows of dS = softmax − onehot sum to 0: |Σ_j dS_ij| ≤ Σ_j tol_ij (each element is within its
// tolerance of an exact value, and the exact values sum to 0).
template <class T>
void every_row_of_ds_sums_to_zero(property_context& ctx, const subject& s) {
    const auto c = ctx.loss<T>();
    const auto out = call_entry("softmax_loss", [&] { return s.at<T>().softmax_loss(c.W, c.X, c.y, c.reg); });
    if (out.dS.size() == 0) RC_DISCARD("softmax_loss does not expose dS");
    require_shape("dS", out.dS, c.X.rows(), c.W.cols());
    const lmatrix W = widen(c.W), X = widen(c.X);
    const auto ref = reference::softmax_loss(W, X, c.y, static_cast<long double>(c.reg));
    const auto tol = softmax_loss_tolerance<T>(W, X, c.y, static_cast<long double>(c.reg), ref);
    for (Eigen::Index i = 0; i < out.dS.rows(); ++i)
        require_close_ld<T>(ctx, fmt::format("Σ_j dS[{},j]", i), widen(out.dS).row(i).sum(), 0, tol.dS.row(i).sum());
}

template <class T>
void every_softmax_row_sums_to_one(property_context& ctx, const subject& s) {
    gen::logits_options opt;
    const auto c = ctx.unlabelled_logits<T>(opt);
    const auto p = call_entry("softmax", [&] { return s.at<T>().softmax(c.z); });
    require_shape("probs", p, c.z.rows(), c.z.cols());
    const lmatrix z = widen(c.z);
    const lmatrix ref = reference::softmax(z);
    const auto tol = softmax_tolerance<T>(z, ref);
    for (Eigen::Index i = 0; i < p.rows(); ++i) {
        if (std::isnan(ref(i, 0))) continue;  // an undefined row (all masked)
        require_close_ld<T>(ctx, fmt::format("Σ_j probs[{},j]", i), widen(p).row(i).sum(), 1, tol.probs.row(i).sum());
    }
}

// Exact: a correctly computed probability is a rounded value of a real in [0, 1].
template <class T>
void probabilities_lie_in_the_unit_interval(property_context& ctx, const subject& s) {
    const auto c = ctx.unlabelled_logits<T>();
    const auto p = call_entry("softmax", [&] { return s.at<T>().softmax(c.z); });
    require_shape("probs", p, c.z.rows(), c.z.cols());
    for (Eigen::Index i = 0; i < p.rows(); ++i) {
        bool defined = false;
        for (Eigen::Index j = 0; j < p.cols(); ++j) defined = defined || std::isfinite(c.z(i, j));
        if (!defined) continue;
        for (Eigen::Index j = 0; j < p.cols(); ++j)
            if (!(p(i, j) >= T(0) && p(i, j) <= T(1)))
                GRADPROOF_FAIL(fmt::format("probs[{},{}] = {} lies outside [0, 1]", i, j, format_exact<T>(p(i, j))));
    }
}

namespace {
// One logit row (C ≤ 128) and the Jacobian rows J_i = softmax_backward(p, e_i) = p ⊙ (e_i − p_i),
// computed by the subject from the correctly rounded probabilities p.
template <class T>
struct jacobian_case {
    matrix<T> p;   // 1×C
    matrix<T> J;   // C×C, as returned by the subject
    lmatrix tol;   // tolerance of each J element
    lmatrix exact; // reference J for the given p
};

template <class T>
jacobian_case<T> jacobian_of(property_context& ctx, const subject& s) {
    gen::logits_options opt;
    opt.shape.max_c = 128;
    opt.allow_masked = false;
    const auto c = ctx.unlabelled_logits<T>(opt);
    jacobian_case<T> jc;
    jc.p = convert<T>(reference::softmax(widen(matrix<T>(c.z.topRows(1)))));
    const Eigen::Index C = c.z.cols();
    const matrix<T> P = jc.p.replicate(C, 1);
    const matrix<T> G = matrix<T>::Identity(C, C);
    jc.J = call_entry("softmax_backward", [&] { return s.at<T>().softmax_backward(P, G); });
    require_shape("J", jc.J, C, C);
    const lmatrix lP = widen(P), lG = widen(G);
    jc.exact = reference::softmax_backward(lP, lG);
    jc.tol = softmax_backward_tolerance<T>(lP, lG, jc.exact);
    return jc;
}
}  // namespace

template <class T>
void softmax_jacobian_is_symmetric(property_context& ctx, const subject& s) {
    const auto jc = jacobian_of<T>(ctx, s);
    const lmatrix J = widen(jc.J);
    for (Eigen::Index i = 0; i < J.rows(); ++i)
        for (Eigen::Index j = i + 1; j < J.cols(); ++j)
            require_close_ld<T>(ctx, fmt::format("J[{},{}] − J[{},{}]", i, j, j, i), J(i, j) - J(j, i), 0,
                                jc.tol(i, j) + jc.tol(j, i));
}

// J·1 = p ⊙ (1 − Σp): zero for exact probabilities; for the rounded p given, exactly p_i(1 − Σp).
template <class T>
void softmax_jacobian_annihilates_the_ones_vector(property_context& ctx, const subject& s) {
    const auto jc = jacobian_of<T>(ctx, s);
    const lmatrix J = widen(jc.J), p = widen(jc.p);
    const long double deficit = 1 - p.sum();
    for (Eigen::Index i = 0; i < J.rows(); ++i)
        require_close_ld<T>(ctx, fmt::format("(J·1)[{}]", i), J.row(i).sum(), p(0, i) * deficit, jc.tol.row(i).sum());
}

// By Weyl's inequality the smallest eigenvalue moves by at most ‖ΔJ‖_2 ≤ ‖tol‖_F; the exact
// diag(p) − ppᵀ has λ_min ≥ −|1 − Σp|·max p for the rounded p.
template <class T>
void softmax_jacobian_is_positive_semidefinite(property_context& ctx, const subject& s) {
    const auto jc = jacobian_of<T>(ctx, s);
    const lmatrix J = widen(jc.J);
    const lmatrix sym = (J + J.transpose()) / 2;
    for (Eigen::Index k = 0; k < sym.size(); ++k)
        if (!std::isfinite(sym.data()[k])) GRADPROOF_FAIL("J contains a non-finite element");
    Eigen::SelfAdjointEigenSolver<lmatrix> es(sym, Eigen::EigenvaluesOnly);
    const long double lambda_min = es.eigenvalues().minCoeff();
    const lmatrix p = widen(jc.p);
    const long double allowed = jc.tol.norm() + std::fabs(1 - p.sum()) * p.maxCoeff() +
                                // symmetric QR in long double: backward error O(n·ε·‖J‖) (Golub & Van Loan §8.3)
                                static_cast<long double>(J.rows()) * std::numeric_limits<long double>::epsilon() * J.norm();
    if (lambda_min < -allowed)
        GRADPROOF_FAIL(fmt::format("λ_min(J) = {:.6Lg} < −{:.3Lg}", lambda_min, allowed));
}

template <class T>
void loss_is_nonnegative_without_regularization(property_context& ctx, const subject& s) {
    auto c = ctx.loss<T>();
    c.reg = T(0);
    const auto out = call_entry("softmax_loss", [&] { return s.at<T>().softmax_loss(c.W, c.X, c.y, c.reg); });
    const lmatrix W = widen(c.W), X = widen(c.X);
    const auto ref = reference::softmax_loss(W, X, c.y, 0);
    const auto tol = softmax_loss_tolerance<T>(W, X, c.y, 0, ref);
    if (!(static_cast<long double>(out.loss) >= -tol.loss))
        GRADPROOF_FAIL(fmt::format("loss = {} < 0 (allowed down to −{:.3Lg})", format_exact<T>(out.loss), tol.loss));
}

template <class T>
void loss_at_zero_weights_is_log_c(property_context& ctx, const subject& s) {
    auto c = ctx.loss<T>();
    c.W.setZero();
    c.reg = T(0);
    const auto out = call_entry("softmax_loss", [&] { return s.at<T>().softmax_loss(c.W, c.X, c.y, c.reg); });
    const lmatrix W = widen(c.W), X = widen(c.X);
    const auto ref = reference::softmax_loss(W, X, c.y, 0);
    const auto tol = softmax_loss_tolerance<T>(W, X, c.y, 0, ref);
    require_close<T>(ctx, fmt::format("loss vs log C (C = {})", c.W.cols()), out.loss, ref.loss, tol.loss);
}

namespace {
template <class V>
void require_same_bits(const char* what, const V& a, const V& b) {
    if (!bitwise_equal(a, b)) GRADPROOF_FAIL(fmt::format("two calls with the same input differ: {}", what));
}
}  // namespace

template <class T>
void repeated_calls_are_bitwise_identical(property_context& ctx, const subject& s) {
    const auto& e = s.at<T>();
    if (e.softmax_loss) {
        const auto c = ctx.loss<T>();
        const auto a = call_entry("softmax_loss", [&] { return e.softmax_loss(c.W, c.X, c.y, c.reg); });
        const auto b = call_entry("softmax_loss", [&] { return e.softmax_loss(c.W, c.X, c.y, c.reg); });
        require_same_bits("softmax_loss loss", a.loss, b.loss);
        require_same_bits("softmax_loss dW", a.dW, b.dW);
        require_same_bits("softmax_loss dS", a.dS, b.dS);
    }
    gen::logits_options opt;
    opt.with_upstream = true;
    const auto z = ctx.logits<T>(opt);
    if (e.softmax) require_same_bits("softmax", e.softmax(z.z), e.softmax(z.z));
    if (e.log_softmax) require_same_bits("log_softmax", e.log_softmax(z.z), e.log_softmax(z.z));
    if (e.cross_entropy) {
        const auto a = e.cross_entropy(z.z, z.y), b = e.cross_entropy(z.z, z.y);
        require_same_bits("cross_entropy loss", a.loss, b.loss);
        require_same_bits("cross_entropy dlogits", a.dlogits, b.dlogits);
    }
    if (e.softmax_backward) require_same_bits("softmax_backward", e.softmax_backward(z.z, z.g), e.softmax_backward(z.z, z.g));
    if (e.log_softmax_backward)
        require_same_bits("log_softmax_backward", e.log_softmax_backward(z.z, z.g), e.log_softmax_backward(z.z, z.g));
}

#define GRADPROOF_INSTANTIATE(T)                                                   \
    template void every_row_of_ds_sums_to_zero<T>(property_context&, const subject&);                \
    template void every_softmax_row_sums_to_one<T>(property_context&, const subject&);               \
    template void probabilities_lie_in_the_unit_interval<T>(property_context&, const subject&);      \
    template void softmax_jacobian_is_symmetric<T>(property_context&, const subject&);               \
    template void softmax_jacobian_annihilates_the_ones_vector<T>(property_context&, const subject&); \
    template void softmax_jacobian_is_positive_semidefinite<T>(property_context&, const subject&);   \
    template void loss_is_nonnegative_without_regularization<T>(property_context&, const subject&);  \
    template void loss_at_zero_weights_is_log_c<T>(property_context&, const subject&);               \
    template void repeated_calls_are_bitwise_identical<T>(property_context&, const subject&);
GRADPROOF_INSTANTIATE(float)
GRADPROOF_INSTANTIATE(double)
#undef GRADPROOF_INSTANTIATE

}  // namespace gradproof::properties
