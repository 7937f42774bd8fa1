#include "properties/invariances.hpp"

#include "gen/generators.hpp"
#include "gen/show.hpp"
#include "properties/checks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace gradproof::properties {

using reference::lmatrix;

namespace {

// Rounding error of combining outputs in long double (relative 2^-64 per operation).
constexpr long double u_ld = std::numeric_limits<long double>::epsilon() / 2;

// Quantises the values v (and k) to the grid q = 2^(E+1−p), where 2^E > max|v|, |k|: on it
// every sum v_j + k has at most p significant bits and is therefore exact in T.
template <class T>
void quantise_for_exact_shift(T* v, Eigen::Index n, T& k) {
    long double m = std::fabs(static_cast<long double>(k));
    for (Eigen::Index j = 0; j < n; ++j)
        if (std::isfinite(v[j])) m = std::max(m, std::fabs(static_cast<long double>(v[j])));
    if (m == 0) return;
    const int E = std::ilogb(m) + 1;
    const long double q = std::ldexp(1.0L, E + 1 - std::numeric_limits<T>::digits);
    auto snap = [q](T x) { return static_cast<T>(std::nearbyint(static_cast<long double>(x) / q) * q); };
    for (Eigen::Index j = 0; j < n; ++j)
        if (std::isfinite(v[j])) v[j] = snap(v[j]);
    k = snap(k);
}

// ±10^e with e on a grid of 0.01 up to the type's huge magnitudes, or in the ordinary domain up
// to half its logit bound (the cases are drawn within the other half).
template <class T>
rc::Gen<T> shift_gen(const property_context& ctx) {
    const long double huge = ctx.domain().kind == domain_kind::ordinary ? ctx.domain().max_abs_logit / 2
                             : std::is_same_v<T, float>                 ? 1e30L
                                                                        : 1e300L;
    return rc::gen::map(rc::gen::pair(rc::gen::inRange(0, static_cast<int>(std::floor(std::log10(huge) * 100)) + 1), rc::gen::arbitrary<bool>()),
                        [](const std::pair<int, bool>& p) { return static_cast<T>((p.second ? -1 : 1) * std::pow(10.0L, p.first / 100.0L)); });
}

// A uniformly random permutation of 0..n−1 (Fisher–Yates over drawn swap indices).
std::vector<std::size_t> draw_permutation(property_context& ctx, std::size_t n) {
    std::vector<std::size_t> idx(n);
    std::iota(idx.begin(), idx.end(), 0);
    for (std::size_t i = n; i > 1; --i) std::swap(idx[i - 1], idx[*rc::gen::inRange<std::size_t>(0, i)]);
    ctx.show("permutation", idx);
    return idx;
}

}  // namespace

template <class T>
void shift_leaves_softmax_unchanged(property_context& ctx, const subject& s) {
    gen::logits_options opt;
    opt.ordinary_headroom = 0.5;
    auto c = ctx.unlabelled_logits<T>(opt);
    matrix<T> shifted = c.z;
    for (Eigen::Index i = 0; i < c.z.rows(); ++i) {
        T k = *shift_gen<T>(ctx);
        quantise_for_exact_shift(c.z.row(i).data(), c.z.cols(), k);
        for (Eigen::Index j = 0; j < c.z.cols(); ++j) shifted(i, j) = c.z(i, j) + k;
    }
    ctx.show("logits (quantised for exact shifts)", c.z);
    ctx.show("shifted logits", shifted);
    ctx.note_logits(shifted);
    const auto p0 = call_entry("softmax", [&] { return s.at<T>().softmax(c.z); });
    const auto p1 = call_entry("softmax", [&] { return s.at<T>().softmax(shifted); });
    const lmatrix z0 = widen(c.z), z1 = widen(shifted);
    const lmatrix ref = reference::softmax(z0);
    const lmatrix tol = softmax_tolerance<T>(z0, ref).probs + softmax_tolerance<T>(z1, ref).probs;
    require_close<T>(ctx, "softmax(z + k) vs softmax(z)", p1, widen(p0), tol);
}

