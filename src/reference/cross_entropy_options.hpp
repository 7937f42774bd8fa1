// Exact references for cross-entropy with options and fused linear cross-entropy (the semantics of
// include/gradproof/plugin.h, "Cross-entropy with options" and "Fused linear cross-entropy"),
// evaluated in MPFR at p = `bits` (≥ 64; default 128) from exact binary inputs and rounded to the
// nearest long double; and a certified form of the former in MPFI, rounded outward.
//
// Error analysis of the point reference (u = 2^-p, every MPFR operation correctly rounded; the
// row algorithm is point.cpp's, Blanchard, Higham & Higham, IMA J. Numer. Anal. 41(4), 2021):
// * Inputs (logits, weights, soft targets, dloss, hidden, weight, bias, and ε, s, cap, which are
//   doubles) are held exactly. Fused logits H·Wᵀ + b are formed EXACTLY (exact_sum.hpp's integer
//   superaccumulator plus one exact addition), never in long double: rounding them would leave an
//   absolute error u·|logit| in every shifted logit, i.e. a relative error in every probability.
// * Soft cap: q = x/cap, t = tanh q, z = cap·t round once each: |Δz| ≤ 3u·cap·… ≤ 4u·cap absolute
//   (|t| ≤ 1, tanh′ ≤ 1, |q|·(1 − t²) ≤ 1). Its chain factor 1 − t² is computed as sech²(q), relative
//   error ≤ 3u (1 − t·t would lose every digit where |t| ≈ 1). Without a cap z = x exactly.
// * Row: a = z_k with k = argmax x (tanh is increasing, so the argmax of x is that of z);
//   d_j = z_j − a (≤ 0, one rounding), e_j = exp(d_j), S = Σ_{j≠k} e_j, L = log1p(S), lse = a + L,
//   p_j = e_j/(1 + S), h_c = lse − z_c = L − d_c ≥ 0 (terms of one sign: no cancellation).
//   As in point.cpp each of p_j, h_c is within ε_row = (C + max|d_j| + 4)·u relative plus, with a
//   cap, the absolute 8u·cap carried by d_j (≤ 2^-100 for cap ≤ 2^20 at p = 128).
// * ce_i sums nonnegative terms w·q·h: relative (C + 6)·u + ε_row. zl_i = s·lse²: 3u + 2·Δlse/|lse|.
// * Gradient w.r.t. z: hard labels (1−ε)·w_y·(p_j − δ_jy) + (ε/C)·(Σw·p_j − w_j), with p_y − 1 =
//   −S/(1 + S) when y = k (no cancellation when ε = 0); soft targets B·p_j − w_j·q'_j, B = Σ w·q';
//   z-loss 2·s·lse·p_j. With ε > 0 or soft targets the terms may cancel, so the gradient is accurate
//   normwise: (C + 8)·u·(the sum of the magnitudes of its terms), then × dloss / divisor and the
//   chain factor (3u more). The mean's divisors W = Σ w[y_i] (exact) and K are exact.
// * Fused: dhidden = dlogits·W, dweight = dlogitsᵀ·H are summed exactly from the p-bit dlogits
//   (exact_sum.hpp, grid capped 1024 bits below the largest term) and rounded once; dbias sums
//   exactly. So each carries only dlogits' own normwise error, ≤ 2^-100 relative to |dlogits|·|W|
//   (resp. |dlogits|ᵀ·|H|, Σ|dlogits|) at p = 128.
// Every output is then rounded to nearest long double (½ ulp, 2^-64 relative).
//
// The certified form evaluates the same formulas in MPFI (every operation encloses the exact
// result of its interval arguments, so by induction the final intervals contain the exact value)
// and rounds lo down and hi up to long double; see interval.cpp for why the shift and the
// log1p / −S/(1+S) forms only affect the width.
//
// Conventions (the points plugin.h leaves to the implementation): a term whose coefficient is
// exactly 0 (w[c] = 0, q'_c = 0, ε = 0, s = 0) is absent, so a masked (−inf) class with weight 0
// contributes 0, not 0·∞; a masked class with a nonzero coefficient gives +inf. −inf logits are
// masked classes only without a cap (cap·tanh(−inf) = −cap, with chain factor 0). A row holding
// NaN or +inf, or (without a cap) every class masked, is undefined: its outputs are NaN and so is
// a sum/mean loss (not ignored rows: an ignored row is never read). Mean with every row ignored:
// loss NaN (0/0, PyTorch's choice), every dlogits 0. Mean with K > 0 but W = 0 (every counted
// label has weight 0): the ce part is divided by 0 as IEEE does (inf or NaN).
//
// Raw MPFR/MPFI with explicit precisions, not mp_real/mp_interval, for point.cpp's reasons: the
// exact stages need per-number precisions, Boost 1.74's default precision is process-wide (the
// rows run on several threads), and in-place C calls avoid an allocation per operation.
#pragma once

