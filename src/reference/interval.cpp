// Certified references: the formulas of reference/point.cpp evaluated in MPFI interval arithmetic
// at p = `bits` (≥ 64; 128 and up to certify doubles) and rounded outward to long double.
//
// Why the result contains the exact value: inputs are long doubles held exactly in 64-bit MPFR
// numbers; S = X·W (integer superaccumulator, exact_sum.hpp) and ‖W‖² (exact_dot) are computed
// exactly, so the row maximum a is an exact point and every d_j = S_j − a is the exact difference
// rounded outward to p bits. From there every step is an MPFI operation, which returns an
// interval containing the exact result for all points of its interval arguments; by induction the
// final interval contains the exact real value, and rounding lo down and hi up (MPFR_RNDD/RNDU) to
// long double keeps it so. The shift by a and the log1p/−s/(1+s) forms are exact identities in
// real arithmetic, so they do not affect containment, only width.
//
// Width (why the enclosures are narrow enough to decide the rounding of a double): because S and
// a are exact, the dependency problem never pairs two independently rounded copies of the same
// score: d_y = 0 exactly when the label is the argmax, so a tiny loss log1p(s) gets a tiny
// interval. Each MPFI step widens by O(2^-p) relative to its result, and the point analysis'
// bounds (ε_row = (C + max|d_j| + 4)·2^-p relative, componentwise, for p, o, ℓ and dS) bound the
// relative width the same way, twice over (one side each). At p = 128 that is below 2^-100 except
// for dW, whose width is normwise (relative to |X|ᵀ|dS|/N + reg·|W|) because its two terms can
// cancel (dW is enclosed from dS's endpoints by two exact sums, see certify_softmax_loss: width
// Σ|X|·width(dS)/N plus three outward roundings), and except for values below the MPFR exponent range (exp(d) with d < −7e8 gives
// [0, 2^(emin − 1)]). Masked classes give the exact points [0, 0], [−inf, −inf] and, for a masked
// label, [+inf, +inf]; rows with NaN/+inf or every class masked give lo = hi = NaN.
//
// Raw MPFR/MPFI with explicit precisions rather than mp_interval and mp_precision_guard, for the
// reasons given in point.cpp (per-number precisions of the exact stages; Boost 1.74's process-wide
// default precision; no allocation per operation).
#include "reference/interval.hpp"

// core/validate.hpp names boost::multiprecision::isfinite without including Boost.Multiprecision.
#include <boost/multiprecision/number.hpp>

#include "core/validate.hpp"
#include "reference/exact_sum.hpp"
#include "reference/mpfr_support.hpp"

#include <mpfi.h>
#include <mpfr.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace gradproof::reference {

namespace detail {
namespace {



void store(interval_matrix& m, Eigen::Index i, Eigen::Index j, mpfi_srcptr x) {
    const enclosure e = to_enclosure(x);
    m.lo(i, j) = e.lo;
    m.hi(i, j) = e.hi;
}

void resize(interval_matrix& m, Eigen::Index rows, Eigen::Index cols) {
    m.lo.resize(rows, cols);
    m.hi.resize(rows, cols);
}

void set_nan_row(interval_matrix& m, Eigen::Index i) {
    m.lo.row(i).setConstant(ld_nan);
    m.hi.row(i).setConstant(ld_nan);
}

// Interval form of point.cpp's row_eval: a = max z at index k (an exact point), d_j = z_j − a
// rounded outward, e_j = exp(d_j), s = Σ_{j≠k} e_j. MPFI handles the masked −inf entries as the
// exact points d_j = [−inf, −inf], e_j = [0, 0].
class row_eval {
public:
    row_eval(Eigen::Index c, mpfr_prec_t prec)
        : c_(c), d_(c, prec), e_(c, prec), s_(prec), denom_(prec), log1p_s_(prec), lo_(prec), hi_(prec) {}

