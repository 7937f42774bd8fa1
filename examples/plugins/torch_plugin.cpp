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
// Build: via CMake (target gradproof_torch, option GRADPROOF_WITH_TORCH).
// Check: gradproof check --plugin ./libgradproof_torch.so
#include <gradproof/plugin.h>

#include <torch/torch.h>

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

template <class T>
constexpr torch::Dtype dtype_of() {
    return std::is_same_v<T, double> ? torch::kFloat64 : torch::kFloat32;
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

extern "C" {
GRADPROOF_TORCH_ENTRY_POINTS(double, f64)
GRADPROOF_TORCH_ENTRY_POINTS(float, f32)
}  // extern "C"
