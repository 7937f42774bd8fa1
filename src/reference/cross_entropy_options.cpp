// Cross-entropy with options and fused linear cross-entropy: the point (MPFR) and certified (MPFI)
// references of reference/cross_entropy_options.hpp, whose header states the error analysis.
//
// One row algorithm serves both: row_engine<Ar> is written against a small arithmetic interface
// (point_ar: MPFR rounded to nearest; interval_ar: MPFI, every operation an enclosure), so the
// certified reference evaluates exactly the formulas of the point one. Rows are independent and
// run on up to `threads` workers; the reductions over rows run afterwards in row order, so the
// result does not depend on the number of threads.
#include "reference/cross_entropy_options.hpp"

// core/validate.hpp names boost::multiprecision::isfinite without including Boost.Multiprecision.
#include <boost/multiprecision/number.hpp>

#include "core/validate.hpp"
#include "reference/exact_sum.hpp"
#include "reference/mpfr_support.hpp"

#include <mpfi.h>
#include <mpfr.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace gradproof::reference {

namespace detail {
namespace {

using gradproof::detail::throw_invalid;

// ---------------------------------------------------------------------------------------------
// Arithmetic back-ends.


struct point_ar {
    using num = mpfr_num;
    using vec = mpfr_vec;
    using ptr = mpfr_ptr;
    using src = mpfr_srcptr;
    static constexpr mpfr_rnd_t r = MPFR_RNDN;
    static void set_fr(ptr o, mpfr_srcptr x) { mpfr_set(o, x, r); }
    static void set_ui(ptr o, unsigned long v) { mpfr_set_ui(o, v, r); }
    static void set(ptr o, src a) { mpfr_set(o, a, r); }
    static void add(ptr o, src a, src b) { mpfr_add(o, a, b, r); }
    static void sub(ptr o, src a, src b) { mpfr_sub(o, a, b, r); }
    static void mul(ptr o, src a, src b) { mpfr_mul(o, a, b, r); }
    static void div(ptr o, src a, src b) { mpfr_div(o, a, b, r); }
    static void add_ui(ptr o, src a, unsigned long v) { mpfr_add_ui(o, a, v, r); }
    static void sub_ui(ptr o, src a, unsigned long v) { mpfr_sub_ui(o, a, v, r); }
    static void ui_sub(ptr o, unsigned long v, src a) { mpfr_ui_sub(o, v, a, r); }
    static void div_ui(ptr o, src a, unsigned long v) { mpfr_div_ui(o, a, v, r); }
    static void mul_2ui(ptr o, src a, unsigned long k) { mpfr_mul_2ui(o, a, k, r); }
    static void neg(ptr o, src a) { mpfr_neg(o, a, r); }
    static void sqr(ptr o, src a) { mpfr_sqr(o, a, r); }
    static void mul_fr(ptr o, src a, mpfr_srcptr b) { mpfr_mul(o, a, b, r); }
    static void div_fr(ptr o, src a, mpfr_srcptr b) { mpfr_div(o, a, b, r); }
    static void add_fr(ptr o, src a, mpfr_srcptr b) { mpfr_add(o, a, b, r); }
    // The difference of two exact numbers, rounded once.
    static void diff_fr(ptr o, mpfr_srcptr a, mpfr_srcptr b) { mpfr_sub(o, a, b, r); }
    static void exp(ptr o, src a) { mpfr_exp(o, a, r); }
    static void log1p(ptr o, src a) { mpfr_log1p(o, a, r); }
    static void tanh(ptr o, src a) { mpfr_tanh(o, a, r); }
    static void sech(ptr o, src a) { mpfr_sech(o, a, r); }
    static void set_nan(ptr o) { mpfr_set_nan(o); }
    static void widen(ptr, double) {}  // the point reference reads exact logits only
};

struct interval_ar {
    using num = mpfi_num;
    using vec = mpfi_vec;
    using ptr = mpfi_ptr;
    using src = mpfi_srcptr;
    static void set_fr(ptr o, mpfr_srcptr x) { mpfi_set_fr(o, x); }  // outward when x has more bits
    static void set_ui(ptr o, unsigned long v) { mpfi_set_ui(o, v); }
    static void set(ptr o, src a) { mpfi_set(o, a); }
    static void add(ptr o, src a, src b) { mpfi_add(o, a, b); }
    static void sub(ptr o, src a, src b) { mpfi_sub(o, a, b); }
    static void mul(ptr o, src a, src b) { mpfi_mul(o, a, b); }
    static void div(ptr o, src a, src b) { mpfi_div(o, a, b); }
    static void add_ui(ptr o, src a, unsigned long v) { mpfi_add_ui(o, a, v); }
    static void sub_ui(ptr o, src a, unsigned long v) { mpfi_sub_ui(o, a, v); }
    static void ui_sub(ptr o, unsigned long v, src a) { mpfi_ui_sub(o, v, a); }
    static void div_ui(ptr o, src a, unsigned long v) { mpfi_div_ui(o, a, v); }
    static void mul_2ui(ptr o, src a, unsigned long k) { mpfi_mul_2ui(o, a, k); }
    static void neg(ptr o, src a) { mpfi_neg(o, a); }
    static void sqr(ptr o, src a) { mpfi_sqr(o, a); }
    static void mul_fr(ptr o, src a, mpfr_srcptr b) { mpfi_mul_fr(o, a, b); }
    static void div_fr(ptr o, src a, mpfr_srcptr b) { mpfi_div_fr(o, a, b); }
    static void add_fr(ptr o, src a, mpfr_srcptr b) { mpfi_add_fr(o, a, b); }
    static void diff_fr(ptr o, mpfr_srcptr a, mpfr_srcptr b) {
        mpfi_set_fr(o, a);
        mpfi_sub_fr(o, o, b);
    }
    static void exp(ptr o, src a) { mpfi_exp(o, a); }
    static void log1p(ptr o, src a) { mpfi_log1p(o, a); }
    static void tanh(ptr o, src a) { mpfi_tanh(o, a); }
    static void sech(ptr o, src a) { mpfi_sech(o, a); }
    static void set_nan(ptr o) {
        mpfr_set_nan(&o->left);
        mpfr_set_nan(&o->right);
    }
    // o ← [lo − r, hi + r], rounded outward (a logit known to within ±r).
    static void widen(ptr o, double r) {
        if (r == 0) return;
        MPFR_DECL_INIT(e, 53);
        mpfr_set_d(e, r, MPFR_RNDU);
        mpfi_increase(o, e);
    }
};

// interval_ar with exp evaluated in double with certified bounds (the rows of a fused
// certification at an LM-head shape hold 10⁷ exps; mpfi_exp costs ≈ 2 µs each). The result is
// the interval [L(lo), U(hi)] (exp is increasing), from
//   e^a = e^(k_hi)·e^(k_lo/1024)·e^r,  k = ⌊1024·a⌋ = 1024·k_hi + k_lo, r = a − k/1024 ∈ [0, 2^-10),
// with both table factors enclosed by MPFR (directed rounding) and e^r by the Taylor polynomial
// P₅(r) = Σ_{m≤5} r^m/m! (remainder ≤ r⁶/720·e^r < 2^-69 ≤ u·2^-16, u = 2^-53, relative, P₅ ≥ 1).
// 1024·a and r are exact (a scaling by a power of two; r is a multiple of ulp(a) below 2^-10).
// Horner on positive data with three rounded coefficients errs by ≤ γ₁₁ < 15u relative (Higham,
// ASNA 2nd ed., §5.1), so e^r ∈ [P̃(1 − 16u), P̃(1 + 17u)]. The two products c = fl(fl(E₁E₂)·P̃)
// add (1 ± u)², so e^a ≥ c_lo(1 − 19u) and e^a ≤ c_hi(1 + 20u); the final scalings by (1 − 20u)
// and (1 + 22u) round once more and still stay on the right side ((1 − 20u)(1 + u) ≤ 1 − 19u,
// (1 + 22u)(1 − u) ≥ 1 + 20u). Outside [−690, 700] (subnormal or overflowing products) mpfi_exp
// is used instead.
struct interval_fast_exp_ar : interval_ar {
    static constexpr int lo_k = -690, hi_k = 700;
    struct tables {
        double e1_lo[hi_k - lo_k + 1], e1_hi[hi_k - lo_k + 1], e2_lo[1024], e2_hi[1024];
        tables() {
            MPFR_DECL_INIT(t, 64);
            for (int k = lo_k; k <= hi_k; ++k) {
                mpfr_set_si(t, k, MPFR_RNDN);
                mpfr_exp(t, t, MPFR_RNDD);
                e1_lo[k - lo_k] = mpfr_get_d(t, MPFR_RNDD);
                mpfr_set_si(t, k, MPFR_RNDN);
                mpfr_exp(t, t, MPFR_RNDU);
                e1_hi[k - lo_k] = mpfr_get_d(t, MPFR_RNDU);
            }
            for (int k = 0; k < 1024; ++k) {
                mpfr_set_si_2exp(t, k, -10, MPFR_RNDN);
                mpfr_exp(t, t, MPFR_RNDD);
                e2_lo[k] = mpfr_get_d(t, MPFR_RNDD);
                mpfr_set_si_2exp(t, k, -10, MPFR_RNDN);
                mpfr_exp(t, t, MPFR_RNDU);
                e2_hi[k] = mpfr_get_d(t, MPFR_RNDU);
            }
        }
    };
    static const tables& table() {
        static const tables t;
        return t;
    }
    // c_lo or c_hi: E₁·E₂·P̃ at a (lower table bounds when lower).
    static double product(double a, bool lower) {
        const tables& t = table();
        const double k = std::floor(a * 1024.0);
        const double k_hi = std::floor(k / 1024.0);
        const int i1 = static_cast<int>(k_hi) - lo_k, i2 = static_cast<int>(k - 1024.0 * k_hi);
        const double r = a - k / 1024.0;
        const double p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120)))));
        return lower ? t.e1_lo[i1] * t.e2_lo[i2] * p : t.e1_hi[i1] * t.e2_hi[i2] * p;
    }
    static void exp(ptr o, src a) {
        const double lo = mpfr_get_d(&a->left, MPFR_RNDD), hi = mpfr_get_d(&a->right, MPFR_RNDU);
        if (!(lo >= lo_k && hi < hi_k)) {  // also NaN
            mpfi_exp(o, a);
            return;
        }
        constexpr double u = 0x1p-53;
        mpfi_interv_d(o, product(lo, true) * (1 - 20 * u), product(hi, false) * (1 + 22 * u));
    }
};

