/* gradproof plug-in ABI, version 1.
 *
 * A plug-in is a shared library exporting any subset of the functions below (C linkage);
 * `gradproof check --plugin lib.so` runs every property that applies to what it exports.
 *
 * Contract
 * - Arrays are dense, row-major and contiguous. logits/probs/out are n×c, W is d×c, X is n×d,
 *   labels/y hold n int32 class indices.
 * - Return 0 on success, non-zero to reject the input.
 * - n = 0 is an empty batch for the four row-wise functions (softmax, log_softmax and their
 *   backward functions): return 0 and write nothing. cross_entropy and softmax_loss reject n = 0.
 * - Every function rejects c <= 0 (and d <= 0), and labels outside [0, c).
 * - A NaN or +inf in a row either makes the call return non-zero or makes that row's outputs
 *   NaN, leaving the other rows correct. -inf logits are masked classes (probability 0).
 * - Inputs are never modified. Every output element is written (outputs are not accumulated
 *   into: gradproof pre-fills them with NaN garbage to check).
 * - cross_entropy: loss = mean over rows of (logsumexp(z_i) - z_i[y_i]); dlogits = (softmax -
 *   onehot) / n. softmax_loss: loss = mean_i(-log softmax(X·W)_i[y_i]) + 0.5·reg·||W||²,
 *   dW = Xᵀ·(softmax(X·W) - onehot(y)) / n + reg·W.
 * - softmax_backward: dlogits = probs ⊙ (dprobs - <dprobs, probs>) per row.
 *   log_softmax_backward: dlogits = dlogprobs - exp(logprobs)·Σ dlogprobs per row.
 * - Calls run in a separate gradproof worker process: a crash, abort or hang fails the property
 *   with the triggering input; it never affects gradproof itself.
 */
#ifndef GRADPROOF_PLUGIN_H
#define GRADPROOF_PLUGIN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int gradproof_softmax_f64(const double* logits, int64_t n, int64_t c, double* probs);
int gradproof_log_softmax_f64(const double* logits, int64_t n, int64_t c, double* out);
int gradproof_softmax_backward_f64(const double* probs, const double* dprobs, int64_t n, int64_t c,
                                   double* dlogits);
int gradproof_log_softmax_backward_f64(const double* logprobs, const double* dlogprobs, int64_t n,
                                       int64_t c, double* dlogits);
int gradproof_cross_entropy_f64(const double* logits, const int32_t* labels, int64_t n, int64_t c,
                                double* loss, double* dlogits);
int gradproof_softmax_loss_f64(const double* W, const double* X, const int32_t* y, int64_t n,
                               int64_t d, int64_t c, double reg, double* loss, double* dW);

int gradproof_softmax_f32(const float* logits, int64_t n, int64_t c, float* probs);
int gradproof_log_softmax_f32(const float* logits, int64_t n, int64_t c, float* out);
int gradproof_softmax_backward_f32(const float* probs, const float* dprobs, int64_t n, int64_t c,
                                   float* dlogits);
int gradproof_log_softmax_backward_f32(const float* logprobs, const float* dlogprobs, int64_t n,
                                       int64_t c, float* dlogits);
int gradproof_cross_entropy_f32(const float* logits, const int32_t* labels, int64_t n, int64_t c,
                                float* loss, float* dlogits);
int gradproof_softmax_loss_f32(const float* W, const float* X, const int32_t* y, int64_t n,
                               int64_t d, int64_t c, float reg, float* loss, float* dW);

#ifdef __cplusplus
}
#endif

#endif /* GRADPROOF_PLUGIN_H */