template <class T>
void shift_leaves_cross_entropy_loss_and_gradient_unchanged(property_context& ctx, const subject& s) {
    gen::logits_options opt;
    opt.ordinary_headroom = 0.5;
    auto c = ctx.logits<T>(opt);
    matrix<T> shifted = c.z;
    for (Eigen::Index i = 0; i < c.z.rows(); ++i) {
        T k = *shift_gen<T>(ctx);
        quantise_for_exact_shift(c.z.row(i).data(), c.z.cols(), k);
        for (Eigen::Index j = 0; j < c.z.cols(); ++j) shifted(i, j) = c.z(i, j) + k;
    }
    ctx.show("logits (quantised for exact shifts)", c.z);
    ctx.show("shifted logits", shifted);
    ctx.note_logits(shifted);
    const auto a = call_entry("cross_entropy", [&] { return s.at<T>().cross_entropy(c.z, c.y); });
    const auto b = call_entry("cross_entropy", [&] { return s.at<T>().cross_entropy(shifted, c.y); });
    const lmatrix z0 = widen(c.z), z1 = widen(shifted);
    const auto ref = reference::cross_entropy(z0, c.y);
    const auto t0 = cross_entropy_tolerance<T>(z0, c.y, ref), t1 = cross_entropy_tolerance<T>(z1, c.y, ref);
    require_close<T>(ctx, "loss(z + k) vs loss(z)", b.loss, static_cast<long double>(a.loss), t0.loss + t1.loss);
    require_close<T>(ctx, "dlogits(z + k) vs dlogits(z)", b.dlogits, widen(a.dlogits), lmatrix(t0.dlogits + t1.dlogits));
}

// S' = X·(W + v·1ᵀ) = S + (X·v)·1ᵀ: every row of scores moves by one constant.
template <class T>
void adding_a_vector_to_every_column_of_w_leaves_the_unregularized_loss_unchanged(property_context& ctx, const subject& s) {
    gen::loss_options opt;
    opt.ordinary_headroom = 0.5;
    auto c = ctx.loss<T>(opt, [](loss_case<T>& x) { x.reg = T(0); });
    std::vector<long double> v(static_cast<std::size_t>(c.W.rows()));
    for (auto& vk : v) vk = *rc::gen::inRange(-1000, 1001) / 8.0L;
    if (ctx.domain().kind == domain_kind::ordinary) {
        // The logits move by X·v: keep that within the half of the bound the case leaves free.
        long double reach = 0;
        for (Eigen::Index i = 0; i < c.X.rows(); ++i) {
            long double r = 0;
            for (Eigen::Index k = 0; k < c.X.cols(); ++k) r += std::fabs(static_cast<long double>(c.X(i, k))) * std::fabs(v[static_cast<std::size_t>(k)]);
            reach = std::max(reach, r);
        }
        const long double room = ctx.domain().max_abs_logit / 2;
        if (reach > room)
            for (auto& vk : v) vk *= room / reach;
    }
    matrix<T> W1 = c.W;
    for (Eigen::Index k = 0; k < c.W.rows(); ++k) {
        T vk = static_cast<T>(v[static_cast<std::size_t>(k)]);
        quantise_for_exact_shift(c.W.row(k).data(), c.W.cols(), vk);
        for (Eigen::Index j = 0; j < c.W.cols(); ++j) W1(k, j) = c.W(k, j) + vk;
    }
    ctx.show("W (quantised for exact sums)", c.W);
    ctx.show("W + v·1ᵀ", W1);
    ctx.note_loss_inputs(c.W, c.X);
    ctx.note_loss_inputs(W1, c.X);
    const auto a = call_entry("softmax_loss", [&] { return s.at<T>().softmax_loss(c.W, c.X, c.y, T(0)); });
    const auto b = call_entry("softmax_loss", [&] { return s.at<T>().softmax_loss(W1, c.X, c.y, T(0)); });
    const lmatrix W0l = widen(c.W), W1l = widen(W1), X = widen(c.X);
    const auto r0 = reference::softmax_loss(W0l, X, c.y, 0), r1 = reference::softmax_loss(W1l, X, c.y, 0);
    const auto t0 = softmax_loss_tolerance<T>(W0l, X, c.y, 0, r0), t1 = softmax_loss_tolerance<T>(W1l, X, c.y, 0, r1);
    require_close<T>(ctx, "L(W + v·1ᵀ) vs L(W)", b.loss, static_cast<long double>(a.loss), t0.loss + t1.loss);
}

