// gradproof bench: times the built-in implementations at the shapes of issue 5 against the
// machine's measured bounds and the peers (numpy, libtorch), certifies a full gradient against
// PyTorch's gradcheck, and prints one table (--json FILE writes the same data). The measuring
// code is the library in src/bench/; this file only parses options and renders.
#include "bench/report.hpp"
#include "bench/run.hpp"
#include "cli/commands.hpp"
#include "plugin/external.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace gradproof::cli {

namespace {

bench::shape parse_shape(const std::string& text, const char* option) {
    bench::shape s;
    char x1 = 0, x2 = 0;
    std::istringstream in(text);
    in >> s.n >> x1 >> s.d >> x2 >> s.c;
    if (!in || !in.eof() || x1 != 'x' || x2 != 'x' || s.n < 1 || s.d < 1 || s.c < 1)
        throw usage_error(std::string(option) + ": expected NxDxC with positive integers, got '" + text + "'");
    return s;
}

// The peers are found relative to this executable, so that no source or build path is baked into an
// installed binary: first the installed layout (<prefix>/bin/gradproof with
// <prefix>/share/gradproof/peers and <prefix>/libexec/gradproof), then the build tree's (the
// scripts are copied to <build>/share/gradproof/peers, the libtorch peer is built in
// <build>/bench/peers). The first candidate is returned when none exists: bench names it as missing.
std::string find_peer(const std::vector<std::string>& relative) {
    const std::filesystem::path dir = std::filesystem::path(plugin::self_executable()).parent_path();
    std::error_code ec;
    for (const auto& r : relative)
        if (std::filesystem::exists(dir / r, ec)) return (dir / r).lexically_normal().string();
    return (dir / relative.front()).lexically_normal().string();
}

}  // namespace

CLI::App* add_bench_command(CLI::App& app, bench_options& o) {
    auto* cmd = app.add_subcommand("bench", "time the implementations against the machine's bounds and the peers; certify a full gradient");
    cmd->add_option("--shapes", o.shapes, "NxDxC shapes, comma-separated (default: the five of issue 5)")->delimiter(',');
    cmd->add_option("--repetitions", o.repetitions, "timed samples per measurement (default 5; 2 with --quick)");
    cmd->add_flag("--quick", o.quick, "smoke run: small bound measurements, 2 repetitions, certification at 50x307x10");
    cmd->add_option("--threads", o.threads, "threads for gradproof, the bounds and the peers (default: GRADPROOF_THREADS or all)");
    cmd->add_option("--certify-shape", o.certify_shape, "shape of the full-gradient certification (default 500x3073x10)");
    // A callback rather than a bound optional: CLI11 leaves a bound optional unset for `""`.
    cmd->add_option_function<std::vector<std::string>>(
           "--fused-shapes", [&o](const std::vector<std::string>& v) { o.fused_shapes = v; },
                    "NxDxV shapes of the fused linear cross-entropy rows, comma-separated; \"\" for none "
                    "(default 256x768x50257; 32x128x8192 with --quick)")
        ->delimiter(',')
        ->expected(0, -1);
    cmd->add_option("--certify-fused-shape", o.certify_fused_shape,
                    "NxDxV shape of the fused linear cross-entropy certification (default 256x768x50257; "
                    "32x128x8192 with --quick)");
    cmd->add_flag("--no-certify", o.no_certify, "skip both certifications");
    cmd->add_flag("--no-peers", o.no_peers, "skip numpy, libtorch and gradcheck");
    cmd->add_option("--python", o.python, "Python with numpy and torch for the peers (default /usr/bin/python3)");
    cmd->add_option("--torch-peer", o.torch_peer, "libtorch peer executable (default: the one built with gradproof)");
    cmd->add_option("--json", o.json_path, "write the results as JSON to FILE");
    cmd->add_flag("-q,--quiet", o.quiet, "no progress lines");
    return cmd;
}

int run_bench_command(const bench_options& o) {
    bench::bench_config cfg;
    if (!o.shapes.empty()) {
        cfg.shapes.clear();
        for (const auto& s : o.shapes) cfg.shapes.push_back(parse_shape(s, "--shapes"));
    }
    if (o.repetitions && *o.repetitions < 1) throw usage_error("--repetitions: must be ≥ 1");
    if (o.threads && *o.threads < 1) throw usage_error("--threads: must be ≥ 1");
    cfg.quick = o.quick;
    cfg.repetitions = o.repetitions ? *o.repetitions : (o.quick ? 2 : 5);
    cfg.threads = o.threads ? *o.threads : 0;
    if (!o.certify_shape.empty()) cfg.certify_shape = parse_shape(o.certify_shape, "--certify-shape");
    else if (o.quick) cfg.certify_shape = {50, 307, 10};
    if (o.fused_shapes) {
        cfg.fused_shapes.clear();
        for (const auto& s : *o.fused_shapes)
            if (!s.empty()) cfg.fused_shapes.push_back(parse_shape(s, "--fused-shapes"));
    } else if (o.quick) {
        cfg.fused_shapes = {{32, 128, 8192}};
    }
    if (!o.certify_fused_shape.empty())
        cfg.fused_certify_shape = parse_shape(o.certify_fused_shape, "--certify-fused-shape");
    else if (o.quick)
        cfg.fused_certify_shape = {32, 128, 8192};
    cfg.certify = !o.no_certify;
    cfg.peers = !o.no_peers;
    cfg.python = o.python;
    cfg.peers_dir = find_peer({"../share/gradproof/peers", "share/gradproof/peers"});
    cfg.torch_peer = o.torch_peer ? *o.torch_peer
                                  : find_peer({"../libexec/gradproof/gradproof_torch_peer", "bench/peers/gradproof_torch_peer"});
    std::ofstream json;
    if (!o.json_path.empty()) {
        json.open(o.json_path);
        if (!json) throw usage_error("--json: cannot write '" + o.json_path + "'");
    }
    if (!o.quiet) cfg.progress = [](const std::string& s) { std::cerr << "bench: " << s << "\n"; };
    const bench::bench_result r = bench::run_bench(cfg);
    bench::write_bench_table(std::cout, r);
    if (json.is_open()) {
        bench::write_bench_json(json, r);
        if (!json) throw usage_error("--json: write to '" + o.json_path + "' failed");
    }
    return 0;
}

}  // namespace gradproof::cli
