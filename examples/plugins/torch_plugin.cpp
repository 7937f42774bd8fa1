// A gradproof adapter plug-in for PyTorch's CPU kernels through libtorch (Debian: libtorch-dev,
// PyTorch 1.13): validates torch::softmax, torch::log_softmax, their backward functions,
// torch::nn::functional::cross_entropy and the whole softmax-classifier loss differentiated by
// autograd, in float and double (all twelve entry points).
//
// What is adapted, and how:
// - softmax / log_softmax: torch::softmax(z, 1) / torch::log_softmax(z, 1).
// - softmax_backward / log_softmax_backward: the ABI hands over the forward output (probs or
//   log-probs), not the logits, so autograd cannot be replayed from the logits. Autograd's
//   SoftmaxBackward0 / LogSoftmaxBackward0 nodes save the forward *result* and call
//   torch::_softmax_backward_data(grad, result, dim, dtype) / _log_softmax_backward_data(...)
//   (tools/autograd/derivatives.yaml in PyTorch 1.13); calling those with the given output is
//   exactly what autograd computes for it.
// - cross_entropy: a leaf tensor z (requires_grad), loss = cross_entropy(z, y) with the default
//   reduction 'mean' and the default ignore_index (-100, PyTorch's documented sentinel), then
//   loss.backward(); dlogits = z.grad().
// - softmax_loss: leaf W (requires_grad), loss = cross_entropy(X.mm(W), y) + 0.5·reg·(W·W).sum(),
//   loss.backward(); dW = W.grad().
//
// The adapter checks only what concerns the buffers themselves (the contract's n, c, d rules and
// n·c fitting in memory); everything semantic (labels, NaN/inf rows) is left to PyTorch, so what
// gradproof reports is PyTorch's behaviour, e.g. whether a label outside [0, c) is rejected.
// cross_entropy and softmax_loss reject n = 0 here as the contract asks: PyTorch returns the mean
// over an empty batch (NaN), which has no meaning to compare.
//
// Every torch exception (c10::Error) is mapped to a non-zero return: an exception crossing the C
// ABI would terminate the worker and be reported as a crash rather than a rejection.
//
// - cross_entropy_ex (ABI version 2): torch::nn::functional::cross_entropy with PyTorch's own
//   ignore_index, label_smoothing, weight and reduction options, soft targets passed as a
//   probability tensor; soft-capping and z-loss, which PyTorch lacks, composed from torch ops the
//   way model code writes them (cap·tanh(z/cap); s·logsumexp(z)² over the rows not ignored,
//   divided by their count for the mean); the upstream gradient through backward(dloss). With no
//   ignore_index asked for, PyTorch's default −100 is replaced by INT64_MIN so that no label is
//   ignored silently. In f64, f32 and bf16 (dtype torch::kBFloat16, whose storage is the ABI's
//   uint16 bit pattern). No f16 form: PyTorch 1.13 has no CPU log_softmax kernel for Half.
// - fused_linear_cross_entropy: logits = H·Wᵀ + b by torch::addmm / mm, then the same
//   cross-entropy, differentiated by autograd (the unfused composition users check a fused
//   kernel against), in f64, f32 and bf16.
//
// Build: via CMake (target gradproof_torch, option GRADPROOF_WITH_TORCH).
// Check: gradproof check --plugin ./libgradproof_torch.so
#include <gradproof/plugin.h>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>

