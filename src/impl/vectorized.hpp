// vectorized: Eigen implementation using the accurate shifted formulas of Blanchard, Higham &
// Higham, "Accurately computing the log-sum-exp and softmax functions", IMA J. Numer. Anal.
// 41(4), 2021:
//   a = max_j z_j at index k,  s = Σ_{j≠k} exp(z_j − a),
//   lse = a + log1p(s),  p_j = exp(z_j − a) / (1 + s),  log p_j = (z_j − a) − log1p(s),
//   ℓ = (a − z_y) + log1p(s).
// Nothing overflows (every exponent is ≤ 0), the loss never passes through a rounded
// probability (so it stays finite when p_y underflows), the difference a − z_y is formed before
// the O(1) log term is added (so huge equal logits keep log 2), and log1p keeps log-probabilities
// next to 0 componentwise accurate. Rounding-error bounds for these formulas are in
// src/error/tolerance.hpp. softmax_loss and cross_entropy share the per-row kernel of
// kernels/fused_loss.hpp; softmax_loss runs fused over blocks of X on up to num_threads() threads.
#pragma once

#include "core/matrix.hpp"
#include "core/validate.hpp"
#include "kernels/fused_loss.hpp"
#include "impl/math.hpp"

namespace gradproof::impl {

struct vectorized {
    // Per-row statistics of one logit row: max a at index k, s = Σ_{j≠k} exp(z_j − a), and the
    // unnormalised weights e_j = exp(z_j − a). valid is false for a row holding NaN or +inf, or
    // with every class masked; such a row yields NaN outputs, other rows are unaffected.
    template <class T>
    struct row_stats {
        Eigen::Matrix<T, Eigen::Dynamic, 1> max;
        Eigen::Matrix<T, Eigen::Dynamic, 1> rest;  // s
        std::vector<bool> valid;
        matrix<T> e;
    };

    template <class T>
    static row_stats<T> stats(const matrix<T>& z) {
        const Eigen::Index n = z.rows(), c = z.cols();
        row_stats<T> st;
        st.max.resize(n);
        st.rest.resize(n);
        st.valid.assign(static_cast<std::size_t>(n), true);
        st.e.resize(n, c);
        for (Eigen::Index i = 0; i < n; ++i) {
            Eigen::Index k = 0;
            bool ok = true;
            for (Eigen::Index j = 0; j < c; ++j) {
                if (detail::isnan_(z(i, j)) || z(i, j) == detail::inf_<T>()) ok = false;
                if (z(i, j) > z(i, k)) k = j;
            }
            const T a = z(i, k);
            if (a == -detail::inf_<T>()) ok = false;
            st.valid[static_cast<std::size_t>(i)] = ok;
            st.max(i) = a;
            if (!ok) {
                st.e.row(i).setConstant(detail::nan_<T>());
                st.rest(i) = detail::nan_<T>();
                continue;
            }
            st.e.row(i) = (z.row(i).array() - a).unaryExpr([](const T& v) { return detail::exp_(v); });
            st.e(i, k) = T(1);
            // Σ_{j≠k} directly: subtracting 1 from the full sum would cancel when s is tiny.
            T s = T(0);
            for (Eigen::Index j = 0; j < c; ++j)
                if (j != k) s += st.e(i, j);
            st.rest(i) = s;
        }
        return st;
    }

    template <class T>
    static matrix<T> softmax(const matrix<T>& z) {
        validate_logits(z);
        auto st = stats(z);
        for (Eigen::Index i = 0; i < z.rows(); ++i)
            if (st.valid[static_cast<std::size_t>(i)]) st.e.row(i) /= (T(1) + st.rest(i));
        return st.e;
    }

    template <class T>
    static matrix<T> log_softmax(const matrix<T>& z) {
        validate_logits(z);
        const auto st = stats(z);
        matrix<T> o(z.rows(), z.cols());
        for (Eigen::Index i = 0; i < z.rows(); ++i) {
            if (!st.valid[static_cast<std::size_t>(i)]) { o.row(i).setConstant(detail::nan_<T>()); continue; }
            const T l = detail::log1p_(st.rest(i));
            o.row(i) = (z.row(i).array() - st.max(i)) - l;
        }
        return o;
    }