// ---------------------------------------------------------------------------------------------
// The problem: exact inputs in MPFR (doubles and long doubles need ≤ 64 bits).

struct problem {
    Eigen::Index n = 0, c = 0;
    reduction reduce = reduction::mean;
    bool soft = false, weighted = false, capped = false;
    bool smoothing = false, zloss = false;
    const label_vector* labels = nullptr;
    std::vector<char> ignored;  // per row
    mpfr_vec q;      // soft targets n×c
    mpfr_vec w;      // class weights
    mpfr_vec dloss;
    mpfr_num eps{ld_digits}, s{ld_digits}, cap{ld_digits};
    mpfr_num weight_sum{MPFR_PREC_MIN};  // W for mean (exact); n for soft targets
    mpfr_num class_weight_sum{MPFR_PREC_MIN};  // Σ_c w_c (exact); C without weights
    long double w_ld = 1, k_ld = 1;
    unsigned long count = 0;  // K
    const double* radius = nullptr;  // n×c, row-major: each logit is only known to within ± radius
    bool all_ignored = false;

    problem(Eigen::Index n_, Eigen::Index c_, bool soft_, bool weighted_, std::size_t n_dloss)
        : n(n_), c(c_), soft(soft_), weighted(weighted_), q(soft_ ? n_ * c_ : 0, ld_digits), w(weighted_ ? c_ : 0, ld_digits),
          dloss(static_cast<Eigen::Index>(n_dloss), ld_digits) {}

    std::int32_t label(Eigen::Index i) const { return (*labels)[static_cast<std::size_t>(i)]; }
    mpfr_srcptr weight(Eigen::Index j) const { return w[j]; }
};

