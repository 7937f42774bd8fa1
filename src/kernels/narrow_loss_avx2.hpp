// narrow_softmax_loss: the fused loss for few classes (C ≤ narrow_params::max_classes, N ≥ 2C) with
// register tiles instead of Eigen's GEMM. Compiled only into the SIMD kernel libraries
// (kernels/kernels_simd.cpp): with -mavx2 -mfma the tiles are 256-bit vectors in 16 registers; with
// AVX-512 (x86-64-v4) they are 512-bit vectors in 32 registers (narrow_vec). Why 512 bits: on
// Intel cores with two 512-bit FMA units a zmm FMA does twice the work of a ymm one in the same
// slot (measured on an Intel Xeon VM: 4.95 FMAs/ns either width) — the kernel takes 0.86× (f64) and
// 0.82× (f32) of the 256-bit version's time at (4096, 3073, 10) there, 0.81× and 0.85× at
// (500, 3073, 10), both builds timed alternately in one process; AMD Zen 4 splits a zmm
// instruction into two 256-bit halves, so there it does the same work in half the instructions.
//
// Why. With C = 10 both products of the loss are skinny (X_b·W is B×D times D×10): Eigen's GEMM
// packs the X block into its panel format before each of the two products and pads 10 columns to
// its 12- or 16-wide micro-kernel; at C = 10 that costs about as much as the arithmetic. Here
// neither product packs X:
//   • scores S_b = X_b·W: dot products along k against Wᵀ (C×D, transposed once per call, rows
//     padded to whole cache lines), two rows × class_tile classes per tile (5 with 16 registers:
//     10 accumulators, 7 loads per 10 FMAs; 10 with 32), k cut into chunks whose slice of Wᵀ
//     stays in L1 while every row pair of the block uses it; the rows' next chunk is prefetched
//     (the chunked order has too many short streams for the hardware prefetcher);
//   • gradient dWᵀ += dS_bᵀ·X_b into a C×D accumulator per chunk (Wᵀ's layout): two vectors of k
//     × class_tile classes per tile over the B rows of the block. It prefetches nothing: the scores
//     pass fetches its rows' next chunk itself, and prefetching the next block here cost more than
//     it saved (the whole block: 2 × 393 KB with this one overflowed L2, from which this pass
//     re-reads its block; its first chunk only: stalls on the prefetches themselves, 7 % of the
//     time at (4096, 3073, 10), and without them (2000, 400, 10) took 0.78× the time).
// Blocks of B = 32 rows: the accumulator is read and written once per block (2C/B of X's traffic)
// and X_b is re-read by the gradient pass from L2, not memory: X is read from memory once.
//
// Error analysis (the model of src/error/tolerance.hpp, Higham 2002 ch. 3; FMA: one rounding per
// multiply-add, Higham §2.6):
//   • S_ij is one sum of the D products X_ik·W_kj: per lane a chain of FMAs over each k-chunk,
//     the lanes and the chunk's tail added, the chunk sums added in order. Every product enters
//     exactly once and there are D − 1 additions, so |ΔS_ij| ≤ γ_D·Σ_k|X_ik·W_kj| as for any
//     summation order;
//   • dW_kj: the N products dS_ij·X_ik, added by FMA chains block after block into the chunk
//     accumulator, the chunk accumulators added in chunk order: N terms, γ_N; then one rounding
//     for /N and two for + reg·W, as in the Eigen path;
//   • ΣW²: lane-wise partial sums over Wᵀ, then the lanes: any order, γ_{D·C};
//   • the row statistics and the loss sum are those of kernels/fused_loss.hpp, unchanged.
// Determinism: blocks, chunks (row_chunk_count) and tiles depend on the shape only; each chunk has
// its own accumulator; chunks are combined in order on the calling thread: bitwise identical for
// every thread count.
#pragma once

#include "kernels/fused_loss.hpp"
#include "kernels/scratch.hpp"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

// Register tiles only stay in registers when their loops are unrolled completely (GCC's -O2 does
// not unroll them by itself).
#define GRADPROOF_UNROLL _Pragma("GCC unroll 16")

