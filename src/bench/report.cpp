#include "bench/report.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <ostream>

namespace gradproof::bench {

namespace {

std::string duration(double s) {
    if (s >= 1) return fmt::format("{:.2f} s", s);
    if (s >= 1e-3) return fmt::format("{:.2f} ms", s * 1e3);
    if (s >= 1e-6) return fmt::format("{:.1f} µs", s * 1e6);
    return fmt::format("{:.1f} ns", s * 1e9);  // the tiny shape: "0.2 µs" would hide its changes
}

std::string ratio(const std::optional<double>& v) { return v ? fmt::format("{:.2f}×", *v) : "n/a"; }
std::string opt_time(const std::optional<double>& v) { return v ? duration(*v) : "n/a"; }

std::string shape_text(const shape& s) { return fmt::format("({}, {}, {})", s.n, s.d, s.c); }

// Pads to a display width (UTF-8 aware enough for ×, µ and ±: one column per code point).
std::string pad(const std::string& s, std::size_t width, bool right = false) {
    std::size_t cols = 0;
    for (unsigned char ch : s) cols += (ch & 0xC0) != 0x80;
    const std::string fill(width > cols ? width - cols : 0, ' ');
    return right ? fill + s : s + fill;
}

std::string peer_line(const peer_run& p) {
    if (p.available) return fmt::format("{} {} ({} threads)", p.name, p.version, p.threads);
    return fmt::format("{}: n/a — {}", p.name, p.reason);
}

void write_fused_certification(std::ostream& os, const fused_certify_row& c) {
    os << "\n";
    if (!c.ran) {
        os << "certify fused linear cross-entropy: " << c.note << "\n";
        return;
    }
    os << fmt::format("certify fused linear cross-entropy {} (vectorized, every element of loss, dhidden, dweight, "
                      "dbias against enclosures from 64-bit MPFI rows and GEMM products: error-free for f64, "
                      "a-priori bounds for f32)\n",
                      shape_text(c.s));
    for (std::size_t k = 0; k < c.results.size(); ++k) {
        const auto& cr = c.results[k];
        os << fmt::format("  {}: {} — {} elements, implementation {}, certification {} (certificate {}: ", cr.dtype,
                          cr.passed ? "PASS" : "FAIL", cr.elements, duration(c.implementation_seconds[k]),
                          duration(cr.total_seconds), duration(c.certificate_seconds[k]));
        for (std::size_t i = 0; i < cr.stages.size(); ++i)
            os << (i ? "; " : "") << cr.stages[i].name << " " << duration(cr.stages[i].seconds);
        os << ")\n";
        for (const auto& p : cr.parts)
            os << fmt::format("    {:<8} max {:.3g} ULP, worst margin {:.3g} at [{},{}], widest enclosure {:.2g} of its "
                              "tolerance{}\n",
                              p.name, p.max_ulps, p.worst_margin, p.worst_row, p.worst_col, p.max_width_relative,
                              p.passed ? "" : "  FAIL");
    }
}
}  // namespace

void write_bench_table(std::ostream& os, const bench_result& r) {
    const auto& m = r.machine;
    os << fmt::format("gradproof bench — {} UTC\n", m.date_utc);
    os << fmt::format("machine: {}, {} logical CPUs, {}; {}, Eigen {}\n", m.cpu_model, m.logical_cpus, m.kernel,
                      m.compiler, m.eigen_version);
    os << fmt::format("kernel build: {} (the kernels and the GEMM bound)\n", m.kernel_isa);
    os << fmt::format("bounds ({} threads, measured now): read bandwidth {:.1f} GB/s; Eigen GEMM peak {:.1f} GFLOP/s "
                      "(f64), {:.1f} GFLOP/s (f32)\n",
                      m.threads, m.read_gb_per_s, m.gemm_f64_gflops, m.gemm_f32_gflops);
    os << fmt::format("peers: {}; {}\n", peer_line(r.numpy), peer_line(r.torch));
    os << fmt::format("median of {} repetitions; GFLOP/s counts 4·N·D·C, GB/s one read of X and W; "
                      "×bound = time / bound time (1 = at the bound); vs peer = peer time / our time (> 1: faster)\n\n",
                      r.repetitions);
    const std::vector<std::pair<std::string, std::size_t>> cols = {
        {"shape (N, D, C)", 20}, {"implementation", 20}, {"median", 11}, {"GFLOP/s", 8}, {"GB/s", 7},
        {"×BW bound", 10}, {"×GEMM bound", 12}, {"numpy", 11}, {"torch", 11}, {"vs numpy", 9}, {"vs torch", 9}};
    std::string header, rule;
    for (const auto& [name, w] : cols) {
        header += pad(name, w) + " ";
        rule += std::string(w, '-') + " ";
    }
    os << header << "\n" << rule << "\n";
    for (const auto& row : r.rows) {
        const std::string impl = row.implementation + " " + row.dtype;
        if (!row.measured) {
            os << pad(shape_text(row.s), 20) << " " << pad(impl, 20) << " " << row.note << "\n";
            continue;
        }
        std::string med = duration(row.t.median_seconds);
        if (!row.note.empty()) med += "*";
        os << pad(shape_text(row.s), 20) << " " << pad(impl, 20) << " " << pad(med, 11, true) << " "
           << pad(fmt::format("{:.2f}", row.gflops), 8, true) << " " << pad(fmt::format("{:.2f}", row.gb_per_s), 7, true)
           << " " << pad(fmt::format("{:.2f}", row.ratio_bandwidth), 10, true) << " "
           << pad(fmt::format("{:.2f}", row.ratio_compute), 12, true) << " " << pad(opt_time(row.numpy_seconds), 11, true)
           << " " << pad(opt_time(row.torch_seconds), 11, true) << " " << pad(ratio(row.speedup_numpy), 9, true) << " "
           << pad(ratio(row.speedup_torch), 9, true) << "\n";
    }
    bool starred = false;
    for (const auto& row : r.rows) starred = starred || (row.measured && !row.note.empty());
    for (const auto& row : r.fused) starred = starred || (row.measured && !row.note.empty());

    if (!r.fused.empty()) {
        os << "\nfused linear cross-entropy (vectorized: blocked Eigen GEMMs, one thread; GFLOP/s counts 6·N·D·V; "
              "torch: cross_entropy(linear(H, W, b), y) and its backward)\n";
        os << pad("shape (N, D, V)", 20) << " " << pad("implementation", 20) << " " << pad("median", 11) << " "
           << pad("GFLOP/s", 8) << " " << pad("torch", 11) << " " << pad("vs torch", 9) << "\n";
        os << std::string(20, '-') << " " << std::string(20, '-') << " " << std::string(11, '-') << " "
           << std::string(8, '-') << " " << std::string(11, '-') << " " << std::string(9, '-') << "\n";
        for (const auto& row : r.fused) {
            const std::string impl = "vectorized " + row.dtype;
            if (!row.measured) {
                os << pad(shape_text(row.s), 20) << " " << pad(impl, 20) << " " << row.note << "\n";
                continue;
            }
            std::string med = duration(row.t.median_seconds);
            if (!row.note.empty()) med += "*";
            os << pad(shape_text(row.s), 20) << " " << pad(impl, 20) << " " << pad(med, 11, true) << " "
               << pad(fmt::format("{:.2f}", row.gflops), 8, true) << " " << pad(opt_time(row.torch_seconds), 11, true)
               << " " << pad(ratio(row.speedup_torch), 9, true) << "\n";
        }
    }
    if (starred) os << "* one run (the warm-up took longer than 2 s): not a median\n";

    write_fused_certification(os, r.fused_certify);

    const auto& c = r.certify;
    os << "\n";
    if (!c.ran) {
        os << "certify full gradient: " << c.note << "\n";
        return;
    }
    const auto& cr = c.result;
    os << fmt::format("certify full gradient {} (vectorized f64: all {} dW elements against the certified MPFI "
                      "enclosure + {} directional 256-bit FD checks): {}\n",
                      shape_text(c.s), cr.elements, cr.fd.size(), cr.passed ? "PASS" : "FAIL");
    os << fmt::format("  gradproof: {} total (implementation {}", duration(c.total_seconds), duration(c.implementation_seconds));
    for (const auto& st : cr.stages) os << fmt::format("; {} {}", st.name, duration(st.seconds));
    os << ")\n";
    os << fmt::format("  result: max error {:.3g} ULP (worst margin {:.3g} at dW[{},{}]), loss {:.3g} ULP; "
                      "enclosures decide the correctly rounded double for {}/{} elements ({} returned exactly)\n",
                      cr.max_ulps, cr.worst_margin, cr.worst_row, cr.worst_col, cr.loss_ulps, cr.correctly_rounded_known,
                      cr.elements, cr.equal_to_correctly_rounded);
    double fd_err = 0, fd_margin = 0;
    bool consistent = true;
    for (const auto& f : cr.fd) {
        fd_err = std::max(fd_err, f.fd_error);
        fd_margin = std::max(fd_margin, f.margin);
        consistent = consistent && f.reference_consistent;
    }
    os << fmt::format("  resolution: widest enclosure {:.2g} ULP of double; FD error estimate ≤ {:.2g} (absolute); "
                      "FD vs ⟨dW, V⟩ worst margin {:.2g}; reference inside FD ± estimate: {}\n",
                      cr.max_width_ulps, fd_err, fd_margin, consistent ? "yes" : "NO");
    const auto& g = c.gradcheck;
    if (!g.available) {
        os << "  PyTorch gradcheck: n/a — " << g.reason << "\n";
        return;
    }
    os << fmt::format("  PyTorch {} gradcheck (float64, {} threads): full mode {} evaluations ≈ {} (estimate: "
                      "{} × one forward {} + backward {}); fast_mode=True {} ({})\n",
                      g.version, g.threads, g.full_evaluations, duration(g.full_estimate_seconds), g.full_evaluations,
                      duration(g.forward_seconds), duration(g.forward_backward_seconds), duration(g.fast_mode_seconds),
                      g.fast_mode_passed ? "passed" : "failed");
    // ULP of double at 1 is 2^-52: gradcheck accepts |numerical − analytical| ≤ atol + rtol·|analytical|.
    os << fmt::format("  gradcheck resolution: atol {:g} + rtol {:g}·|analytical| (defaults) = {:.2g} ULP at |dW| = 1, "
                      "vs gradproof's widest enclosure {:.2g} ULP; gradproof {:.0f}× faster than full gradcheck, "
                      "{:.1f}× the time of fast mode\n",
                      g.atol, g.rtol, (g.atol + g.rtol) / 2.220446049250313e-16, cr.max_width_ulps,
                      g.full_estimate_seconds / c.total_seconds, c.total_seconds / g.fast_mode_seconds);
}

void write_bench_json(std::ostream& os, const bench_result& r) {
    using nlohmann::json;
    const auto& m = r.machine;
    json j;
    j["gradproof_bench"] = 1;
    j["machine"] = {{"cpu_model", m.cpu_model},         {"logical_cpus", m.logical_cpus},
                    {"threads", m.threads},             {"read_gb_per_s", m.read_gb_per_s},
                    {"gemm_f64_gflops", m.gemm_f64_gflops}, {"gemm_f32_gflops", m.gemm_f32_gflops},
                    {"compiler", m.compiler},           {"eigen_version", m.eigen_version},
                    {"kernel", m.kernel},               {"date_utc", m.date_utc},
                    {"kernel_isa", m.kernel_isa}};
    j["threads"] = r.threads;
    j["repetitions"] = r.repetitions;
    j["quick"] = r.quick;
    auto peer = [](const peer_run& p) {
        return json{{"name", p.name}, {"available", p.available}, {"reason", p.reason},
                    {"version", p.version}, {"threads", p.threads}, {"command", p.command}};
    };
    j["peers"] = json::array({peer(r.numpy), peer(r.torch)});
    auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
    json rows = json::array();
    for (const auto& row : r.rows)
        rows.push_back({{"n", row.s.n}, {"d", row.s.d}, {"c", row.s.c},
                        {"implementation", row.implementation}, {"dtype", row.dtype},
                        {"measured", row.measured}, {"note", row.note},
                        {"median_seconds", row.measured ? json(row.t.median_seconds) : json(nullptr)},
                        {"min_seconds", row.measured ? json(row.t.min_seconds) : json(nullptr)},
                        {"max_seconds", row.measured ? json(row.t.max_seconds) : json(nullptr)},
                        {"samples", row.t.repetitions}, {"calls_per_sample", row.t.calls_per_sample},
                        {"flops", row.flops}, {"bytes", row.bytes},
                        {"gflops", row.measured ? json(row.gflops) : json(nullptr)},
                        {"gb_per_s", row.measured ? json(row.gb_per_s) : json(nullptr)},
                        {"bandwidth_bound_seconds", row.bandwidth_bound_seconds},
                        {"compute_bound_seconds", row.compute_bound_seconds},
                        {"ratio_to_bandwidth_bound", row.measured ? json(row.ratio_bandwidth) : json(nullptr)},
                        {"ratio_to_compute_bound", row.measured ? json(row.ratio_compute) : json(nullptr)},
                        {"numpy_seconds", opt(row.numpy_seconds)}, {"torch_seconds", opt(row.torch_seconds)},
                        {"speedup_vs_numpy", opt(row.speedup_numpy)}, {"speedup_vs_torch", opt(row.speedup_torch)}});
    j["rows"] = rows;
    json fused = json::array();
    for (const auto& row : r.fused)
        fused.push_back({{"n", row.s.n}, {"d", row.s.d}, {"v", row.s.c}, {"implementation", "vectorized"},
                         {"dtype", row.dtype}, {"measured", row.measured}, {"note", row.note},
                         {"median_seconds", row.measured ? json(row.t.median_seconds) : json(nullptr)},
                         {"samples", row.t.repetitions}, {"flops", row.flops},
                         {"gflops", row.measured ? json(row.gflops) : json(nullptr)},
                         {"torch_seconds", opt(row.torch_seconds)}, {"speedup_vs_torch", opt(row.speedup_torch)}});
    j["fused_rows"] = fused;
    const auto& c = r.certify;
    json cert = {{"ran", c.ran}, {"note", c.note}};
    if (c.ran) {
        const auto& cr = c.result;
        json stages = json::array(), fd = json::array();
        for (const auto& st : cr.stages) stages.push_back({{"name", st.name}, {"seconds", st.seconds}});
        for (const auto& f : cr.fd)
            fd.push_back({{"analytic", f.analytic}, {"fd_value", f.fd_value}, {"fd_error_estimate", f.fd_error},
                          {"impl_error", f.impl_error}, {"tolerance", f.tolerance}, {"margin", f.margin},
                          {"reference_gap", f.reference_gap}, {"reference_consistent", f.reference_consistent}});
        cert.update({{"n", c.s.n}, {"d", c.s.d}, {"c", c.s.c}, {"passed", cr.passed},
                     {"implementation_seconds", c.implementation_seconds}, {"total_seconds", c.total_seconds},
                     {"elements", cr.elements}, {"max_ulps", cr.max_ulps}, {"worst_margin", cr.worst_margin},
                     {"worst_element", {cr.worst_row, cr.worst_col}}, {"loss_ulps", cr.loss_ulps},
                     {"loss_margin", cr.loss_margin}, {"max_enclosure_width_ulps", cr.max_width_ulps},
                     {"max_enclosure_width_relative_to_tolerance", cr.max_width_relative},
                     {"correctly_rounded_known", cr.correctly_rounded_known},
                     {"equal_to_correctly_rounded", cr.equal_to_correctly_rounded}, {"stages", stages}, {"fd_checks", fd}});
        const auto& g = c.gradcheck;
        cert["gradcheck"] = {{"available", g.available}, {"reason", g.reason}, {"version", g.version},
                             {"threads", g.threads}, {"forward_seconds", g.forward_seconds},
                             {"forward_backward_seconds", g.forward_backward_seconds},
                             {"full_evaluations", g.full_evaluations}, {"full_estimate_seconds", g.full_estimate_seconds},
                             {"fast_mode_seconds", g.fast_mode_seconds}, {"fast_mode_passed", g.fast_mode_passed},
                             {"atol", g.atol}, {"rtol", g.rtol}};
    }
    j["certify"] = cert;
    const auto& fc = r.fused_certify;
    json fcj = {{"ran", fc.ran}, {"note", fc.note}};
    if (fc.ran) {
        json results = json::array();
        for (std::size_t k = 0; k < fc.results.size(); ++k) {
            const auto& cr = fc.results[k];
            json parts = json::array(), stages = json::array();
            for (const auto& p : cr.parts)
                parts.push_back({{"name", p.name}, {"elements", p.elements}, {"max_ulps", p.max_ulps},
                                 {"worst_margin", p.worst_margin}, {"worst_element", {p.worst_row, p.worst_col}},
                                 {"max_enclosure_width_relative_to_tolerance", p.max_width_relative},
                                 {"passed", p.passed}});
            for (const auto& st : cr.stages) stages.push_back({{"name", st.name}, {"seconds", st.seconds}});
            results.push_back({{"dtype", cr.dtype}, {"passed", cr.passed}, {"elements", cr.elements},
                               {"implementation_seconds", fc.implementation_seconds[k]},
                               {"certificate_seconds", fc.certificate_seconds[k]},
                               {"total_seconds", cr.total_seconds}, {"parts", parts}, {"stages", stages}});
        }
        fcj.update({{"n", fc.s.n}, {"d", fc.s.d}, {"v", fc.s.c}, {"results", results}});
    }
    j["certify_fused"] = fcj;
    os << j.dump(2) << "\n";
}

}  // namespace gradproof::bench
