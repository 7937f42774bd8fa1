// Tolerances from running error analysis — never literals.
//
// Model (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., SIAM 2002, ch. 2–3):
// fl(a op b) = (a op b)(1 + δ), |δ| ≤ u; a sum or dot product of m nonzero terms has error
// ≤ γ_m·Σ|terms|, γ_m = m·u/(1 − m·u), in ANY summation order (recursive, pairwise, blocked SIMD,
// with or without FMA). u = 2^-24 (float), 2^-53 (double).
//
// Every bound below is computed from the case's own data (inputs, and the reference values of p,
// ℓ, dS) and then multiplied by ONE safety factor, tolerance_policy::safety_factor.
//
// Row of exact logits z (length C), a = max z, d_j = a − z_j ≥ 0, p = softmax(z), S = Σ exp(−d_j):
//   • computing d_j rounds once: relative error u·d_j on exp(−d_j);
//   • exp/log/log1p from a library: ≤ k_elem·u relative (glibc's are < 1 ulp = 2u; the SIMD
//     kernels' own exp and log1p are proven ≤ 1.19u and ≤ 1.03u, kernels/simd_exp.hpp, simd_log1p.hpp);
//   • summing the C weights: each term passes through at most k_acc rounding steps in the most
//     roundabout accepted scheme (online softmax: rescale exp, multiply, add), so γ_{k_acc·C}.
//   ⇒ σ = u·Σ_j p_j d_j + k_elem·u + γ_{k_acc·C}          (relative error of S)
//   loss row   ℓ = d_y + log S:   Δℓ ≤ u·d_y + σ/(1−σ) + k_elem·u·log S + u·ℓ
//   softmax    p_j = e_j / S:     Δp_j ≤ p_j·(u·d_j + k_elem·u + σ + u) + η
//   log-softmax o_j = −d_j − log S: Δo_j ≤ u·d_j + σ/(1−σ) + k_elem·u·log S + u·|o_j|
// η = the smallest normal number of T: an implementation may flush a subnormal probability
// (exp below the normal range, as SIMD exp kernels do) without being wrong normwise.
// Note u·d_y, not u·|a|: forming a − z_y first is what keeps ℓ = log 2 for logits (1e16, 1e16);
// an implementation computing z_y − (a + log S) is outside this bound and rightly fails.
//
// Logits computed as scores S = X·W carry an error a_ij ≤ γ_{m}·(|X||W|)_ij, m = number of
// nonzero products in the dot product (minus one when every product is exact). Propagated
// rigorously through p_j ∝ exp(s_j): a relative factor expm1(a_ij + A_i), A_i = max_l a_il;
// through ℓ: Σ_l (p_l + δ_{l,y}) a_il + A_i²/2 (Hoeffding's lemma bounds the curvature of lse).
//
// Reductions: L = mean ℓ_i + ½reg‖W‖²; dW = Xᵀ·dS/N + reg·W; each adds γ_{N+1} on the sums of
// magnitudes and one rounding per final operation — for dW γ_{N+2} on Σ|X_ik·dS_ij|/N + |reg·W_kj|,
// so that its N + 1 terms may be added in any order, reg·W first or last, and 1/N applied as a
// division or as a product with the rounded fl(1/N).
//
// Componentwise level (stricter, reported separately): in addition to the normwise bound above,
// |Δy| ≤ F·(k_elem + 2 + κ)·u·|y|, where κ = Σ_i |z_i·∂y/∂z_i| / |y| is the componentwise
// condition number with respect to relative perturbations of the inputs (Higham §7.2). A tiny
// output (log_softmax([0, −40])[0] = −4.2e−18, ℓ ≈ 1e−18 when p_y ≈ 1) must then be accurate
// to a few ULPs of itself, which needs log1p (Blanchard, Higham & Higham, IMA J. Numer. Anal.
// 41(4), 2021).
#pragma once

#include "core/matrix.hpp"
#include "reference/point.hpp"

#include <vector>

namespace gradproof {

struct tolerance_policy {
    // The one safety factor: covers second-order terms dropped in the first-order propagation
    // of rounding errors and the constants of library functions not analysed individually.
    static constexpr long double safety_factor = 2;
    // Library exp/log/log1p error, in units of u (1 ulp ≤ 2u).
    static constexpr long double k_elem = 2;
    // Rounding steps per summed term in the most roundabout accepted summation (online softmax).
    static constexpr long double k_acc = 4;
};

using lmatrix = reference::lmatrix;

// γ_m for unit roundoff u.
long double gamma(long double m, long double u);

// Per-element tolerances (absolute) for the outputs of each entry point, for scalar type T.
template <class T>
struct softmax_tolerances {
    lmatrix probs;                   // normwise
    lmatrix log_probs;               // normwise
    lmatrix log_probs_componentwise; // ≤ normwise
};

template <class T>
struct loss_tolerances {
    long double loss = 0;
    long double loss_componentwise = 0;
    std::vector<long double> row_loss;
    lmatrix dS;      // of softmax − onehot (also dlogits·N)
    lmatrix dlogits; // of (softmax − onehot)/N, cross-entropy's output
    lmatrix dW;      // empty for logit-level cross-entropy
};

// Row-wise functions at exact logits z with the reference probabilities p.
template <class T>
softmax_tolerances<T> softmax_tolerance(const lmatrix& z, const lmatrix& p);

// cross_entropy at exact logits z (ref: reference::cross_entropy of z).
template <class T>
loss_tolerances<T> cross_entropy_tolerance(const lmatrix& z, const label_vector& y,
                                           const reference::cross_entropy_reference& ref);

// softmax_loss at exact W, X (ref: reference::softmax_loss).
template <class T>
loss_tolerances<T> softmax_loss_tolerance(const lmatrix& W, const lmatrix& X, const label_vector& y, long double reg,
                                          const reference::loss_reference& ref);

// Backward functions at the given exact inputs.
template <class T>
lmatrix softmax_backward_tolerance(const lmatrix& p, const lmatrix& g, const lmatrix& exact);
template <class T>
lmatrix log_softmax_backward_tolerance(const lmatrix& o, const lmatrix& g, const lmatrix& exact);

}  // namespace gradproof