namespace gradproof::detail {

struct narrow_params {
    // Measured at (4096, 3073, C) on the machine of the README: at C = 10 the tiles take 0.75×
    // (f64) and 0.6× (f32) of the time of Eigen's GEMM path (AVX2 build), at C = 16 the same, at
    // C = 32 and 64 Eigen's is faster.
    static constexpr int max_classes = 12;
    // Rows per block: the D×C accumulator is read and written once per block, X_b once, so
    // 2C/B is the accumulator's traffic relative to X; fewer rows keep X_b in L2 for the gradient
    // pass. Measured at (4096, 3073, 10), -O3: 16–32 rows best; 64 rows 5–10 % slower in float,
    // 128 rows 20 %.
    static constexpr Eigen::Index block_rows = 32;
    // Bytes of Wᵀ per k-chunk of the scores: stays in L1 (32 KiB) beside the rows' chunks.
    static constexpr std::size_t l1_bytes = std::size_t(16) * 1024;
    // Classes per register tile: 2 rows (or 2 vectors of k) × 5 classes = 10 accumulators of 16
    // registers; with 32 registers 2 × 10 (C = 10 in one tile: each row or vector loaded once).
    // Measured at (4096, 3073, 10): 32 registers and tiles of 10 take 0.83–0.87× the time.
#if defined(__AVX512VL__)
    static constexpr int class_tile = 10;
#else
    static constexpr int class_tile = 5;
#endif
};

template <class T>
struct avx2_vec;

template <>
struct avx2_vec<double> {
    using type = __m256d;
    static constexpr Eigen::Index lanes = 4;
    static type zero() { return _mm256_setzero_pd(); }
    static type load(const double* p) { return _mm256_loadu_pd(p); }
    static void store(double* p, type a) { _mm256_storeu_pd(p, a); }
    // Non-temporal store of a whole vector (p aligned to it): no read for ownership (narrow_transpose).
    static void stream(double* p, type a) { _mm256_stream_pd(p, a); }
    static type broadcast(const double* p) { return _mm256_broadcast_sd(p); }
    static type set1(double v) { return _mm256_set1_pd(v); }
    static type mul(type a, type b) { return _mm256_mul_pd(a, b); }
    static type add(type a, type b) { return _mm256_add_pd(a, b); }
    static type div(type a, type b) { return _mm256_div_pd(a, b); }
    // Masked loads (zeros elsewhere) and stores of the first c ≤ lanes elements: AVX-512VL's mask
    // registers where available (AVX2's vmaskmov stores are microcoded on AMD Zen).
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
    static type fma(type a, type b, type c) { return _mm256_fmadd_pd(a, b, c); }
    static double sum(type a) {
        const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
        return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
    }
};

template <>
struct avx2_vec<float> {
    using type = __m256;
    static constexpr Eigen::Index lanes = 8;
    static type zero() { return _mm256_setzero_ps(); }
    static type load(const float* p) { return _mm256_loadu_ps(p); }
    static void store(float* p, type a) { _mm256_storeu_ps(p, a); }
    static void stream(float* p, type a) { _mm256_stream_ps(p, a); }
    static type broadcast(const float* p) { return _mm256_broadcast_ss(p); }
    static type set1(float v) { return _mm256_set1_ps(v); }
    static type mul(type a, type b) { return _mm256_mul_ps(a, b); }
    static type add(type a, type b) { return _mm256_add_ps(a, b); }
    static type div(type a, type b) { return _mm256_div_ps(a, b); }
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
    static type fma(type a, type b, type c) { return _mm256_fmadd_ps(a, b, c); }
    static float sum(type a) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
    }
};

#if defined(__AVX512F__)
// The same operations on 512-bit vectors: the narrow tiles' vector in AVX-512 builds (narrow_vec).
template <class T>
struct avx512_vec;

template <>
struct avx512_vec<double> {
    using type = __m512d;
    static constexpr Eigen::Index lanes = 8;
    static type zero() { return _mm512_setzero_pd(); }
    static type load(const double* p) { return _mm512_loadu_pd(p); }
    static void store(double* p, type a) { _mm512_storeu_pd(p, a); }
    static void stream(double* p, type a) { _mm512_stream_pd(p, a); }
    static type broadcast(const double* p) { return _mm512_set1_pd(*p); }
    static type set1(double v) { return _mm512_set1_pd(v); }
    static type mul(type a, type b) { return _mm512_mul_pd(a, b); }
    static type add(type a, type b) { return _mm512_add_pd(a, b); }
    static type div(type a, type b) { return _mm512_div_pd(a, b); }
    using mask_type = __mmask8;
    static mask_type mask(Eigen::Index c) { return static_cast<__mmask8>((1u << c) - 1u); }
    static type load(const double* p, mask_type m) { return _mm512_maskz_loadu_pd(m, p); }
    static void store(double* p, mask_type m, type a) { _mm512_mask_storeu_pd(p, m, a); }
    static type fma(type a, type b, type c) { return _mm512_fmadd_pd(a, b, c); }
    static double sum(type a) {
        return avx2_vec<double>::sum(_mm256_add_pd(_mm512_castpd512_pd256(a), _mm512_extractf64x4_pd(a, 1)));
    }
};

