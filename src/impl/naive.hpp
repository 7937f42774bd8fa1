// naive: the seed document's per-sample, per-class loop (CS231n softmax_loss_naive), ported
// statement by statement, plus the same loop style for the row-wise entry points.
//
// Numerics: the max shift keeps exp from overflowing and the loss is −shift_y + log Σ exp(shift),
// so it never takes the log of a rounded probability. log Σ exp uses log, not log1p, so
// log-probabilities next to 0 are accurate only normwise (accuracy.md, Blanchard et al. 2021).
// One change from the seed: Σ exp(shift) is computed once per row instead of once per class;
// it is the same expression in the same order, so every rounded value is identical, and the
// cost drops from O(C²) to O(C) per row.
#pragma once

#include "core/matrix.hpp"
#include "core/validate.hpp"
#include "impl/math.hpp"

namespace gradproof::impl {

struct naive {
    template <class T>
    static loss_result<T> softmax_loss(const matrix<T>& W, const matrix<T>& X, const label_vector& y, T reg) {
        validate_softmax_loss(W, X, y, reg);
        const Eigen::Index num_classes = W.cols(), num_train = X.rows(), dim = X.cols();
        loss_result<T> r;
        r.loss = T(0);
        r.dW = matrix<T>::Zero(W.rows(), W.cols());
        r.dS = matrix<T>::Zero(num_train, num_classes);
        std::vector<T> scores(num_classes), shift(num_classes);
        for (Eigen::Index i = 0; i < num_train; ++i) {
            for (Eigen::Index j = 0; j < num_classes; ++j) {
                T s = T(0);
                for (Eigen::Index k = 0; k < dim; ++k) s += X(i, k) * W(k, j);
                scores[j] = s;
            }
            T mx = scores[0];
            for (Eigen::Index j = 1; j < num_classes; ++j)
                if (scores[j] > mx) mx = scores[j];
            T sum = T(0);
            for (Eigen::Index j = 0; j < num_classes; ++j) {
                shift[j] = scores[j] - mx;
                sum += detail::exp_(shift[j]);
            }
            r.loss += -shift[y[i]] + detail::log_(sum);
            for (Eigen::Index j = 0; j < num_classes; ++j) {
                const T softmax_output = detail::exp_(shift[j]) / sum;
                const T g = j == y[i] ? T(-1) + softmax_output : softmax_output;
                r.dS(i, j) = g;
                for (Eigen::Index k = 0; k < dim; ++k) r.dW(k, j) += g * X(i, k);
            }
        }
        r.loss /= T(num_train);
        // The seed's 0.5·reg·ΣW², computed without spurious overflow (see half_reg_squared_norm).
        r.loss += detail::half_reg_squared_norm(W, reg);
        for (Eigen::Index i = 0; i < W.size(); ++i)
            r.dW.data()[i] = r.dW.data()[i] / T(num_train) + reg * W.data()[i];
        return r;
    }

    // Row statistics of the seed's loop: max, shifted logits, Σ exp(shift). A row holding NaN or
    // +inf gives NaN outputs in that row only (the documented contract).
    template <class T>
    static bool row_shift(const matrix<T>& z, Eigen::Index i, std::vector<T>& shift, T& sum) {
        const Eigen::Index c = z.cols();
        T mx = z(i, 0);
        for (Eigen::Index j = 0; j < c; ++j) {
            if (detail::isnan_(z(i, j)) || z(i, j) == detail::inf_<T>()) return false;
            if (z(i, j) > mx) mx = z(i, j);
        }
        if (mx == -detail::inf_<T>()) return false;  // every class masked: undefined
        sum = T(0);
        for (Eigen::Index j = 0; j < c; ++j) {
            shift[j] = z(i, j) - mx;
            sum += detail::exp_(shift[j]);
        }
        return true;
    }

    template <class T>
    static matrix<T> softmax(const matrix<T>& z) {
        validate_logits(z);
        matrix<T> p(z.rows(), z.cols());
        std::vector<T> shift(z.cols());
        T sum;
        for (Eigen::Index i = 0; i < z.rows(); ++i) {
            if (!row_shift(z, i, shift, sum)) { p.row(i).setConstant(detail::nan_<T>()); continue; }
            for (Eigen::Index j = 0; j < z.cols(); ++j) p(i, j) = detail::exp_(shift[j]) / sum;
        }
        return p;
    }

    template <class T>
    static matrix<T> log_softmax(const matrix<T>& z) {
        validate_logits(z);
        matrix<T> o(z.rows(), z.cols());
        std::vector<T> shift(z.cols());
        T sum;
        for (Eigen::Index i = 0; i < z.rows(); ++i) {
            if (!row_shift(z, i, shift, sum)) { o.row(i).setConstant(detail::nan_<T>()); continue; }
            const T ls = detail::log_(sum);
            for (Eigen::Index j = 0; j < z.cols(); ++j) o(i, j) = shift[j] - ls;
        }
        return o;
    }

    template <class T>
    static cross_entropy_result<T> cross_entropy(const matrix<T>& z, const label_vector& y) {
        validate_cross_entropy(z, y);
        const Eigen::Index n = z.rows(), c = z.cols();
        cross_entropy_result<T> r;
        r.loss = T(0);
        r.dlogits.resize(n, c);
        std::vector<T> shift(c);
        T sum;
        for (Eigen::Index i = 0; i < n; ++i) {
            if (!row_shift(z, i, shift, sum)) {
                r.loss = detail::nan_<T>();
                r.dlogits.row(i).setConstant(detail::nan_<T>());
                continue;
            }
            r.loss += -shift[y[i]] + detail::log_(sum);
            for (Eigen::Index j = 0; j < c; ++j) {
                const T p = detail::exp_(shift[j]) / sum;
                r.dlogits(i, j) = (j == y[i] ? p - T(1) : p) / T(n);
            }
        }
        r.loss /= T(n);
        return r;
    }

    // dz = p ⊙ (g − ⟨g, p⟩)
    template <class T>
    static matrix<T> softmax_backward(const matrix<T>& p, const matrix<T>& g) {
        validate_logits(p, "probs");
        validate_same_shape(p, g, "dprobs");
        matrix<T> dz(p.rows(), p.cols());
        for (Eigen::Index i = 0; i < p.rows(); ++i) {
            T dot = T(0);
            for (Eigen::Index j = 0; j < p.cols(); ++j) dot += g(i, j) * p(i, j);
            for (Eigen::Index j = 0; j < p.cols(); ++j) dz(i, j) = p(i, j) * (g(i, j) - dot);
        }
        return dz;
    }

    // dz = g − exp(o)·Σ g
    template <class T>
    static matrix<T> log_softmax_backward(const matrix<T>& o, const matrix<T>& g) {
        validate_logits(o, "logprobs");
        validate_same_shape(o, g, "dlogprobs");
        matrix<T> dz(o.rows(), o.cols());
        for (Eigen::Index i = 0; i < o.rows(); ++i) {
            T sum = T(0);
            for (Eigen::Index j = 0; j < o.cols(); ++j) sum += g(i, j);
            for (Eigen::Index j = 0; j < o.cols(); ++j) dz(i, j) = g(i, j) - detail::exp_(o(i, j)) * sum;
        }
        return dz;
    }
};

}  // namespace gradproof::impl
