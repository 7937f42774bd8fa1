// Elementary functions that resolve to std:: for hardware types and to Boost.Multiprecision
// (by argument-dependent lookup) for mp_real, so one template serves every scalar type.
#pragma once

#include "core/scalar.hpp"

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

}  // namespace gradproof::detail