void validate_options(Eigen::Index n, Eigen::Index c, const label_vector& labels, const ce_options& o,
                      const std::vector<long double>& class_weights, const lmatrix& soft_targets,
                      const std::vector<long double>& dloss, const char* logits_name) {
    if (c < 1) throw_invalid(logits_name, "must have at least one column (C ≥ 1)");
    if (n < 1) throw_invalid(logits_name, "must have at least one row (N ≥ 1)");
    const bool soft = soft_targets.size() > 0;
    if (!soft) {
        if (static_cast<Eigen::Index>(labels.size()) != n)
            throw_invalid("labels", "has " + std::to_string(labels.size()) + " labels but there are " +
                                        std::to_string(n) + " rows");
        for (std::size_t i = 0; i < labels.size(); ++i) {
            if (o.has_ignore_index && labels[i] == o.ignore_index) continue;
            if (labels[i] < 0 || labels[i] >= c)
                throw_invalid("labels", "label " + std::to_string(labels[i]) + " at index " + std::to_string(i) +
                                            " is outside [0, " + std::to_string(c) + ") and not ignore_index");
        }
    } else {
        if (soft_targets.rows() != n || soft_targets.cols() != c)
            throw_invalid("soft_targets", "must be " + std::to_string(n) + "×" + std::to_string(c) + ", got " +
                                              std::to_string(soft_targets.rows()) + "×" +
                                              std::to_string(soft_targets.cols()));
        for (Eigen::Index k = 0; k < soft_targets.size(); ++k)
            if (!std::isfinite(soft_targets.data()[k]) || soft_targets.data()[k] < 0)
                throw_invalid("soft_targets", "must hold finite values ≥ 0");
        if (o.has_ignore_index) throw_invalid("ignore_index", "cannot be combined with soft_targets (as PyTorch)");
    }
    if (!class_weights.empty()) {
        if (static_cast<Eigen::Index>(class_weights.size()) != c)
            throw_invalid("class_weights", "has " + std::to_string(class_weights.size()) + " values but C = " +
                                               std::to_string(c));
        for (long double v : class_weights)
            if (!std::isfinite(v) || v < 0) throw_invalid("class_weights", "must hold finite values ≥ 0");
    }
    if (!(o.label_smoothing >= 0 && o.label_smoothing <= 1)) throw_invalid("label_smoothing", "must lie in [0, 1]");
    if (!std::isfinite(o.lse_square_scale) || o.lse_square_scale < 0)
        throw_invalid("lse_square_scale", "must be finite and ≥ 0");
    if (!std::isfinite(o.softcap) || o.softcap < 0) throw_invalid("softcap", "must be finite and ≥ 0");
    const std::size_t want = o.reduce == reduction::none ? static_cast<std::size_t>(n) : 1;
    if (dloss.size() != want)
        throw_invalid("dloss", "must hold " + std::to_string(want) + " value(s) for reduction " + to_string(o.reduce) +
                                   ", got " + std::to_string(dloss.size()));
    for (long double v : dloss)
        if (!std::isfinite(v)) throw_invalid("dloss", "must be finite");
}

// Fills everything but the logits. Exact: W and Σw by exact_dot.
void setup(problem& pb, const label_vector& labels, const ce_options& o, const std::vector<long double>& class_weights,
           const lmatrix& soft_targets, const std::vector<long double>& dloss) {
    pb.reduce = o.reduce;
    pb.labels = &labels;
    pb.capped = o.softcap > 0;
    pb.smoothing = o.label_smoothing > 0;
    pb.zloss = o.lse_square_scale > 0;
    mpfr_set_d(pb.eps, o.label_smoothing, MPFR_RNDN);
    mpfr_set_d(pb.s, o.lse_square_scale, MPFR_RNDN);
    mpfr_set_d(pb.cap, o.softcap, MPFR_RNDN);
    if (pb.soft) load(pb.q, soft_targets);
    for (std::size_t j = 0; j < class_weights.size(); ++j) mpfr_set_ld(pb.w[static_cast<Eigen::Index>(j)], class_weights[j], MPFR_RNDN);
    for (std::size_t k = 0; k < dloss.size(); ++k) mpfr_set_ld(pb.dloss[static_cast<Eigen::Index>(k)], dloss[k], MPFR_RNDN);

    pb.ignored.assign(static_cast<std::size_t>(pb.n), 0);
    std::vector<mpfr_ptr> counted;
    mpfr_num one(ld_digits);
    mpfr_set_ui(one, 1, MPFR_RNDN);
    for (Eigen::Index i = 0; i < pb.n; ++i) {
        const bool ign = !pb.soft && o.has_ignore_index && pb.label(i) == o.ignore_index;
        pb.ignored[static_cast<std::size_t>(i)] = ign;
        if (ign) continue;
        ++pb.count;
        counted.push_back(pb.soft || !pb.weighted ? static_cast<mpfr_ptr>(one) : pb.w[pb.label(i)]);
    }
    pb.all_ignored = pb.count == 0;
    exact_dot dot;
    dot(pb.weight_sum, counted.data(), nullptr, static_cast<unsigned long>(counted.size()));
    std::vector<mpfr_ptr> all;
    for (Eigen::Index j = 0; j < pb.c; ++j) all.push_back(pb.weighted ? pb.w[j] : static_cast<mpfr_ptr>(one));
    dot(pb.class_weight_sum, all.data(), nullptr, static_cast<unsigned long>(all.size()));
    pb.w_ld = to_ld(pb.weight_sum);
    pb.k_ld = static_cast<long double>(pb.count);
}

// The largest finite raw logit's index; −1 when the row is undefined (NaN or +inf, or every
// class masked without a cap; with a cap every −inf becomes −cap and row 0 serves).
Eigen::Index argmax_raw(const mpfr_vec& x, Eigen::Index off, Eigen::Index c, bool capped) {
    Eigen::Index k = -1;
    for (Eigen::Index j = 0; j < c; ++j) {
        mpfr_srcptr xj = x[off + j];
        if (mpfr_nan_p(xj) || (mpfr_inf_p(xj) && mpfr_sgn(xj) > 0)) return -1;
        if (mpfr_inf_p(xj)) continue;
        if (k < 0 || mpfr_greater_p(xj, x[off + k])) k = j;
    }
    if (k < 0 && capped) k = 0;
    return k;
}

// ---------------------------------------------------------------------------------------------
// One row, in the arithmetic Ar. Sink receives: z(i, j, v), p(i, j, v), dl(i, j, v),
// row(i, lse, ce, zl) and undefined(i); for an ignored row dl is 0 and ce = zl = 0.

template <class Ar>
class row_engine {
public:
    using num = typename Ar::num;
    using src = typename Ar::src;

    row_engine(const problem& pb, mpfr_prec_t prec)
        : pb_(pb), c_(pb.c), z_(c_, prec), d_(c_, prec), e_(c_, prec), chain_(c_, prec), qp_(pb.soft ? c_ : 0, prec),
          t_(prec), t2_(prec), w_(prec), g_(prec), S_(prec), den_(prec), L_(prec), lse_(prec), ce_(prec), zl_(prec),
          hy_(prec), epsc_(prec), ome_(prec), B_(prec), coef_ce_(prec), coef_zl_(prec), zcoef_(prec), zero_(prec) {
        Ar::set_ui(zero_, 0);
        // ε/C and 1 − ε (ε exact in 53 bits).
        Ar::set_fr(epsc_, pb.eps);
        Ar::div_ui(epsc_, epsc_, static_cast<unsigned long>(c_));
        Ar::set_fr(ome_, pb.eps);
        Ar::ui_sub(ome_, 1, ome_);
    }

