// exp_nonpositive: exp(x) for four doubles at once (AVX2 + FMA; eight in AVX-512 builds, see
// below), for the softmax weights exp(z_j − a) with a = max z, whose arguments are ≤ 0. Compiled
// only into the SIMD kernel libraries (kernels/kernels_simd.cpp).
//
// Algorithm: Tang's table-driven reduction (P. T. P. Tang, "Table-driven implementation of the
// exponential function in IEEE floating-point arithmetic", ACM TOMS 15(2), 1989), with N = 128:
//   k = round(x·N/ln 2),  r = x − k·(ln 2/N)  (|r| ≤ ln 2/256 < 0.00271),
//   exp(x) = 2^⌊k/N⌋ · 2^{j/N} · exp(r),  j = k mod N,
//   2^{j/N} = T_hi + T_lo (a double-double table), exp(r) − 1 ≈ p(r) = r + r²/2 + r³/6 + r⁴/24 + r⁵/120,
//   result = 2^⌊k/N⌋ · (T_hi + fma(T_hi, p, T_lo)).
//
// Error analysis (standard model, FMA = one rounding; u = 2^-53), relative to exp(x):
//   • r: two FMAs (x − k·c_hi, then − k·c_lo, c_hi + c_lo = ln 2/N to 2^-106 relative), each
//     rounding once: |Δr| ≤ 2u·|r| + |k|·2^-106 ≤ 0.0055u, which is the relative error it causes;
//   • p(r): Taylor truncation |r|⁶/720·1.01 ≤ 5.5e-19 ≈ 0.005u; Horner in FMAs, |p| ≤ 0.0028, so
//     its rounding errors are ≤ 3u·|p| ≤ 0.009u;
//   • the table: T_hi + T_lo is 2^{j/N} from long double exp2l (relative error ≤ 2^-63 ≈ 0.001u),
//     and the dropped product T_lo·p is ≤ u·0.0028;
//   • fma(T_hi, p, T_lo) rounds once (≤ u·0.0029 relative to the result), the final addition
//     T_hi + t rounds once (≤ u), and the power of two is exact in the normal range.
// Total ≤ (1 + 0.025)·u < 2u = tolerance_policy::k_elem·u, the bound error/tolerance.hpp assumes of
// a library exp (tests/impl/test_simd_exp.cpp compares against MPFR).
// Domain: lanes with −708.39 ≤ x ≤ 0 take the vector path (the result is then a normal number);
// any other lane (−inf for a masked class, NaN, a subnormal result, x > 0) is recomputed by
// std::exp, so the function is exp everywhere.
//
// AVX-512 builds: eight doubles at once with N = 16, so that the table is four vector registers
// and the lookups are two-source permutes (vpermt2pd) instead of gathers, which are microcoded
// and slow on AMD Zen (at (8, 16, 4) in double the small kernel went 150 → 134 ns). With
// N = 16, |r| ≤ ln 2/32 < 0.02167 and p(r) goes to degree 7. Error analysis, as above:
//   • r: ≤ 2u·|r| + |k|·2^-106 ≤ 0.0434u;
//   • p(r): truncation |r|⁸/8!·1.03 ≤ 1.25e-18 ≤ 0.012u; Horner rounding ≤ 3u·|p|, |p| ≤ 0.0220,
//     ≤ 0.066u;
//   • the table: hi + lo is 2^{j/16} rounded from 300-bit MPFR (relative error ≤ 2^-104), the
//     dropped T_lo·p ≤ u·0.0220;
//   • fma(T_hi, p, T_lo) ≤ u·0.0225 (relative to the result ≥ 0.978·T_hi), the final addition ≤ u.
// Total ≤ 1.19u < 2u (the test checks ≤ 1.19u in that build). The float bound below still holds:
// 1.19·2^-53 adds less than 2^-28 of a float ulp.
#pragma once

#include "kernels/exp_table.hpp"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace gradproof::detail {

// rv[l] = f(xv[l]) for the lanes l < L whose bit of fast is clear.
template <int L, class F>
[[gnu::noinline]] void recompute_lanes(unsigned fast, const double* xv, double* rv, F f) {
    for (int l = 0; l < L; ++l)
        if (((fast >> l) & 1) == 0) rv[l] = f(xv[l]);
}

// result, with the lanes outside `in_range` (rare: the vector functions' domains cover their use)
// replaced by f(x) computed one at a time.
template <class F>
__m256d outside_lanes_by(__m256d in_range, __m256d x, __m256d result, F f) {
    const int fast = _mm256_movemask_pd(in_range);
    if (fast == 0xF) [[likely]] return result;
    alignas(32) double xv[4], rv[4];
    _mm256_store_pd(xv, x);
    _mm256_store_pd(rv, result);
    recompute_lanes<4>(static_cast<unsigned>(fast), xv, rv, f);
    return _mm256_load_pd(rv);
}

