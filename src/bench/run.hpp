// `gradproof bench`: the comparison of issue 5 as plain result data — built-in implementations at
// each shape against the machine's bounds and the peers, and the certification of a full gradient
// against PyTorch's gradcheck. Rendering is in bench/report.hpp.
//
// Fused rows: the vectorized built-in's fused linear cross-entropy (blocked GEMMs, one thread)
// at (N, D, V), mean over hard labels with ignore_index −100 (none ignored) and a bias, against
// torch's cross_entropy(linear(H, W, b), y) with its backward; flops = 6·N·D·V (H·Wᵀ, G·W, Gᵀ·H).
//
// Per row: flops = 4·N·D·C (2·N·D·C for X·W, 2·N·D·C for Xᵀ·dS); bytes = one read of X and W;
// bandwidth bound = bytes / measured read bandwidth; compute bound = flops / measured GEMM peak of
// the same type; ratio to a bound = our time / bound time (1 = at the bound); ratio to a peer =
// peer time / our time (> 1: we are faster). Everything uses one thread count (--threads, default
// gradproof's kernel default): ours through set_num_threads, the bounds with that many concurrent
// workers, torch through torch::set_num_threads, numpy's BLAS through OPENBLAS_NUM_THREADS.
#pragma once

#include "bench/certify.hpp"
#include "bench/certify_fused.hpp"
#include "bench/machine.hpp"
#include "bench/peers.hpp"
#include "bench/timing.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gradproof::bench {

std::vector<shape> default_shapes();  // (8,16,4), (500,3073,10), (4096,3073,10), (256,1024,1000), (64,512,50257)

struct bench_config {
    std::vector<shape> shapes = default_shapes();
    int repetitions = 5;
    bool quick = false;     // smaller bound measurements, fewer repetitions
    int threads = 0;        // 0: gradproof's default (GRADPROOF_THREADS or all hardware threads)
    bool peers = true;
    std::string python = "/usr/bin/python3";
    std::string peers_dir;  // holds numpy_peer.py and gradcheck_peer.py
    std::string torch_peer; // executable; empty: unavailable
    bool certify = true;
    shape certify_shape{500, 3073, 10};
    std::vector<shape> fused_shapes{{256, 768, 50257}};  // (N, D, V): an LM head
    shape fused_certify_shape{256, 768, 50257};          // certified with `certify`
    // naive is run once (not repeated) above this many flops and skipped above naive_skip_flops.
    double naive_skip_flops = 2e10;
    std::function<void(const std::string&)> progress;  // one line per step (stderr in the CLI)
};

struct impl_row {
    shape s;
    std::string implementation;  // "vectorized", "vectorized_into" (reused outputs), "naive"
    std::string dtype;           // "f64", "f32"
    bool measured = false;
    std::string note;            // why not measured, or "1 run"
    timing t;
    double flops = 0, bytes = 0;
    double gflops = 0, gb_per_s = 0;
    double bandwidth_bound_seconds = 0, compute_bound_seconds = 0;
    double ratio_bandwidth = 0, ratio_compute = 0;  // our time / bound time
    std::optional<double> numpy_seconds, torch_seconds;
    std::optional<double> speedup_numpy, speedup_torch;  // peer time / our time
};

struct fused_row {
    shape s;               // (N, D, V)
    std::string dtype;     // "f64", "f32"
    bool measured = false;
    std::string note;
    timing t;
    double flops = 0, gflops = 0;
    std::optional<double> torch_seconds, speedup_torch;  // torch time / our time
};

struct certify_row {
    bool ran = false;
    std::string note;
    shape s;
    double implementation_seconds = 0;  // the vectorized f64 call being certified
    double total_seconds = 0;           // implementation + certification
    certification result;
    gradcheck_run gradcheck;
};

// Every element of the vectorized built-in's fused linear cross-entropy result (f64 and f32, on
// the same float-valued data: one certificate serves both) at an LM-head shape.
struct fused_certify_row {
    bool ran = false;
    std::string note;
    shape s;                                      // (N, D, V)
    std::vector<double> certificate_seconds;      // the enclosures (certify_fused), one per result
    std::vector<double> implementation_seconds;   // one call per result
    std::vector<fused_certification> results;     // f64, f32
};

struct bench_result {
    machine_info machine;
    int threads = 0;
    int repetitions = 0;
    bool quick = false;
    std::vector<impl_row> rows;
    std::vector<fused_row> fused;
    peer_run numpy, torch;
    certify_row certify;
    fused_certify_row fused_certify;
};

bench_result run_bench(const bench_config& config);

}  // namespace gradproof::bench
