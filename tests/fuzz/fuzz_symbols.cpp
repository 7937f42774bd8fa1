// Fuzzes what gradproof makes of plug-in symbol discovery, on both sides of the worker:
//   first byte even — the parent reading a hello answer (parse_hello: entry points, symbols of the
//     wrong kind, name), the rest being the answer's JSON header;
//   first byte odd — the worker answering a request (detail::handle_request) with every one of the
//     twelve entry points discovered, each a stub that reads and writes exactly what the ABI lets
//     it for the n, c, d it is given, like a correct plug-in would; the rest is a header line and
//     its payload. ASan then catches any buffer sized from the header that does not match.
// dlopen/dlsym themselves are the C library's and are not fuzzed.
#include "plugin/abi.hpp"
#include "plugin/external.hpp"
#include "plugin/worker.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

using namespace gradproof;
using nlohmann::json;

template <class T>
int row_stub(const T* z, std::int64_t n, std::int64_t c, T* out) {
    if (n < 0 || c <= 0) return 1;
    for (std::int64_t i = 0; i < n * c; ++i) out[i] = z[i];
    return 0;
}
template <class T>
int bwd_stub(const T* a, const T* g, std::int64_t n, std::int64_t c, T* out) {
    if (n < 0 || c <= 0) return 1;
    for (std::int64_t i = 0; i < n * c; ++i) out[i] = a[i] * g[i];
    return 0;
}
template <class T>
int ce_stub(const T* z, const std::int32_t* y, std::int64_t n, std::int64_t c, T* loss, T* dz) {
    if (n <= 0 || c <= 0) return 1;
    for (std::int64_t i = 0; i < n; ++i)
        if (y[i] < 0 || y[i] >= c) return 2;
    *loss = 0;
    for (std::int64_t i = 0; i < n * c; ++i) dz[i] = z[i];
    return 0;
}
template <class T>
int loss_stub(const T* W, const T* X, const std::int32_t* y, std::int64_t n, std::int64_t d, std::int64_t c, T reg,
              T* loss, T* dW) {
    if (n <= 0 || d <= 0 || c <= 0) return 1;
    for (std::int64_t i = 0; i < n; ++i)
        if (y[i] < 0 || y[i] >= c) return 2;
    T s = reg;
    for (std::int64_t i = 0; i < n * d; ++i) s += X[i];
    for (std::int64_t i = 0; i < d * c; ++i) dW[i] = W[i];
    *loss = s;
    return 0;
}

// The six stubs of one precision, under their ABI names.
template <class T>
void put_stubs(plugin::detail::discovered_symbols& s, precision p) {
    auto put = [&](entry_point e, void* fn) { s.functions[plugin::entry_name(e, p)] = fn; };
    put(entry_point::softmax, reinterpret_cast<void*>(&row_stub<T>));
    put(entry_point::log_softmax, reinterpret_cast<void*>(&row_stub<T>));
    put(entry_point::softmax_backward, reinterpret_cast<void*>(&bwd_stub<T>));
    put(entry_point::log_softmax_backward, reinterpret_cast<void*>(&bwd_stub<T>));
    put(entry_point::cross_entropy, reinterpret_cast<void*>(&ce_stub<T>));
    put(entry_point::softmax_loss, reinterpret_cast<void*>(&loss_stub<T>));
}

plugin::detail::discovered_symbols stub_symbols() {
    plugin::detail::discovered_symbols s;
    s.loaded = true;
    put_stubs<double>(s, precision::f64);
    put_stubs<float>(s, precision::f32);
    s.wrong_kind = {"gradproof_softmax_backward_f32"};
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (data[0] % 2 == 0) {
        const json header = json::parse(rest, nullptr, false);
        if (header.is_discarded()) return 0;
        try {
            const auto info = plugin::parse_hello(header, "fuzz");
            if (info.entry_points.empty()) std::abort();
            // Only the ABI's names survive: a type suffix, or one of the bf16/f16 forms.
            for (const auto& e : info.entry_points) {
                bool known = false;
                for (auto ep : plugin::all_entry_points)
                    for (auto p : {precision::f64, precision::f32})
                        known = known || (!plugin::entry_name(ep, p).empty() && plugin::entry_name(ep, p) == e);
                if (!known) std::abort();
            }
        } catch (const plugin::load_error&) {
        }
        return 0;
    }
    static const auto symbols = stub_symbols();
    const auto nl = rest.find('\n');
    protocol::message m;
    m.header = json::parse(rest.substr(0, nl), nullptr, false);
    if (m.header.is_discarded()) return 0;
    if (nl != std::string::npos) m.payload = rest.substr(nl + 1);
    const auto [answer, payload] = plugin::detail::handle_request(symbols, m);
    if (!answer.is_object() || !answer.contains("status")) std::abort();
    if (answer["status"] != "ok" && !payload.empty()) std::abort();
    return 0;
}
