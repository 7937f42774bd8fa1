// Implements the bounds documented in error/tolerance.hpp. All arithmetic is in long double
// (range to 1e4932) so that bounds for data near double's overflow threshold stay finite.
#include "error/tolerance.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gradproof {

namespace {

using P = tolerance_policy;

template <class T>
constexpr long double u_of() {
    return std::ldexp(1.0L, -std::numeric_limits<T>::digits);
}
template <class T>
constexpr long double eta_of() {
    return static_cast<long double>(std::numeric_limits<T>::min());
}
// Gradual underflow: a product or quotient that lands below the normal range has an absolute
// error ≤ denorm_min/2 instead of a relative one (Higham §2.1).
template <class T>
constexpr long double tiny_of() {
    return static_cast<long double>(std::numeric_limits<T>::denorm_min());
}

// Statistics of one exact logit row for the σ model.
struct row_model {
    bool valid = false;
    long double a = 0;        // max
    long double sigma = 0;    // relative error bound of S
    long double log_s = 0;    // log S = lse − a
    long double weighted_d = 0;  // Σ p_j d_j
};

template <class T>
row_model model_row(const lmatrix& z, const lmatrix& p, Eigen::Index i) {
    const long double u = u_of<T>();
    row_model m;
    long double a = -std::numeric_limits<long double>::infinity();
    for (Eigen::Index j = 0; j < z.cols(); ++j) {
        if (std::isnan(z(i, j)) || z(i, j) == std::numeric_limits<long double>::infinity()) return m;
        a = std::max(a, z(i, j));
    }
    if (std::isinf(a)) return m;
    m.valid = true;
    m.a = a;
    long double s = 0, wd = 0;
    Eigen::Index finite = 0;
    for (Eigen::Index j = 0; j < z.cols(); ++j) {
        if (std::isinf(z(i, j))) continue;  // masked: contributes exactly 0
        ++finite;
        const long double d = a - z(i, j);
        s += std::exp(-d);
        wd += p(i, j) * d;
    }
    m.weighted_d = wd;
    m.log_s = std::log(s);
    m.sigma = u * wd + P::k_elem * u + gamma(P::k_acc * static_cast<long double>(finite), u);
    return m;
}

template <class T>
long double row_loss_bound(const row_model& m, long double d_y, long double loss) {
    const long double u = u_of<T>();
    return u * d_y + m.sigma / (1 - m.sigma) + P::k_elem * u * m.log_s + u * std::fabs(loss);
}

template <class T>
long double componentwise(long double normwise, long double kappa, long double y) {
    const long double c = P::safety_factor * (P::k_elem + 2 + kappa) * u_of<T>() * std::fabs(y);
    return std::min(normwise, c);
}

long double nz(long double x) { return std::isfinite(x) ? x : 0.0L; }

}  // namespace

long double gamma(long double m, long double u) {
    const long double mu = m * u;
    return mu < 1 ? mu / (1 - mu) : std::numeric_limits<long double>::infinity();
}

template <class T>
softmax_tolerances<T> softmax_tolerance(const lmatrix& z, const lmatrix& p) {
    const long double u = u_of<T>(), F = P::safety_factor;
    softmax_tolerances<T> t;
    t.probs.setZero(z.rows(), z.cols());
    t.log_probs.setZero(z.rows(), z.cols());
    t.log_probs_componentwise.setZero(z.rows(), z.cols());
    for (Eigen::Index i = 0; i < z.rows(); ++i) {
        const row_model m = model_row<T>(z, p, i);
        if (!m.valid) continue;
        // Σ_l |z_l|·|δ_lj − p_l| = A − |z_j|·p_j + |z_j|·(1 − p_j) with A = Σ_l |z_l|·p_l: O(C) per row.
        long double A = 0;
        for (Eigen::Index l = 0; l < z.cols(); ++l)
            if (!std::isinf(z(i, l))) A += std::fabs(z(i, l)) * p(i, l);
        for (Eigen::Index j = 0; j < z.cols(); ++j) {
            if (std::isinf(z(i, j))) continue;  // masked: p = 0 and log p = −inf exactly
            const long double d = m.a - z(i, j);
            const long double o = -d - m.log_s;
            t.probs(i, j) = F * (p(i, j) * (u * d + P::k_elem * u + m.sigma + u) + eta_of<T>());
            const long double nw =
                F * (u * d + m.sigma / (1 - m.sigma) + P::k_elem * u * m.log_s + u * std::fabs(o));
            t.log_probs(i, j) = nw;
            const long double zj = std::fabs(z(i, j));
            const long double kappa_num = std::max(0.0L, A - zj * p(i, j) + zj * std::fabs(1 - p(i, j)));
            t.log_probs_componentwise(i, j) = o == 0 ? nw : componentwise<T>(nw, kappa_num / std::fabs(o), o);
        }
    }
    return t;
}

