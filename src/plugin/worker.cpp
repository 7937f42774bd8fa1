#include "plugin/worker.hpp"

#include "include/gradproof/plugin.h"
#include "plugin/abi.hpp"
#include "protocol/wire.hpp"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <unistd.h>

#include <cstring>
#include <limits>
#include <map>
#include <vector>

namespace gradproof::plugin {

namespace {

using nlohmann::json;

// A quiet NaN with a recognisable payload: an output element still holding it after a
// successful call was never written. For uint16_t storage, 0x7fde is a quiet NaN both as bf16
// and as f16.
template <class T>
T garbage() {
    if constexpr (std::is_same_v<T, double>) return std::bit_cast<double>(std::uint64_t{0x7ff8dead0badf00dULL});
    else if constexpr (std::is_same_v<T, float>) return std::bit_cast<float>(std::uint32_t{0x7fdead0bU});
    else return std::uint16_t{0x7fde};
}

template <class T>
bool is_garbage(const T& x) {
    const T g = garbage<T>();
    return std::memcmp(&x, &g, sizeof(T)) == 0;
}

template <class T>
std::vector<T> garbage_filled(std::size_t n) { return std::vector<T>(n, garbage<T>()); }

template <class T>
std::vector<std::string> unwritten(const std::vector<T>& v, const char* name) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size(); ++i)
        if (is_garbage(v[i])) {
            out.push_back(std::string(name) + "[" + std::to_string(i) + "] was not written");
            break;
        }
    return out;
}

// Symbol discovery: a name that resolves to something other than a function (a data object of
// the same name) is reported, not called.
detail::discovered_symbols load(const std::string& path) {
    detail::discovered_symbols p;
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* e = ::dlerror();
        p.load_error = e ? e : "dlopen failed";
        return p;
    }
    p.loaded = true;
    for (auto e : all_entry_points)
        for (auto prec : {precision::f64, precision::f32}) {
            if (!exists_in(e, prec)) continue;  // a half form is looked up once, under f32
            const std::string sym = symbol_name(e, prec);
            ::dlerror();
            void* addr = ::dlsym(handle, sym.c_str());
            if (!addr || ::dlerror()) continue;
            Dl_info info{};
            void* entry_ptr = nullptr;
            if (::dladdr1(addr, &info, &entry_ptr, RTLD_DL_SYMENT) && entry_ptr) {
                const auto* entry = static_cast<const ElfW(Sym)*>(entry_ptr);
                const int type = ELF64_ST_TYPE(entry->st_info);
                if (type != STT_FUNC && type != STT_GNU_IFUNC) {
                    p.wrong_kind.push_back(sym);
                    continue;
                }
            }
            p.functions[entry_name(e, prec)] = addr;
        }
    return p;
}

