// See certify_fused.hpp for the error analysis. Radii are formed in long double from double data
// and rounded up to double with one nextafter, so every stated bound holds for the computed
// radius; the enclosures' endpoints are compared in long double.
#include "bench/certify_fused.hpp"

#include "core/validate.hpp"
#include "error/cross_entropy_tolerance.hpp"
#include "error/ulp.hpp"
#include "reference/exact_sum.hpp"
#include "reference/ozaki_product.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>

namespace gradproof::bench {

namespace {

using clock_type = std::chrono::steady_clock;
using reference::round_up;

double seconds_since(clock_type::time_point t0) {
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

constexpr long double u53 = 0x1p-53L;
constexpr double tiny = std::numeric_limits<double>::denorm_min();

unsigned workers(unsigned threads) {
    return threads != 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
}

using dmatrix = matrix<double>;

// a + b for radii a, b ≥ 0, rounded up.
double add_up(double a, double b) { return round_up((static_cast<long double>(a) + b) * (1 + 0x1p-60L)); }

}  // namespace

fused_certificate certify_fused(const fused_ce_input<double>& in, const fused_certify_options& options) {
    using gradproof::detail::throw_invalid;
    const Eigen::Index n = in.n(), d = in.d(), v = in.v();
    if (n < 1 || d < 1) throw_invalid("hidden", "must have at least one row and one column");
    if (v < 1) throw_invalid("weight", "must have at least one row (V ≥ 1)");
    if (in.weight.cols() != d)
        throw_invalid("weight", "has " + std::to_string(in.weight.cols()) + " columns but hidden has " + std::to_string(d));
    if (in.has_bias && static_cast<Eigen::Index>(in.bias.size()) != v)
        throw_invalid("bias", "has " + std::to_string(in.bias.size()) + " values but weight has " + std::to_string(v) + " rows");
    gradproof::validate_finite(in.hidden, "hidden");
    gradproof::validate_finite(in.weight, "weight");
    for (double b : in.bias)
        if (!std::isfinite(b)) throw_invalid("bias", "contains a non-finite value");
    const unsigned threads = workers(options.threads);

    fused_certificate c;
    c.n = static_cast<long>(n);
    c.d = static_cast<long>(d);
    c.v = static_cast<long>(v);

    // Logits and their radii.
    auto t0 = clock_type::now();
    const dmatrix& H = in.hidden;
    const dmatrix& W = in.weight;
    const dmatrix aH = H.cwiseAbs(), aW = W.cwiseAbs();
    const bool error_free = options.error_free_products;
    // A·B enclosed: error-free with the given slice counts, or by the a-priori bound.
    auto product = [&](const dmatrix& A, const dmatrix& B, int sa, int sb) {
        return error_free ? reference::enclose_product(A, B, sa, sb, threads)
                          : reference::enclose_product_a_priori(A, B, threads);
    };
    // An upper bound of A·B for A, B ≥ 0: the computed product plus its a-priori error.
    auto nonneg_bound = [&](const dmatrix& A, const dmatrix& B) {
        reference::product_enclosure e = reference::enclose_product_a_priori(A, B, threads);
        for (Eigen::Index k = 0; k < e.mid.size(); ++k) e.mid.data()[k] = add_up(e.mid.data()[k], e.rad.data()[k]);
        return std::move(e.mid);
    };
    reference::product_enclosure hw = product(H, dmatrix(W.transpose()), 3, 3);
    dmatrix& S = hw.mid;
    dmatrix& R = hw.rad;
    for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index j = 0; j < v; ++j) {
            // + b, rounded to nearest: ± u·|result| more (tiny covers a subnormal result).
            S(i, j) += in.has_bias ? in.bias[static_cast<std::size_t>(j)] : 0.0;
            R(i, j) = round_up((static_cast<long double>(R(i, j)) + u53 * std::fabs(S(i, j)) + tiny) * (1 + 0x1p-60L));
        }
    const char* how = hw.error_free ? "error-free split GEMMs" : "double GEMMs, a-priori bounds";
    c.stages.push_back({std::string("logits H·Wᵀ + b (") + how + ")", seconds_since(t0)});

    // Rows, in interval arithmetic over the logits' enclosures.
    t0 = clock_type::now();
    const std::vector<long double> weights = reference::widen(in.class_weights), dloss = reference::widen(in.dloss);
    reference::ce_options_reference mids;
    const reference::certified_ce_options rows = reference::certify_cross_entropy_with_options(
        S, R, in.labels, in.options, weights, dloss, options.bits, threads, &mids);
    c.loss = rows.loss;
    c.stages.push_back({"rows (64-bit MPFI over the logits' enclosures)", seconds_since(t0)});

