#include "error/ulp.hpp"

#include <cmath>
#include <cstdio>

namespace gradproof {

template <class T>
long double ulp_of(long double x) {
    using lim = std::numeric_limits<T>;
    long double ax = std::fabs(x);
    if (!std::isfinite(ax) || ax > static_cast<long double>(lim::max())) ax = static_cast<long double>(lim::max());
    if (ax < static_cast<long double>(lim::min())) return static_cast<long double>(lim::denorm_min());
    constexpr long double spacing = 1.0L / static_cast<long double>(std::uint64_t{1} << (lim::digits - 1));  // 2^(1 − digits)
    return detail::power_of_two_floor(ax) * spacing;
}

template <class T>
long double ulp_distance(long double actual, long double expected) {
    if (std::isnan(expected) || std::isnan(actual))
        return std::isnan(expected) && std::isnan(actual) ? 0.0L : std::numeric_limits<long double>::infinity();
    const long double maxv = static_cast<long double>(std::numeric_limits<T>::max());
    // An exact value beyond T's range rounds to ±inf (round-to-nearest overflows past max + ulp/2).
    const long double overflow = maxv + ulp_of<T>(maxv) / 2;
    const bool expected_overflows = std::isinf(expected) || std::fabs(expected) >= overflow;
    if (std::isinf(actual)) {
        if (expected_overflows && std::signbit(actual) == std::signbit(expected)) return 0.0L;
        return std::numeric_limits<long double>::infinity();
    }
    if (expected_overflows) return std::numeric_limits<long double>::infinity();
    return std::fabs(actual - expected) / ulp_of<T>(expected);
}

template <class T>
element_error measure(long double actual, long double expected, long double tolerance) {
    element_error e;
    e.actual = actual;
    e.expected = expected;
    e.tolerance = tolerance;
    e.ulps = ulp_distance<T>(actual, expected);
    if (std::isinf(e.ulps)) {
        e.abs_error = std::numeric_limits<long double>::infinity();
        e.margin = std::numeric_limits<long double>::infinity();
    } else if (!std::isfinite(actual) || !std::isfinite(expected)) {
        e.abs_error = 0;  // matching NaN, or ±inf where the exact value overflows T
        e.margin = 0;
    } else {
        e.abs_error = std::fabs(actual - expected);
        e.margin = e.abs_error == 0 ? 0.0L
                   : tolerance > 0  ? e.abs_error / tolerance
                                    : std::numeric_limits<long double>::infinity();
    }
    return e;
}

template <class T>
std::string format_exact(long double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*Lg", std::numeric_limits<T>::max_digits10, v);
    return buf;
}

template long double ulp_of<float>(long double);
template long double ulp_of<double>(long double);
template long double ulp_distance<float>(long double, long double);
template long double ulp_distance<double>(long double, long double);
template element_error measure<float>(long double, long double, long double);
template element_error measure<double>(long double, long double, long double);
template std::string format_exact<float>(long double);
template std::string format_exact<double>(long double);
template std::string format_exact<long double>(long double);

}  // namespace gradproof
