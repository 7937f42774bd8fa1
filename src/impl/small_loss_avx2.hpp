// small_softmax_loss: the fused loss for small problems whose C classes fit one 256-bit vector
// (C ≤ 4 in double, ≤ 8 in float) and whose X is at most small_params::max_x_elements. Compiled
// only into the SIMD kernel libraries (impl/kernels_simd.cpp).
//
// Why. At (8, 16, 4) the arithmetic is 2·512 FMAs, a few hundred cycles at most; the general
// kernels spend most of a call around it: the register tiles of impl/narrow_loss_avx2.hpp transpose
// W, zero two heap buffers, reduce their vector lanes to scalars and divide every gradient entry
// by N. Here one logit row or one gradient row is one vector:
//   • scores: S_i = Σ_k X_ik·W_k (W_k = row k of W, C lanes), an FMA chain over k for a tile of up
//     to 8 rows, X_ik broadcast;
//   • rows: the operations of impl/fused_loss.hpp's row function on the lanes of the row's vector
//     (vector exp of impl/simd_exp.hpp), and the tile's log1p terms four rows at a time (vector
//     log1p of impl/simd_log1p.hpp; both within the k_elem·u error/tolerance.hpp assumes);
//   • gradient: dW_k = Σ_i X_ik·dS_i, an FMA chain over i (rows in order, the tile's dS rows held
//     in registers), then dW_k = fma(acc, fl(1/N), reg·W_k) in the same pass that sums ΣW².
// Nothing is allocated; W and dW rows are read and written with masked loads and stores, so C
// need not fill the vector: AVX-512VL's mask registers where available (AVX2's vmaskmov stores are
// microcoded on AMD Zen and took half of the call there).
//
// Error analysis (the model of src/error/tolerance.hpp; FMA = one rounding, Higham §2.6):
//   • S_ij: D products added in order, γ_D·Σ_k|X_ik·W_kj|, as in every other path;
//   • dW_kj: the N products added in order (γ_N), times fl(1/N) (two roundings: 1/N and the
//     product, inside the fma) plus fl(reg·W_kj): N + 1 terms with at most N + 2 roundings each,
//     the γ_{N+2}·(Σ_i|X_ik·dS_ij|/N + |reg·W_kj|) of error/tolerance.cpp;
//   • ΣW²: the products summed lane-wise, then the lanes — any order, γ_{D·C};
//   • rows and the loss sum: those of impl/fused_loss.hpp (rows in order).
#pragma once

#include "impl/fused_loss.hpp"
#include "impl/narrow_loss_avx2.hpp"  // GRADPROOF_UNROLL, with_tile_width
#include "impl/simd_exp.hpp"
#include "impl/simd_log1p.hpp"

#include <immintrin.h>

#include <cstdint>
#include <type_traits>
#include <utility>

