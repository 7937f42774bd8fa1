// Input domains: which inputs a run draws, and where a counterexample lies.
//
// The ordinary domain is the data a trained model's softmax sees in practice and that any correct
// implementation must get right to within its rounding-error bound:
//   - every value finite, and zero or a normal number (no subnormals, no ±inf, no NaN);
//   - every logit in [−max_abs_logit, max_abs_logit] (default 30: row gaps ≤ 60, so every
//     probability is ≥ e^−60 ≈ 8.8e−27, a normal number in float and double, and no exp
//     overflows, even without a max shift: 30 < log(FLT_MAX) ≈ 88.7);
//   - every |W|, |X| and upstream-gradient entry ≤ max_abs_input (default 100: ½·reg·‖W‖² and
//     X·W cannot overflow in float at the generators' sizes).
// A failure at such an input is a bug in the mathematics or logic (class `wrong`, or `accuracy`
// when only rounding is at fault). Everything else — spreads past the exp overflow/underflow
// thresholds (709.78/−745.13 in double, 88.72/−103.97 in float, accuracy.md), huge shifts,
// subnormals, masked (−inf) logits, |W| near √max — is the extreme domain.
//
// `full` (the default) draws both, as the generators' mixtures always did; `ordinary` maps every
// drawn case into the ordinary domain (scaling, never clipping, so the shape of the data stays);
// `extreme` makes every mixed generator draw its hazards and skips nothing else.
#pragma once

#include "gen/cases.hpp"

#include <string>
#include <string_view>

namespace gradproof {

enum class domain_kind { full, ordinary, extreme };

struct input_domain {
    domain_kind kind = domain_kind::full;
    double max_abs_logit = 30;
    double max_abs_input = 100;

    // "full", "ordinary" or "extreme".
    const char* name() const;
    // The ordinary bounds in words ("every logit in [−30, 30]; |W|, |X| ≤ 100; finite, no subnormals").
    std::string describe() const;
    // Command-line arguments that select this domain (empty for the default).
    std::string arguments() const;
};

// Parses "full" / "ordinary" / "extreme"; throws std::invalid_argument naming `what`.
domain_kind parse_domain_kind(std::string_view text, const char* what);

// The extent of a case along every axis the ordinary domain bounds. Logits of a loss case are
// X·W, formed in long double.
struct case_extent {
    double max_abs_logit = 0;
    double max_label_gap = 0;  // row max − the label's logit (labelled rows only)
    double max_spread = 0;     // row max − row min over finite logits
    double min_row_max = 0;    // the lowest row maximum (every logit of a row very negative)
    double max_abs_w = 0;      // loss cases
    double max_abs_x = 0;      // loss cases; the upstream gradient for logit cases
    bool nonfinite = false;
    bool subnormal = false;
};

template <class T>
case_extent extent_of(const loss_case<T>& c);
template <class T>
case_extent extent_of(const logits_case<T>& c);

bool is_ordinary(const case_extent& e, const input_domain& d);

// The hazard that takes an extent outside the ordinary domain, in words, with its size
// ("label's logit 750 below the row max"); empty when the extent is ordinary.
std::string hazard_of(const case_extent& e, const input_domain& d);

// Maps a case into the ordinary domain: a matrix holding subnormals is scaled up by a power of two
// when that fits (else they become 0), non-finite values become 0, then the values are scaled
// down (W last, so that the logits X·W fit) until every bound holds.
template <class T>
loss_case<T> into_ordinary(loss_case<T> c, const input_domain& d);
template <class T>
logits_case<T> into_ordinary(logits_case<T> c, const input_domain& d);

// The scale of a case that bisection moves along: W (loss cases) or the logits, multiplied by t.
template <class T>
loss_case<T> scaled(loss_case<T> c, long double t);
template <class T>
logits_case<T> scaled(logits_case<T> c, long double t);

// The same logits X·W with X scaled by a power of two (exactly) into |X| ≤ max_abs_input and W by
// its inverse, so that the W scale alone can reach the ordinary domain; unchanged when X is
// within bounds or has non-finite values.
template <class T>
loss_case<T> rebalanced(loss_case<T> c, const input_domain& d);

// The largest t ≤ 1 for which scaled(c, t) is ordinary, or 0 when no scaling makes it so
// (non-finite or subnormal values, or X itself out of bounds).
template <class T>
long double ordinary_scale(const loss_case<T>& c, const input_domain& d);
template <class T>
long double ordinary_scale(const logits_case<T>& c, const input_domain& d);

}  // namespace gradproof
