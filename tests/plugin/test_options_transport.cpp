// Transport of the ABI-version-2 entry points (cross_entropy_ex, fused_linear_cross_entropy, in
// f64/f32/bf16/f16) through the subprocess protocol: the worker's request handler driven directly
// with recording and misbehaving stubs (every option reaches the ABI struct, unsupported is not
// rejected, modified inputs and unwritten outputs are reported, sizes beyond the payload are
// refused), the options plug-in through the handler and through a real worker process, and the
// Python adapter's "unsupported" answer.
#include "include/gradproof/plugin.h"
#include "core/half.hpp"
#include "plugin/abi.hpp"
#include "plugin/external.hpp"
#include "plugin/worker.hpp"

#include <gtest/gtest.h>

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

using namespace gradproof;
using nlohmann::json;
using detail_symbols = plugin::detail::discovered_symbols;

bool contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

template <class T>
void put(std::string& payload, const std::vector<T>& v) {
    protocol::append(payload, v.data(), v.size());
}

template <class T>
std::vector<T> take(const std::string& payload, std::size_t& off, std::size_t count) {
    std::vector<T> v(count);
    protocol::extract(payload, off, v.data(), count);
    return v;
}

std::pair<json, std::string> ask(const detail_symbols& s, json header, const std::string& payload) {
    header["gradproof"] = protocol::version;
    header["bytes"] = payload.size();
    protocol::message m;
    m.header = std::move(header);
    m.payload = payload;
    return plugin::detail::handle_request(s, m);
}

std::string contract_of(const json& answer) {
    std::string all;
    if (answer.contains("contract"))
        for (const auto& v : answer["contract"]) all += v.get<std::string>() + "; ";
    return all;
}

// What the last stub call received (raw bytes, so one record serves every storage type).
struct recording {
    gradproof_ce_options options{};
    bool options_null = true, labels_null = true, bias_null = true, dbias_null = true;
    std::int64_t n = 0, c = 0, d = 0;
    std::string logits, labels, weights, soft, dloss, hidden, weight, bias;
};
recording last;

std::string bytes_of(const void* p, std::size_t n) { return p ? std::string(static_cast<const char*>(p), n) : std::string(); }

// What the misbehaving stubs do instead of behaving.
enum class misdeed { none, unsupported, unsupported_but_writes, reject, modify_weights, modify_soft, modify_dloss, modify_labels,
                     modify_bias, skip_last_output, skip_dbias };
misdeed mode = misdeed::none;

std::size_t loss_count(const gradproof_ce_options* o, std::int64_t n) {
    return o->reduction == GRADPROOF_REDUCTION_NONE ? static_cast<std::size_t>(n) : 1;
}

// Echoes: loss = dloss, dlogits = logits (bit patterns), after recording the call.
template <class S>
int ce_ex_stub(const S* logits, const std::int32_t* labels, std::int64_t n, std::int64_t c, const gradproof_ce_options* o,
               const S* dloss, S* loss, S* dlogits) {
    const auto nc = static_cast<std::size_t>(n * c);
    const std::size_t nl = loss_count(o, n);
    last = recording{};
    last.options = *o;
    last.options_null = false;
    last.labels_null = labels == nullptr;
    last.n = n;
    last.c = c;
    last.logits = bytes_of(logits, nc * sizeof(S));
    last.labels = bytes_of(labels, static_cast<std::size_t>(n) * sizeof(std::int32_t));
    last.weights = bytes_of(o->class_weights, static_cast<std::size_t>(c) * sizeof(S));
    last.soft = bytes_of(o->soft_targets, nc * sizeof(S));
    last.dloss = bytes_of(dloss, nl * sizeof(S));
    switch (mode) {
        case misdeed::unsupported: return GRADPROOF_UNSUPPORTED;
        case misdeed::unsupported_but_writes: loss[0] = dloss[0]; return GRADPROOF_UNSUPPORTED;
        case misdeed::reject: return 3;
        case misdeed::modify_weights: const_cast<S*>(static_cast<const S*>(o->class_weights))[0] = S{}; break;
        case misdeed::modify_soft: const_cast<S*>(static_cast<const S*>(o->soft_targets))[nc - 1] = S{}; break;
        case misdeed::modify_dloss: const_cast<S*>(dloss)[0] = S{}; break;
        case misdeed::modify_labels: const_cast<std::int32_t*>(labels)[0] ^= 1; break;
        default: break;
    }
    for (std::size_t k = 0; k < nl; ++k) loss[k] = dloss[k];
    const std::size_t written = mode == misdeed::skip_last_output ? nc - 1 : nc;
    for (std::size_t i = 0; i < written; ++i) dlogits[i] = logits[i];
    return 0;
}