template <class T>
void regularization_adds_reg_times_w_to_the_gradient(property_context& ctx, const subject& s) {
    auto c = ctx.loss<T>({}, [](loss_case<T>& x) {
        if (x.reg == T(0)) x.reg = T(0.25);
    });
    const auto a = call_entry("softmax_loss", [&] { return s.at<T>().softmax_loss(c.W, c.X, c.y, c.reg); });
    const auto b = call_entry("softmax_loss", [&] { return s.at<T>().softmax_loss(c.W, c.X, c.y, T(0)); });
    const lmatrix W = widen(c.W), X = widen(c.X);
    const long double reg = c.reg;
    const auto ra = reference::softmax_loss(W, X, c.y, reg), rb = reference::softmax_loss(W, X, c.y, 0);
    const auto ta = softmax_loss_tolerance<T>(W, X, c.y, reg, ra), tb = softmax_loss_tolerance<T>(W, X, c.y, 0, rb);
    require_shape("dW", a.dW, c.W.rows(), c.W.cols());
    require_shape("dW", b.dW, c.W.rows(), c.W.cols());
    for (Eigen::Index k = 0; k < W.size(); ++k) {
        const long double diff = static_cast<long double>(a.dW.data()[k]) - static_cast<long double>(b.dW.data()[k]);
        const long double expected = reg * W.data()[k];
        require_close_ld<T>(ctx, fmt::format("dW(reg) − dW(0) at flat index {}", k), diff, expected,
                            ta.dW.data()[k] + tb.dW.data()[k] + 2 * u_ld * (std::fabs(expected) + std::fabs(diff)));
    }
}

template <class T>
void regularization_adds_half_reg_times_squared_norm_to_the_loss(property_context& ctx, const subject& s) {
    auto c = ctx.loss<T>({}, [](loss_case<T>& x) {
        if (x.reg == T(0)) x.reg = T(0.25);
    });
    const auto a = call_entry("softmax_loss", [&] { return s.at<T>().softmax_loss(c.W, c.X, c.y, c.reg); });
    const auto b = call_entry("softmax_loss", [&] { return s.at<T>().softmax_loss(c.W, c.X, c.y, T(0)); });
    const lmatrix W = widen(c.W), X = widen(c.X);
    const long double reg = c.reg;
    const auto ra = reference::softmax_loss(W, X, c.y, reg), rb = reference::softmax_loss(W, X, c.y, 0);
    const auto ta = softmax_loss_tolerance<T>(W, X, c.y, reg, ra), tb = softmax_loss_tolerance<T>(W, X, c.y, 0, rb);
    // Where the exact L(reg) exceeds T's range, +inf is the correctly rounded L(reg) and the
    // difference is meaningless: require exactly that instead.
    if (std::fabs(ra.loss) >= static_cast<long double>(std::numeric_limits<T>::max())) {
        require_close<T>(ctx, "L(reg) beyond the range", a.loss, ra.loss, ta.loss);
        return;
    }
    const long double expected = ra.loss - rb.loss;  // ½·reg·‖W‖² from the reference
    const long double diff = static_cast<long double>(a.loss) - static_cast<long double>(b.loss);
    require_close_ld<T>(ctx, "L(reg) − L(0) vs ½·reg·‖W‖²", diff, expected,
                        ta.loss + tb.loss + 2 * u_ld * (std::fabs(ra.loss) + std::fabs(rb.loss)));
}

template <class T>
void permuting_the_batch_leaves_loss_and_gradient_unchanged(property_context& ctx, const subject& s) {
    auto c = ctx.loss<T>();
    const auto perm = draw_permutation(ctx, static_cast<std::size_t>(c.X.rows()));
    matrix<T> Xp(c.X.rows(), c.X.cols());
    label_vector yp(c.y.size());
    for (std::size_t i = 0; i < perm.size(); ++i) {
        Xp.row(static_cast<Eigen::Index>(i)) = c.X.row(static_cast<Eigen::Index>(perm[i]));
        yp[i] = c.y[perm[i]];
    }
    const auto a = call_entry("softmax_loss", [&] { return s.at<T>().softmax_loss(c.W, c.X, c.y, c.reg); });
    const auto b = call_entry("softmax_loss", [&] { return s.at<T>().softmax_loss(c.W, Xp, yp, c.reg); });
    const lmatrix W = widen(c.W), X = widen(c.X);
    const auto ref = reference::softmax_loss(W, X, c.y, static_cast<long double>(c.reg));
    const auto tol = softmax_loss_tolerance<T>(W, X, c.y, static_cast<long double>(c.reg), ref);
    require_close<T>(ctx, "L(permuted batch) vs L", b.loss, static_cast<long double>(a.loss), 2 * tol.loss);
    require_close<T>(ctx, "dW(permuted batch) vs dW", b.dW, widen(a.dW), lmatrix(2 * tol.dW));
}

