#include "diagnostics/diagnostics.hpp"

#include "error/ulp.hpp"
#include "fd/richardson.hpp"
#include "plugin/abi.hpp"
#include "reference/point.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <random>

namespace gradproof {

namespace detail {
namespace {

constexpr entry_point all_entry_points[] = {entry_point::softmax,          entry_point::log_softmax,
                                            entry_point::softmax_backward, entry_point::log_softmax_backward,
                                            entry_point::cross_entropy,    entry_point::softmax_loss};

double as_double(long double v) {
    // NaN counts as the worst error (an inf/NaN mismatch), like ulp_distance's +inf.
    if (std::isnan(v)) return std::numeric_limits<double>::infinity();
    return static_cast<double>(v);
}

template <class T>
reference::lmatrix widen(const matrix<T>& m) {
    return convert<long double>(m);
}

// Largest ULP error over all elements of actual against expected; +inf on a shape mismatch.
template <class T>
long double max_ulps(const matrix<T>& actual, const reference::lmatrix& expected) {
    if (actual.rows() != expected.rows() || actual.cols() != expected.cols())
        return std::numeric_limits<long double>::infinity();
    long double worst = 0;
    for (Eigen::Index i = 0; i < actual.rows(); ++i)
        for (Eigen::Index j = 0; j < actual.cols(); ++j)
            worst = std::max(worst, ulp_distance<T>(actual(i, j), expected(i, j)));
    return worst;
}

// One random input of every entry point with its references, shared by all implementations so
// their error distributions are comparable.
template <class T>
struct sample_case {
    matrix<T> z, g, p, o, W, X;
    label_vector y, y_loss;
    T reg{};
    reference::lmatrix ref_softmax, ref_log_softmax, ref_softmax_backward, ref_log_softmax_backward;
    reference::cross_entropy_reference ref_ce;
    reference::loss_reference ref_loss;
};

template <class T>
sample_case<T> make_case(std::mt19937_64& rng) {
    // Logits of mixed scale (|z| up to ≈ 30): ordinary training rows, not the hazards the property
    // catalog hunts for; the distribution shows everyday accuracy.
    std::uniform_int_distribution<int> classes(2, 10);
    std::uniform_real_distribution<double> unit(-1, 1), decades(0, 1.5);
    const int c = classes(rng);
    const double scale = std::pow(10.0, decades(rng));
    sample_case<T> k;
    k.z.resize(1, c);
    k.g.resize(1, c);
    for (int j = 0; j < c; ++j) {
        k.z(0, j) = static_cast<T>(scale * unit(rng));
        k.g(0, j) = static_cast<T>(unit(rng));
    }
    k.y = {static_cast<std::int32_t>(std::uniform_int_distribution<int>(0, c - 1)(rng))};
    k.ref_softmax = reference::softmax(widen(k.z));
    k.ref_log_softmax = reference::log_softmax(widen(k.z));
    // The backward entry points take p and o as the forward pass would hand them over: rounded to T.
    k.p = k.ref_softmax.template cast<T>();
    k.o = k.ref_log_softmax.template cast<T>();
    k.ref_softmax_backward = reference::softmax_backward(widen(k.p), widen(k.g));
    k.ref_log_softmax_backward = reference::log_softmax_backward(widen(k.o), widen(k.g));
    k.ref_ce = reference::cross_entropy(widen(k.z), k.y);
    const int n = 2, d = 3;
    k.X.resize(n, d);
    k.W.resize(d, c);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < d; ++j) k.X(i, j) = static_cast<T>(2 * unit(rng));
    for (int i = 0; i < d; ++i)
        for (int j = 0; j < c; ++j) k.W(i, j) = static_cast<T>(scale * unit(rng));
    for (int i = 0; i < n; ++i) k.y_loss.push_back(std::uniform_int_distribution<std::int32_t>(0, c - 1)(rng));
    k.reg = static_cast<T>(0.05);
    k.ref_loss = reference::softmax_loss(widen(k.W), widen(k.X), k.y_loss, static_cast<long double>(k.reg));
    return k;
}

// ULP error of one call; nullopt when the implementation declines the input. Any other failure
// (a crash, a hang past the timeout, a malformed answer) propagates: the callers stop sampling
// that entry point, so a hung implementation costs one timeout here, not one per sample.
template <class T>
std::optional<long double> call_error(const entry_points<T>& e, entry_point which, const sample_case<T>& k) {
    try {
        switch (which) {
            case entry_point::softmax: return max_ulps(e.softmax(k.z), k.ref_softmax);
            case entry_point::log_softmax: return max_ulps(e.log_softmax(k.z), k.ref_log_softmax);
            case entry_point::softmax_backward: return max_ulps(e.softmax_backward(k.p, k.g), k.ref_softmax_backward);
            case entry_point::log_softmax_backward:
                return max_ulps(e.log_softmax_backward(k.o, k.g), k.ref_log_softmax_backward);
            case entry_point::cross_entropy: {
                const auto r = e.cross_entropy(k.z, k.y);
                return std::max(ulp_distance<T>(r.loss, k.ref_ce.loss), max_ulps(r.dlogits, k.ref_ce.dlogits));
            }
            case entry_point::softmax_loss: {
                const auto r = e.softmax_loss(k.W, k.X, k.y_loss, k.reg);
                long double worst = std::max(ulp_distance<T>(r.loss, k.ref_loss.loss), max_ulps(r.dW, k.ref_loss.dW));
                if (r.dS.size() != 0) worst = std::max(worst, max_ulps(r.dS, k.ref_loss.dS));
                return worst;
            }
            // The version-2 entry points are sampled by their properties, not in the ULP charts.
            case entry_point::cross_entropy_ex:
            case entry_point::cross_entropy_ex_bf16:
            case entry_point::cross_entropy_ex_f16:
            case entry_point::fused_linear_cross_entropy:
            case entry_point::fused_linear_cross_entropy_bf16:
            case entry_point::fused_linear_cross_entropy_f16: return std::nullopt;
        }
    } catch (const rejected_input&) {
        return std::nullopt;
    } catch (const std::invalid_argument&) {
        return std::nullopt;
    }
    return std::nullopt;
}

template <class T>
void add_ulp_samples(const std::vector<subject>& subjects, const diagnostics_config& cfg, diagnostic_data& out) {
    std::mt19937_64 rng(cfg.seed ^ (std::is_same_v<T, float> ? 0x32 : 0x64));
    std::vector<sample_case<T>> cases;
    cases.reserve(static_cast<std::size_t>(cfg.ulp_samples));
    for (int i = 0; i < cfg.ulp_samples; ++i) cases.push_back(make_case<T>(rng));
    for (const subject& s : subjects) {
        const entry_points<T>& e = s.at<T>();
        for (entry_point which : all_entry_points) {
            if (!e.has(which)) continue;
            ulp_samples set;
            set.implementation = s.name;
            set.entry_point = to_string(which);
            set.prec = precision_of<T>();
            try {
                for (const auto& k : cases)
                    if (const auto err = call_error(e, which, k)) set.ulps.push_back(as_double(*err));
            } catch (const std::exception&) {
                // broken on this entry point (see call_error): keep the samples gathered so far
            }
            out.ulp.push_back(std::move(set));
        }
    }
}

// The loss of the row [0, −m] with label `label` through cross_entropy (or softmax_loss with X = 1
// and reg = 0 when only that is exposed); nullopt when declined or absent.
template <class T>
std::optional<T> stability_loss(const entry_points<T>& e, T m, std::int32_t label) {
    matrix<T> row(1, 2);
    row << T(0), -m;
    try {
        if (e.cross_entropy) return e.cross_entropy(row, {label}).loss;
        if (e.softmax_loss) {
            matrix<T> x(1, 1);
            x << T(1);
            return e.softmax_loss(row, x, {label}, T(0)).loss;
        }
    } catch (const rejected_input&) {
    } catch (const std::invalid_argument&) {
    }
    return std::nullopt;
}

template <class T>
void add_stability(const std::vector<subject>& subjects, diagnostic_data& out) {
    std::vector<T> magnitudes;
    for (double m : stability_magnitudes(static_cast<double>(std::numeric_limits<T>::max())))
        magnitudes.push_back(static_cast<T>(m));
    for (const std::int32_t label : {1, 0}) {
        // Exact losses once per magnitude, shared by every implementation.
        std::vector<long double> exact;
        exact.reserve(magnitudes.size());
        for (T m : magnitudes) {
            reference::lmatrix row(1, 2);
            row << 0.0L, -static_cast<long double>(m);
            exact.push_back(reference::cross_entropy(row, {label}).loss);
        }
        for (const subject& s : subjects) {
            const entry_points<T>& e = s.at<T>();
            if (!e.cross_entropy && !e.softmax_loss) continue;
            stability_curve c;
            c.implementation = s.name;
            c.entry_point = e.cross_entropy ? "cross_entropy" : "softmax_loss";
            c.prec = precision_of<T>();
            c.label_on = label == 1 ? "small" : "large";
            try {
                for (std::size_t i = 0; i < magnitudes.size(); ++i) {
                    const auto loss = stability_loss(e, magnitudes[i], label);
                    if (!loss) continue;
                    c.magnitude.push_back(static_cast<double>(magnitudes[i]));
                    c.ulps.push_back(as_double(ulp_distance<T>(*loss, exact[i])));
                }
            } catch (const std::exception&) {
                // broken (crash, hang, malformed answer): the curve stops where it failed
            }
            out.stability.push_back(std::move(c));
        }
    }
}

// Softmax loss of S = X·W in mp_real, differentiated analytically: the exact derivative the two
// finite-difference curves are measured against (independent of every implementation).
mp_real exact_loss_derivative(const matrix<mp_real>& W, const matrix<mp_real>& X, const label_vector& y,
                              const mp_real& reg, Eigen::Index r, Eigen::Index c) {
    const matrix<mp_real> S = X * W;
    matrix<mp_real> dS(S.rows(), S.cols());
    for (Eigen::Index i = 0; i < S.rows(); ++i) {
        const mp_real a = S.row(i).maxCoeff();
        mp_real sum = 0;
        for (Eigen::Index j = 0; j < S.cols(); ++j) sum += exp(S(i, j) - a);
        for (Eigen::Index j = 0; j < S.cols(); ++j) dS(i, j) = exp(S(i, j) - a) / sum;
        dS(i, y[static_cast<std::size_t>(i)]) -= 1;
    }
    mp_real d = 0;
    for (Eigen::Index i = 0; i < X.rows(); ++i) d += X(i, r) * dS(i, c);
    return d / mp_real(static_cast<double>(X.rows())) + reg * W(r, c);
}

void add_fd_curve(const std::vector<subject>& subjects, diagnostic_data& out) {
    // The gradient check differentiates the white-box mp_real instantiation: use the first subject
    // that exposes it (and its double loss for the plain finite difference).
    const auto it = std::find_if(subjects.begin(), subjects.end(),
                                 [](const subject& s) { return s.softmax_loss_mp && s.f64.softmax_loss; });
    if (it == subjects.end()) return;
    const subject& s = *it;
    matrix<double> X(3, 4), W(4, 3);
    X << 0.5, -1.25, 2.0, 0.75, -0.5, 1.5, 0.25, -2.0, 1.0, 0.125, -0.75, 1.75;
    W << 0.3, -0.7, 1.1, -0.2, 0.4, 0.9, 1.3, -1.6, 0.05, -0.45, 0.8, -1.0;
    const label_vector y = {0, 2, 1};
    const double reg = 0.1;
    const Eigen::Index r = 1, c = 2;
    const auto f = [&](const auto& w) {
        using scalar = std::decay_t<decltype(w)>;
        if constexpr (std::is_same_v<scalar, double>) {
            matrix<double> w2 = W;
            w2(r, c) = w;
            return s.f64.softmax_loss(w2, X, y, reg).loss;
        } else {
            matrix<mp_real> w2 = convert<mp_real>(W);
            w2(r, c) = w;
            return s.softmax_loss_mp(w2, convert<mp_real>(X), y, mp_real(reg)).loss;
        }
    };
    const auto df = [&](const mp_real& w) {
        matrix<mp_real> w2 = convert<mp_real>(W);
        w2(r, c) = w;
        return exact_loss_derivative(w2, convert<mp_real>(X), y, mp_real(reg), r, c);
    };
    try {
        const auto plain = fd::step_sweep<double>(f, df, W(r, c));
        const auto mp = fd::step_sweep<mp_real>(f, df, W(r, c));
        fd_step_curve curve;
        curve.description = "∂L/∂W[1][2] of " + s.name + " softmax_loss (X 3×4, W 4×3, reg 0.1)";
        for (std::size_t i = 0; i < plain.size() && i < mp.size(); ++i) {
            curve.step.push_back(plain[i].step);
            curve.double_error.push_back(plain[i].error);
            curve.mp_error.push_back(mp[i].error);
        }
        out.fd.push_back(std::move(curve));
    } catch (const std::exception&) {
        // A subject whose loss throws here simply gets no curve.
    }
}

}  // namespace
}  // namespace detail