    // Evaluates the row z[offset .. offset + C); false when the row is undefined (NaN or +inf
    // present, or every class masked).
    bool run(const mpfr_vec& z, Eigen::Index offset) {
        k_ = row_argmax(z, offset, c_);
        if (k_ < 0) return false;
        mpfr_srcptr a = z[offset + k_];
        mpfi_set_ui(s_, 0);
        for (Eigen::Index j = 0; j < c_; ++j) {
            // The exact difference of two points, rounded outward once.
            mpfr_sub(lo_, z[offset + j], a, MPFR_RNDD);
            mpfr_sub(hi_, z[offset + j], a, MPFR_RNDU);
            mpfi_interv_fr(d_[j], lo_, hi_);
            if (j == k_) {
                mpfi_set_ui(e_[j], 1);
                continue;
            }
            mpfi_exp(e_[j], d_[j]);
            mpfi_add(s_, s_, e_[j]);
        }
        mpfi_add_ui(denom_, s_, 1);
        mpfi_log1p(log1p_s_, s_);
        return true;
    }

    void prob(mpfi_ptr out, Eigen::Index j) const { mpfi_div(out, e_[j], denom_); }
    void log_prob(mpfi_ptr out, Eigen::Index j) const { mpfi_sub(out, d_[j], log1p_s_); }
    void loss(mpfi_ptr out, Eigen::Index y) const { mpfi_sub(out, log1p_s_, d_[y]); }

    // p_j − [j = y], with −s/(1 + s) at the argmax (see point.cpp).
    void grad(mpfi_ptr out, Eigen::Index j, Eigen::Index y) const {
        if (j == y && j == k_) {
            mpfi_div(out, s_, denom_);
            mpfi_neg(out, out);
            return;
        }
        prob(out, j);
        if (j == y) mpfi_sub_ui(out, out, 1);
    }

private:
    Eigen::Index c_;
    Eigen::Index k_ = -1;
    mpfi_vec d_, e_;
    mpfi_num s_, denom_, log1p_s_;
    mpfr_num lo_, hi_;
};

}  // namespace
}  // namespace detail

