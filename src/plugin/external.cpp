#include "plugin/external.hpp"

#include "core/half.hpp"
#include "plugin/abi.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
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
    if (status == "unsupported") throw option_unsupported(std::string(op) + ": " + text("message", "unsupported"));
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

// How values of T cross the wire: as T itself, or (bf16/f16 forms, T = float) as the format's
// uint16 bit patterns. Values sent must be representable in the format, so narrowing is exact;
// one that is not throws rather than silently testing another input.
template <class T>
struct storage {
    std::optional<half_format> half;

    const char* dtype() const { return half ? to_string(*half) : (std::is_same_v<T, double> ? "f64" : "f32"); }
    std::size_t element_bytes() const { return half ? sizeof(std::uint16_t) : sizeof(T); }

    void put(std::string& payload, const T* data, std::size_t count, const char* name) const {
        if (!half) return protocol::append(payload, data, count);
        for (std::size_t i = 0; i < count; ++i) {
            const std::uint16_t h = float_to_half(*half, data[i]);
            if (!std::isnan(data[i]) && half_to_float(*half, h) != data[i])
                throw std::invalid_argument(std::string(name) + ": " + std::to_string(data[i]) + " is not a " +
                                            to_string(*half) + " value");
            protocol::append(payload, &h, 1);
        }
    }
    void get(const std::string& payload, std::size_t& off, T* out, std::size_t count) const {
        if (!half) return protocol::extract(payload, off, out, count);
        for (std::size_t i = 0; i < count; ++i) {
            std::uint16_t h = 0;
            protocol::extract(payload, off, &h, 1);
            out[i] = half_to_float(*half, h);
        }
    }
};

// JSON has no NaN or infinity: those option values travel as the strings "nan", "inf", "-inf".
json option_number(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    return v;
}

void put_options(json& h, const ce_options& o, bool weights, bool soft) {
    h["reduction"] = to_string(o.reduce);
    if (o.has_ignore_index) h["ignore_index"] = o.ignore_index;
    h["label_smoothing"] = option_number(o.label_smoothing);
    h["lse_square_scale"] = option_number(o.lse_square_scale);
    h["softcap"] = option_number(o.softcap);
    h["has_class_weights"] = weights;
    h["has_soft_targets"] = soft;
}

template <class T>
typename entry_points<T>::ce_ex_fn remote_cross_entropy_ex(const std::shared_ptr<implementation_process>& proc,
                                                           storage<T> st) {
    return [proc, st](const ce_ex_input<T>& in) {
        const Eigen::Index n = in.n(), c = in.c();
        const bool soft = in.soft(), weights = !in.class_weights.empty();
        const std::size_t loss_count = in.options.reduce == reduction::none ? static_cast<std::size_t>(n) : 1;
        if (!soft && static_cast<Eigen::Index>(in.labels.size()) != n) throw std::invalid_argument("labels: size mismatch");
        if (weights && static_cast<Eigen::Index>(in.class_weights.size()) != c)
            throw std::invalid_argument("class_weights: size mismatch");
        if (soft && (in.soft_targets.rows() != n || in.soft_targets.cols() != c))
            throw std::invalid_argument("soft_targets: shape mismatch");
        if (in.dloss.size() != loss_count) throw std::invalid_argument("dloss: size mismatch");
        std::string payload;
        st.put(payload, in.logits.data(), static_cast<std::size_t>(in.logits.size()), "logits");
        if (!soft) protocol::append(payload, in.labels.data(), in.labels.size());
        if (weights) st.put(payload, in.class_weights.data(), in.class_weights.size(), "class_weights");
        if (soft) st.put(payload, in.soft_targets.data(), static_cast<std::size_t>(in.soft_targets.size()), "soft_targets");
        st.put(payload, in.dloss.data(), in.dloss.size(), "dloss");
        json h = request("cross_entropy_ex", st.dtype(), n, c);
        put_options(h, in.options, weights, soft);
        const auto out = exchange(*proc, "cross_entropy_ex", h, payload,
                                  (loss_count + static_cast<std::size_t>(in.logits.size())) * st.element_bytes());
        ce_ex_result<T> r;
        std::size_t off = 0;
        r.loss.resize(loss_count);
        st.get(out, off, r.loss.data(), loss_count);
        r.dlogits.resize(n, c);
        st.get(out, off, r.dlogits.data(), static_cast<std::size_t>(r.dlogits.size()));
        return r;
    };
}

