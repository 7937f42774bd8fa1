// Enclosures of products of double matrices, A·B ∈ [mid − rad, mid + rad] element by element,
// from GEMMs that do not round (Ozaki's error-free splitting), for certifications at shapes where
// exact superaccumulator products would take hours (bench/certify_fused.hpp).
//
// Error analysis (u = 2^-53, u' = 2^-64 for long double; T. Ozaki, T. Ogita, S. Oishi, S. M. Rump,
// "Error-free transformations of matrix multiplication by using fast routines of matrix
// multiplication and its applications", Numer. Algorithms 59(1), 2012, 95–118):
// * Splitting. Row i of A has max_l |a_il| < 2^e_i (frexp). Slice t = 1..s of the row lies on the
//   grid q_it = 2^(e_i − t·β): A_t = q·nearbyint(R/q), then R ← R − A_t, R starting at A. Both are
//   exact: R/q and N·q are scalings by powers of two (no underflow, checked below), and R − A_t is a
//   multiple of ulp(R) of magnitude ≤ q/2. Every slice entry is N·q_it with |N| ≤ 2^β (|R/q| < 2^β
//   for t = 1, ≤ 2^(β−1) after), and after s slices |R_il| ≤ q_is/2. B's columns likewise
//   (exponents f_j, grids r_jt).
// * Products. A GEMM of two slices multiplies N·q by N'·r: every product and every partial sum is
//   an integer multiple of q·r below k·2^(2β)·q·r ≤ 2^53·q·r for β = ⌊(53 − ⌈log₂ k⌉)/2⌋, so it is
//   exact in any summation order, with or without FMA — provided q·r stays normal
//   (e_i − s_A·β + f_j − s_B·β ≥ −1021) and k·2^(e_i + f_j) stays finite (e_i + f_j + ⌈log₂ k⌉ ≤
//   1022), and the splitting constant 1.5·2^(e − β + 52) is finite. When any fails, the product falls back to one rounded GEMM with Higham's a-priori
//   bound γ_k·|A|·|B| ("Accuracy and Stability of Numerical Algorithms", 2nd ed., §3.5), |A|·|B|
//   itself a GEMM of nonnegative terms (≤ its computed value·(1 + 2γ_k)).
// * Truncation. A·B − A'·B' with A' = Σ_t A_t, B' = Σ_t B_t equals R_A·B + A'·R_B, so its
//   magnitude is ≤ (q_is/2)·Σ_l |b_lj| + (r_js/2)·Σ_l |a'_il|, with Σ|a'| ≤ Σ|a| + k·q_is/2.
// * Summation. The s_A·s_B exact products are added in long double: error ≤ γ'_m·Σ|P|, m = s_A·s_B
//   (Higham §4.2); mid = RN_double(sum) adds |sum − mid|, which long double holds exactly.
// rad is the sum of these bounds, each computed in long double with its few roundings covered by a
// factor (1 + 2^-58), rounded up to double. Zero rows and columns give exact zeros.
#pragma once

#include "core/matrix.hpp"

#include <cmath>
#include <limits>

namespace gradproof::reference {

// The double just above x ≥ 0 (x computed in long double): a valid upper bound on x, for the
// radii of enclosures built from long double bounds.
inline double round_up(long double x) {
    if (x == 0) return 0;
    return std::nextafter(static_cast<double>(x), std::numeric_limits<double>::infinity());
}

struct product_enclosure {
    matrix<double> mid, rad;  // A·B ∈ [mid − rad, mid + rad]
    bool error_free = true;   // false: the a-priori fallback was used
};

// A m×k, B k×p, finite (not checked: callers validate their inputs). slices_a, slices_b ≥ 1 (the
// truncation bound falls as 2^(−s·β)); threads: 0 = all hardware threads.
product_enclosure enclose_product(const matrix<double>& A, const matrix<double>& B, int slices_a, int slices_b,
                                  unsigned threads = 0);

// The fallback on its own: one rounded GEMM, rad = γ_k·|A|·|B| (a GEMM, the same one when A, B ≥ 0)
// with its own error covered;
// ≈ k·u relative to |A|·|B|, resolving products of float data but not double ones. Cheaper by the
// slice products (s_A·s_B GEMMs against 2).
product_enclosure enclose_product_a_priori(const matrix<double>& A, const matrix<double>& B, unsigned threads = 0);

}  // namespace gradproof::reference
