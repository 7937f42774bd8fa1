#include "bench/run.hpp"

#include "impl/builtin.hpp"
#include "impl/parallel.hpp"
#include "impl/vectorized.hpp"

#include <chrono>
#include <random>
#include <stdexcept>

namespace gradproof::bench {

namespace {

// CS231n-like data (as bench/bench_softmax_loss.cpp): X ~ N(0, 1), W ~ 1e−2·N(0, 1), uniform
// labels, reg = 1e−3; probabilities spread, not saturated.
struct problem {
    matrix<double> W, X;
    label_vector y;
    double reg = 1e-3;
    explicit problem(const shape& s) : W(s.d, s.c), X(s.n, s.d), y(static_cast<std::size_t>(s.n)) {
        std::mt19937_64 rng(42);
        std::normal_distribution<double> normal(0.0, 1.0);
        for (Eigen::Index i = 0; i < W.size(); ++i) W.data()[i] = 1e-2 * normal(rng);
        for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = normal(rng);
        std::uniform_int_distribution<std::int32_t> label(0, static_cast<std::int32_t>(s.c - 1));
        for (auto& v : y) v = label(rng);
    }
};

// Times call() (returning the loss) at shape s, against the bounds of machine m.
template <class T, class Call>
impl_row measure_row(const std::string& implementation, const shape& s, const bench_config& cfg,
                     const machine_info& m, Call&& call) {
    impl_row r;
    r.s = s;
    r.implementation = implementation;
    r.dtype = std::is_same_v<T, double> ? "f64" : "f32";
    r.flops = 4.0 * static_cast<double>(s.n) * static_cast<double>(s.d) * static_cast<double>(s.c);
    r.bytes = static_cast<double>(s.n * s.d + s.d * s.c) * sizeof(T);
    r.bandwidth_bound_seconds = r.bytes / (m.read_gb_per_s * 1e9);
    r.compute_bound_seconds = r.flops / ((std::is_same_v<T, double> ? m.gemm_f64_gflops : m.gemm_f32_gflops) * 1e9);
    if (implementation == "naive" && r.flops > cfg.naive_skip_flops) {
        r.note = "skipped (too slow)";
        return r;
    }
    volatile T sink = 0;
    r.t = time_call([&] { sink = sink + call(); }, cfg.repetitions);
    r.measured = true;
    if (r.t.repetitions == 1) r.note = "1 run";
    r.gflops = r.flops / r.t.median_seconds / 1e9;
    r.gb_per_s = r.bytes / r.t.median_seconds / 1e9;
    r.ratio_bandwidth = r.t.median_seconds / r.bandwidth_bound_seconds;
    r.ratio_compute = r.t.median_seconds / r.compute_bound_seconds;
    return r;
}

// The rows of one precision at one shape: vectorized as every subject is called (fresh outputs:
// the call allocates dW and dS, and the OS maps their pages on first touch), vectorized_into
// (softmax_loss_into with one loss_result reused across calls, as a training loop does: no
// allocation after the warm-up call), and naive (double only).
template <class T>
void measure_precision(const subject& vec, const subject& naive, const shape& s, const problem& p,
                       const bench_config& cfg, bench_result& out) {
    const matrix<T> W = p.W.cast<T>(), X = p.X.cast<T>();
    const T reg = static_cast<T>(p.reg);
    const auto& fresh = vec.at<T>().softmax_loss;
    out.rows.push_back(measure_row<T>(vec.name, s, cfg, out.machine, [&] { return fresh(W, X, p.y, reg).loss; }));
    loss_result<T> reused;
    out.rows.push_back(measure_row<T>("vectorized_into", s, cfg, out.machine, [&] {
        impl::vectorized::softmax_loss_into<T>(W, X, p.y, reg, reused);
        return reused.loss;
    }));
    if constexpr (std::is_same_v<T, double>) {
        const auto& f = naive.at<T>().softmax_loss;
        out.rows.push_back(measure_row<T>(naive.name, s, cfg, out.machine, [&] { return f(W, X, p.y, reg).loss; }));
    }
}

void attach_peers(impl_row& r, const peer_run& numpy, const peer_run& torch) {
    if (!r.measured) return;
    if (const auto* t = numpy.find(r.s, r.dtype)) {
        r.numpy_seconds = t->median_seconds;
        r.speedup_numpy = t->median_seconds / r.t.median_seconds;
    }
    if (const auto* t = torch.find(r.s, r.dtype)) {
        r.torch_seconds = t->median_seconds;
        r.speedup_torch = t->median_seconds / r.t.median_seconds;
    }
}

}  // namespace

std::vector<shape> default_shapes() {
    return {{8, 16, 4}, {500, 3073, 10}, {4096, 3073, 10}, {256, 1024, 1000}, {64, 512, 50257}};
}

bench_result run_bench(const bench_config& cfg) {
    auto say = [&](const std::string& s) {
        if (cfg.progress) cfg.progress(s);
    };
    if (cfg.threads > 0) set_num_threads(cfg.threads);
    bench_result out;
    out.threads = num_threads();
    out.repetitions = cfg.repetitions;
    out.quick = cfg.quick;
    say("measuring the machine (read bandwidth, Eigen GEMM peak)");
    out.machine = describe_machine(out.threads, cfg.quick);

    const subject* vec = find_builtin("vectorized");
    const subject* naive = find_builtin("naive");
    if (!vec || !naive) throw std::runtime_error("bench: built-in implementations missing");
    for (const auto& s : cfg.shapes) {
        say("timing gradproof at " + s.text());
        const problem p(s);
        measure_precision<double>(*vec, *naive, s, p, cfg, out);
        measure_precision<float>(*vec, *naive, s, p, cfg, out);
    }
    if (cfg.peers) {
        say("running the numpy peer");
        out.numpy = run_numpy_peer(cfg.python, cfg.peers_dir + "/numpy_peer.py", cfg.shapes, cfg.repetitions, out.threads);
        say("running the libtorch peer");
        out.torch = run_torch_peer(cfg.torch_peer, cfg.shapes, cfg.repetitions, out.threads);
    } else {
        out.numpy.name = "numpy";
        out.torch.name = "torch";
        out.numpy.reason = out.torch.reason = "disabled (--no-peers)";
    }
    for (auto& r : out.rows) attach_peers(r, out.numpy, out.torch);

    if (cfg.certify) {
        const shape s = cfg.certify_shape;
        say("certifying the full gradient at " + s.text());
        certify_row& c = out.certify;
        c.s = s;
        const problem p(s);
        const auto t0 = std::chrono::steady_clock::now();
        const auto result = vec->f64.softmax_loss(p.W, p.X, p.y, p.reg);
        const auto t1 = std::chrono::steady_clock::now();
        certify_options o;
        o.threads = static_cast<unsigned>(out.threads);
        c.result = certify_gradient(p.W, p.X, p.y, p.reg, result, o);
        c.implementation_seconds = std::chrono::duration<double>(t1 - t0).count();
        c.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        c.ran = true;
        if (cfg.peers) {
            say("running the gradcheck peer");
            c.gradcheck = run_gradcheck_peer(cfg.python, cfg.peers_dir + "/gradcheck_peer.py", s, out.threads);
        } else {
            c.gradcheck.reason = "disabled (--no-peers)";
        }
    } else {
        out.certify.note = "disabled (--no-certify)";
    }
    return out;
}

}  // namespace gradproof::bench