    // dlogits as midpoints and radii, then the products.
    t0 = clock_type::now();
    dmatrix M(n, v), rho(n, v);
    for (Eigen::Index k = 0; k < M.size(); ++k) {
        const long double lo = rows.dlogits.lo.data()[k], hi = rows.dlogits.hi.data()[k];
        const double m = static_cast<double>(lo + (hi - lo) / 2);
        M.data()[k] = m;
        rho.data()[k] = round_up(std::max(hi - m, m - lo) * (1 + 0x1p-60L));
    }
    const dmatrix aM = M.cwiseAbs();
    // G·W ∈ M·W ± ρ·|W|: M·W enclosed (error-free: 4 slices of M, whose inner dimension V makes β
    // small), ρ·|W| bounded above; Gᵀ·H likewise.
    {
        reference::product_enclosure mw = product(M, W, 4, 3);
        const dmatrix spread = nonneg_bound(rho, aW);
        c.dhidden_mid = std::move(mw.mid);
        c.dhidden_rad = std::move(mw.rad);
        for (Eigen::Index k = 0; k < c.dhidden_rad.size(); ++k)
            c.dhidden_rad.data()[k] = add_up(c.dhidden_rad.data()[k], spread.data()[k]);
    }
    {
        reference::product_enclosure mh = product(dmatrix(M.transpose()), H, 3, 3);
        const dmatrix spread = nonneg_bound(dmatrix(rho.transpose()), aH);
        c.dweight_mid = std::move(mh.mid);
        c.dweight_rad = std::move(mh.rad);
        for (Eigen::Index k = 0; k < c.dweight_rad.size(); ++k)
            c.dweight_rad.data()[k] = add_up(c.dweight_rad.data()[k], spread.data()[k]);
    }
    if (in.has_bias) {
        const long double g_ld = static_cast<long double>(n) * 0x1p-64L / (1 - static_cast<long double>(n) * 0x1p-64L);
        c.dbias_mid.assign(static_cast<std::size_t>(v), 0);
        c.dbias_rad.assign(static_cast<std::size_t>(v), 0);
        for (Eigen::Index j = 0; j < v; ++j) {
            long double s = 0, r = 0, a = 0;
            for (Eigen::Index i = 0; i < n; ++i) {
                s += M(i, j);
                r += rho(i, j);
                a += aM(i, j);
            }
            c.dbias_mid[static_cast<std::size_t>(j)] = s;
            c.dbias_rad[static_cast<std::size_t>(j)] = (r + g_ld * a) * (1 + 8 * u53);
        }
    }
    c.stages.push_back({std::string("dhidden, dweight, dbias (") + how + ")", seconds_since(t0)});

