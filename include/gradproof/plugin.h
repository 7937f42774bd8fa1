/* gradproof plug-in ABI, version 2 (GRADPROOF_PLUGIN_ABI_VERSION).
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
 *   with the triggering input; it never affects gradproof itself. gradproof calls one function at
 *   a time per worker process: entry points need not be reentrant or thread-safe.
 *
 * Version 2 adds cross-entropy with options (gradproof_cross_entropy_ex_*) and fused linear
 * cross-entropy (gradproof_fused_linear_cross_entropy_*), in f64, f32 and in bf16/f16 storage.
 * Version-1 plug-ins keep working unchanged.
 *
 * Cross-entropy with options: the semantics of PyTorch 1.13's torch.nn.functional.cross_entropy
 * (https://pytorch.org/docs/1.13/generated/torch.nn.CrossEntropyLoss.html), with Liger-Kernel's
 * z-loss and soft-capping added. Row i, target y_i, C classes, w the class weights (all 1 when
 * class_weights is NULL), ε = label_smoothing, s = lse_square_scale:
 *   z_ic   = cap·tanh(logits_ic / cap) when softcap = cap > 0, else logits_ic (Gemma 2);
 *   lse_i  = log Σ_c exp(z_ic);
 *   hard labels, row not ignored:
 *     ce_i = (1−ε)·w[y_i]·(lse_i − z_iy) + (ε/C)·Σ_c w[c]·(lse_i − z_ic)
 *     (the smoothing term is weighted class by class, as PyTorch 1.13 computes it; PyTorch issue
 *     104776 discusses the alternative, which gradproof does not accept);
 *   soft targets q (n×c, rows need not sum to 1): q' = (1−ε)·q + ε/C, ce_i = Σ_c w[c]·q'_ic·(lse_i − z_ic);
 *   z-loss: zl_i = s·lse_i² per row that is not ignored, not class-weighted (Liger-Kernel);
 *   ignored row (hard labels only, y_i == ignore_index when has_ignore_index, which may equal a
 *     real class): ce_i = zl_i = 0 and its dlogits row is 0;
 *   reduction none: loss[i] = ce_i + zl_i (n values; 0 on ignored rows);
 *   reduction sum:  loss[0] = Σ_i (ce_i + zl_i);
 *   reduction mean: loss[0] = Σ_i ce_i / W + Σ_i zl_i / K, K = the number of rows not ignored and
 *     W = Σ_{i not ignored} w[y_i] for hard labels, W = n for soft targets (PyTorch: a one-hot soft
 *     target and its class index disagree on a weighted mean).
 *     Every row ignored (K = 0): loss[0] = NaN (0/0, as PyTorch) or 0 (as Liger-Kernel); both
 *     are accepted; every dlogits element is 0 either way.
 *   dlogits = ∂(Σ_k dloss[k]·loss[k]) / ∂logits, dloss holding n values for reduction none and 1
 *     otherwise: the chain rule through the soft cap contributes the factor 1 − tanh²(logits/cap).
 * Arguments: labels may be NULL when soft_targets is given (labels are then not read); a label
 * outside [0, c) that is not ignore_index is rejected; class_weights holds c finite values ≥ 0
 * and soft_targets n×c finite values ≥ 0, both in the entry point's storage type; ε ∈ [0, 1],
 * s ≥ 0 and cap ≥ 0 finite; ignore_index with soft targets is rejected (as PyTorch); n = 0 is
 * rejected, as are the non-finite logits the row-wise contract above describes.
 * A plug-in returns GRADPROOF_UNSUPPORTED (and writes nothing) for an option it does not
 * implement: gradproof then skips that case instead of counting a rejection. An options->size
 * smaller than a field's end means that field is absent (its default: 0 / NULL / mean).
 *
 * Fused linear cross-entropy (Liger-Kernel's LigerFusedLinearCrossEntropy): logits = H·Wᵀ + b with
 * hidden H n×d, weight W v×d (the layout of PyTorch's nn.Linear and Liger: one row per class) and
 * bias b (v values, or NULL: then dbias is NULL too), followed by cross-entropy with the options
 * above (hard labels only; soft_targets must be NULL). dhidden = dlogits·W (n×d), dweight =
 * dlogitsᵀ·H (v×d), dbias = column sums of dlogits. The logits need never be formed in full.
 *
 * bf16 and f16 entry points: every floating array (including class weights, soft targets, dloss,
 * loss and the gradients) is uint16_t holding IEEE binary16 (f16) or bfloat16 (bf16, the top half
 * of a binary32) bit patterns. Inputs are therefore exact binary numbers; arithmetic may be carried
 * out in float32 or wider (gradproof's tolerance assumes u = 2^-24 for accumulation) and each
 * output is rounded once to the storage format, to nearest (ties to even).
 */
