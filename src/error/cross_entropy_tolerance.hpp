// Tolerances for cross-entropy with options and fused linear cross-entropy (include/gradproof/plugin.h
// states the semantics), from running error analysis — never literals.
//
// Model (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., SIAM 2002, ch. 2–3):
// fl(a op b) = (a op b)(1 + δ), |δ| ≤ u; a sum or dot product of m terms errs by ≤ γ_m·Σ|terms|,
// γ_m = m·u/(1 − m·u), in ANY order (recursive, pairwise, blocked, chunked, with or without FMA).
// First-order propagation, stage by stage, with absolute values, then the ONE safety factor
// F = tolerance_policy::safety_factor (error/tolerance.hpp) on the analysed error E.
//
// Arithmetic triple (struct arithmetic): inputs are exact binary numbers (bf16/f16 inputs are
// exact floats), so the input level contributes nothing; u_acc is the unit roundoff of the
// arithmetic (2^-24 float, 2^-53 double; bf16/f16 entry points compute in f32 or wider, plugin.h);
// u_out and out_floor describe the final rounding of every OUTPUT to its storage format.
// The options ε, s and cap are doubles: an implementation may round them to its arithmetic (u_acc
// relative each, included below).
//
// Assumptions (each one a choice an implementation must stay inside):
// A1 exp, log, log1p, tanh, expm1 err by ≤ k_elem·u_acc relative (tolerance_policy::k_elem).
// A2 the row's Σ exp is formed in at most k_acc rounding steps per term (online softmax), so its
//    relative error is σ = u·Σ_j p_j·d_j + k_elem·u + γ_{k_acc·C} (error/tolerance.hpp's row model,
//    with d_j = a − z_j ≥ 0, a = max z, so the shift a is exact up to the input perturbation).
// A3 the logsumexp and the per-class terms lse − z_c are formed SHIFT-INVARIANTLY: h_c = d_c + log S
//    (or o_c = z_c − lse from an accurate log-softmax), error u·d_c + Δlog S + u·h_c. A form that
//    cancels large logits, (a + log S) − z_c, or ε/C·(lse·Σw − Σ w_c·z_c) (Liger-Kernel's smoothing
//    term), errs by u·|a| instead and is outside the bound when |a| ≫ d_c — as tolerance.hpp already
//    rejects for the hard term: logits near 1e8 in float lose the whole loss that way.
// A4 the final outputs are rounded to nearest once (½ ulp of the output format, or the underflow
//    floor); for bf16/f16 nothing is stored in the half format before that (plugin.h). A kernel
//    that keeps logits or dlogits in bf16 between its matrix products (as Liger-Kernel's bf16
//    fused path does) is outside the contract and is expected to fail.
// A5 accumulation underflow: an intermediate probability may be flushed to zero (SIMD exp
//    kernels do): η_acc = the smallest normal number of the accumulation format (FLT_MIN for
//    u_acc ≥ 2^-24, DBL_MIN for u_acc ≥ 2^-53) absolute on every p_j.
//
// Stages, per row i that is neither ignored nor undefined (u = u_acc):
// 1. Soft cap z = cap·tanh(x/cap): q = x/cap rounds with the rounded cap (2u|q|), tanh adds
//    k_elem·u·|t|, the product with the rounded cap 2u|z|; tanh′ = 1 − t². With an input error
//    a_j on x (fused logits, stage 7): δz_j = (1 − t_j²)·(2u|x_j| + a_j) + k_elem·u·cap·|t_j| + 2u|z_j|.
//    Without a cap δz_j = a_j (0 for given logits). The chain factor c_j = 1 − t_j² carries
//    Δc_j = 2|t_j|·Δt_j + 2u with Δt_j = (1 − t_j²)(2u|q_j| + a_j/cap) + k_elem·u·|t_j| (1 − t·t in
//    the arithmetic is accepted: its error is absolute, u, where sech² would be relative).
// 2. Perturbed logits propagate as in tolerance.hpp's "Logits computed as scores": with
//    A = max_j δz_j and P = Σ_j p_j δz_j, Δp_j gets p_j·expm1(δz_j + A), lse gets P + A²/2 (Hoeffding),
//    h_c gets P + δz_c + A²/2.
//    Δp_j = p_j·(u·d_j + k_elem·u + σ + u) + p_j·expm1(δz_j + A) + η_acc;
//    Δlog S = σ/(1 − σ) + k_elem·u·log S;  Δlse = Δlog S + u·|lse| + P + A²/2;
//    E_c = Δh_c = u·d_c + Δlog S + u·h_c + P + δz_c + A²/2.
// 3. Hard term (1 − ε)·w_y·h_y: (1 − ε)·w_y·E_y + 4u·w_y·h_y (1 − ε from a rounded ε is off by
//    ≤ 2u absolutely, then two products); with ε > 0 γ_{C+4}·w_y·h_y instead, since the hard
//    term may be folded into the smoothing sum as the label's target mass.
//    Smoothing term (ε/C)·Σ_c w_c·h_c, a length-C weighted sum of nonnegative terms:
//    (ε/C)·(Σ_c w_c·E_c + γ_{C+4}·Σ_c w_c·h_c) (the sum, the product with w_c, ε/C rounded twice).
//    Soft targets Σ_c w_c·q'_c·h_c, q' = (1 − ε)·q + ε/C: Σ_c w_c·q'_c·E_c + γ_{C+6}·Σ_c w_c·q'_c·h_c
//    + 2u·Σ_c w_c·q_c·h_c. ce_i adds one rounding: u·ce_i.
//    z-loss s·lse²: 2·s·|lse|·Δlse + 3u·zl_i.
// 4. Reductions (every term ≥ 0): none: Δce_i + Δzl_i + u·loss_i. sum: Σ(Δce_i + Δzl_i) + γ_{N+1}·Σ(ce_i + zl_i).
//    mean: Σce/W + Σzl/K with W a rounded sum of N weights (relative γ_N; exact for soft targets
//    and unweighted, but not assumed so) and one division each:
//    ΣΔce_i/W + (γ_{N+1} + γ_N + u)·Σce/W + ΣΔzl_i/K + (γ_{N+1} + u)·Σzl/K + u·loss.
// 5. Gradient w.r.t. z, hard labels: g_j = (1 − ε)·w_y·(p_j − δ_jy) + (ε/C)·(Σw·p_j − w_j):
//    Δg_j = ((1 − ε)·w_y + (ε/C)·Σw)·Δp_j + (ε/C)·γ_C·Σw·p_j + γ_4·M_j,
//    M_j = w_y·|p_j − δ_jy| + (ε/C)·(Σw·p_j + w_j) (the magnitudes of the terms; p_y − 1 formed
//    from a rounded p_y costs Δp_y + u·(1 − p_y), which this includes).
//    Soft targets g_j = B·p_j − w_j·q'_j, B = Σ w·q': Δg_j = B·Δp_j + γ_{C+6}·(B·p_j + w_j·q'_j).
//    z-loss 2·s·lse·p_j: 2·s·(|lse|·Δp_j + p_j·Δlse) + 4u·|2·s·lse·p_j|.
//    Upstream scaling G_j = κ_ce·g_j + κ_zl·zg_j with κ = dloss_i (none), dloss (sum), dloss/W and
//    dloss/K (mean; relative γ_N + u and u): |κ_ce|·(Δg_j + ρ_ce·|g_j|) + |κ_zl|·(Δzg_j + ρ_zl·|zg_j|)
//    + 2u·(|κ_ce·g_j| + |κ_zl·zg_j|). With a cap: Δdl_j = ΔG_j·c_j + |G_j|·Δc_j + u·|dl_j|.
// 6. Output: tolerance = F·E + r_out(|y| + F·E), r_out(x) = max(u_out·2^⌊log₂ x⌋, out_floor):
//    half an ulp of the output format at the magnitude the computed value can reach — exact, not
//    first order, so outside F. (|RN(y′) − y| ≤ ½ulp(y′) + |y′ − y|, |y′| ≤ |y| + E.) When the
//    output format is narrower than the arithmetic, E also holds u_acc·|y| for the last operation.
// 7. Fused: logits l = H·Wᵀ + b by a length-d dot product plus the bias: a_ij = γ_{d+1}·(|H||W|ᵀ + |b|)_ij,
//    entering stage 1 as the input error. dlogits stay in the arithmetic (never rounded to half):
//    dhidden = dl·W: Δdl·|W| + γ_{v+2}·|dl|·|W|; dweight = dlᵀ·H: Δdlᵀ·|H| + γ_{n+2}·|dl|ᵀ·|H|;
//    dbias = Σ_i dl_ij: Σ_i Δdl_ij + γ_{n+2}·Σ_i |dl_ij| (the + 2: a mean's 1/W may be applied to
//    the products instead of dlogits, and chunked kernels accumulate partial products).
// Non-finite reference values (a masked label's +inf loss, undefined rows, the mean of a batch
// with every row ignored) get tolerance 0: the output must equal them (for the all-ignored mean,
// plugin.h also accepts 0; the caller checks that). Ignored rows get 0: their outputs are exact 0.
//
// What this can and cannot see. At ordinary inputs (C up to ~10³, moderate logits) F·E is well
// below half a bf16 ulp of the outputs, so the tolerance is ½ ulp + a little: a bf16/f16 output
// TRUNCATED instead of rounded to nearest is off by more than that whenever the discarded part
// exceeds ½ ulp + F·E, i.e. in about a quarter to a half of the elements — visible in any matrix
// of outputs, not in every single value. At vocabulary sizes (C ~ 5·10⁴) the worst-case γ_{4C}
// of f32 accumulation reaches a bf16 ulp and truncation is no longer distinguishable from the
// accumulation error the model must allow (the bound is a worst case; typical errors are ~√C·u).
// It cannot see a wrong convention that agrees numerically on the case at hand (e.g. the
// alternative smoothing weighting when all class weights are equal).
#pragma once

