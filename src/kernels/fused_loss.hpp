// fused_softmax_loss: the softmax classifier loss L = mean_i ℓ_i + ½·reg·‖W‖² and its gradient
// dW = Xᵀ·dS/N + reg·W in one cache-blocked pass over X, on up to num_threads() threads
// (kernels/parallel.hpp: the environment variable GRADPROOF_THREADS, else the hardware concurrency;
// gradproof::set_num_threads(n) overrides both). vectorized::softmax_loss runs on it.
//
// Formulas (per row, unchanged from vectorized.hpp; Blanchard, Higham & Higham, IMA J. Numer.
// Anal. 41(4), 2021): a = max_j z_j at index k, s = Σ_{j≠k} exp(z_j − a), ℓ = (a − z_y) + log1p(s),
// dS_j = exp(z_j − a)/(1 + s) − δ_{jy}. A row holding NaN or +inf, or with every class masked
// (−inf), gives ℓ = NaN and a NaN row of dS; −inf classes get p = 0.
//
// Error analysis (the model of src/error/tolerance.hpp, Higham 2002 ch. 3): every sum below is
// still a sum of the same terms, only grouped differently, and the bounds used there hold in ANY
// summation order, depending only on the number of terms:
//   • scores S_ij: one dot product of length D per entry (Eigen's GEMM on a row block computes
//     the same dot products as on the whole of X): |ΔS_ij| ≤ γ_D·(|X||W|)_ij;
//   • row statistics: the operation sequence of vectorized.hpp, row by row (in the SIMD builds
//     with the vector exp of simd_exp.hpp, within the same k_elem·u as a library exp);
//   • dW_kj = (Σ_i X_ik·dS_ij)/N + reg·W_kj: the N products of column j are summed as block
//     partials (GEMM over B rows), accumulated block after block into a chunk accumulator, and
//     the chunk accumulators added in chunk order — still N products and N − 1 additions, so
//     γ_N on Σ_i|X_ik·dS_ij|, then one rounding for /N (γ_{N+1}) and two for + reg·W; the class
//     split instead starts from reg·W and lets the GEMM add fl(1/N)·(panel sum) for each depth
//     panel (two roundings for the scaling, one per addition into dW): N + 1 terms added in some
//     order with ≤ N + 2 roundings each before the last, the γ_{N+2} of error/tolerance.cpp;
//   • L: the N row losses summed per chunk and the chunk sums added in order (N − 1 additions,
//     γ_{N+1} with the division), plus ½·reg·‖W‖² (math.hpp), whose ΣW² is summed in the pass of
//     the gradient epilogue that reads W anyway (any order: γ_{|W|}).
// Blocked summation can only lower the constants in practice (error ~ per-block length plus the
// number of blocks), so the blocking itself needs no tolerance change.
//
// Blocking. For N ≥ 2C (the common case: many samples, few classes), rows are cut into blocks of
// B rows, B·D·sizeof(T) ≈ block_bytes = 2 MiB: the block of X is read from memory once by the GEMM
// S_b = X_b·W and re-read right after by the GEMM dW += X_bᵀ·dS_b, from L2 (1 MiB a core on AMD
// Zen 4 and Intel server cores, 2 MiB on newer ones) and the core's share of L3 for the rest; W
// and the D×C accumulator (240 KiB each for CIFAR-10's 3073×10 in double) stay cached beside it.
// Why not smaller: every block re-packs W and re-reads and re-writes the accumulator inside
// Eigen's GEMM, D·C elements each, so B rows must amortise them; measured single-threaded on the
// machine of the README (CPU time, (4096, 3073, 10) and (500, 3073, 10)), 512 KiB–4 MiB blocks are
// within 5 % of each other on the large shape and 2–4 MiB are 10–20 % faster than 512 KiB on the
// small one. Why not larger: two or more threads each hold a block, and L3 is shared.
// Blocks are grouped into chunks, each with its own accumulator; the chunk count (a power of two,
// at most max_chunks, one per min_chunk_flops of work) depends on the shape only, never on the
// thread count, so threads never share an accumulator and never wait, and the sums are the same
// for every thread count. The chunk count is also capped at N/(2C) so that the accumulators
// (chunks·D·C) stay below half of X: they cost less memory traffic than X itself.
//
// For N < 2C (large vocabularies: (64, 512, 50257)), W dominates memory and the work is split over
// classes instead: column chunks of col_chunk(C) classes compute S[:, J] = X·W[:, J] (X stays in
// cache, W is streamed once), then every row's statistics are taken over the full row (rows split
// over threads), then per column chunk dW[:, J] = reg·W[:, J] (summing ΣW² on the way) and
// dW[:, J] += fl(1/N)·Xᵀ·dS[:, J] as the GEMM's own scaled accumulation — Eigen's `=` would first
// zero dW and a separate pass then apply /N and + reg·W: two more passes over a D×C output that
// is 206 MB at (64, 512, 50257). No accumulator is shared, no reduction is needed, and the dot
// products are the same as in the row split. The SIMD kernel libraries run the same split with
// register tiles instead (kernels/wide_loss.hpp: dW written once, W read once per pass).
#pragma once

