// See certify.hpp. The stages are timed separately; nothing here rounds in a way that matters:
// comparisons are made in long double against long double enclosure endpoints (2^-64 relative,
// 1/2048 ULP of double), and the FD comparisons in 256-bit mp_real.
#include "bench/certify.hpp"

#include "error/tolerance.hpp"
#include "error/ulp.hpp"
#include "reference/directional.hpp"
#include "reference/interval.hpp"

#include <chrono>
#include <cmath>
#include <random>
#include <stdexcept>

namespace gradproof::bench {

namespace {

using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t0) {
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

long double nearest(long double a, long double lo, long double hi) { return a < lo ? lo : a > hi ? hi : a; }
long double mid(long double lo, long double hi) { return lo + (hi - lo) / 2; }

// A point reference assembled from the enclosures' midpoints: the tolerance model needs
// approximate values of S, p, dS and ℓ (it multiplies them by u), not certified ones, and this
// saves a second pass over the O(N·D·C) stages.
reference::loss_reference midpoint_reference(const reference::certified_loss& cert) {
    reference::loss_reference r;
    r.loss = mid(cert.loss.lo, cert.loss.hi);
    for (const auto& e : cert.row_loss) r.row_loss.push_back(mid(e.lo, e.hi));
    r.scores = cert.scores;
    auto mids = [](const reference::interval_matrix& m) {
        reference::lmatrix out(m.lo.rows(), m.lo.cols());
        for (Eigen::Index k = 0; k < out.size(); ++k) out.data()[k] = mid(m.lo.data()[k], m.hi.data()[k]);
        return out;
    };
    r.probs = mids(cert.probs);
    r.dS = mids(cert.dS);
    r.dW = mids(cert.dW);
    return r;
}

}  // namespace

certification certify_gradient(const matrix<double>& W, const matrix<double>& X, const label_vector& y, double reg,
                               const loss_result<double>& out, const certify_options& options) {
    if (out.dW.rows() != W.rows() || out.dW.cols() != W.cols())
        throw std::invalid_argument("dW: the implementation's gradient must have W's shape");
    if (options.directions < 0) throw std::invalid_argument("directions: must be ≥ 0");
    const auto t_start = clock_type::now();
    certification r;
    r.n = static_cast<long>(X.rows());
    r.d = static_cast<long>(X.cols());
    r.c = static_cast<long>(W.cols());
    const reference::lmatrix Wl = convert<long double>(W), Xl = convert<long double>(X);

    auto t0 = clock_type::now();
    const auto cert = reference::certify_softmax_loss(Wl, Xl, y, reg, options.bits, options.threads);
    r.stages.push_back({"certified reference (exact X·W and Xᵀ·dS, 128-bit MPFI rows)", seconds_since(t0)});

    t0 = clock_type::now();
    const auto tol = softmax_loss_tolerance<double>(Wl, Xl, y, reg, midpoint_reference(cert));
    r.stages.push_back({"tolerances (running error analysis)", seconds_since(t0)});

    t0 = clock_type::now();
    bool ok = true;
    r.elements = static_cast<int>(out.dW.size());
    for (Eigen::Index k = 0; k < out.dW.size(); ++k) {
        const long double lo = cert.dW.lo.data()[k], hi = cert.dW.hi.data()[k];
        const long double a = out.dW.data()[k];
        const element_error e = measure<double>(a, nearest(a, lo, hi), tol.dW.data()[k]);
        r.max_ulps = std::max(r.max_ulps, static_cast<double>(e.ulps));
        if (static_cast<double>(e.margin) > r.worst_margin || r.worst_row < 0) {
            r.worst_margin = std::max(r.worst_margin, static_cast<double>(e.margin));
            if (static_cast<double>(e.margin) >= r.worst_margin) {
                r.worst_row = static_cast<long>(k / W.cols());
                r.worst_col = static_cast<long>(k % W.cols());
            }
        }
        ok = ok && e.passed();
        const long double m = mid(lo, hi);
        r.max_width_ulps = std::max(r.max_width_ulps, static_cast<double>((hi - lo) / ulp_of<double>(m)));
        const long double scale = tol.dW.data()[k];  // ∝ the element's normwise magnitude scale
        if (scale > 0) r.max_width_relative = std::max(r.max_width_relative, static_cast<double>((hi - lo) / scale));
        if (const auto cr = reference::correctly_rounded<double>({lo, hi})) {
            ++r.correctly_rounded_known;
            if (*cr == out.dW.data()[k]) ++r.equal_to_correctly_rounded;
        }
    }
    {
        const long double a = out.loss;
        const element_error e = measure<double>(a, nearest(a, cert.loss.lo, cert.loss.hi), tol.loss);
        r.loss_ulps = static_cast<double>(e.ulps);
        r.loss_margin = static_cast<double>(e.margin);
        ok = ok && e.passed();
    }
    r.stages.push_back({"comparison of every dW element", seconds_since(t0)});

    if (options.directions > 0) {
        t0 = clock_type::now();
        std::mt19937_64 rng(options.seed);
        std::uniform_real_distribution<double> unit(-1.0, 1.0);
        std::vector<reference::lmatrix> dirs;
        for (int v = 0; v < options.directions; ++v) {
            reference::lmatrix V(W.rows(), W.cols());
            for (Eigen::Index k = 0; k < V.size(); ++k) V.data()[k] = unit(rng);
            dirs.push_back(std::move(V));
        }
        const auto est = reference::loss_directional_derivatives(Wl, Xl, y, reg, dirs, options.fd, options.threads);
        const mp_precision_guard guard(options.fd.bits);
        for (std::size_t v = 0; v < dirs.size(); ++v) {
            const auto& V = dirs[v];
            mp_real analytic = 0, ref_lo = 0, ref_hi = 0, tol_v = 0;
            for (Eigen::Index k = 0; k < V.size(); ++k) {
                const mp_real vk(V.data()[k]);
                analytic += vk * mp_real(out.dW.data()[k]);
                const mp_real lo(cert.dW.lo.data()[k]), hi(cert.dW.hi.data()[k]);
                ref_lo += vk * (vk >= 0 ? lo : hi);
                ref_hi += vk * (vk >= 0 ? hi : lo);
                tol_v += abs(vk) * mp_real(tol.dW.data()[k]);
            }
            fd_check f;
            const mp_real& fdv = est[v].value;
            const mp_real& fde = est[v].error_estimate;
            const mp_real diff = abs(analytic - fdv);
            const mp_real bound = tol_v + fde;
            f.analytic = static_cast<double>(analytic);
            f.fd_value = static_cast<double>(fdv);
            f.fd_error = static_cast<double>(fde);
            f.impl_error = static_cast<double>(diff);
            f.tolerance = static_cast<double>(bound);
            f.margin = bound > 0 ? static_cast<double>(mp_real(diff / bound)) : (diff > 0 ? INFINITY : 0.0);
            const mp_real gap = fdv < ref_lo ? mp_real(ref_lo - fdv) : fdv > ref_hi ? mp_real(fdv - ref_hi) : mp_real(0);
            f.reference_gap = static_cast<double>(gap);
            f.reference_consistent = gap <= fde;
            ok = ok && f.margin <= 1 && f.reference_consistent;
            r.fd.push_back(f);
        }
        r.stages.push_back({"directional FD (256-bit, exact X·V once per direction)", seconds_since(t0)});
    }
    r.passed = ok;
    r.total_seconds = seconds_since(t_start);
    return r;
}

}  // namespace gradproof::bench
