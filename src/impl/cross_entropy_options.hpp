// Built-in cross-entropy with options and fused linear cross-entropy: the semantics of the plug-in
// ABI's version 2 (include/gradproof/plugin.h states every formula; ../shared/docs/ce-semantics.md
// has the notes), in storage type T with arithmetic in A.
//
// Semantics. One row core (ce_row) computes, from a row of raw logits x, its targets and two
// scales, ce_i, zl_i and ∂(ce_scale·ce_i + zl_scale·zl_i)/∂x; the plain and the fused entry points
// only differ in where x comes from (a row of logits, or H_i·Wᵀ + b) and where the gradient goes.
// Every choice plugin.h leaves open is made as PyTorch 1.13 makes it: every-row-ignored mean is NaN
// (0/0) with zero gradients; a weighted mean whose kept weights sum to 0 is 0/0 as well (NaN),
// gradients included. NaN or +inf logits are rejected (std::invalid_argument "logits: …"), in
// ignored rows too, as is a row whose every class is −inf after capping; other −inf logits are
// masked classes (p = 0), and a masked class that carries target mass makes the loss +inf (its
// true value).
//
// Error analysis (u = unit roundoff of A). Per row, with z the capped logits, m = z_k = max z,
// d_c = z_c − m (exact when z_c ≥ m/2, Sterbenz; else one rounding) and r = Σ_{c≠k} exp(d_c):
// lse − z_c is formed as log1p(r) − d_c (Blanchard, Higham & Higham 2021), never as −log of a
// rounded probability, so a row loss is accurate to O((C + 2)·u) relative to Σ_c t_c·|lse − z_c|
// even when p_y underflows, and componentwise when the loss is tiny (r ≪ 1: log of 1 + r rounded
// would keep only an absolute error u); p_c = exp(d_c)/(1 + r) carries ≤ (C + 3)·u relative error. Each gradient element is ce_scale·((Σt)·p_j − t_j)
// + zl_coeff·p_j: for the common unweighted, unsmoothed row the bracket is p_j − 1 or p_j, formed
// exactly from p_j, so the scale (1/W for the mean) is applied after the cancellation, not before.
// The soft-cap chain factor 1 − tanh²(y), y = x/cap, is computed as sech²(y) = (1/cosh y)²: a few u
// relative error for every y, where any form built on a rounded th = tanh(y) errs by u/(1 − |th|)
// relatively once tanh saturates (already 1e-4 in float at |y| ≈ 5).
// Batch sums are recursive in row order (error ≤ (n − 1)·u·Σ|terms|).
//
// The semantics are a policy of static hooks (detail::ce_semantics); tests/mutation/
// option_variants.hpp replaces exactly one hook per mutant, so every mutant runs this code with a
// single deviation.
#pragma once

#include "core/cross_entropy_options.hpp"
#include "core/half.hpp"
#include "core/matrix.hpp"
#include "core/validate.hpp"
#include "impl/math.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace gradproof::detail {

// Which parts of the row loss a hard-label row carries.
struct ce_terms {
    bool hard = true;    // (1−ε)·w[y]·(lse − z_y)
    bool smooth = true;  // (ε/C)·Σ_c w[c]·(lse − z_c)
    bool zloss = true;   // s·lse²
    bool any() const { return hard || smooth || zloss; }
};

// Divisors of the mean: Σ ce_i / ce, Σ zl_i / zl.
template <class A>
struct ce_divisors {
    A ce;
    A zl;
};

// The semantics of plugin.h, one hook per decision an implementation can get wrong.
struct ce_semantics {
    // The row with this (hard) label is ignored.
    static bool ignored(const ce_options& o, std::int32_t label) {
        return o.has_ignore_index && label == o.ignore_index;
    }
    // An ignored row carries nothing; a kept row every term. smoothing: ε > 0.
    static ce_terms row_terms(bool is_ignored, bool /*smoothing*/) {
        return is_ignored ? ce_terms{false, false, false} : ce_terms{};
    }
    // The factor of class c in the smoothing term of a hard-label row (PyTorch 1.13: w[c]).
    template <class A>
    static A smoothing_class_weight(const A& w) {
        return w;
    }
    // W = Σ_{kept} w[y_i] (n for soft targets) and K = the number of kept rows.
    template <class A>
    static ce_divisors<A> mean_divisors(const A& kept_weight, const A& kept_rows, Eigen::Index /*n*/) {
        return {kept_weight, kept_rows};
    }
    // The upstream gradient of row i under reduction none.
    template <class A>
    static A none_upstream(const std::vector<A>& dloss, Eigen::Index i) {
        return dloss[static_cast<std::size_t>(i)];
    }
    // ∂(s·lse²)/∂lse.
    template <class A>
    static A zloss_grad_coeff(const A& s, const A& lse) {
        return A(2) * s * lse;
    }
    // ∂(cap·tanh(y))/∂x = 1 − tanh²(y) = sech²(y), y = x/cap; (1/cosh)² underflows gracefully.
    template <class A>
    static A softcap_chain(const A& y) {
        using std::cosh;
        const A r = A(1) / cosh(y);
        return r * r;
    }
    // The options the fused loss hands to the cross-entropy.
    static ce_options fused_options(const ce_options& o) { return o; }
    // Each bf16/f16 output: rounded once, to nearest, ties to even.
    static float round_half(half_format f, float x) { return round_to_half(f, x); }
};