namespace {

// Return codes (any non-zero rejects the input; distinct values ease debugging).
constexpr int k_bad_shape = 1;
constexpr int k_too_large = 2;
constexpr int k_torch_error = 3;
constexpr int k_std_exception = 4;
constexpr int k_unknown_exception = 5;

constexpr int k_bad_option = 6;

template <class T>
constexpr torch::Dtype dtype_of() {
    return std::is_same_v<T, double> ? torch::kFloat64 : std::is_same_v<T, float> ? torch::kFloat32 : torch::kBFloat16;
}

// The contract's shape rules for an r×c array; 0 when the call should go ahead.
int check_shape(int64_t rows, int64_t c) {
    if (rows < 0 || c <= 0) return k_bad_shape;
    if (rows > 0 && rows > std::numeric_limits<int64_t>::max() / c) return k_too_large;
    return 0;
}

// A non-owning view of caller memory. The const_cast is sound: the view is only ever read (every
// torch operation used here is out-of-place), and gradproof verifies inputs stay unchanged.
template <class T>
torch::Tensor view(const T* data, int64_t rows, int64_t cols) {
    return torch::from_blob(const_cast<T*>(data), {rows, cols}, torch::TensorOptions().dtype(dtype_of<T>()));
}

// PyTorch takes class indices as int64.
torch::Tensor labels_tensor(const int32_t* labels, int64_t n) {
    return torch::from_blob(const_cast<int32_t*>(labels), {n}, torch::TensorOptions().dtype(torch::kInt32))
        .to(torch::kInt64);
}

// Copies a result into caller memory (contiguous first: a result may be a strided view).
template <class T>
void write(const torch::Tensor& result, T* out) {
    const torch::Tensor r = result.contiguous();
    std::memcpy(out, r.data_ptr<T>(), static_cast<std::size_t>(r.numel()) * sizeof(T));
}

template <class Body>
int guarded(Body&& body) noexcept {
    try {
        // Single-threaded: gradproof's inputs are small, its worker runs next to other work, and a
        // fixed thread count keeps repeated calls bitwise identical.
        static const bool one_thread = [] {
            torch::set_num_threads(1);
            return true;
        }();
        (void)one_thread;
        torch::NoGradGuard no_grad_outside_autograd;
        body();
        return 0;
    } catch (const c10::Error&) {
        return k_torch_error;
    } catch (const std::exception&) {
        return k_std_exception;
    } catch (...) {
        return k_unknown_exception;
    }
}

template <class T, class Op>
int forward(Op op, const T* logits, int64_t n, int64_t c, T* out) {
    if (const int rc = check_shape(n, c)) return rc;
    if (n == 0) return 0;
    return guarded([&] { write(op(view(logits, n, c)), out); });
}

template <class T, class Op>
int backward(Op op, const T* fwd_out, const T* upstream, int64_t n, int64_t c, T* dlogits) {
    if (const int rc = check_shape(n, c)) return rc;
    if (n == 0) return 0;
    return guarded([&] { write(op(view(upstream, n, c), view(fwd_out, n, c)), dlogits); });
}

template <class T>
int cross_entropy(const T* logits, const int32_t* labels, int64_t n, int64_t c, T* loss, T* dlogits) {
    if (n == 0) return k_bad_shape;
    if (const int rc = check_shape(n, c)) return rc;
    return guarded([&] {
        torch::AutoGradMode enable_grad(true);
        torch::Tensor z = view(logits, n, c).clone().requires_grad_(true);
        torch::Tensor l = torch::nn::functional::cross_entropy(z, labels_tensor(labels, n));
        l.backward();
        *loss = l.item<T>();
        write(z.grad(), dlogits);
    });
}

template <class T>
int softmax_loss(const T* W, const T* X, const int32_t* y, int64_t n, int64_t d, int64_t c, T reg, T* loss, T* dW) {
    if (n == 0 || d <= 0) return k_bad_shape;
    if (const int rc = check_shape(n, c)) return rc;
    if (const int rc = check_shape(d, c)) return rc;
    if (const int rc = check_shape(n, d)) return rc;
    return guarded([&] {
        torch::AutoGradMode enable_grad(true);
        torch::Tensor w = view(W, d, c).clone().requires_grad_(true);
        torch::Tensor scores = view(X, n, d).mm(w);
        torch::Tensor l = torch::nn::functional::cross_entropy(scores, labels_tensor(y, n)) +
                          0.5 * static_cast<double>(reg) * (w * w).sum();
        l.backward();
        *loss = l.item<T>();
        write(w.grad(), dW);
    });
}

// ---- ABI version 2 ------------------------------------------------------------------------------

// A field of the caller's options struct, or its default when the caller's struct ends before it.
#define GRADPROOF_OPTION(o, field, absent) \
    ((o) && (o)->size >= offsetof(gradproof_ce_options, field) + sizeof((o)->field) ? (o)->field : (absent))

struct ce_settings {
    int32_t reduction = GRADPROOF_REDUCTION_MEAN;
    bool has_ignore = false;
    int64_t ignore = 0;
    double eps = 0, scale = 0, cap = 0;
    const void* weights = nullptr;
    const void* soft = nullptr;
};

int read_options(const gradproof_ce_options* o, ce_settings& s) {
    s.reduction = GRADPROOF_OPTION(o, reduction, GRADPROOF_REDUCTION_MEAN);
    s.has_ignore = GRADPROOF_OPTION(o, has_ignore_index, 0) != 0;
    s.ignore = s.has_ignore ? GRADPROOF_OPTION(o, ignore_index, -100) : std::numeric_limits<int64_t>::min();
    s.eps = GRADPROOF_OPTION(o, label_smoothing, 0.0);
    s.scale = GRADPROOF_OPTION(o, lse_square_scale, 0.0);
    s.cap = GRADPROOF_OPTION(o, softcap, 0.0);
    s.weights = GRADPROOF_OPTION(o, class_weights, nullptr);
    s.soft = GRADPROOF_OPTION(o, soft_targets, nullptr);
    if (s.reduction < GRADPROOF_REDUCTION_NONE || s.reduction > GRADPROOF_REDUCTION_SUM) return k_bad_option;
    if (!(s.eps >= 0 && s.eps <= 1) || !(s.scale >= 0) || !std::isfinite(s.scale) || !(s.cap >= 0) || !std::isfinite(s.cap))
        return k_bad_option;
    return 0;
}
#undef GRADPROOF_OPTION

// Copies any result into caller memory bit for bit (bf16 included).
void write_raw(const torch::Tensor& result, void* out) {
    const torch::Tensor r = result.contiguous();
    std::memcpy(out, r.data_ptr(), static_cast<std::size_t>(r.numel()) * r.element_size());
}

// Loss of every row per the settings; logits z already soft-capped. Returns the reduced loss
// (n values for none).
torch::Tensor options_loss(const torch::Tensor& z, const int32_t* labels, int64_t n, int64_t c, const ce_settings& s) {
    namespace F = torch::nn::functional;
    const torch::Dtype dt = z.scalar_type();
    auto opts = F::CrossEntropyFuncOptions().label_smoothing(s.eps);
    if (s.soft == nullptr) opts.ignore_index(s.ignore);  // PyTorch refuses any ignore_index with soft targets
    if (s.weights) opts.weight(torch::from_blob(const_cast<void*>(s.weights), {c}, torch::TensorOptions().dtype(dt)));
    if (s.reduction == GRADPROOF_REDUCTION_NONE) opts.reduction(torch::kNone);
    else if (s.reduction == GRADPROOF_REDUCTION_SUM) opts.reduction(torch::kSum);
    else opts.reduction(torch::kMean);
    if (s.soft && s.has_ignore) throw std::invalid_argument("ignore_index with soft targets");
    const torch::Tensor target = s.soft ? torch::from_blob(const_cast<void*>(s.soft), {n, c}, torch::TensorOptions().dtype(dt))
                                        : labels_tensor(labels, n);
    torch::Tensor loss = F::cross_entropy(z, target, opts);
    if (s.scale > 0) {
        // z-loss on the counted rows only: an ignored row is left out, not multiplied by 0 (with a
        // huge logit its lse² is inf, and inf·0 is NaN in the loss and in the gradient).
        const torch::Tensor rows = s.soft ? torch::arange(n, torch::TensorOptions().dtype(torch::kInt64))
                                          : labels_tensor(labels, n).ne(s.ignore).nonzero().flatten();
        const torch::Tensor lse = torch::logsumexp(z.index_select(0, rows), 1);
        const torch::Tensor zl = s.scale * lse * lse;
        if (s.reduction == GRADPROOF_REDUCTION_NONE)
            loss = loss + torch::zeros({n}, torch::TensorOptions().dtype(dt)).index_add(0, rows, zl);
        else if (s.reduction == GRADPROOF_REDUCTION_SUM) loss = loss + zl.sum();
        else loss = loss + zl.sum() / static_cast<double>(std::max<int64_t>(rows.numel(), 1));  // none counted: 0, not 0/0
    }
    return loss;
}

template <class S>
int cross_entropy_ex(const S* logits, const int32_t* labels, int64_t n, int64_t c, const gradproof_ce_options* o,
                     const S* dloss, S* loss, S* dlogits) {
    if (n <= 0) return k_bad_shape;
    if (const int rc = check_shape(n, c)) return rc;
    ce_settings s;
    if (const int rc = read_options(o, s)) return rc;
    if (!labels && !s.soft) return k_bad_shape;
    return guarded([&] {
        torch::AutoGradMode enable_grad(true);
        const auto to = torch::TensorOptions().dtype(dtype_of<S>());
        torch::Tensor x = torch::from_blob(const_cast<S*>(logits), {n, c}, to).clone().requires_grad_(true);
        const torch::Tensor z = s.cap > 0 ? torch::tanh(x / s.cap) * s.cap : x;
        const torch::Tensor l = options_loss(z, labels, n, c, s);
        const int64_t k = s.reduction == GRADPROOF_REDUCTION_NONE ? n : 1;
        torch::Tensor g = torch::from_blob(const_cast<S*>(dloss), {k}, to);
        l.backward(s.reduction == GRADPROOF_REDUCTION_NONE ? g : g.reshape({}));
        write_raw(l.detach().reshape({k}), loss);
        write_raw(x.grad(), dlogits);
    });
}

template <class S>
int fused_linear_cross_entropy(const S* hidden, const S* weight, const S* bias, const int32_t* labels, int64_t n,
                               int64_t d, int64_t v, const gradproof_ce_options* o, const S* dloss, S* loss, S* dhidden,
                               S* dweight, S* dbias) {
    if (n <= 0 || d <= 0) return k_bad_shape;
    if (const int rc = check_shape(n, v)) return rc;
    if (const int rc = check_shape(v, d)) return rc;
    if (const int rc = check_shape(n, d)) return rc;
    ce_settings s;
    if (const int rc = read_options(o, s)) return rc;
    if (s.soft || !labels) return k_bad_option;  // hard labels only
    return guarded([&] {
        torch::AutoGradMode enable_grad(true);
        const auto to = torch::TensorOptions().dtype(dtype_of<S>());
        torch::Tensor h = torch::from_blob(const_cast<S*>(hidden), {n, d}, to).clone().requires_grad_(true);
        torch::Tensor w = torch::from_blob(const_cast<S*>(weight), {v, d}, to).clone().requires_grad_(true);
        torch::Tensor b;
        torch::Tensor z;
        if (bias) {
            b = torch::from_blob(const_cast<S*>(bias), {v}, to).clone().requires_grad_(true);
            z = torch::addmm(b, h, w.t());
        } else {
            z = h.mm(w.t());
        }
        if (s.cap > 0) z = torch::tanh(z / s.cap) * s.cap;
        const torch::Tensor l = options_loss(z, labels, n, v, s);
        const int64_t k = s.reduction == GRADPROOF_REDUCTION_NONE ? n : 1;
        torch::Tensor g = torch::from_blob(const_cast<S*>(dloss), {k}, to);
        l.backward(s.reduction == GRADPROOF_REDUCTION_NONE ? g : g.reshape({}));
        write_raw(l.detach().reshape({k}), loss);
        write_raw(h.grad(), dhidden);
        write_raw(w.grad(), dweight);
        if (bias) write_raw(b.grad(), dbias);
    });
}

const auto softmax_op = [](const torch::Tensor& z) { return torch::softmax(z, 1); };
const auto log_softmax_op = [](const torch::Tensor& z) { return torch::log_softmax(z, 1); };
const auto softmax_backward_op = [](const torch::Tensor& grad, const torch::Tensor& out) {
    return torch::_softmax_backward_data(grad, out, 1, out.scalar_type());
};
const auto log_softmax_backward_op = [](const torch::Tensor& grad, const torch::Tensor& out) {
    return torch::_log_softmax_backward_data(grad, out, 1, out.scalar_type());
};

}  // namespace