certified_loss certify_softmax_loss(const lmatrix& W, const lmatrix& X, const label_vector& y, long double reg,
                                    unsigned bits, unsigned threads) {
    using namespace detail;
    check_bits(bits);
    validate_softmax_loss(W, X, y, reg);
    const Eigen::Index n = X.rows(), d = X.cols(), c = W.cols();
    const mpfr_prec_t prec = bits;
    const auto un = static_cast<unsigned long>(n);
    const unsigned workers = worker_count(threads, static_cast<double>(n) * static_cast<double>(d) * static_cast<double>(c));

    mpfr_vec ws(d * c, ld_digits);
    load(ws, W);
    mpfr_num regm(ld_digits);
    mpfr_set_ld(regm, reg, MPFR_RNDN);
    std::vector<mpfr_ptr> w_cols(static_cast<std::size_t>(c * d));
    for (Eigen::Index k = 0; k < d; ++k)
        for (Eigen::Index j = 0; j < c; ++j) w_cols[static_cast<std::size_t>(j * d + k)] = ws.ptrs()[k * c + j];

    // Exact scores (exact_sum.hpp), rows split across the workers.
    mpfr_vec scores(n * c, MPFR_PREC_MIN);  // each entry gets the precision it needs
    exact_products(split_matrix_of(X, false), split_matrix_of(W, true), scores, workers);

    certified_loss r;
    r.row_loss.resize(static_cast<std::size_t>(n));
    r.scores.resize(n, c);
    resize(r.probs, n, c);
    resize(r.dS, n, c);
    resize(r.dW, d, c);
    mpfi_vec ds(n * c, prec);
    row_eval row(c, prec);
    mpfi_num t(prec), sum(prec);
    mpfi_set_ui(sum, 0);
    for (Eigen::Index i = 0; i < n; ++i) {
        [[maybe_unused]] const bool defined = row.run(scores, i * c);
        assert(defined);  // validated finite W and X give finite exact scores
        row.loss(t, y[static_cast<std::size_t>(i)]);
        r.row_loss[static_cast<std::size_t>(i)] = to_enclosure(t);
        mpfi_add(sum, sum, t);
        for (Eigen::Index j = 0; j < c; ++j) {
            r.scores(i, j) = to_ld(scores[i * c + j]);
            row.prob(t, j);
            store(r.probs, i, j, t);
            row.grad(ds[i * c + j], j, y[static_cast<std::size_t>(i)]);
            store(r.dS, i, j, ds[i * c + j]);
        }
    }
    mpfi_div_ui(sum, sum, un);
    mpfr_num w_sq(MPFR_PREC_MIN);
    exact_dot dot;
    dot(w_sq, w_cols.data(), w_cols.data(), static_cast<unsigned long>(c * d));
    mpfi_set_fr(t, w_sq);  // rounds the exact ‖W‖² outward to p bits
    mpfi_mul_fr(t, t, regm);
    mpfi_div_2ui(t, t, 1);
    mpfi_add(sum, sum, t);
    r.loss = to_enclosure(sum);

    // dW = Xᵀ·dS/N + reg·W from the endpoints of dS: for x ≥ 0 and dS ∈ [lo, hi],
    // x·lo ≤ x·dS ≤ x·hi (swapped for x < 0); summing these inequalities over i encloses Σ x·dS
    // by two sums computed exactly (exact_sum.hpp), so the only roundings are the final outward
    // ones: /N, + reg·W and the conversion to long double. The enclosure is as narrow as the
    // endpoints of dS allow (width Σ|x|·width(dS)/N plus three outward roundings), narrower than
    // accumulating in MPFI, which also rounds every product and partial sum outward.
    const split_matrix xc = split_matrix_of(X, true);  // columns of X
    const piece_matrix lo = split_pieces(n, c, prec, [&](Eigen::Index i, Eigen::Index j) { return &ds[i * c + j]->left; });
    const piece_matrix hi = split_pieces(n, c, prec, [&](Eigen::Index i, Eigen::Index j) { return &ds[i * c + j]->right; });
    enclosed_transposed_products(xc, lo, hi, prec, workers,
                                 [&](Eigen::Index k, Eigen::Index j, mpfr_ptr lo_t, mpfr_ptr hi_t, mpfr_ptr rw) {
        mpfr_div_ui(lo_t, lo_t, un, MPFR_RNDD);
        mpfr_div_ui(hi_t, hi_t, un, MPFR_RNDU);
        mpfr_mul(rw, ws[k * c + j], regm, MPFR_RNDD);  // exact at p ≥ 128
        mpfr_add(lo_t, lo_t, rw, MPFR_RNDD);
        mpfr_mul(rw, ws[k * c + j], regm, MPFR_RNDU);
        mpfr_add(hi_t, hi_t, rw, MPFR_RNDU);
        long double l = mpfr_get_ld(lo_t, MPFR_RNDD), h = mpfr_get_ld(hi_t, MPFR_RNDU);
        r.dW.lo(k, j) = l == 0 ? 0.0L : l;  // +0 for either zero, as to_enclosure
        r.dW.hi(k, j) = h == 0 ? 0.0L : h;
    });
    return r;
}

namespace detail {
namespace {

// The row-wise functions: value(row, t, j) puts output j of an evaluated row into t; an undefined
// row (NaN or +inf, or every class masked) gives NaN outputs.
template <class Value>
interval_matrix row_function(const lmatrix& logits, unsigned bits, Value value) {
    check_bits(bits);
    validate_logits(logits);
    const Eigen::Index n = logits.rows(), c = logits.cols();
    interval_matrix o;
    resize(o, n, c);
    mpfr_vec z(c, ld_digits);
    row_eval row(c, bits);
    mpfi_num t(bits);
    for (Eigen::Index i = 0; i < n; ++i) {
        load_row(z, logits, i);
        if (!row.run(z, 0)) {
            set_nan_row(o, i);
            continue;
        }
        for (Eigen::Index j = 0; j < c; ++j) {
            value(row, t, j);
            store(o, i, j, t);
        }
    }
    return o;
}

}  // namespace
}  // namespace detail