template <>
struct avx512_vec<float> {
    using type = __m512;
    static constexpr Eigen::Index lanes = 16;
    static type zero() { return _mm512_setzero_ps(); }
    static type load(const float* p) { return _mm512_loadu_ps(p); }
    static void store(float* p, type a) { _mm512_storeu_ps(p, a); }
    static void stream(float* p, type a) { _mm512_stream_ps(p, a); }
    static type broadcast(const float* p) { return _mm512_set1_ps(*p); }
    static type set1(float v) { return _mm512_set1_ps(v); }
    static type mul(type a, type b) { return _mm512_mul_ps(a, b); }
    static type add(type a, type b) { return _mm512_add_ps(a, b); }
    static type div(type a, type b) { return _mm512_div_ps(a, b); }
    using mask_type = __mmask16;
    static mask_type mask(Eigen::Index c) { return static_cast<__mmask16>((1u << c) - 1u); }
    static type load(const float* p, mask_type m) { return _mm512_maskz_loadu_ps(m, p); }
    static void store(float* p, mask_type m, type a) { _mm512_mask_storeu_ps(p, m, a); }
    static type fma(type a, type b, type c) { return _mm512_fmadd_ps(a, b, c); }
    static float sum(type a) {
        return avx2_vec<float>::sum(_mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1)));
    }
};

template <class T>
using narrow_vec = avx512_vec<T>;
#else
template <class T>
using narrow_vec = avx2_vec<T>;
#endif

// Calls f(std::integral_constant<int, w>) for a run-time width 1 ≤ w ≤ N (the remainder tile);
// nothing for w = 0.
template <int N, class F>
void with_tile_width(Eigen::Index w, F&& f) {
    if constexpr (N >= 1) {
        if (w == N) f(std::integral_constant<int, N>{});
        else with_tile_width<N - 1>(w, std::forward<F>(f));
    }
}

// s[r][j0 + j] += x_r[k0, k1) · wt_{j0 + j}[k0, k1) for R rows and CT classes (rows of x and wt
// have length d): lane-wise FMA chains, then the lanes and the tail added to s.
// prefetch > 0: also fetch the rows' next k-chunk (this far ahead) into L2 for the block's next
// pass: the k-chunked loop visits 2 × rows short runs, too many streams for the hardware prefetcher.
template <class T, int R, int CT>
void narrow_scores_tile(const T* const* x, const T* wt, Eigen::Index ld, Eigen::Index d, Eigen::Index k0,
                        Eigen::Index k1, T* const* s, Eigen::Index j0, Eigen::Index prefetch) {
    using V = narrow_vec<T>;
    constexpr Eigen::Index L = V::lanes;
    constexpr Eigen::Index line = Eigen::Index(64 / sizeof(T));
    typename V::type acc[R][CT];
    GRADPROOF_UNROLL
    for (int r = 0; r < R; ++r)
        GRADPROOF_UNROLL
        for (int j = 0; j < CT; ++j) acc[r][j] = V::zero();
    const T* w = wt + j0 * ld;
    Eigen::Index k = k0;
    for (; k + L <= k1; k += L) {
        typename V::type xv[R];
        if (prefetch > 0 && (k % line) == 0 && k + prefetch < d) {
            GRADPROOF_UNROLL
            for (int r = 0; r < R; ++r) _mm_prefetch(reinterpret_cast<const char*>(x[r] + k + prefetch), _MM_HINT_T1);
        }
        GRADPROOF_UNROLL
        for (int r = 0; r < R; ++r) xv[r] = V::load(x[r] + k);
        GRADPROOF_UNROLL
        for (int j = 0; j < CT; ++j) {
            typename V::type wv = V::load(w + j * ld + k);
            // One load shared by the R rows: without this GCC folds the load into each FMA (R
            // loads), and the loop becomes bound by the load ports instead of the FMA units.
            asm("" : "+v"(wv));
            GRADPROOF_UNROLL
            for (int r = 0; r < R; ++r) acc[r][j] = V::fma(xv[r], wv, acc[r][j]);
        }
    }
    GRADPROOF_UNROLL
    for (int r = 0; r < R; ++r)
        GRADPROOF_UNROLL
        for (int j = 0; j < CT; ++j) {
            T v = V::sum(acc[r][j]);
            for (Eigen::Index t = k; t < k1; ++t) v += x[r][t] * w[j * ld + t];
            s[r][j0 + j] += v;
        }
}

