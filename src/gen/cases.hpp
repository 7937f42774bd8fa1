// The inputs properties are drawn for: a row-wise logit case and a softmax-classifier case.
#pragma once

#include "core/matrix.hpp"

namespace gradproof {

// logits z (N×C) with labels y (N), for softmax / log_softmax / cross_entropy / backward.
template <class T>
struct logits_case {
    matrix<T> z;
    label_vector y;
    // Upstream gradient for the backward entry points (same shape as z).
    matrix<T> g;
};

// softmax_loss(W, X, y, reg): W is D×C, X is N×D.
template <class T>
struct loss_case {
    matrix<T> W;
    matrix<T> X;
    label_vector y;
    T reg{};
};

// A direction V in W's space (directional derivatives); shown as a named matrix in counterexamples.
template <class T>
struct direction_case {
    matrix<T> V;
};

}  // namespace gradproof
