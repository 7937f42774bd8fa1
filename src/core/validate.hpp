// Argument validation shared by every library entry point. Each check throws
// std::invalid_argument whose message starts with the argument's name.
#pragma once

#include "core/matrix.hpp"
#include "core/scalar.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace gradproof {

namespace detail {
[[noreturn]] void throw_invalid(const std::string& argument, const std::string& why);

// Refuses a work array before it is allocated: rows×cols elements of elem_bytes each must not
// overflow int64 and must fit in the machine's physical memory (an overcommitted allocation
// would otherwise be OOM-killed, not thrown). Throws std::invalid_argument naming `argument`.
void check_work_size(const std::string& argument, std::int64_t rows, std::int64_t cols, std::size_t elem_bytes,
                     const std::string& what);

template <class T>
bool is_finite_scalar(const T& x) {
    using std::isfinite;
    using boost::multiprecision::isfinite;
    return isfinite(x);
}
}  // namespace detail

// Throws std::invalid_argument naming `argument` if m holds a NaN or an infinity.
template <class T>
void validate_finite(const matrix<T>& m, const char* argument) {
    for (Eigen::Index i = 0; i < m.size(); ++i)
        if (!detail::is_finite_scalar(m.data()[i])) detail::throw_invalid(argument, "contains a non-finite value");
}

// validate_softmax_loss without scanning the values of W and X: for a kernel that judges them from
// its own results (vectorized::softmax_loss_into: W from ΣW², X from a NaN loss), sparing a pass
// over each input.
template <class T>
void validate_softmax_loss_shapes(const matrix<T>& W, const matrix<T>& X, const label_vector& y, const T& reg) {
    if (W.rows() < 1 || W.cols() < 1)
        detail::throw_invalid("W", "must be D×C with D ≥ 1 and C ≥ 1, got " + std::to_string(W.rows()) + "×" +
                                       std::to_string(W.cols()));
    if (X.rows() < 1) detail::throw_invalid("X", "must have at least one row (N ≥ 1)");
    if (X.cols() != W.rows())
        detail::throw_invalid("X", "has " + std::to_string(X.cols()) + " columns but W has " +
                                       std::to_string(W.rows()) + " rows");
    if (static_cast<Eigen::Index>(y.size()) != X.rows())
        detail::throw_invalid("y", "has " + std::to_string(y.size()) + " labels but X has " +
                                       std::to_string(X.rows()) + " rows");
    // The scores X·W (N×C) are the one array sized by a product of two dimensions.
    detail::check_work_size("X", X.rows(), W.cols(), sizeof(T), "the scores X·W");
    for (std::size_t i = 0; i < y.size(); ++i)
        if (y[i] < 0 || y[i] >= W.cols())
            detail::throw_invalid("y", "label " + std::to_string(y[i]) + " at index " + std::to_string(i) +
                                           " is outside [0, " + std::to_string(W.cols()) + ")");
    if (!detail::is_finite_scalar(reg)) detail::throw_invalid("reg", "must be finite");
    if (reg < 0) detail::throw_invalid("reg", "must be ≥ 0");
}

// softmax_loss: W is D×C, X is N×D, y has N labels in [0, C), reg finite and ≥ 0, N ≥ 1,
// and W, X finite (a non-finite weight or feature makes the loss undefined, not masked).
template <class T>
void validate_softmax_loss(const matrix<T>& W, const matrix<T>& X, const label_vector& y, const T& reg) {
    validate_softmax_loss_shapes(W, X, y, reg);
    validate_finite(W, "W");
    validate_finite(X, "X");
}

// Row-wise functions: C ≥ 1; N = 0 is an empty batch.
template <class T>
void validate_logits(const matrix<T>& z, const char* name = "logits") {
    if (z.cols() < 1) detail::throw_invalid(name, "must have at least one column (C ≥ 1)");
}

template <class T>
void validate_same_shape(const matrix<T>& a, const matrix<T>& b, const char* name_b) {
    if (a.rows() != b.rows() || a.cols() != b.cols())
        detail::throw_invalid(name_b, "must have the same shape as the forward output");
}

// cross_entropy: N ≥ 1 (the mean of an empty batch is undefined), labels in [0, C).
template <class T>
void validate_cross_entropy(const matrix<T>& z, const label_vector& y) {
    validate_logits(z);
    if (z.rows() < 1) detail::throw_invalid("logits", "must have at least one row (N ≥ 1)");
    if (static_cast<Eigen::Index>(y.size()) != z.rows())
        detail::throw_invalid("labels", "has " + std::to_string(y.size()) + " labels but logits has " +
                                            std::to_string(z.rows()) + " rows");
    for (std::size_t i = 0; i < y.size(); ++i)
        if (y[i] < 0 || y[i] >= z.cols())
            detail::throw_invalid("labels", "label " + std::to_string(y[i]) + " at index " + std::to_string(i) +
                                                " is outside [0, " + std::to_string(z.cols()) + ")");
}

}  // namespace gradproof