// Echoes: loss = dloss, dhidden = hidden, dweight = weight, dbias = bias.
template <class S>
int fused_stub(const S* hidden, const S* weight, const S* bias, const std::int32_t* labels, std::int64_t n, std::int64_t d,
               std::int64_t v, const gradproof_ce_options* o, const S* dloss, S* loss, S* dhidden, S* dweight, S* dbias) {
    const std::size_t nl = loss_count(o, n);
    last = recording{};
    last.options = *o;
    last.options_null = false;
    last.labels_null = labels == nullptr;
    last.bias_null = bias == nullptr;
    last.dbias_null = dbias == nullptr;
    last.n = n;
    last.c = v;
    last.d = d;
    last.hidden = bytes_of(hidden, static_cast<std::size_t>(n * d) * sizeof(S));
    last.weight = bytes_of(weight, static_cast<std::size_t>(v * d) * sizeof(S));
    last.bias = bytes_of(bias, static_cast<std::size_t>(v) * sizeof(S));
    last.labels = bytes_of(labels, static_cast<std::size_t>(n) * sizeof(std::int32_t));
    last.weights = bytes_of(o->class_weights, static_cast<std::size_t>(v) * sizeof(S));
    last.dloss = bytes_of(dloss, nl * sizeof(S));
    if (mode == misdeed::unsupported) return GRADPROOF_UNSUPPORTED;
    if (mode == misdeed::modify_bias) const_cast<S*>(bias)[0] = S{};
    for (std::size_t k = 0; k < nl; ++k) loss[k] = dloss[k];
    for (std::int64_t i = 0; i < n * d; ++i) dhidden[i] = hidden[i];
    for (std::int64_t i = 0; i < v * d; ++i) dweight[i] = weight[i];
    if (bias && mode != misdeed::skip_dbias)
        for (std::int64_t j = 0; j < v; ++j) dbias[j] = bias[j];
    return 0;
}

detail_symbols stub_symbols() {
    detail_symbols s;
    s.loaded = true;
    auto put_fn = [&](entry_point e, precision p, void* fn) { s.functions[plugin::entry_name(e, p)] = fn; };
    put_fn(entry_point::cross_entropy_ex, precision::f64, reinterpret_cast<void*>(&ce_ex_stub<double>));
    put_fn(entry_point::cross_entropy_ex, precision::f32, reinterpret_cast<void*>(&ce_ex_stub<float>));
    put_fn(entry_point::cross_entropy_ex_bf16, precision::f32, reinterpret_cast<void*>(&ce_ex_stub<std::uint16_t>));
    put_fn(entry_point::cross_entropy_ex_f16, precision::f32, reinterpret_cast<void*>(&ce_ex_stub<std::uint16_t>));
    put_fn(entry_point::fused_linear_cross_entropy, precision::f64, reinterpret_cast<void*>(&fused_stub<double>));
    put_fn(entry_point::fused_linear_cross_entropy, precision::f32, reinterpret_cast<void*>(&fused_stub<float>));
    put_fn(entry_point::fused_linear_cross_entropy_bf16, precision::f32, reinterpret_cast<void*>(&fused_stub<std::uint16_t>));
    put_fn(entry_point::fused_linear_cross_entropy_f16, precision::f32, reinterpret_cast<void*>(&fused_stub<std::uint16_t>));
    return s;
}

class options_transport : public ::testing::Test {
protected:
    void SetUp() override { mode = misdeed::none; }
    void TearDown() override { mode = misdeed::none; }
    detail_symbols symbols = stub_symbols();
};

// A request with n = 3, c = 4 in double, hard labels, class weights, reduction none.
struct ce_request {
    std::vector<double> logits{0.5, -1, 2, 0, 1, 1, -3, 0.25, 7, -0.5, 0, 1e-300};
    std::vector<std::int32_t> labels{1, 2, 0};
    std::vector<double> weights{1, 0.5, 2, 0.25};
    std::vector<double> soft{0.1, 0.2, 0.3, 0.4, 1, 0, 0, 0, 0.25, 0.25, 0.25, 0.25};
    std::vector<double> dloss{1, -2, 0.5};
    json header = json{{"op", "cross_entropy_ex"}, {"dtype", "f64"}, {"n", 3}, {"c", 4}};
};