#include "core/matrix.hpp"
#include "kernels/huge_pages.hpp"
#include "kernels/kernel_isa.hpp"
#include "impl/math.hpp"
#include "kernels/parallel.hpp"
#include "kernels/scratch.hpp"

#if defined(__AVX2__) && defined(__FMA__)
#include "kernels/simd_exp.hpp"
#endif

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

namespace gradproof::detail {

// The two halves of one row's softmax, shared by the row function and the blocked rows function
// below so that both perform the same operations in the same order.
//
// First half: the first index k of the largest logit a = z_k, and whether the row can be used at
// all (no NaN, no +inf, not every logit −inf).
struct softmax_row_scan {
    Eigen::Index k;
    bool ok;
};

template <class T>
softmax_row_scan scan_softmax_row(const T* z, Eigen::Index c) {
    Eigen::Index k = 0;
    bool ok = true;
    for (Eigen::Index j = 0; j < c; ++j) {
        if (isnan_(z[j]) || z[j] == inf_<T>()) ok = false;
        if (z[j] > z[k]) k = j;
    }
    return {k, ok && z[k] != -inf_<T>()};
}

// A row that cannot be used becomes NaN throughout, and so does its loss.
template <class T>
T poison_softmax_row(T* z, Eigen::Index c) {
    std::fill(z, z + c, nan_<T>());
    return nan_<T>();
}

// Second half: w holds the weights exp(z_j − a) for j ≠ k (w_k is overwritten). Turns them into
// dS = p − e_y and returns ℓ = (a − z_y) + log1p(s). s = Σ_{j≠k} directly: subtracting 1 from the
// full sum would cancel when s is tiny.
template <class T>
T finish_softmax_row(T* w, Eigen::Index c, Eigen::Index k, T a, T zy, Eigen::Index y) {
    T s = T(0);
    for (Eigen::Index j = 0; j < c; ++j)
        if (j != k) s += w[j];
    w[k] = T(1);
    const T loss = (a - zy) + log1p_(s);
    const T denom = T(1) + s;
    for (Eigen::Index j = 0; j < c; ++j) w[j] /= denom;
    w[y] -= T(1);
    return loss;
}

// Turns one row of logits z (length c, label y) into dS = p − e_y in place and returns ℓ, with the
// operation sequence of vectorized::stats (so both paths round identically).
template <class T>
T softmax_row_loss_and_ds(T* z, Eigen::Index c, Eigen::Index y) {
    const auto [k, ok] = scan_softmax_row(z, c);
    if (!ok) return poison_softmax_row(z, c);
    const T a = z[k];
    const T zy = z[y];
    for (Eigen::Index j = 0; j < c; ++j)
        if (j != k) z[j] = exp_(T(z[j] - a));
    return finish_softmax_row(z, c, k, a, zy, y);
}

// softmax_row_loss_and_ds for `rows` consecutive rows of c logits (contiguous), returning the sum
// of their ℓ in row order. In the SIMD kernel libraries (compiled with AVX2 and FMA) the weights
// exp(z_j − a) of all the rows are taken by one vector exp (kernels/simd_exp.hpp, error ≤ 1.025u with
// AVX2, ≤ 1.19u with AVX-512, within the k_elem·u of error/tolerance.hpp); the other operations are
// the row function's halves, in the same order. Elsewhere it is the row function, row after row.
template <class T>
T softmax_rows_loss_and_ds(T* z, Eigen::Index rows, Eigen::Index c, const std::int32_t* y) {
#if defined(__AVX2__) && defined(__FMA__)
    if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>) {
        // Sub-blocks of rows whose per-row statistics fit on the stack.
        constexpr Eigen::Index sub = 32;
        T total = T(0);
        std::array<T, sub> a, zy;
        std::array<softmax_row_scan, sub> scan;
        for (Eigen::Index i0 = 0; i0 < rows; i0 += sub) {
            const Eigen::Index m = std::min(sub, rows - i0);
            T* zb = z + i0 * c;
            for (Eigen::Index i = 0; i < m; ++i) {
                T* zi = zb + i * c;
                const auto ui = static_cast<std::size_t>(i);
                scan[ui] = scan_softmax_row(zi, c);
                a[ui] = zi[scan[ui].k];
                zy[ui] = zi[y[i0 + i]];
                for (Eigen::Index j = 0; j < c; ++j) zi[j] = T(zi[j] - a[ui]);
            }
            exp_nonpositive_inplace(zb, m * c);
            for (Eigen::Index i = 0; i < m; ++i) {
                T* zi = zb + i * c;
                const auto ui = static_cast<std::size_t>(i);
                total += scan[ui].ok ? finish_softmax_row(zi, c, scan[ui].k, a[ui], zy[ui], y[i0 + i])
                                     : poison_softmax_row(zi, c);
            }
        }
        return total;
    }
#endif
    T total = T(0);
    for (Eigen::Index i = 0; i < rows; ++i) total += softmax_row_loss_and_ds(z + i * c, c, y[i]);
    return total;
}