#if defined(__AVX512F__)
template <class F>
__m512d outside_lanes_by(__mmask8 in_range, __m512d x, __m512d result, F f) {
    if (in_range == 0xFF) [[likely]] return result;
    alignas(64) double xv[8], rv[8];
    _mm512_store_pd(xv, x);
    _mm512_store_pd(rv, result);
    recompute_lanes<8>(in_range, xv, rv, f);
    return _mm512_load_pd(rv);
}
#endif

// exp of each lane of x (see the header comment); t = exp_table::get().
inline __m256d exp_nonpositive(__m256d x, const exp_table& t) {
    // Below this the result leaves the normal range (2^⌊k/N⌋ needs ⌊k/N⌋ ≥ −1022).
    constexpr double lowest = -708.39;
    const __m256d in_range = _mm256_and_pd(_mm256_cmp_pd(x, _mm256_set1_pd(lowest), _CMP_GE_OQ),
                                           _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_LE_OQ));
    // A harmless argument in the other lanes keeps the vector path free of inf and NaN.
    const __m256d xs = _mm256_blendv_pd(_mm256_setzero_pd(), x, in_range);

    // k = round(x·N/ln 2) through the 1.5·2^52 shifter: the low bits of kd hold k in two's complement.
    const __m256d shifter = _mm256_set1_pd(0x1.8p52);
    const __m256d kd = _mm256_fmadd_pd(xs, _mm256_set1_pd(0x1.71547652b82fep0 * exp_table::size), shifter);
    const __m256d k = _mm256_sub_pd(kd, shifter);
    // ln 2/N = c_hi + c_lo.
    const __m256d c_hi = _mm256_set1_pd(0x1.62e42fefa39efp-1 / exp_table::size);
    const __m256d c_lo = _mm256_set1_pd(0x1.abc9e3b39803fp-56 / exp_table::size);
    __m256d r = _mm256_fnmadd_pd(k, c_hi, xs);
    r = _mm256_fnmadd_pd(k, c_lo, r);

    const __m256i ki = _mm256_sub_epi64(_mm256_castpd_si256(kd), _mm256_castpd_si256(shifter));
    const __m256i j = _mm256_and_si256(ki, _mm256_set1_epi64x(exp_table::size - 1));
    // 2^⌊k/N⌋ as an exponent-field increment: (k − j)/N shifted into bits 52…62.
    const __m256i scale = _mm256_slli_epi64(_mm256_sub_epi64(ki, j), 52 - exp_table::bits);
    const __m256d t_hi = _mm256_i64gather_pd(t.hi.data(), j, 8);
    const __m256d t_lo = _mm256_i64gather_pd(t.lo.data(), j, 8);

    __m256d q = _mm256_fmadd_pd(r, _mm256_set1_pd(1.0 / 120), _mm256_set1_pd(1.0 / 24));
    q = _mm256_fmadd_pd(r, q, _mm256_set1_pd(1.0 / 6));
    q = _mm256_fmadd_pd(r, q, _mm256_set1_pd(0.5));
    const __m256d p = _mm256_fmadd_pd(_mm256_mul_pd(r, r), q, r);
    const __m256d m = _mm256_add_pd(t_hi, _mm256_fmadd_pd(t_hi, p, t_lo));
    __m256d result = _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(m), scale));

    return outside_lanes_by(in_range, x, result, [](double v) { return std::exp(v); });
}