// ---- validation (shared by every implementation here) ----------------------------------------

inline void validate_ce_options(const ce_options& o) {
    if (o.reduce != reduction::none && o.reduce != reduction::mean && o.reduce != reduction::sum)
        throw_invalid("reduction", "must be none, mean or sum");
    if (!(o.label_smoothing >= 0 && o.label_smoothing <= 1))
        throw_invalid("label_smoothing", "must lie in [0, 1], got " + std::to_string(o.label_smoothing));
    if (!std::isfinite(o.lse_square_scale) || o.lse_square_scale < 0)
        throw_invalid("lse_square_scale", "must be finite and ≥ 0, got " + std::to_string(o.lse_square_scale));
    if (!std::isfinite(o.softcap) || o.softcap < 0)
        throw_invalid("softcap", "must be finite and ≥ 0 (0: no cap), got " + std::to_string(o.softcap));
}

// Hard labels: n of them, each in [0, c) unless it is the ignore_index.
inline void validate_ce_labels(const label_vector& y, Eigen::Index n, Eigen::Index c, const ce_options& o) {
    if (static_cast<Eigen::Index>(y.size()) != n)
        throw_invalid("labels", "has " + std::to_string(y.size()) + " labels for " + std::to_string(n) + " rows");
    for (std::size_t i = 0; i < y.size(); ++i)
        if ((y[i] < 0 || y[i] >= c) && !ce_semantics::ignored(o, y[i]))
            throw_invalid("labels", "label " + std::to_string(y[i]) + " at index " + std::to_string(i) +
                                        " is outside [0, " + std::to_string(c) + ") and is not the ignore_index");
}

template <class T>
void validate_ce_class_weights(const std::vector<T>& w, Eigen::Index c) {
    if (w.empty()) return;
    if (static_cast<Eigen::Index>(w.size()) != c)
        throw_invalid("class_weights", "has " + std::to_string(w.size()) + " values for " + std::to_string(c) + " classes");
    for (std::size_t k = 0; k < w.size(); ++k)
        if (!is_finite_scalar(w[k]) || w[k] < T(0))
            throw_invalid("class_weights", "value at index " + std::to_string(k) + " must be finite and ≥ 0");
}

template <class T>
void validate_ce_dloss(const std::vector<T>& dloss, Eigen::Index n, reduction r) {
    const Eigen::Index want = r == reduction::none ? n : 1;
    if (static_cast<Eigen::Index>(dloss.size()) != want)
        throw_invalid("dloss", "has " + std::to_string(dloss.size()) + " values, reduction " + to_string(r) +
                                   " needs " + std::to_string(want));
}

// 0: usable; 1: a NaN or +inf (before capping); 2: every class −inf after capping.
template <class A>
int ce_row_status(const A* x, Eigen::Index c, bool capped) {
    bool all_masked = true;
    for (Eigen::Index j = 0; j < c; ++j) {
        if (isnan_(x[j]) || x[j] == inf_<A>()) return 1;
        if (x[j] != -inf_<A>()) all_masked = false;
    }
    return all_masked && !capped ? 2 : 0;  // cap·tanh(−inf) = −cap is finite
}

inline void throw_bad_row(const char* argument, int status, Eigen::Index i, const char* what) {
    throw_invalid(argument, std::string("row ") + std::to_string(i) + (status == 1 ? " holds a NaN or +inf " : " has every class −inf in its ") + what);
}

template <class T>
void validate_ce_ex(const ce_ex_input<T>& in) {
    const Eigen::Index n = in.n(), c = in.c();
    if (c < 1) throw_invalid("logits", "must have at least one column (C ≥ 1)");
    if (n < 1) throw_invalid("logits", "must have at least one row (N ≥ 1)");
    validate_ce_options(in.options);
    if (in.soft()) {
        if (in.soft_targets.rows() != n || in.soft_targets.cols() != c)
            throw_invalid("soft_targets", "must be " + std::to_string(n) + "×" + std::to_string(c) + " like logits, got " +
                                              std::to_string(in.soft_targets.rows()) + "×" +
                                              std::to_string(in.soft_targets.cols()));
        if (in.options.has_ignore_index)
            throw_invalid("ignore_index", "cannot be combined with soft targets (as in PyTorch)");
        for (Eigen::Index k = 0; k < in.soft_targets.size(); ++k)
            if (!is_finite_scalar(in.soft_targets.data()[k]) || in.soft_targets.data()[k] < T(0))
                throw_invalid("soft_targets", "value at flat index " + std::to_string(k) + " must be finite and ≥ 0");
    } else {
        validate_ce_labels(in.labels, n, c, in.options);
    }
    validate_ce_class_weights(in.class_weights, c);
    validate_ce_dloss(in.dloss, n, in.options.reduce);
    for (Eigen::Index i = 0; i < n; ++i)
        if (const int st = ce_row_status(&in.logits(i, 0), c, in.options.softcap > 0))
            throw_bad_row("logits", st, i, "logit");
}

