// The machine `gradproof bench` runs on, and the two bounds its kernels are judged against,
// measured in the same run (issue 5):
//  • read bandwidth: a sum over an array far larger than the last-level cache, `threads` threads
//    each summing its own slice (four accumulators, so the adds keep up with memory);
//  • GEMM peak: Eigen's own large matrix product (n×n·n×n, 2n³ flops) in double and float, one
//    independent product per thread run concurrently, so that the bound counts every core the
//    threaded kernel may use. Eigen's GEMM is the one of the kernel build in use (portable SSE2,
//    or the AVX2+FMA library: kernels/kernel_isa.hpp), i.e. the peak that build can reach, not the
//    CPU's theoretical one.
// Both are the best of a few runs (the least disturbed by other processes).
#pragma once

#include <string>

namespace gradproof::bench {

struct machine_info {
    std::string cpu_model;       // /proc/cpuinfo "model name"
    int logical_cpus = 0;        // std::thread::hardware_concurrency
    int threads = 0;             // threads used for the bounds (= the kernels' thread count)
    double read_gb_per_s = 0;    // measured read bandwidth, 1e9 bytes/s
    double gemm_f64_gflops = 0;  // Eigen GEMM, all threads together
    double gemm_f32_gflops = 0;
    std::string kernel_isa;      // the kernel build the bounds and the kernels use: portable, avx2
    std::string compiler;        // e.g. "g++ 12.2.0"
    std::string eigen_version;
    std::string kernel;          // uname -sr
    std::string date_utc;        // ISO 8601
};

// quick: smaller arrays and matrices (≈ 0.3 s instead of ≈ 3 s), for tests and smoke runs.
machine_info describe_machine(int threads, bool quick);

// The CPU model alone (no measurement).
std::string cpu_model();

}  // namespace gradproof::bench
