// Certified references: the same functions evaluated in interval arithmetic (MPFI through
// boost::multiprecision mpfi_float) at `bits` ≥ 128 precision. Every MPFI operation returns an
// enclosure of the exact result of its (interval) arguments, so by induction the final interval
// contains the exact real value of the function at the given binary inputs. The enclosure is then
// rounded outward to long double. From an enclosure [lo, hi], the correctly rounded float/double
// is determined when lo and hi round to the same value (rounding is monotone).
#pragma once

#include "core/matrix.hpp"

#include <optional>
#include <vector>

namespace gradproof::reference {

using lmatrix = matrix<long double>;

struct interval_matrix {
    lmatrix lo, hi;
};

struct enclosure {
    long double lo = 0, hi = 0;
};

struct certified_loss {
    enclosure loss;
    std::vector<enclosure> row_loss;
    interval_matrix probs, dS, dW;
};

struct certified_cross_entropy {
    enclosure loss;
    std::vector<enclosure> row_loss;
    interval_matrix probs, dlogits;
};

certified_loss certify_softmax_loss(const lmatrix& W, const lmatrix& X, const label_vector& y, long double reg,
                                    unsigned bits = 128);
interval_matrix certify_softmax(const lmatrix& logits, unsigned bits = 128);
interval_matrix certify_log_softmax(const lmatrix& logits, unsigned bits = 128);
certified_cross_entropy certify_cross_entropy(const lmatrix& logits, const label_vector& y, unsigned bits = 128);

// The correctly rounded (round-to-nearest-even) T of the exact value enclosed in [lo, hi], when
// the enclosure determines it; std::nullopt otherwise. T is float or double.
template <class T>
std::optional<T> correctly_rounded(const enclosure& e);

}  // namespace gradproof::reference