    template <class Sink>
    void run(Eigen::Index i, const mpfr_vec& x, Sink& sink) {
        const Eigen::Index off = i * c_;
        const double* rad = pb_.radius != nullptr ? pb_.radius + off : nullptr;
        // Soft cap and its chain factor sech²(x/cap) = 1 − tanh²(x/cap).
        for (Eigen::Index j = 0; j < c_; ++j) {
            if (pb_.capped) {
                Ar::set_fr(t_, x[off + j]);
                if (rad != nullptr) Ar::widen(t_, rad[j]);
                Ar::div_fr(t_, t_, pb_.cap);
                Ar::tanh(z_[j], t_);
                Ar::mul_fr(z_[j], z_[j], pb_.cap);
                Ar::sech(chain_[j], t_);
                Ar::sqr(chain_[j], chain_[j]);
            } else {
                Ar::set_fr(z_[j], x[off + j]);
                if (rad != nullptr) Ar::widen(z_[j], rad[j]);
            }
            sink.z(i, j, z_[j]);
        }
        const Eigen::Index k = argmax_raw(x, off, c_, pb_.capped);
        if (k < 0) {  // an ignored row is never read: its undefined values change nothing else
            sink.undefined(i, pb_.ignored[static_cast<std::size_t>(i)] != 0);
            return;
        }
        Ar::set_ui(S_, 0);
        for (Eigen::Index j = 0; j < c_; ++j) {
            if (j == k) {
                Ar::set_ui(d_[j], 0);
                Ar::set_ui(e_[j], 1);
                continue;
            }
            if (pb_.capped)
                Ar::sub(d_[j], z_[j], z_[k]);
            else if (rad == nullptr)
                Ar::diff_fr(d_[j], x[off + j], x[off + k]);
            else {  // (x_j ± r_j) − (x_k ± r_k)
                Ar::diff_fr(d_[j], x[off + j], x[off + k]);
                Ar::widen(d_[j], rad[j]);
                Ar::widen(d_[j], rad[k]);
            }
            Ar::exp(e_[j], d_[j]);
            Ar::add(S_, S_, e_[j]);
        }
        Ar::add_ui(den_, S_, 1);
        Ar::log1p(L_, S_);
        Ar::add(lse_, z_[k], L_);
        for (Eigen::Index j = 0; j < c_; ++j) {
            Ar::div(t_, e_[j], den_);
            sink.p(i, j, t_);
        }
        if (pb_.ignored[static_cast<std::size_t>(i)]) {
            sink.row(i, lse_, zero_, zero_);
            for (Eigen::Index j = 0; j < c_; ++j) sink.dl(i, j, zero_);
            return;
        }
        coefficients(i);

        // ce_i (nonnegative terms; a term with a zero coefficient is absent).
        Ar::set_ui(ce_, 0);
        const std::int32_t y = pb_.soft ? -1 : pb_.label(i);
        if (!pb_.soft) {
            mpfr_srcptr wy = pb_.weighted ? pb_.weight(y) : nullptr;
            hard_ = mpfr_cmp_ui(pb_.eps, 1) != 0 && (wy == nullptr || !mpfr_zero_p(wy));
            if (hard_) {
                Ar::set(hy_, ome_);
                if (wy != nullptr) Ar::mul_fr(hy_, hy_, wy);
                h(t_, y);
                Ar::mul(ce_, hy_, t_);
            }
            if (pb_.smoothing) {
                Ar::set_ui(g_, 0);
                for (Eigen::Index j = 0; j < c_; ++j) {
                    if (pb_.weighted && mpfr_zero_p(pb_.weight(j))) continue;
                    h(t_, j);
                    if (pb_.weighted) Ar::mul_fr(t_, t_, pb_.weight(j));
                    Ar::add(g_, g_, t_);
                }
                Ar::mul(g_, g_, epsc_);
                Ar::add(ce_, ce_, g_);
            }
        } else {
            Ar::set_ui(B_, 0);
            for (Eigen::Index j = 0; j < c_; ++j) {
                // q' = (1 − ε)·q + ε/C
                Ar::mul_fr(qp_[j], ome_, pb_.q[off + j]);
                Ar::add(qp_[j], qp_[j], epsc_);
                if (pb_.weighted) Ar::mul_fr(qp_[j], qp_[j], pb_.weight(j));  // now w·q'
                Ar::add(B_, B_, qp_[j]);
                if (mpfr_zero_p(pb_.q[off + j]) && !pb_.smoothing) continue;
                if (pb_.weighted && mpfr_zero_p(pb_.weight(j))) continue;
                h(t_, j);
                Ar::mul(t_, t_, qp_[j]);
                Ar::add(ce_, ce_, t_);
            }
        }
        if (pb_.zloss) {
            Ar::sqr(zl_, lse_);
            Ar::mul_fr(zl_, zl_, pb_.s);
            // 2·s·lse·coef_zl, the z-loss gradient's factor of p_j.
            Ar::mul_fr(zcoef_, lse_, pb_.s);
            Ar::mul_2ui(zcoef_, zcoef_, 1);
            Ar::mul(zcoef_, zcoef_, coef_zl_);
        } else {
            Ar::set_ui(zl_, 0);
        }
        sink.row(i, lse_, ce_, zl_);

        // Gradient.
        for (Eigen::Index j = 0; j < c_; ++j) {
            Ar::div(t_, e_[j], den_);  // p_j
            Ar::set_ui(g_, 0);
            if (!pb_.soft) {
                if (hard_) {
                    if (j == y && y == k) {  // p_y − 1 = −S/(1 + S)
                        Ar::div(t2_, S_, den_);
                        Ar::neg(t2_, t2_);
                    } else if (j == y) {
                        Ar::sub_ui(t2_, t_, 1);
                    } else {
                        Ar::set(t2_, t_);
                    }
                    Ar::mul(g_, hy_, t2_);
                }
                if (pb_.smoothing) {  // (ε/C)·(Σw·p_j − w_j)
                    Ar::mul_fr(t2_, t_, pb_.class_weight_sum);
                    if (pb_.weighted) {
                        Ar::set_fr(w_, pb_.weight(j));
                        Ar::sub(t2_, t2_, w_);
                    } else {
                        Ar::sub_ui(t2_, t2_, 1);
                    }
                    Ar::mul(t2_, t2_, epsc_);
                    Ar::add(g_, g_, t2_);
                }
            } else {  // B·p_j − w_j·q'_j
                Ar::mul(g_, B_, t_);
                Ar::sub(g_, g_, qp_[j]);
            }
            Ar::mul(g_, g_, coef_ce_);
            if (pb_.zloss) {
                Ar::mul(t2_, zcoef_, t_);
                Ar::add(g_, g_, t2_);
            }
            if (pb_.capped) Ar::mul(g_, g_, chain_[j]);
            sink.dl(i, j, g_);
        }
    }

private:
    // h_c = lse − z_c = L − d_c ≥ 0 (+inf for a masked class).
    void h(typename Ar::ptr out, Eigen::Index c) { Ar::sub(out, L_, d_[c]); }