struct fused_params {
    // Bytes of X per row block (see the header comment).
    static constexpr std::size_t block_bytes = std::size_t(2) * 1024 * 1024;
    // Upper bound on row chunks (per-chunk dW accumulators): enough for 16 threads.
    static constexpr std::size_t max_chunks = 16;
    // Flops of one chunk at least, so that a chunk's accumulator is amortised: the accumulators are
    // zeroed and added up once per call (D·C elements each, memory work, ≈ 20× a flop's time).
    // Measured at (500, 3073, 10) with 2 threads, register-tiled kernel: 2^24 (2 chunks) takes
    // 0.86–0.93× the time of 2^22 (8 chunks). The price: a problem this size cannot use more than
    // work/2^24 threads (the chunks depend on the shape only, for determinism).
    static constexpr double min_chunk_flops = 16777216.0;
    // Classes per column chunk in the class split: a power of two between 256 and 1024, about C/16.
    // Wide chunks make the dW product (depth N, small) efficient: at (64, 512, 50257) 1024 classes
    // take 0.78× (f64) and 0.63× (f32) of the time of 256; narrow ones give every thread several
    // chunks at C = 1000.
    static Eigen::Index col_chunk(Eigen::Index c) {
        Eigen::Index w = 256;
        while (w < 1024 && 2 * w * 16 <= c) w *= 2;
        return w;
    }
    // Rows per task of the row-statistics phase of the class split.
    static constexpr Eigen::Index stat_rows = 8;
};