template <class T>
loss_tolerances<T> cross_entropy_tolerance(const lmatrix& z, const label_vector& y,
                                           const reference::cross_entropy_reference& ref) {
    const long double u = u_of<T>(), F = P::safety_factor;
    const Eigen::Index n = z.rows(), c = z.cols();
    const long double N = static_cast<long double>(n);
    loss_tolerances<T> t;
    t.row_loss.assign(static_cast<std::size_t>(n), 0);
    t.dS.setZero(n, c);
    t.dlogits.setZero(n, c);
    long double sum_bound = 0, sum_abs = 0, kappa_num = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
        const row_model m = model_row<T>(z, ref.probs, i);
        if (!m.valid) continue;
        const auto yi = y[static_cast<std::size_t>(i)];
        const long double li = ref.row_loss[static_cast<std::size_t>(i)];
        const long double rb = row_loss_bound<T>(m, nz(m.a - z(i, yi)), nz(li));
        t.row_loss[static_cast<std::size_t>(i)] = F * rb;
        sum_bound += rb;
        sum_abs += nz(std::fabs(li));
        for (Eigen::Index j = 0; j < c; ++j) {
            if (std::isinf(z(i, j))) continue;
            const long double pj = ref.probs(i, j);
            const long double d = m.a - z(i, j);
            const long double dp = pj * (u * d + P::k_elem * u + m.sigma + u) + eta_of<T>();
            const long double ds = pj - (j == yi ? 1.0L : 0.0L);
            t.dS(i, j) = F * (dp + u * std::fabs(ds));
            t.dlogits(i, j) = F * (dp / N + 2 * u * std::fabs(ds) / N + eta_of<T>());
            kappa_num += std::fabs(z(i, j)) * std::fabs(ds) / N;
        }
    }
    const long double L = ref.loss;
    const long double nw = F * (sum_bound / N + gamma(N + 1, u) * sum_abs / N + u * std::fabs(L));
    t.loss = nw;
    t.loss_componentwise = L == 0 || !std::isfinite(L) ? nw : componentwise<T>(nw, kappa_num / std::fabs(L), L);
    return t;
}

template <class T>
loss_tolerances<T> softmax_loss_tolerance(const lmatrix& W, const lmatrix& X, const label_vector& y, long double reg,
                                          const reference::loss_reference& ref) {
    const long double u = u_of<T>(), F = P::safety_factor;
    const Eigen::Index n = X.rows(), d = X.cols(), c = W.cols();
    const long double N = static_cast<long double>(n);
    loss_tolerances<T> t;
    t.row_loss.assign(static_cast<std::size_t>(n), 0);
    t.dS.setZero(n, c);
    t.dW.setZero(d, c);

    // Score error bounds a_ij = γ_m·(|X||W|)_ij with m counted from the data.
    lmatrix a(n, c), absXW(n, c);
    for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index j = 0; j < c; ++j) {
            long double mag = 0;
            int nonzero = 0;
            bool inexact = false;
            for (Eigen::Index k = 0; k < d; ++k) {
                const long double prod = X(i, k) * W(k, j);  // exact: long double holds float products;
                if (prod == 0) continue;                      // for double, test exactness in T below
                ++nonzero;
                mag += std::fabs(prod);
                const T xt = static_cast<T>(X(i, k)), wt = static_cast<T>(W(k, j));
                const T pt = xt * wt;
                if constexpr (std::is_same_v<T, float>) {
                    inexact = inexact || static_cast<double>(pt) != static_cast<double>(xt) * static_cast<double>(wt);
                } else {
                    inexact = inexact || std::fma(xt, wt, -pt) != 0 || !std::isfinite(pt);
                }
            }
            const long double m = nonzero == 0 ? 0 : (nonzero - 1) + (inexact ? 1 : 0);
            a(i, j) = gamma(m, u) * mag;
            absXW(i, j) = mag;
        }

    long double sum_bound = 0, sum_abs = 0, kappa_num = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
        const row_model m = model_row<T>(ref.scores, ref.probs, i);
        if (!m.valid) continue;
        const auto yi = y[static_cast<std::size_t>(i)];
        const long double li = ref.row_loss[static_cast<std::size_t>(i)];
        long double A = 0, prop = 0;
        for (Eigen::Index j = 0; j < c; ++j) {
            A = std::max(A, a(i, j));
            prop += (ref.probs(i, j) + (j == yi ? 1.0L : 0.0L)) * a(i, j);
        }
        const long double rb = row_loss_bound<T>(m, m.a - ref.scores(i, yi), li) + prop + A * A / 2;
        t.row_loss[static_cast<std::size_t>(i)] = F * rb;
        sum_bound += rb;
        sum_abs += std::fabs(li);
        for (Eigen::Index j = 0; j < c; ++j) {
            const long double pj = ref.probs(i, j);
            const long double dd = m.a - ref.scores(i, j);
            const long double dp = pj * (u * dd + P::k_elem * u + m.sigma + u) + pj * std::expm1(a(i, j) + A) +
                                   eta_of<T>();
            const long double ds = ref.dS(i, j);
            t.dS(i, j) = dp + u * std::fabs(ds);  // safety factor applied below
            kappa_num += std::fabs(ds) * absXW(i, j) / N;
        }
    }
    // dW_kj = (1/N) Σ_i X_ik dS_ij + reg·W_kj
    for (Eigen::Index k = 0; k < d; ++k)
        for (Eigen::Index j = 0; j < c; ++j) {
            long double prop = 0, mag = 0;
            for (Eigen::Index i = 0; i < n; ++i) {
                prop += std::fabs(X(i, k)) * t.dS(i, j);
                mag += std::fabs(X(i, k) * ref.dS(i, j));
            }
            const long double rw = std::fabs(reg * W(k, j));
            // The N + 1 terms (N products, reg·W) summed in any order, 1/N applied before or after
            // (as a division, or a product with fl(1/N) per GEMM depth panel: fused_loss.hpp's class
            // split): ≤ N + 2 roundings per term before the final one.
            t.dW(k, j) = F * (prop / N + gamma(N + 2, u) * (mag / N + rw) + u * std::fabs(ref.dW(k, j)) +
                              (N + 3) * tiny_of<T>());
        }
    t.dS *= F;
    t.dlogits = t.dS / N;

    long double wsq = 0;
    for (Eigen::Index k = 0; k < W.size(); ++k) wsq += W.data()[k] * W.data()[k];
    const long double regterm = 0.5L * reg * wsq;
    const long double L = ref.loss;
    const long double nw = F * (sum_bound / N + gamma(N + 1, u) * sum_abs / N +
                                gamma(static_cast<long double>(W.size()) + 3, u) * regterm + u * std::fabs(L) +
                                (static_cast<long double>(W.size()) + 3) * tiny_of<T>());
    t.loss = nw;
    // κ of L w.r.t. relative perturbations of X and W: Σ|∂L/∂s|·(|X||W|) (both factors), plus reg.
    const long double kappa = L == 0 ? 0 : (2 * kappa_num + 2 * regterm) / std::fabs(L);
    t.loss_componentwise = L == 0 ? nw : componentwise<T>(nw, kappa, L);
    return t;
}