template <class T>
void validate_fused_ce(const fused_ce_input<T>& in) {
    const Eigen::Index n = in.n(), d = in.d(), v = in.v();
    if (n < 1) throw_invalid("hidden", "must have at least one row (N ≥ 1)");
    if (d < 1) throw_invalid("hidden", "must have at least one column (D ≥ 1)");
    if (v < 1) throw_invalid("weight", "must have at least one row (V ≥ 1)");
    if (in.weight.cols() != d)
        throw_invalid("weight", "has " + std::to_string(in.weight.cols()) + " columns but hidden has " + std::to_string(d));
    if (in.has_bias && static_cast<Eigen::Index>(in.bias.size()) != v)
        throw_invalid("bias", "has " + std::to_string(in.bias.size()) + " values for " + std::to_string(v) + " classes");
    validate_ce_options(in.options);
    validate_ce_labels(in.labels, n, v, in.options);
    validate_ce_class_weights(in.class_weights, v);
    validate_ce_dloss(in.dloss, n, in.options.reduce);
    validate_finite(in.hidden, "hidden");
    validate_finite(in.weight, "weight");
    if (in.has_bias)
        for (const T& b : in.bias)
            if (!is_finite_scalar(b)) throw_invalid("bias", "contains a non-finite value");
    // The N×V logits are never formed; only the V×D accumulator of dweight is extra.
    check_work_size("weight", v, d, sizeof(T), "the dweight accumulator");
}

// ---- the row core ---------------------------------------------------------------------------

// Per-call constants, in A. w is nullptr for unit weights (set by ce_run).
template <class A>
struct ce_consts {
    Eigen::Index c = 0;
    A eps{}, eps_over_c{}, s{}, cap{};
    const A* w = nullptr;
    A weight(Eigen::Index k) const { return w ? w[k] : A(1); }
};

// Targets of one row: a hard label (−1 or out of [0, c): no hard term) or a soft target row.
template <class A>
struct ce_target {
    Eigen::Index label = -1;
    const A* soft = nullptr;
};

template <class A>
struct ce_work {
    std::vector<A> y, z, d, e, u;  // x/cap, capped logits, z − max, exp(z − max), smoothing masses
    explicit ce_work(Eigen::Index c)
        : y(static_cast<std::size_t>(c)), z(y.size()), d(y.size()), e(y.size()), u(y.size()) {}
};

// One row: x (c raw logits, usable per ce_row_status) → ce, zl and grad = ∂(ce_scale·ce +
// zl_scale·zl)/∂x (c values). terms only matters for hard labels (soft rows carry every term).
template <class Policy, class A>
void ce_row(const A* x, const ce_target<A>& t, const ce_terms& terms, const ce_consts<A>& k, const A& ce_scale,
            const A& zl_scale, A* grad, A& ce, A& zl, ce_work<A>& w) {
    using std::tanh;
    const Eigen::Index c = k.c;
    const auto at = [](Eigen::Index j) { return static_cast<std::size_t>(j); };
    // Soft cap (Gemma 2).
    for (Eigen::Index j = 0; j < c; ++j) {
        if (k.cap > A(0)) {
            w.y[at(j)] = x[j] / k.cap;
            w.z[at(j)] = k.cap * tanh(w.y[at(j)]);
        } else {
            w.z[at(j)] = x[j];
        }
    }
    // Max-shifted log-sum-exp in the log1p form: lse = m + log1p(Σ_{j≠k} exp(d_j)), k the first max.
    Eigen::Index k_max = 0;
    for (Eigen::Index j = 1; j < c; ++j)
        if (w.z[at(j)] > w.z[at(k_max)]) k_max = j;
    const A m = w.z[at(k_max)];
    A rest = A(0);
    for (Eigen::Index j = 0; j < c; ++j) {
        w.d[at(j)] = w.z[at(j)] - m;
        w.e[at(j)] = exp_(w.d[at(j)]);
        if (j != k_max) rest += w.e[at(j)];
    }
    const A sum = A(1) + rest;
    const A log_sum = log1p_(rest);
    const A lse = m + log_sum;

    // Target masses: a at the hard label, f·u_c spread over the classes; ce = Σ_c t_c·(lse − z_c).
    const Eigen::Index y = t.soft == nullptr && t.label >= 0 && t.label < c ? t.label : -1;
    A a = A(0);
    if (t.soft == nullptr && terms.hard && y >= 0) a = (A(1) - k.eps) * k.weight(y);
    A f = A(0), u_sum = A(0);
    if (t.soft != nullptr) {
        f = A(1);
        for (Eigen::Index j = 0; j < c; ++j) w.u[at(j)] = k.weight(j) * ((A(1) - k.eps) * t.soft[j] + k.eps_over_c);
    } else if (terms.smooth && k.eps > A(0)) {
        f = k.eps_over_c;
        for (Eigen::Index j = 0; j < c; ++j) w.u[at(j)] = Policy::smoothing_class_weight(k.weight(j));
    }
    if (f != A(0))
        for (Eigen::Index j = 0; j < c; ++j) u_sum += w.u[at(j)];

    // Zero masses are skipped: 0·(lse − z_c) is 0, but 0·inf would be NaN for a masked class.
    ce = A(0);
    if (a != A(0)) ce = a * (log_sum - w.d[at(y)]);
    if (f != A(0)) {
        A spread = A(0);
        for (Eigen::Index j = 0; j < c; ++j)
            if (w.u[at(j)] != A(0)) spread += w.u[at(j)] * (log_sum - w.d[at(j)]);
        ce += f * spread;
    }
    const bool has_zloss = (t.soft != nullptr || terms.zloss) && k.s != A(0);
    zl = has_zloss ? k.s * lse * lse : A(0);
    const A zl_coeff = has_zloss ? Policy::zloss_grad_coeff(k.s, lse) * zl_scale : A(0);

    // ∂ce/∂z_j = (a + f·Σu)·p_j − (a·[j = y] + f·u_j); ∂zl/∂z_j = 2·s·lse·p_j.
    const A mass = a + f * u_sum;
    for (Eigen::Index j = 0; j < c; ++j) {
        const A p = w.e[at(j)] / sum;
        A target = f != A(0) ? f * w.u[at(j)] : A(0);
        if (j == y) target += a;
        A g = ce_scale * (mass * p - target);
        if (has_zloss) g += zl_coeff * p;
        if (k.cap > A(0)) g *= Policy::softcap_chain(w.y[at(j)]);
        grad[j] = g;
    }
}