// All classes of R rows over [k0, k1): class tiles of class_tile, then the remainder.
template <class T, int R>
void narrow_scores(const T* const* x, const T* wt, Eigen::Index ld, Eigen::Index d, Eigen::Index k0, Eigen::Index k1,
                   T* const* s, Eigen::Index c) {
    constexpr int CT = narrow_params::class_tile;
    const Eigen::Index ahead = k1 - k0;  // the first tile of the rows prefetches their next chunk
    Eigen::Index j0 = 0;
    for (; j0 + CT <= c; j0 += CT) narrow_scores_tile<T, R, CT>(x, wt, ld, d, k0, k1, s, j0, j0 == 0 ? ahead : 0);
    const Eigen::Index p = j0 == 0 ? ahead : 0;
    with_tile_width<CT - 1>(c - j0, [&](auto w) {
        narrow_scores_tile<T, R, decltype(w)::value>(x, wt, ld, d, k0, k1, s, j0, p);
    });
}

// S_b = X_b·W for one block: k-chunks of kc columns, so that the chunk of Wᵀ stays in L1 while
// every row pair of the block uses it; kc is a whole number of cache lines, so that the loads of
// Wᵀ (rows padded and aligned) stay aligned in every chunk.
template <class T>
void narrow_scores_block(const T* x, Eigen::Index rows, const T* wt, Eigen::Index ld, Eigen::Index d, T* s,
                         Eigen::Index c) {
    std::fill(s, s + rows * c, T(0));
    constexpr Eigen::Index line = Eigen::Index(64 / sizeof(T));
    const Eigen::Index kc = std::max<Eigen::Index>(
        line, Eigen::Index(narrow_params::l1_bytes / (sizeof(T) * static_cast<std::size_t>(c))) / line * line);
    for (Eigen::Index k0 = 0; k0 < d; k0 += kc) {
        const Eigen::Index k1 = std::min(d, k0 + kc);
        Eigen::Index i = 0;
        for (; i + 2 <= rows; i += 2) {
            const T* xr[2] = {x + i * d, x + (i + 1) * d};
            T* sr[2] = {s + i * c, s + (i + 1) * c};
            narrow_scores<T, 2>(xr, wt, ld, d, k0, k1, sr, c);
        }
        if (i < rows) {
            const T* xr[1] = {x + i * d};
            T* sr[1] = {s + i * c};
            narrow_scores<T, 1>(xr, wt, ld, d, k0, k1, sr, c);
        }
    }
}

// acct[j0 + j][k0 .. k0 + KV·L) += Σ_i ds[i][j0 + j]·x[i][k0 ..] over `rows` rows, for CT classes:
// KV·CT accumulators, KV row loads and CT broadcasts per row.
template <class T, int KV, int CT>
void narrow_gradient_tile(const T* x, Eigen::Index d, Eigen::Index rows, const T* ds, Eigen::Index c, T* acct,
                          Eigen::Index ld, Eigen::Index k0, Eigen::Index j0) {
    using V = narrow_vec<T>;
    constexpr Eigen::Index L = V::lanes;
    typename V::type acc[KV][CT];
    GRADPROOF_UNROLL
    for (int j = 0; j < CT; ++j)
        GRADPROOF_UNROLL
        for (int v = 0; v < KV; ++v) acc[v][j] = V::load(acct + (j0 + j) * ld + k0 + v * L);
    for (Eigen::Index i = 0; i < rows; ++i) {
        typename V::type xv[KV];
        GRADPROOF_UNROLL
        for (int v = 0; v < KV; ++v) xv[v] = V::load(x + i * d + k0 + v * L);
        GRADPROOF_UNROLL
        for (int j = 0; j < CT; ++j) {
            typename V::type b = V::broadcast(ds + i * c + j0 + j);
            asm("" : "+v"(b));  // one broadcast for the KV vectors (see narrow_scores_tile)
            GRADPROOF_UNROLL
            for (int v = 0; v < KV; ++v) acc[v][j] = V::fma(xv[v], b, acc[v][j]);
        }
    }
    GRADPROOF_UNROLL
    for (int j = 0; j < CT; ++j)
        GRADPROOF_UNROLL
        for (int v = 0; v < KV; ++v) V::store(acct + (j0 + j) * ld + k0 + v * L, acc[v][j]);
}