TEST_F(options_transport, every_option_reaches_the_abi_struct_with_hard_labels_and_class_weights) {
    ce_request r;
    json h = r.header;
    h.update(json{{"reduction", "none"}, {"ignore_index", 2}, {"label_smoothing", 0.125}, {"lse_square_scale", 1e-4},
                  {"softcap", 30.0}, {"has_class_weights", true}});
    std::string payload;
    put(payload, r.logits);
    put(payload, r.labels);
    put(payload, r.weights);
    put(payload, r.dloss);
    const auto [answer, out] = ask(symbols, h, payload);
    ASSERT_EQ(answer["status"], "ok") << answer.dump();
    EXPECT_FALSE(answer.contains("contract")) << answer.dump();
    const auto& o = last.options;
    EXPECT_EQ(o.size, sizeof(gradproof_ce_options));
    EXPECT_EQ(o.reduction, GRADPROOF_REDUCTION_NONE);
    EXPECT_EQ(o.has_ignore_index, 1);
    EXPECT_EQ(o.ignore_index, 2);
    EXPECT_EQ(o.reserved, 0);
    EXPECT_EQ(o.label_smoothing, 0.125);
    EXPECT_EQ(o.lse_square_scale, 1e-4);
    EXPECT_EQ(o.softcap, 30.0);
    EXPECT_EQ(o.soft_targets, nullptr);
    EXPECT_EQ(last.n, 3);
    EXPECT_EQ(last.c, 4);
    EXPECT_FALSE(last.labels_null);
    EXPECT_EQ(last.logits, bytes_of(r.logits.data(), r.logits.size() * sizeof(double)));
    EXPECT_EQ(last.labels, bytes_of(r.labels.data(), r.labels.size() * sizeof(std::int32_t)));
    EXPECT_EQ(last.weights, bytes_of(r.weights.data(), r.weights.size() * sizeof(double)));
    EXPECT_EQ(last.dloss, bytes_of(r.dloss.data(), r.dloss.size() * sizeof(double)));
    // Answer: loss (n values for reduction none), then dlogits.
    std::size_t off = 0;
    EXPECT_EQ(take<double>(out, off, 3), r.dloss);
    EXPECT_EQ(take<double>(out, off, 12), r.logits);
    EXPECT_EQ(off, out.size());
}

TEST_F(options_transport, soft_targets_travel_without_labels_and_defaults_fill_absent_fields) {
    ce_request r;
    json h = r.header;
    h.update(json{{"reduction", "sum"}, {"has_soft_targets", true}, {"softcap", "inf"}});
    std::string payload;
    put(payload, r.logits);
    put(payload, r.soft);
    put(payload, std::vector<double>{0.75});
    const auto [answer, out] = ask(symbols, h, payload);
    ASSERT_EQ(answer["status"], "ok") << answer.dump();
    EXPECT_EQ(last.options.reduction, GRADPROOF_REDUCTION_SUM);
    EXPECT_EQ(last.options.has_ignore_index, 0);
    EXPECT_EQ(last.options.label_smoothing, 0);
    EXPECT_EQ(last.options.class_weights, nullptr);
    EXPECT_TRUE(std::isinf(last.options.softcap));  // a non-finite option travels as a string
    EXPECT_TRUE(last.labels_null);
    EXPECT_EQ(last.soft, bytes_of(r.soft.data(), r.soft.size() * sizeof(double)));
    EXPECT_EQ(out.size(), (1 + 12) * sizeof(double));

    // No option field at all: reduction mean, nothing ignored, no weights.
    std::string plain;
    put(plain, r.logits);
    put(plain, r.labels);
    put(plain, std::vector<double>{1});
    const auto [a2, o2] = ask(symbols, r.header, plain);
    ASSERT_EQ(a2["status"], "ok") << a2.dump();
    EXPECT_EQ(last.options.reduction, GRADPROOF_REDUCTION_MEAN);
    EXPECT_EQ(last.options.has_ignore_index, 0);
    EXPECT_EQ(last.options.lse_square_scale, 0);
    EXPECT_EQ(last.options.softcap, 0);
}

TEST_F(options_transport, bf16_and_f16_bit_patterns_cross_exactly) {
    // NaN with a payload, −0, the smallest subnormal, ±inf, a largest finite value.
    const std::vector<std::uint16_t> logits{0x7fc1, 0x8000, 0x0001, 0x7f80, 0xff80, 0x7f7f};
    const std::vector<std::int32_t> labels{0, 2};
    const std::vector<std::uint16_t> weights{0x3f80, 0x4000, 0x0000}, dloss{0x3f80};
    for (const char* dtype : {"bf16", "f16"}) {
        std::string payload;
        put(payload, logits);
        put(payload, labels);
        put(payload, weights);
        put(payload, dloss);
        const auto [answer, out] =
            ask(symbols, json{{"op", "cross_entropy_ex"}, {"dtype", dtype}, {"n", 2}, {"c", 3}, {"has_class_weights", true}},
                payload);
        ASSERT_EQ(answer["status"], "ok") << dtype << ": " << answer.dump();
        EXPECT_EQ(last.weights, bytes_of(weights.data(), 6));
        std::size_t off = 0;
        EXPECT_EQ(take<std::uint16_t>(out, off, 1), dloss);
        EXPECT_EQ(take<std::uint16_t>(out, off, 6), logits) << dtype;
    }
    // Fused linear cross-entropy in both formats: hidden 1×2, weight 3×2, bias 3, echoed back.
    const std::vector<std::uint16_t> hidden{0x3c00, 0x8001}, weight{0x7bff, 0x0001, 0xc000, 0x3555, 0x0400, 0x8000},
        bias{0x3f80, 0x0002, 0xfbff};
    for (const char* dtype : {"bf16", "f16"}) {
        std::string payload;
        put(payload, hidden);
        put(payload, weight);
        put(payload, bias);
        put(payload, std::vector<std::int32_t>{2});
        put(payload, dloss);
        const auto [answer, out] = ask(
            symbols, json{{"op", "fused_linear_cross_entropy"}, {"dtype", dtype}, {"n", 1}, {"d", 2}, {"v", 3}, {"has_bias", true}},
            payload);
        ASSERT_EQ(answer["status"], "ok") << dtype << ": " << answer.dump();
        std::size_t off = 0;
        EXPECT_EQ(take<std::uint16_t>(out, off, 1), dloss) << dtype;
        EXPECT_EQ(take<std::uint16_t>(out, off, 2), hidden) << dtype;
        EXPECT_EQ(take<std::uint16_t>(out, off, 6), weight) << dtype;
        EXPECT_EQ(take<std::uint16_t>(out, off, 3), bias) << dtype;
    }
    // Half storage exists for the version-2 ops only.
    std::string p(12, '\0');
    EXPECT_EQ(ask(symbols, json{{"op", "softmax"}, {"dtype", "bf16"}, {"n", 2}, {"c", 3}}, p).first["status"], "error");
    EXPECT_EQ(ask(symbols, json{{"op", "cross_entropy"}, {"dtype", "f16"}, {"n", 1}, {"c", 3}}, p).first["status"], "error");
}

