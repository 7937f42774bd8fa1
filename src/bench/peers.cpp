#include "bench/peers.hpp"

#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace gradproof::bench {

namespace {

std::string quote(const std::string& s) {
    std::string q = "'";
    for (char ch : s) {
        if (ch == '\'') q.append("'\\''");
        else q.push_back(ch);
    }
    q.push_back('\'');
    return q;
}

std::string join_shapes(const std::vector<shape>& shapes) {
    std::string s;
    for (const auto& sh : shapes) {
        if (!s.empty()) s.push_back(',');
        s.append(sh.text());
    }
    return s;
}

struct captured {
    int status = -1;
    std::string output;
};

// Runs a shell command (stderr merged into stdout) under a generous timeout.
captured run(const std::string& command) {
    captured c;
    FILE* p = popen(("timeout 1800 " + command + " 2>&1").c_str(), "r");
    if (!p) return c;
    char buf[4096];
    for (std::size_t got; (got = fread(buf, 1, sizeof buf, p)) > 0;) c.output.append(buf, got);
    const int st = pclose(p);
    c.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return c;
}

// The last line that parses as a JSON object; null when there is none.
nlohmann::json last_json(const std::string& out) {
    std::size_t end = out.size();
    while (end > 0) {
        std::size_t begin = out.rfind('\n', end - 1);
        begin = begin == std::string::npos ? 0 : begin + 1;
        const std::string line = out.substr(begin, end - begin);
        if (!line.empty() && line.front() == '{') {
            auto j = nlohmann::json::parse(line, nullptr, false);
            if (!j.is_discarded()) return j;
        }
        if (begin == 0) break;
        end = begin - 1;
    }
    return nullptr;
}

std::string last_line(const std::string& out) {
    std::size_t end = out.find_last_not_of("\n ");
    if (end == std::string::npos) return "no output";
    const std::size_t begin = out.rfind('\n', end);
    return out.substr(begin == std::string::npos ? 0 : begin + 1, end + 1 - (begin == std::string::npos ? 0 : begin + 1));
}

// Runs a peer and parses its JSON; fills available/reason.
template <class Run>
nlohmann::json run_peer(Run& r, const std::string& command) {
    r.command = command;
    const captured c = run(command);
    nlohmann::json j = c.status == 0 ? last_json(c.output) : nlohmann::json(nullptr);
    if (j.is_null()) {
        r.reason = c.status == 124 ? "timed out" : "exit " + std::to_string(c.status) + ": " + last_line(c.output);
        return nullptr;
    }
    r.available = true;
    r.version = j.value("version", "");
    r.threads = j.value("threads", 0);
    return j;
}

// "results" (shapes n×d×c) and, from the torch peer, "fused_results" (n×d×v, kept in shape::c).
void read_results(peer_run& r, const nlohmann::json& j) {
    auto read = [&j](const char* key, const char* last, std::vector<peer_timing>& into) {
        if (!j.contains(key)) return;
        for (const auto& e : j.at(key))
            into.push_back({{e.at("n").get<long>(), e.at("d").get<long>(), e.at(last).get<long>()},
                            e.at("dtype").get<std::string>(),
                            e.at("median_seconds").get<double>(),
                            e.value("repetitions", 0)});
    };
    read("results", "c", r.results);
    read("fused_results", "v", r.fused_results);
}

bool usable(const std::string& path, int mode, std::string& reason) {
    if (path.empty()) {
        reason = "not built (no path; build target gradproof_torch_peer or pass --torch-peer)";
        return false;
    }
    if (access(path.c_str(), mode) != 0) {
        reason = "not found: " + path;
        return false;
    }
    return true;
}

}  // namespace

namespace {
const peer_timing* find_in(const std::vector<peer_timing>& v, const shape& s, const std::string& dtype) {
    for (const auto& r : v)
        if (r.s == s && r.dtype == dtype) return &r;
    return nullptr;
}
}  // namespace

const peer_timing* peer_run::find(const shape& s, const std::string& dtype) const { return find_in(results, s, dtype); }
const peer_timing* peer_run::find_fused(const shape& s, const std::string& dtype) const {
    return find_in(fused_results, s, dtype);
}

peer_run run_numpy_peer(const std::string& python, const std::string& script, const std::vector<shape>& shapes,
                        int repetitions, int threads) {
    peer_run r;
    r.name = "numpy";
    if (!usable(python, X_OK, r.reason) || !usable(script, R_OK, r.reason)) return r;
    const std::string t = std::to_string(threads);
    // numpy's BLAS (OpenBLAS on Debian) reads its thread count from the environment.
    const std::string cmd = "env OPENBLAS_NUM_THREADS=" + t + " OMP_NUM_THREADS=" + t + " " + quote(python) + " " +
                            quote(script) + " --shapes " + join_shapes(shapes) + " --repetitions " +
                            std::to_string(repetitions) + " --threads " + t;
    const auto j = run_peer(r, cmd);
    if (r.available) read_results(r, j);
    return r;
}

peer_run run_torch_peer(const std::string& executable, const std::vector<shape>& shapes,
                        const std::vector<shape>& fused_shapes, int repetitions, int threads) {
    peer_run r;
    r.name = "torch";
    if (!usable(executable, X_OK, r.reason)) return r;
    std::string cmd = "env OMP_NUM_THREADS=" + std::to_string(threads) + " " + quote(executable) + " --shapes " +
                      join_shapes(shapes) + " --repetitions " + std::to_string(repetitions) + " --threads " +
                      std::to_string(threads);
    if (!fused_shapes.empty()) cmd += " --fused-shapes " + join_shapes(fused_shapes);
    const auto j = run_peer(r, cmd);
    if (r.available) read_results(r, j);
    return r;
}

gradcheck_run run_gradcheck_peer(const std::string& python, const std::string& script, const shape& s, int threads) {
    gradcheck_run r;
    r.s = s;
    if (!usable(python, X_OK, r.reason) || !usable(script, R_OK, r.reason)) return r;
    const std::string cmd = "env OMP_NUM_THREADS=" + std::to_string(threads) + " " + quote(python) + " " + quote(script) +
                            " --shape " + s.text() + " --threads " + std::to_string(threads);
    const auto j = run_peer(r, cmd);
    if (!r.available) return r;
    r.forward_seconds = j.value("forward_seconds", 0.0);
    r.forward_backward_seconds = j.value("forward_backward_seconds", 0.0);
    r.full_evaluations = j.value("full_evaluations", 0L);
    r.full_estimate_seconds = j.value("full_estimate_seconds", 0.0);
    r.fast_mode_seconds = j.value("fast_mode_seconds", 0.0);
    r.fast_mode_passed = j.value("fast_mode_passed", false);
    r.atol = j.value("atol", 0.0);
    r.rtol = j.value("rtol", 0.0);
    return r;
}

}  // namespace gradproof::bench