template <class T, int KV>
void narrow_gradient_columns(const T* x, Eigen::Index d, Eigen::Index rows, const T* ds, Eigen::Index c, T* acct,
                             Eigen::Index ld, Eigen::Index k0) {
    constexpr int CT = narrow_params::class_tile;
    Eigen::Index j0 = 0;
    for (; j0 + CT <= c; j0 += CT) narrow_gradient_tile<T, KV, CT>(x, d, rows, ds, c, acct, ld, k0, j0);
    with_tile_width<CT - 1>(c - j0, [&](auto w) {
        narrow_gradient_tile<T, KV, decltype(w)::value>(x, d, rows, ds, c, acct, ld, k0, j0);
    });
}

// acct (C×d) += dS_bᵀ·X_b for one block: tiles of two vectors of k × class_tile classes (2 + CT
// loads per 2·CT FMAs), then one vector, then the scalar tail.
template <class T>
void narrow_gradient_block(const T* x, Eigen::Index d, Eigen::Index rows, const T* ds, Eigen::Index c, T* acct,
                           Eigen::Index ld) {
    constexpr Eigen::Index L = narrow_vec<T>::lanes;
    Eigen::Index k = 0;
    for (; k + 2 * L <= d; k += 2 * L) narrow_gradient_columns<T, 2>(x, d, rows, ds, c, acct, ld, k);
    for (; k + L <= d; k += L) narrow_gradient_columns<T, 1>(x, d, rows, ds, c, acct, ld, k);
    for (; k < d; ++k)
        for (Eigen::Index j = 0; j < c; ++j) {
            T a = acct[j * ld + k];
            for (Eigen::Index i = 0; i < rows; ++i) a += ds[i * c + j] * x[i * d + k];
            acct[j * ld + k] = a;
        }
}

// Wᵀ (C×ld, rows zero beyond d) from W (D×C, row-major). shared: other threads will read Wᵀ, as
// they read the previous call's, whose lines their cores may still hold; then whole vectors of Wᵀ
// are written with non-temporal stores. Why: an ordinary store to a line cached in another core
// waits for that line's invalidation, and the stores retire in order, so the invalidations are
// paid one after another. Measured for (3073, 10) in float on the machine of the README: 36–40 µs
// with ordinary stores against 5 µs when no other core holds the lines, 9 µs streamed, and ≈ 2 µs
// more to read the streamed lines back from memory; an eighth of a call at (500, 3073, 10).
// Alone on its thread Wᵀ stays in the caller's caches: ordinary stores.
template <class T>
void narrow_transpose(const T* W, Eigen::Index d, Eigen::Index c, T* wt, Eigen::Index ld, bool shared) {
    using V = narrow_vec<T>;
    constexpr Eigen::Index L = V::lanes;
    // Rows of Wᵀ start on cache lines (ld is a whole number of lines), so with wt aligned to the
    // vector (Eigen::aligned_allocator in a build with these vectors) every stored vector is.
    shared = shared && reinterpret_cast<std::uintptr_t>(wt) % sizeof(typename V::type) == 0;
    Eigen::Index k0 = 0;
    if (shared) {
        alignas(64) T tile[narrow_params::max_classes][L];
        for (; k0 + L <= d; k0 += L) {
            for (Eigen::Index kk = 0; kk < L; ++kk)
                for (Eigen::Index j = 0; j < c; ++j) tile[j][kk] = W[(k0 + kk) * c + j];
            for (Eigen::Index j = 0; j < c; ++j) V::stream(wt + j * ld + k0, V::load(tile[j]));
        }
    }
    for (Eigen::Index j = 0; j < c; ++j) std::fill(wt + j * ld + d, wt + (j + 1) * ld, T(0));
    for (Eigen::Index k = k0; k < d; ++k)
        for (Eigen::Index j = 0; j < c; ++j) wt[j * ld + k] = W[k * c + j];
    // Streamed stores are not ordered by the release that hands the work to other threads.
    if (shared) _mm_sfence();
}