    // dloss·(1/W or 1/K) for mean; dloss_i for none; dloss for sum.
    void coefficients(Eigen::Index i) {
        mpfr_srcptr dl = pb_.reduce == reduction::none ? pb_.dloss[i] : pb_.dloss[0];
        Ar::set_fr(coef_ce_, dl);
        Ar::set_fr(coef_zl_, dl);
        if (pb_.reduce == reduction::mean) {
            Ar::div_fr(coef_ce_, coef_ce_, pb_.weight_sum);
            Ar::div_ui(coef_zl_, coef_zl_, pb_.count);
        }
    }

    const problem& pb_;
    Eigen::Index c_;
    typename Ar::vec z_, d_, e_, chain_, qp_;
    num t_, t2_, w_, g_, S_, den_, L_, lse_, ce_, zl_, hy_, epsc_, ome_, B_, coef_ce_, coef_zl_, zcoef_, zero_;
    bool hard_ = false;
};

// ---------------------------------------------------------------------------------------------
// Drivers.

template <class Ar, class Sink>
void evaluate_rows(const problem& pb, const mpfr_vec& x, mpfr_prec_t prec, unsigned workers, Sink& sink) {
    parallel_blocks(pb.n, workers, [&](Eigen::Index begin, Eigen::Index end) {
        row_engine<Ar> row(pb, prec);
        for (Eigen::Index i = begin; i < end; ++i) row.run(i, x, sink);
    });
}

// The reduction over rows, in row order: emit(k, value) for each loss value.
template <class Ar, class Emit>
void reduce(const problem& pb, const typename Ar::vec& ce, const typename Ar::vec& zl, const std::vector<char>& undefined,
            mpfr_prec_t prec, Emit emit) {
    typename Ar::num a(prec), b(prec);
    const bool any_undefined = std::find(undefined.begin(), undefined.end(), 1) != undefined.end();
    if (pb.reduce == reduction::none) {
        for (Eigen::Index i = 0; i < pb.n; ++i) {
            if (undefined[static_cast<std::size_t>(i)])
                Ar::set_nan(a);
            else
                Ar::add(a, ce[i], zl[i]);
            emit(i, a);
        }
        return;
    }
    if (any_undefined || (pb.reduce == reduction::mean && pb.all_ignored)) {  // NaN: 0/0 for the mean
        Ar::set_nan(a);
        emit(0, a);
        return;
    }
    Ar::set_ui(a, 0);
    Ar::set_ui(b, 0);
    for (Eigen::Index i = 0; i < pb.n; ++i) {
        Ar::add(a, a, ce[i]);
        Ar::add(b, b, zl[i]);
    }
    if (pb.reduce == reduction::mean) {
        Ar::div_fr(a, a, pb.weight_sum);
        Ar::div_ui(b, b, pb.count);
    }
    Ar::add(a, a, b);
    emit(0, a);
}

unsigned row_workers(const problem& pb, unsigned threads) {
    // An element costs an exp (and with a cap a tanh and a sech): ≈ 100 units of worker_count's scale.
    return worker_count(threads, 100.0 * static_cast<double>(pb.n) * static_cast<double>(pb.c));
}

struct point_sink {
    ce_options_reference& r;
    mpfr_vec& ce;
    mpfr_vec& zl;
    std::vector<char>& undefined_rows;
    mpfr_vec* mp_dl;  // the p-bit dlogits when the fused reference needs them
    Eigen::Index c;

    void z(Eigen::Index i, Eigen::Index j, mpfr_srcptr v) { r.z(i, j) = to_ld(v); }
    void p(Eigen::Index i, Eigen::Index j, mpfr_srcptr v) { r.probs(i, j) = to_ld(v); }
    void dl(Eigen::Index i, Eigen::Index j, mpfr_srcptr v) {
        r.dlogits(i, j) = to_ld(v);
        if (mp_dl != nullptr) mpfr_set((*mp_dl)[i * c + j], v, MPFR_RNDN);
    }
    void row(Eigen::Index i, mpfr_srcptr lse, mpfr_srcptr ce_i, mpfr_srcptr zl_i) {
        const auto k = static_cast<std::size_t>(i);
        r.lse[k] = to_ld(lse);
        r.row_ce[k] = to_ld(ce_i);
        r.row_zloss[k] = to_ld(zl_i);
        mpfr_set(ce[i], ce_i, MPFR_RNDN);
        mpfr_set(zl[i], zl_i, MPFR_RNDN);
    }
    void undefined(Eigen::Index i, bool ignored) {
        const auto k = static_cast<std::size_t>(i);
        r.probs.row(i).setConstant(ld_nan);
        r.lse[k] = ld_nan;
        r.row_ce[k] = ignored ? 0 : ld_nan;
        r.row_zloss[k] = ignored ? 0 : ld_nan;
        r.dlogits.row(i).setConstant(ignored ? 0 : ld_nan);
        mpfr_set_zero(ce[i], 1);
        mpfr_set_zero(zl[i], 1);
        for (Eigen::Index j = 0; j < c && mp_dl != nullptr; ++j) {
            if (ignored)
                mpfr_set_zero((*mp_dl)[i * c + j], 1);
            else
                mpfr_set_nan((*mp_dl)[i * c + j]);
        }
        undefined_rows[k] = ignored ? 0 : 1;
    }
};

// The point reference on the exact logits x (n×c MPFR numbers of any precision).
ce_options_reference run_point(const problem& pb, const mpfr_vec& x, mpfr_prec_t prec, unsigned workers,
                               mpfr_vec* mp_dl) {
    const Eigen::Index n = pb.n, c = pb.c;
    ce_options_reference r;
    r.z.resize(n, c);
    r.probs.resize(n, c);
    r.dlogits.resize(n, c);
    r.lse.assign(static_cast<std::size_t>(n), 0);
    r.row_ce.assign(static_cast<std::size_t>(n), 0);
    r.row_zloss.assign(static_cast<std::size_t>(n), 0);
    mpfr_vec ce(n, prec), zl(n, prec);
    std::vector<char> undefined(static_cast<std::size_t>(n), 0);
    point_sink sink{r, ce, zl, undefined, mp_dl, c};
    evaluate_rows<point_ar>(pb, x, prec, workers, sink);
    r.loss.assign(pb.reduce == reduction::none ? static_cast<std::size_t>(n) : 1, 0);
    reduce<point_ar>(pb, ce, zl, undefined, prec,
                     [&](Eigen::Index k, mpfr_srcptr v) { r.loss[static_cast<std::size_t>(k)] = to_ld(v); });
    if (pb.reduce == reduction::mean) {
        r.ce_divisor = pb.w_ld;
        r.z_divisor = pb.k_ld;
    }
    r.all_ignored = pb.all_ignored;
    return r;
}