// The twelve entry points: each a one-line instantiation of the templates above.
#define GRADPROOF_TORCH_ENTRY_POINTS(T, suffix)                                                                 \
    int gradproof_softmax_##suffix(const T* logits, int64_t n, int64_t c, T* probs) {                          \
        return forward<T>(softmax_op, logits, n, c, probs);                                                     \
    }                                                                                                          \
    int gradproof_log_softmax_##suffix(const T* logits, int64_t n, int64_t c, T* out) {                        \
        return forward<T>(log_softmax_op, logits, n, c, out);                                                   \
    }                                                                                                          \
    int gradproof_softmax_backward_##suffix(const T* probs, const T* dprobs, int64_t n, int64_t c, T* dlogits) { \
        return backward<T>(softmax_backward_op, probs, dprobs, n, c, dlogits);                                  \
    }                                                                                                          \
    int gradproof_log_softmax_backward_##suffix(const T* logprobs, const T* dlogprobs, int64_t n, int64_t c,     \
                                                T* dlogits) {                                                  \
        return backward<T>(log_softmax_backward_op, logprobs, dlogprobs, n, c, dlogits);                        \
    }                                                                                                          \
    int gradproof_cross_entropy_##suffix(const T* logits, const int32_t* labels, int64_t n, int64_t c, T* loss, \
                                         T* dlogits) {                                                         \
        return cross_entropy<T>(logits, labels, n, c, loss, dlogits);                                           \
    }                                                                                                          \
    int gradproof_softmax_loss_##suffix(const T* W, const T* X, const int32_t* y, int64_t n, int64_t d,          \
                                        int64_t c, T reg, T* loss, T* dW) {                                    \
        return softmax_loss<T>(W, X, y, n, d, c, reg, loss, dW);                                                \
    }

