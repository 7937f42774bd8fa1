// Results are plain data: every reporter (terminal, JSON, JUnit, HTML) renders the same
// run_result. Findings (root causes, each with one class) and the summary (counts, verdict, top
// line per implementation) are computed once, by the runner and runner/summary.hpp; reporters only
// render them.
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

// The class of a finding: what kind of problem it is, from the user's point of view.
//   wrong           reproduces at ordinary inputs (gen/domain.hpp): the mathematics or logic is wrong
//   extreme_inputs  occurs only outside the ordinary domain (hazard and threshold named)
//   accuracy        finite, the right mathematics, but the error exceeds the derived bound
//   contract        labels, N = 0, C = 0, NaN/inf rows, inputs modified, outputs unwritten
//   crash           crash, abort, exit, hang or timeout of the implementation
enum class finding_class { wrong, extreme_inputs, accuracy, contract, crash };
inline constexpr finding_class all_finding_classes[] = {finding_class::wrong, finding_class::extreme_inputs,
                                                        finding_class::accuracy, finding_class::contract,
                                                        finding_class::crash};

inline const char* to_string(finding_class c) {
    switch (c) {
        case finding_class::wrong: return "wrong";
        case finding_class::extreme_inputs: return "extreme_inputs";
        case finding_class::accuracy: return "accuracy";
        case finding_class::contract: return "contract";
        case finding_class::crash: return "crash";
    }
    return "?";
}

// Everything a front end needs to format a command that replays one property run. Each front end
// (verify, check, the GoogleTest integration) formats it its own way; the runner never does.
struct replay_data {
    std::string implementation;
    std::string property;
    precision prec = precision::f64;
    std::uint64_t seed = 0;  // the run seed (the property's own seed is derived from it)
    int cases = 0;
    std::string domain_args;  // "--domain ordinary --max-abs-logit 30 …" when not the default domain
    bool empty() const { return property.empty(); }
};

// One root cause: the failures of one implementation in one precision that a single minimal
// input explains. The counterexample, message and margin all belong to one evaluation of
// `property` (the one shown); `properties` lists every property that input fails.
struct finding {
    int id = 0;                       // index in run_result::findings
    std::string implementation;
    precision prec = precision::f64;
    bool known_flawed = false;
    finding_class cls = finding_class::wrong;
    std::string kind;                 // how it fails: "numerical", "rejection", "crash", "contract"
    std::string property;             // the property whose evaluation is shown
    std::vector<std::string> properties;  // every property this cause fails, in catalog order
    std::string summary;              // what is wrong, in one sentence
    std::string message;              // the shown evaluation's failure (expected vs actual, margin)
    std::string counterexample;       // every value the shown evaluation used, named
    double margin = 0;                // |error| / tolerance of the shown evaluation (inf: non-finite)
    double digits_lost = 0;           // accuracy: log10(margin), decimal digits beyond the bound
    double componentwise_margin = 0;  // the stricter componentwise level, reported only
    std::string hazard;               // extreme_inputs, crash: the input feature behind it
    std::string threshold;            // extreme_inputs, crash: where it starts ("label's logit ≥ 708.4 below …")
    bool ordinary = false;            // the counterexample lies in the ordinary domain
    replay_data replay;
    std::string reproduce;            // formatted from replay by the front end
};

// Per implementation: what its user reads first.
struct implementation_summary {
    std::string implementation;
    bool known_flawed = false;
    std::string headline;        // "gradient and loss correct at ordinary inputs (…); 1 extreme-input finding"
    bool fails = false;          // a finding of a --fail-on class (and not a known-flawed specimen)
    bool correct_at_ordinary_inputs = false;  // no wrong/crash finding and the reference properties passed
    int reference_cases = 0;     // passing cases compared with the certified/MPFR reference
    int finite_difference_cases = 0;  // passing cases compared with 256-bit finite differences
    int findings[5] = {0, 0, 0, 0, 0};  // per finding_class
};

// Computed once from the results and findings (runner/summary.hpp); every reporter renders it.
struct run_summary {
    int passed = 0, failed = 0, failed_known_flawed = 0, not_applicable = 0, errors = 0;
    int findings[5] = {0, 0, 0, 0, 0};  // per finding_class, every implementation
    bool fails = false;                 // exit code 1
    std::vector<implementation_summary> implementations;
};

struct property_result {
    std::string implementation;
    bool known_flawed = false;
    precision prec = precision::f64;
    std::string property;
    std::string claim;
    std::string needs;
    std::string category;       // properties/property.hpp: reference, white_box, extreme, contract, …
    verdict status = verdict::not_applicable;
    int cases_run = 0;          // successful cases before a failure, or all of them
    // A property failing only outside the ordinary domain is run again over ordinary inputs:
    // the cases that passed there (0 when it was not, or failed there too).
    int ordinary_cases = 0;
    int cases_requested = 0;
    double worst_margin = 0;    // normwise: max |error| / tolerance over every evaluation
    double worst_componentwise = 0;
    double worst_ulps = 0;
    std::string worst_where;    // the element behind worst_margin
    std::string message;        // failure: expected vs actual, ULPs, margin (of the shrunk case)
    std::string counterexample; // failure: the shrunk input, full precision
    std::string reproduce;      // failure: command line that replays this run (formatted by the front end)
    replay_data replay;         // failure: what the reproduce line is formatted from
    int finding = -1;           // failure: index in run_result::findings
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
    std::string domain = "full";      // the input domain the run drew from (gen/domain.hpp)
    std::string domain_text;          // its bounds in words
    std::vector<std::string> fail_on; // finding classes that make the exit code 1
};

// What was checked: one implementation and the entry points it exposes per precision.
struct implementation_info {
    std::string name;
    std::string description;
    bool known_flawed = false;
    std::vector<std::string> entry_points_f32;
    std::vector<std::string> entry_points_f64;
};

// Chart data for reports (diagnostics/diagnostics.hpp computes it). Errors are in ULPs of the output
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
    std::vector<finding> findings;
    run_summary summary;                                // runner/summary.hpp: summarize()
};

// Front ends format reproduce lines from replay data, each its own way (see replay_data).
template <class Format>
void format_reproduce_lines(run_result& run, Format&& format) {
    for (auto& r : run.results)
        if (!r.replay.empty()) r.reproduce = format(r.replay);
    for (auto& f : run.findings)
        if (!f.replay.empty()) f.reproduce = format(f.replay);
}

}  // namespace gradproof
