// Point references: the softmax functions evaluated with MPFR at p = `bits` (≥ 64) and rounded to
// the nearest long double.
//
// Error analysis (u = 2^-p, every MPFR operation correctly rounded to nearest):
// * Inputs are long doubles (64-bit significands), stored exactly in 64-bit MPFR numbers.
// * S = X·W, ‖W‖², ⟨g, p⟩ (softmax_backward) and Σ g (log_softmax_backward) are exact: S in integer
//   arithmetic (exact_sum.hpp), the others with exact_dot, which sizes its result from the
//   operands' exponents so that no addition rounds. Rounding S
//   to p bits instead would leave an absolute error u·|S| in every shifted score S_j − max S, i.e.
//   a relative error u·|S| in each probability and in tiny losses (|S| = 1e30 would cost 100 bits).
// * One row z with a = max_j z_j at index k (exact, no rounding): d_j = z_j − a rounds once
//   (relative error u); e_j = exp(d_j) then has relative error ≤ (|d_j| + 1)·u, since exp turns the
//   absolute error |d_j|·u of its argument into a relative one. s = Σ_{j≠k} e_j adds nonnegative
//   terms: ≤ (C + max|d_j| + 1)·u relative. log1p(s), p_j = e_j/(1 + s), ℓ = (a − z_y) + log1p(s) and
//   o_j = d_j − log1p(s) each combine terms of one sign, so nothing cancels and each is within
//   ε_row = (C + max|d_j| + 4)·u relative, componentwise: a loss of 1e−22 when p_y ≈ 1 and a
//   log-probability of −4e−18 next to 0 are as accurate as the loss of 2 (Blanchard, Higham &
//   Higham 2021 use the same a, s and log1p). Only |d_j| < 11400 matters: below that exp(d_j) is
//   under the smallest long double and the output is 0 either way.
// * dS_y = p_y − 1 would cancel when p_y ≈ 1; when y = k it is computed as −s/(1 + s) instead. When
//   y ≠ k, p_y ≤ p_k implies p_y ≤ ½ and p_y − 1 does not cancel. So dS is within ε_row + u too.
// * dW = Xᵀ·dS/N + reg·W: Σ_i X_ik·dS_ij is summed exactly from the p-bit dS (exact_sum.hpp) and
//   rounded once (u) — terms more than dw_max_span = 1024 bits below the largest one are dropped,
//   ≤ N·2^-1024 relative to (|X|ᵀ|dS|)_kj —, so only the ε_row·|X|ᵀ|dS| carried by dS remains; /N, reg·W (exact once
//   p ≥ 128) and the sum add 3u. The two terms can cancel (at a regularized optimum they do), so
//   this bound is normwise: (ε_row + 4u)·(|X|ᵀ|dS|/N + reg·|W|). (A recursive MPFR dot product
//   would add γ_N ≈ N·u, Higham ch. 3, and cost ≈ 40 times more.)
// * L = (Σ ℓ_i)/N + ½·reg·‖W‖²: nonnegative terms, within ε_row + (N + 3)·u relative.
// * softmax_backward: g_j − ⟨g, p⟩ and the product with p_j round once each: 2u componentwise.
//   log_softmax_backward: exp(o_j)·Σg carries ≤ 3u relative and g_j − exp(o_j)·Σg may cancel:
//   4u·(|g_j| + exp(o_j)·|Σg|).
// At p = 128 with C, N ≤ 2^20 every bound above is below 2^-100 (relative or normwise as stated);
// the final mpfr_get_ld(MPFR_RNDN) adds half an ulp of long double (2^-64 relative), so each output
// is within 0.5 + 2^-36 ulp of long double of the exact value.
//
// Raw MPFR with an explicit precision for every number (rather than mp_real and
// mp_precision_guard) because the exact stages need per-number precisions, because Boost 1.74
// keeps the default precision in a process-wide static that concurrent callers would race on,
// and because in-place C calls avoid a heap allocation per arithmetic operation.
#include "reference/point.hpp"

// core/validate.hpp names boost::multiprecision::isfinite without including Boost.Multiprecision.
#include <boost/multiprecision/number.hpp>

#include "core/validate.hpp"
#include "reference/exact_sum.hpp"
#include "reference/mpfr_support.hpp"