    template <class T>
    static cross_entropy_result<T> cross_entropy(const matrix<T>& z, const label_vector& y) {
        validate_cross_entropy(z, y);
        cross_entropy_result<T> r;
        r.dlogits = z;
        T sum = T(0);
        for (Eigen::Index i = 0; i < z.rows(); ++i)
            sum += detail::softmax_row_loss_and_ds(&r.dlogits(i, 0), z.cols(), y[static_cast<std::size_t>(i)]);
        const T n = T(z.rows());
        r.loss = sum / n;
        r.dlogits /= n;
        return r;
    }

    // Fused, cache-blocked and threaded (kernels/fused_loss.hpp; thread count: kernels/parallel.hpp), into
    // `out`: out.dW and out.dS are resized to D×C and N×C, keeping their storage when the sizes are
    // unchanged, so a training loop that passes the same `out` every step allocates (and the OS
    // maps) nothing after the first step. The values of W and X are judged from the kernel's own
    // results instead of separate passes over them:
    //   • W: the kernel sums ΣW² (for ½·reg·‖W‖²) in the pass that reads W for reg·W; a NaN or ±inf
    //     weight makes that sum NaN or +inf, and only then is W scanned (the sum can also overflow
    //     for finite W above ~1e154, which the scan then lets through);
    //   • X, W finite: a NaN or ±inf feature X_ik makes every score S_ij = Σ_k X_ik·W_kj of its row
    //     NaN or ±inf (X_ik·0 is NaN), so the row is NaN or entirely masked and the loss is NaN; a
    //     non-NaN loss therefore proves X finite, and only a NaN loss scans X.
    // Same exceptions, in the same order (W before X), as validate_softmax_loss. Throws before
    // touching `out` for a bad shape, label or reg; for a non-finite W or X, `out` holds the
    // kernel's (NaN-laden) output when the exception leaves. `out` must not be W or X.
    template <class T>
    static void softmax_loss_into(const matrix<T>& W, const matrix<T>& X, const label_vector& y, T reg,
                                  loss_result<T>& out) {
        validate_softmax_loss_shapes(W, X, y, reg);
        if (&out.dW == &W || &out.dW == &X || &out.dS == &W || &out.dS == &X)
            detail::throw_invalid("out", "must not share a matrix with W or X (its dW and dS are overwritten)");
        const auto sums = detail::fused_softmax_loss(W, X, y, reg, out.dS, out.dW);
        if (detail::isnan_(sums.w_sumsq) || detail::isinf_(sums.w_sumsq)) validate_finite(W, "W");
        out.loss = sums.data_loss + detail::half_reg_squared_norm(W, reg, sums.w_sumsq);
        if (detail::isnan_(out.loss)) validate_finite(X, "X");
    }

    template <class T>
    static loss_result<T> softmax_loss(const matrix<T>& W, const matrix<T>& X, const label_vector& y, T reg) {
        loss_result<T> r;
        softmax_loss_into(W, X, y, reg, r);
        return r;
    }

    template <class T>
    static matrix<T> softmax_backward(const matrix<T>& p, const matrix<T>& g) {
        validate_logits(p, "probs");
        validate_same_shape(p, g, "dprobs");
        const Eigen::Matrix<T, Eigen::Dynamic, 1> dot = (p.array() * g.array()).rowwise().sum();
        return (p.array() * (g.colwise() - dot).array()).matrix();
    }

    template <class T>
    static matrix<T> log_softmax_backward(const matrix<T>& o, const matrix<T>& g) {
        validate_logits(o, "logprobs");
        validate_same_shape(o, g, "dlogprobs");
        const Eigen::Matrix<T, Eigen::Dynamic, 1> sum = g.rowwise().sum();
        matrix<T> e = o.unaryExpr([](const T& v) { return detail::exp_(v); });
        return g - matrix<T>(e.array().colwise() * sum.array());
    }
};

}  // namespace gradproof::impl