#include "core/cross_entropy_options.hpp"
#include "core/half.hpp"
#include "error/tolerance.hpp"
#include "reference/cross_entropy_options.hpp"

#include <cmath>
#include <limits>
#include <vector>

namespace gradproof {

struct arithmetic {
    long double u_acc;      // unit roundoff of the arithmetic (accumulation)
    long double u_out;      // unit roundoff of the output format
    long double out_floor;  // absolute error allowed by the output format's underflow: half its
                            // subnormal spacing, or its smallest normal when outputs may be
                            // flushed as in tolerance.hpp's η
};

// float: 2^-24 everywhere; double: 2^-53. Outputs may be flushed (η = smallest normal, as tolerance.hpp).
template <class T>
arithmetic native_arithmetic() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
    const long double u = std::ldexp(1.0L, -std::numeric_limits<T>::digits);
    return {u, u, static_cast<long double>(std::numeric_limits<T>::min())};
}

// f32 accumulation (2^-24), output rounded to nearest bf16 (2^-8) or f16 (2^-11) with gradual
// underflow (plugin.h: rounded once, to nearest), so the floor is half the subnormal spacing.
arithmetic half_arithmetic(half_format f);

struct ce_options_tolerances {
    std::vector<long double> loss;  // as the reference's loss
    lmatrix dlogits;
};

ce_options_tolerances cross_entropy_options_tolerance(const arithmetic& a, const lmatrix& logits,
                                                      const label_vector& labels, const ce_options& o,
                                                      const std::vector<long double>& class_weights,
                                                      const lmatrix& soft_targets,
                                                      const std::vector<long double>& dloss,
                                                      const reference::ce_options_reference& ref);

struct fused_ce_tolerances {
    std::vector<long double> loss;
    lmatrix dhidden, dweight;
    std::vector<long double> dbias;
};

// hidden and weight in long double or double (S): only |H| and |W| are needed, in double, so an
// LM-head shape need not be copied to long double.
template <class S>
fused_ce_tolerances fused_linear_cross_entropy_tolerance(const arithmetic& a, const matrix<S>& hidden,
                                                         const matrix<S>& weight, const std::vector<long double>& bias,
                                                         const label_vector& labels, const ce_options& o,
                                                         const std::vector<long double>& class_weights,
                                                         const std::vector<long double>& dloss,
                                                         const reference::fused_ce_reference& ref);

namespace detail {
// r_out(x): half an ulp of the output format at magnitude x, at least out_floor (stage 6).
long double output_rounding(const arithmetic& a, long double x);
}  // namespace detail

}  // namespace gradproof
