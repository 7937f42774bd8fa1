// Chart data for HTML reports, computed once per run next to the property catalog: ULP-error
// samples per implementation × entry point × precision, the loss error versus logit magnitude
// (stability curve) and the finite-difference error versus step (the V in double beside the flat
// multiprecision Richardson line). Plain data lands in run_result::diagnostics, so a saved results
// file renders the same charts later.
#pragma once

#include "core/subject.hpp"
#include "runner/result.hpp"

#include <cstdint>
#include <vector>

namespace gradproof {

struct diagnostics_config {
    std::uint64_t seed = 1;
    int ulp_samples = 200;  // random calls per implementation × entry point × precision
};

// Deterministic for a given seed; costs well under a second for the built-ins.
diagnostic_data compute_diagnostics(const std::vector<subject>& subjects, const std::vector<precision>& precisions,
                                    const diagnostics_config& config = {});

// The report header's description of one subject.
implementation_info describe_subject(const subject& s);

// The magnitudes m of the stability curve: dense (24 per decade) over 1…1e4, where the overflow
// and underflow thresholds of float and double lie, then 2 per decade up to max_magnitude.
std::vector<double> stability_magnitudes(double max_magnitude);

}  // namespace gradproof
