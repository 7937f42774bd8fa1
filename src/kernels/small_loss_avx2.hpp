// small_softmax_loss: the fused loss for small problems whose C classes fit one 256-bit vector
// (C ≤ 4 in double, ≤ 8 in float) and whose X is at most small_params::max_x_elements. Compiled
// only into the SIMD kernel libraries (kernels/kernels_simd.cpp).
//
// Why. At (8, 16, 4) the arithmetic is 2·512 FMAs, a few hundred cycles at most; the general
// kernels spend most of a call around it: the register tiles of kernels/narrow_loss_avx2.hpp transpose
// W, zero two heap buffers, reduce their vector lanes to scalars and divide every gradient entry
// by N. Here one logit row or one gradient row is one vector:
//   • scores: S_i = Σ_k X_ik·W_k (W_k = row k of W, C lanes), an FMA chain over k for a tile of up
//     to 8 rows, X_ik broadcast;
//   • rows: the tile's score rows transposed in groups of 4 (double) or 8 (float) rows, so that
//     the softmax of kernels/fused_loss.hpp's row function runs lane-wise over rows — max, first
//     argmax, the vector exp of kernels/simd_exp.hpp, s summed in class order, the vector log1p of
//     kernels/simd_log1p.hpp (both within the k_elem·u error/tolerance.hpp assumes), the divisions —
//     with no reduction across lanes; the dS rows transposed back. In AVX-512 builds exp and log1p
//     take eight lanes: two double groups, or one float group, per call (the table lookups of the
//     eight-lane exp are permutes, not gathers: kernel 150 → 130 ns at (8, 16, 4) in double,
//     165 → 132 ns in float, on this project's machine);
//   • gradient: dW_k = Σ_i X_ik·dS_i, an FMA chain over i (rows in order, the tile's dS rows held
//     in registers), then dW_k = fma(acc, fl(1/N), reg·W_k) in the same pass that sums ΣW².
// Nothing is allocated; W and dW rows are read and written with masked loads and stores, so C
// need not fill the vector: AVX-512VL's mask registers where available (AVX2's vmaskmov stores are
// microcoded on AMD Zen and took half of the call there). Measured at (8, 16, 4) in double on
// this project's machine: per-row lane reductions cost more than the transposes that replace them.
//
// Error analysis (the model of src/error/tolerance.hpp; FMA = one rounding, Higham §2.6):
//   • S_ij: D products added in order, γ_D·Σ_k|X_ik·W_kj|, as in every other path;
//   • dW_kj: the N products added in order (γ_N), times fl(1/N) (two roundings: 1/N and the
//     product, inside the fma) plus fl(reg·W_kj): N + 1 terms with at most N + 2 roundings each,
//     the γ_{N+2}·(Σ_i|X_ik·dS_ij|/N + |reg·W_kj|) of error/tolerance.cpp;
//   • ΣW²: the products summed lane-wise, then the lanes — any order, γ_{D·C};
//   • rows and the loss sum: those of kernels/fused_loss.hpp (rows in order).
#pragma once

#include "kernels/fused_loss.hpp"
#include "kernels/narrow_loss_avx2.hpp"  // GRADPROOF_UNROLL, with_tile_width
#include "kernels/simd_exp.hpp"
#include "kernels/simd_log1p.hpp"

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

// avx2_vec (kernels/narrow_loss_avx2.hpp: arithmetic, and masked loads and stores of the first c lanes) and the
// lane-wise operations of the softmax rows, which work on transposed groups of `lanes` rows (one
// vector per class, one lane per row). Comparisons give all-ones lanes (AVX2 style masks).
template <class T>
struct small_vec;