// The midpoint of an enclosure, to nearest long double (an approximate value for the tolerance model).
long double mid_ld(mpfi_srcptr v) {
    MPFR_DECL_INIT(m, ld_digits);
    mpfi_mid(m, v);
    return to_ld(m);
}

struct interval_sink {
    certified_ce_options& r;
    mpfi_vec& ce;
    mpfi_vec& zl;
    std::vector<char>& undefined_rows;
    ce_options_reference* mids = nullptr;  // optional: the enclosures' midpoints

    void z(Eigen::Index i, Eigen::Index j, mpfi_srcptr v) {
        if (mids != nullptr) mids->z(i, j) = mid_ld(v);
    }
    void p(Eigen::Index i, Eigen::Index j, mpfi_srcptr v) {
        if (mids != nullptr) mids->probs(i, j) = mid_ld(v);
    }
    void dl(Eigen::Index i, Eigen::Index j, mpfi_srcptr v) {
        const enclosure e = to_enclosure(v);
        r.dlogits.lo(i, j) = e.lo;
        r.dlogits.hi(i, j) = e.hi;
        if (mids != nullptr) mids->dlogits(i, j) = mid_ld(v);
    }
    void row(Eigen::Index i, mpfi_srcptr lse, mpfi_srcptr ce_i, mpfi_srcptr zl_i) {
        mpfi_set(ce[i], ce_i);
        mpfi_set(zl[i], zl_i);
        if (mids != nullptr) {
            const auto k = static_cast<std::size_t>(i);
            mids->lse[k] = mid_ld(lse);
            mids->row_ce[k] = mid_ld(ce_i);
            mids->row_zloss[k] = mid_ld(zl_i);
        }
    }
    void undefined(Eigen::Index i, bool ignored) {
        r.dlogits.lo.row(i).setConstant(ignored ? 0 : ld_nan);
        r.dlogits.hi.row(i).setConstant(ignored ? 0 : ld_nan);
        mpfi_set_ui(ce[i], 0);
        mpfi_set_ui(zl[i], 0);
        undefined_rows[static_cast<std::size_t>(i)] = ignored ? 0 : 1;
        if (mids != nullptr) {
            const auto k = static_cast<std::size_t>(i);
            mids->probs.row(i).setConstant(ld_nan);
            mids->lse[k] = ld_nan;
            mids->row_ce[k] = ignored ? 0 : ld_nan;
            mids->row_zloss[k] = ignored ? 0 : ld_nan;
            mids->dlogits.row(i).setConstant(ignored ? 0 : ld_nan);
        }
    }
};

// The certified rows and reduction on the logits x (and pb.radius, when set), in the arithmetic Ar.
template <class Ar>
certified_ce_options run_certified(const problem& pb, const mpfr_vec& x, mpfr_prec_t bits, unsigned threads,
                                   ce_options_reference* mids) {
    const Eigen::Index n = pb.n, c = pb.c;
    certified_ce_options r;
    r.dlogits.lo.resize(n, c);
    r.dlogits.hi.resize(n, c);
    if (mids != nullptr) {
        mids->z.resize(n, c);
        mids->probs.resize(n, c);
        mids->dlogits.resize(n, c);
        mids->lse.assign(static_cast<std::size_t>(n), 0);
        mids->row_ce.assign(static_cast<std::size_t>(n), 0);
        mids->row_zloss.assign(static_cast<std::size_t>(n), 0);
    }
    mpfi_vec ce(n, bits), zl(n, bits);
    std::vector<char> undefined(static_cast<std::size_t>(n), 0);
    interval_sink sink{r, ce, zl, undefined, mids};
    evaluate_rows<Ar>(pb, x, bits, row_workers(pb, threads), sink);
    r.loss.assign(pb.reduce == reduction::none ? static_cast<std::size_t>(n) : 1, enclosure{});
    reduce<Ar>(pb, ce, zl, undefined, bits,
               [&](Eigen::Index k, mpfi_srcptr v) { r.loss[static_cast<std::size_t>(k)] = to_enclosure(v); });
    r.all_ignored = pb.all_ignored;
    if (mids != nullptr) {
        mids->loss.clear();
        for (const enclosure& e : r.loss) mids->loss.push_back(e.lo + (e.hi - e.lo) / 2);
        if (pb.reduce == reduction::mean) {
            mids->ce_divisor = pb.w_ld;
            mids->z_divisor = pb.k_ld;
        }
        mids->all_ignored = pb.all_ignored;
    }
    return r;
}

}  // namespace
}  // namespace detail

ce_options_reference cross_entropy_with_options(const lmatrix& logits, const label_vector& labels, const ce_options& o,
                                                const std::vector<long double>& class_weights,
                                                const lmatrix& soft_targets, const std::vector<long double>& dloss,
                                                unsigned bits, unsigned threads) {
    using namespace detail;
    check_bits(bits);
    validate_options(logits.rows(), logits.cols(), labels, o, class_weights, soft_targets, dloss, "logits");
    problem pb(logits.rows(), logits.cols(), soft_targets.size() > 0, !class_weights.empty(), dloss.size());
    setup(pb, labels, o, class_weights, soft_targets, dloss);
    mpfr_vec x(pb.n * pb.c, ld_digits);
    load(x, logits);
    return run_point(pb, x, bits, row_workers(pb, threads), nullptr);
}

certified_ce_options certify_cross_entropy_with_options(const lmatrix& logits, const label_vector& labels,
                                                        const ce_options& o,
                                                        const std::vector<long double>& class_weights,
                                                        const lmatrix& soft_targets,
                                                        const std::vector<long double>& dloss, unsigned bits,
                                                        unsigned threads) {
    using namespace detail;
    check_bits(bits);
    validate_options(logits.rows(), logits.cols(), labels, o, class_weights, soft_targets, dloss, "logits");
    problem pb(logits.rows(), logits.cols(), soft_targets.size() > 0, !class_weights.empty(), dloss.size());
    setup(pb, labels, o, class_weights, soft_targets, dloss);
    mpfr_vec x(pb.n * pb.c, ld_digits);
    load(x, logits);
    return run_certified<interval_ar>(pb, x, bits, threads, nullptr);
}