namespace gradproof::detail {

struct small_params {
    // Elements of X at most: X (and all the rest) stays in L1 (32 KiB of doubles), where a call is
    // short enough that its fixed costs matter.
    static constexpr Eigen::Index max_x_elements = 4096;
    // Rows per tile: the tile's accumulators (scores) or dS rows (gradient) in registers.
    static constexpr int tile_rows = 8;
};

// avx2_vec (impl/narrow_loss_avx2.hpp) with masked loads and stores of the first c lanes and the
// lane operations of a softmax row.
template <class T>
struct small_vec;

template <>
struct small_vec<double> : avx2_vec<double> {
#if defined(__AVX512VL__)
    using mask_type = __mmask8;
    static mask_type mask(Eigen::Index c) { return static_cast<__mmask8>((1u << c) - 1u); }
    static type load(const double* p, mask_type m) { return _mm256_maskz_loadu_pd(m, p); }
    static void store(double* p, mask_type m, type a) { _mm256_mask_storeu_pd(p, m, a); }
#else
    using mask_type = __m256i;
    static mask_type mask(Eigen::Index c) {
        return _mm256_cmpgt_epi64(_mm256_set1_epi64x(c), _mm256_set_epi64x(3, 2, 1, 0));
    }
    static type load(const double* p, mask_type m) { return _mm256_maskload_pd(p, m); }
    static void store(double* p, mask_type m, type a) { _mm256_maskstore_pd(p, m, a); }
#endif
    static type set1(double v) { return _mm256_set1_pd(v); }
    // Bit l set where the comparison holds in lane l.
    static int bits_unordered(type a) { return _mm256_movemask_pd(_mm256_cmp_pd(a, a, _CMP_UNORD_Q)); }
    static int bits_equal(type a, type b) { return _mm256_movemask_pd(_mm256_cmp_pd(a, b, _CMP_EQ_OQ)); }
    // Lanes whose bit is set take a, the others b.
    static type select(int bits, type a, type b) {
#if defined(__AVX512VL__)
        return _mm256_mask_blend_pd(static_cast<__mmask8>(bits), b, a);
#else
        const __m256i lane_bit = _mm256_set_epi64x(8, 4, 2, 1);
        const __m256i m = _mm256_cmpeq_epi64(_mm256_and_si256(_mm256_set1_epi64x(bits), lane_bit), lane_bit);
        return _mm256_blendv_pd(b, a, _mm256_castsi256_pd(m));
#endif
    }
    static type sub(type a, type b) { return _mm256_sub_pd(a, b); }
    static type div(type a, type b) { return _mm256_div_pd(a, b); }
    static double max(type a) {
        const __m128d m = _mm_max_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
        return _mm_cvtsd_f64(_mm_max_sd(m, _mm_unpackhi_pd(m, m)));
    }
    static double lane(type a, Eigen::Index j) {
        alignas(32) double v[4];
        _mm256_store_pd(v, a);
        return v[j];
    }
    static type exp(type x, const exp_table& t, Eigen::Index) { return exp_nonpositive(x, t); }
    static type mul(type a, type b) { return _mm256_mul_pd(a, b); }
};

template <>
struct small_vec<float> : avx2_vec<float> {
#if defined(__AVX512VL__)
    using mask_type = __mmask8;
    static mask_type mask(Eigen::Index c) { return static_cast<__mmask8>((1u << c) - 1u); }
    static type load(const float* p, mask_type m) { return _mm256_maskz_loadu_ps(m, p); }
    static void store(float* p, mask_type m, type a) { _mm256_mask_storeu_ps(p, m, a); }
#else
    using mask_type = __m256i;
    static mask_type mask(Eigen::Index c) {
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(c)), _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0));
    }
    static type load(const float* p, mask_type m) { return _mm256_maskload_ps(p, m); }
    static void store(float* p, mask_type m, type a) { _mm256_maskstore_ps(p, m, a); }
#endif
    static type set1(float v) { return _mm256_set1_ps(v); }
    static int bits_unordered(type a) { return _mm256_movemask_ps(_mm256_cmp_ps(a, a, _CMP_UNORD_Q)); }
    static int bits_equal(type a, type b) { return _mm256_movemask_ps(_mm256_cmp_ps(a, b, _CMP_EQ_OQ)); }
    static type select(int bits, type a, type b) {
#if defined(__AVX512VL__)
        return _mm256_mask_blend_ps(static_cast<__mmask8>(bits), b, a);
#else
        const __m256i lane_bit = _mm256_set_epi32(128, 64, 32, 16, 8, 4, 2, 1);
        const __m256i m = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(bits), lane_bit), lane_bit);
        return _mm256_blendv_ps(b, a, _mm256_castsi256_ps(m));