template <class T>
void permuting_classes_permutes_the_gradient_and_keeps_the_loss(property_context& ctx, const subject& s) {
    auto c = ctx.loss<T>();
    const auto perm = draw_permutation(ctx, static_cast<std::size_t>(c.W.cols()));  // W'[:, j] = W[:, perm[j]]
    std::vector<std::int32_t> inverse(perm.size());
    for (std::size_t j = 0; j < perm.size(); ++j) inverse[perm[j]] = static_cast<std::int32_t>(j);
    matrix<T> Wp(c.W.rows(), c.W.cols());
    for (std::size_t j = 0; j < perm.size(); ++j) Wp.col(static_cast<Eigen::Index>(j)) = c.W.col(static_cast<Eigen::Index>(perm[j]));
    label_vector yp(c.y.size());
    for (std::size_t i = 0; i < c.y.size(); ++i) yp[i] = inverse[static_cast<std::size_t>(c.y[i])];
    const auto a = call_entry("softmax_loss", [&] { return s.at<T>().softmax_loss(c.W, c.X, c.y, c.reg); });
    const auto b = call_entry("softmax_loss", [&] { return s.at<T>().softmax_loss(Wp, c.X, yp, c.reg); });
    require_shape("dW", a.dW, c.W.rows(), c.W.cols());
    const lmatrix W = widen(c.W), X = widen(c.X);
    const auto ref = reference::softmax_loss(W, X, c.y, static_cast<long double>(c.reg));
    const auto tol = softmax_loss_tolerance<T>(W, X, c.y, static_cast<long double>(c.reg), ref);
    require_close<T>(ctx, "L(permuted classes) vs L", b.loss, static_cast<long double>(a.loss), 2 * tol.loss);
    lmatrix expected(c.W.rows(), c.W.cols()), t(c.W.rows(), c.W.cols());
    for (std::size_t j = 0; j < perm.size(); ++j) {
        const auto jj = static_cast<Eigen::Index>(j), pj = static_cast<Eigen::Index>(perm[j]);
        expected.col(jj) = widen(a.dW).col(pj);
        t.col(jj) = 2 * tol.dW.col(pj);
    }
    require_close<T>(ctx, "dW(permuted classes) vs permuted dW", b.dW, expected, t);
}

// L(A∪B) = (|A|·L(A) + |B|·L(B)) / (|A| + |B|) without regularisation; dW likewise.
template <class T>
void loss_over_a_union_of_batches_is_the_weighted_mean_of_their_losses(property_context& ctx, const subject& s) {
    auto c = ctx.loss<T>({}, [](loss_case<T>& x) { x.reg = T(0); });
    const Eigen::Index n = c.X.rows();
    if (n < 2) RC_DISCARD("needs two rows");
    const Eigen::Index na = ctx.draw("rows in A", rc::gen::inRange<Eigen::Index>(1, n));
    const Eigen::Index nb = n - na;
    const matrix<T> XA = c.X.topRows(na), XB = c.X.bottomRows(nb);
    const label_vector yA(c.y.begin(), c.y.begin() + na), yB(c.y.begin() + na, c.y.end());
    const auto& f = s.at<T>().softmax_loss;
    const auto all = call_entry("softmax_loss", [&] { return f(c.W, c.X, c.y, T(0)); });
    const auto a = call_entry("softmax_loss", [&] { return f(c.W, XA, yA, T(0)); });
    const auto b = call_entry("softmax_loss", [&] { return f(c.W, XB, yB, T(0)); });
    const lmatrix W = widen(c.W);
    auto tol_of = [&](const matrix<T>& X, const label_vector& y) {
        const lmatrix Xl = widen(X);
        return softmax_loss_tolerance<T>(W, Xl, y, 0, reference::softmax_loss(W, Xl, y, 0));
    };
    const auto t = tol_of(c.X, c.y), tA = tol_of(XA, yA), tB = tol_of(XB, yB);
    const long double wa = static_cast<long double>(na) / n, wb = static_cast<long double>(nb) / n;
    const long double combined = wa * a.loss + wb * b.loss;
    require_close_ld<T>(ctx, "L(A∪B) vs weighted mean", static_cast<long double>(all.loss), combined,
                        t.loss + wa * tA.loss + wb * tB.loss + 4 * u_ld * std::fabs(combined));
    require_shape("dW", all.dW, c.W.rows(), c.W.cols());
    for (Eigen::Index k = 0; k < W.size(); ++k) {
        const long double comb = wa * a.dW.data()[k] + wb * b.dW.data()[k];
        require_close_ld<T>(ctx, fmt::format("dW(A∪B) vs weighted mean at flat index {}", k),
                            static_cast<long double>(all.dW.data()[k]), comb,
                            t.dW.data()[k] + wa * tA.dW.data()[k] + wb * tB.dW.data()[k] + 4 * u_ld * std::fabs(comb));
    }
}