TEST_F(options_transport, fused_arrays_and_bias_travel_in_order) {
    const std::vector<float> hidden{1, 2, 3, 4, 5, 6};  // n = 2, d = 3
    const std::vector<float> weight{0.5f, -1, 2, 0, 1, 1, 3, 0.25f, -7, 1, 1, 1};  // v = 4
    const std::vector<float> bias{0.1f, 0.2f, 0.3f, 0.4f}, weights{1, 2, 3, 4}, dloss{2};
    const std::vector<std::int32_t> labels{3, -100};
    json h{{"op", "fused_linear_cross_entropy"}, {"dtype", "f32"}, {"n", 2}, {"d", 3}, {"v", 4}, {"has_bias", true},
           {"has_class_weights", true}, {"ignore_index", -100}, {"reduction", "mean"}, {"label_smoothing", 0.5}};
    std::string payload;
    put(payload, hidden);
    put(payload, weight);
    put(payload, bias);
    put(payload, labels);
    put(payload, weights);
    put(payload, dloss);
    auto [answer, out] = ask(symbols, h, payload);
    ASSERT_EQ(answer["status"], "ok") << answer.dump();
    EXPECT_EQ(last.n, 2);
    EXPECT_EQ(last.d, 3);
    EXPECT_EQ(last.c, 4);
    EXPECT_EQ(last.options.ignore_index, -100);
    EXPECT_EQ(last.options.label_smoothing, 0.5);
    EXPECT_EQ(last.bias, bytes_of(bias.data(), 16));
    EXPECT_EQ(last.weights, bytes_of(weights.data(), 16));
    EXPECT_EQ(last.labels, bytes_of(labels.data(), 8));
    std::size_t off = 0;
    EXPECT_EQ(take<float>(out, off, 1), dloss);
    EXPECT_EQ(take<float>(out, off, 6), hidden);
    EXPECT_EQ(take<float>(out, off, 12), weight);
    EXPECT_EQ(take<float>(out, off, 4), bias);
    EXPECT_EQ(off, out.size());

    // Without a bias: bias and dbias are NULL and the answer has no dbias.
    h.erase("has_bias");
    h.erase("has_class_weights");
    std::string no_bias;
    put(no_bias, hidden);
    put(no_bias, weight);
    put(no_bias, labels);
    put(no_bias, dloss);
    std::tie(answer, out) = ask(symbols, h, no_bias);
    ASSERT_EQ(answer["status"], "ok") << answer.dump();
    EXPECT_TRUE(last.bias_null);
    EXPECT_TRUE(last.dbias_null);
    EXPECT_EQ(last.options.class_weights, nullptr);
    EXPECT_EQ(out.size(), (1 + 6 + 12) * sizeof(float));

    // Soft targets are not part of fused linear cross-entropy.
    h["has_soft_targets"] = true;
    EXPECT_EQ(ask(symbols, h, no_bias).first["status"], "error");
}

TEST_F(options_transport, unsupported_is_answered_apart_from_rejected) {
    ce_request r;
    std::string payload;
    put(payload, r.logits);
    put(payload, r.labels);
    put(payload, std::vector<double>{1});
    mode = misdeed::unsupported;
    auto [answer, out] = ask(symbols, r.header, payload);
    EXPECT_EQ(answer["status"], "unsupported") << answer.dump();
    EXPECT_TRUE(out.empty());
    EXPECT_FALSE(answer.contains("contract")) << answer.dump();
    mode = misdeed::reject;
    std::tie(answer, out) = ask(symbols, r.header, payload);
    EXPECT_EQ(answer["status"], "rejected") << answer.dump();
    EXPECT_TRUE(out.empty());
    // GRADPROOF_UNSUPPORTED promises that nothing was written.
    mode = misdeed::unsupported_but_writes;
    std::tie(answer, out) = ask(symbols, r.header, payload);
    EXPECT_EQ(answer["status"], "unsupported");
    EXPECT_TRUE(contains(contract_of(answer), "loss[0] was written by a call returning GRADPROOF_UNSUPPORTED"))
        << answer.dump();
    // Fused too.
    mode = misdeed::unsupported;
    std::string fused;
    put(fused, std::vector<double>{1, 2});
    put(fused, std::vector<double>{3, 4});
    put(fused, std::vector<std::int32_t>{0});
    put(fused, std::vector<double>{1});
    EXPECT_EQ(ask(symbols, json{{"op", "fused_linear_cross_entropy"}, {"dtype", "f64"}, {"n", 1}, {"d", 2}, {"v", 1}}, fused)
                  .first["status"],
              "unsupported");
}