// The loss into dS (N×C) and dW (D×C), all row-major and contiguous; returns mean_i ℓ_i and ΣW²
// (as fused_softmax_loss_into). Requires n ≥ 2c and c ≤ narrow_params::max_classes; shapes and
// labels already validated.
template <class T>
fused_sums<T> narrow_softmax_loss(const T* W, const T* X, const std::int32_t* y, Eigen::Index n, Eigen::Index d,
                                  Eigen::Index c, T reg, T* dS, T* dW, const fused_context& ctx) {
    using P = narrow_params;
    const Eigen::Index rows_per_block = P::block_rows;
    const Eigen::Index blocks = (n + rows_per_block - 1) / rows_per_block;
    const double work = 4.0 * double(n) * double(d) * double(c);
    const std::size_t chunks = row_chunk_count(work, blocks, n, c);

    // Wᵀ and the accumulators are C×D with rows padded to whole cache lines and 32-byte aligned,
    // so that their vector loads never straddle two lines.
    constexpr Eigen::Index line = Eigen::Index(64 / sizeof(T));
    const Eigen::Index ld = (d + line - 1) / line * line;
    const auto dc = static_cast<std::size_t>(ld * c);
    // Wᵀ (zero beyond d) and one accumulator per chunk, in memory kept between calls (kernels/scratch.hpp).
    const std::size_t threads = ctx.threads<T>(work, chunks);
    const thread_scratch<T, scratch_tag::narrow_wt> wt_mem(dc);
    T* const wt = wt_mem.data();
    narrow_transpose(W, d, c, wt, ld, threads > 1);
    const thread_scratch<T, scratch_tag::narrow_accumulators> acc_mem(chunks * dc);
    T* const acc = acc_mem.data();
    std::array<T, fused_params::max_chunks> loss_part{};

    auto run_chunk = [&](std::size_t chunk) {
        T* acct = acc + chunk * dc;
        std::fill(acct, acct + dc, T(0));  // on the thread that fills it: in its cache
        const Eigen::Index b0 = blocks * Eigen::Index(chunk) / Eigen::Index(chunks);
        const Eigen::Index b1 = blocks * Eigen::Index(chunk + 1) / Eigen::Index(chunks);
        T part = T(0);
        for (Eigen::Index b = b0; b < b1; ++b) {
            const Eigen::Index r0 = b * rows_per_block, rows = std::min(rows_per_block, n - r0);
            narrow_scores_block(X + r0 * d, rows, wt, ld, d, dS + r0 * c, c);
            part += softmax_rows_loss_and_ds(dS + r0 * c, rows, c, y + r0);
            narrow_gradient_block(X + r0 * d, d, rows, dS + r0 * c, c, acct, ld);
        }
        loss_part[chunk] = part;
    };
    ctx.run(chunks, threads, run_chunk);

    // In Wᵀ's layout, where every operand is a contiguous vector: the chunk sums added in chunk
    // order, /N, + reg·W (Wᵀ; its padding and the accumulators' are zeros), ΣW² lane-wise; then
    // the result transposed into dW. (Formed in dW's layout, the division and the strided reads
    // of the accumulators were scalar: 13–17 µs of a call at (500, 3073, 10).)
    using V = narrow_vec<T>;
    T loss_sum = loss_part[0];
    for (std::size_t ch = 1; ch < chunks; ++ch) loss_sum += loss_part[ch];
    const T nn = T(n);
    const typename V::type vn = V::set1(nn), vreg = V::set1(reg);
    typename V::type sumsq = V::zero();
    for (std::size_t e = 0; e < dc; e += static_cast<std::size_t>(V::lanes)) {
        typename V::type sum = V::load(acc + e);
        for (std::size_t ch = 1; ch < chunks; ++ch) sum = V::add(sum, V::load(acc + ch * dc + e));
        const typename V::type w = V::load(wt + e);
        V::store(acc + e, V::add(V::div(sum, vn), V::mul(vreg, w)));
        sumsq = V::fma(w, w, sumsq);
    }
    for (Eigen::Index k = 0; k < d; ++k)
        for (Eigen::Index j = 0; j < c; ++j) dW[k * c + j] = acc[j * ld + k];
    fused_sums<T> r;
    r.data_loss = loss_sum / nn;
    r.w_sumsq = V::sum(sumsq);
    return r;
}

}  // namespace gradproof::detail