// Everything the row loop needs, converted to A once: labels (hard) or soft targets, class
// weights, dloss, and the per-row scales of the reduction.
template <class A>
struct ce_problem {
    Eigen::Index n = 0, c = 0;
    ce_options options;
    const label_vector* labels = nullptr;  // hard labels; nullptr with soft targets
    matrix<A> soft;                        // n×c, or empty
    std::vector<A> weights;                // empty: unit weights
    std::vector<A> dloss;
    std::vector<bool> ignored;  // per row (hard labels)
    ce_divisors<A> divisors{A(1), A(1)};
    ce_consts<A> consts;

    // The scales of ce_i and zl_i in Σ_k dloss[k]·loss[k].
    template <class Policy>
    std::pair<A, A> scales(Eigen::Index i) const {
        switch (options.reduce) {
            case reduction::none: {
                const A g = Policy::none_upstream(dloss, i);
                return {g, g};
            }
            case reduction::sum: return {dloss[0], dloss[0]};
            case reduction::mean: break;
        }
        return {dloss[0] / divisors.ce, dloss[0] / divisors.zl};
    }
};

template <class Policy, class A, class T>
ce_problem<A> make_ce_problem(Eigen::Index n, Eigen::Index c, const ce_options& o, const label_vector* labels,
                              const matrix<T>* soft, const std::vector<T>& weights, const std::vector<T>& dloss) {
    ce_problem<A> p;
    p.n = n;
    p.c = c;
    p.options = o;
    p.labels = labels;
    if (soft != nullptr) p.soft = soft->template cast<A>();
    p.weights.assign(weights.begin(), weights.end());
    p.dloss.assign(dloss.begin(), dloss.end());
    p.ignored.assign(static_cast<std::size_t>(n), false);
    A kept_weight = A(0), kept_rows = A(0);
    for (Eigen::Index i = 0; i < n; ++i) {
        if (labels != nullptr) {
            const std::int32_t y = (*labels)[static_cast<std::size_t>(i)];
            if (Policy::ignored(o, y)) {
                p.ignored[static_cast<std::size_t>(i)] = true;
                continue;
            }
            kept_weight += p.weights.empty() || y < 0 || y >= c ? A(1) : p.weights[static_cast<std::size_t>(y)];
        } else {
            kept_weight += A(1);  // soft targets: the mean divides by n
        }
        kept_rows += A(1);
    }
    if (o.reduce == reduction::mean) p.divisors = Policy::mean_divisors(kept_weight, kept_rows, n);
    p.consts.c = c;
    p.consts.eps = A(o.label_smoothing);
    p.consts.eps_over_c = A(o.label_smoothing) / A(static_cast<double>(c));
    p.consts.s = A(o.lse_square_scale);
    p.consts.cap = A(o.softcap);
    return p;
}

