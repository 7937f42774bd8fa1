// Run configuration from the environment: RC_PARAMS and GRADPROOF_CASE_SCALE. Kept apart from
// runner.cpp (which needs the whole catalog) so that tests/fuzz/fuzz_cli.cpp links only this.
#include "runner/runner.hpp"

#include "runner/rapidcheck_adapter.hpp"

#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace gradproof {

double default_case_scale() {
    const char* env = std::getenv("GRADPROOF_CASE_SCALE");
    if (!env || !*env) return 1.0;
    char* end = nullptr;
    const double v = std::strtod(env, &end);
    // A malformed value must not silently turn a suite into a no-op: ignore it.
    return end && *end == '\0' && std::isfinite(v) && v > 0 && v <= 1000 ? v : 1.0;
}

void apply_rc_params(run_config& cfg) {
    const auto rc = detail::read_rc_params(std::getenv("RC_PARAMS"));
    if (rc.seed) cfg.seed = *rc.seed;
    if (rc.max_success) {
        if (*rc.max_success < 1) throw std::invalid_argument("max_success must be ≥ 1");
        cfg.cases = *rc.max_success;
    }
    if (rc.max_size) {
        if (*rc.max_size < 0) throw std::invalid_argument("max_size must be ≥ 0");
        cfg.max_size = *rc.max_size;
    }
    if (rc.noshrink) cfg.shrink = !*rc.noshrink;
}

}  // namespace gradproof