    // The approximate point reference the tolerance model multiplies by u.
    c.midpoints.ce = std::move(mids);
    c.midpoints.logits = S.cast<long double>();
    c.midpoints.dhidden = c.dhidden_mid.cast<long double>();
    c.midpoints.dweight = c.dweight_mid.cast<long double>();
    c.midpoints.dbias = c.dbias_mid;
    return c;
}

namespace {

// The nearest point of [mid − rad, mid + rad] (outward in long double) to a.
long double nearest_in(long double a, long double mid, long double rad) {
    const long double lo = mid - rad * (1 + 0x1p-60L), hi = mid + rad * (1 + 0x1p-60L);
    return a < lo ? lo : a > hi ? hi : a;
}

template <class T>
void record(fused_part& p, long double actual, long double mid, long double rad, long double tol, Eigen::Index row,
            Eigen::Index col) {
    const element_error e = measure<T>(actual, nearest_in(actual, mid, rad), tol);
    ++p.elements;
    p.max_ulps = std::max(p.max_ulps, static_cast<double>(e.ulps));
    if (p.worst_row < 0 || static_cast<double>(e.margin) > p.worst_margin) {
        p.worst_margin = static_cast<double>(e.margin);
        p.worst_row = static_cast<long>(row);
        p.worst_col = static_cast<long>(col);
    }
    p.passed = p.passed && e.passed();
    if (tol > 0) p.max_width_relative = std::max(p.max_width_relative, static_cast<double>(2 * rad / tol));
}

// b's elements recorded after a's: the same record as one pass over both.
void merge_into(fused_part& a, const fused_part& b) {
    a.elements += b.elements;
    a.max_ulps = std::max(a.max_ulps, b.max_ulps);
    if (b.worst_row >= 0 && (a.worst_row < 0 || b.worst_margin > a.worst_margin)) {
        a.worst_margin = b.worst_margin;
        a.worst_row = b.worst_row;
        a.worst_col = b.worst_col;
    }
    a.passed = a.passed && b.passed;
    a.max_width_relative = std::max(a.max_width_relative, b.max_width_relative);
}

}  // namespace

template <class T>
fused_certification compare_fused(const fused_certificate& cert, const fused_ce_input<double>& in,
                                  const fused_ce_result<T>& out, unsigned threads) {
    using gradproof::detail::throw_invalid;
    const Eigen::Index n = cert.n, d = cert.d, v = cert.v;
    if (out.dhidden.rows() != n || out.dhidden.cols() != d) throw_invalid("dhidden", "must be N×D");
    if (out.dweight.rows() != v || out.dweight.cols() != d) throw_invalid("dweight", "must be V×D");
    if (out.loss.size() != cert.loss.size()) throw_invalid("loss", "has the wrong number of values");
    if (in.has_bias && static_cast<Eigen::Index>(out.dbias.size()) != v) throw_invalid("dbias", "must hold V values");
    fused_certification r;
    r.n = cert.n;
    r.d = cert.d;
    r.v = cert.v;
    r.dtype = std::is_same_v<T, double> ? "f64" : "f32";
    r.stages = cert.stages;

    auto t0 = clock_type::now();
    const fused_ce_tolerances tol = fused_linear_cross_entropy_tolerance(
        native_arithmetic<T>(), in.hidden, in.weight,
        in.has_bias ? reference::widen(in.bias) : std::vector<long double>{}, in.labels, in.options,
        reference::widen(in.class_weights), reference::widen(in.dloss), cert.midpoints);
    r.stages.push_back({std::string("tolerances (running error analysis, ") + r.dtype + ")", seconds_since(t0)});

    t0 = clock_type::now();
    fused_part loss{"loss"}, dh{"dhidden"}, dw{"dweight"}, db{"dbias"};
    for (std::size_t k = 0; k < out.loss.size(); ++k) {
        const auto& e = cert.loss[k];
        record<T>(loss, out.loss[k], e.lo + (e.hi - e.lo) / 2, (e.hi - e.lo) / 2, tol.loss[k], static_cast<Eigen::Index>(k), 0);
    }
    for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index k = 0; k < d; ++k)
            record<T>(dh, out.dhidden(i, k), cert.dhidden_mid(i, k), cert.dhidden_rad(i, k), tol.dhidden(i, k), i, k);
    // dweight, V×D elements, in row blocks over the workers, merged in row order.
    {
        const unsigned workers = threads != 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
        const auto parts = static_cast<std::ptrdiff_t>(workers);
        std::vector<fused_part> blocks(workers, fused_part{"dweight"});
        reference::detail::parallel_blocks(parts, workers, [&](std::ptrdiff_t t0, std::ptrdiff_t t1) {
            for (std::ptrdiff_t t = t0; t < t1; ++t)
                for (Eigen::Index j = v * t / parts; j < v * (t + 1) / parts; ++j)
                    for (Eigen::Index k = 0; k < d; ++k)
                        record<T>(blocks[static_cast<std::size_t>(t)], out.dweight(j, k), cert.dweight_mid(j, k),
                                  cert.dweight_rad(j, k), tol.dweight(j, k), j, k);
        });
        for (const auto& b : blocks) merge_into(dw, b);
    }
    r.parts = {loss, dh, dw};
    if (in.has_bias) {
        for (Eigen::Index j = 0; j < v; ++j) {
            const auto s = static_cast<std::size_t>(j);
            record<T>(db, out.dbias[s], cert.dbias_mid[s], cert.dbias_rad[s], tol.dbias[s], j, 0);
        }
        r.parts.push_back(db);
    }
    r.stages.push_back({"comparison of every element", seconds_since(t0)});
    r.passed = true;
    r.total_seconds = 0;
    for (const auto& p : r.parts) {
        r.elements += p.elements;
        r.passed = r.passed && p.passed;
    }
    for (const auto& s : r.stages) r.total_seconds += s.seconds;
    return r;
}

template fused_certification compare_fused<double>(const fused_certificate&, const fused_ce_input<double>&,
                                                   const fused_ce_result<double>&, unsigned);
template fused_certification compare_fused<float>(const fused_certificate&, const fused_ce_input<double>&,
                                                  const fused_ce_result<float>&, unsigned);

}  // namespace gradproof::bench