#define GRADPROOF_TORCH_OPTION_ENTRY_POINTS(T, suffix)                                                          \
    int gradproof_cross_entropy_ex_##suffix(const T* logits, const int32_t* labels, int64_t n, int64_t c,       \
                                            const gradproof_ce_options* options, const T* dloss, T* loss,        \
                                            T* dlogits) {                                                       \
        return cross_entropy_ex<T>(logits, labels, n, c, options, dloss, loss, dlogits);                        \
    }                                                                                                          \
    int gradproof_fused_linear_cross_entropy_##suffix(const T* hidden, const T* weight, const T* bias,          \
                                                      const int32_t* labels, int64_t n, int64_t d, int64_t v,   \
                                                      const gradproof_ce_options* options, const T* dloss,      \
                                                      T* loss, T* dhidden, T* dweight, T* dbias) {              \
        return fused_linear_cross_entropy<T>(hidden, weight, bias, labels, n, d, v, options, dloss, loss,       \
                                             dhidden, dweight, dbias);                                          \
    }

extern "C" {
GRADPROOF_TORCH_ENTRY_POINTS(double, f64)
GRADPROOF_TORCH_ENTRY_POINTS(float, f32)
GRADPROOF_TORCH_OPTION_ENTRY_POINTS(double, f64)
GRADPROOF_TORCH_OPTION_ENTRY_POINTS(float, f32)
GRADPROOF_TORCH_OPTION_ENTRY_POINTS(uint16_t, bf16)
}  // extern "C"