#ifndef GRADPROOF_PLUGIN_H
#define GRADPROOF_PLUGIN_H

#include <stdint.h>

#define GRADPROOF_PLUGIN_ABI_VERSION 2

/* Returned by an entry point for an option it does not implement. */
#define GRADPROOF_UNSUPPORTED (-38)

#ifdef __cplusplus
extern "C" {
#endif

enum gradproof_reduction { GRADPROOF_REDUCTION_NONE = 0, GRADPROOF_REDUCTION_MEAN = 1, GRADPROOF_REDUCTION_SUM = 2 };

/* Options of cross-entropy. Fields are only ever appended; `size` is sizeof(gradproof_ce_options)
 * as the caller compiled it, so a plug-in built against an older header reads only what it knows
 * and one built against a newer header treats fields beyond `size` as absent. */
typedef struct gradproof_ce_options {
    uint64_t size;
    int32_t reduction;          /* enum gradproof_reduction; default mean */
    int32_t has_ignore_index;   /* 0: no label is ignored */
    int32_t ignore_index;       /* the ignored label when has_ignore_index (PyTorch's default is -100) */
    int32_t reserved;           /* 0 */
    double label_smoothing;     /* ε in [0, 1] */
    double lse_square_scale;    /* z-loss scale s >= 0 */
    double softcap;             /* 0: none; cap > 0: logits -> cap·tanh(logits/cap) */
    const void* class_weights;  /* NULL or c weights, in the entry point's storage type */
    const void* soft_targets;   /* NULL or n×c target probabilities, in the storage type */
} gradproof_ce_options;

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

int gradproof_cross_entropy_ex_f64(const double* logits, const int32_t* labels, int64_t n, int64_t c,
                                   const gradproof_ce_options* options, const double* dloss, double* loss,
                                   double* dlogits);
int gradproof_cross_entropy_ex_f32(const float* logits, const int32_t* labels, int64_t n, int64_t c,
                                   const gradproof_ce_options* options, const float* dloss, float* loss,
                                   float* dlogits);
int gradproof_cross_entropy_ex_bf16(const uint16_t* logits, const int32_t* labels, int64_t n, int64_t c,
                                    const gradproof_ce_options* options, const uint16_t* dloss, uint16_t* loss,
                                    uint16_t* dlogits);
int gradproof_cross_entropy_ex_f16(const uint16_t* logits, const int32_t* labels, int64_t n, int64_t c,
                                   const gradproof_ce_options* options, const uint16_t* dloss, uint16_t* loss,
                                   uint16_t* dlogits);

int gradproof_fused_linear_cross_entropy_f64(const double* hidden, const double* weight, const double* bias,
                                             const int32_t* labels, int64_t n, int64_t d, int64_t v,
                                             const gradproof_ce_options* options, const double* dloss,
                                             double* loss, double* dhidden, double* dweight, double* dbias);
int gradproof_fused_linear_cross_entropy_f32(const float* hidden, const float* weight, const float* bias,
                                             const int32_t* labels, int64_t n, int64_t d, int64_t v,
                                             const gradproof_ce_options* options, const float* dloss, float* loss,
                                             float* dhidden, float* dweight, float* dbias);
int gradproof_fused_linear_cross_entropy_bf16(const uint16_t* hidden, const uint16_t* weight, const uint16_t* bias,
                                              const int32_t* labels, int64_t n, int64_t d, int64_t v,
                                              const gradproof_ce_options* options, const uint16_t* dloss,
                                              uint16_t* loss, uint16_t* dhidden, uint16_t* dweight,
                                              uint16_t* dbias);
int gradproof_fused_linear_cross_entropy_f16(const uint16_t* hidden, const uint16_t* weight, const uint16_t* bias,
                                             const int32_t* labels, int64_t n, int64_t d, int64_t v,
                                             const gradproof_ce_options* options, const uint16_t* dloss,
                                             uint16_t* loss, uint16_t* dhidden, uint16_t* dweight,
                                             uint16_t* dbias);

#ifdef __cplusplus
}
#endif

#endif /* GRADPROOF_PLUGIN_H */