// How a fused kernel gets threads. The kernels are also compiled into the separately built SIMD
// kernel libraries (kernels/kernels_simd.cpp), which must not call into gradproof::core: the caller
// passes its thread bound and its fork–join loop in.
struct fused_context {
    std::size_t max_threads = 1;
    void (*parallel)(std::size_t tasks, std::size_t threads, const std::function<void(std::size_t)>& task) = nullptr;

    // Threads are used for hardware scalars only: multiprecision types (white-box mp_real) keep
    // per-thread precision state and run on the calling thread.
    template <class T>
    std::size_t threads(double work, std::size_t tasks) const {
        if constexpr (std::is_floating_point_v<T>) return threads_for_limit(work, tasks, max_threads);
        else return 1;
    }

    // Runs task(0) … task(tasks − 1) on up to `threads` threads through `parallel`
    // (parallel_for_threads in gradproof::core); one thread or one task runs inline, in order,
    // without a std::function (no allocation: the tiny problems' per-call overhead).
    template <class F>
    void run(std::size_t tasks, std::size_t threads, F&& task) const {
        if (threads <= 1 || tasks <= 1 || parallel == nullptr) {
            for (std::size_t i = 0; i < tasks; ++i) task(i);
            return;
        }
        parallel(tasks, threads, std::function<void(std::size_t)>(std::ref(task)));
    }
};

// Chunks of the row split (see the header comment): a power of two, so that 2, 4, 8 or 16 threads
// get equal shares; at most max_chunks, one per min_chunk_flops of work, one per block, and
// N/(2C) so that the chunk accumulators stay smaller than X. The shape alone decides.
inline std::size_t row_chunk_count(double work, Eigen::Index blocks, Eigen::Index n, Eigen::Index c) {
    using P = fused_params;
    const std::size_t cap =
        std::min({static_cast<std::size_t>(std::max(1.0, work / P::min_chunk_flops)), P::max_chunks,
                  static_cast<std::size_t>(blocks), static_cast<std::size_t>(std::max<Eigen::Index>(1, n / (2 * c)))});
    std::size_t chunks = 1;
    while (2 * chunks <= cap) chunks *= 2;
    return chunks;
}

template <class T>
using const_view = Eigen::Ref<const matrix<T>>;
template <class T>
using view = Eigen::Ref<matrix<T>>;

// What a fused kernel returns besides dS and dW: the data term mean_i ℓ_i, and fl(ΣW²) in the
// kernel's own order. The caller adds ½·reg·‖W‖² (half_reg_squared_norm(W, reg, w_sumsq)) after
// checking W, which a non-finite w_sumsq flags: a NaN or ±inf weight makes it NaN or +inf.
template <class T>
struct fused_sums {
    T data_loss{};
    T w_sumsq{};
};

// dW = dW/N + reg·W row by row (rows are contiguous), returning ΣW² over the same rows: W is read
// once for both.
template <class T>
T finish_gradient_rows(view<T> dW, const_view<T> W, T nn, T reg) {
    T sumsq = T(0);
    for (Eigen::Index k = 0; k < W.rows(); ++k) {
        dW.row(k) = dW.row(k) / nn + reg * W.row(k);
        sumsq += W.row(k).squaredNorm();
    }
    return sumsq;
}

