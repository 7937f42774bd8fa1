// log1p_nonnegative: log1p(s) for four doubles s ≥ 0 at once (AVX2 + FMA), for the loss term
// log1p(s), s = Σ_{j≠k} exp(z_j − a), of a softmax row. Compiled only into the SIMD kernel libraries
// (impl/kernels_simd.cpp).
//
// Algorithm: a table-driven logarithm (P. T. P. Tang, "Table-driven implementation of the logarithm
// function in IEEE floating-point arithmetic", ACM TOMS 16(4), 1990) applied to 1 + s carried as
// the exact pair hi + lo, with the reduction made exact by a short reciprocal (the idea of the
// Arm Optimized Routines' log: r = fma(m, c, −1) has no rounding error when c has few bits):
//   hi + lo = 1 + s exactly (Fast2Sum of max(1, s) and min(1, s); Knuth/Dekker, Higham §4.3),
//   hi = 2^k·m, m ∈ [1, 2), j = the 7 leading fraction bits of m,
//   c_j = an 8-bit reciprocal of m's interval (c_0 = 1), r = m·c_j − 1  (exact, see below),
//   δ = fl(lo·c_j)·2^-k  (= (lo/hi)·(1 + r), to one rounding),
//   log1p(s) = k·ln 2 + L_j + log1p(r) + log1p(δ/(1 + r)),  L_j = −log c_j,
//            ≈ (k·ln2_hi + L_hi) + r + [k·ln2_lo + L_lo + r²·q(r) + (δ − δ·r)],
// with q(r) = −1/2 + r/3 − … − r⁶/8 (log1p(r) − r to degree 8), both sums k·ln2_hi + L_hi and
// (that) + r carried exactly by Knuth's 2Sum, their errors added to the bracket, and one final
// addition. Where hi < 1 + 2^-7 (then k = 0 and j = 0) r = s and δ = 0: log1p(s) = s + s²·q(s)
// directly, without forming 1 + s.
//
// Why r is exact: m is a multiple of 2^-52 and c_j of 2^-8 (8 significant bits in [1/2, 1]), so
// m·c_j − 1 is a multiple of 2^-60; the table below picks each c_j to minimise max |r| over its
// interval, which gives |r| ≤ 0.00559 for j ≥ 1 and |r| < 2^-7 for j = 0 (tests/impl/
// test_simd_log1p.cpp checks both), so r fits in 53 bits.
//
// Error analysis (u = 2^-53, RN, FMA = one rounding; y = log1p(s)):
//   • direct lanes (s < 2^-7 + 2^-53): truncation ≤ s⁹/9, relative ≤ s⁸/9·1.004 ≤ 0.014u; q by
//     Horner in FMAs (|θ| ≤ 1.02u, coefficients 1/3, 1/5, … rounded within that), r² and r²·q one
//     rounding each: ≤ 3.1u·|s²q| ≤ 3.1u·(s/2)·1.01·y ≤ 0.013u·y; fl(s + tail) rounds once (≤ u·y).
//     Total ≤ 1.027u.
//   • other lanes (hi ≥ 1 + 2^-7, so y > 0.0077; j = 0 there only with k ≥ 1, y > 0.69), relative to y:
//     the table (L_hi + L_lo from long double logl, ≤ 2^-63·L_j with L_j ≤ y + 1.01|r| ≤ 1.74y)
//     ≤ 0.002u; ln2_lo and its product (k ≤ 1021) ≤ 2^-40·u; the tail: |r²q| ≤ 1.01·r²/2 ≤ 0.0021·y
//     (|r| ≤ 0.00559 for j ≥ 1; far less for j = 0), so its error ≤ 3.1u·0.0021 ≤ 0.007u; δ − δ·r for
//     log1p(δ/(1 + r)): the dropped δ·r²/(1 + r) ≤ 1.01u·r² ≤ 0.005u·y, and δ²/2 with the roundings
//     of lo·c_j and of the FMA, ≤ 3.1u² absolute, ≤ 400u²·y; the five additions of the bracket,
//     γ_5·Σ|terms| with Σ|terms| ≤ (0.0021 + 140u)·y (the tail; δ ≤ 1.01u), ≤ 0.011u; the 2Sums are
//     exact. The final addition rounds once (≤ u·(y + the errors above)). Total ≤ 1.026u.
// So ≤ 1.03u relative in every lane of the domain — inside the k_elem·u = 2u that src/error/
// tolerance.hpp assumes of a library log1p (tests/impl/test_simd_log1p.cpp compares with MPFR).
// Domain: 0 ≤ s < 2^1022 (then hi is normal and so is 2^-k); ±0 is returned as it is, and any other
// lane (negative, NaN, +inf, huge) is recomputed by std::log1p, so the function is log1p everywhere.
#pragma once

#include "impl/log1p_table.hpp"
#include "impl/simd_exp.hpp"  // map_four_inplace, outside_lanes_by

#include <immintrin.h>

#include <cmath>
#include <cstddef>

