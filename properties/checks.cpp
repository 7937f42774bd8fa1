#include "properties/checks.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

namespace gradproof {

margin_record& current_margins() {
    thread_local margin_record record;
    return record;
}

namespace {
template <class T>
std::string describe(const std::string& what, const element_error& e) {
    return fmt::format("{}: expected {}, actual {}, error {} ULP, tolerance {:.3Lg}, margin {:.3Lg}", what,
                       format_exact<long double>(e.expected), format_exact<T>(e.actual),
                       std::isinf(e.ulps) ? std::string("inf") : fmt::format("{:.3Lg}", e.ulps), e.tolerance, e.margin);
}

template <class T>
void record(const std::string& what, const element_error& e, long double comp_margin) {
    auto& m = current_margins();
    if (e.margin > m.normwise || (std::isnan(e.margin))) {
        m.normwise = e.margin;
        m.worst_where = describe<T>(what, e);
    }
    m.worst_ulps = std::max(m.worst_ulps, e.ulps);
    if (comp_margin >= 0) m.componentwise = std::max(m.componentwise, comp_margin);
}
}  // namespace

template <class T>
void require_shape(const std::string& what, const matrix<T>& m, Eigen::Index rows, Eigen::Index cols) {
    if (m.rows() != rows || m.cols() != cols)
        GRADPROOF_FAIL(fmt::format("{} has shape {}×{}, expected {}×{}", what, m.rows(), m.cols(), rows, cols));
}

template <class T>
void require_close(const std::string& what, const matrix<T>& actual, const reference::lmatrix& expected,
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
    record<T>(where, worst, tol_componentwise ? comp : -1);
    if (!worst.passed()) GRADPROOF_FAIL(describe<T>(where, worst));
}

template <class T>
void require_close(const std::string& what, T actual, long double expected, long double tolerance,
                   long double tol_componentwise) {
    const auto e = measure<T>(static_cast<long double>(actual), expected, tolerance);
    long double comp = -1;
    if (tol_componentwise >= 0) comp = measure<T>(static_cast<long double>(actual), expected, tol_componentwise).margin;
    record<T>(what, e, comp);
    if (!e.passed()) GRADPROOF_FAIL(describe<T>(what, e));
}

template <class T>
void require_close_ld(const std::string& what, long double actual, long double expected, long double tolerance) {
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
    record<T>(what, e, -1);
    if (!e.passed()) GRADPROOF_FAIL(describe<T>(what, e));
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
    template void require_close<T>(const std::string&, const matrix<T>&, const reference::lmatrix&,                  \
                                   const reference::lmatrix&, const reference::lmatrix*);                            \
    template void require_close<T>(const std::string&, T, long double, long double, long double);                    \
    template void require_close_ld<T>(const std::string&, long double, long double, long double);                    \
    template bool bitwise_equal<T>(const matrix<T>&, const matrix<T>&);                                              \
    template bool bitwise_equal<T>(T, T);
GRADPROOF_INSTANTIATE(float)
GRADPROOF_INSTANTIATE(double)
#undef GRADPROOF_INSTANTIATE
template void require_shape<mp_real>(const std::string&, const matrix<mp_real>&, Eigen::Index, Eigen::Index);

}  // namespace gradproof
