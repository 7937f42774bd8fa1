// A gradproof adapter plug-in for oneDNN (Debian: libdnnl-dev, oneDNN 2.6.x): validates oneDNN's
// CPU softmax primitives against gradproof's certified references.
//
// Exports the four row-wise f32 entry points only. oneDNN 2.6 has no f64 data type at all
// (dnnl_data_type_t stops at f16, bf16, f32, s32, s8, u8; f64 arrived in later releases and only
// for GPU), so there is nothing to adapt in f64, and cross_entropy / softmax_loss have no oneDNN
// primitive.
//
// oneDNN 2.6 offers the algorithm-selecting API as softmax_v2_{forward,backward}
// (algorithm::softmax_accurate or algorithm::softmax_log); the older softmax_* / logsoftmax_*
// primitives are deprecated wrappers around the same kernels.
//
// Build: via CMake (target gradproof_onednn, option GRADPROOF_WITH_ONEDNN).
// Check: gradproof check --plugin ./libgradproof_onednn.so
#include <gradproof/plugin.h>

#include <dnnl.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <vector>

namespace {

using dnnl::memory;
using dnnl::softmax_v2_backward;
using dnnl::softmax_v2_forward;

// Return codes (any non-zero rejects the input; distinct values ease debugging).
constexpr int k_bad_shape = 1;
constexpr int k_too_large = 2;
constexpr int k_dnnl_error = 3;
constexpr int k_std_exception = 4;
constexpr int k_unknown_exception = 5;

// One engine and stream for the process: creating them per call would dominate the run time of
// the small inputs gradproof mostly generates. Function-local statics so that a throwing
// construction is retried on the next call instead of escaping at load time.
dnnl::engine& cpu_engine() {
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

dnnl::stream& cpu_stream() {
    static dnnl::stream stream(cpu_engine());
    return stream;
}

// Dense row-major n×c f32, the layout the ABI promises; fixed explicitly (never format_tag::any)
// so oneDNN cannot pick a blocked layout that would not match the caller's buffers.
memory::desc row_major(int64_t n, int64_t c) {
    return memory::desc({n, c}, memory::data_type::f32, memory::format_tag::nc);
}

// The contract's shape rules; returns 0 when the call should go ahead (n > 0, c > 0, n·c
// representable), otherwise the return code. n = 0 is handled by the callers (return 0, write
// nothing) before this.
int check_shape(int64_t n, int64_t c) {
    if (n < 0 || c <= 0) return k_bad_shape;
    // oneDNN dims are int64_t and the copies are size_t-indexed: n·c must fit both.
    if (n > std::numeric_limits<int64_t>::max() / c) return k_too_large;
    return 0;
}

// dnnl::memory takes a non-const handle; oneDNN does not document that it never writes a
// primitive's inputs, so inputs are copied rather than const_cast (the ABI forbids modifying them).
std::vector<float> copy_of(const float* data, int64_t n, int64_t c) {
    return std::vector<float>(data, data + static_cast<std::size_t>(n) * static_cast<std::size_t>(c));
}

// Runs `body`, mapping every exception to a non-zero return: an exception must never cross the
// C ABI boundary (it would terminate the worker and be reported as a crash, not a rejection).
template <class Body>
int guarded(Body&& body) noexcept {
    try {
        body();
        return 0;
    } catch (const dnnl::error&) {
        return k_dnnl_error;
    } catch (const std::exception&) {
        return k_std_exception;
    } catch (...) {
        return k_unknown_exception;
    }
}

// softmax (algorithm::softmax_accurate) or log_softmax (algorithm::softmax_log) over axis 1.
int forward(dnnl::algorithm algorithm, const float* logits, int64_t n, int64_t c, float* out) {
    if (const int rc = check_shape(n, c)) return rc;
    if (n == 0) return 0;
    return guarded([&] {
        dnnl::engine& engine = cpu_engine();
        dnnl::stream& stream = cpu_stream();
        const memory::desc md = row_major(n, c);
        std::vector<float> src = copy_of(logits, n, c);
        memory src_mem(md, engine, src.data());
        memory dst_mem(md, engine, out);
        const softmax_v2_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm, md, md,
                                            /*softmax_axis=*/1);
        const softmax_v2_forward::primitive_desc pd(desc, engine);
        softmax_v2_forward(pd).execute(stream, {{DNNL_ARG_SRC, src_mem}, {DNNL_ARG_DST, dst_mem}});
        stream.wait();
    });
}

// Backward of either algorithm: diff_src from (dst, diff_dst), where dst is the forward output
// (probabilities for softmax_accurate, log-probabilities for softmax_log).
int backward(dnnl::algorithm algorithm, const float* fwd_out, const float* upstream, int64_t n,
             int64_t c, float* dlogits) {
    if (const int rc = check_shape(n, c)) return rc;
    if (n == 0) return 0;
    return guarded([&] {
        dnnl::engine& engine = cpu_engine();
        dnnl::stream& stream = cpu_stream();
        const memory::desc md = row_major(n, c);
        std::vector<float> dst = copy_of(fwd_out, n, c);
        std::vector<float> diff_dst = copy_of(upstream, n, c);
        memory dst_mem(md, engine, dst.data());
        memory diff_dst_mem(md, engine, diff_dst.data());
        memory diff_src_mem(md, engine, dlogits);
        // oneDNN requires a forward primitive descriptor as a hint for every backward one; it
        // must be forward_training (the one whose dst the backward consumes).
        const softmax_v2_forward::desc fwd_desc(dnnl::prop_kind::forward_training, algorithm, md,
                                                md, /*softmax_axis=*/1);
        const softmax_v2_forward::primitive_desc fwd_pd(fwd_desc, engine);
        const softmax_v2_backward::desc bwd_desc(algorithm, /*diff_src_desc=*/md,
                                                 /*diff_dst_desc=*/md, /*dst_desc=*/md,
                                                 /*softmax_axis=*/1);
        const softmax_v2_backward::primitive_desc bwd_pd(bwd_desc, engine, fwd_pd);
        softmax_v2_backward(bwd_pd).execute(stream, {{DNNL_ARG_DST, dst_mem},
                                                     {DNNL_ARG_DIFF_DST, diff_dst_mem},
                                                     {DNNL_ARG_DIFF_SRC, diff_src_mem}});
        stream.wait();
    });
}

}  // namespace

extern "C" {

int gradproof_softmax_f32(const float* logits, int64_t n, int64_t c, float* probs) {
    return forward(dnnl::algorithm::softmax_accurate, logits, n, c, probs);
}

int gradproof_log_softmax_f32(const float* logits, int64_t n, int64_t c, float* out) {
    return forward(dnnl::algorithm::softmax_log, logits, n, c, out);
}

int gradproof_softmax_backward_f32(const float* probs, const float* dprobs, int64_t n, int64_t c,
                                   float* dlogits) {
    return backward(dnnl::algorithm::softmax_accurate, probs, dprobs, n, c, dlogits);
}

int gradproof_log_softmax_backward_f32(const float* logprobs, const float* dlogprobs, int64_t n,
                                       int64_t c, float* dlogits) {
    return backward(dnnl::algorithm::softmax_log, logprobs, dlogprobs, n, c, dlogits);
}

}  // extern "C"