// Soft-label cross-entropy Σ_k t_k·ℓ(z, k) is linear in t, so its gradient assembled from the
// hard-label gradients (p − e_k) must equal p·Σt − t.
template <class T>
void soft_label_gradient_equals_p_times_sum_t_minus_t(property_context& ctx, const subject& s) {
    gen::logits_options opt;
    opt.shape.max_c = 64;
    opt.allow_masked = false;
    const auto c = ctx.unlabelled_logits<T>(opt);
    const Eigen::Index C = c.z.cols();
    const matrix<T> Z = c.z.topRows(1).replicate(C, 1);
    label_vector y(static_cast<std::size_t>(C));
    std::iota(y.begin(), y.end(), 0);
    std::vector<long double> t(static_cast<std::size_t>(C));
    for (auto& v : t) v = *rc::gen::inRange(0, 1001) / 1000.0L;
    ctx.show("soft label t", t);
    const auto out = call_entry("cross_entropy", [&] { return s.at<T>().cross_entropy(Z, y); });
    require_shape("dlogits", out.dlogits, C, C);
    const lmatrix Zl = widen(Z);
    const auto ref = reference::cross_entropy(Zl, y);
    const auto tol = cross_entropy_tolerance<T>(Zl, y, ref);
    long double tsum = 0;
    for (auto v : t) tsum += v;
    for (Eigen::Index j = 0; j < C; ++j) {
        long double g = 0, bound = 0, mag = 0;
        for (Eigen::Index k = 0; k < C; ++k) {
            const long double tk = t[static_cast<std::size_t>(k)];
            g += tk * C * static_cast<long double>(out.dlogits(k, j));  // dS = N·dlogits, N = C
            bound += tk * C * tol.dlogits(k, j);
            mag += std::fabs(tk * C * static_cast<long double>(out.dlogits(k, j)));
        }
        const long double expected = ref.probs(0, j) * tsum - t[static_cast<std::size_t>(j)];
        require_close_ld<T>(ctx, fmt::format("soft-label gradient[{}]", j), g, expected,
                            bound + 2 * static_cast<long double>(C) * u_ld * mag);
    }
}

#define GRADPROOF_INSTANTIATE(T)                                                                              \
    template void shift_leaves_softmax_unchanged<T>(property_context&, const subject&);                                         \
    template void shift_leaves_cross_entropy_loss_and_gradient_unchanged<T>(property_context&, const subject&);                 \
    template void adding_a_vector_to_every_column_of_w_leaves_the_unregularized_loss_unchanged<T>(property_context&, const subject&); \
    template void regularization_adds_reg_times_w_to_the_gradient<T>(property_context&, const subject&);                        \
    template void regularization_adds_half_reg_times_squared_norm_to_the_loss<T>(property_context&, const subject&);            \
    template void permuting_the_batch_leaves_loss_and_gradient_unchanged<T>(property_context&, const subject&);                 \
    template void permuting_classes_permutes_the_gradient_and_keeps_the_loss<T>(property_context&, const subject&);             \
    template void loss_over_a_union_of_batches_is_the_weighted_mean_of_their_losses<T>(property_context&, const subject&);      \
    template void soft_label_gradient_equals_p_times_sum_t_minus_t<T>(property_context&, const subject&);
GRADPROOF_INSTANTIATE(float)
GRADPROOF_INSTANTIATE(double)
#undef GRADPROOF_INSTANTIATE

}  // namespace gradproof::properties
