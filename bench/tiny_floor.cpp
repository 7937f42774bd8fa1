// Is issue 5's target at (N, D, C) = (8, 16, 4) within reach? The target is 2× the time of one
// read of X and W at the machine's memory bandwidth: 768 bytes (float) or 1536 (double) at the
// 38–78 GB/s measured on this project's Zen 5, i.e. a whole call — checks, loss and gradient — in
// 20–40 ns (float) or 39–80 ns (double). This times, side by side:
//   • floor: a kernel written for exactly this shape in the fewest AVX-512 instructions found
//     (bench/tiny_floor_kernels.cpp), without argument checks, NaN handling or accurate exp/log —
//     faster than any correct kernel can be;
//   • floor, products only: the same with exp, log and the division replaced by multiplications;
//   • the library's vectorized::softmax_loss_into, the call `gradproof bench` times.
// bytes_per_second counts the 768 or 1536 bytes: the target asks for at least half the measured
// read bandwidth (`gradproof bench` prints it; bench_softmax_loss's bm_read_bandwidth measures it).
// Before timing either variant, the full floor's loss and dW are compared with the library's (the
// products-only variant computes something else by design); a floor that disagrees by more than
// its polynomials explain is not timed. Run:
//   bench_tiny_floor --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include "impl/vectorized.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>

namespace gradproof::bench_floor {
float floor_loss(const float* X, const float* W, const std::int32_t* y, float reg, float* dS, float* dW,
                 bool products_only);
double floor_loss(const double* X, const double* W, const std::int32_t* y, double reg, double* dS, double* dW,
                  bool products_only);
}  // namespace gradproof::bench_floor

namespace {

using gradproof::label_vector;
using gradproof::matrix;

constexpr Eigen::Index n = 8, d = 16, c = 4;

// One problem for both: matrix<T> is row-major, so the floor reads X and W in place; it writes its
// dS and dW into matrices of its own.
template <class T>
struct tiny_problem {
    matrix<T> W{d, c}, X{n, d}, floor_dS{n, c}, floor_dW{d, c};
    label_vector y = label_vector(static_cast<std::size_t>(n));
    T reg = T(1e-3);

    tiny_problem() {
        std::mt19937_64 rng(42);
        std::normal_distribution<double> normal(0.0, 1.0);
        // Weights large enough that the probabilities differ between classes.
        for (Eigen::Index i = 0; i < W.size(); ++i) W.data()[i] = static_cast<T>(0.3 * normal(rng));
        for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = static_cast<T>(normal(rng));
        std::uniform_int_distribution<std::int32_t> label(0, static_cast<std::int32_t>(c - 1));
        for (auto& v : y) v = label(rng);
    }

    T floor_call(bool products_only) {
        return gradproof::bench_floor::floor_loss(X.data(), W.data(), y.data(), reg, floor_dS.data(), floor_dW.data(),
                                                  products_only);
    }
};

// The floor's largest error relative to the library's result, over the loss and every dW entry
// (each divided by the largest |dW| or by the loss).
template <class T>
double floor_error(tiny_problem<T>& p) {
    const auto ref = gradproof::impl::vectorized::softmax_loss<T>(p.W, p.X, p.y, p.reg);
    const T loss = p.floor_call(false);
    const double scale = std::max(1e-300, double(ref.dW.cwiseAbs().maxCoeff()));
    const double loss_err = std::abs(double(loss) - double(ref.loss)) / std::abs(double(ref.loss));
    const double dw_err =
        (p.floor_dW.template cast<double>() - ref.dW.template cast<double>()).cwiseAbs().maxCoeff() / scale;
    return std::max(loss_err, dw_err);
}

// What the floor's polynomials allow (float: degree-5 exp, ≈ 2⁻²¹; double: ≈ 1e−13), with room.
template <class T>
constexpr double floor_tolerance = sizeof(T) == 4 ? 1e-5 : 1e-11;

template <class T>
void set_bytes(benchmark::State& state) {
    state.SetBytesProcessed(static_cast<std::int64_t>((n * d + d * c) * sizeof(T)) * state.iterations());
}

template <class T>
void bm_floor(benchmark::State& state, bool products_only) {
    tiny_problem<T> p;
    const double err = floor_error(p);
    if (!(err <= floor_tolerance<T>)) {
        state.SkipWithError(("the floor disagrees with the library: relative error " + std::to_string(err)).c_str());
        return;
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(p.floor_call(products_only));
        benchmark::ClobberMemory();
    }
    set_bytes<T>(state);
}

template <class T>
void bm_library_into(benchmark::State& state) {
    tiny_problem<T> p;
    gradproof::loss_result<T> r;
    for (auto _ : state) {
        gradproof::impl::vectorized::softmax_loss_into<T>(p.W, p.X, p.y, p.reg, r);
        benchmark::DoNotOptimize(r.loss);
        benchmark::ClobberMemory();
    }
    set_bytes<T>(state);
}

bool cpu_runs_floor() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    if (cpu_runs_floor()) {
        benchmark::RegisterBenchmark("floor<float>", bm_floor<float>, false);
        benchmark::RegisterBenchmark("floor_products_only<float>", bm_floor<float>, true);
        benchmark::RegisterBenchmark("floor<double>", bm_floor<double>, false);
        benchmark::RegisterBenchmark("floor_products_only<double>", bm_floor<double>, true);
    }
    benchmark::RegisterBenchmark("library_softmax_loss_into<float>", bm_library_into<float>);
    benchmark::RegisterBenchmark("library_softmax_loss_into<double>", bm_library_into<double>);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
