// wide_softmax_loss: the class split of kernels/fused_loss.hpp (N < 2C: few rows, many classes, e.g.
// a language model's (64, 512, 50257)) with register tiles instead of Eigen's GEMM. Compiled only
// into the SIMD kernel libraries (kernels/kernels_simd.cpp); vectors are narrow_vec
// (kernels/narrow_loss_avx2.hpp): 256 bits with AVX2, 512 with AVX-512.
//
// Why. W (D×C) dominates: 206 MB in double at (64, 512, 50257). Eigen's class split reads W for
// the scores, then per column chunk writes dW = reg·W (a pass that reads W again and writes dW,
// whose lines the store first reads from memory) and lets the GEMM add fl(1/N)·Xᵀ·dS into it — a
// product of depth N = 64 that re-reads and re-writes the whole output. Here:
//   • scores S[:, J] = X·W[:, J]: W[:, J] packed k-block by k-block (≤ pack_bytes, read along its
//     rows: one page per row of a 50 257-wide W if a tile's column were read directly), then tiles
//     of row_tile rows × vec_tile vectors of classes, an FMA chain over k (X_ik broadcast, the
//     packed W loaded) that continues from block to block through the partial sums in dS;
//   • gradient dW[k, J] = fma(Σ_i X_ik·dS_iJ, fl(1/N), reg·W[k, J]): dS[:, J] packed, then tiles of
//     row_tile rows of dW × vec_tile vectors, an FMA chain over i (dS_i,J loaded, X_ik broadcast),
//     finished with W in the same registers and stored once; ΣW² on the way. W is read once and
//     dW written once.
//   • the last vector of a chunk is loaded and stored with a mask (and packed with zeros), so C
//     need not be a multiple of the vector (with scalar loops for its 8 leftover classes,
//     (256, 1024, 1000) in float took twice as long).
// Measured against the Eigen class split of the same build, alternately in one process, on an
// Intel Xeon (AVX-512): 0.80× the time in double and 0.81× in float at (64, 512, 50257); 0.92×
// and 1.06× at (256, 1024, 1000).
//
// Error analysis (the model of src/error/tolerance.hpp, Higham 2002 ch. 3; FMA = one rounding,
// Higham §2.6):
//   • S_ij: the D products X_ik·W_kj added in k order by one FMA chain (storing and reloading the
//     partial sum between k-blocks is exact), γ_D·Σ_k|X_ik·W_kj|;
//   • dW_kj: the N products added in row order (γ_N), times fl(1/N) (two roundings, the second
//     inside the fma) plus fl(reg·W_kj): N + 1 terms with at most N + 2 roundings each, the
//     γ_{N+2}·(Σ_i|X_ik·dS_ij|/N + |reg·W_kj|) of error/tolerance.cpp — the same as the small
//     kernel's (kernels/small_loss_avx2.hpp);
//   • ΣW²: per column chunk lane-wise partial sums, then the lanes, the chunks added in order: any
//     order, γ_{D·C};
//   • the row statistics and the loss sum: those of kernels/fused_loss.hpp (softmax_rows_loss_and_ds,
//     rows summed in order).
// Determinism: chunks and tiles depend on the shape only, each chunk's ΣW² is its own and the
// chunks are combined in order on the calling thread: bitwise identical for every thread count.
#pragma once

