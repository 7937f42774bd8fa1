// seed_vectorized: a faithful port of the seed document's softmax_loss_vectorized (CS231n).
// KNOWN-FLAWED SPECIMEN — kept so that gradproof demonstrates the flaw rather than hides it.
//
// The flaw: the loss is −log(P[i, y_i]) of the *rounded* softmax probability. When the label's
// logit lies more than ≈745 (double; ≈104 in float) below the row maximum, P[i, y_i] underflows
// to 0 and the loss becomes +inf although the exact loss ≈ max − z_y is finite; from ≈708 (double)
// the probability is subnormal and the loss already loses digits. The gradient is unaffected.
// (The seed's `x.T` typo is read as X.T, its evident intent.)
#pragma once

#include "core/matrix.hpp"
#include "core/validate.hpp"
#include "impl/math.hpp"

namespace gradproof::impl {

struct seed_vectorized {
    // softmax_output = exp(shift) / sum(exp(shift), axis=1)
    template <class T>
    static matrix<T> softmax_output(const matrix<T>& scores) {
        const Eigen::Matrix<T, Eigen::Dynamic, 1> mx = scores.rowwise().maxCoeff();
        const matrix<T> shift = scores.colwise() - mx;
        const matrix<T> e = shift.unaryExpr([](const T& v) { return detail::exp_(v); });
        const Eigen::Matrix<T, Eigen::Dynamic, 1> sum = e.rowwise().sum();
        return (e.array().colwise() / sum.array()).matrix();
    }

    template <class T>
    static loss_result<T> softmax_loss(const matrix<T>& W, const matrix<T>& X, const label_vector& y, T reg) {
        validate_softmax_loss(W, X, y, reg);
        const Eigen::Index num_train = X.rows();
        const matrix<T> scores = X * W;
        loss_result<T> r;
        r.dS = softmax_output(scores);
        T loss = T(0);
        for (Eigen::Index i = 0; i < num_train; ++i) loss += detail::log_(r.dS(i, y[static_cast<std::size_t>(i)]));
        loss = -loss;
        loss /= T(num_train);
        loss += T(0.5) * reg * W.array().square().sum();
        for (Eigen::Index i = 0; i < num_train; ++i) r.dS(i, y[static_cast<std::size_t>(i)]) += T(-1);
        r.dW = X.transpose() * r.dS;
        r.dW = r.dW / T(num_train) + reg * W;
        r.loss = loss;
        return r;
    }

    // The same algorithm applied directly to logits (X = I), as a student would write it.
    template <class T>
    static cross_entropy_result<T> cross_entropy(const matrix<T>& z, const label_vector& y) {
        validate_cross_entropy(z, y);
        const Eigen::Index n = z.rows();
        cross_entropy_result<T> r;
        r.dlogits = softmax_output(z);
        T loss = T(0);
        for (Eigen::Index i = 0; i < n; ++i) loss += detail::log_(r.dlogits(i, y[static_cast<std::size_t>(i)]));
        r.loss = -loss / T(n);
        for (Eigen::Index i = 0; i < n; ++i) r.dlogits(i, y[static_cast<std::size_t>(i)]) += T(-1);
        r.dlogits /= T(n);
        return r;
    }

    template <class T>
    static matrix<T> softmax(const matrix<T>& z) {
        validate_logits(z);
        return softmax_output(z);
    }
};

}  // namespace gradproof::impl