template <class T>
typename entry_points<T>::fused_fn remote_fused_linear_cross_entropy(const std::shared_ptr<implementation_process>& proc,
                                                                     storage<T> st) {
    return [proc, st](const fused_ce_input<T>& in) {
        const Eigen::Index n = in.n(), d = in.d(), v = in.v();
        const bool weights = !in.class_weights.empty();
        const std::size_t loss_count = in.options.reduce == reduction::none ? static_cast<std::size_t>(n) : 1;
        if (in.weight.cols() != d) throw std::invalid_argument("weight: column count differs from hidden's");
        if (in.has_bias && static_cast<Eigen::Index>(in.bias.size()) != v) throw std::invalid_argument("bias: size mismatch");
        if (static_cast<Eigen::Index>(in.labels.size()) != n) throw std::invalid_argument("labels: size mismatch");
        if (weights && static_cast<Eigen::Index>(in.class_weights.size()) != v)
            throw std::invalid_argument("class_weights: size mismatch");
        if (in.dloss.size() != loss_count) throw std::invalid_argument("dloss: size mismatch");
        std::string payload;
        st.put(payload, in.hidden.data(), static_cast<std::size_t>(in.hidden.size()), "hidden");
        st.put(payload, in.weight.data(), static_cast<std::size_t>(in.weight.size()), "weight");
        if (in.has_bias) st.put(payload, in.bias.data(), in.bias.size(), "bias");
        protocol::append(payload, in.labels.data(), in.labels.size());
        if (weights) st.put(payload, in.class_weights.data(), in.class_weights.size(), "class_weights");
        st.put(payload, in.dloss.data(), in.dloss.size(), "dloss");
        json h{{"gradproof", protocol::version}, {"op", "fused_linear_cross_entropy"}, {"dtype", st.dtype()},
               {"n", n}, {"d", d}, {"v", v}, {"has_bias", in.has_bias}};
        put_options(h, in.options, weights, false);
        const std::size_t bias_count = in.has_bias ? static_cast<std::size_t>(v) : 0;
        const auto out = exchange(*proc, "fused_linear_cross_entropy", h, payload,
                                  (loss_count + static_cast<std::size_t>(in.hidden.size() + in.weight.size()) + bias_count) *
                                      st.element_bytes());
        fused_ce_result<T> r;
        std::size_t off = 0;
        r.loss.resize(loss_count);
        st.get(out, off, r.loss.data(), loss_count);
        r.dhidden.resize(n, d);
        st.get(out, off, r.dhidden.data(), static_cast<std::size_t>(r.dhidden.size()));
        r.dweight.resize(v, d);
        st.get(out, off, r.dweight.data(), static_cast<std::size_t>(r.dweight.size()));
        r.dbias.resize(bias_count);
        st.get(out, off, r.dbias.data(), bias_count);
        return r;
    };
}

template <class T>
entry_points<T> remote_entry_points(const std::shared_ptr<implementation_process>& proc, const std::vector<std::string>& eps) {
    entry_points<T> e;
    auto has = [&](entry_point ep) {
        if (!exists_in(ep, precision_of<T>())) return false;
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
    if (has(entry_point::cross_entropy_ex)) e.cross_entropy_ex = remote_cross_entropy_ex<T>(proc, storage<T>{});
    if (has(entry_point::fused_linear_cross_entropy))
        e.fused_linear_cross_entropy = remote_fused_linear_cross_entropy<T>(proc, storage<T>{});
    if constexpr (std::is_same_v<T, float>) {
        if (has(entry_point::cross_entropy_ex_bf16))
            e.cross_entropy_ex_bf16 = remote_cross_entropy_ex<T>(proc, storage<T>{half_format::bf16});
        if (has(entry_point::cross_entropy_ex_f16))
            e.cross_entropy_ex_f16 = remote_cross_entropy_ex<T>(proc, storage<T>{half_format::f16});
        if (has(entry_point::fused_linear_cross_entropy_bf16))
            e.fused_linear_cross_entropy_bf16 = remote_fused_linear_cross_entropy<T>(proc, storage<T>{half_format::bf16});
        if (has(entry_point::fused_linear_cross_entropy_f16))
            e.fused_linear_cross_entropy_f16 = remote_fused_linear_cross_entropy<T>(proc, storage<T>{half_format::f16});
    }
    return e;
}

external_implementation open_process(std::vector<std::string> argv, const std::string& name, const std::string& what,
                                     const process_options& options) {
    external_implementation x;
    x.process = std::make_shared<implementation_process>(std::move(argv), name, options);
    protocol::message hello;
    const json hello_request{{"gradproof", protocol::version}, {"op", "hello"}};
    try {
        hello = x.process->call(hello_request, {}, 0);
    } catch (const std::exception& e) {
        throw load_error(what + ": " + e.what());
    }
    hello_info info = parse_hello(hello.header, what);
    x.process->set_handshake(hello_request);
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
    // Only the names of the ABI count (a half form once: it has no f64 twin); anything else a
    // peer lists is ignored.
    std::vector<std::string> known;
    for (auto e : all_entry_points)
        for (auto p : {precision::f64, precision::f32})
            if (exists_in(e, p)) known.push_back(entry_name(e, p));
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