TEST_F(options_transport, modified_inputs_are_reported) {
    ce_request r;
    auto run = [&](misdeed m, bool soft) {
        mode = m;
        json h = r.header;
        h["has_class_weights"] = true;
        if (soft) h["has_soft_targets"] = true;
        std::string payload;
        put(payload, r.logits);
        if (!soft) put(payload, r.labels);
        put(payload, r.weights);
        if (soft) put(payload, r.soft);
        put(payload, std::vector<double>{1});
        return contract_of(ask(symbols, h, payload).first);
    };
    EXPECT_TRUE(contains(run(misdeed::modify_weights, false), "input class_weights was modified"));
    EXPECT_TRUE(contains(run(misdeed::modify_soft, true), "input soft_targets was modified"));
    EXPECT_TRUE(contains(run(misdeed::modify_dloss, false), "input dloss was modified"));
    EXPECT_TRUE(contains(run(misdeed::modify_labels, false), "input labels was modified"));
    EXPECT_EQ(run(misdeed::none, false), "");

    mode = misdeed::modify_bias;
    std::string fused;
    put(fused, std::vector<double>{1, 2});
    put(fused, std::vector<double>{3, 4});
    put(fused, std::vector<double>{0.5});
    put(fused, std::vector<std::int32_t>{0});
    put(fused, std::vector<double>{1});
    const auto answer =
        ask(symbols, json{{"op", "fused_linear_cross_entropy"}, {"dtype", "f64"}, {"n", 1}, {"d", 2}, {"v", 1}, {"has_bias", true}},
            fused)
            .first;
    EXPECT_TRUE(contains(contract_of(answer), "input bias was modified")) << answer.dump();
}

TEST_F(options_transport, unwritten_outputs_are_reported) {
    ce_request r;
    std::string payload;
    put(payload, r.logits);
    put(payload, r.labels);
    put(payload, std::vector<double>{1});
    mode = misdeed::skip_last_output;
    auto answer = ask(symbols, r.header, payload).first;
    EXPECT_TRUE(contains(contract_of(answer), "dlogits[11] was not written")) << answer.dump();

    // In bf16 as well (the garbage is a NaN pattern in both half formats).
    std::string half;
    put(half, std::vector<std::uint16_t>{0x3f80, 0x4000});
    put(half, std::vector<std::int32_t>{1});
    put(half, std::vector<std::uint16_t>{0x3f80});
    answer = ask(symbols, json{{"op", "cross_entropy_ex"}, {"dtype", "bf16"}, {"n", 1}, {"c", 2}}, half).first;
    EXPECT_TRUE(contains(contract_of(answer), "dlogits[1] was not written")) << answer.dump();

    mode = misdeed::skip_dbias;
    std::string fused;
    put(fused, std::vector<double>{1, 2});
    put(fused, std::vector<double>{3, 4});
    put(fused, std::vector<double>{0.5});
    put(fused, std::vector<std::int32_t>{0});
    put(fused, std::vector<double>{1});
    answer =
        ask(symbols, json{{"op", "fused_linear_cross_entropy"}, {"dtype", "f64"}, {"n", 1}, {"d", 2}, {"v", 1}, {"has_bias", true}},
            fused)
            .first;
    EXPECT_TRUE(contains(contract_of(answer), "dbias[0] was not written")) << answer.dump();
}