// The row loop shared by the plain and fused entry points. row_logits(i, x) writes row i's c raw
// logits to x (called for rows that carry a term only); row_grad(i, g) receives its gradient.
// Returns the loss values (n for reduction none, else 1), in A.
template <class Policy, class A, class RowLogits, class RowGrad>
std::vector<A> ce_run(const ce_problem<A>& p, RowLogits&& row_logits, RowGrad&& row_grad) {
    const Eigen::Index n = p.n, c = p.c;
    ce_consts<A> consts = p.consts;  // the weight pointer is taken here, where p cannot move
    consts.w = p.weights.empty() ? nullptr : p.weights.data();
    ce_work<A> work(c);
    std::vector<A> x(static_cast<std::size_t>(c)), g(x.size());
    std::vector<A> ce(static_cast<std::size_t>(n), A(0)), zl(ce.size(), A(0));
    const bool smoothing = p.options.label_smoothing > 0;
    for (Eigen::Index i = 0; i < n; ++i) {
        ce_target<A> t;
        ce_terms terms;
        if (p.labels != nullptr) {
            t.label = (*p.labels)[static_cast<std::size_t>(i)];
            terms = Policy::row_terms(p.ignored[static_cast<std::size_t>(i)], smoothing);
        } else {
            t.soft = &p.soft(i, 0);
        }
        if (!terms.any()) continue;  // no contribution, zero gradient row
        row_logits(i, x.data());
        const auto [ce_scale, zl_scale] = p.template scales<Policy>(i);
        ce_row<Policy>(x.data(), t, terms, consts, ce_scale, zl_scale, g.data(), ce[static_cast<std::size_t>(i)],
                       zl[static_cast<std::size_t>(i)], work);
        row_grad(i, static_cast<const A*>(g.data()));
    }
    std::vector<A> loss;
    if (p.options.reduce == reduction::none) {
        loss.resize(static_cast<std::size_t>(n));
        for (std::size_t i = 0; i < loss.size(); ++i) loss[i] = ce[i] + zl[i];
    } else if (p.options.reduce == reduction::sum) {
        A total = A(0);
        for (std::size_t i = 0; i < ce.size(); ++i) total += ce[i] + zl[i];
        loss.push_back(total);
    } else {
        // Every row ignored: 0/0 = NaN, PyTorch's value.
        A ce_sum = A(0), zl_sum = A(0);
        for (std::size_t i = 0; i < ce.size(); ++i) {
            ce_sum += ce[i];
            zl_sum += zl[i];
        }
        loss.push_back(ce_sum / p.divisors.ce + zl_sum / p.divisors.zl);
    }
    return loss;
}

template <class T, class A>
std::vector<T> narrow(const std::vector<A>& v) {
    return std::vector<T>(v.begin(), v.end());
}

// ---- entry points, parameterised by the semantics -------------------------------------------

template <class Policy, class T, class A = T>
ce_ex_result<T> cross_entropy_ex_as(const ce_ex_input<T>& in) {
    validate_ce_ex(in);
    const auto p = make_ce_problem<Policy, A>(in.n(), in.c(), in.options, in.soft() ? nullptr : &in.labels,
                                              in.soft() ? &in.soft_targets : nullptr, in.class_weights, in.dloss);
    ce_ex_result<T> r;
    r.dlogits = matrix<T>::Zero(in.n(), in.c());
    const auto loss = ce_run<Policy, A>(
        p,
        [&](Eigen::Index i, A* x) {
            for (Eigen::Index j = 0; j < in.c(); ++j) x[j] = static_cast<A>(in.logits(i, j));
        },
        [&](Eigen::Index i, const A* g) {
            for (Eigen::Index j = 0; j < in.c(); ++j) r.dlogits(i, j) = static_cast<T>(g[j]);
        });
    r.loss = narrow<T>(loss);
    return r;
}