certified_ce_options certify_cross_entropy_with_options(const matrix<double>& logits, const matrix<double>& radius,
                                                        const label_vector& labels, const ce_options& o,
                                                        const std::vector<long double>& class_weights,
                                                        const std::vector<long double>& dloss, unsigned bits,
                                                        unsigned threads, ce_options_reference* midpoints) {
    using namespace detail;
    check_bits(bits);
    if (radius.rows() != logits.rows() || radius.cols() != logits.cols())
        throw_invalid("radius", "must have the logits' shape");
    for (Eigen::Index k = 0; k < radius.size(); ++k)
        if (!(radius.data()[k] >= 0) || !std::isfinite(radius.data()[k]))
            throw_invalid("radius", "must hold finite values ≥ 0");
    validate_options(logits.rows(), logits.cols(), labels, o, class_weights, lmatrix(), dloss, "logits");
    problem pb(logits.rows(), logits.cols(), false, !class_weights.empty(), dloss.size());
    setup(pb, labels, o, class_weights, lmatrix(), dloss);
    pb.radius = radius.data();
    mpfr_vec x(pb.n * pb.c, std::numeric_limits<double>::digits);
    for (Eigen::Index k = 0; k < logits.size(); ++k) mpfr_set_d(x[k], logits.data()[k], MPFR_RNDN);
    return run_certified<interval_fast_exp_ar>(pb, x, bits, threads, midpoints);
}

namespace detail {
namespace {

// out(k, j) = Σ_i X(i, k)·M(i, j), X given by its columns (xc: row k = column k of X) and M as
// p-bit pieces; summed exactly (grid capped dw_max_span bits below the largest term, as point.cpp's
// dW) and rounded once to p bits, then to nearest long double: store(k, j, value).
template <class Store>
void transposed_products(const split_matrix& xc, const piece_matrix& m, mpfr_prec_t prec, unsigned workers, Store store) {
    const Eigen::Index inner = m.rows, cols = m.cols;
    parallel_blocks(xc.rows, workers, [&](Eigen::Index begin, Eigen::Index end) {
        fixed_accumulator acc;
        mpfr_num t(prec);
        for (Eigen::Index k = begin; k < end; ++k) {
            const split_ld* x = xc.row(k);
            for (Eigen::Index j = 0; j < cols; ++j) {
                acc.reset(xc.range[static_cast<std::size_t>(k)], m.col_range[static_cast<std::size_t>(j)], dw_max_span,
                          largest_term_exponent(x, m, j));
                for (Eigen::Index i = 0; i < inner; ++i) {
                    if (x[i].sig == 0) continue;
                    const split_ld* a = m.at(i, j);
                    for (Eigen::Index p = 0; p < m.per; ++p) acc.add(x[i], a[p]);
                }
                acc.to_mpfr_rounded(t, MPFR_RNDN);
                store(k, j, to_ld(t));
            }
        }
    });
}

// Σ_i m(i, j) for every column j of the n×v row-major matrix m, exactly, then rounded once to long
// double in direction rnd (a zero as +0).
std::vector<long double> column_sums(const mpfr_vec& m, Eigen::Index n, Eigen::Index v, mpfr_rnd_t rnd) {
    std::vector<long double> out(static_cast<std::size_t>(v));
    exact_dot dot;
    mpfr_num t(MPFR_PREC_MIN);
    std::vector<mpfr_ptr> col(static_cast<std::size_t>(n));
    for (Eigen::Index j = 0; j < v; ++j) {
        for (Eigen::Index i = 0; i < n; ++i) col[static_cast<std::size_t>(i)] = const_cast<mpfr_ptr>(m[i * v + j]);
        dot(t, col.data(), nullptr, static_cast<unsigned long>(n));
        const long double s = mpfr_get_ld(t, rnd);
        out[static_cast<std::size_t>(j)] = s == 0 ? 0.0L : s;
    }
    return out;
}

// Validation of a fused call (plus the options'), and its problem with the exact logits
// x = H·Wᵀ + b: the integer superaccumulator, then one exact addition of the bias.
struct fused_problem {
    problem pb;
    mpfr_vec x;
    unsigned workers;
    fused_problem(const lmatrix& hidden, const lmatrix& weight, const std::vector<long double>& bias,
                  const label_vector& labels, const ce_options& o, const std::vector<long double>& class_weights,
                  const std::vector<long double>& dloss, unsigned threads)
        : pb((validate_fused(hidden, weight, bias, labels, o, class_weights, dloss), hidden.rows()), weight.rows(), false,
             !class_weights.empty(), dloss.size()),
          x(hidden.rows() * weight.rows(), MPFR_PREC_MIN),
          workers(worker_count(threads, static_cast<double>(hidden.rows()) * static_cast<double>(hidden.cols()) *
                                            static_cast<double>(weight.rows()))) {
        setup(pb, labels, o, class_weights, lmatrix(), dloss);
        const Eigen::Index n = hidden.rows(), v = weight.rows();
        exact_products(split_matrix_of(hidden, false), split_matrix_of(weight, false), x, workers);
        if (bias.empty()) return;
        mpfr_vec b(v, ld_digits);
        for (Eigen::Index j = 0; j < v; ++j) mpfr_set_ld(b[j], bias[static_cast<std::size_t>(j)], MPFR_RNDN);
        mpfr_vec sum(n * v, MPFR_PREC_MIN);
        parallel_blocks(n, workers, [&](Eigen::Index begin, Eigen::Index end) {
            exact_dot dot;
            mpfr_ptr terms[2];
            for (Eigen::Index i = begin; i < end; ++i)
                for (Eigen::Index j = 0; j < v; ++j) {
                    terms[0] = const_cast<mpfr_ptr>(x[i * v + j]);
                    terms[1] = const_cast<mpfr_ptr>(b[j]);
                    dot(sum[i * v + j], terms, nullptr, 2);
                }
        });
        for (Eigen::Index k = 0; k < n * v; ++k) mpfr_swap(x[k], sum[k]);
    }

    static void validate_fused(const lmatrix& hidden, const lmatrix& weight, const std::vector<long double>& bias,
                               const label_vector& labels, const ce_options& o,
                               const std::vector<long double>& class_weights, const std::vector<long double>& dloss) {
        if (hidden.rows() < 1) throw_invalid("hidden", "must have at least one row (N ≥ 1)");
        if (hidden.cols() < 1) throw_invalid("hidden", "must have at least one column (D ≥ 1)");
        if (weight.rows() < 1) throw_invalid("weight", "must have at least one row (V ≥ 1)");
        if (weight.cols() != hidden.cols())
            throw_invalid("weight", "has " + std::to_string(weight.cols()) + " columns but hidden has " +
                                        std::to_string(hidden.cols()));
        if (!bias.empty() && static_cast<Eigen::Index>(bias.size()) != weight.rows())
            throw_invalid("bias", "has " + std::to_string(bias.size()) + " values but weight has " +
                                      std::to_string(weight.rows()) + " rows");
        validate_finite(hidden, "hidden");
        validate_finite(weight, "weight");
        for (long double b : bias)
            if (!std::isfinite(b)) throw_invalid("bias", "contains a non-finite value");
        const Eigen::Index n = hidden.rows(), v = weight.rows();
        gradproof::detail::check_work_size("weight", n, v, 256, "the exact logits H·Wᵀ");
        validate_options(n, v, labels, o, class_weights, lmatrix(), dloss, "hidden");
    }
};

}  // namespace
}  // namespace detail

