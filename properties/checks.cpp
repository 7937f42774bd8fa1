#include "properties/checks.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

namespace gradproof {

namespace {
// An output that is NaN or ±inf where the exact value is finite (or the reverse) has no finite
// error: it is reported as such, with an infinite margin, never as "margin nan".
template <class T>
std::string describe(const std::string& what, const element_error& e) {
    const bool finite_mismatch = std::isfinite(e.expected) != std::isfinite(e.actual) ||
                                 std::isnan(e.expected) != std::isnan(e.actual);
    if (finite_mismatch || std::isnan(e.margin))
        return fmt::format("{}: expected {}, actual {} (not finite where the exact value is{})", what,
                           format_exact<long double>(e.expected), format_exact<T>(e.actual),
                           std::isfinite(e.expected) ? " finite" : " not");
    // ULPs are a distance between numbers of T; against an exact 0 there is no ULP scale, so the
    // absolute error is shown instead.
    const std::string ulps = e.expected == 0 ? fmt::format("absolute error {:.3Lg}", e.abs_error)
                                             : fmt::format("error {:.3Lg} ULP", e.ulps);
    return fmt::format("{}: expected {}, actual {}, {}, tolerance {:.3Lg}, margin {:.3Lg}", what,
                       format_exact<long double>(e.expected), format_exact<T>(e.actual), ulps, e.tolerance, e.margin);
}

long double finite_margin(const element_error& e) {
    return std::isnan(e.margin) ? std::numeric_limits<long double>::infinity() : e.margin;
}

template <class T>
void record(property_context& ctx, const std::string& what, const element_error& e, long double comp_margin) {
    auto& m = ctx.margins();
    const long double margin = finite_margin(e);
    if (margin > m.normwise) {
        m.normwise = margin;
        m.worst_where = describe<T>(what, e);
    }
    // ULPs only where the exact value is a normal number of T: against an exact 0 (or a
    // subnormal) one ULP is the smallest subnormal and any rounding error looks like 1e9 ULPs.
    if (std::fabs(e.expected) >= static_cast<long double>(std::numeric_limits<T>::min()))
        m.worst_ulps = std::max(m.worst_ulps, e.ulps);
    if (comp_margin >= 0) m.componentwise = std::max(m.componentwise, comp_margin);
}

template <class T>
[[noreturn]] void fail_with(const std::string& what, const element_error& e) {
    const long double relative = e.expected != 0 && std::isfinite(e.expected) && std::isfinite(e.actual)
                                     ? std::fabs(e.actual - e.expected) / std::fabs(e.expected)
                                     : std::numeric_limits<long double>::infinity();
    throw property_failure(failure_kind::numerical, describe<T>(what, e), finite_margin(e), relative);
}
}  // namespace

template <class T>
void require_shape(const std::string& what, const matrix<T>& m, Eigen::Index rows, Eigen::Index cols) {
    if (m.rows() != rows || m.cols() != cols)
        GRADPROOF_FAIL(fmt::format("{} has shape {}×{}, expected {}×{}", what, m.rows(), m.cols(), rows, cols));
}

template <class T>
void require_close(property_context& ctx, const std::string& what, const matrix<T>& actual, const reference::lmatrix& expected,
                   const reference::lmatrix& tolerance, const reference::lmatrix* tol_componentwise) {
    require_shape(what, actual, expected.rows(), expected.cols());
    element_error worst;
    Eigen::Index wi = 0, wj = 0;
    bool have = false;
    long double comp = 0;
    for (Eigen::Index i = 0; i < expected.rows(); ++i)
        for (Eigen::Index j = 0; j < expected.cols(); ++j) {
            const auto e = measure<T>(static_cast<long double>(actual(i, j)), expected(i, j), tolerance(i, j));
            if (tol_componentwise) {
                const auto c = measure<T>(static_cast<long double>(actual(i, j)), expected(i, j), (*tol_componentwise)(i, j));
                comp = std::max(comp, c.margin);
            }
            if (!have || e.margin > worst.margin) {
                worst = e;
                wi = i;
                wj = j;
                have = true;
            }
        }
    if (!have) return;
    const std::string where = fmt::format("{}[{},{}]", what, wi, wj);
    record<T>(ctx, where, worst, tol_componentwise ? comp : -1);
    if (!worst.passed()) fail_with<T>(where, worst);
}

template <class T>
void require_close(property_context& ctx, const std::string& what, T actual, long double expected, long double tolerance,
                   long double tol_componentwise) {
    const auto e = measure<T>(static_cast<long double>(actual), expected, tolerance);
    long double comp = -1;
    if (tol_componentwise >= 0) comp = measure<T>(static_cast<long double>(actual), expected, tol_componentwise).margin;
    record<T>(ctx, what, e, comp);
    if (!e.passed()) fail_with<T>(what, e);
}

template <class T>
void require_close_ld(property_context& ctx, const std::string& what, long double actual, long double expected, long double tolerance) {
    element_error e;
    e.actual = actual;
    e.expected = expected;
    e.tolerance = tolerance;
    if (std::isnan(actual) || std::isnan(expected) || std::isinf(actual) || std::isinf(expected)) {
        const bool same = (std::isnan(actual) && std::isnan(expected)) || actual == expected;
        e.abs_error = same ? 0 : std::numeric_limits<long double>::infinity();
    } else {
        e.abs_error = std::fabs(actual - expected);
    }
    e.ulps = e.abs_error / ulp_of<T>(expected);
    e.margin = e.abs_error == 0 ? 0 : tolerance > 0 ? e.abs_error / tolerance : std::numeric_limits<long double>::infinity();
    record<T>(ctx, what, e, -1);
    if (!e.passed()) fail_with<T>(what, e);
}

template <class T>
bool bitwise_equal(const matrix<T>& a, const matrix<T>& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           (a.size() == 0 || std::memcmp(a.data(), b.data(), sizeof(T) * static_cast<std::size_t>(a.size())) == 0);
}
template <class T>
bool bitwise_equal(T a, T b) {
    return std::memcmp(&a, &b, sizeof(T)) == 0;
}

#define GRADPROOF_INSTANTIATE(T)                                                                                     \
    template void require_shape<T>(const std::string&, const matrix<T>&, Eigen::Index, Eigen::Index);                \
    template void require_close<T>(property_context&, const std::string&, const matrix<T>&, const reference::lmatrix&, \
                                   const reference::lmatrix&, const reference::lmatrix*);                            \
    template void require_close<T>(property_context&, const std::string&, T, long double, long double, long double);  \
    template void require_close_ld<T>(property_context&, const std::string&, long double, long double, long double);  \
    template bool bitwise_equal<T>(const matrix<T>&, const matrix<T>&);                                              \
    template bool bitwise_equal<T>(T, T);
GRADPROOF_INSTANTIATE(float)
GRADPROOF_INSTANTIATE(double)
#undef GRADPROOF_INSTANTIATE
template void require_shape<mp_real>(const std::string&, const matrix<mp_real>&, Eigen::Index, Eigen::Index);

}  // namespace gradproof
