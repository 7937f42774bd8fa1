// Elementary functions that resolve to std:: for hardware types and to Boost.Multiprecision
// (by argument-dependent lookup) for mp_real, so one template serves every scalar type.
#pragma once

#include "core/scalar.hpp"

#include <Eigen/Core>

#include <cmath>
#include <limits>

namespace gradproof::detail {

template <class T> T exp_(const T& x) { using std::exp; return exp(x); }
template <class T> T log_(const T& x) { using std::log; return log(x); }
template <class T> T log1p_(const T& x) { using std::log1p; return log1p(x); }
template <class T> bool isnan_(const T& x) { using std::isnan; using boost::multiprecision::isnan; return isnan(x); }
template <class T> bool isinf_(const T& x) { using std::isinf; using boost::multiprecision::isinf; return isinf(x); }
template <class T> T inf_() { return std::numeric_limits<T>::infinity(); }
template <class T> T nan_() { return std::numeric_limits<T>::quiet_NaN(); }

// ½·reg·‖W‖²_F without spurious overflow or NaN: reg = 0 contributes exactly 0 (ΣW² may
// overflow and 0·inf is NaN), and the sum of squares is scaled by m = max|W| so that it
// overflows only when the exact term exceeds the range, where +inf is the correctly rounded value:
// ((½·reg·m)·m)·Σ(W/m)², each factor ≤ the final value. Costs one extra rounding per element.
template <class M>
typename M::Scalar half_reg_squared_norm(const M& W, const typename M::Scalar& reg) {
    using T = typename M::Scalar;
    if (reg == T(0)) return T(0);
    T m = T(0);
    for (Eigen::Index k = 0; k < W.size(); ++k) {
        using std::abs;
        const T a = abs(W.data()[k]);
        if (a > m) m = a;
    }
    if (m == T(0)) return T(0);
    T s = T(0);
    for (Eigen::Index k = 0; k < W.size(); ++k) {
        const T q = W.data()[k] / m;
        s += q * q;
    }
    return ((T(0.5) * reg * m) * m) * s;
}

// The same term from sumsq = fl(ΣW²), summed in any order by a pass that reads W anyway (the fused
// kernels' gradient epilogue), so the common case costs no pass over W of its own. Used as
// (½·reg)·sumsq when sumsq is finite and ≥ min_normal/ε: then no square overflowed, and each
// square that underflowed erred by < ε·min_normal ≤ ε²·sumsq absolutely — negligible beside the
// model's γ_{|W|+3} (error/tolerance.hpp), which the unscaled sum meets with one rounding per term
// fewer than the scaled one. Otherwise (overflow, heavy underflow, or W not finite: the caller
// validates W first) the scaled two-pass form above.
template <class M>
typename M::Scalar half_reg_squared_norm(const M& W, const typename M::Scalar& reg, const typename M::Scalar& sumsq) {
    using T = typename M::Scalar;
    if (reg == T(0)) return T(0);
    const T threshold = std::numeric_limits<T>::min() / std::numeric_limits<T>::epsilon();
    if (!isnan_(sumsq) && !isinf_(sumsq) && sumsq >= threshold) return (T(0.5) * reg) * sumsq;
    return half_reg_squared_norm(W, reg);
}

}  // namespace gradproof::detail