namespace gradproof::detail {

namespace simd_log1p_detail {
// Knuth's 2Sum: s + e = a + b exactly.
inline __m256d two_sum(__m256d a, __m256d b, __m256d& e) {
    const __m256d s = _mm256_add_pd(a, b);
    const __m256d bb = _mm256_sub_pd(s, a);
    e = _mm256_add_pd(_mm256_sub_pd(a, _mm256_sub_pd(s, bb)), _mm256_sub_pd(b, bb));
    return s;
}
}  // namespace simd_log1p_detail

// log1p of each lane of s (see the header comment); t = log1p_table::get().
inline __m256d log1p_nonnegative(__m256d s, const log1p_table& t) {
    using simd_log1p_detail::two_sum;
    const __m256d zero = _mm256_setzero_pd(), one = _mm256_set1_pd(1.0);
    const __m256d in_range = _mm256_and_pd(_mm256_cmp_pd(s, zero, _CMP_GE_OQ),
                                           _mm256_cmp_pd(s, _mm256_set1_pd(0x1p1022), _CMP_LT_OQ));
    const __m256d sv = _mm256_blendv_pd(zero, s, in_range);

    const __m256d hi = _mm256_add_pd(one, sv);
    const __m256d lo = _mm256_sub_pd(_mm256_min_pd(one, sv), _mm256_sub_pd(hi, _mm256_max_pd(one, sv)));
    const __m256i bits = _mm256_castpd_si256(hi);
    const __m256i biased = _mm256_srli_epi64(bits, 52);  // hi ≥ 1: no sign bit
    const __m256i j = _mm256_and_si256(_mm256_srli_epi64(bits, 52 - log1p_table::bits),
                                       _mm256_set1_epi64x(log1p_table::size - 1));
    const __m256d m = _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi64x(0x000fffffffffffff)),
                                                          _mm256_castpd_si256(one)));
    const __m256d c = _mm256_i64gather_pd(t.inv.data(), j, 8);
    const __m256d l_hi = _mm256_i64gather_pd(t.log_hi.data(), j, 8);
    const __m256d l_lo = _mm256_i64gather_pd(t.log_lo.data(), j, 8);
    // k as a double: the biased exponent (< 2^11) in the low bits of 2^52, minus 2^52 + 1023.
    const __m256d k = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(biased, _mm256_castpd_si256(_mm256_set1_pd(0x1p52)))),
                                    _mm256_set1_pd(0x1p52 + 1023));
    // 2^-k: biased exponent 2046 − biased (≥ 1 for hi < 2^1023).
    const __m256d inv_scale = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_sub_epi64(_mm256_set1_epi64x(2046), biased), 52));

    const __m256d direct = _mm256_cmp_pd(hi, _mm256_set1_pd(1.0 + 0x1p-7), _CMP_LT_OQ);
    const __m256d r = _mm256_blendv_pd(_mm256_fmsub_pd(m, c, one), sv, direct);
    const __m256d delta = _mm256_andnot_pd(direct, _mm256_mul_pd(_mm256_mul_pd(lo, c), inv_scale));

    // ln 2 = ln2_hi + ln2_lo, ln2_hi with 42 significant bits so that k·ln2_hi is exact.
    const __m256d ln2_hi = _mm256_set1_pd(0x1.62e42fefa3800p-1), ln2_lo = _mm256_set1_pd(0x1.ef35793c76730p-45);
    __m256d e1, e2;
    const __m256d w = two_sum(_mm256_mul_pd(k, ln2_hi), l_hi, e1);
    const __m256d head = two_sum(w, r, e2);

    __m256d q = _mm256_fmadd_pd(r, _mm256_set1_pd(-1.0 / 8), _mm256_set1_pd(1.0 / 7));
    q = _mm256_fmadd_pd(r, q, _mm256_set1_pd(-1.0 / 6));
    q = _mm256_fmadd_pd(r, q, _mm256_set1_pd(1.0 / 5));
    q = _mm256_fmadd_pd(r, q, _mm256_set1_pd(-1.0 / 4));
    q = _mm256_fmadd_pd(r, q, _mm256_set1_pd(1.0 / 3));
    q = _mm256_fmadd_pd(r, q, _mm256_set1_pd(-0.5));
    const __m256d tail = _mm256_mul_pd(_mm256_mul_pd(r, r), q);

    __m256d bracket = _mm256_fmadd_pd(k, ln2_lo, l_lo);
    bracket = _mm256_add_pd(bracket, _mm256_add_pd(e1, e2));
    bracket = _mm256_add_pd(bracket, _mm256_fnmadd_pd(delta, r, delta));
    bracket = _mm256_add_pd(bracket, tail);
    __m256d result = _mm256_add_pd(head, bracket);
    // ±0 as it is (the sums above would turn −0 into +0).
    result = _mm256_blendv_pd(result, s, _mm256_cmp_pd(s, zero, _CMP_EQ_OQ));

    return outside_lanes_by(in_range, s, result, [](double v) { return std::log1p(v); });
}

// log1p in place over n contiguous doubles or floats (floats through double, one rounding: the
// float result is within (1 + 2^-28)·2^-24 relative, as for the float exp of impl/simd_exp.hpp).
template <class T>
void log1p_nonnegative_inplace(T* v, std::ptrdiff_t n) {
    const log1p_table& t = log1p_table::get();
    map_four_inplace(v, n, [&t](__m256d s) { return log1p_nonnegative(s, t); });
}

}  // namespace gradproof::detail