template <class T>
lmatrix softmax_backward_tolerance(const lmatrix& p, const lmatrix& g, const lmatrix& exact) {
    const long double u = u_of<T>(), F = P::safety_factor;
    const Eigen::Index c = p.cols();
    lmatrix t = lmatrix::Zero(p.rows(), c);
    for (Eigen::Index i = 0; i < p.rows(); ++i) {
        long double mag = 0;
        for (Eigen::Index j = 0; j < c; ++j) mag += std::fabs(g(i, j) * p(i, j));
        for (Eigen::Index j = 0; j < c; ++j)
            t(i, j) = F * (std::fabs(p(i, j)) * (gamma(static_cast<long double>(c) + 1, u) * mag + u * std::fabs(g(i, j))) +
                           2 * u * nz(std::fabs(exact(i, j))) + eta_of<T>());
    }
    return t;
}

template <class T>
lmatrix log_softmax_backward_tolerance(const lmatrix& o, const lmatrix& g, const lmatrix& exact) {
    const long double u = u_of<T>(), F = P::safety_factor;
    const Eigen::Index c = o.cols();
    lmatrix t = lmatrix::Zero(o.rows(), c);
    for (Eigen::Index i = 0; i < o.rows(); ++i) {
        long double mag = 0, sum = 0;
        for (Eigen::Index j = 0; j < c; ++j) {
            mag += std::fabs(g(i, j));
            sum += g(i, j);
        }
        for (Eigen::Index j = 0; j < c; ++j) {
            const long double e = std::exp(o(i, j));
            t(i, j) = F * (u * std::fabs(g(i, j)) + e * (gamma(static_cast<long double>(c), u) * mag +
                                                         (P::k_elem + 1) * u * std::fabs(sum) + u * std::fabs(o(i, j)) * std::fabs(sum)) +
                           u * nz(std::fabs(exact(i, j))) + eta_of<T>());
        }
    }
    return t;
}

#define GRADPROOF_INSTANTIATE(T)                                                                                     \
    template softmax_tolerances<T> softmax_tolerance<T>(const lmatrix&, const lmatrix&);                             \
    template loss_tolerances<T> cross_entropy_tolerance<T>(const lmatrix&, const label_vector&,                      \
                                                           const reference::cross_entropy_reference&);               \
    template loss_tolerances<T> softmax_loss_tolerance<T>(const lmatrix&, const lmatrix&, const label_vector&,       \
                                                          long double, const reference::loss_reference&);            \
    template lmatrix softmax_backward_tolerance<T>(const lmatrix&, const lmatrix&, const lmatrix&);                  \
    template lmatrix log_softmax_backward_tolerance<T>(const lmatrix&, const lmatrix&, const lmatrix&);
GRADPROOF_INSTANTIATE(float)
GRADPROOF_INSTANTIATE(double)
#undef GRADPROOF_INSTANTIATE

}  // namespace gradproof