TEST_F(options_transport, sizes_beyond_the_payload_are_refused_before_allocation) {
    std::string small(64, '\0');
    auto status_of = [&](const json& h, const std::string& p) {
        const auto a = ask(symbols, h, p).first;
        return a["status"].get<std::string>() + ": " + (a.contains("message") ? a["message"].get<std::string>() : "");
    };
    const json huge_rows{{"op", "cross_entropy_ex"}, {"dtype", "f64"}, {"n", 1000000000000LL}, {"c", 1000000}};
    EXPECT_TRUE(contains(status_of(huge_rows, small), "exceed the payload")) << status_of(huge_rows, small);
    const json overflow{{"op", "cross_entropy_ex"}, {"dtype", "f32"}, {"n", 1LL << 40}, {"c", 1LL << 40}};
    EXPECT_TRUE(contains(status_of(overflow, small), "exceed the payload"));
    const json huge_weights{{"op", "cross_entropy_ex"}, {"dtype", "f64"}, {"n", 1},
                            {"c", 1}, {"reduction", "none"}, {"has_class_weights", true}};
    EXPECT_TRUE(contains(status_of(huge_weights, std::string(8, '\0')), "error"));
    const json huge_vocab{{"op", "fused_linear_cross_entropy"}, {"dtype", "bf16"}, {"n", 1}, {"d", 1LL << 50}, {"v", 3}};
    EXPECT_TRUE(contains(status_of(huge_vocab, small), "exceed the payload"));
    const json huge_dloss{{"op", "cross_entropy_ex"}, {"dtype", "f64"}, {"n", 1LL << 60}, {"c", 0}, {"reduction", "none"},
                          {"has_soft_targets", true}};
    EXPECT_TRUE(contains(status_of(huge_dloss, small), "exceed the payload"));
    // A payload longer than the header describes, and malformed options.
    ce_request r;
    std::string payload;
    put(payload, r.logits);
    put(payload, r.labels);
    put(payload, std::vector<double>{1, 2});
    EXPECT_TRUE(contains(status_of(r.header, payload), "longer than"));
    payload.resize(payload.size() - sizeof(double));
    json bad = r.header;
    bad["reduction"] = "average";
    EXPECT_TRUE(contains(status_of(bad, payload), "reduction"));
    bad = r.header;
    bad["ignore_index"] = 1LL << 40;
    EXPECT_TRUE(contains(status_of(bad, payload), "ignore_index"));
    bad = r.header;
    bad["label_smoothing"] = "a lot";
    EXPECT_TRUE(contains(status_of(bad, payload), "label_smoothing"));
    bad = r.header;
    bad["has_class_weights"] = 1;
    EXPECT_TRUE(contains(status_of(bad, payload), "has_class_weights"));
    EXPECT_TRUE(contains(status_of(r.header, payload), "ok"));
}

TEST(options_hello, half_forms_are_known_once) {
    const json hello{{"status", "ok"},
                     {"entry_points", {"cross_entropy_ex_bf16", "cross_entropy_ex_f16", "fused_linear_cross_entropy_bf16",
                                       "cross_entropy_ex_f64", "fused_linear_cross_entropy_f32", "", "cross_entropy_ex_bf16_f64",
                                       "fused_linear_cross_entropy_f16"}}};
    const auto info = plugin::parse_hello(hello, "test");
    const std::vector<std::string> want{"cross_entropy_ex_bf16", "cross_entropy_ex_f16", "fused_linear_cross_entropy_bf16",
                                        "cross_entropy_ex_f64", "fused_linear_cross_entropy_f32",
                                        "fused_linear_cross_entropy_f16"};
    EXPECT_EQ(info.entry_points, want);
}

// ---- The options plug-in: through the handler, and through a real worker process. ----

struct options_plugin {
    void* handle = ::dlopen(OPTIONS_PLUGIN, RTLD_NOW | RTLD_LOCAL);
    ~options_plugin() {
        if (handle) ::dlclose(handle);
    }
    template <class F>
    F get(entry_point e, precision p) const {
        return reinterpret_cast<F>(::dlsym(handle, plugin::symbol_name(e, p).c_str()));
    }
    detail_symbols symbols() const {
        detail_symbols s;
        s.loaded = true;
        for (auto e : plugin::all_entry_points)
            for (auto p : {precision::f64, precision::f32})
                if (plugin::exists_in(e, p))
                    if (void* fn = ::dlsym(handle, plugin::symbol_name(e, p).c_str())) s.functions[plugin::entry_name(e, p)] = fn;
        return s;
    }
};

TEST(options_plugin_transport, handler_answers_what_a_direct_call_returns) {
    const options_plugin lib;
    ASSERT_NE(lib.handle, nullptr) << ::dlerror();
    const auto symbols = lib.symbols();
    EXPECT_EQ(symbols.functions.size(), 5u);  // ex f64/f32/bf16, fused f64/f32
    const std::vector<double> logits{0.5, -1, 2, 0, 1, 1, -3, 0.25, 7, -0.5, 0, 1e-3};
    const std::vector<std::int32_t> labels{1, 3, 0};
    const std::vector<double> weights{1, 0.5, 2, 0.25}, dloss{1, -2, 0.5};
    std::string payload;
    put(payload, logits);
    put(payload, labels);
    put(payload, weights);
    put(payload, dloss);
    const json h{{"op", "cross_entropy_ex"}, {"dtype", "f64"}, {"n", 3}, {"c", 4}, {"reduction", "none"},
                 {"ignore_index", 3}, {"label_smoothing", 0.125}, {"lse_square_scale", 1e-2}, {"softcap", 2.5},
                 {"has_class_weights", true}};
    const auto [answer, out] = ask(symbols, h, payload);
    ASSERT_EQ(answer["status"], "ok") << answer.dump();
    EXPECT_FALSE(answer.contains("contract")) << answer.dump();

    gradproof_ce_options o{};
    o.size = sizeof o;
    o.reduction = GRADPROOF_REDUCTION_NONE;
    o.has_ignore_index = 1;
    o.ignore_index = 3;
    o.label_smoothing = 0.125;
    o.lse_square_scale = 1e-2;
    o.softcap = 2.5;
    o.class_weights = weights.data();
    std::vector<double> loss(3), dz(12);
    auto direct = lib.get<decltype(&gradproof_cross_entropy_ex_f64)>(entry_point::cross_entropy_ex, precision::f64);
    ASSERT_EQ(direct(logits.data(), labels.data(), 3, 4, &o, dloss.data(), loss.data(), dz.data()), 0);
    std::size_t off = 0;
    EXPECT_EQ(take<double>(out, off, 3), loss);
    EXPECT_EQ(take<double>(out, off, 12), dz);
    EXPECT_EQ(loss[1], 0);  // the ignored row

    // A label outside [0, c) that is not ignored: rejected.
    std::string bad = payload;
    const std::int32_t five = 5;
    std::memcpy(bad.data() + logits.size() * sizeof(double), &five, sizeof five);
    EXPECT_EQ(ask(symbols, h, bad).first["status"], "rejected");
}

