// Micro-benchmarks of softmax_loss (loss + dW) for naive and vectorized, double and float, and of
// vectorized's softmax_loss_into (outputs reused across calls), at the shapes of issue 5, plus the two machine bounds the kernel is judged against, measured in the
// same run: Eigen's own large GEMM (peak flop rate of the build's flags) and a streaming read
// (memory bandwidth).
//
// Counters: items_per_second = flops (4·N·D·C: 2·N·D·C for X·W, 2·N·D·C for Xᵀ·dS),
// bytes_per_second = one read of X and W. Wall-clock time (UseRealTime) because the vectorized
// kernel is threaded. Run e.g.
//   bench_softmax_loss --benchmark_filter='vectorized<double>' --benchmark_min_time=1
// GRADPROOF_THREADS=1 measures the single-threaded kernel.
#include "impl/naive.hpp"
#include "impl/vectorized.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

namespace {

using gradproof::label_vector;
using gradproof::matrix;

template <class T>
struct problem {
    matrix<T> W, X;
    label_vector y;
    T reg = T(1e-3);

    problem(Eigen::Index n, Eigen::Index d, Eigen::Index c) : W(d, c), X(n, d), y(static_cast<std::size_t>(n)) {
        std::mt19937_64 rng(42);
        std::normal_distribution<double> normal(0.0, 1.0);
        // CS231n's initialisation: small weights, so the probabilities are spread, not saturated.
        for (Eigen::Index i = 0; i < W.size(); ++i) W.data()[i] = static_cast<T>(1e-2 * normal(rng));
        for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = static_cast<T>(normal(rng));
        std::uniform_int_distribution<std::int32_t> label(0, static_cast<std::int32_t>(c - 1));
        for (auto& v : y) v = label(rng);
    }
};

template <class T>
void set_counters(benchmark::State& state, double n, double d, double c) {
    const double flops = 4 * n * d * c, bytes = (n * d + d * c) * sizeof(T);
    state.SetItemsProcessed(static_cast<std::int64_t>(flops) * state.iterations());
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes) * state.iterations());
    state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

template <class Impl, class T>
void bm_softmax_loss(benchmark::State& state) {
    const problem<T> p(state.range(0), state.range(1), state.range(2));
    for (auto _ : state) {
        auto r = Impl::template softmax_loss<T>(p.W, p.X, p.y, p.reg);
        benchmark::DoNotOptimize(r.loss);
        benchmark::DoNotOptimize(r.dW.data());
        benchmark::ClobberMemory();
    }
    set_counters<T>(state, double(state.range(0)), double(state.range(1)), double(state.range(2)));
}

// vectorized::softmax_loss_into with one result reused across iterations (a training loop): the
// kernel without allocating or first-touching its outputs.
template <class T>
void bm_softmax_loss_into(benchmark::State& state) {
    const problem<T> p(state.range(0), state.range(1), state.range(2));
    gradproof::loss_result<T> r;
    for (auto _ : state) {
        gradproof::impl::vectorized::softmax_loss_into<T>(p.W, p.X, p.y, p.reg, r);
        benchmark::DoNotOptimize(r.loss);
        benchmark::DoNotOptimize(r.dW.data());
        benchmark::ClobberMemory();
    }
    set_counters<T>(state, double(state.range(0)), double(state.range(1)), double(state.range(2)));
}

// Peak flop rate: Eigen's GEMM of two n×n matrices (2·n³ flops), single-threaded like Eigen
// without OpenMP.
template <class T>
void bm_eigen_gemm_peak(benchmark::State& state) {
    const Eigen::Index n = state.range(0);
    using M = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    const M a = M::Random(n, n), b = M::Random(n, n);
    M c(n, n);
    for (auto _ : state) {
        c.noalias() = a * b;
        benchmark::DoNotOptimize(c.data());
        benchmark::ClobberMemory();
    }
    const double flops = 2.0 * double(n) * double(n) * double(n);
    state.SetItemsProcessed(static_cast<std::int64_t>(flops) * state.iterations());
    state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// Read bandwidth: sum of a 1 GiB array (four accumulators so that the adds keep up with memory).
void bm_read_bandwidth(benchmark::State& state) {
    const std::vector<double> a(std::size_t(1) << 27, 1.0);
    for (auto _ : state) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (std::size_t i = 0; i < a.size(); i += 4) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
        }
        benchmark::DoNotOptimize(s0 + s1 + s2 + s3);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(a.size() * sizeof(double)) * state.iterations());
}

// (N, D, C): tiny (per-call overhead), CS231n's development set and full batch, a 1000-class
// layer, a language-model vocabulary.
void shapes(benchmark::internal::Benchmark* b) {
    for (const auto& s : std::vector<std::vector<std::int64_t>>{
             {8, 16, 4}, {500, 3073, 10}, {4096, 3073, 10}, {256, 1024, 1000}, {64, 512, 50257}})
        b->Args(s);
    b->ArgNames({"N", "D", "C"})->UseRealTime()->Unit(benchmark::kMicrosecond);
}

}  // namespace

BENCHMARK_TEMPLATE(bm_eigen_gemm_peak, double)->Arg(2000)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(bm_eigen_gemm_peak, float)->Arg(2000)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_read_bandwidth)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(bm_softmax_loss, gradproof::impl::vectorized, double)->Apply(shapes);
BENCHMARK_TEMPLATE(bm_softmax_loss, gradproof::impl::vectorized, float)->Apply(shapes);
BENCHMARK_TEMPLATE(bm_softmax_loss_into, double)->Apply(shapes);
BENCHMARK_TEMPLATE(bm_softmax_loss_into, float)->Apply(shapes);
BENCHMARK_TEMPLATE(bm_softmax_loss, gradproof::impl::naive, double)->Apply(shapes);
BENCHMARK_TEMPLATE(bm_softmax_loss, gradproof::impl::naive, float)->Apply(shapes);

BENCHMARK_MAIN();