// An integer header field; a float (1e30 would not convert), string or out-of-range value is refused.
std::int64_t int_field(const json& h, const char* key, std::int64_t absent) {
    if (!h.contains(key)) return absent;
    const auto& v = h[key];
    if (v.is_number_unsigned()) {
        if (v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            throw protocol::protocol_error(std::string("header field '") + key + "' is out of range");
        return static_cast<std::int64_t>(v.get<std::uint64_t>());
    }
    if (v.is_number_integer()) return v.get<std::int64_t>();
    throw protocol::protocol_error(std::string("header field '") + key + "' is not an integer");
}

template <class T>
struct handler {
    using row_fn = int (*)(const T*, std::int64_t, std::int64_t, T*);
    using bwd_fn = int (*)(const T*, const T*, std::int64_t, std::int64_t, T*);
    using ce_fn = int (*)(const T*, const std::int32_t*, std::int64_t, std::int64_t, T*, T*);
    using loss_fn = int (*)(const T*, const T*, const std::int32_t*, std::int64_t, std::int64_t, std::int64_t, T, T*, T*);

    // Returns {status header, payload}. Inputs are checked for modification against copies.
    static std::pair<json, std::string> call(const std::string& op, void* fn, const json& h, const std::string& in) {
        const std::int64_t n = int_field(h, "n", -1), c = int_field(h, "c", -1), d = int_field(h, "d", 0);
        // Negative or absurd sizes are passed through to the plug-in (that is what is being
        // tested) but never used to size our own buffers beyond the payload we received.
        const auto un = static_cast<std::size_t>(std::max<std::int64_t>(n, 0));
        const auto uc = static_cast<std::size_t>(std::max<std::int64_t>(c, 0));
        const auto ud = static_cast<std::size_t>(std::max<std::int64_t>(d, 0));
        // Every buffer sized from the header must fit in the payload actually received: a header
        // claiming n = 1e18 (or an n×c that overflows) is refused before anything is allocated.
        auto elements = [&](std::size_t rows, std::size_t cols, std::size_t elem) {
            std::size_t count = 0;
            if (__builtin_mul_overflow(rows, cols, &count) || count > in.size() / elem)
                throw protocol::protocol_error("header dimensions (n=" + std::to_string(n) + ", c=" + std::to_string(c) +
                                               ", d=" + std::to_string(d) + ") exceed the payload of " +
                                               std::to_string(in.size()) + " bytes");
            return count;
        };
        std::size_t off = 0;
        std::vector<std::string> contract;
        std::string out;
        int rc = 0;
        auto check_same = [&](const auto& now, const auto& before, const char* name) {
            if (now.size() && std::memcmp(now.data(), before.data(), now.size() * sizeof(now[0])) != 0)
                contract.push_back(std::string("input ") + name + " was modified");
        };
        if (op == "softmax" || op == "log_softmax") {
            std::vector<T> z(elements(un, uc, sizeof(T)));
            protocol::extract(in, off, z.data(), z.size());
            const auto z0 = z;
            auto o = garbage_filled<T>(z.size());
            rc = reinterpret_cast<row_fn>(fn)(z.data(), n, c, o.data());
            check_same(z, z0, "logits");
            if (rc == 0) {
                auto u = unwritten(o, "out");
                contract.insert(contract.end(), u.begin(), u.end());
                protocol::append(out, o.data(), o.size());
            }
        } else if (op == "softmax_backward" || op == "log_softmax_backward") {
            const std::size_t count = elements(un, uc, sizeof(T));
            std::vector<T> a(count), g(count);
            protocol::extract(in, off, a.data(), a.size());
            protocol::extract(in, off, g.data(), g.size());
            const auto a0 = a, g0 = g;
            auto o = garbage_filled<T>(count);
            rc = reinterpret_cast<bwd_fn>(fn)(a.data(), g.data(), n, c, o.data());
            check_same(a, a0, "forward output");
            check_same(g, g0, "upstream gradient");
            if (rc == 0) {
                auto u = unwritten(o, "dlogits");
                contract.insert(contract.end(), u.begin(), u.end());
                protocol::append(out, o.data(), o.size());
            }
        } else if (op == "cross_entropy") {
            std::vector<T> z(elements(un, uc, sizeof(T)));
            std::vector<std::int32_t> y(elements(un, 1, sizeof(std::int32_t)));
            protocol::extract(in, off, z.data(), z.size());
            protocol::extract(in, off, y.data(), y.size());
            const auto z0 = z;
            const auto y0 = y;
            T loss = garbage<T>();
            auto o = garbage_filled<T>(z.size());
            rc = reinterpret_cast<ce_fn>(fn)(z.data(), y.data(), n, c, &loss, o.data());
            check_same(z, z0, "logits");
            check_same(y, y0, "labels");
            if (rc == 0) {
                if (is_garbage(loss)) contract.push_back("loss was not written");
                auto u = unwritten(o, "dlogits");
                contract.insert(contract.end(), u.begin(), u.end());
                protocol::append(out, &loss, 1);
                protocol::append(out, o.data(), o.size());
            }
        } else if (op == "softmax_loss") {
            std::vector<T> W(elements(ud, uc, sizeof(T))), X(elements(un, ud, sizeof(T)));
            std::vector<std::int32_t> y(elements(un, 1, sizeof(std::int32_t)));
            T reg{};
            protocol::extract(in, off, W.data(), W.size());
            protocol::extract(in, off, X.data(), X.size());
            protocol::extract(in, off, y.data(), y.size());
            protocol::extract(in, off, &reg, 1);
            const auto W0 = W, X0 = X;
            const auto y0 = y;
            T loss = garbage<T>();
            auto o = garbage_filled<T>(W.size());
            rc = reinterpret_cast<loss_fn>(fn)(W.data(), X.data(), y.data(), n, d, c, reg, &loss, o.data());
            check_same(W, W0, "W");
            check_same(X, X0, "X");
            check_same(y, y0, "y");
            if (rc == 0) {
                if (is_garbage(loss)) contract.push_back("loss was not written");
                auto u = unwritten(o, "dW");
                contract.insert(contract.end(), u.begin(), u.end());
                protocol::append(out, &loss, 1);
                protocol::append(out, o.data(), o.size());
            }
        } else {
            return {json{{"status", "error"}, {"message", "unknown op '" + op + "'"}}, {}};
        }
        json r;
        if (rc != 0) r = {{"status", "rejected"}, {"message", "returned " + std::to_string(rc)}};
        else r = {{"status", "ok"}};
        if (!contract.empty()) r["contract"] = contract;
        return {r, rc == 0 ? out : std::string()};
    }
};

// The options of cross_entropy_ex / fused_linear_cross_entropy as they travel in the request
// header (README, "The subprocess protocol"), turned into the ABI's struct; the class-weight and
// soft-target pointers are set once their buffers exist.
struct wire_options {
    gradproof_ce_options abi{};
    bool weights = false, soft = false, bias = false;
};

bool flag_field(const json& h, const char* key) {
    if (!h.contains(key)) return false;
    if (!h[key].is_boolean()) throw protocol::protocol_error(std::string("header field '") + key + "' is not a boolean");
    return h[key].get<bool>();
}

// A number, or one of the strings "nan", "inf", "-inf" (JSON has no non-finite numbers).
double number_field(const json& h, const char* key) {
    if (!h.contains(key)) return 0;
    const auto& v = h[key];
    if (v.is_number()) return v.get<double>();
    if (v.is_string()) {
        const std::string t = v.get<std::string>();
        if (t == "nan") return std::numeric_limits<double>::quiet_NaN();
        if (t == "inf") return std::numeric_limits<double>::infinity();
        if (t == "-inf") return -std::numeric_limits<double>::infinity();
    }
    throw protocol::protocol_error(std::string("header field '") + key + "' is not a number");
}

wire_options read_options(const json& h) {
    wire_options w;
    w.abi.size = sizeof(gradproof_ce_options);
    w.abi.reduction = GRADPROOF_REDUCTION_MEAN;
    if (h.contains("reduction")) {
        const std::string r = h["reduction"].is_string() ? h["reduction"].get<std::string>() : std::string();
        if (r == "none") w.abi.reduction = GRADPROOF_REDUCTION_NONE;
        else if (r == "sum") w.abi.reduction = GRADPROOF_REDUCTION_SUM;
        else if (r != "mean") throw protocol::protocol_error("header field 'reduction' is not \"none\", \"mean\" or \"sum\"");
    }
    if (h.contains("ignore_index")) {
        const std::int64_t v = int_field(h, "ignore_index", 0);
        if (v < std::numeric_limits<std::int32_t>::min() || v > std::numeric_limits<std::int32_t>::max())
            throw protocol::protocol_error("header field 'ignore_index' is out of range");
        w.abi.has_ignore_index = 1;
        w.abi.ignore_index = static_cast<std::int32_t>(v);
    }
    // Out-of-range values (ε = 2, a negative cap) are passed on: rejecting them is the plug-in's job.
    w.abi.label_smoothing = number_field(h, "label_smoothing");
    w.abi.lse_square_scale = number_field(h, "lse_square_scale");
    w.abi.softcap = number_field(h, "softcap");
    w.weights = flag_field(h, "has_class_weights");
    w.soft = flag_field(h, "has_soft_targets");
    w.bias = flag_field(h, "has_bias");
    return w;
}

// cross_entropy_ex and fused_linear_cross_entropy in one storage type S: double, float, or
// uint16_t for bf16/f16 (bit patterns, never converted here).
template <class S>
struct options_handler {
    using ce_ex_fn = int (*)(const S*, const std::int32_t*, std::int64_t, std::int64_t, const gradproof_ce_options*,
                             const S*, S*, S*);
    using fused_fn = int (*)(const S*, const S*, const S*, const std::int32_t*, std::int64_t, std::int64_t, std::int64_t,
                             const gradproof_ce_options*, const S*, S*, S*, S*, S*);

    static std::pair<json, std::string> call(const std::string& op, void* fn, const json& h, const std::string& in) {
        const bool fused = op == "fused_linear_cross_entropy";
        const std::int64_t n = int_field(h, "n", -1), c = int_field(h, fused ? "v" : "c", -1),
                           d = fused ? int_field(h, "d", -1) : 0;
        const auto un = static_cast<std::size_t>(std::max<std::int64_t>(n, 0));
        const auto uc = static_cast<std::size_t>(std::max<std::int64_t>(c, 0));
        const auto ud = static_cast<std::size_t>(std::max<std::int64_t>(d, 0));
        wire_options w = read_options(h);
        if (fused && w.soft) throw protocol::protocol_error("fused_linear_cross_entropy takes no soft targets");
        if (!fused && w.bias) throw protocol::protocol_error("cross_entropy_ex takes no bias");
        // As in handler::call: no buffer is sized beyond the payload actually received.
        auto elements = [&](std::size_t rows, std::size_t cols, std::size_t elem) {
            std::size_t count = 0;
            if (__builtin_mul_overflow(rows, cols, &count) || count > in.size() / elem)
                throw protocol::protocol_error("header dimensions (n=" + std::to_string(n) + (fused ? ", v=" : ", c=") +
                                               std::to_string(c) + (fused ? ", d=" + std::to_string(d) : std::string()) +
                                               ") exceed the payload of " + std::to_string(in.size()) + " bytes");
            return count;
        };
        const std::size_t loss_count = w.abi.reduction == GRADPROOF_REDUCTION_NONE ? un : 1;
        std::size_t off = 0;
        auto take = [&](auto& v, std::size_t count) {
            v.resize(count);
            protocol::extract(in, off, v.data(), count);
        };
        // Inputs, in the order of the README.
        std::vector<S> logits, hidden, weight, bias, class_weights, soft_targets, dloss;
        std::vector<std::int32_t> labels;
        if (fused) {
            take(hidden, elements(un, ud, sizeof(S)));
            take(weight, elements(uc, ud, sizeof(S)));
            if (w.bias) take(bias, elements(uc, 1, sizeof(S)));
        } else {
            take(logits, elements(un, uc, sizeof(S)));
        }
        if (!w.soft) take(labels, elements(un, 1, sizeof(std::int32_t)));
        if (w.weights) take(class_weights, elements(uc, 1, sizeof(S)));
        if (w.soft) take(soft_targets, elements(un, uc, sizeof(S)));
        take(dloss, elements(loss_count, 1, sizeof(S)));
        if (off != in.size())
            throw protocol::protocol_error("payload of " + std::to_string(in.size()) + " bytes is longer than the " +
                                           std::to_string(off) + " the header describes");
        if (w.weights) w.abi.class_weights = class_weights.data();
        if (w.soft) w.abi.soft_targets = soft_targets.data();
        const auto logits0 = logits, hidden0 = hidden, weight0 = weight, bias0 = bias, class_weights0 = class_weights,
                   soft_targets0 = soft_targets, dloss0 = dloss;
        const auto labels0 = labels;
        const gradproof_ce_options abi0 = w.abi;

        // Outputs (elements(): every one is no larger than an input of the same shape).
        auto loss = garbage_filled<S>(loss_count);
        std::vector<S> dlogits, dhidden, dweight, dbias;
        int rc = 0;
        if (fused) {
            dhidden = garbage_filled<S>(hidden.size());
            dweight = garbage_filled<S>(weight.size());
            if (w.bias) dbias = garbage_filled<S>(bias.size());
            rc = reinterpret_cast<fused_fn>(fn)(hidden.data(), weight.data(), w.bias ? bias.data() : nullptr,
                                                labels.data(), n, d, c, &w.abi, dloss.data(), loss.data(), dhidden.data(),
                                                dweight.data(), w.bias ? dbias.data() : nullptr);
        } else {
            dlogits = garbage_filled<S>(logits.size());
            rc = reinterpret_cast<ce_ex_fn>(fn)(logits.data(), w.soft ? nullptr : labels.data(), n, c, &w.abi,
                                                dloss.data(), loss.data(), dlogits.data());
        }

        std::vector<std::string> contract;
        auto check_same = [&](const auto& now, const auto& before, const char* name) {
            if (now.size() && std::memcmp(now.data(), before.data(), now.size() * sizeof(now[0])) != 0)
                contract.push_back(std::string("input ") + name + " was modified");
        };
        check_same(logits, logits0, "logits");
        check_same(hidden, hidden0, "hidden");
        check_same(weight, weight0, "weight");
        check_same(bias, bias0, "bias");
        check_same(labels, labels0, "labels");
        check_same(class_weights, class_weights0, "class_weights");
        check_same(soft_targets, soft_targets0, "soft_targets");
        check_same(dloss, dloss0, "dloss");
        if (std::memcmp(&w.abi, &abi0, sizeof abi0) != 0) contract.push_back("input options was modified");

        // Named outputs in answer order.
        std::vector<std::pair<const std::vector<S>*, const char*>> outputs{{&loss, "loss"}};
        if (fused) {
            outputs.push_back({&dhidden, "dhidden"});
            outputs.push_back({&dweight, "dweight"});
            if (w.bias) outputs.push_back({&dbias, "dbias"});
        } else {
            outputs.push_back({&dlogits, "dlogits"});
        }
        std::string out;
        json r;
        if (rc == 0) {
            r = {{"status", "ok"}};
            for (const auto& [v, name] : outputs) {
                auto u = unwritten(*v, name);
                contract.insert(contract.end(), u.begin(), u.end());
                protocol::append(out, v->data(), v->size());
            }
        } else if (rc == GRADPROOF_UNSUPPORTED) {
            // Distinct from a rejection: the case is skipped, not counted as declined.
            r = {{"status", "unsupported"}, {"message", "returned GRADPROOF_UNSUPPORTED"}};
            for (const auto& [v, name] : outputs)
                for (std::size_t i = 0; i < v->size(); ++i)
                    if (!is_garbage((*v)[i])) {
                        contract.push_back(std::string(name) + "[" + std::to_string(i) +
                                           "] was written by a call returning GRADPROOF_UNSUPPORTED");
                        break;
                    }
        } else {
            r = {{"status", "rejected"}, {"message", "returned " + std::to_string(rc)}};
        }
        if (!contract.empty()) r["contract"] = contract;
        return {r, rc == 0 ? out : std::string()};
    }
};

}  // namespace

