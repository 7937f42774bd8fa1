// Run configuration from the environment: RC_PARAMS and GRADPROOF_CASE_SCALE. Kept apart from
// runner.cpp (which needs the whole catalog) so that tests/fuzz/fuzz_cli.cpp links only this.
#include "runner/runner.hpp"

#include <rapidcheck/detail/Configuration.h>

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
    const char* env = std::getenv("RC_PARAMS");
    if (!env || !*env) return;
    const auto conf = rc::detail::configFromString(env);
    const std::string text = env;
    if (text.find("seed") != std::string::npos) cfg.seed = conf.testParams.seed;
    if (text.find("max_success") != std::string::npos) {
        if (conf.testParams.maxSuccess < 1) throw std::invalid_argument("max_success must be ≥ 1");
        cfg.cases = conf.testParams.maxSuccess;
    }
    if (text.find("max_size") != std::string::npos) {
        if (conf.testParams.maxSize < 0) throw std::invalid_argument("max_size must be ≥ 0");
        cfg.max_size = conf.testParams.maxSize;
    }
    if (text.find("noshrink") != std::string::npos) cfg.shrink = !conf.testParams.disableShrinking;
}

}  // namespace gradproof
