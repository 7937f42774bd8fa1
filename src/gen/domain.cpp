#include "gen/domain.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace gradproof {

const char* input_domain::name() const {
    switch (kind) {
        case domain_kind::full: return "full";
        case domain_kind::ordinary: return "ordinary";
        case domain_kind::extreme: return "extreme";
    }
    return "?";
}

std::string input_domain::describe() const {
    const std::string bounds = fmt::format("every logit in [−{0:g}, {0:g}]; |W|, |X|, upstream ≤ {1:g}; finite, no subnormals",
                                           max_abs_logit, max_abs_input);
    switch (kind) {
        case domain_kind::full: return "full: ordinary and extreme inputs (ordinary = " + bounds + ")";
        case domain_kind::ordinary: return "ordinary: " + bounds;
        case domain_kind::extreme: return "extreme: every mixed generator draws its hazards (ordinary = " + bounds + ")";
    }
    return "?";
}

std::string input_domain::arguments() const {
    const input_domain defaults;
    std::string out;
    if (kind != domain_kind::full) out += fmt::format(" --domain {}", name());
    if (max_abs_logit != defaults.max_abs_logit) out += fmt::format(" --max-abs-logit {:g}", max_abs_logit);
    if (max_abs_input != defaults.max_abs_input) out += fmt::format(" --max-abs-input {:g}", max_abs_input);
    return out.empty() ? out : out.substr(1);
}

domain_kind parse_domain_kind(std::string_view text, const char* what) {
    if (text == "full") return domain_kind::full;
    if (text == "ordinary") return domain_kind::ordinary;
    if (text == "extreme") return domain_kind::extreme;
    throw std::invalid_argument(fmt::format("{}: expected ordinary, extreme or full, got '{}'", what, text));
}

namespace {

template <class T>
bool is_subnormal(T v) {
    return v != T(0) && std::isfinite(v) && std::fabs(v) < std::numeric_limits<T>::min();
}

template <class T>
void scan_values(const matrix<T>& m, case_extent& e, double& max_abs) {
    for (Eigen::Index k = 0; k < m.size(); ++k) {
        const T v = m.data()[k];
        if (!std::isfinite(v)) {
            e.nonfinite = true;
            continue;
        }
        e.subnormal = e.subnormal || is_subnormal(v);
        max_abs = std::max(max_abs, static_cast<double>(std::fabs(v)));
    }
}

// Row measures of a logits matrix given as long double values.
void scan_logit_rows(const Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>& z,
                     const label_vector& y, case_extent& e) {
    bool first_row = true;
    for (Eigen::Index i = 0; i < z.rows(); ++i) {
        long double mx = -std::numeric_limits<long double>::infinity(), mn = std::numeric_limits<long double>::infinity();
        for (Eigen::Index j = 0; j < z.cols(); ++j) {
            const long double v = z(i, j);
            if (!std::isfinite(v)) {
                e.nonfinite = true;
                continue;
            }
            mx = std::max(mx, v);
            mn = std::min(mn, v);
            e.max_abs_logit = std::max(e.max_abs_logit, static_cast<double>(std::fabs(v)));
        }
        if (!std::isfinite(mx)) continue;
        e.max_spread = std::max(e.max_spread, static_cast<double>(mx - mn));
        e.min_row_max = first_row ? static_cast<double>(mx) : std::min(e.min_row_max, static_cast<double>(mx));
        first_row = false;
        if (static_cast<std::size_t>(i) < y.size() && y[static_cast<std::size_t>(i)] >= 0 &&
            y[static_cast<std::size_t>(i)] < z.cols()) {
            const long double zy = z(i, y[static_cast<std::size_t>(i)]);
            if (std::isfinite(zy)) e.max_label_gap = std::max(e.max_label_gap, static_cast<double>(mx - zy));
        }
    }
}

// Scales m by the power of two that makes its smallest non-zero magnitude a normal number, when
// that keeps max |m| within bound (exact: only the exponents change); subnormals are flushed
// otherwise. Keeps the pattern of a counterexample whose values were drawn subnormal.
template <class T>
void lift_subnormals(matrix<T>& m, double bound) {
    long double mn = std::numeric_limits<long double>::infinity(), mx = 0;
    for (Eigen::Index k = 0; k < m.size(); ++k) {
        const T v = m.data()[k];
        if (!std::isfinite(v) || v == T(0)) continue;
        mn = std::min(mn, static_cast<long double>(std::fabs(v)));
        mx = std::max(mx, static_cast<long double>(std::fabs(v)));
    }
    if (!(mn < static_cast<long double>(std::numeric_limits<T>::min()))) return;
    const int e = static_cast<int>(std::ceil(std::log2(static_cast<long double>(std::numeric_limits<T>::min()) / mn)));
    if (std::ldexp(mx, e) > bound) return;
    for (Eigen::Index k = 0; k < m.size(); ++k)
        if (std::isfinite(m.data()[k])) m.data()[k] = std::ldexp(m.data()[k], e);
}

template <class T>
void flush_to_ordinary(matrix<T>& m) {
    for (Eigen::Index k = 0; k < m.size(); ++k) {
        T& v = m.data()[k];
        if (!std::isfinite(v) || is_subnormal(v)) v = T(0);
    }
}

// Scales m so that max |m| ≤ bound (never up); flushes what the scaling makes subnormal.
template <class T>
void scale_within(matrix<T>& m, double bound) {
    const long double mx = m.size() ? static_cast<long double>(m.cwiseAbs().maxCoeff()) : 0.0L;
    if (mx <= bound) return;
    // Slightly inside the bound, so that rounding the scaled values cannot step outside it.
    const long double t = bound / mx * (1 - 1e-6L);
    for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = static_cast<T>(static_cast<long double>(m.data()[k]) * t);
    flush_to_ordinary(m);
}

template <class T>
Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> logits_of(const loss_case<T>& c) {
    return (c.X.template cast<long double>() * c.W.template cast<long double>()).eval();
}

}  // namespace