interval_matrix certify_softmax(const lmatrix& logits, unsigned bits) {
    return detail::row_function(logits, bits,
                                [](const detail::row_eval& r, mpfi_ptr t, Eigen::Index j) { r.prob(t, j); });
}

interval_matrix certify_log_softmax(const lmatrix& logits, unsigned bits) {
    return detail::row_function(logits, bits,
                                [](const detail::row_eval& r, mpfi_ptr t, Eigen::Index j) { r.log_prob(t, j); });
}

certified_cross_entropy certify_cross_entropy(const lmatrix& logits, const label_vector& y, unsigned bits) {
    using namespace detail;
    check_bits(bits);
    validate_cross_entropy(logits, y);
    const Eigen::Index n = logits.rows(), c = logits.cols();
    const auto un = static_cast<unsigned long>(n);
    certified_cross_entropy r;
    r.row_loss.resize(static_cast<std::size_t>(n));
    resize(r.probs, n, c);
    resize(r.dlogits, n, c);
    mpfr_vec z(c, ld_digits);
    row_eval row(c, bits);
    mpfi_num t(bits), sum(bits);
    mpfi_set_ui(sum, 0);
    bool undefined = false;
    for (Eigen::Index i = 0; i < n; ++i) {
        const auto yi = y[static_cast<std::size_t>(i)];
        load_row(z, logits, i);
        if (!row.run(z, 0)) {
            undefined = true;
            r.row_loss[static_cast<std::size_t>(i)] = {ld_nan, ld_nan};
            set_nan_row(r.probs, i);
            set_nan_row(r.dlogits, i);
            continue;
        }
        row.loss(t, yi);
        r.row_loss[static_cast<std::size_t>(i)] = to_enclosure(t);
        mpfi_add(sum, sum, t);
        for (Eigen::Index j = 0; j < c; ++j) {
            row.prob(t, j);
            store(r.probs, i, j, t);
            row.grad(t, j, yi);
            mpfi_div_ui(t, t, un);
            store(r.dlogits, i, j, t);
        }
    }
    mpfi_div_ui(sum, sum, un);
    r.loss = undefined ? enclosure{ld_nan, ld_nan} : to_enclosure(sum);
    return r;
}

// Correctness: round-to-nearest RN_T is monotone (x ≤ x' ⇒ RN_T(x) ≤ RN_T(x')) on the extended
// reals, so lo ≤ x ≤ hi gives RN_T(lo) ≤ RN_T(x) ≤ RN_T(hi), and RN_T(lo) = RN_T(hi) pins RN_T(x).
// static_cast<T> from long double is a single correctly rounded conversion of lo itself (IEEE 754,
// in the default round-to-nearest mode), so no double rounding is involved: lo is the number being
// rounded, not an approximation of x. Overflow is covered too: everything ≥ T's max + ½ ulp rounds
// to +inf, the correctly rounded answer for an exact value beyond the format. When lo and hi round
// to zeros of opposite sign the sign of the rounded zero is undetermined and +0 is returned.
template <class T>
std::optional<T> correctly_rounded(const enclosure& e) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
    if (std::isnan(e.lo) || std::isnan(e.hi) || e.lo > e.hi) return std::nullopt;
    const T lo = static_cast<T>(e.lo), hi = static_cast<T>(e.hi);
    if (lo != hi) return std::nullopt;
    if (lo == 0 && std::signbit(lo) != std::signbit(hi)) return T(0);
    return lo;
}

template std::optional<float> correctly_rounded<float>(const enclosure&);
template std::optional<double> correctly_rounded<double>(const enclosure&);

}  // namespace gradproof::reference
