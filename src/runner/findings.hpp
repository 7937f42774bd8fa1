// Findings: failures grouped by root cause and given one class (runner/result.hpp).
//
// Grouping is decided from the data: a property joins a finding when the finding's minimal input
// makes it fail the same way (runner.cpp). Classing a new finding:
//   crash       the implementation crashed, hung or answered garbage;
//   contract    a contract property failed, or a call broke the calling contract;
//   otherwise by where the minimal input lies (gen/domain.hpp):
//     outside the ordinary domain: the input is scaled toward it (W or the logits times t). If
//       the ordinary end still fails the same way the cause is ordinary after all (and that
//       ordinary case is shown); else bisection on t between the ordinary end and the
//       counterexample finds where the failure starts, and the hazard there is named:
//       extreme_inputs;
//     inside: `wrong`, unless the mathematics is right and only rounding is at fault, which is
//       `accuracy`. White-box subjects decide this exactly: their mp_real instantiation at the
//       counterexample agrees with the 128-bit reference (to exact_agreement) or it does not.
//       Black-box subjects cannot be evaluated exactly; for them a finite result that keeps at
//       least half of the type's digits (margin ≤ 1/√u, the error a √u-accurate algorithm such
//       as a lower-precision accumulator makes) is `accuracy`, anything worse `wrong`.
#pragma once

#include "properties/property.hpp"
#include "runner/rapidcheck_adapter.hpp"
#include "runner/runner.hpp"

#include <optional>

namespace gradproof::detail {

// Relative agreement of a white-box subject's mp_real result with the reference that counts as
// "the same mathematics": far above the long double reference's own error (2^-64 ≈ 5.4e-20 per
// operation, accumulated over the generators' sizes), far below any modelling error.
inline constexpr long double exact_agreement = 1e-15L;

struct property_run {
    property_result result;
    std::optional<evaluation_failure> failure;
    bool pin_unused = false;
};

// One property run; with `pin`, every evaluation's main case is that case.
property_run run_one(const property& prop, const subject& s, precision p, const run_config& cfg,
                     const pinned_case* pin = nullptr, std::optional<int> cases = {},
                     std::optional<input_domain> domain = {});

// A new finding from a failed run: class, hazard and threshold, summary; the shown evaluation
// may become the ordinary counterpart of the run's counterexample (see the header).
// `shown_case` receives the main case of the evaluation shown (what other properties are tried on).
finding make_finding(const property& prop, const subject& s, precision p, const run_config& cfg, property_run& run,
                     std::any* shown_case = nullptr);

// The replay data of a property run.
replay_data replay_of(const property& prop, const subject& s, precision p, const run_config& cfg, int cases);

}  // namespace gradproof::detail