// Row split (N ≥ 2C). Fills dS and dW (before the final /N + reg·W) and returns Σ ℓ_i.
template <class T>
T fused_row_split(const_view<T> W, const_view<T> X, const std::int32_t* y, view<T> dS, view<T> dW,
                  const fused_context& ctx) {
    using P = fused_params;
    const Eigen::Index n = X.rows(), d = X.cols(), c = W.cols();
    const Eigen::Index rows_per_block =
        std::max<Eigen::Index>(1, static_cast<Eigen::Index>(P::block_bytes / (sizeof(T) * static_cast<std::size_t>(d))));
    const Eigen::Index blocks = (n + rows_per_block - 1) / rows_per_block;
    const double work = 4.0 * double(n) * double(d) * double(c);
    const std::size_t chunks = row_chunk_count(work, blocks, n, c);

    // Chunk 0 accumulates into dW itself, the others into memory kept between calls
    // (kernels/scratch.hpp); the first block of a chunk writes its accumulator whole.
    const thread_scratch<T, scratch_tag::row_split_accumulators> acc_mem((chunks - 1) *
                                                                         static_cast<std::size_t>(d * c));
    auto acc = [&](std::size_t k) { return Eigen::Map<matrix<T>>(acc_mem.data() + (k - 1) * std::size_t(d * c), d, c); };
    std::array<T, P::max_chunks> loss_part{};  // no allocation: tiny problems pay per call
    auto run_chunk = [&](std::size_t chunk) {
        auto a = chunk == 0 ? view<T>(dW) : view<T>(acc(chunk));
        const Eigen::Index b0 = blocks * Eigen::Index(chunk) / Eigen::Index(chunks);
        const Eigen::Index b1 = blocks * Eigen::Index(chunk + 1) / Eigen::Index(chunks);
        T part = T(0);
        for (Eigen::Index b = b0; b < b1; ++b) {
            const Eigen::Index r0 = b * rows_per_block, rows = std::min(rows_per_block, n - r0);
            const auto Xb = X.middleRows(r0, rows);
            auto Sb = dS.middleRows(r0, rows);
            Sb.noalias() = Xb * W;
            part += softmax_rows_loss_and_ds(&Sb(0, 0), rows, c, y + r0);
            if (b == b0) a.noalias() = Xb.transpose() * Sb;
            else a.noalias() += Xb.transpose() * Sb;
        }
        loss_part[chunk] = part;
    };
    ctx.run(chunks, ctx.threads<T>(work, chunks), run_chunk);

    T loss_sum = loss_part[0];
    for (std::size_t k = 1; k < chunks; ++k) {
        dW += acc(k);
        loss_sum += loss_part[k];
    }
    return loss_sum;
}

// The class split's row phase: S (N rows of C scores, row stride ld) to dS in place, the rows split
// over threads; returns Σ ℓ_i, added in row order.
template <class T>
T class_split_rows(T* S, Eigen::Index ld, Eigen::Index n, Eigen::Index c, const std::int32_t* y,
                   const fused_context& ctx) {
    using P = fused_params;
    const Eigen::Index row_tasks = (n + P::stat_rows - 1) / P::stat_rows;
    std::vector<T> row_loss(static_cast<std::size_t>(n));
    // exp, log1p and a division per logit: ~20 flops' worth each.
    ctx.run(static_cast<std::size_t>(row_tasks), ctx.threads<T>(20.0 * double(n) * double(c), std::size_t(row_tasks)),
            [&](std::size_t t) {
                const Eigen::Index r0 = Eigen::Index(t) * P::stat_rows, r1 = std::min(n, r0 + P::stat_rows);
                for (Eigen::Index i = r0; i < r1; ++i)
                    row_loss[static_cast<std::size_t>(i)] = softmax_rows_loss_and_ds(S + i * ld, 1, c, y + i);
            });
    T loss_sum = T(0);
    for (const T& l : row_loss) loss_sum += l;
    return loss_sum;
}

