// Implements the bounds derived in error/cross_entropy_tolerance.hpp (stage numbers refer to it).
// All arithmetic in long double, from the exact inputs and the reference's values.
#include "error/cross_entropy_tolerance.hpp"
#include "error/ulp.hpp"
#include "reference/exact_sum.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>

namespace gradproof {

namespace {

using P = tolerance_policy;
using ld_limits = std::numeric_limits<long double>;

// A5: the smallest normal number of the accumulation format.
long double accumulation_floor(long double u_acc) {
    if (u_acc >= std::ldexp(1.0L, -24)) return std::numeric_limits<float>::min();
    if (u_acc >= std::ldexp(1.0L, -53)) return std::numeric_limits<double>::min();
    return ld_limits::min();
}

// Errors E (before F and the output rounding) of the loss values and of dlogits.
struct ce_errors {
    std::vector<long double> loss;
    lmatrix dl;
};

// input_err: the absolute error bound of each logit as the implementation forms it (fused), or null.
ce_errors analyse(const arithmetic& ar, const lmatrix& x, const label_vector& labels, const ce_options& o,
                  const std::vector<long double>& weights, const lmatrix& soft, const std::vector<long double>& dloss,
                  const reference::ce_options_reference& ref, const lmatrix* input_err) {
    const long double u = ar.u_acc, eta = accumulation_floor(u);
    const Eigen::Index n = x.rows(), c = x.cols();
    const long double C = static_cast<long double>(c), N = static_cast<long double>(n);
    const bool is_soft = soft.size() > 0, weighted = !weights.empty(), capped = o.softcap > 0;
    const long double eps = o.label_smoothing, s = o.lse_square_scale, cap = o.softcap;
    auto w = [&](Eigen::Index j) { return weighted ? weights[static_cast<std::size_t>(j)] : 1.0L; };
    long double wsum = 0;
    for (Eigen::Index j = 0; j < c; ++j) wsum += w(j);

    ce_errors e;
    e.dl.setZero(n, c);
    std::vector<long double> dce(static_cast<std::size_t>(n), 0), dzl(static_cast<std::size_t>(n), 0);
    const bool mean = o.reduce == reduction::mean;
    const long double W = ref.ce_divisor, K = ref.z_divisor;
    const long double rho_ce = mean ? gamma(N, u) + u : 0, rho_zl = mean ? u : 0;

    // Rows are independent: at language-model sizes they run in blocks over the hardware threads.
    const unsigned workers = n * c >= (Eigen::Index{1} << 20) ? std::max(1u, std::thread::hardware_concurrency()) : 1;
    reference::detail::parallel_blocks(n, workers, [&](std::ptrdiff_t row0, std::ptrdiff_t row1) {
        std::vector<long double> dz(static_cast<std::size_t>(c)), chain(static_cast<std::size_t>(c)),
            dchain(static_cast<std::size_t>(c));
        for (Eigen::Index i = row0; i < row1; ++i) {
            const auto ii = static_cast<std::size_t>(i);
            const bool ignored = !is_soft && o.has_ignore_index && labels[ii] == o.ignore_index;
            if (ignored || std::isnan(ref.lse[ii])) continue;  // exact zeros, or NaN (tolerance 0)
            // Stage 1: perturbation of each capped logit and of the chain factor.
            long double a = -ld_limits::infinity();
            long double A = 0, Pp = 0, finite = 0;
            for (Eigen::Index j = 0; j < c; ++j) {
                const auto jj = static_cast<std::size_t>(j);
                const long double in_err = input_err != nullptr ? (*input_err)(i, j) : 0;
                const long double z = ref.z(i, j);
                if (capped) {
                    const long double t = z / cap, q = std::isinf(x(i, j)) ? 0 : std::fabs(x(i, j)) / cap;
                    // sech²(x/cap), not 1 − t·t: once |t| rounds to 1 (|x/cap| ≳ 22 in long double) the
                    // difference is 0 while the factor is still a positive number the output carries.
                    const long double sech = std::isinf(x(i, j)) ? 0 : 1 / std::cosh(x(i, j) / cap);
                    const long double c1 = sech * sech;
                    const long double dt = c1 * (2 * u * q + in_err / cap) + P::k_elem * u * std::fabs(t);
                    dz[jj] = cap * dt + 2 * u * std::fabs(z);
                    chain[jj] = c1;
                    dchain[jj] = 2 * std::fabs(t) * dt + 2 * u;
                } else {
                    dz[jj] = in_err;
                    chain[jj] = 1;
                    dchain[jj] = 0;
                }
                if (std::isinf(z)) continue;  // masked: p = 0 exactly
                a = std::max(a, z);
                finite += 1;
            }
            // Stage 2: the row model.
            long double wd = 0;
            for (Eigen::Index j = 0; j < c; ++j) {
                const auto jj = static_cast<std::size_t>(j);
                if (std::isinf(ref.z(i, j))) continue;
                const long double p = ref.probs(i, j);
                wd += p * (a - ref.z(i, j));
                A = std::max(A, dz[jj]);
                Pp += p * dz[jj];
            }
            const long double sigma = u * wd + P::k_elem * u + gamma(P::k_acc * finite, u);
            const long double lse = ref.lse[ii], log_s = std::max(0.0L, lse - a);
            const long double dlog_s = sigma / (1 - sigma) + P::k_elem * u * log_s;
            const long double pert = Pp + A * A / 2;
            const long double dlse = dlog_s + u * std::fabs(lse) + pert;
            auto h = [&](Eigen::Index j) { return lse - ref.z(i, j); };
            auto Eh = [&](Eigen::Index j) {
                return u * (a - ref.z(i, j)) + dlog_s + u * h(j) + pert + dz[static_cast<std::size_t>(j)];
            };
            auto dp = [&](Eigen::Index j) {
                const long double p = ref.probs(i, j);
                if (std::isinf(ref.z(i, j))) return 0.0L;
                const auto jj = static_cast<std::size_t>(j);
                return p * (u * (a - ref.z(i, j)) + P::k_elem * u + sigma + u) + p * std::expm1(dz[jj] + A) + eta;
            };

            // Stage 3: ce_i and zl_i.
            const std::int32_t y = is_soft ? -1 : labels[ii];
            long double err = 0, B = 0;
            if (!is_soft) {
                // With ε > 0 the hard term may be folded into the class sum (target mass (1 − ε)·w_y + ε/C·w_y
                // on the label, as a soft-target form computes it): it then shares that sum's γ_{C+4}.
                if (eps < 1 && w(y) != 0) err += (1 - eps) * w(y) * Eh(y) + (eps > 0 ? gamma(C + 4, u) : 4 * u) * w(y) * h(y);
                if (eps > 0) {
                    long double sw_e = 0, sw_h = 0;
                    for (Eigen::Index j = 0; j < c; ++j) {
                        if (w(j) == 0) continue;
                        sw_e += w(j) * Eh(j);
                        sw_h += w(j) * h(j);
                    }
                    err += eps / C * (sw_e + gamma(C + 4, u) * sw_h);
                }
            } else {
                long double swq_e = 0, swq_h = 0, swq0 = 0;
                for (Eigen::Index j = 0; j < c; ++j) {
                    const long double qp = (1 - eps) * soft(i, j) + eps / C;
                    B += w(j) * qp;
                    if (w(j) == 0 || qp == 0) continue;
                    swq_e += w(j) * qp * Eh(j);
                    swq_h += w(j) * qp * h(j);
                    swq0 += w(j) * soft(i, j) * h(j);
                }
                err += swq_e + gamma(C + 6, u) * swq_h + 2 * u * swq0;
            }
            dce[ii] = err + u * ref.row_ce[ii];
            dzl[ii] = s > 0 ? 2 * s * std::fabs(lse) * dlse + 3 * u * ref.row_zloss[ii] : 0;

            // Stage 5: gradient.
            const long double kce = o.reduce == reduction::none ? dloss[ii] : mean ? dloss[0] / W : dloss[0];
            const long double kzl = o.reduce == reduction::none ? dloss[ii] : mean ? dloss[0] / K : dloss[0];
            const long double wy = is_soft ? 0 : w(y);
            const long double Acoef = is_soft ? B : (eps < 1 ? (1 - eps) * wy : 0) + eps / C * wsum;
            for (Eigen::Index j = 0; j < c; ++j) {
                const auto jj = static_cast<std::size_t>(j);
                const long double p = ref.probs(i, j), dpj = dp(j);
                long double g = 0, dg = 0;
                if (!is_soft) {
                    const long double pm = p - (j == y ? 1.0L : 0.0L);
                    g = (1 - eps) * wy * pm + eps / C * (wsum * p - w(j));
                    const long double M = wy * std::fabs(pm) + eps / C * (wsum * p + w(j));
                    dg = Acoef * dpj + eps / C * gamma(C, u) * wsum * p + gamma(4, u) * M;
                } else {
                    const long double qp = w(j) * ((1 - eps) * soft(i, j) + eps / C);
                    g = B * p - qp;
                    dg = B * dpj + gamma(C + 6, u) * (B * p + qp);
                }
                const long double zg = 2 * s * lse * p;
                const long double dzg = s > 0 ? 2 * s * (std::fabs(lse) * dpj + p * dlse) + 4 * u * std::fabs(zg) : 0;
                const long double G = kce * g + kzl * zg;
                const long double dG = std::fabs(kce) * (dg + rho_ce * std::fabs(g)) +
                                       std::fabs(kzl) * (dzg + rho_zl * std::fabs(zg)) +
                                       2 * u * (std::fabs(kce * g) + std::fabs(kzl * zg));
                const long double dl = G * chain[jj];
                e.dl(i, j) = dG * chain[jj] + std::fabs(G) * dchain[jj] + (capped ? u * std::fabs(dl) : 0);
            }
        }
    });

    // Stage 4: reductions.
    if (o.reduce == reduction::none) {
        e.loss.resize(static_cast<std::size_t>(n));
        for (Eigen::Index i = 0; i < n; ++i) {
            const auto ii = static_cast<std::size_t>(i);
            e.loss[ii] = dce[ii] + dzl[ii] + u * std::fabs(ref.loss[ii]);
        }
    } else {
        long double sde = 0, sdz = 0, sce = 0, szl = 0;
        for (Eigen::Index i = 0; i < n; ++i) {
            const auto ii = static_cast<std::size_t>(i);
            sde += dce[ii];
            sdz += dzl[ii];
            sce += ref.row_ce[ii];
            szl += ref.row_zloss[ii];
        }
        if (o.reduce == reduction::sum)
            e.loss = {sde + sdz + gamma(N + 1, u) * (sce + szl)};
        else
            e.loss = {sde / W + (gamma(N + 1, u) + gamma(N, u) + u) * sce / W + sdz / K + (gamma(N + 1, u) + u) * szl / K +
                      u * std::fabs(ref.loss[0])};
    }
    return e;
}

// Stage 6: F·E + r_out(|y| + F·E); 0 where the reference is not finite (exact match required).
long double finish(const arithmetic& ar, long double E, long double y) {
    if (!std::isfinite(y) || !std::isfinite(E)) return 0;
    const long double narrowing = ar.u_out > ar.u_acc ? ar.u_acc * std::fabs(y) : 0;
    const long double fe = P::safety_factor * (E + narrowing);
    return fe + detail::output_rounding(ar, std::fabs(y) + fe);
}

}  // namespace

namespace detail {
long double output_rounding(const arithmetic& a, long double x) {
    if (!(x > 0)) return a.out_floor;
    if (!std::isfinite(x)) return ld_limits::infinity();
    return std::max(a.u_out * power_of_two_floor(x), a.out_floor);
}
}  // namespace detail

arithmetic half_arithmetic(half_format f) {
    const half_facts h = facts_of(f);
    return {std::ldexp(1.0L, -24), h.unit_roundoff, h.underflow_step / 2};
}

ce_options_tolerances cross_entropy_options_tolerance(const arithmetic& a, const lmatrix& logits,
                                                      const label_vector& labels, const ce_options& o,
                                                      const std::vector<long double>& class_weights,
                                                      const lmatrix& soft_targets,
                                                      const std::vector<long double>& dloss,
                                                      const reference::ce_options_reference& ref) {
    const ce_errors e = analyse(a, logits, labels, o, class_weights, soft_targets, dloss, ref, nullptr);
    ce_options_tolerances t;
    t.loss.resize(e.loss.size());
    for (std::size_t k = 0; k < e.loss.size(); ++k) t.loss[k] = finish(a, e.loss[k], ref.loss[k]);
    t.dlogits.setZero(logits.rows(), logits.cols());
    for (Eigen::Index i = 0; i < logits.rows(); ++i) {
        const auto ii = static_cast<std::size_t>(i);
        const bool ignored = soft_targets.size() == 0 && o.has_ignore_index && labels[ii] == o.ignore_index;
        if (ignored) continue;  // exact zeros
        for (Eigen::Index j = 0; j < logits.cols(); ++j) t.dlogits(i, j) = finish(a, e.dl(i, j), ref.dlogits(i, j));
    }
    return t;
}

// The products of nonnegative matrices below are formed in double: a bound with a safety factor
// does not need more than γ_d ≈ 10⁻¹³ relative accuracy, and long double products are not
// vectorised (an LM-head shape takes minutes in long double, seconds in double).
template <class S>
fused_ce_tolerances fused_linear_cross_entropy_tolerance(const arithmetic& a, const matrix<S>& hidden,
                                                         const matrix<S>& weight, const std::vector<long double>& bias,
                                                         const label_vector& labels, const ce_options& o,
                                                         const std::vector<long double>& class_weights,
                                                         const std::vector<long double>& dloss,
                                                         const reference::fused_ce_reference& ref) {
    const matrix<double> absH = hidden.cwiseAbs().template cast<double>(), absW = weight.cwiseAbs().template cast<double>();
    const long double u = a.u_acc;
    const Eigen::Index n = absH.rows(), d = absH.cols(), v = absW.rows();
    // Stage 7: logits by a length-d dot product plus the bias.
    lmatrix in_err = (absH * absW.transpose()).cast<long double>();
    if (!bias.empty())
        for (Eigen::Index i = 0; i < n; ++i)
            for (Eigen::Index j = 0; j < v; ++j) in_err(i, j) += std::fabs(bias[static_cast<std::size_t>(j)]);
    in_err *= gamma(static_cast<long double>(d) + 1, u);
    const ce_errors e = analyse(a, ref.logits, labels, o, class_weights, lmatrix(), dloss, ref.ce, &in_err);

    fused_ce_tolerances t;
    t.loss.resize(e.loss.size());
    for (std::size_t k = 0; k < e.loss.size(); ++k) t.loss[k] = finish(a, e.loss[k], ref.ce.loss[k]);
    // dlogits never exist in the output format: their error E enters the products directly.
    lmatrix dl = ref.ce.dlogits.cwiseAbs();
    for (Eigen::Index k = 0; k < dl.size(); ++k)
        if (!std::isfinite(dl.data()[k])) dl.data()[k] = 0;
    const matrix<double> eh = ((e.dl + gamma(static_cast<long double>(v) + 2, u) * dl).cast<double>() * absW);
    const matrix<double> ew =
        ((e.dl + gamma(static_cast<long double>(n) + 2, u) * dl).cast<double>().transpose() * absH);
    t.dhidden.resize(n, d);
    t.dweight.resize(v, d);
    for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index k = 0; k < d; ++k) t.dhidden(i, k) = finish(a, eh(i, k), ref.dhidden(i, k));
    for (Eigen::Index j = 0; j < v; ++j)
        for (Eigen::Index k = 0; k < d; ++k) t.dweight(j, k) = finish(a, ew(j, k), ref.dweight(j, k));
    if (!bias.empty()) {
        t.dbias.resize(static_cast<std::size_t>(v));
        for (Eigen::Index j = 0; j < v; ++j) {
            long double eb = 0, mag = 0;
            for (Eigen::Index i = 0; i < n; ++i) {
                eb += e.dl(i, j);
                mag += dl(i, j);
            }
            t.dbias[static_cast<std::size_t>(j)] =
                finish(a, eb + gamma(static_cast<long double>(n) + 2, u) * mag, ref.dbias[static_cast<std::size_t>(j)]);
        }
    }
    return t;
}

template fused_ce_tolerances fused_linear_cross_entropy_tolerance<long double>(
    const arithmetic&, const lmatrix&, const lmatrix&, const std::vector<long double>&, const label_vector&, const ce_options&,
    const std::vector<long double>&, const std::vector<long double>&, const reference::fused_ce_reference&);
template fused_ce_tolerances fused_linear_cross_entropy_tolerance<double>(
    const arithmetic&, const matrix<double>&, const matrix<double>&, const std::vector<long double>&, const label_vector&,
    const ce_options&, const std::vector<long double>&, const std::vector<long double>&, const reference::fused_ce_reference&);

}  // namespace gradproof