#if defined(GRADPROOF_BINARY)
TEST(options_plugin_transport, remote_entry_points_round_trip_through_a_worker_process) {
    const options_plugin lib;
    ASSERT_NE(lib.handle, nullptr) << ::dlerror();
    auto x = plugin::open_exec(std::string(GRADPROOF_BINARY) + " worker " + OPTIONS_PLUGIN, plugin::process_options{});
    for (const char* e : {"cross_entropy_ex_f64", "cross_entropy_ex_f32", "cross_entropy_ex_bf16",
                          "fused_linear_cross_entropy_f64", "fused_linear_cross_entropy_f32"})
        EXPECT_NE(std::find(x.entry_points.begin(), x.entry_points.end(), e), x.entry_points.end()) << e;
    ASSERT_TRUE(x.subj.f64.has(entry_point::cross_entropy_ex));
    ASSERT_TRUE(x.subj.f32.has(entry_point::cross_entropy_ex_bf16));
    EXPECT_FALSE(x.subj.f32.has(entry_point::cross_entropy_ex_f16));
    EXPECT_FALSE(x.subj.f64.has(entry_point::cross_entropy_ex_bf16));

    // Soft targets, smoothing, z-loss, soft cap, reduction sum, in double.
    ce_ex_input<double> in;
    in.logits = matrix<double>(2, 3);
    in.logits << 1, -2, 0.5, 3, 3, -1;
    in.soft_targets = matrix<double>(2, 3);
    in.soft_targets << 0.2, 0.3, 0.5, 1, 0, 0;
    in.class_weights = {1, 2, 0.5};
    in.options.reduce = reduction::sum;
    in.options.label_smoothing = 0.1;
    in.options.lse_square_scale = 1e-3;
    in.options.softcap = 4;
    in.dloss = {1.5};
    const auto got = x.subj.f64.cross_entropy_ex(in);
    gradproof_ce_options o{};
    o.size = sizeof o;
    o.reduction = GRADPROOF_REDUCTION_SUM;
    o.label_smoothing = 0.1;
    o.lse_square_scale = 1e-3;
    o.softcap = 4;
    o.class_weights = in.class_weights.data();
    o.soft_targets = in.soft_targets.data();
    double loss = 0;
    matrix<double> dz(2, 3);
    ASSERT_EQ(lib.get<decltype(&gradproof_cross_entropy_ex_f64)>(entry_point::cross_entropy_ex, precision::f64)(
                  in.logits.data(), nullptr, 2, 3, &o, in.dloss.data(), &loss, dz.data()),
              0);
    ASSERT_EQ(got.loss.size(), 1u);
    EXPECT_EQ(got.loss[0], loss);
    EXPECT_EQ(got.dlogits, dz);

    // bf16: float values representable in bf16 go out as bit patterns and come back widened.
    ce_ex_input<float> hb;
    hb.logits = matrix<float>(2, 2);
    hb.logits << 1.5f, -0.25f, 3, 0.125f;
    hb.labels = {1, 0};
    hb.options.reduce = reduction::none;
    hb.dloss = {1, 0.5f};
    const auto gb = x.subj.f32.cross_entropy_ex_bf16(hb);
    std::vector<std::uint16_t> z16, dl16{float_to_bf16(1), float_to_bf16(0.5f)}, l16(2), d16(4);
    for (Eigen::Index i = 0; i < 4; ++i) z16.push_back(float_to_bf16(hb.logits.data()[i]));
    gradproof_ce_options ob{};
    ob.size = sizeof ob;
    ob.reduction = GRADPROOF_REDUCTION_NONE;
    ASSERT_EQ(lib.get<decltype(&gradproof_cross_entropy_ex_bf16)>(entry_point::cross_entropy_ex_bf16, precision::f32)(
                  z16.data(), hb.labels.data(), 2, 2, &ob, dl16.data(), l16.data(), d16.data()),
              0);
    for (std::size_t k = 0; k < 2; ++k) EXPECT_EQ(gb.loss[k], bf16_to_float(l16[k]));
    for (Eigen::Index i = 0; i < 4; ++i) EXPECT_EQ(gb.dlogits.data()[i], bf16_to_float(d16[static_cast<std::size_t>(i)]));
    // A value that bf16 cannot hold is refused on our side, not rounded into another input.
    hb.logits(0, 0) = 1.0f + std::ldexp(1.0f, -12);
    EXPECT_THROW(x.subj.f32.cross_entropy_ex_bf16(hb), std::invalid_argument);

    // Fused with a bias and every-row-ignored mean: NaN loss, zero gradients, dbias present.
    fused_ce_input<double> fi;
    fi.hidden = matrix<double>(2, 2);
    fi.hidden << 1, 2, -1, 0.5;
    fi.weight = matrix<double>(3, 2);
    fi.weight << 0.5, 1, -1, 2, 0, 0.25;
    fi.bias = {0.1, 0.2, 0.3};
    fi.has_bias = true;
    fi.labels = {7, 7};
    fi.options.has_ignore_index = true;
    fi.options.ignore_index = 7;
    fi.dloss = {1};
    const auto fr = x.subj.f64.fused_linear_cross_entropy(fi);
    ASSERT_EQ(fr.loss.size(), 1u);
    EXPECT_TRUE(std::isnan(fr.loss[0]));
    EXPECT_EQ(fr.dbias, (std::vector<double>{0, 0, 0}));
    EXPECT_EQ(fr.dhidden, matrix<double>::Zero(2, 2));
    EXPECT_EQ(fr.dweight, matrix<double>::Zero(3, 2));

    // Rejection stays a rejection.
    fi.options.has_ignore_index = false;
    EXPECT_THROW(x.subj.f64.fused_linear_cross_entropy(fi), rejected_input);
}
#endif

