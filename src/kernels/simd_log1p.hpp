// log1p_nonnegative: log1p(s) for four doubles s ≥ 0 at once (AVX2 + FMA; eight in AVX-512 builds,
// the same function body and tables), for the loss term log1p(s), s = Σ_{j≠k} exp(z_j − a), of a
// softmax row. Compiled only into the SIMD kernel libraries (kernels/kernels_simd.cpp).
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

#include "kernels/log1p_table.hpp"
#include "kernels/simd_exp.hpp"  // map_four_inplace, map_eight_inplace, outside_lanes_by

#include <immintrin.h>

#include <cmath>
#include <cstddef>

namespace gradproof::detail {

namespace simd_log1p_detail {
// The operations of log1p_lanes on four lanes (AVX2: comparisons give all-ones lanes) and on eight
// (AVX-512: comparisons give mask registers): one adapter line per intrinsic, so that the function
// itself is written once.
template <int L>
struct ops;

template <>
struct ops<4> {
    using vec = __m256d;
    using ivec = __m256i;
    using mask = __m256d;
    static vec set1(double v) { return _mm256_set1_pd(v); }
    static ivec set1_i(long long v) { return _mm256_set1_epi64x(v); }
    static vec add(vec a, vec b) { return _mm256_add_pd(a, b); }
    static vec sub(vec a, vec b) { return _mm256_sub_pd(a, b); }
    static vec mul(vec a, vec b) { return _mm256_mul_pd(a, b); }
    static vec min(vec a, vec b) { return _mm256_min_pd(a, b); }
    static vec max(vec a, vec b) { return _mm256_max_pd(a, b); }
    static vec fmadd(vec a, vec b, vec c) { return _mm256_fmadd_pd(a, b, c); }
    static vec fmsub(vec a, vec b, vec c) { return _mm256_fmsub_pd(a, b, c); }
    static vec fnmadd(vec a, vec b, vec c) { return _mm256_fnmadd_pd(a, b, c); }
    template <int P>
    static mask cmp(vec a, vec b) { return _mm256_cmp_pd(a, b, P); }
    static mask both(mask a, mask b) { return _mm256_and_pd(a, b); }
    static vec select(mask m, vec if_clear, vec if_set) { return _mm256_blendv_pd(if_clear, if_set, m); }
    static vec zero_unless(mask m, vec a) { return _mm256_and_pd(m, a); }
    static vec zero_where(mask m, vec a) { return _mm256_andnot_pd(m, a); }
    static ivec bits(vec a) { return _mm256_castpd_si256(a); }
    static vec from_bits(ivec a) { return _mm256_castsi256_pd(a); }
    template <int B>
    static ivec shr(ivec a) { return _mm256_srli_epi64(a, B); }
    template <int B>
    static ivec shl(ivec a) { return _mm256_slli_epi64(a, B); }
    static ivec and_i(ivec a, ivec b) { return _mm256_and_si256(a, b); }
    static ivec or_i(ivec a, ivec b) { return _mm256_or_si256(a, b); }
    static ivec sub_i(ivec a, ivec b) { return _mm256_sub_epi64(a, b); }
    static vec gather(const double* table, ivec j) { return _mm256_i64gather_pd(table, j, 8); }
};

#if defined(__AVX512F__)
template <>
struct ops<8> {
    using vec = __m512d;
    using ivec = __m512i;
    using mask = __mmask8;
    static vec set1(double v) { return _mm512_set1_pd(v); }
    static ivec set1_i(long long v) { return _mm512_set1_epi64(v); }
    static vec add(vec a, vec b) { return _mm512_add_pd(a, b); }
    static vec sub(vec a, vec b) { return _mm512_sub_pd(a, b); }
    static vec mul(vec a, vec b) { return _mm512_mul_pd(a, b); }
    static vec min(vec a, vec b) { return _mm512_min_pd(a, b); }
    static vec max(vec a, vec b) { return _mm512_max_pd(a, b); }
    static vec fmadd(vec a, vec b, vec c) { return _mm512_fmadd_pd(a, b, c); }
    static vec fmsub(vec a, vec b, vec c) { return _mm512_fmsub_pd(a, b, c); }
    static vec fnmadd(vec a, vec b, vec c) { return _mm512_fnmadd_pd(a, b, c); }
    template <int P>
    static mask cmp(vec a, vec b) { return _mm512_cmp_pd_mask(a, b, P); }
    static mask both(mask a, mask b) { return static_cast<mask>(a & b); }
    static vec select(mask m, vec if_clear, vec if_set) { return _mm512_mask_blend_pd(m, if_clear, if_set); }
    static vec zero_unless(mask m, vec a) { return _mm512_maskz_mov_pd(m, a); }
    static vec zero_where(mask m, vec a) { return _mm512_maskz_mov_pd(static_cast<mask>(~m), a); }
    static ivec bits(vec a) { return _mm512_castpd_si512(a); }
    static vec from_bits(ivec a) { return _mm512_castsi512_pd(a); }
    template <int B>
    static ivec shr(ivec a) { return _mm512_srli_epi64(a, B); }
    template <int B>
    static ivec shl(ivec a) { return _mm512_slli_epi64(a, B); }
    static ivec and_i(ivec a, ivec b) { return _mm512_and_si512(a, b); }
    static ivec or_i(ivec a, ivec b) { return _mm512_or_si512(a, b); }
    static ivec sub_i(ivec a, ivec b) { return _mm512_sub_epi64(a, b); }
    static vec gather(const double* table, ivec j) { return _mm512_i64gather_pd(j, table, 8); }
};
#endif

// Knuth's 2Sum: s + e = a + b exactly.
template <class O>
typename O::vec two_sum(typename O::vec a, typename O::vec b, typename O::vec& e) {
    const auto s = O::add(a, b);
    const auto bb = O::sub(s, a);
    e = O::add(O::sub(a, O::sub(s, bb)), O::sub(b, bb));
    return s;
}

// log1p of each lane of s (see the header comment), L = four or eight lanes.
template <int L>
typename ops<L>::vec log1p_lanes(typename ops<L>::vec s, const log1p_table& t) {
    using O = ops<L>;
    using V = typename O::vec;
    const V zero = O::set1(0.0), one = O::set1(1.0);
    const auto in_range = O::both(O::template cmp<_CMP_GE_OQ>(s, zero), O::template cmp<_CMP_LT_OQ>(s, O::set1(0x1p1022)));
    const V sv = O::zero_unless(in_range, s);

    const V hi = O::add(one, sv);
    const V lo = O::sub(O::min(one, sv), O::sub(hi, O::max(one, sv)));
    const auto bits = O::bits(hi);
    const auto biased = O::template shr<52>(bits);  // hi ≥ 1: no sign bit
    const auto j = O::and_i(O::template shr<52 - log1p_table::bits>(bits), O::set1_i(log1p_table::size - 1));
    const V m = O::from_bits(O::or_i(O::and_i(bits, O::set1_i(0x000fffffffffffff)), O::bits(one)));
    const V c = O::gather(t.inv.data(), j);
    const V l_hi = O::gather(t.log_hi.data(), j);
    const V l_lo = O::gather(t.log_lo.data(), j);
    // k as a double: the biased exponent (< 2^11) in the low bits of 2^52, minus 2^52 + 1023.
    const V k = O::sub(O::from_bits(O::or_i(biased, O::bits(O::set1(0x1p52)))), O::set1(0x1p52 + 1023));
    // 2^-k: biased exponent 2046 − biased (≥ 1 for hi < 2^1023).
    const V inv_scale = O::from_bits(O::template shl<52>(O::sub_i(O::set1_i(2046), biased)));

    const auto direct = O::template cmp<_CMP_LT_OQ>(hi, O::set1(1.0 + 0x1p-7));
    const V r = O::select(direct, O::fmsub(m, c, one), sv);
    const V delta = O::zero_where(direct, O::mul(O::mul(lo, c), inv_scale));

    // ln 2 = ln2_hi + ln2_lo, ln2_hi with 42 significant bits so that k·ln2_hi is exact.
    const V ln2_hi = O::set1(0x1.62e42fefa3800p-1), ln2_lo = O::set1(0x1.ef35793c76730p-45);
    V e1, e2;
    const V w = two_sum<O>(O::mul(k, ln2_hi), l_hi, e1);
    const V head = two_sum<O>(w, r, e2);

    V q = O::fmadd(r, O::set1(-1.0 / 8), O::set1(1.0 / 7));
    q = O::fmadd(r, q, O::set1(-1.0 / 6));
    q = O::fmadd(r, q, O::set1(1.0 / 5));
    q = O::fmadd(r, q, O::set1(-1.0 / 4));
    q = O::fmadd(r, q, O::set1(1.0 / 3));
    q = O::fmadd(r, q, O::set1(-0.5));
    const V tail = O::mul(O::mul(r, r), q);

    V bracket = O::fmadd(k, ln2_lo, l_lo);
    bracket = O::add(bracket, O::add(e1, e2));
    bracket = O::add(bracket, O::fnmadd(delta, r, delta));
    bracket = O::add(bracket, tail);
    V result = O::add(head, bracket);
    // ±0 as it is (the sums above would turn −0 into +0).
    result = O::select(O::template cmp<_CMP_EQ_OQ>(s, zero), result, s);

    return outside_lanes_by(in_range, s, result, [](double v) { return std::log1p(v); });
}
}  // namespace simd_log1p_detail

// log1p of each lane of s (see the header comment); t = log1p_table::get().
inline __m256d log1p_nonnegative(__m256d s, const log1p_table& t) { return simd_log1p_detail::log1p_lanes<4>(s, t); }

#if defined(__AVX512F__)
// The same for eight lanes (AVX-512 builds): one call where the four-lane function takes two.
inline __m512d log1p_nonnegative(__m512d s, const log1p_table& t) { return simd_log1p_detail::log1p_lanes<8>(s, t); }

// Eight floats through the double function, rounded once.
inline __m256 log1p_nonnegative(__m256 s, const log1p_table& t) {
    return _mm512_cvtpd_ps(log1p_nonnegative(_mm512_cvtps_pd(s), t));
}
#endif

// log1p in place over n contiguous doubles or floats (floats through double, one rounding: the
// float result is within (1 + 2^-28)·2^-24 relative, as for the float exp of kernels/simd_exp.hpp).
template <class T>
void log1p_nonnegative_inplace(T* v, std::ptrdiff_t n) {
    const log1p_table& t = log1p_table::get();
#if defined(__AVX512F__)
    map_eight_inplace(v, n, [&t](auto s) { return log1p_nonnegative(s, t); });
#else
    map_four_inplace(v, n, [&t](__m256d s) { return log1p_nonnegative(s, t); });
#endif
}

}  // namespace gradproof::detail