std::vector<double> stability_magnitudes(double max_magnitude) {
    std::vector<double> m;
    for (int k = 0; k <= 4 * 24; ++k) m.push_back(std::pow(10.0, k / 24.0));
    for (int k = 9; k <= 600; ++k) m.push_back(std::pow(10.0, k / 2.0));
    while (!m.empty() && !(m.back() <= max_magnitude)) m.pop_back();
    return m;
}

diagnostic_data compute_diagnostics(const std::vector<subject>& subjects, const std::vector<precision>& precisions,
                                    const diagnostics_config& config) {
    diagnostic_data out;
    for (precision p : precisions) {
        if (p == precision::f64) {
            detail::add_ulp_samples<double>(subjects, config, out);
            detail::add_stability<double>(subjects, out);
        } else {
            detail::add_ulp_samples<float>(subjects, config, out);
            detail::add_stability<float>(subjects, out);
        }
    }
    detail::add_fd_curve(subjects, out);
    return out;
}

implementation_info describe_subject(const subject& s) {
    implementation_info info;
    info.name = s.name;
    info.description = s.description;
    info.known_flawed = s.known_flawed;
    for (entry_point e : plugin::all_entry_points) {
        if (s.f32.has(e)) info.entry_points_f32.push_back(to_string(e));
        if (s.f64.has(e)) info.entry_points_f64.push_back(to_string(e));
    }
    return info;
}

}  // namespace gradproof
