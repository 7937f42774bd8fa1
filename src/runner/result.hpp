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

struct run_result {
    run_metadata meta;
    std::vector<property_result> results;
    bool incomplete = false;

    // A failure of an implementation not marked known-flawed (exit code 1).
    bool has_unexpected_failure() const {
        for (const auto& r : results)
            if ((r.status == verdict::fail || r.status == verdict::error) && !r.known_flawed) return true;
        return false;
    }
};

}  // namespace gradproof
