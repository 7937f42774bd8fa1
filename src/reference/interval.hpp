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

// The point of [lo, hi] nearest to a: any point of an enclosure may be the exact value, so an
// output's error is measured to it (an undefined, NaN, enclosure gives NaN).
inline long double nearest_point(long double a, long double lo, long double hi) {
    if (lo != lo || hi != hi) return lo != lo ? lo : hi;
    return a < lo ? lo : a > hi ? hi : a;
}
inline long double nearest_point(long double a, const enclosure& e) { return nearest_point(a, e.lo, e.hi); }

// Element by element; a has e's shape.
template <class T>
lmatrix nearest_points(const matrix<T>& a, const interval_matrix& e) {
    lmatrix r(e.lo.rows(), e.lo.cols());
    for (Eigen::Index k = 0; k < r.size(); ++k)
        r.data()[k] = nearest_point(static_cast<long double>(a.data()[k]), e.lo.data()[k], e.hi.data()[k]);
    return r;
}

struct certified_loss {
    enclosure loss;
    lmatrix scores;  // S = X·W (exact), rounded to nearest long double
    std::vector<enclosure> row_loss;
    interval_matrix probs, dS, dW;
};

struct certified_cross_entropy {
    enclosure loss;
    std::vector<enclosure> row_loss;
    interval_matrix probs, dlogits;
};

// Arguments are validated as in reference/point.hpp (bits < 64 throws; 128 and up are needed for
// the enclosures to decide the rounding of doubles). Masked classes give the exact points [0, 0],
// [−inf, −inf] and, for a masked label, [+inf, +inf]; undefined rows (NaN or +inf present, or every
// class masked) give lo = hi = NaN in that row and a NaN mean loss.
// threads: workers for the exact stages (S = X·W and Xᵀ·dS; 0 = all hardware threads; small
// inputs always run on the calling thread). The result does not depend on it, bit for bit.
certified_loss certify_softmax_loss(const lmatrix& W, const lmatrix& X, const label_vector& y, long double reg,
                                    unsigned bits = 128, unsigned threads = 0);
interval_matrix certify_softmax(const lmatrix& logits, unsigned bits = 128);
interval_matrix certify_log_softmax(const lmatrix& logits, unsigned bits = 128);
certified_cross_entropy certify_cross_entropy(const lmatrix& logits, const label_vector& y, unsigned bits = 128);

// The correctly rounded (round-to-nearest-even) T of the exact value enclosed in [lo, hi], when
// the enclosure determines it; std::nullopt otherwise (also for NaN or empty enclosures). T is
// float or double (explicitly instantiated in interval.cpp). Assumes the default floating-point
// rounding mode, in which the long double → T conversion rounds to nearest.
template <class T>
std::optional<T> correctly_rounded(const enclosure& e);

}  // namespace gradproof::reference
