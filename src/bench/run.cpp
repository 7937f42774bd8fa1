#include "bench/run.hpp"

#include "core/cross_entropy_options.hpp"
#include "impl/builtin.hpp"
#include "kernels/parallel.hpp"
#include "impl/vectorized.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

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

// A row's flop and byte counts and its bounds on machine m, before it is timed.
template <class T>
impl_row describe_row(const std::string& implementation, const shape& s, const machine_info& m) {
    impl_row r;
    r.s = s;
    r.implementation = implementation;
    r.dtype = std::is_same_v<T, double> ? "f64" : "f32";
    r.flops = 4.0 * static_cast<double>(s.n) * static_cast<double>(s.d) * static_cast<double>(s.c);
    r.bytes = static_cast<double>(s.n * s.d + s.d * s.c) * sizeof(T);
    r.bandwidth_bound_seconds = r.bytes / (m.read_gb_per_s * 1e9);
    r.compute_bound_seconds = r.flops / ((std::is_same_v<T, double> ? m.gemm_f64_gflops : m.gemm_f32_gflops) * 1e9);
    return r;
}

void finish_row(impl_row& r, const timing& t) {
    r.t = t;
    r.measured = true;
    if (t.repetitions == 1) r.note = "1 run";
    r.gflops = r.flops / t.median_seconds / 1e9;
    r.gb_per_s = r.bytes / t.median_seconds / 1e9;
    r.ratio_bandwidth = t.median_seconds / r.bandwidth_bound_seconds;
    r.ratio_compute = t.median_seconds / r.compute_bound_seconds;
}

// One precision's inputs at one shape, and the outputs vectorized_into reuses.
template <class T>
struct precision_data {
    matrix<T> W, X;
    T reg;
    loss_result<T> reused;
};

// Everything the calls of one shape use; it lives until every row has been timed. The double
// inputs are the problem's own (moved, not copied: every shape is held at once).
struct shape_data {
    explicit shape_data(const shape& s) : shape_data(problem(s)) {}
    explicit shape_data(problem p)
        : y(std::move(p.y)),
          f64{std::move(p.W), std::move(p.X), p.reg, {}},
          f32{f64.W.cast<float>(), f64.X.cast<float>(), static_cast<float>(f64.reg), {}} {}
    label_vector y;
    precision_data<double> f64;
    precision_data<float> f32;
};

// The rows to be timed and their calls (each returning nothing; the loss goes to a sink).
struct timing_plan {
    std::vector<std::size_t> rows;  // indices into bench_result::rows
    std::vector<std::function<void()>> calls;
    volatile double sink = 0;
};

// The rows of one precision at one shape: vectorized as every subject is called (fresh outputs:
// the call allocates dW and dS, and the OS maps their pages on first touch), vectorized_into
// (softmax_loss_into with one loss_result reused across calls, as a training loop does: no
// allocation after the warm-up call), and naive (double only, unless too slow).
template <class T>
void plan_precision(const subject& vec, const subject& naive, const shape& s, const label_vector& y,
                    precision_data<T>& data, const bench_config& cfg, bench_result& out, timing_plan& plan) {
    auto add = [&](const std::string& implementation, std::function<void()> call) {
        out.rows.push_back(describe_row<T>(implementation, s, out.machine));
        if (implementation == "naive" && out.rows.back().flops > cfg.naive_skip_flops) {
            out.rows.back().note = "skipped (too slow)";
            return;
        }
        plan.rows.push_back(out.rows.size() - 1);
        plan.calls.push_back(std::move(call));
    };
    const auto& fresh = vec.at<T>().softmax_loss;
    add(vec.name, [&fresh, &data, &y, &plan] { plan.sink = plan.sink + fresh(data.W, data.X, y, data.reg).loss; });
    add("vectorized_into", [&data, &y, &plan] {
        impl::vectorized::softmax_loss_into<T>(data.W, data.X, y, data.reg, data.reused);
        plan.sink = plan.sink + data.reused.loss;
    });
    if constexpr (std::is_same_v<T, double>) {
        const auto& f = naive.at<T>().softmax_loss;
        add(naive.name, [&f, &data, &y, &plan] { plan.sink = plan.sink + f(data.W, data.X, y, data.reg).loss; });
    }
}

// An LM head's data: H ~ N(0, 1), W ~ 2e−2·N(0, 1) (V×D), b = 0, uniform labels.
template <class T>
fused_ce_input<T> fused_problem(const shape& s) {
    std::mt19937_64 rng(42);
    std::normal_distribution<double> normal(0.0, 1.0);
    fused_ce_input<T> in;
    in.hidden.resize(s.n, s.d);
    in.weight.resize(s.c, s.d);
    for (Eigen::Index i = 0; i < in.hidden.size(); ++i) in.hidden.data()[i] = static_cast<T>(normal(rng));
    for (Eigen::Index i = 0; i < in.weight.size(); ++i) in.weight.data()[i] = static_cast<T>(2e-2 * normal(rng));
    in.bias.assign(static_cast<std::size_t>(s.c), T(0));
    in.has_bias = true;
    std::uniform_int_distribution<std::int32_t> label(0, static_cast<std::int32_t>(s.c - 1));
    in.labels.resize(static_cast<std::size_t>(s.n));
    for (auto& v : in.labels) v = label(rng);
    in.options.has_ignore_index = true;  // PyTorch's default −100: no label is ignored
    in.dloss = {T(1)};
    return in;
}

