// Plain data shared by implementations, references and properties: dense row-major matrices,
// label vectors and the results of the six softmax entry points.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <vector>

namespace gradproof {

// Row-major so that one row of logits is contiguous, as in the plug-in ABI.
template <class T>
using matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

using label_vector = std::vector<std::int32_t>;

// softmax_loss(W, X, y, reg): L, dW, and dS = softmax(X·W) − onehot(y) (dS may be empty when
// an implementation does not expose it, e.g. a plug-in).
template <class T>
struct loss_result {
    T loss{};
    matrix<T> dW;
    matrix<T> dS;
};

// cross_entropy(logits, y): mean loss over rows and dlogits = (softmax − onehot) / n.
template <class T>
struct cross_entropy_result {
    T loss{};
    matrix<T> dlogits;
};

// Converts element-wise between scalar types (exactly, when widening).
template <class To, class From>
matrix<To> convert(const matrix<From>& m) {
    matrix<To> out(m.rows(), m.cols());
    for (Eigen::Index i = 0; i < m.rows(); ++i)
        for (Eigen::Index j = 0; j < m.cols(); ++j) out(i, j) = static_cast<To>(m(i, j));
    return out;
}

}  // namespace gradproof
