// The one place that uses RapidCheck's detail API: running a property body under
// rc::detail::checkProperty with our own parameters, a silent listener, a shrink time budget and
// interruption, and reading RC_PARAMS. Everything else in gradproof sees plain data.
#pragma once

#include "properties/context.hpp"

#include <any>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace gradproof::detail {

struct check_params {
    std::uint64_t seed = 0;
    int cases = 100;
    int max_size = 100;
    bool shrink = true;
    double shrink_budget_seconds = 15;
    std::string id;                              // "implementation/precision/property"
    failure_kind assertion_kind = failure_kind::numerical;  // the kind of an RC_ASSERT failure
    long double unit_roundoff = 0x1p-53L;        // of the run's precision (an evaluation may narrow it)
    std::function<bool()> stop_requested;        // polled before every case
};

// The last failing evaluation: after shrinking, the minimal counterexample. Its message, margin
// and values all belong to that one evaluation.
struct evaluation_failure {
    failure_kind kind = failure_kind::numerical;
    std::string message;
    long double margin = -1;        // < 0: the failure has no margin (a rejection, a contract breach)
    std::string counterexample;     // the values it used, named
    std::any main_case;             // its main case (loss_case<T> / logits_case<T>), for replays
    std::string derived_hazard;     // an input it derived from the case left the ordinary domain
    bool hung = false;              // a crash that was a timeout
    long double unit_roundoff = 0x1p-53L;  // of the storage its outputs were rounded to
    long double relative_error = -1;       // of the failing element (< 0: none)
};

// A black-box numerical failure is wrong mathematics rather than rounding when the failing element
// has lost more than half the storage's digits: its error is beyond 1/√u of its bound and beyond
// √u of its exact value. (The bound alone misjudges outputs whose bound is below an ulp, such as
// bf16's half ulp: a result right to 1.4 of bf16's 2.4 digits is 17 such bounds off.) The line
// findings.cpp classes by, which shrinking keeps.
inline bool beyond_half_the_digits(long double margin, long double relative_error, long double unit_roundoff) {
    return margin > 1 / std::sqrt(unit_roundoff) && !(relative_error >= 0 && relative_error <= std::sqrt(unit_roundoff));
}

struct check_outcome {
    enum class status { pass, fail, gave_up, error } result = status::pass;
    int successes = 0;
    std::string description;        // gave up / error
    std::optional<evaluation_failure> failure;
    bool budget_hit = false;
    bool interrupted = false;
    bool pin_unused = false;        // a pinned case was set and some evaluation did not draw it
};

check_outcome check_property(const std::function<void(property_context&)>& body, property_context& ctx,
                             const check_params& params);

// RC_PARAMS fields that gradproof honours; absent ones stay empty.
struct rc_params {
    std::optional<std::uint64_t> seed;
    std::optional<int> max_success;
    std::optional<int> max_size;
    std::optional<bool> noshrink;
};
rc_params read_rc_params(const char* text);  // throws std::invalid_argument

}  // namespace gradproof::detail