template <class T>
void plan_fused(const subject& vec, const shape& s, std::deque<fused_ce_input<T>>& inputs, bench_result& out,
                timing_plan& plan, std::vector<std::size_t>& fused_rows) {
    fused_row r;
    r.s = s;
    r.dtype = std::is_same_v<T, double> ? "f64" : "f32";
    r.flops = 6.0 * static_cast<double>(s.n) * static_cast<double>(s.d) * static_cast<double>(s.c);
    out.fused.push_back(r);
    const auto& in = inputs.emplace_back(fused_problem<T>(s));
    const auto& f = vec.at<T>().fused_linear_cross_entropy;
    fused_rows.push_back(out.fused.size() - 1);
    plan.calls.push_back([&f, &in, &plan] { plan.sink = plan.sink + f(in).loss[0]; });
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

template <class F>
auto timed(double& seconds, F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = f();
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

void certify_fused_gradient(const subject& vec, const bench_config& cfg, bench_result& out,
                            const std::function<void(const std::string&)>& say) {
    const shape s = cfg.fused_certify_shape;
    say("certifying every element of a fused linear cross-entropy result at " + s.text());
    fused_certify_row& c = out.fused_certify;
    c.s = s;
    const fused_ce_input<float> in32 = fused_problem<float>(s);
    const fused_ce_input<double> in = cast<double>(in32);
    double t64 = 0, t32 = 0;
    const auto out64 = timed(t64, [&] { return vec.f64.fused_linear_cross_entropy(in); });
    const auto out32 = timed(t32, [&] { return vec.f32.fused_linear_cross_entropy(in32); });
    // One certificate per result: error-free products resolve the double result (a-priori bounds are
    // about its own tolerance wide); the float result needs only the a-priori ones, 3× cheaper.
    fused_certify_options o;
    o.threads = static_cast<unsigned>(out.threads);
    double seconds = 0;
    {
        const fused_certificate cert = timed(seconds, [&] { return certify_fused(in, o); });
        c.certificate_seconds.push_back(seconds);
        c.results.push_back(compare_fused(cert, in, out64, o.threads));
        c.implementation_seconds.push_back(t64);
    }
    o.error_free_products = false;
    const fused_certificate cert = timed(seconds, [&] { return certify_fused(in, o); });
    c.certificate_seconds.push_back(seconds);
    c.results.push_back(compare_fused(cert, in, out32, o.threads));
    c.implementation_seconds.push_back(t32);
    c.ran = true;
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
    // All rows are timed together, in rounds (bench/timing.hpp), so their data stay allocated.
    std::deque<shape_data> data;
    timing_plan plan;
    for (const auto& s : cfg.shapes) {
        shape_data& d = data.emplace_back(s);
        plan_precision<double>(*vec, *naive, s, d.y, d.f64, cfg, out, plan);
        plan_precision<float>(*vec, *naive, s, d.y, d.f32, cfg, out, plan);
    }
    // The fused rows are timed in the same rounds, after the softmax_loss rows (plan.calls order).
    std::deque<fused_ce_input<double>> fused_f64;
    std::deque<fused_ce_input<float>> fused_f32;
    std::vector<std::size_t> fused_rows;
    for (const auto& s : cfg.fused_shapes) {
        plan_fused<double>(*vec, s, fused_f64, out, plan, fused_rows);
        plan_fused<float>(*vec, s, fused_f32, out, plan, fused_rows);
    }
    say("timing gradproof (" + std::to_string(plan.calls.size()) + " rows, " + std::to_string(cfg.repetitions) +
        " rounds)");
    const std::vector<timing> timings = time_calls(plan.calls, cfg.repetitions);
    for (std::size_t i = 0; i < plan.rows.size(); ++i) finish_row(out.rows[plan.rows[i]], timings[i]);
    for (std::size_t i = 0; i < fused_rows.size(); ++i) {
        fused_row& r = out.fused[fused_rows[i]];
        r.t = timings[plan.rows.size() + i];
        r.measured = true;
        if (r.t.repetitions == 1) r.note = "1 run";
        r.gflops = r.flops / r.t.median_seconds / 1e9;
    }
    data.clear();
    fused_f64.clear();
    fused_f32.clear();
    if (cfg.peers) {
        say("running the numpy peer");
        out.numpy = run_numpy_peer(cfg.python, cfg.peers_dir + "/numpy_peer.py", cfg.shapes, cfg.repetitions, out.threads);
        say("running the libtorch peer");
        out.torch = run_torch_peer(cfg.torch_peer, cfg.shapes, cfg.fused_shapes, cfg.repetitions, out.threads);
    } else {
        out.numpy.name = "numpy";
        out.torch.name = "torch";
        out.numpy.reason = out.torch.reason = "disabled (--no-peers)";
    }
    for (auto& r : out.rows) attach_peers(r, out.numpy, out.torch);
    for (auto& r : out.fused)
        if (const auto* t = out.torch.find_fused(r.s, r.dtype); t && r.measured) {
            r.torch_seconds = t->median_seconds;
            r.speedup_torch = t->median_seconds / r.t.median_seconds;
        }

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
        certify_fused_gradient(*vec, cfg, out, say);
    } else {
        out.certify.note = out.fused_certify.note = "disabled (--no-certify)";
    }
    return out;
}

}  // namespace gradproof::bench