// logits_i = H_i·Wᵀ + b one row at a time (the N×V logits never exist); dhidden_i = g_i·W,
// dweight += g_iᵀ·H_i, dbias += g_i, accumulated in A.
template <class Policy, class T, class A = T>
fused_ce_result<T> fused_linear_cross_entropy_as(const fused_ce_input<T>& in) {
    validate_fused_ce(in);
    const Eigen::Index n = in.n(), d = in.d(), v = in.v();
    const ce_options o = Policy::fused_options(in.options);
    const auto p = make_ce_problem<Policy, A, T>(n, v, o, &in.labels, nullptr, in.class_weights, in.dloss);
    matrix<A> dweight = matrix<A>::Zero(v, d);
    std::vector<A> dbias(static_cast<std::size_t>(v), A(0)), h(static_cast<std::size_t>(d));
    fused_ce_result<T> r;
    r.dhidden = matrix<T>::Zero(n, d);
    const auto loss = ce_run<Policy, A>(
        p,
        [&](Eigen::Index i, A* x) {
            for (Eigen::Index k = 0; k < d; ++k) h[static_cast<std::size_t>(k)] = static_cast<A>(in.hidden(i, k));
            for (Eigen::Index j = 0; j < v; ++j) {
                A s = in.has_bias ? static_cast<A>(in.bias[static_cast<std::size_t>(j)]) : A(0);
                for (Eigen::Index k = 0; k < d; ++k) s += h[static_cast<std::size_t>(k)] * static_cast<A>(in.weight(j, k));
                x[j] = s;
            }
            // Finite H, W and b can still overflow to a non-finite logit.
            if (const int st = ce_row_status(x, v, o.softcap > 0)) throw_bad_row("hidden", st, i, "logit of H·Wᵀ + b");
        },
        [&](Eigen::Index i, const A* g) {
            for (Eigen::Index k = 0; k < d; ++k) {
                A s = A(0);
                for (Eigen::Index j = 0; j < v; ++j) s += g[j] * static_cast<A>(in.weight(j, k));
                r.dhidden(i, k) = static_cast<T>(s);
            }
            for (Eigen::Index j = 0; j < v; ++j) {
                if (g[j] == A(0)) continue;
                for (Eigen::Index k = 0; k < d; ++k) dweight(j, k) += g[j] * h[static_cast<std::size_t>(k)];
                dbias[static_cast<std::size_t>(j)] += g[j];
            }
        });
    r.loss = narrow<T>(loss);
    r.dweight = dweight.template cast<T>();
    if (in.has_bias) r.dbias = narrow<T>(dbias);
    return r;
}

// The same loss with the products of `block` rows at a time formed by Eigen's GEMM:
// logits_B = H_B·Wᵀ + b, the row loop over B, then dhidden_B = G_B·W, dweight += G_Bᵀ·H_B and
// dbias += Σ_B G_B. Every output is a sum of the same products as in the row form, in another
// order (blocked, possibly with FMA), so the row form's error bounds (γ of the number of terms,
// whatever the order) hold unchanged. Peak memory beyond the outputs: two block × v matrices.
template <class Policy, class T, class A = T>
fused_ce_result<T> fused_linear_cross_entropy_blocked_as(const fused_ce_input<T>& in, Eigen::Index block = 64) {
    validate_fused_ce(in);
    using mat = matrix<A>;
    const Eigen::Index n = in.n(), d = in.d(), v = in.v();
    const ce_options o = Policy::fused_options(in.options);
    const auto p = make_ce_problem<Policy, A, T>(n, v, o, &in.labels, nullptr, in.class_weights, in.dloss);
    const mat weight = in.weight.template cast<A>();
    Eigen::Matrix<A, 1, Eigen::Dynamic> bias = Eigen::Matrix<A, 1, Eigen::Dynamic>::Zero(v), dbias = bias;
    for (Eigen::Index j = 0; in.has_bias && j < v; ++j) bias(j) = static_cast<A>(in.bias[static_cast<std::size_t>(j)]);
    mat dweight = mat::Zero(v, d), hidden_b, logits_b, grad_b;
    Eigen::Index begin = 0, end = 0;  // the rows whose logits are in logits_b
    fused_ce_result<T> r;
    r.dhidden = matrix<T>::Zero(n, d);
    auto flush = [&] {
        if (end == begin) return;
        r.dhidden.middleRows(begin, end - begin) = (grad_b * weight).template cast<T>();
        dweight.noalias() += grad_b.transpose() * hidden_b;
        dbias += grad_b.colwise().sum();
        begin = end;
    };
    const auto loss = ce_run<Policy, A>(
        p,
        [&](Eigen::Index i, A* x) {
            if (i >= end) {
                flush();
                begin = i;
                end = std::min(n, i + block);
                hidden_b = in.hidden.middleRows(begin, end - begin).template cast<A>();
                logits_b.noalias() = hidden_b * weight.transpose();
                if (in.has_bias) logits_b.rowwise() += bias;
                grad_b = mat::Zero(end - begin, v);  // rows without a term keep a zero gradient
            }
            std::copy_n(&logits_b(i - begin, 0), v, x);
            // Finite H, W and b can still overflow to a non-finite logit.
            if (const int st = ce_row_status(x, v, o.softcap > 0)) throw_bad_row("hidden", st, i, "logit of H·Wᵀ + b");
        },
        [&](Eigen::Index i, const A* g) { std::copy_n(g, v, &grad_b(i - begin, 0)); });
    flush();
    r.loss = narrow<T>(loss);
    r.dweight = dweight.template cast<T>();
    if (in.has_bias) r.dbias.assign(dbias.data(), dbias.data() + v);
    return r;
}

// bf16/f16 storage: each input value must be exact in the format.
inline void check_half_exact(half_format f, const float* x, Eigen::Index size, const char* argument) {
    for (Eigen::Index k = 0; k < size; ++k)
        if (!std::isnan(x[k]) && round_to_half(f, x[k]) != x[k])
            throw_invalid(argument, "value " + std::to_string(x[k]) + " at flat index " + std::to_string(k) +
                                        " is not exactly representable in " + to_string(f));
}
inline void check_half_exact(half_format f, const std::vector<float>& x, const char* argument) {
    check_half_exact(f, x.data(), static_cast<Eigen::Index>(x.size()), argument);
}
inline void check_half_exact(half_format f, const matrix<float>& x, const char* argument) {
    check_half_exact(f, x.data(), x.size(), argument);
}