#include "core/cross_entropy_options.hpp"
#include "reference/interval.hpp"
#include "reference/point.hpp"

#include <vector>

namespace gradproof::reference {

struct ce_options_reference {
    std::vector<long double> loss;               // n values for reduction none, else 1 (NaN for mean when every row is ignored)
    lmatrix dlogits;                             // n×c, ∂(Σ_k dloss[k]·loss[k])/∂logits (0 rows for ignored rows)
    lmatrix z;                                   // logits after soft-capping
    lmatrix probs;                               // softmax(z)
    std::vector<long double> lse;                // per row
    std::vector<long double> row_ce, row_zloss;  // per row (0 when ignored)
    long double ce_divisor = 1, z_divisor = 1;   // mean's W and K (1 for none/sum)
    bool all_ignored = false;
};

// Throws std::invalid_argument whose message starts with the argument's name: logits (n = 0,
// c = 0), labels (size ≠ n when hard; outside [0, c) and not ignored), class_weights (size ≠ c,
// negative or non-finite), soft_targets (shape ≠ n×c, negative or non-finite), label_smoothing
// (outside [0, 1]), lse_square_scale (< 0 or non-finite), softcap (< 0 or non-finite),
// ignore_index (with soft targets), dloss (size ≠ n for none / 1 otherwise, or non-finite), bits
// (< 64). Labels are not read with soft targets (they may be empty).
// threads: workers over rows and the exact stages (0 = all hardware threads; small inputs run on
// the calling thread); the result does not depend on it, bit for bit.
ce_options_reference cross_entropy_with_options(const lmatrix& logits, const label_vector& labels, const ce_options& o,
                                                const std::vector<long double>& class_weights,
                                                const lmatrix& soft_targets, const std::vector<long double>& dloss,
                                                unsigned bits = default_bits, unsigned threads = 0);

template <class T>
std::vector<long double> widen(const std::vector<T>& v) {
    return std::vector<long double>(v.begin(), v.end());
}

template <class T>
ce_options_reference cross_entropy_with_options(const ce_ex_input<T>& in, unsigned bits = default_bits) {
    return cross_entropy_with_options(convert<long double>(in.logits), in.labels, in.options, widen(in.class_weights),
                                      convert<long double>(in.soft_targets), widen(in.dloss), bits);
}

struct fused_ce_reference {
    ce_options_reference ce;
    lmatrix logits;  // H·Wᵀ + b exact, rounded to long double
    lmatrix dhidden, dweight;
    std::vector<long double> dbias;  // v values (empty without a bias)
};

// hidden n×d, weight v×d, bias v values or empty. Validation as above plus hidden (n = 0, d = 0,
// non-finite), weight (v = 0, columns ≠ d, non-finite), bias (size, non-finite); soft targets
// do not exist here.
fused_ce_reference fused_linear_cross_entropy(const lmatrix& hidden, const lmatrix& weight,
                                              const std::vector<long double>& bias, const label_vector& labels,
                                              const ce_options& o, const std::vector<long double>& class_weights,
                                              const std::vector<long double>& dloss, unsigned bits = default_bits,
                                              unsigned threads = 0);

namespace detail {
// f called with the arguments of a fused input widened to long double (exact), in the order of
// the long double overloads here.
template <class T, class F>
auto with_widened_fused_arguments(const fused_ce_input<T>& in, F&& f) {
    return f(convert<long double>(in.hidden), convert<long double>(in.weight),
             in.has_bias ? widen(in.bias) : std::vector<long double>{}, in.labels, in.options, widen(in.class_weights),
             widen(in.dloss));
}
}  // namespace detail

template <class T>
fused_ce_reference fused_linear_cross_entropy(const fused_ce_input<T>& in, unsigned bits = default_bits) {
    return detail::with_widened_fused_arguments(in, [&](const auto&... a) { return fused_linear_cross_entropy(a..., bits); });
}

struct certified_ce_options {
    std::vector<enclosure> loss;  // as ce_options_reference::loss
    interval_matrix dlogits;
    bool all_ignored = false;
};

// Enclosures of the exact values (MPFI at `bits`, rounded outward to long double). Same arguments,
// validation and conventions as cross_entropy_with_options.
certified_ce_options certify_cross_entropy_with_options(const lmatrix& logits, const label_vector& labels,
                                                        const ce_options& o,
                                                        const std::vector<long double>& class_weights,
                                                        const lmatrix& soft_targets,
                                                        const std::vector<long double>& dloss,
                                                        unsigned bits = default_bits, unsigned threads = 0);

struct certified_fused_ce {
    certified_ce_options ce;          // loss and dlogits of the exact logits H·Wᵀ + b
    interval_matrix dhidden, dweight;  // n×d, v×d
    std::vector<enclosure> dbias;     // v values (empty without a bias)
};

// Enclosures of the exact results of fused linear cross-entropy: the exact logits (as
// fused_linear_cross_entropy), the certified rows of certify_cross_entropy_with_options on them,
// then dhidden = G·W, dweight = Gᵀ·H and dbias = Σ_i G_ij from the dlogits' enclosures [lo, hi]:
// for w ≥ 0, w·lo ≤ w·g ≤ w·hi (swapped for w < 0), so two exact sums (exact_sum.hpp) rounded
// outward bound each entry. Same arguments and validation as fused_linear_cross_entropy; a NaN or
// infinite dlogit (the mean's W = 0) makes every product's enclosure NaN.
certified_fused_ce certify_fused_linear_cross_entropy(const lmatrix& hidden, const lmatrix& weight,
                                                      const std::vector<long double>& bias, const label_vector& labels,
                                                      const ce_options& o, const std::vector<long double>& class_weights,
                                                      const std::vector<long double>& dloss, unsigned bits = default_bits,
                                                      unsigned threads = 0);

template <class T>
certified_fused_ce certify_fused_linear_cross_entropy(const fused_ce_input<T>& in, unsigned bits = default_bits) {
    return detail::with_widened_fused_arguments(
        in, [&](const auto&... a) { return certify_fused_linear_cross_entropy(a..., bits); });
}

// Enclosures when each logit is known only to lie within [logits − radius, logits + radius] (as a
// product H·Wᵀ + b rounded in double with an a-priori error bound; bench/certify_fused.hpp): the
// certified form above with every logit (and, with a cap, every x/cap) widened by its radius,
// outward, before anything else; so the enclosures hold the exact values at every logit matrix
// within the radii, the true one included. exp is evaluated in double with certified bounds
// (cross_entropy_options.cpp states them): ≈ 10⁻¹⁵ relative, far below any radius a rounded
// product carries, and 30× faster than MPFI's. midpoints (optional) receives the enclosures'
// midpoints (z, probs, lse, row terms, dlogits, loss and the divisors) as the approximate point
// reference the tolerance model needs. Hard labels only; validation as above, plus radius (shape,
// negative or non-finite values).
certified_ce_options certify_cross_entropy_with_options(const matrix<double>& logits, const matrix<double>& radius,
                                                        const label_vector& labels, const ce_options& o,
                                                        const std::vector<long double>& class_weights,
                                                        const std::vector<long double>& dloss, unsigned bits = 64,
                                                        unsigned threads = 0, ce_options_reference* midpoints = nullptr);

}  // namespace gradproof::reference