#include "kernels/fused_loss.hpp"
#include "kernels/narrow_loss_avx2.hpp"  // narrow_vec, with_tile_width, GRADPROOF_UNROLL

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace gradproof::detail {

struct wide_params {
    // Accumulators row_tile × vec_tile, plus vec_tile loads and one broadcast, in the registers:
    // 8 × 3 + 4 of AVX-512's 32, 4 × 3 + 4 of AVX2's 16.
#if defined(__AVX512F__)
    static constexpr int row_tile = 8;
#else
    static constexpr int row_tile = 4;
#endif
    static constexpr int vec_tile = 3;
    // Bytes of W packed at a time for the scores (k-block × column chunk): stays in L2 (1–2 MiB a
    // core) while every row tile reads it.
    static constexpr std::size_t pack_bytes = std::size_t(1) << 20;
};

// acc[r][v] += Σ_{t < len} a[r][t·a_step]·b[t·CV·L + v·L] for R rows and CV vectors (b packed: CV
// vectors per t): one FMA chain per accumulator in t order. The scores (a = rows of X, b = a
// block of W[:, J]) and the gradient (a = columns of X, b = dS[:, J]) are both this product.
template <class T, int R, int CV>
[[gnu::always_inline]] inline void wide_tile(const T* const (&a)[R], Eigen::Index a_step, const T* b, Eigen::Index len,
                                             typename narrow_vec<T>::type (&acc)[R][CV]) {
    using V = narrow_vec<T>;
    constexpr Eigen::Index L = V::lanes;
    for (Eigen::Index t = 0; t < len; ++t) {
        typename V::type bv[CV];
        GRADPROOF_UNROLL
        for (int v = 0; v < CV; ++v) bv[v] = V::load(b + (t * CV + v) * L);
        GRADPROOF_UNROLL
        for (int r = 0; r < R; ++r) {
            typename V::type x = V::broadcast(a[r] + t * a_step);
            asm("" : "+v"(x));  // one broadcast for the CV vectors (see narrow_scores_tile)
            GRADPROOF_UNROLL
            for (int v = 0; v < CV; ++v) acc[r][v] = V::fma(x, bv[v], acc[r][v]);
        }
    }
}

// Calls f(j0, integral_constant<int, CV>, last) for the class tiles of [c0, c1): vec_tile vectors
// at a time, then the remaining vectors; last = the classes in the tile's last vector (< lanes only
// at c1: that vector is loaded and stored with a mask, and packed with zeros).
template <class T, class F>
void wide_for_tiles(Eigen::Index c0, Eigen::Index c1, F&& f) {
    constexpr Eigen::Index L = narrow_vec<T>::lanes;
    constexpr int CV = wide_params::vec_tile;
    Eigen::Index j0 = c0;
    for (; j0 + CV * L <= c1; j0 += CV * L) f(j0, std::integral_constant<int, CV>{}, L);
    const Eigen::Index vectors = (c1 - j0 + L - 1) / L;
    with_tile_width<CV>(vectors, [&](auto w) { f(j0, w, c1 - j0 - (decltype(w)::value - 1) * L); });
}

// The tile's last vector v = CV − 1 of row p: whole, or its first `last` elements (zeros above).
template <class T>
typename narrow_vec<T>::type wide_load_last(const T* p, Eigen::Index last) {
    using V = narrow_vec<T>;
    return last == V::lanes ? V::load(p) : V::load(p, V::mask(last));
}

template <class T>
void wide_store_last(T* p, Eigen::Index last, typename narrow_vec<T>::type a) {
    using V = narrow_vec<T>;
    if (last == V::lanes) V::store(p, a);
    else V::store(p, V::mask(last), a);
}

// Copies rows [r0, r0 + len) of the columns [c0, c1) of m (row stride ld) into p, tile by tile: the
// tile at j0 (CV vectors) takes len·CV·L elements at p + (j0 − c0)·len, row after row, its last
// vector padded with zeros. Rows outside, tiles inside, so that m is read along its rows (one
// stream) rather than down a column of tiles (one page per row of a wide matrix); by vectors, not
// a library copy per tile row (at (64, 512, 50257) a million calls of 192 bytes).
template <class T>
void wide_pack(const T* m, Eigen::Index ld, Eigen::Index r0, Eigen::Index len, Eigen::Index c0, Eigen::Index c1,
               T* p) {
    using V = narrow_vec<T>;
    constexpr Eigen::Index L = V::lanes;
    for (Eigen::Index r = 0; r < len; ++r)
        wide_for_tiles<T>(c0, c1, [&](Eigen::Index j0, auto cv, Eigen::Index last) {
            constexpr int CV = decltype(cv)::value;
            const T* src = m + (r0 + r) * ld + j0;
            T* out = p + (j0 - c0) * len + r * CV * L;
            GRADPROOF_UNROLL
            for (int v = 0; v < CV - 1; ++v) V::store(out + v * L, V::load(src + v * L));
            V::store(out + (CV - 1) * L, wide_load_last(src + (CV - 1) * L, last));
        });
}

// S[:, c0 .. c1) = X·W[:, c0 .. c1) for all n rows, k-block by k-block: the block of W packed,
// then every class tile × row tile adds the block's products to its accumulators (zero for the
// first block, else the partial sums in S: the FMA chain over k continues in order).
template <class T>
void wide_scores_chunk(const T* W, const T* X, Eigen::Index n, Eigen::Index d, Eigen::Index c, Eigen::Index c0,
                       Eigen::Index c1, T* S, std::vector<T>& pack) {
    using V = narrow_vec<T>;
    constexpr Eigen::Index L = V::lanes;
    constexpr int R = wide_params::row_tile;
    const Eigen::Index kc = std::max<Eigen::Index>(
        1, Eigen::Index(wide_params::pack_bytes / (sizeof(T) * static_cast<std::size_t>(c1 - c0))));
    const Eigen::Index padded = (c1 - c0 + L - 1) / L * L;
    pack.resize(static_cast<std::size_t>(std::min(kc, d) * padded));
    for (Eigen::Index k0 = 0; k0 < d; k0 += kc) {
        const Eigen::Index len = std::min(kc, d - k0);
        wide_pack(W, c, k0, len, c0, c1, pack.data());
        wide_for_tiles<T>(c0, c1, [&](Eigen::Index j0, auto cv, Eigen::Index last) {
            constexpr int CV = decltype(cv)::value;
            const T* b = pack.data() + (j0 - c0) * len;
            auto rows = [&](Eigen::Index i0, auto width) {
                constexpr int RW = decltype(width)::value;
                const T* a[RW];
                typename V::type acc[RW][CV];
                GRADPROOF_UNROLL
                for (int r = 0; r < RW; ++r) {
                    a[r] = X + (i0 + r) * d + k0;
                    GRADPROOF_UNROLL
                    for (int v = 0; v < CV - 1; ++v) acc[r][v] = k0 == 0 ? V::zero() : V::load(S + (i0 + r) * c + j0 + v * L);
                    acc[r][CV - 1] = k0 == 0 ? V::zero() : wide_load_last(S + (i0 + r) * c + j0 + (CV - 1) * L, last);
                }
                wide_tile<T, RW, CV>(a, 1, b, len, acc);
                GRADPROOF_UNROLL
                for (int r = 0; r < RW; ++r) {
                    GRADPROOF_UNROLL
                    for (int v = 0; v < CV - 1; ++v) V::store(S + (i0 + r) * c + j0 + v * L, acc[r][v]);
                    wide_store_last(S + (i0 + r) * c + j0 + (CV - 1) * L, last, acc[r][CV - 1]);
                }
            };
            Eigen::Index i0 = 0;
            for (; i0 + R <= n; i0 += R) rows(i0, std::integral_constant<int, R>{});
            with_tile_width<R - 1>(n - i0, [&](auto width) { rows(i0, width); });
        });
    }
}

// dW[:, c0 .. c1) = fma(Xᵀ·dS[:, c0 .. c1), fl(1/N), reg·W[:, c0 .. c1)) for all d rows of dW
// (dS's columns packed first), returning ΣW² of those columns in lanes.
template <class T>
typename narrow_vec<T>::type wide_gradient_chunk(const T* W, const T* X, const T* dS, Eigen::Index n, Eigen::Index d,
                                                 Eigen::Index c, Eigen::Index c0, Eigen::Index c1, T reg, T inv_n,
                                                 T* dW, std::vector<T>& pack) {
    using V = narrow_vec<T>;
    constexpr Eigen::Index L = V::lanes;
    constexpr int R = wide_params::row_tile;
    pack.resize(static_cast<std::size_t>(n * ((c1 - c0 + L - 1) / L * L)));
    wide_pack(dS, c, 0, n, c0, c1, pack.data());
    const typename V::type vinv = V::set1(inv_n), vreg = V::set1(reg);
    typename V::type sq = V::zero();
    // k-tiles outside, class tiles inside: W and dW are walked row segment by row segment.
    auto rows = [&](Eigen::Index k0, auto width) {
        constexpr int RW = decltype(width)::value;
        const T* a[RW];
        GRADPROOF_UNROLL
        for (int r = 0; r < RW; ++r) a[r] = X + k0 + r;
        wide_for_tiles<T>(c0, c1, [&](Eigen::Index j0, auto cv, Eigen::Index last) {
            constexpr int CV = decltype(cv)::value;
            typename V::type acc[RW][CV];
            GRADPROOF_UNROLL
            for (int r = 0; r < RW; ++r)
                GRADPROOF_UNROLL
                for (int v = 0; v < CV; ++v) acc[r][v] = V::zero();
            wide_tile<T, RW, CV>(a, d, pack.data() + (j0 - c0) * n, n, acc);
            GRADPROOF_UNROLL
            for (int r = 0; r < RW; ++r)
                GRADPROOF_UNROLL
                for (int v = 0; v < CV; ++v) {
                    const Eigen::Index at = (k0 + r) * c + j0 + v * L;
                    const bool whole = v < CV - 1 || last == L;
                    const typename V::type w = whole ? V::load(W + at) : V::load(W + at, V::mask(last));
                    const typename V::type g = V::fma(acc[r][v], vinv, V::mul(vreg, w));
                    if (whole) V::store(dW + at, g);
                    else V::store(dW + at, V::mask(last), g);
                    sq = V::fma(w, w, sq);
                }
        });
    };
    Eigen::Index k0 = 0;
    for (; k0 + R <= d; k0 += R) rows(k0, std::integral_constant<int, R>{});
    with_tile_width<R - 1>(d - k0, [&](auto width) { rows(k0, width); });
    return sq;
}

// The loss into dS (N×C) and dW (D×C), row-major and contiguous; returns Σ-free results as
// fused_softmax_loss_into: mean_i ℓ_i and ΣW². For N < 2C; shapes and labels already validated.
template <class T>
fused_sums<T> wide_softmax_loss(const T* W, const T* X, const std::int32_t* y, Eigen::Index n, Eigen::Index d,
                                Eigen::Index c, T reg, T* dS, T* dW, const fused_context& ctx) {
    using V = narrow_vec<T>;
    using P = fused_params;
    const Eigen::Index chunk = P::col_chunk(c);
    const auto chunks = static_cast<std::size_t>((c + chunk - 1) / chunk);
    const double gemm_work = 2.0 * double(n) * double(d) * double(c);
    auto columns = [&](std::size_t j) {
        const Eigen::Index c0 = Eigen::Index(j) * chunk;
        return std::pair{c0, std::min(c, c0 + chunk)};
    };

    ctx.run(chunks, ctx.threads<T>(gemm_work, chunks), [&](std::size_t j) {
        const auto [c0, c1] = columns(j);
        std::vector<T> pack;
        wide_scores_chunk(W, X, n, d, c, c0, c1, dS, pack);
    });

    const T loss_sum = class_split_rows(dS, c, n, c, y, ctx);

    const T inv_n = T(1) / T(n);
    std::vector<T> sumsq(chunks);
    ctx.run(chunks, ctx.threads<T>(gemm_work, chunks), [&](std::size_t j) {
        const auto [c0, c1] = columns(j);
        std::vector<T> pack;
        sumsq[j] = V::sum(wide_gradient_chunk(W, X, dS, n, d, c, c0, c1, reg, inv_n, dW, pack));
    });

    fused_sums<T> r;
    r.data_loss = loss_sum / T(n);
    for (const T& q : sumsq) r.w_sumsq += q;
    return r;
}

}  // namespace gradproof::detail