template <>
struct small_vec<double> : avx2_vec<double> {
    static type sub(type a, type b) { return _mm256_sub_pd(a, b); }
    static type max(type a, type b) { return _mm256_max_pd(a, b); }
    static type unordered(type a) { return _mm256_cmp_pd(a, a, _CMP_UNORD_Q); }
    static type equal(type a, type b) { return _mm256_cmp_pd(a, b, _CMP_EQ_OQ); }
    static type bit_or(type a, type b) { return _mm256_or_pd(a, b); }
    static type bit_and(type a, type b) { return _mm256_and_pd(a, b); }
    static type and_not(type m, type a) { return _mm256_andnot_pd(m, a); }  // a where m is clear
    static type blend(type a, type b, type m) { return _mm256_blendv_pd(a, b, m); }  // b where m is set
    // The labels of a group of rows, and the lanes whose label is j.
    using labels_type = __m256i;
    static labels_type labels(const std::int32_t* y) {
        return _mm256_cvtepi32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y)));
    }
    static type label_is(labels_type y, int j) { return _mm256_castsi256_pd(_mm256_cmpeq_epi64(y, _mm256_set1_epi64x(j))); }
    // Rows ↔ class vectors of a 4×4 block.
    static void transpose(type (&v)[4]) {
        const type t0 = _mm256_unpacklo_pd(v[0], v[1]), t1 = _mm256_unpackhi_pd(v[0], v[1]);
        const type t2 = _mm256_unpacklo_pd(v[2], v[3]), t3 = _mm256_unpackhi_pd(v[2], v[3]);
        v[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
        v[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
        v[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
        v[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
    }
    // exp and log1p in place on one group's vector or on two groups' (by_groups).
#if defined(__AVX512F__)
    // The eight-lane functions of kernels/simd_exp.hpp (no gathers) and simd_log1p.hpp: two groups in
    // one call; one group alone with zeros (in both domains) in the upper lanes.
    template <class F>
    static void eight(F f, type& a, type& b) {
        const __m512d e = f(_mm512_insertf64x4(_mm512_castpd256_pd512(a), b, 1));
        a = _mm512_castpd512_pd256(e);
        b = _mm512_extractf64x4_pd(e, 1);
    }
    template <class F>
    static void eight(F f, type& a) { a = _mm512_castpd512_pd256(f(_mm512_zextpd256_pd512(a))); }
    template <class... Vs>
    static void exp(const exp_table&, Vs&... v) { eight([](__m512d x) { return exp_nonpositive(x); }, v...); }
    template <class... Vs>
    static void log1p(const log1p_table& t, Vs&... v) { eight([&t](__m512d x) { return log1p_nonnegative(x, t); }, v...); }
#else
    template <class... Vs>
    static void exp(const exp_table& t, Vs&... v) { ((v = exp_nonpositive(v, t)), ...); }
    template <class... Vs>
    static void log1p(const log1p_table& t, Vs&... v) { ((v = log1p_nonnegative(v, t)), ...); }
#endif
};

template <>
struct small_vec<float> : avx2_vec<float> {
    static type sub(type a, type b) { return _mm256_sub_ps(a, b); }
    static type max(type a, type b) { return _mm256_max_ps(a, b); }
    static type unordered(type a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
    static type equal(type a, type b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
    static type bit_or(type a, type b) { return _mm256_or_ps(a, b); }
    static type bit_and(type a, type b) { return _mm256_and_ps(a, b); }
    static type and_not(type m, type a) { return _mm256_andnot_ps(m, a); }
    static type blend(type a, type b, type m) { return _mm256_blendv_ps(a, b, m); }
    using labels_type = __m256i;
    static labels_type labels(const std::int32_t* y) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y)); }
    static type label_is(labels_type y, int j) { return _mm256_castsi256_ps(_mm256_cmpeq_epi32(y, _mm256_set1_epi32(j))); }
    static void transpose(type (&v)[8]) {
        type t[8], u[8];
        for (int i = 0; i < 8; i += 2) {
            t[i] = _mm256_unpacklo_ps(v[i], v[i + 1]);
            t[i + 1] = _mm256_unpackhi_ps(v[i], v[i + 1]);
        }
        for (int i = 0; i < 8; i += 4) {
            u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
            u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
            u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
            u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
        }
        for (int i = 0; i < 4; ++i) {
            v[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
            v[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
        }
    }
    // In place, in double, then rounded once (kernels/simd_exp.hpp, simd_log1p.hpp): eight lanes at
    // once with AVX-512, else four at a time.
#if defined(__AVX512F__)
    static type exp_one(type x, const exp_table&) { return exp_nonpositive(x); }
    static type log1p_one(type s, const log1p_table& t) { return log1p_nonnegative(s, t); }
#else
    static type exp_one(type x, const exp_table& t) {
        return _mm256_set_m128(exp_nonpositive(_mm256_extractf128_ps(x, 1), t), exp_nonpositive(_mm256_castps256_ps128(x), t));
    }
    static type log1p_one(type s, const log1p_table& t) {
        auto half = [&t](__m128 h) { return _mm256_cvtpd_ps(log1p_nonnegative(_mm256_cvtps_pd(h), t)); };
        return _mm256_set_m128(half(_mm256_extractf128_ps(s, 1)), half(_mm256_castps256_ps128(s)));
    }
#endif
    template <class... Vs>
    static void exp(const exp_table& t, Vs&... v) { ((v = exp_one(v, t)), ...); }
    template <class... Vs>
    static void log1p(const log1p_table& t, Vs&... v) { ((v = log1p_one(v, t)), ...); }
};

template <class T>
bool small_loss_applies(Eigen::Index n, Eigen::Index d, Eigen::Index c) {
    return c <= small_vec<T>::lanes && n * d <= small_params::max_x_elements;
}

// f(v[g]…) for the G groups, two at a time (f = small_vec's exp or log1p in place, which take one
// or two vectors: AVX-512 double makes one eight-lane call of two groups).
template <int G, class F>
[[gnu::always_inline]] inline void by_groups(F f, auto* const (&v)[G]) {
    GRADPROOF_UNROLL
    for (int g = 0; g + 2 <= G; g += 2) f(*v[g], *v[g + 1]);
    if constexpr (G % 2 == 1) f(*v[G - 1]);
}

// G groups of L = V::lanes rows (group g's row q: logits in the first c lanes of z[g][q], label
// y[g·L + q]) to dS = p − e_y in place, with ℓ in loss[g·L + q] — the operations of
// kernels/fused_loss.hpp's softmax_row_loss_and_ds, in the same order, on transposed blocks (lane q =
// row q, vector j = class j): a = max_j z_j at its first index k, e_j = exp(z_j − a) (vector exp),
// s = Σ_{j≠k} e_j in class order, e_k = 1, ℓ = (a − z_y) + log1p(s) (vector log1p),
// p_j = e_j/(1 + s), dS_y = p_y − 1. A row holding NaN or +inf among its c logits, or with every
// class masked (−inf), gets a NaN row and ℓ = NaN.
// Every step is taken for all G groups before the next: the groups' chains (max → exp → s →
// log1p, and → division) are independent, and issued side by side they overlap instead of the
// second group waiting behind the first (double at (8, 16, 4), G = 2: 160 → 150 ns a call of the
// kernel alone on this project's machine).
template <class T, int G>
[[gnu::always_inline]] inline void small_rows(typename small_vec<T>::type (&z)[G][small_vec<T>::lanes],
                                              const std::int32_t* y, Eigen::Index c, const exp_table& table,
                                              const log1p_table& log_table, T (&loss)[G * small_vec<T>::lanes]) {
    using V = small_vec<T>;
    using vec = typename V::type;
    constexpr int L = static_cast<int>(V::lanes);
    const int classes = static_cast<int>(c);
    GRADPROOF_UNROLL
    for (int g = 0; g < G; ++g) V::transpose(z[g]);
    const vec inf = V::set1(inf_<T>()), one = V::set1(T(1));
    vec bad[G], a[G];
    GRADPROOF_UNROLL
    for (int g = 0; g < G; ++g) { bad[g] = V::zero(); a[g] = z[g][0]; }
    GRADPROOF_UNROLL
    for (int j = 0; j < L; ++j)
        if (j < classes) {
            GRADPROOF_UNROLL
            for (int g = 0; g < G; ++g) {
                bad[g] = V::bit_or(bad[g], V::bit_or(V::unordered(z[g][j]), V::equal(z[g][j], inf)));
                a[g] = V::max(a[g], z[g][j]);
            }
        }
    typename V::labels_type labels[G];
    vec taken[G], s[G], zy[G];
    vec is_k[G][L] = {};
    GRADPROOF_UNROLL
    for (int g = 0; g < G; ++g) {
        bad[g] = V::bit_or(bad[g], V::equal(a[g], V::set1(-inf_<T>())));
        labels[g] = V::labels(y + g * L);
        taken[g] = V::zero(); s[g] = V::zero(); zy[g] = V::zero();
    }
    GRADPROOF_UNROLL
    for (int j = 0; j < L; ++j)
        if (j < classes) {
            GRADPROOF_UNROLL
            for (int g = 0; g < G; ++g) {
                is_k[g][j] = V::and_not(taken[g], V::equal(z[g][j], a[g]));
                taken[g] = V::bit_or(taken[g], is_k[g][j]);
                zy[g] = V::blend(zy[g], z[g][j], V::label_is(labels[g], j));
                z[g][j] = V::sub(z[g][j], a[g]);
            }
            vec* zj[G];
            GRADPROOF_UNROLL
            for (int g = 0; g < G; ++g) zj[g] = &z[g][j];
            by_groups<G>([&table](auto&... v) { V::exp(table, v...); }, zj);
        }
    GRADPROOF_UNROLL
    for (int j = 0; j < L; ++j)
        if (j < classes) {
            GRADPROOF_UNROLL
            for (int g = 0; g < G; ++g) s[g] = V::add(s[g], V::and_not(is_k[g][j], z[g][j]));  // + 0 for j = k: exact
        }
    const vec nan = V::set1(nan_<T>());
    vec denom[G];
    GRADPROOF_UNROLL
    for (int g = 0; g < G; ++g) { s[g] = V::and_not(bad[g], s[g]); denom[g] = V::add(one, s[g]); }
    GRADPROOF_UNROLL
    for (int j = 0; j < L; ++j) {
        GRADPROOF_UNROLL
        for (int g = 0; g < G; ++g) {
            if (j < classes) {
                const vec p = V::div(V::blend(z[g][j], one, is_k[g][j]), denom[g]);
                z[g][j] = V::blend(V::sub(p, V::bit_and(V::label_is(labels[g], j), one)), nan, bad[g]);
            } else {
                z[g][j] = V::zero();
            }
        }
    }
    GRADPROOF_UNROLL
    for (int g = 0; g < G; ++g) V::transpose(z[g]);
    vec* sg[G];
    GRADPROOF_UNROLL
    for (int g = 0; g < G; ++g) sg[g] = &s[g];
    by_groups<G>([&log_table](auto&... v) { V::log1p(log_table, v...); }, sg);
    GRADPROOF_UNROLL
    for (int g = 0; g < G; ++g) V::store(loss + g * L, V::blend(V::add(V::sub(a[g], zy[g]), s[g]), nan, bad[g]));
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
    constexpr int L = static_cast<int>(V::lanes);
    constexpr int G = (R + L - 1) / L;
    // Rows past the tile are zeros with label 0: a harmless softmax whose results are dropped.
    typename V::type z[G][L];
    alignas(32) std::int32_t labels[G * L];
    alignas(32) T l[G * L];
    GRADPROOF_UNROLL
    for (int q = 0; q < G * L; ++q) {
        z[q / L][q % L] = q < R ? g[q] : V::zero();
        labels[q] = q < R ? y[q] : 0;
    }
    small_rows<T, G>(z, labels, c, table, log_table, l);
    GRADPROOF_UNROLL
    for (int q = 0; q < R; ++q) {
        g[q] = z[q / L][q % L];
        tile_loss += l[q];
        V::store(dS + q * c, mask, g[q]);
    }
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