template <class T>
case_extent extent_of(const loss_case<T>& c) {
    case_extent e;
    scan_values(c.W, e, e.max_abs_w);
    scan_values(c.X, e, e.max_abs_x);
    if (!e.nonfinite) scan_logit_rows(logits_of(c), c.y, e);
    return e;
}

template <class T>
case_extent extent_of(const logits_case<T>& c) {
    case_extent e;
    double ignored = 0;
    scan_values(c.z, e, ignored);
    scan_values(c.g, e, e.max_abs_x);
    scan_logit_rows(c.z.template cast<long double>(), c.y, e);
    return e;
}

bool is_ordinary(const case_extent& e, const input_domain& d) {
    return !e.nonfinite && !e.subnormal && e.max_abs_logit <= d.max_abs_logit && e.max_abs_w <= d.max_abs_input &&
           e.max_abs_x <= d.max_abs_input;
}

std::string hazard_of(const case_extent& e, const input_domain& d) {
    if (e.nonfinite) return "NaN or ±inf among the inputs";
    // In order of how directly each one reaches exp and log: the label's distance below the row
    // maximum is what −log p_y sees, a row entirely very negative is what an unshifted exp sees.
    if (e.max_label_gap > 2 * d.max_abs_logit) return fmt::format("label's logit {:.6g} below the row max", e.max_label_gap);
    if (e.min_row_max < -d.max_abs_logit) return fmt::format("every logit of a row ≤ {:.6g}", e.min_row_max);
    if (e.max_spread > 2 * d.max_abs_logit) return fmt::format("logit spread (row max − min) of {:.6g}", e.max_spread);
    if (e.max_abs_logit > d.max_abs_logit) return fmt::format("|logit| up to {:.6g}", e.max_abs_logit);
    if (e.max_abs_w > d.max_abs_input) return fmt::format("|W| up to {:.6g}", e.max_abs_w);
    if (e.max_abs_x > d.max_abs_input) return fmt::format("|X| (or upstream gradient) up to {:.6g}", e.max_abs_x);
    if (e.subnormal) return "subnormal inputs";
    return "";
}

template <class T>
loss_case<T> into_ordinary(loss_case<T> c, const input_domain& d) {
    lift_subnormals(c.X, d.max_abs_input);
    lift_subnormals(c.W, d.max_abs_input);
    flush_to_ordinary(c.X);
    flush_to_ordinary(c.W);
    scale_within(c.X, d.max_abs_input);
    scale_within(c.W, d.max_abs_input);
    const auto z = logits_of(c);
    const long double mx = z.size() ? z.cwiseAbs().maxCoeff() : 0.0L;
    if (mx > d.max_abs_logit) {
        const long double t = d.max_abs_logit / mx * (1 - 1e-6L);
        for (Eigen::Index k = 0; k < c.W.size(); ++k)
            c.W.data()[k] = static_cast<T>(static_cast<long double>(c.W.data()[k]) * t);
        flush_to_ordinary(c.W);
    }
    if (!std::isfinite(c.reg)) c.reg = T(0);
    return c;
}

