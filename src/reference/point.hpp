// Point references: the exact real softmax functions evaluated in MPFR (mp_real) at `bits`
// precision (default 128) from exact binary inputs, then rounded to long double.
//
// Error analysis: inputs are float/double values, held exactly in long double and in mp_real.
// Every MPFR operation is correctly rounded at p bits, so with p = 128 the relative error of each
// stage is ≤ 2^-128 and the accumulated error of a length-n sum or dot product is ≤ n·2^-127
// relative to the sum of magnitudes (Higham, Accuracy and Stability, ch. 3). Rounding the result
// to long double (64-bit significand) adds 2^-64 relative: the reference is accurate to well under
// 1/1000 of an ULP of double (2^-52), which is how it is used. Where a certificate is needed, use
// reference/interval.hpp instead.
#pragma once

#include "core/matrix.hpp"

#include <vector>

namespace gradproof::reference {

using lmatrix = matrix<long double>;
inline constexpr unsigned default_bits = 128;

struct loss_reference {
    long double loss = 0;               // L = mean_i ℓ_i + ½·reg·‖W‖²
    std::vector<long double> row_loss;  // ℓ_i = lse(S_i) − S_{i,y_i}
    lmatrix scores;                     // S = X·W
    lmatrix probs;                      // softmax(S)
    lmatrix dS;                         // softmax(S) − onehot(y)
    lmatrix dW;                         // Xᵀ·dS / N + reg·W
};

struct cross_entropy_reference {
    long double loss = 0;               // mean_i ℓ_i
    std::vector<long double> row_loss;  // ℓ_i
    lmatrix probs;                      // softmax(z)
    lmatrix dlogits;                    // (softmax(z) − onehot(y)) / N
};

// Every entry point validates its arguments as the library does (core/validate.hpp) and throws
// std::invalid_argument("bits: …") for bits < 64. Row-wise functions: −inf logits are masked
// classes (probability 0, log-probability −inf; a masked label gives row loss +inf); a row holding
// NaN or +inf, or with every class masked, gives NaN in all of that row's outputs (and a NaN mean
// loss) while the other rows are unaffected. Results are the exact values to within 2^-100 (at 128
// bits), rounded to nearest long double; see point.cpp for the error analysis.
// threads: workers for the exact stages (0 = all hardware threads; small inputs run on the calling
// thread); the result does not depend on it, bit for bit.
loss_reference softmax_loss(const lmatrix& W, const lmatrix& X, const label_vector& y, long double reg,
                            unsigned bits = default_bits, unsigned threads = 0);
lmatrix softmax(const lmatrix& logits, unsigned bits = default_bits);
lmatrix log_softmax(const lmatrix& logits, unsigned bits = default_bits);
cross_entropy_reference cross_entropy(const lmatrix& logits, const label_vector& y, unsigned bits = default_bits);
// p ⊙ (g − ⟨g, p⟩) for the given p and g (the exact vector–Jacobian product at those inputs).
lmatrix softmax_backward(const lmatrix& probs, const lmatrix& dprobs, unsigned bits = default_bits);
// g − exp(o)·Σ g for the given o and g.
lmatrix log_softmax_backward(const lmatrix& logprobs, const lmatrix& dlogprobs, unsigned bits = default_bits);

}  // namespace gradproof::reference