#endif
    }
    static type sub(type a, type b) { return _mm256_sub_ps(a, b); }
    static type div(type a, type b) { return _mm256_div_ps(a, b); }
    static float max(type a) {
        __m128 m = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
        m = _mm_max_ps(m, _mm_movehl_ps(m, m));
        return _mm_cvtss_f32(_mm_max_ss(m, _mm_shuffle_ps(m, m, 1)));
    }
    static float lane(type a, Eigen::Index j) {
        alignas(32) float v[8];
        _mm256_store_ps(v, a);
        return v[j];
    }
    // The upper four lanes only when C needs them.
    static type exp(type x, const exp_table& t, Eigen::Index c) {
        const __m128 lo = exp_nonpositive(_mm256_castps256_ps128(x), t);
        const __m128 hi = c > 4 ? exp_nonpositive(_mm256_extractf128_ps(x, 1), t) : _mm_setzero_ps();
        return _mm256_set_m128(hi, lo);
    }
    static type mul(type a, type b) { return _mm256_mul_ps(a, b); }
};

template <class T>
bool small_loss_applies(Eigen::Index n, Eigen::Index d, Eigen::Index c) {
    return c <= small_vec<T>::lanes && n * d <= small_params::max_x_elements;
}

// One row of logits z (lanes < c; label y) to dS = p − e_y — the operations of impl/fused_loss.hpp's
// softmax_row_loss_and_ds on the lanes of one vector: a = max z at its first index k, d = z − a,
// e = exp(d) with e_k = 1, s = Σ_{j≠k} e_j (lanes added in a tree: any order is within the model),
// p = e/(1 + s). ℓ = shift + log1p(s) with shift = a − z_y is finished by the caller, which takes
// the log1p of a whole tile at once. A row holding NaN or +inf, or with every class masked, gives
// a NaN row and shift = NaN.
template <class T>
[[gnu::always_inline]] inline typename small_vec<T>::type small_row(typename small_vec<T>::type z, Eigen::Index c, Eigen::Index y,
                                      const exp_table& table, T& shift, T& s) {
    using V = small_vec<T>;
    const int used = (1 << c) - 1;
    const typename V::type minus_inf = V::set1(-inf_<T>());
    const int bad = (V::bits_unordered(z) | V::bits_equal(z, V::set1(inf_<T>()))) & used;
    const typename V::type zc = V::select(used, z, minus_inf);
    const T a = V::max(zc);
    if (bad != 0 || a == -inf_<T>()) {
        shift = nan_<T>();
        s = T(0);
        return V::set1(nan_<T>());
    }
    const typename V::type va = V::set1(a);
    const int k = __builtin_ctz(static_cast<unsigned>(V::bits_equal(zc, va) & used));
    // Unused lanes get d = 0 (exp(0) = 1 without the slow path), then 0.
    const typename V::type d = V::select(used, V::sub(z, va), V::zero());
    const int rest = used & ~(1 << k);
    const typename V::type e = V::select(rest, V::exp(d, table, c), V::zero());
    s = V::sum(e);
    shift = a - V::lane(z, y);
    const typename V::type p = V::div(V::select(1 << k, V::set1(T(1)), e), V::set1(T(1) + s));
    return V::sub(p, V::select(1 << y, V::set1(T(1)), V::zero()));
}

// Adds ℓ_r = shift_r + log1p(s_r) of R rows to loss in row order, the log1p four rows at a time
// in double (impl/simd_log1p.hpp; for float one more rounding, as log1pf would round).
template <class T, int R>
[[gnu::always_inline]] inline void add_row_losses(const T (&shift)[R], const T (&s)[R], const log1p_table& table,
                                                  T& loss) {
    GRADPROOF_UNROLL
    for (int r0 = 0; r0 < R; r0 += 4) {
        auto at = [&s, r0](int q) { return r0 + q < R ? static_cast<double>(s[r0 + q]) : 0.0; };
        alignas(32) double l[4];
        _mm256_store_pd(l, log1p_nonnegative(_mm256_set_pd(at(3), at(2), at(1), at(0)), table));
        GRADPROOF_UNROLL
        for (int q = 0; q < 4; ++q)
            if (r0 + q < R) loss += shift[r0 + q] + static_cast<T>(l[q]);
    }
}