template <class Policy>
void round_all_half(half_format f, float* x, Eigen::Index size) {
    for (Eigen::Index k = 0; k < size; ++k) x[k] = Policy::round_half(f, x[k]);
}
template <class Policy>
void round_all_half(half_format f, std::vector<float>& x) {
    round_all_half<Policy>(f, x.data(), static_cast<Eigen::Index>(x.size()));
}
template <class Policy>
void round_all_half(half_format f, matrix<float>& x) {
    round_all_half<Policy>(f, x.data(), x.size());
}

// compute: the float implementation; every output is rounded once to the format.
template <class Policy, class Compute>
ce_ex_result<float> cross_entropy_ex_half_as(half_format f, const ce_ex_input<float>& in, Compute&& compute) {
    check_half_exact(f, in.logits, "logits");
    check_half_exact(f, in.class_weights, "class_weights");
    check_half_exact(f, in.soft_targets, "soft_targets");
    check_half_exact(f, in.dloss, "dloss");
    ce_ex_result<float> r = compute(in);
    round_all_half<Policy>(f, r.loss);
    round_all_half<Policy>(f, r.dlogits);
    return r;
}

template <class Policy, class Compute>
fused_ce_result<float> fused_linear_cross_entropy_half_as(half_format f, const fused_ce_input<float>& in, Compute&& compute) {
    check_half_exact(f, in.hidden, "hidden");
    check_half_exact(f, in.weight, "weight");
    if (in.has_bias) check_half_exact(f, in.bias, "bias");
    check_half_exact(f, in.class_weights, "class_weights");
    check_half_exact(f, in.dloss, "dloss");
    fused_ce_result<float> r = compute(in);
    round_all_half<Policy>(f, r.loss);
    round_all_half<Policy>(f, r.dhidden);
    round_all_half<Policy>(f, r.dweight);
    round_all_half<Policy>(f, r.dbias);
    return r;
}

}  // namespace gradproof::detail

