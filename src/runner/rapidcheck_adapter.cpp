#include "runner/rapidcheck_adapter.hpp"

#include "core/subject.hpp"

#include <rapidcheck.h>
#include <rapidcheck/detail/Configuration.h>
#include <rapidcheck/detail/TestListenerAdapter.h>

#include <chrono>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace gradproof::detail {

namespace {
// RapidCheck loads its global configuration (RC_PARAMS, a random default seed) on first use and
// announces it on stderr. Every gradproof run has its own seed, which is the one that replays, so
// the announcement only misleads: load it once with stderr muted.
void load_configuration_quietly() {
    static const bool loaded = [] {
        std::ostringstream sink;
        auto* saved = std::cerr.rdbuf(sink.rdbuf());
        try {
            (void)rc::detail::configuration();
        } catch (...) {
            std::cerr.rdbuf(saved);
            throw;
        }
        std::cerr.rdbuf(saved);
        return true;
    }();
    (void)loaded;
}
}  // namespace

check_outcome check_property(const std::function<void(property_context&)>& body, property_context& ctx,
                             const check_params& params) {
    load_configuration_quietly();
    check_outcome out;
    rc::detail::TestParams tp;
    tp.seed = params.seed;
    tp.maxSuccess = params.cases;
    tp.maxSize = params.max_size;
    tp.maxDiscardRatio = 10;
    tp.disableShrinking = !params.shrink;
    rc::detail::TestMetadata meta;
    meta.id = params.id;

    std::optional<std::chrono::steady_clock::time_point> first_failure;
    std::optional<failure_kind> first_kind;
    std::optional<bool> first_beyond_rounding;
    const auto budget = std::chrono::duration<double>(params.shrink_budget_seconds);
    // A failing evaluation counts only when it fails the way the first one did: shrinking must not
    // slip from, say, a numerical failure to a rejection of the smaller input (a different cause),
    // nor from an error beyond rounding (half the digits lost) to one within it, where a bug whose
    // error scales with its input (a halved z-loss at a tiny scale) would pass for rounding.
    // Returns whether the failure stands.
    auto on_failure = [&](failure_kind kind, const std::string& message, long double margin, long double relative_error) {
        const long double u = ctx.storage_unit_roundoff().value_or(params.unit_roundoff);
        const std::optional<bool> beyond_rounding =
            kind == failure_kind::numerical && margin >= 0 ? std::optional<bool>(beyond_half_the_digits(margin, relative_error, u))
                                                           : std::nullopt;
        if (first_kind && (*first_kind != kind || first_beyond_rounding != beyond_rounding)) return false;
        if (!first_kind) {
            first_kind = kind;
            first_beyond_rounding = beyond_rounding;
            first_failure = std::chrono::steady_clock::now();
        }
        out.failure = evaluation_failure{kind, message, margin, ctx.counterexample_text(), ctx.main_case(), ctx.derived_hazard()};
        out.failure->unit_roundoff = u;
        out.failure->relative_error = relative_error;
        return true;
    };
    auto guarded = [&] {
        // A case boundary: once a stop is requested (or the shrink budget is spent) every remaining
        // case and shrink step is discarded, which ends RapidCheck's loop without evaluating more.
        if (params.stop_requested && params.stop_requested()) {
            out.interrupted = true;
            RC_DISCARD("interrupted");
        }
        if (first_failure && std::chrono::steady_clock::now() - *first_failure > budget) {
            out.budget_hit = true;
            RC_DISCARD("shrink time budget exhausted");
        }
        ctx.begin_evaluation();
        auto note_pin = [&] {
            if (!ctx.pin_used()) out.pin_unused = true;
        };
        try {
            body(ctx);
            note_pin();
        } catch (const property_failure& f) {
            note_pin();
            if (on_failure(f.kind, f.what(), f.margin, f.relative_error)) throw;
        } catch (const rc::detail::CaseResult& c) {
            if (c.type != rc::detail::CaseResult::Type::Failure) throw;  // a discard
            note_pin();
            if (on_failure(params.assertion_kind, c.description, -1, -1)) throw;
        } catch (const implementation_crashed& e) {
            note_pin();
            if (on_failure(failure_kind::crash, e.what(), -1, -1)) {
                out.failure->hung = e.hung;
                throw;
            }
        } catch (const contract_breached& e) {
            note_pin();
            if (on_failure(failure_kind::contract, e.what(), -1, -1)) throw;
        } catch (const std::exception& e) {
            note_pin();
            if (on_failure(failure_kind::rejection, e.what(), -1, -1)) throw;
        }
    };
    const rc::detail::TestResult result = [&]() -> rc::detail::TestResult {
        try {
            // A silent listener: RapidCheck's default one prints its own reproduce banner.
            rc::detail::TestListenerAdapter quiet;
            return rc::detail::checkProperty(rc::detail::toProperty(guarded), meta, tp, quiet);
        } catch (const std::exception& e) {
            return rc::detail::Error(e.what());
        }
    }();
    if (result.template is<rc::detail::SuccessResult>()) {
        out.result = check_outcome::status::pass;
        out.successes = result.template get<rc::detail::SuccessResult>().numSuccess;
        out.failure.reset();  // failures of another kind than the first do not count
    } else if (result.template is<rc::detail::FailureResult>()) {
        out.result = check_outcome::status::fail;
        out.successes = result.template get<rc::detail::FailureResult>().numSuccess;
        if (!out.failure) {
            out.failure = evaluation_failure{};
            out.failure->unit_roundoff = params.unit_roundoff;
            out.failure->message = result.template get<rc::detail::FailureResult>().description;
        }
    } else if (result.template is<rc::detail::GaveUpResult>()) {
        const auto& g = result.template get<rc::detail::GaveUpResult>();
        out.result = check_outcome::status::gave_up;
        out.successes = g.numSuccess;
        out.description = g.description;
        out.failure.reset();
    } else {
        out.result = check_outcome::status::error;
        out.description = result.template get<rc::detail::Error>().description;
        out.failure.reset();
    }
    return out;
}

rc_params read_rc_params(const char* env) {
    rc_params out;
    if (!env || !*env) return out;
    const auto conf = rc::detail::configFromString(env);
    const std::string text = env;
    if (text.find("seed") != std::string::npos) out.seed = conf.testParams.seed;
    if (text.find("max_success") != std::string::npos) out.max_success = conf.testParams.maxSuccess;
    if (text.find("max_size") != std::string::npos) out.max_size = conf.testParams.maxSize;
    if (text.find("noshrink") != std::string::npos) out.noshrink = conf.testParams.disableShrinking;
    return out;
}

}  // namespace gradproof::detail
