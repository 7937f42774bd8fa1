// Multiprecision finite-difference directional derivatives of the exact softmax loss,
// d/dt L(W + t·V) at t = 0 = ⟨∇L(W), V⟩, for many directions V at once.
//
// Why it is cheap: the scores are linear in t, X·(W + t·V) = X·W + t·(X·V), and
// ½·reg·‖W + t·V‖² = ½·reg·(‖W‖² + 2t⟨W, V⟩ + t²‖V‖²). X·W, X·V, ‖W‖², ⟨W, V⟩ and ‖V‖² are computed
// exactly once (reference/exact_sum.hpp) and rounded to the working precision; each of the
// 2m·levels loss evaluations of fd::derivative then costs O(N·C) exps instead of an O(N·D·C)
// multiprecision product: at (500, 3073, 10) one evaluation is ≈ 5 000 exps instead of 15 million
// multiply-adds. The evaluation is the shifted formula of point.cpp (a = max, log1p(s)) at
// options.bits in raw MPFR with explicit precisions, rows split across threads.
//
// Error: identical to fd::directional's (richardson.hpp): the only difference is where the nodes
// round. fd::directional rounds W + t·V to p bits (absolute u·|W| per entry, so u·(|X||W|) in the
// scores); here X·W and X·V are each rounded once to p bits and S + t·SV rounds twice: ≤ 3u·|S| +
// 2u·|t·SV| per score, the same order. Richardson's error estimate covers both.
#pragma once

#include "core/matrix.hpp"
#include "core/scalar.hpp"
#include "fd/richardson.hpp"

#include <vector>

namespace gradproof::reference {

using lmatrix = matrix<long double>;

// One estimate per direction (each V has W's shape). Validates like softmax_loss. The estimates'
// mp_real values carry options.bits; call under an mp_precision_guard(options.bits) to use them
// at full precision. threads: workers per loss evaluation (0 = all hardware threads). The
// process-wide Boost default precision is set on the calling thread only (fd::derivative's guard);
// workers use raw MPFR with explicit precisions.
std::vector<fd::fd_estimate> loss_directional_derivatives(const lmatrix& W, const lmatrix& X, const label_vector& y,
                                                          long double reg, const std::vector<lmatrix>& directions,
                                                          const fd::fd_options& options = {}, unsigned threads = 0);

}  // namespace gradproof::reference
