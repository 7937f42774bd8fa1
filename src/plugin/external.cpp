#include "plugin/external.hpp"

#include "plugin/abi.hpp"

#include <algorithm>
#include <filesystem>
#include <unistd.h>

namespace gradproof::plugin {

namespace {

using nlohmann::json;

template <class T>
const char* dtype() {
    return std::is_same_v<T, double> ? "f64" : "f32";
}

json request(const char* op, const char* dt, Eigen::Index n, Eigen::Index c) {
    return json{{"gradproof", protocol::version}, {"op", op}, {"dtype", dt}, {"n", n}, {"c", c}};
}

// Sends one request and returns the payload of an "ok" answer of exactly `expect` bytes.
std::string exchange(implementation_process& p, const char* op, const json& header, const std::string& payload,
                     std::size_t expect) {
    const auto m = p.call(header, payload, expect);
    // Fields of the wrong type (a peer's bug) read as absent rather than throwing JSON errors.
    auto text = [&](const char* key, const std::string& absent) {
        return m.header.contains(key) && m.header[key].is_string() ? m.header[key].get<std::string>() : absent;
    };
    const std::string status = text("status", "");
    if (m.header.contains("contract") && m.header["contract"].is_array() && !m.header["contract"].empty()) {
        std::string what;
        for (const auto& v : m.header["contract"]) what += (what.empty() ? "" : "; ") + (v.is_string() ? v.get<std::string>() : v.dump());
        throw contract_violation(std::string(op) + " broke the contract: " + what);
    }
    if (status == "rejected") throw rejected_input(text("message", "rejected"));
    if (status != "ok") throw implementation_failure(std::string(op) + ": " + text("message", "error '" + status + "'"));
    if (m.payload.size() != expect)
        throw implementation_failure(std::string(op) + ": answer has " + std::to_string(m.payload.size()) + " bytes, expected " +
                                     std::to_string(expect));
    return m.payload;
}

template <class T>
matrix<T> take_matrix(const std::string& payload, std::size_t& off, Eigen::Index rows, Eigen::Index cols) {
    matrix<T> m(rows, cols);
    protocol::extract(payload, off, m.data(), static_cast<std::size_t>(m.size()));
    return m;
}

template <class T>
entry_points<T> remote_entry_points(const std::shared_ptr<implementation_process>& proc, const std::vector<std::string>& eps) {
    entry_points<T> e;
    auto has = [&](entry_point ep) {
        const std::string n = entry_name(ep, precision_of<T>());
        return std::find(eps.begin(), eps.end(), n) != eps.end();
    };
    auto row_wise = [proc](const char* op) {
        return [proc, op](const matrix<T>& z) {
            std::string payload;
            protocol::append(payload, z.data(), static_cast<std::size_t>(z.size()));
            const auto out = exchange(*proc, op, request(op, dtype<T>(), z.rows(), z.cols()), payload,
                                      static_cast<std::size_t>(z.size()) * sizeof(T));
            std::size_t off = 0;
            return take_matrix<T>(out, off, z.rows(), z.cols());
        };
    };
    auto backward = [proc](const char* op) {
        return [proc, op](const matrix<T>& a, const matrix<T>& g) {
            if (a.rows() != g.rows() || a.cols() != g.cols()) throw std::invalid_argument("dprobs: shape mismatch");
            std::string payload;
            protocol::append(payload, a.data(), static_cast<std::size_t>(a.size()));
            protocol::append(payload, g.data(), static_cast<std::size_t>(g.size()));
            const auto out = exchange(*proc, op, request(op, dtype<T>(), a.rows(), a.cols()), payload,
                                      static_cast<std::size_t>(a.size()) * sizeof(T));
            std::size_t off = 0;
            return take_matrix<T>(out, off, a.rows(), a.cols());
        };
    };
    if (has(entry_point::softmax)) e.softmax = row_wise("softmax");
    if (has(entry_point::log_softmax)) e.log_softmax = row_wise("log_softmax");
    if (has(entry_point::softmax_backward)) e.softmax_backward = backward("softmax_backward");
    if (has(entry_point::log_softmax_backward)) e.log_softmax_backward = backward("log_softmax_backward");
    if (has(entry_point::cross_entropy))
        e.cross_entropy = [proc](const matrix<T>& z, const label_vector& y) {
            if (static_cast<Eigen::Index>(y.size()) != z.rows()) throw std::invalid_argument("labels: size mismatch");
            std::string payload;
            protocol::append(payload, z.data(), static_cast<std::size_t>(z.size()));
            protocol::append(payload, y.data(), y.size());
            const auto out = exchange(*proc, "cross_entropy", request("cross_entropy", dtype<T>(), z.rows(), z.cols()),
                                      payload, (static_cast<std::size_t>(z.size()) + 1) * sizeof(T));
            cross_entropy_result<T> r;
            std::size_t off = 0;
            protocol::extract(out, off, &r.loss, 1);
            r.dlogits = take_matrix<T>(out, off, z.rows(), z.cols());
            return r;
        };
    if (has(entry_point::softmax_loss))
        e.softmax_loss = [proc](const matrix<T>& W, const matrix<T>& X, const label_vector& y, T reg) {
            if (static_cast<Eigen::Index>(y.size()) != X.rows()) throw std::invalid_argument("y: size mismatch");
            if (X.cols() != W.rows()) throw std::invalid_argument("X: column count differs from W's row count");
            std::string payload;
            protocol::append(payload, W.data(), static_cast<std::size_t>(W.size()));
            protocol::append(payload, X.data(), static_cast<std::size_t>(X.size()));
            protocol::append(payload, y.data(), y.size());
            protocol::append(payload, &reg, 1);
            json h = request("softmax_loss", dtype<T>(), X.rows(), W.cols());
            h["d"] = W.rows();
            const auto out = exchange(*proc, "softmax_loss", h, payload, (static_cast<std::size_t>(W.size()) + 1) * sizeof(T));
            loss_result<T> r;
            std::size_t off = 0;
            protocol::extract(out, off, &r.loss, 1);
            r.dW = take_matrix<T>(out, off, W.rows(), W.cols());
            return r;
        };
    return e;
}

external_implementation open_process(std::vector<std::string> argv, const std::string& name, const std::string& what,
                                     const process_options& options) {
    external_implementation x;
    x.process = std::make_shared<implementation_process>(std::move(argv), name, options);
    protocol::message hello;
    try {
        hello = x.process->call(json{{"gradproof", protocol::version}, {"op", "hello"}}, {}, 0);
    } catch (const std::exception& e) {
        throw load_error(what + ": " + e.what());
    }
    hello_info info = parse_hello(hello.header, what);
    x.entry_points = std::move(info.entry_points);
    x.wrong_kind = std::move(info.wrong_kind);
    x.subj.name = info.name.empty() ? name : info.name;
    x.subj.description = what;
    x.subj.f64 = remote_entry_points<double>(x.process, x.entry_points);
    x.subj.f32 = remote_entry_points<float>(x.process, x.entry_points);
    return x;
}

std::string string_field(const json& h, const char* key) {
    return h.contains(key) && h[key].is_string() ? h[key].get<std::string>() : std::string();
}

// Names shown in reports and reproduce lines: printable ASCII without quotes, bounded length.
bool acceptable_name(const std::string& s) {
    if (s.empty() || s.size() > 128) return false;
    for (unsigned char ch : s)
        if (ch < 0x20 || ch > 0x7e || ch == '\'' || ch == '"' || ch == '\\') return false;
    return true;
}

}  // namespace

hello_info parse_hello(const json& header, const std::string& what) {
    if (!header.is_object()) throw load_error(what + ": hello answer is not a JSON object");
    if (string_field(header, "status") != "ok") {
        std::string message = string_field(header, "message");
        if (message.empty()) message = "did not answer hello";
        throw load_error(what + ": " + message.substr(0, 500));
    }
    if (!header.contains("entry_points") || !header["entry_points"].is_array())
        throw load_error(what + ": hello answer has no entry_points list");
    hello_info info;
    // Only the twelve names of the ABI count; anything else a peer lists is ignored.
    std::vector<std::string> known;
    for (auto e : all_entry_points)
        for (auto p : {precision::f64, precision::f32}) known.push_back(entry_name(e, p));
    auto take = [&](const json& list, std::vector<std::string>& out, bool symbols) {
        if (!list.is_array()) return;
        for (const auto& e : list) {
            if (!e.is_string()) continue;
            const std::string v = e.get<std::string>();
            const std::string entry = symbols && v.rfind("gradproof_", 0) == 0 ? v.substr(10) : v;
            if (std::find(known.begin(), known.end(), entry) == known.end()) continue;
            if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
        }
    };
    take(header["entry_points"], info.entry_points, false);
    if (header.contains("wrong_kind")) take(header["wrong_kind"], info.wrong_kind, true);
    if (info.entry_points.empty()) {
        std::string msg = what + ": exports none of the gradproof_* entry points";
        if (!info.wrong_kind.empty()) msg += " (" + info.wrong_kind.front() + " exists but is not a function)";
        throw load_error(msg);
    }
    if (const std::string n = string_field(header, "name"); acceptable_name(n)) info.name = n;
    return info;
}

std::string self_executable() {
    std::error_code ec;
    const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string("gradproof") : p.string();
}

external_implementation open_plugin(const std::string& path, const process_options& options) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) throw load_error(path + ": no such file");
    if (::access(path.c_str(), R_OK) != 0) throw load_error(path + ": not readable");
    const std::string abs = std::filesystem::absolute(path).string();
    std::string stem = std::filesystem::path(path).stem().string();
    if (stem.rfind("lib", 0) == 0 && stem.size() > 3) stem = stem.substr(3);
    return open_process({self_executable(), "worker", abs}, stem, path, options);
}

external_implementation open_exec(const std::string& command, const process_options& options) {
    return open_process({"/bin/sh", "-c", command}, command, "--exec '" + command + "'", options);
}

}  // namespace gradproof::plugin