// Class split (N < 2C). Fills dS and the final dW (including /N + reg·W) and returns Σ ℓ_i and ΣW²
// (per column chunk, the chunks added in order).
template <class T>
std::pair<T, T> fused_class_split(const_view<T> W, const_view<T> X, const std::int32_t* y, T reg, view<T> dS,
                                  view<T> dW, const fused_context& ctx) {
    using P = fused_params;
    const Eigen::Index n = X.rows(), d = X.cols(), c = W.cols();
    const Eigen::Index chunk = P::col_chunk(c);
    const Eigen::Index col_chunks = (c + chunk - 1) / chunk;
    const double gemm_work = 2.0 * double(n) * double(d) * double(c);
    const auto ncols = static_cast<std::size_t>(col_chunks);
    auto cols = [&](std::size_t j) {
        const Eigen::Index c0 = Eigen::Index(j) * chunk;
        return std::pair{c0, std::min(chunk, c - c0)};
    };

    ctx.run(ncols, ctx.threads<T>(gemm_work, ncols), [&](std::size_t j) {
        const auto [c0, w] = cols(j);
        dS.middleCols(c0, w).noalias() = X * W.middleCols(c0, w);
    });

    const T loss_sum = class_split_rows(dS.data(), dS.outerStride(), n, c, y, ctx);

    const T inv_n = T(1) / T(n);
    std::vector<T> sumsq(ncols);
    ctx.run(ncols, ctx.threads<T>(gemm_work, ncols), [&](std::size_t j) {
        const auto [c0, w] = cols(j);
        auto dWj = dW.middleCols(c0, w);
        const auto Wj = W.middleCols(c0, w);
        T s = T(0);
        for (Eigen::Index k = 0; k < Wj.rows(); ++k) {
            dWj.row(k) = reg * Wj.row(k);
            s += Wj.row(k).squaredNorm();
        }
        sumsq[j] = s;
        // The scalar factor of the left operand becomes the GEMM's alpha: dWj += alpha·(Xᵀ·dS).
        dWj.noalias() += (inv_n * X.transpose()) * dS.middleCols(c0, w);
    });

    T sumsq_all = T(0);
    for (const T& q : sumsq) sumsq_all += q;
    return {loss_sum, sumsq_all};
}

// The fused loss into caller-provided dS (N×C) and dW (D×C). Shapes and labels already validated;
// the values of W and X are judged by the caller from the result (vectorized::softmax_loss_into).
template <class T>
fused_sums<T> fused_softmax_loss_into(const_view<T> W, const_view<T> X, const std::int32_t* y, T reg, view<T> dS,
                                      view<T> dW, const fused_context& ctx) {
    const Eigen::Index n = X.rows(), c = W.cols();
    const T nn = T(n);
    fused_sums<T> r;
    if (n >= 2 * c) {
        r.data_loss = fused_row_split<T>(W, X, y, dS, dW, ctx) / nn;
        r.w_sumsq = finish_gradient_rows<T>(dW, W, nn, reg);
    } else {
        const auto [loss_sum, sumsq] = fused_class_split<T>(W, X, y, reg, dS, dW, ctx);
        r.data_loss = loss_sum / nn;
        r.w_sumsq = sumsq;
    }
    return r;
}

// The portable build of the kernel on this process's threads (kernels/parallel.hpp).
inline fused_context portable_fused_context() {
    return fused_context{static_cast<std::size_t>(num_threads()), &parallel_for_threads};
}

// The kernel of vectorized::softmax_loss_into: the selected SIMD build (kernels/kernel_isa.hpp), else
// the portable one, into dS and dW, resized to N×C and D×C (storage kept when the size is
// unchanged: Eigen reallocates only on a new element count; new large storage goes on huge
// pages, kernels/huge_pages.hpp). Shapes and labels already validated.
template <class T>
fused_sums<T> fused_softmax_loss(const matrix<T>& W, const matrix<T>& X, const label_vector& y, T reg, matrix<T>& dS,
                                 matrix<T>& dW) {
    resize_output(dS, X.rows(), W.cols());
    resize_output(dW, W.rows(), W.cols());
    if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>) {
        fused_sums<T> r;
        if (run_accelerated_fused_loss(W, X, y, reg, dS, dW, r.data_loss, r.w_sumsq)) return r;
    }
    return fused_softmax_loss_into<T>(W, X, y.data(), reg, dS, dW, portable_fused_context());
}

}  // namespace gradproof::detail