namespace detail {

std::pair<json, std::string> handle_request(const discovered_symbols& p, const protocol::message& m) {
    try {
        if (!m.header.contains("op") || !m.header["op"].is_string())
            return {json{{"status", "error"}, {"message", "request has no op"}}, {}};
        const std::string op = m.header["op"].get<std::string>();
        if (op == "hello") {
            if (!p.loaded) return {json{{"status", "error"}, {"message", "cannot load plug-in: " + p.load_error}}, {}};
            json eps = json::array();
            for (const auto& [name, fn] : p.functions) eps.push_back(name);
            return {json{{"status", "ok"}, {"protocol", protocol::version}, {"entry_points", eps}, {"wrong_kind", p.wrong_kind}},
                    {}};
        }
        const std::string dtype = m.header.contains("dtype") && m.header["dtype"].is_string()
                                      ? m.header["dtype"].get<std::string>()
                                      : std::string();
        // bf16/f16 exist only for the version-2 ops.
        const bool with_options = op == "cross_entropy_ex" || op == "fused_linear_cross_entropy";
        const bool half = dtype == "bf16" || dtype == "f16";
        const auto it = p.functions.find(op + "_" + dtype);
        if (it == p.functions.end() || !(dtype == "f64" || dtype == "f32" || (half && with_options)))
            return {json{{"status", "error"}, {"message", "no symbol for " + op + "_" + dtype}}, {}};
        if (with_options) {
            if (half) return options_handler<std::uint16_t>::call(op, it->second, m.header, m.payload);
            return dtype == "f64" ? options_handler<double>::call(op, it->second, m.header, m.payload)
                                  : options_handler<float>::call(op, it->second, m.header, m.payload);
        }
        return dtype == "f64" ? handler<double>::call(op, it->second, m.header, m.payload)
                              : handler<float>::call(op, it->second, m.header, m.payload);
    } catch (const std::exception& e) {
        return {json{{"status", "error"}, {"message", e.what()}}, {}};
    }
}

}  // namespace detail

int run_worker(const std::string& plugin_path) {
    // Keep the protocol on private descriptors; whatever the plug-in prints goes to stderr and
    // whatever it reads comes from /dev/null.
    const int proto_in = ::dup(0), proto_out = ::dup(1);
    if (proto_in < 0 || proto_out < 0) return 3;
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(2, 1);

    const detail::discovered_symbols p = load(plugin_path);
    for (;;) {
        protocol::message m;
        try {
            // Requests come from gradproof itself; the bound only keeps a corrupted stream from
            // asking for absurd memory (payloads grow with the data actually received anyway).
            m = protocol::read_message(proto_in, std::nullopt, std::uint64_t{1} << 40);
        } catch (const protocol::eof_error&) {
            return 0;
        } catch (const std::exception& e) {
            protocol::write_message(proto_out, json{{"status", "error"}, {"message", e.what()}});
            return 3;
        }
        auto [h, payload] = detail::handle_request(p, m);
        protocol::write_message(proto_out, h, payload);
    }
}

}  // namespace gradproof::plugin