#include <mpfr.h>

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace gradproof::reference {

namespace detail {
namespace {

// The shifted softmax statistics of one row (accurate algorithm of Blanchard, Higham & Higham):
// a = max z at index k, d_j = z_j − a, e_j = exp(d_j), s = Σ_{j≠k} e_j. Each exp is computed once
// and serves the probabilities, the loss and the gradient.
class row_eval {
public:
    row_eval(Eigen::Index c, mpfr_prec_t prec)
        : c_(c), d_(c, prec), e_(c, prec), s_(prec), denom_(prec), log1p_s_(prec) {}

    // Evaluates the row z[offset .. offset + C). False when the row is undefined: it holds NaN
    // or +inf, or every class is masked (−inf). −inf entries are masked classes: exp(−inf) = 0.
    bool run(const mpfr_vec& z, Eigen::Index offset) {
        k_ = row_argmax(z, offset, c_);
        if (k_ < 0) return false;
        mpfr_srcptr a = z[offset + k_];
        mpfr_set_zero(s_, 1);
        for (Eigen::Index j = 0; j < c_; ++j) {
            mpfr_sub(d_[j], z[offset + j], a, MPFR_RNDN);
            if (j == k_) {
                mpfr_set_ui(e_[j], 1, MPFR_RNDN);
                continue;
            }
            mpfr_exp(e_[j], d_[j], MPFR_RNDN);
            mpfr_add(s_, s_, e_[j], MPFR_RNDN);
        }
        mpfr_add_ui(denom_, s_, 1, MPFR_RNDN);
        mpfr_log1p(log1p_s_, s_, MPFR_RNDN);
        return true;
    }

    // p_j = e_j / (1 + s)
    void prob(mpfr_ptr out, Eigen::Index j) const { mpfr_div(out, e_[j], denom_, MPFR_RNDN); }

    // o_j = d_j − log1p(s): both terms ≤ 0, so o_j next to 0 keeps its relative accuracy.
    void log_prob(mpfr_ptr out, Eigen::Index j) const { mpfr_sub(out, d_[j], log1p_s_, MPFR_RNDN); }

    // ℓ = (a − z_y) + log1p(s) = log1p(s) − d_y; +inf when class y is masked.
    void loss(mpfr_ptr out, Eigen::Index y) const { mpfr_sub(out, log1p_s_, d_[y], MPFR_RNDN); }

    // p_j − [j = y]; at the argmax p_y − 1 = −s/(1 + s) avoids cancelling against 1.
    void grad(mpfr_ptr out, Eigen::Index j, Eigen::Index y) const {
        if (j == y && j == k_) {
            mpfr_div(out, s_, denom_, MPFR_RNDN);
            mpfr_neg(out, out, MPFR_RNDN);
            return;
        }
        prob(out, j);
        if (j == y) mpfr_sub_ui(out, out, 1, MPFR_RNDN);
    }

private:
    Eigen::Index c_;
    Eigen::Index k_ = -1;
    mpfr_vec d_, e_;
    mpfr_num s_, denom_, log1p_s_;
};

}  // namespace
}  // namespace detail

loss_reference softmax_loss(const lmatrix& W, const lmatrix& X, const label_vector& y, long double reg,
                            unsigned bits, unsigned threads) {
    using namespace detail;
    check_bits(bits);
    validate_softmax_loss(W, X, y, reg);
    const Eigen::Index n = X.rows(), d = X.cols(), c = W.cols();
    const mpfr_prec_t prec = bits;
    const auto un = static_cast<unsigned long>(n);

    mpfr_vec ws(d * c, ld_digits);
    load(ws, W);
    mpfr_num regm(ld_digits);
    mpfr_set_ld(regm, reg, MPFR_RNDN);
    // The columns of W as a pointer array for exact_dot (rows of X come from ptrs()).
    std::vector<mpfr_ptr> w_cols(static_cast<std::size_t>(c * d));
    for (Eigen::Index k = 0; k < d; ++k)
        for (Eigen::Index j = 0; j < c; ++j) w_cols[static_cast<std::size_t>(j * d + k)] = ws.ptrs()[k * c + j];

    const unsigned workers = worker_count(threads, static_cast<double>(n) * static_cast<double>(d) * static_cast<double>(c));
    exact_dot dot;
    mpfr_vec scores(n * c, MPFR_PREC_MIN);  // each entry gets the precision it needs
    exact_products(split_matrix_of(X, false), split_matrix_of(W, true), scores, workers);

    loss_reference r;
    r.row_loss.resize(static_cast<std::size_t>(n));
    r.scores.resize(n, c);
    r.probs.resize(n, c);
    r.dS.resize(n, c);
    r.dW.resize(d, c);
    mpfr_vec ds(n * c, prec);
    row_eval row(c, prec);
    mpfr_num t(prec), sum(prec);
    mpfr_set_zero(sum, 1);
    for (Eigen::Index i = 0; i < n; ++i) {
        [[maybe_unused]] const bool defined = row.run(scores, i * c);
        assert(defined);  // validated finite W and X give finite exact scores
        row.loss(t, y[static_cast<std::size_t>(i)]);
        r.row_loss[static_cast<std::size_t>(i)] = to_ld(t);
        mpfr_add(sum, sum, t, MPFR_RNDN);
        for (Eigen::Index j = 0; j < c; ++j) {
            r.scores(i, j) = to_ld(scores[i * c + j]);
            row.prob(t, j);
            r.probs(i, j) = to_ld(t);
            row.grad(ds[i * c + j], j, y[static_cast<std::size_t>(i)]);
            r.dS(i, j) = to_ld(ds[i * c + j]);
        }
    }
    mpfr_div_ui(sum, sum, un, MPFR_RNDN);
    mpfr_num w_sq(MPFR_PREC_MIN);
    dot(w_sq, w_cols.data(), w_cols.data(), static_cast<unsigned long>(c * d));
    mpfr_mul(t, w_sq, regm, MPFR_RNDN);
    mpfr_div_2ui(t, t, 1, MPFR_RNDN);
    mpfr_add(sum, sum, t, MPFR_RNDN);
    r.loss = to_ld(sum);

    // Σ_i X_ik·dS_ij exactly (exact_sum.hpp: the p-bit dS_ij split into 64-bit pieces), rounded
    // once; then /N and + reg·W (exact at p ≥ 128) round once each.
    const split_matrix xc = split_matrix_of(X, true);  // columns of X
    const piece_matrix dsp = split_pieces(n, c, prec, [&](Eigen::Index i, Eigen::Index j) { return ds[i * c + j]; });
    parallel_blocks(d, workers, [&](Eigen::Index begin, Eigen::Index end) {
        fixed_accumulator acc;
        mpfr_num acc_t(prec), rw(prec);
        for (Eigen::Index k = begin; k < end; ++k)
            for (Eigen::Index j = 0; j < c; ++j) {
                const split_ld* x = xc.row(k);
                acc.reset(xc.range[static_cast<std::size_t>(k)], dsp.col_range[static_cast<std::size_t>(j)], dw_max_span,
                          largest_term_exponent(x, dsp, j));
                for (Eigen::Index i = 0; i < n; ++i) {
                    if (x[i].sig == 0) continue;
                    const split_ld* a = dsp.at(i, j);
                    for (Eigen::Index p = 0; p < dsp.per; ++p) acc.add(x[i], a[p]);
                }
                acc.to_mpfr_rounded(acc_t, MPFR_RNDN);
                mpfr_div_ui(acc_t, acc_t, un, MPFR_RNDN);
                mpfr_mul(rw, ws[k * c + j], regm, MPFR_RNDN);
                mpfr_add(acc_t, acc_t, rw, MPFR_RNDN);
                r.dW(k, j) = to_ld(acc_t);
            }
    });
    return r;
}

namespace detail {
namespace {

// The row-wise functions: value(row, t, j) puts output j of an evaluated row into t; an undefined
// row (NaN or +inf, or every class masked) gives NaN outputs.
template <class Value>
lmatrix row_function(const lmatrix& logits, unsigned bits, Value value) {
    check_bits(bits);
    validate_logits(logits);
    const Eigen::Index n = logits.rows(), c = logits.cols();
    lmatrix o(n, c);
    mpfr_vec z(c, ld_digits);
    row_eval row(c, bits);
    mpfr_num t(bits);
    for (Eigen::Index i = 0; i < n; ++i) {
        load_row(z, logits, i);
        if (!row.run(z, 0)) {
            o.row(i).setConstant(ld_nan);
            continue;
        }
        for (Eigen::Index j = 0; j < c; ++j) {
            value(row, t, j);
            o(i, j) = to_ld(t);
        }
    }
    return o;
}

}  // namespace
}  // namespace detail

lmatrix softmax(const lmatrix& logits, unsigned bits) {
    return detail::row_function(logits, bits,
                                [](const detail::row_eval& r, mpfr_ptr t, Eigen::Index j) { r.prob(t, j); });
}

lmatrix log_softmax(const lmatrix& logits, unsigned bits) {
    return detail::row_function(logits, bits,
                                [](const detail::row_eval& r, mpfr_ptr t, Eigen::Index j) { r.log_prob(t, j); });
}

cross_entropy_reference cross_entropy(const lmatrix& logits, const label_vector& y, unsigned bits) {
    using namespace detail;
    check_bits(bits);
    validate_cross_entropy(logits, y);
    const Eigen::Index n = logits.rows(), c = logits.cols();
    const auto un = static_cast<unsigned long>(n);
    cross_entropy_reference r;
    r.row_loss.resize(static_cast<std::size_t>(n));
    r.probs.resize(n, c);
    r.dlogits.resize(n, c);
    mpfr_vec z(c, ld_digits);
    row_eval row(c, bits);
    mpfr_num t(bits), sum(bits);
    mpfr_set_zero(sum, 1);
    bool undefined = false;
    for (Eigen::Index i = 0; i < n; ++i) {
        const auto yi = y[static_cast<std::size_t>(i)];
        load_row(z, logits, i);
        if (!row.run(z, 0)) {
            undefined = true;
            r.row_loss[static_cast<std::size_t>(i)] = ld_nan;
            r.probs.row(i).setConstant(ld_nan);
            r.dlogits.row(i).setConstant(ld_nan);
            continue;
        }
        row.loss(t, yi);
        r.row_loss[static_cast<std::size_t>(i)] = to_ld(t);
        mpfr_add(sum, sum, t, MPFR_RNDN);
        for (Eigen::Index j = 0; j < c; ++j) {
            row.prob(t, j);
            r.probs(i, j) = to_ld(t);
            row.grad(t, j, yi);
            mpfr_div_ui(t, t, un, MPFR_RNDN);
            r.dlogits(i, j) = to_ld(t);
        }
    }
    mpfr_div_ui(sum, sum, un, MPFR_RNDN);
    r.loss = undefined ? ld_nan : to_ld(sum);
    return r;
}

lmatrix softmax_backward(const lmatrix& probs, const lmatrix& dprobs, unsigned bits) {
    using namespace detail;
    check_bits(bits);
    validate_logits(probs, "probs");
    validate_same_shape(probs, dprobs, "dprobs");
    const Eigen::Index n = probs.rows(), c = probs.cols();
    lmatrix dz(n, c);
    mpfr_vec p(c, ld_digits), g(c, ld_digits);
    exact_dot exact;
    mpfr_num dot(MPFR_PREC_MIN), t(bits);
    for (Eigen::Index i = 0; i < n; ++i) {
        load_row(p, probs, i);
        load_row(g, dprobs, i);
        // Exact ⟨g, p⟩, so that g_j − ⟨g, p⟩ is rounded once even when it cancels (g ≈ const).
        exact(dot, g.ptrs(), p.ptrs(), static_cast<unsigned long>(c));
        for (Eigen::Index j = 0; j < c; ++j) {
            mpfr_sub(t, g[j], dot, MPFR_RNDN);
            mpfr_mul(t, t, p[j], MPFR_RNDN);
            dz(i, j) = to_ld(t);
        }
    }
    return dz;
}

lmatrix log_softmax_backward(const lmatrix& logprobs, const lmatrix& dlogprobs, unsigned bits) {
    using namespace detail;
    check_bits(bits);
    validate_logits(logprobs, "logprobs");
    validate_same_shape(logprobs, dlogprobs, "dlogprobs");
    const Eigen::Index n = logprobs.rows(), c = logprobs.cols();
    lmatrix dz(n, c);
    mpfr_vec o(c, ld_digits), g(c, ld_digits);
    exact_dot exact;
    mpfr_num sum(MPFR_PREC_MIN), t(bits);
    for (Eigen::Index i = 0; i < n; ++i) {
        load_row(o, logprobs, i);
        load_row(g, dlogprobs, i);
        exact(sum, g.ptrs(), nullptr, static_cast<unsigned long>(c));
        for (Eigen::Index j = 0; j < c; ++j) {
            mpfr_exp(t, o[j], MPFR_RNDN);
            mpfr_mul(t, t, sum, MPFR_RNDN);
            mpfr_sub(t, g[j], t, MPFR_RNDN);
            dz(i, j) = to_ld(t);
        }
    }
    return dz;
}

}  // namespace gradproof::reference
