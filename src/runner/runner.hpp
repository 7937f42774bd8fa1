// Runs catalog properties against subjects and turns the outcome into plain data: property
// results and findings (root causes, runner/findings.hpp). Every property run gets its own seed
// derived from the run seed, the property, the subject and the precision, so any single result
// can be replayed alone (replay_data, formatted by each front end) and runs are deterministic.
//
// One cause is shrunk once: when a property fails, its minimal input is tried on every later
// applicable property of the same implementation and precision before anything new is drawn; a
// property that fails the same way on it joins that finding instead of searching and shrinking
// again. A property that joined a finding outside the ordinary domain is still run over
// ordinary inputs, so that "correct at ordinary inputs" is established for every property.
#pragma once

#include "core/subject.hpp"
#include "gen/domain.hpp"
#include "properties/property.hpp"
#include "runner/result.hpp"

#include <functional>
#include <optional>

namespace gradproof {

// Interruption. SIGINT/SIGTERM only set an async-signal-safe flag (a second signal kills at
// once: the handlers reset themselves). The runner reads the flag between properties and before
// every case, so a run stops at the next case boundary and returns what it has, marked
// incomplete; a case in flight (one plug-in call is bounded by its timeout) is finished first.
void install_stop_handlers();
// The signal that asked the run to stop, 0 when none; request_stop sets it (tests, handlers).
int stop_signal();
void request_stop(int signal);
void clear_stop_request();

// GRADPROOF_CASE_SCALE (a positive number) or 1.
double default_case_scale();

struct run_config {
    std::uint64_t seed = 1;                   // run seed (CLI --seed; RC_PARAMS seed=)
    std::optional<int> cases;                 // replaces every property's default count
    // Multiplies default counts (tests use < 1). Starts from GRADPROOF_CASE_SCALE when that is set
    // (the asan test preset runs the suite at 0.25: sanitizers make every case slower, and the
    // point there is memory errors, not statistical coverage); explicit --cases N is unaffected.
    double case_scale = default_case_scale();
    std::vector<std::string> properties;      // empty: all
    std::vector<precision> precisions{precision::f64, precision::f32};
    bool shrink = true;
    // Shrinking stops this long after the first failure (a hanging implementation costs one
    // timeout per shrink step); the best counterexample so far is reported.
    double shrink_budget_seconds = 15;
    // Deterministic sharding: of the (subject, precision, property) work items in catalog
    // order, run those with index % shard_count == shard_index.
    int shard_index = 0;
    int shard_count = 1;
    int max_size = 100;
    input_domain domain;                     // --domain and its bounds
    // Finding classes that make the run fail (exit code 1); default every class.
    std::vector<finding_class> fail_on{std::begin(all_finding_classes), std::end(all_finding_classes)};
    // Cases of a replay: a pinned counterexample tried on another property (other draws of that
    // property, such as a permutation, still vary between them).
    int replay_cases = 3;
    // Called after each property run (progress output).
    std::function<void(const property_result&)> on_result;
};

std::uint64_t derive_seed(std::uint64_t run_seed, const std::string& property, const std::string& subject, precision p);

// One property alone (the GoogleTest integration, the mutation suite): no findings.
property_result run_property(const property& prop, const subject& s, precision p, const run_config& cfg);

// The catalog over the subjects, with findings and the summary.
run_result run_catalog(const std::vector<subject>& subjects, const run_config& cfg);

// Applies RC_PARAMS (seed=, max_success=, noshrink=, max_size=) when set in the environment.
void apply_rc_params(run_config& cfg);

run_metadata describe_run(const run_config& cfg, const std::string& command_line);

}  // namespace gradproof
