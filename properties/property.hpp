// A property: one claim about a softmax implementation, named as a sentence, runnable against
// any subject (built-in, plug-in, user callable) in float or double. The body is an ordinary
// RapidCheck property that draws through its property_context (properties/context.hpp) and fails
// with GRADPROOF_FAIL / RC_ASSERT; the runner (src/runner) drives it.
#pragma once

#include "core/subject.hpp"
#include "properties/context.hpp"

#include <functional>
#include <string>
#include <vector>

namespace gradproof {

// What a property checks; decides how its failures are classed (runner/findings.hpp) and which
// domain options apply to it.
enum class property_category {
    reference,    // compared with the MPFR / MPFI reference (accuracy, certified, wide)
    extreme,      // hazard-only inputs
    identity,     // identities of the outputs (row sums, ranges, Jacobian structure)
    invariance,   // self-consistency: shifts, permutations, additivity, regularisation, own differences
    white_box,    // 256-bit finite differences of the mp_real instantiation
    determinism,
    contract,     // rejections, empty batches, NaN isolation
};
const char* to_string(property_category c);

struct property {
    std::string name;                 // snake_case sentence: shift_leaves_softmax_unchanged
    std::string claim;                // the same claim in plain words
    std::vector<entry_point> needs;   // every one must be present
    bool white_box = false;           // needs the subject's mp_real instantiation
    int default_cases = 100;          // from properties/case_counts.hpp
    std::function<void(property_context&, const subject&)> body_f32;
    std::function<void(property_context&, const subject&)> body_f64;
    // Extra applicability rule (e.g. agreement with naive does not apply to naive itself).
    std::function<bool(const subject&)> applies_to;

    property_category category = property_category::reference;

    bool applicable(const subject& s, precision p) const;
    std::string needs_text() const;
};

// The catalog, in report order.
const std::vector<property>& catalog();
const property* find_property(std::string_view name);

}  // namespace gradproof