fused_ce_reference fused_linear_cross_entropy(const lmatrix& hidden, const lmatrix& weight,
                                              const std::vector<long double>& bias, const label_vector& labels,
                                              const ce_options& o, const std::vector<long double>& class_weights,
                                              const std::vector<long double>& dloss, unsigned bits, unsigned threads) {
    using namespace detail;
    check_bits(bits);
    const fused_problem fp(hidden, weight, bias, labels, o, class_weights, dloss, threads);
    const problem& pb = fp.pb;
    const mpfr_vec& x = fp.x;
    const unsigned workers = fp.workers;
    const Eigen::Index n = hidden.rows(), d = hidden.cols(), v = weight.rows();
    const mpfr_prec_t prec = bits;

    fused_ce_reference r;
    r.logits.resize(n, v);
    for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index j = 0; j < v; ++j) r.logits(i, j) = to_ld(x[i * v + j]);
    mpfr_vec dl(n * v, prec);
    r.ce = run_point(pb, x, prec, row_workers(pb, threads), &dl);

    // dhidden(i, k) = Σ_j dl(i, j)·W(j, k): X = W (columns k over j), M = dlᵀ (v×n).
    r.dhidden.resize(n, d);
    const piece_matrix dlt = split_pieces(v, n, prec, [&](Eigen::Index j, Eigen::Index i) { return dl[i * v + j]; });
    transposed_products(split_matrix_of(weight, true), dlt, prec, workers,
                        [&](Eigen::Index k, Eigen::Index i, long double val) { r.dhidden(i, k) = val; });
    // dweight(j, k) = Σ_i dl(i, j)·H(i, k): X = H (columns k over i), M = dl (n×v).
    r.dweight.resize(v, d);
    const piece_matrix dlm = split_pieces(n, v, prec, [&](Eigen::Index i, Eigen::Index j) { return dl[i * v + j]; });
    transposed_products(split_matrix_of(hidden, true), dlm, prec, workers,
                        [&](Eigen::Index k, Eigen::Index j, long double val) { r.dweight(j, k) = val; });
    if (!bias.empty()) r.dbias = column_sums(dl, n, v, MPFR_RNDN);
    return r;
}

certified_fused_ce certify_fused_linear_cross_entropy(const lmatrix& hidden, const lmatrix& weight,
                                                      const std::vector<long double>& bias, const label_vector& labels,
                                                      const ce_options& o, const std::vector<long double>& class_weights,
                                                      const std::vector<long double>& dloss, unsigned bits,
                                                      unsigned threads) {
    using namespace detail;
    check_bits(bits);
    const fused_problem fp(hidden, weight, bias, labels, o, class_weights, dloss, threads);
    const Eigen::Index n = hidden.rows(), d = hidden.cols(), v = weight.rows();
    const mpfr_prec_t prec = bits;
    certified_fused_ce r;
    r.ce = run_certified<interval_ar>(fp.pb, fp.x, prec, threads, nullptr);
    for (auto [m, rows] : {std::pair{&r.dhidden, n}, std::pair{&r.dweight, v}}) {
        m->lo.resize(rows, d);
        m->hi.resize(rows, d);
    }
    if (!bias.empty()) r.dbias.assign(static_cast<std::size_t>(v), enclosure{});
    const interval_matrix& g = r.ce.dlogits;
    bool defined = true;
    for (Eigen::Index k = 0; k < g.lo.size() && defined; ++k)
        defined = std::isfinite(g.lo.data()[k]) && std::isfinite(g.hi.data()[k]);
    if (!defined) {  // a NaN or infinite dlogit (the mean's W = 0): the products are undefined too
        for (interval_matrix* m : {&r.dhidden, &r.dweight}) m->lo.setConstant(ld_nan), m->hi.setConstant(ld_nan);
        for (enclosure& e : r.dbias) e = {ld_nan, ld_nan};
        return r;
    }
    // The dlogits' bounds are long doubles: exact at 64 bits.
    mpfr_vec lo(n * v, ld_digits), hi(n * v, ld_digits);
    load(lo, g.lo);
    load(hi, g.hi);
    auto store = [](interval_matrix& m, Eigen::Index i, Eigen::Index j, mpfr_srcptr l, mpfr_srcptr h) {
        const long double a = mpfr_get_ld(l, MPFR_RNDD), b = mpfr_get_ld(h, MPFR_RNDU);
        m.lo(i, j) = a == 0 ? 0.0L : a;  // +0 for either zero, as to_enclosure
        m.hi(i, j) = b == 0 ? 0.0L : b;
    };
    // dhidden = G·W: X = W (columns k over j), M = Gᵀ (v×n); dweight = Gᵀ·H: X = H, M = G (n×v).
    const auto at_t = [&](const mpfr_vec& m) {
        return split_pieces(v, n, ld_digits, [&](Eigen::Index j, Eigen::Index i) { return m[i * v + j]; });
    };
    const auto at = [&](const mpfr_vec& m) {
        return split_pieces(n, v, ld_digits, [&](Eigen::Index i, Eigen::Index j) { return m[i * v + j]; });
    };
    enclosed_transposed_products(split_matrix_of(weight, true), at_t(lo), at_t(hi), prec, fp.workers,
                                 [&](Eigen::Index k, Eigen::Index i, mpfr_ptr l, mpfr_ptr h, mpfr_ptr) {
                                     store(r.dhidden, i, k, l, h);
                                 });
    enclosed_transposed_products(split_matrix_of(hidden, true), at(lo), at(hi), prec, fp.workers,
                                 [&](Eigen::Index k, Eigen::Index j, mpfr_ptr l, mpfr_ptr h, mpfr_ptr) {
                                     store(r.dweight, j, k, l, h);
                                 });
    if (!bias.empty()) {
        const std::vector<long double> l = column_sums(lo, n, v, MPFR_RNDD), h = column_sums(hi, n, v, MPFR_RNDU);
        for (std::size_t j = 0; j < l.size(); ++j) r.dbias[j] = {l[j], h[j]};
    }
    return r;
}

}  // namespace gradproof::reference