// One tile of R rows: scores S = X_rows·W (R accumulators, an FMA chain over k, one masked load of
// W_k per k), the rows' dS and ℓ (summed into loss in row order), dS stored, then dW_k += Σ_r
// X_rk·dS_r for every k, the raw sums kept in dW between tiles (first: start from 0). The last tile
// finishes each row of dW in the same pass: dW_k = fma(sum, fl(1/N), reg·W_k), W_k² into sumsq.
template <class T, int R>
void small_tile(const T* W, const T* X, const std::int32_t* y, Eigen::Index d, Eigen::Index c, T* dS, T* dW,
                bool first, bool last, T reg, T inv_n, const exp_table& table, const log1p_table& log_table, T& loss,
                typename small_vec<T>::type& sumsq) {
    using V = small_vec<T>;
    const auto mask = V::mask(c);
    typename V::type g[R];
    GRADPROOF_UNROLL
    for (int r = 0; r < R; ++r) g[r] = V::zero();
    for (Eigen::Index k = 0; k < d; ++k) {
        const typename V::type w = V::load(W + k * c, mask);
        GRADPROOF_UNROLL
        for (int r = 0; r < R; ++r) g[r] = V::fma(V::broadcast(X + r * d + k), w, g[r]);
    }
    // Local copies of the running sums: through the references GCC would keep them in memory, a
    // store and a load on the critical path of every row and every k.
    T tile_loss = loss;
    typename V::type tile_sumsq = sumsq;
    T shift[R], s[R];
    GRADPROOF_UNROLL
    for (int r = 0; r < R; ++r) {
        g[r] = small_row<T>(g[r], c, y[r], table, shift[r], s[r]);
        V::store(dS + r * c, mask, g[r]);
    }
    add_row_losses<T, R>(shift, s, log_table, tile_loss);
    loss = tile_loss;
    const typename V::type vinv = V::set1(inv_n), vreg = V::set1(reg);
    // One loop per case: with the `last` branch inside, GCC kept tile_sumsq in memory, a store and a
    // reload on the loop-carried chain of every k (a third of the call at (8, 16, 4)).
    auto gradient = [&](auto finish) {
        for (Eigen::Index k = 0; k < d; ++k) {
            typename V::type acc = first ? V::zero() : V::load(dW + k * c, mask);
            GRADPROOF_UNROLL
            for (int r = 0; r < R; ++r) acc = V::fma(V::broadcast(X + r * d + k), g[r], acc);
            if constexpr (decltype(finish)::value) {
                const typename V::type w = V::load(W + k * c, mask);
                acc = V::fma(acc, vinv, V::mul(vreg, w));
                tile_sumsq = V::fma(w, w, tile_sumsq);
            }
            V::store(dW + k * c, mask, acc);
        }
    };
    if (last) gradient(std::true_type{});
    else gradient(std::false_type{});
    sumsq = tile_sumsq;
}

// The loss into dS (N×C) and dW (D×C), row-major and contiguous; returns mean_i ℓ_i and ΣW² (as
// fused_softmax_loss_into). Requires small_loss_applies<T>(n, d, c); shapes and labels validated.
template <class T>
fused_sums<T> small_softmax_loss(const T* W, const T* X, const std::int32_t* y, Eigen::Index n, Eigen::Index d,
                                 Eigen::Index c, T reg, T* dS, T* dW) {
    using V = small_vec<T>;
    constexpr int R = small_params::tile_rows;
    const exp_table& table = exp_table::get();
    const log1p_table& log_table = log1p_table::get();
    const T inv_n = T(1) / T(n);
    T loss = T(0);
    typename V::type sumsq = V::zero();
    for (Eigen::Index i0 = 0; i0 < n; i0 += R)
        with_tile_width<R>(std::min<Eigen::Index>(R, n - i0), [&](auto rows) {
            small_tile<T, decltype(rows)::value>(W, X + i0 * d, y + i0, d, c, dS + i0 * c, dW, i0 == 0, i0 + R >= n,
                                                 reg, inv_n, table, log_table, loss, sumsq);
        });
    fused_sums<T> r;
    r.data_loss = loss / T(n);
    r.w_sumsq = V::sum(sumsq);
    return r;
}

}  // namespace gradproof::detail
