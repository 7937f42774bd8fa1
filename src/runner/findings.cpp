#include "runner/findings.hpp"

#include "core/cross_entropy_options.hpp"
#include "reference/point.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace gradproof::detail {

namespace {

// The main case of a failure as a loss case in T (logits cases become X = I, W = z, reg = 0),
// when that is possible.
template <class T>
std::optional<loss_case<T>> as_loss_case(const std::any& a) {
    if (const auto* c = std::any_cast<loss_case<T>>(&a)) return *c;
    if (const auto* z = std::any_cast<logits_case<T>>(&a);
        z && z->y.size() == static_cast<std::size_t>(z->z.rows()) && z->z.allFinite()) {
        loss_case<T> c;
        c.W = z->z;
        c.X = matrix<T>::Identity(z->z.rows(), z->z.rows());
        c.y = z->y;
        return c;
    }
    return std::nullopt;
}

// Does the subject's mp_real instantiation agree with the reference at the case? nullopt when it
// cannot be evaluated.
template <class T>
std::optional<bool> mathematics_agrees(const subject& s, const std::any& main_case) {
    if (!s.softmax_loss_mp) return std::nullopt;
    const auto c = as_loss_case<T>(main_case);
    if (!c || c->y.empty()) return std::nullopt;
    try {
        const auto W = convert<long double>(c->W), X = convert<long double>(c->X);
        const auto ref = reference::softmax_loss(W, X, c->y, static_cast<long double>(c->reg));
        const mp_precision_guard guard(256);
        const auto mp = s.softmax_loss_mp(convert<mp_real>(W), convert<mp_real>(X), c->y, mp_real(static_cast<long double>(c->reg)));
        auto close = [](long double a, long double b, long double scale) {
            return std::isfinite(a) && std::fabs(a - b) <= exact_agreement * scale;
        };
        if (!close(static_cast<long double>(mp.loss), ref.loss, std::fabs(ref.loss))) return false;
        if (mp.dW.rows() != ref.dW.rows() || mp.dW.cols() != ref.dW.cols()) return false;
        long double scale = 0;
        for (Eigen::Index k = 0; k < ref.dW.size(); ++k) scale = std::max(scale, std::fabs(ref.dW.data()[k]));
        for (Eigen::Index k = 0; k < ref.dW.size(); ++k)
            if (!close(static_cast<long double>(mp.dW.data()[k]), ref.dW.data()[k], scale)) return false;
        return true;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// Cross-entropy with options is judged, scaled and mapped by its logits; everything else of the
// input stays as it is (weights, targets and upstream gradients are drawn ordinary).
template <class T>
logits_case<T> logits_part(const ce_ex_input<T>& c) {
    return {c.logits, c.labels, {}};
}
template <class T>
std::any with_logits(ce_ex_input<T> c, const std::any& l) {
    if (const auto* z = std::any_cast<logits_case<T>>(&l)) {
        c.logits = z->z;
        return c;
    }
    return {};
}

// The extent of a failure's main case, if it has one of the six case types.
std::optional<case_extent> extent_of_any(const std::any& a) {
    if (const auto* c = std::any_cast<loss_case<double>>(&a)) return extent_of(*c);
    if (const auto* c = std::any_cast<loss_case<float>>(&a)) return extent_of(*c);
    if (const auto* c = std::any_cast<logits_case<double>>(&a)) return extent_of(*c);
    if (const auto* c = std::any_cast<logits_case<float>>(&a)) return extent_of(*c);
    if (const auto* c = std::any_cast<ce_ex_input<double>>(&a)) return extent_of(logits_part(*c));
    if (const auto* c = std::any_cast<ce_ex_input<float>>(&a)) return extent_of(logits_part(*c));
    return std::nullopt;
}

// The largest t for which the scaled case is ordinary (0: none), and the scaled case.
long double ordinary_scale_any(const std::any& a, const input_domain& d) {
    if (const auto* c = std::any_cast<loss_case<double>>(&a)) return ordinary_scale(*c, d);
    if (const auto* c = std::any_cast<loss_case<float>>(&a)) return ordinary_scale(*c, d);
    if (const auto* c = std::any_cast<logits_case<double>>(&a)) return ordinary_scale(*c, d);
    if (const auto* c = std::any_cast<logits_case<float>>(&a)) return ordinary_scale(*c, d);
    if (const auto* c = std::any_cast<ce_ex_input<double>>(&a)) return ordinary_scale(logits_part(*c), d);
    if (const auto* c = std::any_cast<ce_ex_input<float>>(&a)) return ordinary_scale(logits_part(*c), d);
    return 0;
}
std::any scaled_any(const std::any& a, long double t) {
    if (const auto* c = std::any_cast<loss_case<double>>(&a)) return scaled(*c, t);
    if (const auto* c = std::any_cast<loss_case<float>>(&a)) return scaled(*c, t);
    if (const auto* c = std::any_cast<logits_case<double>>(&a)) return scaled(*c, t);
    if (const auto* c = std::any_cast<logits_case<float>>(&a)) return scaled(*c, t);
    if (const auto* c = std::any_cast<ce_ex_input<double>>(&a)) return with_logits(*c, scaled(logits_part(*c), t));
    if (const auto* c = std::any_cast<ce_ex_input<float>>(&a)) return with_logits(*c, scaled(logits_part(*c), t));
    return {};
}
std::any into_ordinary_any(const std::any& a, const input_domain& d) {
    if (const auto* c = std::any_cast<loss_case<double>>(&a)) return into_ordinary(*c, d);
    if (const auto* c = std::any_cast<loss_case<float>>(&a)) return into_ordinary(*c, d);
    if (const auto* c = std::any_cast<logits_case<double>>(&a)) return into_ordinary(*c, d);
    if (const auto* c = std::any_cast<logits_case<float>>(&a)) return into_ordinary(*c, d);
    if (const auto* c = std::any_cast<ce_ex_input<double>>(&a)) return with_logits(*c, into_ordinary(logits_part(*c), d));
    if (const auto* c = std::any_cast<ce_ex_input<float>>(&a)) return with_logits(*c, into_ordinary(logits_part(*c), d));
    return {};
}

// A loss case with |X| out of bounds, rebalanced so that scaling W can reach the ordinary domain.
std::any rebalanced_any(const std::any& a, const input_domain& d) {
    if (const auto* c = std::any_cast<loss_case<double>>(&a)) return rebalanced(*c, d);
    if (const auto* c = std::any_cast<loss_case<float>>(&a)) return rebalanced(*c, d);
    return a;
}
const char* scale_name(const std::any& a) {
    return a.type() == typeid(loss_case<double>) || a.type() == typeid(loss_case<float>) ? "W" : "the logits";
}

// A likely mechanism for each hazard, said once in the summary.
std::string mechanism(const std::string& hazard) {
    if (hazard.rfind("label's logit", 0) == 0) return "−log of an underflowing probability p_y, or exp(z_y − max) lost";
    if (hazard.rfind("every logit of a row", 0) == 0) return "Σ exp underflows to 0 without a shift by the row max";
    if (hazard.rfind("logit spread", 0) == 0) return "exp overflows or underflows across the row";
    if (hazard.rfind("|logit|", 0) == 0) return "exp of unshifted logits overflows, or the shift loses the small differences";
    if (hazard.rfind("|W|", 0) == 0) return "½·reg·‖W‖² or X·W overflows";
    if (hazard.rfind("|X|", 0) == 0) return "X·W or Xᵀ·dS overflows";
    if (hazard.rfind("subnormal", 0) == 0) return "subnormal arithmetic (flushed to zero, or a division by a subnormal)";
    if (hazard.rfind("NaN", 0) == 0) return "non-finite inputs";
    return "";
}

std::string lower_first(std::string s) {
    if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
}

std::string upper_first(std::string s) {
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
    return s;
}

void show_evaluation(finding& f, const evaluation_failure& e) {
    f.message = e.message;
    f.counterexample = e.counterexample;
    f.margin = e.margin < 0 ? 0 : std::isfinite(e.margin) ? static_cast<double>(e.margin) : std::numeric_limits<double>::infinity();
}


finding classify(const property& prop, const subject& s, precision p, const run_config& cfg, property_run& run,
                 std::any* shown_case);

}  // namespace

finding make_finding(const property& prop, const subject& s, precision p, const run_config& cfg, property_run& run,
                     std::any* shown_case) {
    finding f = classify(prop, s, p, cfg, run, shown_case);
    return f;
}
namespace {
finding classify(const property& prop, const subject& s, precision p, const run_config& cfg, property_run& run,
                 std::any* shown_case) {
    finding f;
    f.implementation = s.name;
    f.prec = p;
    f.known_flawed = s.known_flawed;
    f.property = prop.name;
    f.properties = {prop.name};
    f.replay = run.result.replay;
    f.componentwise_margin = run.result.worst_componentwise;
    if (run.result.status == verdict::error || !run.failure) {
        f.cls = finding_class::crash;
        f.kind = to_string(failure_kind::crash);
        f.message = run.result.message;
        f.summary = "The property could not be evaluated: " + run.result.message;
        return f;
    }
    const evaluation_failure failure = *run.failure;
    if (shown_case) *shown_case = failure.main_case;
    f.kind = to_string(failure.kind);
    show_evaluation(f, failure);
    f.message = run.result.message;  // with the shrink-budget note, if any
    const std::string claim = lower_first(prop.claim);
    const bool crash = failure.kind == failure_kind::crash;
    const auto extent = extent_of_any(failure.main_case);
    const bool ordinary_case = (!extent || is_ordinary(*extent, cfg.domain)) && failure.derived_hazard.empty();
    // A hang is not replayed (every replay would cost a whole timeout), so neither its cause nor a
    // threshold is known: a property may have added the hazard itself (a NaN it poisons a row with).
    if (crash && failure.hung) {
        f.cls = finding_class::crash;
        f.ordinary = ordinary_case;
        f.summary = "The implementation hung (not replayed: each replay would cost the timeout): " + failure.message;
        return f;
    }
    if (!crash && (failure.kind == failure_kind::contract || prop.category == property_category::contract)) {
        f.cls = finding_class::contract;
        f.summary = "Contract: " + failure.message;
        return f;
    }
    auto same_failure = [&](const std::any& c) -> std::optional<evaluation_failure> {
        if (!c.has_value()) return std::nullopt;
        const pinned_case pin{c};
        auto t = run_one(prop, s, p, cfg, &pin, cfg.replay_cases);
        if (t.pin_unused || !t.failure || t.failure->kind != failure.kind) return std::nullopt;
        return t.failure;
    };
    f.ordinary = ordinary_case;
    evaluation_failure shown = failure;
    if (!f.ordinary) {
        // The same failure at the counterexample mapped into the ordinary domain (subnormals and
        // non-finite values to 0, magnitudes scaled down): an ordinary cause after all.
        if (auto at_ordinary = same_failure(into_ordinary_any(failure.main_case, cfg.domain));
            at_ordinary && at_ordinary->derived_hazard.empty()) {
            f.ordinary = true;
            shown = *at_ordinary;
            show_evaluation(f, shown);
            if (shown_case) *shown_case = shown.main_case;
        }
    }
    if (!f.ordinary) {
        // The case that scaling moves along: the counterexample itself, or the same logits with X
        // brought within bounds, when that still fails the same way.
        std::any base = failure.main_case;
        const bool scalable = extent && !is_ordinary(*extent, cfg.domain);
        if (scalable && ordinary_scale_any(base, cfg.domain) == 0) {
            std::any b = rebalanced_any(base, cfg.domain);
            if (ordinary_scale_any(b, cfg.domain) > 0 && same_failure(b)) base = b;
        }
        const long double t0 = scalable ? ordinary_scale_any(base, cfg.domain) : 0;
        if (t0 > 0) {
            if (auto at_ordinary = same_failure(scaled_any(base, t0)); at_ordinary && at_ordinary->derived_hazard.empty()) {
                // The same failure at the ordinary end: an ordinary cause, shown at that input.
                f.ordinary = true;
                shown = *at_ordinary;
                show_evaluation(f, shown);
                if (shown_case) *shown_case = shown.main_case;
            }
        }
        if (!f.ordinary) {
            f.cls = crash ? finding_class::crash : finding_class::extreme_inputs;
            f.hazard = extent && !is_ordinary(*extent, cfg.domain) ? hazard_of(*extent, cfg.domain)
                                                                   : "derived input with " + failure.derived_hazard;
            if (t0 > 0) {
                // Bisection in log t between the ordinary end (passes) and the counterexample (fails).
                long double lo = t0, hi = 1;
                for (int step = 0; step < 30 && hi / lo > 1 + 1e-4L; ++step) {
                    const long double mid = std::sqrt(lo * hi);
                    if (same_failure(scaled_any(base, mid))) hi = mid;
                    else lo = mid;
                }
                const auto at = extent_of_any(scaled_any(base, hi));
                const std::string h = at ? hazard_of(*at, cfg.domain) : "";
                if (!h.empty())
                    f.threshold = fmt::format("{} (bisection on the scale of {}: fails at {:.6g}×, passes at {:.6g}× the "
                                              "counterexample)",
                                              h, scale_name(failure.main_case), static_cast<double>(hi), static_cast<double>(lo));
            }
            const std::string where = f.threshold.empty() ? f.hazard : f.threshold.substr(0, f.threshold.find(" (bisection"));
            const std::string why = mechanism(where);
            f.summary = crash ? fmt::format("Crashes or answers garbage only at extreme inputs, from {} on: {}", where,
                                            failure.message)
                              : fmt::format("Fails only at extreme inputs, from {} on{}", where, why.empty() ? "" : "; likely " + why);
            return f;
        }
    }
    if (crash) {
        f.cls = finding_class::crash;
        f.summary = "The implementation crashed or answered garbage at an ordinary input: " + shown.message;
        return f;
    }
    // Ordinary input: wrong, or accuracy when only rounding is at fault.
    if (failure.kind == failure_kind::rejection) {
        f.cls = finding_class::wrong;
        f.summary = "Rejects or fails on a valid ordinary input: " + shown.message;
        return f;
    }
    const bool finite = shown.margin >= 0 && std::isfinite(shown.margin);
    std::optional<bool> exact = p == precision::f64 ? mathematics_agrees<double>(s, shown.main_case)
                                                    : mathematics_agrees<float>(s, shown.main_case);
    const bool accuracy =
        finite && (exact ? *exact : !beyond_half_the_digits(shown.margin, shown.relative_error, shown.unit_roundoff));
    if (accuracy) {
        f.cls = finding_class::accuracy;
        f.digits_lost = shown.margin > 1 ? std::log10(static_cast<double>(shown.margin)) : 0;
        f.summary = fmt::format("The mathematics is right{} but rounding errors exceed the derived bound at ordinary "
                                "inputs: {:.1f} decimal digits lost beyond it",
                                exact ? " (its exact-arithmetic instantiation agrees with the reference)" : "",
                                f.digits_lost);
    } else {
        f.cls = finding_class::wrong;
        f.summary = fmt::format("{} does not hold at ordinary inputs{}", upper_first(claim),
                                exact && !*exact ? " (in exact arithmetic too: a bug in the mathematics or logic)"
                                : !finite        ? " (a non-finite result)"
                                                 : "");
    }
    return f;
}

}  // namespace

}  // namespace gradproof::detail
