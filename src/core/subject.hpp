// subject: an implementation under test, seen through the entry points of the plug-in ABI
// (include/gradproof/plugin.h), in float and double (and bf16/f16 storage beside float). Any subset may be present; a property runs when every entry
// point it needs is. Built-in templated implementations also expose their mp_real instantiation
// ("white-box"), which the finite-difference properties differentiate directly.
#pragma once

#include "core/cross_entropy_options.hpp"
#include "core/matrix.hpp"
#include "core/scalar.hpp"

#include <functional>
#include <stdexcept>
#include <string>

namespace gradproof {

// Thrown by an entry point that declines an input (a plug-in returning non-zero).
struct rejected_input : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// The implementation does not implement an option of this call; the case is skipped.
struct option_unsupported : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// Thrown for an implementation that crashed, aborted, exited, hung or answered garbage (an
// out-of-process one: plugin/process.hpp).
struct implementation_crashed : std::runtime_error {
    explicit implementation_crashed(const std::string& what, bool hung = false) : std::runtime_error(what), hung(hung) {}
    bool hung;  // it gave no answer within the timeout (every further call on such input costs one)
};
// Thrown for an implementation seen breaking the calling contract: it modified an input or left
// an output unwritten.
struct contract_breached : std::runtime_error {
    using std::runtime_error::runtime_error;
};

enum class entry_point {
    softmax, log_softmax, softmax_backward, log_softmax_backward, cross_entropy, softmax_loss,
    // ABI version 2. The bf16/f16 forms take and return float values exactly representable in the
    // format; they exist only in the f32 entry points (accumulation in float).
    cross_entropy_ex, cross_entropy_ex_bf16, cross_entropy_ex_f16, fused_linear_cross_entropy,
    fused_linear_cross_entropy_bf16, fused_linear_cross_entropy_f16,
};

template <class T>
struct entry_points {
    std::function<matrix<T>(const matrix<T>& logits)> softmax;
    std::function<matrix<T>(const matrix<T>& logits)> log_softmax;
    std::function<matrix<T>(const matrix<T>& probs, const matrix<T>& dprobs)> softmax_backward;
    std::function<matrix<T>(const matrix<T>& logprobs, const matrix<T>& dlogprobs)> log_softmax_backward;
    std::function<cross_entropy_result<T>(const matrix<T>& logits, const label_vector& labels)> cross_entropy;
    std::function<loss_result<T>(const matrix<T>& W, const matrix<T>& X, const label_vector& y, T reg)> softmax_loss;
    using ce_ex_fn = std::function<ce_ex_result<T>(const ce_ex_input<T>&)>;
    using fused_fn = std::function<fused_ce_result<T>(const fused_ce_input<T>&)>;
    ce_ex_fn cross_entropy_ex;
    ce_ex_fn cross_entropy_ex_bf16;  // T = float only
    ce_ex_fn cross_entropy_ex_f16;   // T = float only
    fused_fn fused_linear_cross_entropy;
    fused_fn fused_linear_cross_entropy_bf16;  // T = float only
    fused_fn fused_linear_cross_entropy_f16;   // T = float only

    bool has(entry_point e) const {
        switch (e) {
            case entry_point::softmax: return bool(softmax);
            case entry_point::log_softmax: return bool(log_softmax);
            case entry_point::softmax_backward: return bool(softmax_backward);
            case entry_point::log_softmax_backward: return bool(log_softmax_backward);
            case entry_point::cross_entropy: return bool(cross_entropy);
            case entry_point::softmax_loss: return bool(softmax_loss);
            case entry_point::cross_entropy_ex: return bool(cross_entropy_ex);
            case entry_point::cross_entropy_ex_bf16: return bool(cross_entropy_ex_bf16);
            case entry_point::cross_entropy_ex_f16: return bool(cross_entropy_ex_f16);
            case entry_point::fused_linear_cross_entropy: return bool(fused_linear_cross_entropy);
            case entry_point::fused_linear_cross_entropy_bf16: return bool(fused_linear_cross_entropy_bf16);
            case entry_point::fused_linear_cross_entropy_f16: return bool(fused_linear_cross_entropy_f16);
        }
        return false;
    }
};

struct subject {
    std::string name;
    std::string description;
    // A known-flawed specimen is expected to fail; its failures do not fail the run.
    bool known_flawed = false;
    entry_points<float> f32;
    entry_points<double> f64;
    // White-box access: the same templated algorithm evaluated in mp_real.
    std::function<loss_result<mp_real>(const matrix<mp_real>&, const matrix<mp_real>&, const label_vector&, mp_real)>
        softmax_loss_mp;

    template <class T>
    const entry_points<T>& at() const {
        if constexpr (std::is_same_v<T, float>) return f32;
        else return f64;
    }
};

inline const char* to_string(entry_point e) {
    switch (e) {
        case entry_point::softmax: return "softmax";
        case entry_point::log_softmax: return "log_softmax";
        case entry_point::softmax_backward: return "softmax_backward";
        case entry_point::log_softmax_backward: return "log_softmax_backward";
        case entry_point::cross_entropy: return "cross_entropy";
        case entry_point::softmax_loss: return "softmax_loss";
        case entry_point::cross_entropy_ex: return "cross_entropy_ex";
        case entry_point::cross_entropy_ex_bf16: return "cross_entropy_ex_bf16";
        case entry_point::cross_entropy_ex_f16: return "cross_entropy_ex_f16";
        case entry_point::fused_linear_cross_entropy: return "fused_linear_cross_entropy";
        case entry_point::fused_linear_cross_entropy_bf16: return "fused_linear_cross_entropy_bf16";
        case entry_point::fused_linear_cross_entropy_f16: return "fused_linear_cross_entropy_f16";
    }
    return "?";
}

}  // namespace gradproof
