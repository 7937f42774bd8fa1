// A property: one claim about a softmax implementation, named as a sentence, runnable against
// any subject (built-in, plug-in, user callable) in float or double. The body is an ordinary
// RapidCheck property (draws with *gen, asserts with RC_ASSERT / RC_FAIL), so it can be used
// directly inside RC_GTEST_PROP, and the runner (src/runner) drives it for the CLI.
#pragma once

#include "core/subject.hpp"

#include <functional>
#include <string>
#include <vector>

namespace gradproof {

struct property {
    std::string name;                 // snake_case sentence: shift_leaves_softmax_unchanged
    std::string claim;                // the same claim in plain words
    std::vector<entry_point> needs;   // every one must be present
    bool white_box = false;           // needs the subject's mp_real instantiation
    int default_cases = 100;          // from properties/case_counts.hpp
    std::function<void(const subject&)> body_f32;
    std::function<void(const subject&)> body_f64;
    // Extra applicability rule (e.g. agreement with naive does not apply to naive itself).
    std::function<bool(const subject&)> applies_to;

    bool applicable(const subject& s, precision p) const;
    std::string needs_text() const;
};

// The catalog, in report order.
const std::vector<property>& catalog();
const property* find_property(std::string_view name);

}  // namespace gradproof