#if defined(EXAMPLES_DIR)
// The Python adapter: NotImplementedError is "unsupported"; options and bf16 values arrive intact.
TEST(options_python_adapter, not_implemented_is_unsupported_and_options_arrive) {
    const std::string script = ::testing::TempDir() + "options_adapter_" + std::to_string(::getpid()) + ".py";
    {
        std::ofstream f(script);
        f << "import sys\nsys.path.insert(0, '" << EXAMPLES_DIR << "/python')\n"
          << "import numpy as np\nfrom gradproof_protocol import serve\n"
          << "def ce(logits, labels, dloss, o):\n"
          << "    if o['softcap'] > 0:\n        raise NotImplementedError('softcap')\n"
          << "    ign = -1 if o['ignore_index'] is None else o['ignore_index']\n"
          << "    w = -1.0 if o['class_weights'] is None else float(o['class_weights'].sum())\n"
          << "    loss = [o['label_smoothing'], o['lse_square_scale'], ign, w, float(dloss.sum())]\n"
          << "    return np.array(loss[:len(dloss)] if o['reduction'] == 'none' else [sum(loss)]), logits * 2\n"
          << "serve({'cross_entropy_ex_f64': ce, 'cross_entropy_ex_bf16': ce}, name='echo')\n";
    }
    auto x = plugin::open_exec("/usr/bin/python3 " + script, plugin::process_options{});
    ASSERT_TRUE(x.subj.f64.has(entry_point::cross_entropy_ex));
    ASSERT_TRUE(x.subj.f32.has(entry_point::cross_entropy_ex_bf16));
    ce_ex_input<double> in;
    in.logits = matrix<double>(5, 2);
    in.logits << 1, 2, 3, 4, 5, 6, 7, 8, 9, 10;
    in.labels = {0, 1, 0, 1, 0};
    in.class_weights = {0.5, 0.25};
    in.options.reduce = reduction::none;
    in.options.has_ignore_index = true;
    in.options.ignore_index = -100;
    in.options.label_smoothing = 0.1;
    in.options.lse_square_scale = 1e-4;
    in.dloss = {1, 1, 1, 1, 1};
    const auto r = x.subj.f64.cross_entropy_ex(in);
    EXPECT_EQ(r.loss, (std::vector<double>{0.1, 1e-4, -100, 0.75, 5}));
    EXPECT_EQ(r.dlogits, (in.logits * 2).eval());
    in.options.softcap = 30;
    EXPECT_THROW(x.subj.f64.cross_entropy_ex(in), option_unsupported);

    // bf16: 1.0078125 = 1 + 2^-7 doubled is exact; the adapter rounds outputs to bf16.
    ce_ex_input<float> hb;
    hb.logits = matrix<float>(1, 2);
    hb.logits << 1.0078125f, -3;
    hb.labels = {0};
    hb.dloss = {1};
    const auto b = x.subj.f32.cross_entropy_ex_bf16(hb);
    EXPECT_EQ(b.dlogits(0, 0), 2.015625f);
    EXPECT_EQ(b.dlogits(0, 1), -6.0f);
    EXPECT_EQ(b.loss, (std::vector<float>{-1}));  // ε + s + ignore (none: −1) + Σw (none: −1) + Σdloss
    std::remove(script.c_str());
}
#endif

}  // namespace