template <class T>
logits_case<T> into_ordinary(logits_case<T> c, const input_domain& d) {
    lift_subnormals(c.z, d.max_abs_logit);
    lift_subnormals(c.g, d.max_abs_input);
    flush_to_ordinary(c.z);
    flush_to_ordinary(c.g);
    scale_within(c.z, d.max_abs_logit);
    scale_within(c.g, d.max_abs_input);
    return c;
}

template <class T>
loss_case<T> scaled(loss_case<T> c, long double t) {
    for (Eigen::Index k = 0; k < c.W.size(); ++k) c.W.data()[k] = static_cast<T>(static_cast<long double>(c.W.data()[k]) * t);
    return c;
}

template <class T>
logits_case<T> scaled(logits_case<T> c, long double t) {
    for (Eigen::Index k = 0; k < c.z.size(); ++k) c.z.data()[k] = static_cast<T>(static_cast<long double>(c.z.data()[k]) * t);
    return c;
}

template <class T>
loss_case<T> rebalanced(loss_case<T> c, const input_domain& d) {
    if (!c.X.allFinite() || !c.W.allFinite() || c.X.size() == 0) return c;
    const long double mx = static_cast<long double>(c.X.cwiseAbs().maxCoeff());
    if (mx <= d.max_abs_input) return c;
    const int e = static_cast<int>(std::floor(std::log2(d.max_abs_input / mx)));
    for (Eigen::Index k = 0; k < c.X.size(); ++k) c.X.data()[k] = std::ldexp(c.X.data()[k], e);
    for (Eigen::Index k = 0; k < c.W.size(); ++k) c.W.data()[k] = std::ldexp(c.W.data()[k], -e);
    return c;
}

template <class T>
long double ordinary_scale(const loss_case<T>& c, const input_domain& d) {
    const case_extent e = extent_of(c);
    if (e.nonfinite || e.subnormal || e.max_abs_x > d.max_abs_input) return 0;
    long double t = 1;
    if (e.max_abs_w > d.max_abs_input) t = std::min(t, static_cast<long double>(d.max_abs_input) / e.max_abs_w);
    if (e.max_abs_logit > d.max_abs_logit) t = std::min(t, static_cast<long double>(d.max_abs_logit) / e.max_abs_logit);
    t *= 1 - 1e-6L;
    return is_ordinary(extent_of(scaled(c, t)), d) ? t : 0;
}

template <class T>
long double ordinary_scale(const logits_case<T>& c, const input_domain& d) {
    const case_extent e = extent_of(c);
    if (e.nonfinite || e.subnormal || e.max_abs_x > d.max_abs_input) return 0;
    long double t = 1;
    if (e.max_abs_logit > d.max_abs_logit) t = static_cast<long double>(d.max_abs_logit) / e.max_abs_logit * (1 - 1e-6L);
    return is_ordinary(extent_of(scaled(c, t)), d) ? t : 0;
}

#define GRADPROOF_INSTANTIATE(T)                                                            \
    template case_extent extent_of<T>(const loss_case<T>&);                                 \
    template case_extent extent_of<T>(const logits_case<T>&);                               \
    template loss_case<T> into_ordinary<T>(loss_case<T>, const input_domain&);              \
    template logits_case<T> into_ordinary<T>(logits_case<T>, const input_domain&);          \
    template loss_case<T> scaled<T>(loss_case<T>, long double);                             \
    template logits_case<T> scaled<T>(logits_case<T>, long double);                         \
    template long double ordinary_scale<T>(const loss_case<T>&, const input_domain&);       \
    template loss_case<T> rebalanced<T>(loss_case<T>, const input_domain&);                 \
    template long double ordinary_scale<T>(const logits_case<T>&, const input_domain&);
GRADPROOF_INSTANTIATE(float)
GRADPROOF_INSTANTIATE(double)
#undef GRADPROOF_INSTANTIATE

}  // namespace gradproof
