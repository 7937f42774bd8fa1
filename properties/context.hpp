// The context a property body runs in: it is passed explicitly to every body and carries
//   - the input domain of the run (gen/domain.hpp): the main-case draws apply it;
//   - the values the current evaluation used, by name, so that a counterexample shows exactly
//     what the failing evaluation evaluated (and nothing it did not);
//   - a pinned case: the main-case draw returns it instead of generating one. The runner uses
//     it to try one property's minimal counterexample on every other property (one root cause
//     is shrunk once) and to bisect a hazard's threshold;
//   - the worst margins of the property run, and the failure of the current evaluation (kind,
//     message, margin), which belong together: the margin shown is that of the case shown.
#pragma once

#include "gen/cases.hpp"
#include "gen/domain.hpp"
#include "gen/generators.hpp"

#include <rapidcheck.h>

#include <any>
#include <optional>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace gradproof {

// How an evaluation failed. Shrinking keeps to the kind of the first failure, and two properties
// share a finding only when they fail the same way.
enum class failure_kind { numerical, rejection, crash, contract };
const char* to_string(failure_kind k);

// Thrown by property bodies (GRADPROOF_FAIL); the runner's RapidCheck adapter turns it into a
// failed case.
struct property_failure : std::runtime_error {
    property_failure(failure_kind k, const std::string& message, long double margin = -1, long double relative_error = -1)
        : std::runtime_error(message), kind(k), margin(margin), relative_error(relative_error) {}
    failure_kind kind;
    long double margin;          // |error| / tolerance of the failing element; < 0 when there is none
    long double relative_error;  // |error| / |exact| of that element (+inf at an exact 0); < 0 when there is none
};

// Worst margins over every evaluation of a property run.
struct margin_record {
    long double normwise = 0;       // verdict level: max |error| / tolerance
    long double componentwise = 0;  // stricter level, reported only
    long double worst_ulps = 0;     // over elements whose exact value is a normal number
    std::string worst_where;        // description of the element with the worst normwise margin
};

// Rendered only when a counterexample is printed: exact decimal forms of every element cost more
// than many evaluations, and almost every evaluation passes.
struct named_value {
    std::string name;
    std::function<std::string()> text;  // multi-line values (matrices) start with a newline
    bool labelled = false;               // the text names its own parts (W, X, y, reg): shown without the name
};

// A case to use instead of the next main-case draw: a loss_case<T> or logits_case<T> (either is
// converted to the other when that is exact).
struct pinned_case {
    std::any value;
    bool has_value() const { return value.has_value(); }
};

class property_context {
public:
    property_context() = default;
    explicit property_context(input_domain domain) : domain_(domain) {}

    const input_domain& domain() const { return domain_; }
    void set_domain(const input_domain& d) { domain_ = d; }

    // Main-case draws: the pinned case when there is one (first draw of an evaluation only),
    // otherwise a draw from the generator under the run's domain. Named in counterexamples.
    // `adjust` edits the case before it is recorded (a property that needs reg ≠ 0, say), so the
    // counterexample shows what was evaluated.
    template <class T>
    loss_case<T> loss(const gen::loss_options& opt = {}, const std::function<void(loss_case<T>&)>& adjust = {});
    template <class T>
    logits_case<T> logits(const gen::logits_options& opt = {});
    template <class T>
    logits_case<T> unlabelled_logits(const gen::logits_options& opt = {});

    // Any other drawn value (an index, a flag, a direction), recorded under its name.
    template <class V>
    V draw(const char* name, const rc::Gen<V>& g) {
        V v = *g;
        show(name, v);
        return v;
    }
    // A value the evaluation uses that was derived rather than drawn (a changed label, the reg
    // actually passed): shown under its name.
    template <class V>
    void show(const char* name, const V& v) {
        shown_.push_back({name, [v] { return rc::toString(v); }});
    }

    void show(const char* name, const matrix<float>& m);
    void show(const char* name, const matrix<double>& m);

    // Inputs the property derives from its case and passes to the implementation (a shifted copy,
    // say): when they leave the ordinary domain, a failure is not an ordinary one.
    template <class T>
    void note_logits(const matrix<T>& z) {
        note_extent(extent_of(logits_case<T>{z, {}, {}}));
    }
    template <class T>
    void note_loss_inputs(const matrix<T>& W, const matrix<T>& X) {
        note_extent(extent_of(loss_case<T>{W, X, {}, T(0)}));
    }
    // The hazard of the first derived input outside the ordinary domain, empty when none.
    const std::string& derived_hazard() const { return derived_hazard_; }

    // Margins of the whole property run.
    margin_record& margins() { return margins_; }
    const margin_record& margins() const { return margins_; }

    // A whole input that a property assembles around its main case (cross-entropy with options:
    // the logits plus options, weights, targets and upstream gradient). pinned_as returns the
    // runner's pinned case when it is such an input (and marks the pin used); set_main_case
    // records the assembled input as the evaluation's main case, so that replays on other
    // properties and the bisection of a threshold see all of it, not only the logits.
    template <class C>
    const C* pinned_as() {
        if (main_case_.has_value() || !pinned_.has_value()) return nullptr;
        const C* c = std::any_cast<C>(&pinned_.value);
        pin_used_ = pin_used_ || c != nullptr;
        return c;
    }
    void set_main_case(std::any c) { main_case_ = std::move(c); }

    // The unit roundoff of the storage an evaluation's outputs are rounded to, when it is narrower
    // than the run's precision (bf16/f16 forms in the f32 run). Where a numerical failure stops
    // being rounding and becomes wrong mathematics (an error beyond 1/√u tolerances) depends on it.
    void set_storage_unit_roundoff(long double u) { storage_unit_roundoff_ = u; }
    std::optional<long double> storage_unit_roundoff() const { return storage_unit_roundoff_; }

    // ---- used by the runner ----------------------------------------------------------------
    void pin(pinned_case c) { pinned_ = std::move(c); }
    void unpin() { pinned_ = {}; }
    bool pin_used() const { return pin_used_; }
    // Starts an evaluation: forgets the previous one's values and failure.
    void begin_evaluation() {
        shown_.clear();
        main_case_ = {};
        pin_used_ = false;
        derived_hazard_.clear();
        storage_unit_roundoff_.reset();
    }
    const std::vector<named_value>& shown() const { return shown_; }
    // The first main case of the current evaluation (what a pin or a bisection replays).
    const std::any& main_case() const { return main_case_; }
    std::string counterexample_text() const {
        std::string out;
        for (const auto& v : shown_) {
            const std::string text = v.text();
            if (v.labelled) out += text.substr(text.empty() || text.front() != '\n' ? 0 : 1);
            else if (!text.empty() && text.front() == '\n') out += v.name + ":" + text;
            else out += v.name + " = " + text + "\n";
        }
        return out;
    }

private:
    template <class T>
    bool take_pinned_logits(logits_case<T>& out, bool with_upstream, bool labelled);
    template <class C>
    void record_main(const C& c);

    void note_extent(const case_extent& e) {
        if (derived_hazard_.empty() && !is_ordinary(e, domain_)) derived_hazard_ = hazard_of(e, domain_);
    }

    input_domain domain_;
    std::string derived_hazard_;
    margin_record margins_;
    std::vector<named_value> shown_;
    std::any main_case_;
    pinned_case pinned_;
    bool pin_used_ = false;
    std::optional<long double> storage_unit_roundoff_;
};

}  // namespace gradproof
