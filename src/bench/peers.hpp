// Peers of `gradproof bench`, each run as a subprocess in the same run and timed in-process by the
// peer itself (interpreter or library start-up excluded): the seed's numpy function
// (bench/peers/numpy_peer.py), PyTorch CPU through libtorch (bench/peers/torch_peer.cpp) and
// PyTorch's gradcheck (bench/peers/gradcheck_peer.py). A peer that cannot run is reported as
// unavailable with the reason (missing interpreter, module, executable, a crash: the last line
// of its output), never as an error of the bench.
#pragma once

#include <string>
#include <vector>

namespace gradproof::bench {

struct shape {
    long n = 0, d = 0, c = 0;
    std::string text() const { return std::to_string(n) + "x" + std::to_string(d) + "x" + std::to_string(c); }
    bool operator==(const shape&) const = default;
};

struct peer_timing {
    shape s;
    std::string dtype;  // "f64" or "f32"
    double median_seconds = 0;
    int repetitions = 0;
};

struct peer_run {
    std::string name;       // "numpy", "torch"
    bool available = false;
    std::string reason;     // why not, when unavailable
    std::string version;
    int threads = 0;
    std::string command;
    std::vector<peer_timing> results;
    std::vector<peer_timing> fused_results;  // fused linear cross-entropy, shape (n, d, v) in s
    const peer_timing* find(const shape& s, const std::string& dtype) const;
    const peer_timing* find_fused(const shape& s, const std::string& dtype) const;
};

struct gradcheck_run {
    bool available = false;
    std::string reason;
    std::string version;
    int threads = 0;
    std::string command;
    shape s;
    double forward_seconds = 0;           // one evaluation of the loss (float64)
    double forward_backward_seconds = 0;  // loss + backward
    long full_evaluations = 0;            // 2·D·C
    double full_estimate_seconds = 0;     // 2·D·C·forward + backward
    double fast_mode_seconds = 0;         // gradcheck(fast_mode=True), timed
    bool fast_mode_passed = false;
    double atol = 0, rtol = 0;
};

// python: the interpreter (Debian's /usr/bin/python3 with python3-numpy / python3-torch);
// script: the peer script. threads: the thread count the peer should use (BLAS / torch).
peer_run run_numpy_peer(const std::string& python, const std::string& script, const std::vector<shape>& shapes,
                        int repetitions, int threads);
// fused_shapes: (n, d, v) of cross_entropy(linear(H, W, b), y) with its backward; none: not timed.
peer_run run_torch_peer(const std::string& executable, const std::vector<shape>& shapes,
                        const std::vector<shape>& fused_shapes, int repetitions, int threads);
gradcheck_run run_gradcheck_peer(const std::string& python, const std::string& script, const shape& s, int threads);

}  // namespace gradproof::bench