namespace gradproof::impl {

// Cross-entropy with options (plugin.h), the loop implementation.
template <class T, class A = T>
ce_ex_result<T> cross_entropy_ex(const ce_ex_input<T>& in) {
    return detail::cross_entropy_ex_as<detail::ce_semantics, T, A>(in);
}

// Fused linear cross-entropy (plugin.h): logits = H·Wᵀ + b formed one row at a time.
template <class T, class A = T>
fused_ce_result<T> fused_linear_cross_entropy(const fused_ce_input<T>& in) {
    return detail::fused_linear_cross_entropy_as<detail::ce_semantics, T, A>(in);
}

// Cross-entropy with options, Eigen array form: the same semantics as cross_entropy_ex by another
// route. Whole-batch array operations, the log1p form of Blanchard, Higham & Higham 2021 (lse =
// m + log1p(Σ_{j≠k} exp(z_j − m)), p = exp(z − m)/(1 + that sum)), and one dense target-mass matrix
// M (M_ic = t_ic: hard and smoothing terms merged), so ce_i = Σ_c M_ic·(lse_i − z_ic) and
// ∂ce_i/∂z_i = (Σ_c M_ic)·p_i − M_i. The rest sum is formed without the cancellation of S − 1:
// Σ_{z_j < m} exp(z_j − m) plus the number of further classes at the max (exact).
template <class T, class A = T>
ce_ex_result<T> cross_entropy_ex_vectorized(const ce_ex_input<T>& in) {
    using array = Eigen::Array<A, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using column = Eigen::Array<A, Eigen::Dynamic, 1>;
    using sem = detail::ce_semantics;
    detail::validate_ce_ex(in);
    const Eigen::Index n = in.n(), c = in.c();
    const ce_options& o = in.options;
    const auto p = detail::make_ce_problem<sem, A>(n, c, o, in.soft() ? nullptr : &in.labels,
                                                   in.soft() ? &in.soft_targets : nullptr, in.class_weights, in.dloss);
    const A cap = A(o.softcap), eps = A(o.label_smoothing), s = A(o.lse_square_scale);
    const array x = in.logits.template cast<A>().array();
    array y, z;
    if (cap > A(0)) {
        y = x / cap;
        z = cap * y.tanh();
    } else {
        z = x;
    }
    const column m = z.rowwise().maxCoeff();
    const array shifted = z.colwise() - m;
    // Masked classes: exactly 0 (Eigen's vectorised exp clamps its argument, exp(−inf) > 0).
    const array e = (shifted == -detail::inf_<A>()).select(A(0), shifted.exp());
    const column rest = (shifted < A(0)).select(e, A(0)).rowwise().sum() +
                        ((shifted == A(0)).template cast<A>().rowwise().sum() - A(1));
    const column log_sum = rest.log1p();
    const column lse = m + log_sum;
    const array prob = e.colwise() / (A(1) + rest);

    // Target masses; rows carrying nothing (ignored) stay 0.
    Eigen::Array<A, 1, Eigen::Dynamic> w = Eigen::Array<A, 1, Eigen::Dynamic>::Ones(c);
    for (Eigen::Index j = 0; j < static_cast<Eigen::Index>(p.weights.size()); ++j) w(j) = p.weights[static_cast<std::size_t>(j)];
    array mass = array::Zero(n, c);
    column kept = column::Zero(n);
    if (in.soft()) {
        mass = ((A(1) - eps) * p.soft.array() + eps / A(static_cast<double>(c))).rowwise() * w;
        kept.setOnes();
    } else {
        for (Eigen::Index i = 0; i < n; ++i) {
            if (p.ignored[static_cast<std::size_t>(i)]) continue;
            kept(i) = A(1);
            if (eps > A(0)) mass.row(i) = (eps / A(static_cast<double>(c))) * w;
            const Eigen::Index label = in.labels[static_cast<std::size_t>(i)];
            mass(i, label) += (A(1) - eps) * w(label);
        }
    }
    // Zero masses skipped: 0·(lse − z) would be NaN for a masked class.
    const array distance = (-shifted).colwise() + log_sum;
    const column ce = (mass != A(0)).select(mass * distance, A(0)).rowwise().sum();
    const bool has_zloss = s != A(0);  // s = 0: no term at all (0·inf would be NaN)
    const column zl = has_zloss ? column((kept != A(0)).select((s * lse) * lse, A(0))) : column(column::Zero(n));

    column ce_scale(n), zl_scale(n);
    for (Eigen::Index i = 0; i < n; ++i) std::tie(ce_scale(i), zl_scale(i)) = p.template scales<sem>(i);
    const column zl_coeff =
        has_zloss ? column((kept != A(0)).select(A(2) * s * lse * zl_scale, A(0))) : column(column::Zero(n));
    array grad = (prob.colwise() * mass.rowwise().sum() - mass).colwise() * ce_scale + prob.colwise() * zl_coeff;
    if (cap > A(0)) grad *= y.cosh().inverse().square();  // sech², as the loop form
    // Ignored rows: exactly 0 (their scale may be inf or NaN, e.g. dloss / 0).
    for (Eigen::Index i = 0; i < n; ++i)
        if (kept(i) == A(0)) grad.row(i).setZero();

    ce_ex_result<T> r;
    r.dlogits = grad.matrix().template cast<T>();
    const column row_loss = ce + zl;
    switch (o.reduce) {
        case reduction::none: r.loss.assign(row_loss.data(), row_loss.data() + n); break;
        case reduction::sum: r.loss = {static_cast<T>(row_loss.sum())}; break;
        // Every row ignored: 0/0 = NaN, as the loop form.
        case reduction::mean: r.loss = {static_cast<T>(ce.sum() / p.divisors.ce + zl.sum() / p.divisors.zl)}; break;
    }
    return r;
}

inline ce_ex_result<float> cross_entropy_ex_half(half_format f, const ce_ex_input<float>& in) {
    return detail::cross_entropy_ex_half_as<detail::ce_semantics>(f, in, [](const ce_ex_input<float>& x) {
        return cross_entropy_ex<float, float>(x);
    });
}

inline ce_ex_result<float> cross_entropy_ex_vectorized_half(half_format f, const ce_ex_input<float>& in) {
    return detail::cross_entropy_ex_half_as<detail::ce_semantics>(f, in, [](const ce_ex_input<float>& x) {
        return cross_entropy_ex_vectorized<float, float>(x);
    });
}

inline fused_ce_result<float> fused_linear_cross_entropy_half(half_format f, const fused_ce_input<float>& in) {
    return detail::fused_linear_cross_entropy_half_as<detail::ce_semantics>(f, in, [](const fused_ce_input<float>& x) {
        return detail::fused_linear_cross_entropy_as<detail::ce_semantics, float, float>(x);
    });
}

// Fused linear cross-entropy with the products of 64 rows at a time by Eigen's GEMM (the
// vectorized built-in's; the row form's semantics and error bounds).
template <class T, class A = T>
fused_ce_result<T> fused_linear_cross_entropy_blocked(const fused_ce_input<T>& in) {
    return detail::fused_linear_cross_entropy_blocked_as<detail::ce_semantics, T, A>(in);
}

inline fused_ce_result<float> fused_linear_cross_entropy_blocked_half(half_format f, const fused_ce_input<float>& in) {
    return detail::fused_linear_cross_entropy_half_as<detail::ce_semantics>(f, in, [](const fused_ce_input<float>& x) {
        return detail::fused_linear_cross_entropy_blocked_as<detail::ce_semantics, float, float>(x);
    });
}

}  // namespace gradproof::impl