#if defined(__AVX512F__)
// exp of each lane of x, N = 16 (see the header comment).
inline __m512d exp_nonpositive(__m512d x) {
    constexpr double lowest = -708.39;
    const __mmask8 in_range = static_cast<__mmask8>(_mm512_cmp_pd_mask(x, _mm512_set1_pd(lowest), _CMP_GE_OQ) &
                                                    _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_LE_OQ));
    const __m512d xs = _mm512_maskz_mov_pd(in_range, x);

    const __m512d shifter = _mm512_set1_pd(0x1.8p52);
    const __m512d kd = _mm512_fmadd_pd(xs, _mm512_set1_pd(0x1.71547652b82fep0 * 16), shifter);
    const __m512d k = _mm512_sub_pd(kd, shifter);
    __m512d r = _mm512_fnmadd_pd(k, _mm512_set1_pd(0x1.62e42fefa39efp-1 / 16), xs);
    r = _mm512_fnmadd_pd(k, _mm512_set1_pd(0x1.abc9e3b39803fp-56 / 16), r);

    const __m512i ki = _mm512_sub_epi64(_mm512_castpd_si512(kd), _mm512_castpd_si512(shifter));
    const __m512i j = _mm512_and_si512(ki, _mm512_set1_epi64(15));
    const __m512i scale = _mm512_slli_epi64(_mm512_sub_epi64(ki, j), 52 - 4);
    // vpermt2pd reads the low four bits of each index lane: j.
    const __m512d t_hi = _mm512_permutex2var_pd(_mm512_load_pd(exp_sixteenths::hi), j, _mm512_load_pd(exp_sixteenths::hi + 8));
    const __m512d t_lo = _mm512_permutex2var_pd(_mm512_load_pd(exp_sixteenths::lo), j, _mm512_load_pd(exp_sixteenths::lo + 8));

    __m512d q = _mm512_fmadd_pd(r, _mm512_set1_pd(1.0 / 5040), _mm512_set1_pd(1.0 / 720));
    q = _mm512_fmadd_pd(r, q, _mm512_set1_pd(1.0 / 120));
    q = _mm512_fmadd_pd(r, q, _mm512_set1_pd(1.0 / 24));
    q = _mm512_fmadd_pd(r, q, _mm512_set1_pd(1.0 / 6));
    q = _mm512_fmadd_pd(r, q, _mm512_set1_pd(0.5));
    const __m512d p = _mm512_fmadd_pd(_mm512_mul_pd(r, r), q, r);
    const __m512d m = _mm512_add_pd(t_hi, _mm512_fmadd_pd(t_hi, p, t_lo));
    const __m512d result = _mm512_castsi512_pd(_mm512_add_epi64(_mm512_castpd_si512(m), scale));

    return outside_lanes_by(in_range, x, result, [](double v) { return std::exp(v); });
}

// Eight floats through the double function, rounded once (as the four-float one below).
inline __m256 exp_nonpositive(__m256 x) { return _mm512_cvtpd_ps(exp_nonpositive(_mm512_cvtps_pd(x))); }
#endif

// exp of four floats computed in double and rounded once to float: the double result's relative
// error (≤ 1.025·2^-53) adds 2^-29 of a float ulp to the final rounding, so the float error is
// ≤ (1 + 2^-28)·u_f, u_f = 2^-24. A subnormal float result is one rounding of the (normal) double
// value: within half a subnormal step plus the double's error.
inline __m128 exp_nonpositive(__m128 x, const exp_table& t) {
    return _mm256_cvtpd_ps(exp_nonpositive(_mm256_cvtps_pd(x), t));
}

// f (four doubles to four doubles) in place over n contiguous doubles or floats, four at a time;
// floats go through double and are rounded once.
template <class T, class F>
void map_four_inplace(T* v, std::ptrdiff_t n, F f) {
    auto four = [&f](T* p) {
        if constexpr (std::is_same_v<T, double>) _mm256_storeu_pd(p, f(_mm256_loadu_pd(p)));
        else _mm_storeu_ps(p, _mm256_cvtpd_ps(f(_mm256_cvtps_pd(_mm_loadu_ps(p)))));
    };
    std::ptrdiff_t i = 0;
    for (; i + 4 <= n; i += 4) four(v + i);
    if (i < n) {
        T tail[4] = {0, 0, 0, 0};
        std::copy(v + i, v + n, tail);
        four(tail);
        std::copy(tail, tail + (n - i), v + i);
    }
}

#if defined(__AVX512F__)
// f (eight doubles or eight floats to the same) in place over n contiguous doubles or floats; the
// tail through masked loads and stores, with zeros in the other lanes (in both functions' domains).
template <class T, class F>
void map_eight_inplace(T* v, std::ptrdiff_t n, F f) {
    for (std::ptrdiff_t i = 0; i < n; i += 8) {
        const auto m = static_cast<__mmask8>(n - i >= 8 ? 0xFF : (1u << (n - i)) - 1u);
        if constexpr (std::is_same_v<T, double>) _mm512_mask_storeu_pd(v + i, m, f(_mm512_maskz_loadu_pd(m, v + i)));
        else _mm256_mask_storeu_ps(v + i, m, f(_mm256_maskz_loadu_ps(m, v + i)));
    }
}
#endif

// exp in place over n contiguous doubles or floats (the weights of a whole block of rows).
template <class T>
void exp_nonpositive_inplace(T* v, std::ptrdiff_t n) {
#if defined(__AVX512F__)
    map_eight_inplace(v, n, [](auto x) { return exp_nonpositive(x); });
#else
    const exp_table& t = exp_table::get();
    map_four_inplace(v, n, [&t](__m256d x) { return exp_nonpositive(x, t); });
#endif
}

}  // namespace gradproof::detail
