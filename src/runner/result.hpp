// Results are plain data: every reporter (terminal, JSON, JUnit, and later HTML) renders the
// same run_result.
#pragma once

#include "core/scalar.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace gradproof {

enum class verdict { pass, fail, not_applicable, error };

inline const char* to_string(verdict v) {
    switch (v) {
        case verdict::pass: return "pass";
        case verdict::fail: return "fail";
        case verdict::not_applicable: return "n/a";
        case verdict::error: return "error";
    }
    return "?";
}

struct property_result {
    std::string implementation;
    bool known_flawed = false;
    precision prec = precision::f64;
    std::string property;
    std::string claim;
    std::string needs;
    verdict status = verdict::not_applicable;
    int cases_run = 0;          // successful cases before a failure, or all of them
    int cases_requested = 0;
    double worst_margin = 0;    // normwise: max |error| / tolerance over every evaluation
    double worst_componentwise = 0;
    double worst_ulps = 0;
    std::string worst_where;    // the element behind worst_margin
    std::string message;        // failure: expected vs actual, ULPs, margin (of the shrunk case)
    std::string counterexample; // failure: the shrunk input, full precision
    std::string reproduce;      // failure: command line that replays exactly this run
    std::uint64_t seed = 0;     // RapidCheck seed of this property run
    double seconds = 0;
    bool interrupted = false;   // a stop request cut this run short (not written to results files)
};

struct run_metadata {
    std::string gradproof_version;
    std::string date_utc;
    std::string machine;
    std::string command_line;
    std::uint64_t seed = 0;
    std::string case_counts;  // "default", "--cases N", …
    std::vector<std::string> libraries;
};

// What was checked: one implementation and the entry points it exposes per precision.
struct implementation_info {
    std::string name;
    std::string description;
    bool known_flawed = false;
    std::vector<std::string> entry_points_f32;
    std::vector<std::string> entry_points_f64;
};

// Chart data for reports (report/diagnostics.hpp computes it). Errors are in ULPs of the output
// type against the 128-bit reference; +inf stands for an inf/NaN output where the exact value is
// finite.

// |error| in ULPs of random inputs for one implementation × entry point × precision: one sample per
// call, the largest error over every output element of that call.
struct ulp_samples {
    std::string implementation;
    std::string entry_point;
    precision prec = precision::f64;
    std::vector<double> ulps;
};

// Loss error versus logit magnitude m for the row [0, −m]; the label on the small logit (exact
// loss ≈ m) or on the large one (exact loss ≈ e^−m).
struct stability_curve {
    std::string implementation;
    std::string entry_point;
    precision prec = precision::f64;
    std::string label_on;  // "small" or "large"
    std::vector<double> magnitude;
    std::vector<double> ulps;
};

// Relative error of a finite-difference derivative versus the relative step, in double (order-2
// central difference) and in mp_real (Richardson), for one gradient component.
struct fd_step_curve {
    std::string description;
    std::vector<double> step;
    std::vector<double> double_error;
    std::vector<double> mp_error;
};

struct diagnostic_data {
    std::vector<ulp_samples> ulp;
    std::vector<stability_curve> stability;
    std::vector<fd_step_curve> fd;  // empty or one curve (a vector, so merged runs stay simple)

    bool empty() const { return ulp.empty() && stability.empty() && fd.empty(); }
};

struct run_result {
    run_metadata meta;
    std::vector<property_result> results;
    bool incomplete = false;
    std::string incomplete_reason;  // why the run stopped early ("interrupted by SIGINT …"); empty when complete
    std::vector<implementation_info> implementations;  // empty in results files older than 0.1
    diagnostic_data diagnostics;                        // empty when not computed

    // A failure of an implementation not marked known-flawed (exit code 1).
    bool has_unexpected_failure() const {
        for (const auto& r : results)
            if ((r.status == verdict::fail || r.status == verdict::error) && !r.known_flawed) return true;
        return false;
    }
};

}  // namespace gradproof
