#include "properties/cross_entropy_options.hpp"

#include "core/half.hpp"
#include "error/cross_entropy_tolerance.hpp"
#include "gen/cross_entropy_options.hpp"
#include "gen/generators.hpp"
#include "properties/checks.hpp"
#include "reference/cross_entropy_options.hpp"

#include <fmt/format.h>

#include <cmath>
#include <optional>

namespace gradproof::properties {

using reference::lmatrix;
using lvector = std::vector<long double>;

namespace {

// ---- drawing a call ------------------------------------------------------------------------

struct ce_draw {
    gen::ce_options_choice choice;
    gen::logits_options logits;
    std::optional<reduction> reduce;      // forced reduction
    bool hard_labels = false;             // no soft targets
    bool ignore_some = false;             // force an ignore_index
    std::optional<half_format> half;      // inputs rounded to this storage format

    ce_draw() {
        // Small shapes: every case costs a 128-bit reference; widths above 256 still occur.
        logits.shape.max_n = 24;
        logits.shape.max_c = 320;
        logits.shape.max_work = 4000;
        logits.allow_masked = false;  // −inf through a soft cap is −cap, not a masked class
    }
};

template <class T>
lvector widen_vector(const std::vector<T>& v) {
    return lvector(v.begin(), v.end());
}

// Half-precision kernels see logits of modest size: bf16 inputs are kept within ±2^60 (so that
// float accumulation of lse − z over the classes cannot overflow), f16 inputs within ±2^10.
float to_format(half_format f, float x) {
    const float bound = f == half_format::bf16 ? std::ldexp(1.0f, 60) : 1024.0f;
    return round_to_half(f, std::fmax(-bound, std::fmin(bound, x)));
}

// An exact output beyond the format's range rounds to ±inf: that is the correctly rounded answer.
void saturate(lmatrix& expected, lmatrix& tolerance, half_format f) {
    const half_facts h = facts_of(f);
    const long double limit = h.max_finite * (1 + h.unit_roundoff);  // half an ulp above the largest finite
    for (Eigen::Index k = 0; k < expected.size(); ++k)
        if (std::fabs(expected.data()[k]) >= limit) {
            expected.data()[k] = std::copysign(INFINITY, expected.data()[k]);
            tolerance.data()[k] = 0;
        }
}

// The call a property evaluates: the main case (logits and labels, drawn under the run's domain)
// plus options, ignored rows, weights, soft targets and the upstream gradient, each shown under
// its name exactly as evaluated. The whole input is recorded as the main case: another
// property's counterexample pinned by the runner comes back whole, adapted to this property's
// restrictions (d), so one root cause found by several properties is one finding.
template <class T>
ce_ex_input<T> draw_ce_input(property_context& ctx, const ce_draw& d) {
    ce_ex_input<T> in;
    bool show_labels = false;
    if (const auto* pinned = ctx.pinned_as<ce_ex_input<T>>()) {
        in = *pinned;
        ctx.show("logits", in.logits);
        show_labels = true;
    } else {
        const auto c = ctx.logits<T>(d.logits);
        in.logits = c.z;
        in.labels = c.y;
        in.options = *gen::ce_options_gen(d.choice);
        if (!d.hard_labels && d.choice.soft_targets && !in.options.has_ignore_index && *rc::gen::inRange(0, 4) == 0)
            in.soft_targets = *gen::soft_targets<T>(in.n(), in.c());
        if (in.options.has_ignore_index) {
            const auto ignored = *gen::ignored_rows(in.n());
            for (Eigen::Index i = 0; i < in.n(); ++i)
                if (ignored[static_cast<std::size_t>(i)] && in.labels[static_cast<std::size_t>(i)] != in.options.ignore_index) {
                    in.labels[static_cast<std::size_t>(i)] = in.options.ignore_index;
                    show_labels = true;
                }
        }
        if (d.choice.weights && *rc::gen::inRange(0, 2) == 1) in.class_weights = *gen::class_weights<T>(in.c());
    }
    const Eigen::Index n = in.n();
    ce_options& o = in.options;
    // This property's restrictions.
    if (d.reduce) o.reduce = *d.reduce;
    if (d.ignore_some) o.has_ignore_index = true;
    if (!d.choice.zloss) o.lse_square_scale = 0;
    if (!d.choice.softcap) o.softcap = 0;
    if (!d.choice.weights) in.class_weights.clear();
    if (d.hard_labels || !d.choice.soft_targets || o.has_ignore_index) in.soft_targets.resize(0, 0);
    if (in.dloss.size() != static_cast<std::size_t>(o.reduce == reduction::none ? n : 1))
        in.dloss = *gen::upstream<T>(o.reduce == reduction::none ? n : 1);
    // A weighted mean over rows whose weights are all 0 is 0/0 with rows present, which the
    // contract leaves undefined: give the first counted row's class a weight.
    if (!in.class_weights.empty() && o.reduce == reduction::mean && !in.soft()) {
        long double total = 0;
        std::optional<std::int32_t> first;
        for (Eigen::Index i = 0; i < n; ++i) {
            if (is_ignored(in, i)) continue;
            total += in.class_weights[static_cast<std::size_t>(in.labels[static_cast<std::size_t>(i)])];
            if (!first) first = in.labels[static_cast<std::size_t>(i)];
        }
        if (first && total == 0) in.class_weights[static_cast<std::size_t>(*first)] = T(1);
    }
    if (d.half) {
        for (Eigen::Index k = 0; k < in.logits.size(); ++k) in.logits.data()[k] = to_format(*d.half, in.logits.data()[k]);
        for (auto& w : in.class_weights) w = to_format(*d.half, w);
        for (Eigen::Index k = 0; k < in.soft_targets.size(); ++k)
            in.soft_targets.data()[k] = to_format(*d.half, in.soft_targets.data()[k]);
        for (auto& g : in.dloss) g = to_format(*d.half, g);
        ctx.show(*d.half == half_format::bf16 ? "logits_in_bf16" : "logits_in_f16", in.logits);
        ctx.set_storage_unit_roundoff(facts_of(*d.half).unit_roundoff);
    }
    ctx.show("options", o);
    if (show_labels) ctx.show("labels", in.labels);
    if (!in.class_weights.empty()) ctx.show("class_weights", in.class_weights);
    if (in.soft()) ctx.show("soft_targets", in.soft_targets);
    ctx.show("dloss", in.dloss);
    ctx.set_main_case(in);
    return in;
}

// ---- calling ---------------------------------------------------------------------------------

template <class T>
const typename entry_points<T>::ce_ex_fn& ce_entry(const subject& s, std::optional<half_format> half) {
    const auto& e = s.at<T>();
    if (!half) return e.cross_entropy_ex;
    return *half == half_format::bf16 ? e.cross_entropy_ex_bf16 : e.cross_entropy_ex_f16;
}

const char* ce_entry_name(std::optional<half_format> half) {
    if (!half) return "cross_entropy_ex";
    return *half == half_format::bf16 ? "cross_entropy_ex_bf16" : "cross_entropy_ex_f16";
}

// An option the implementation declares unsupported (GRADPROOF_UNSUPPORTED) skips the case.
template <class F>
auto call_option_entry(const char* entry, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const option_unsupported&) {
        RC_DISCARD("an option of this case is not supported by the implementation");
    }
    throw std::logic_error("unreachable");
}

template <class T>
ce_ex_result<T> call_ce(const subject& s, const ce_ex_input<T>& in, std::optional<half_format> half = std::nullopt) {
    const char* name = ce_entry_name(half);
    auto out = call_option_entry(name, [&] { return call_entry(name, [&] { return ce_entry<T>(s, half)(in); }); });
    const std::size_t expect = in.options.reduce == reduction::none ? static_cast<std::size_t>(in.n()) : 1;
    if (out.loss.size() != expect)
        GRADPROOF_FAIL(fmt::format("{}: loss has {} values, expected {} (reduction {})", name, out.loss.size(), expect,
                                   to_string(in.options.reduce)));
    require_shape(std::string(name) + " dlogits", out.dlogits, in.n(), in.c());
    return out;
}

template <class T>
arithmetic arithmetic_of(std::optional<half_format> half) {
    return half ? half_arithmetic(*half) : native_arithmetic<T>();
}

// The storage a float run of an option property evaluates in: f32 itself, or bf16/f16 with f32
// accumulation where the subject exports every entry point the property calls in that form. A
// double run is f64. Shrinks towards f32.
template <class T>
std::optional<half_format> draw_storage(property_context& ctx, const subject& s, std::initializer_list<entry_point> bf16,
                                        std::initializer_list<entry_point> f16) {
    if constexpr (!std::is_same_v<T, float>) {
        return std::nullopt;
    } else {
        const auto has_all = [&](std::initializer_list<entry_point> es) {
            return std::all_of(es.begin(), es.end(), [&](entry_point e) { return s.at<T>().has(e); });
        };
        const int k = *rc::gen::weightedElement<int>({{2, 0}, {1, 1}, {1, 2}});
        std::optional<half_format> half;
        if (k == 1 && has_all(bf16)) half = half_format::bf16;
        if (k == 2 && has_all(f16)) half = half_format::f16;
        ctx.show("storage", std::string(half ? to_string(*half) : "f32"));
        return half;
    }
}

template <class T>
std::optional<half_format> draw_ce_storage(property_context& ctx, const subject& s) {
    return draw_storage<T>(ctx, s, {entry_point::cross_entropy_ex_bf16}, {entry_point::cross_entropy_ex_f16});
}

// x rounded to the storage format (to T itself when there is none).
template <class T>
T in_storage(std::optional<half_format> half, T x) {
    return half ? static_cast<T>(round_to_half(*half, static_cast<float>(x))) : x;
}

template <class T>
ce_options_tolerances tolerance_of(const arithmetic& a, const ce_ex_input<T>& in, const reference::ce_options_reference& ref) {
    return cross_entropy_options_tolerance(a, widen(in.logits), in.labels, in.options, widen_vector(in.class_weights),
                                           widen(in.soft_targets), widen_vector(in.dloss), ref);
}

template <class T>
matrix<T> as_row(const std::vector<T>& v) {
    matrix<T> m(1, static_cast<Eigen::Index>(v.size()));
    for (std::size_t k = 0; k < v.size(); ++k) m(0, static_cast<Eigen::Index>(k)) = v[k];
    return m;
}
inline lmatrix as_lrow(const lvector& v) { return as_row(v); }

bool every_row_ignored_mean(const reference::ce_options_reference& ref, const ce_options& o) {
    return ref.all_ignored && o.reduce == reduction::mean;
}

// Mean over no rows at all: loss NaN (PyTorch) or 0 (Liger), every gradient element exactly 0.
template <class T>
void require_empty_mean(const char* entry, const std::vector<T>& loss, const matrix<T>& grad, const char* grad_name) {
    if (!(std::isnan(loss[0]) || loss[0] == T(0)))
        GRADPROOF_FAIL(fmt::format("{}: every row is ignored, so the mean is 0/0; the loss must be NaN or 0, got {}", entry,
                                   static_cast<double>(loss[0])));
    for (Eigen::Index k = 0; k < grad.size(); ++k)
        if (grad.data()[k] != T(0))
            GRADPROOF_FAIL(fmt::format("{}: every row is ignored, yet {} element {} is {} (must be 0)", entry, grad_name, k,
                                       static_cast<double>(grad.data()[k])));
}

template <class T>
void check_ce_against_reference(property_context& ctx, const subject& s, const ce_ex_input<T>& in,
                                std::optional<half_format> half) {
    const auto out = call_ce<T>(s, in, half);
    const auto ref = reference::cross_entropy_with_options(in);
    if (every_row_ignored_mean(ref, in.options)) return require_empty_mean(ce_entry_name(half), out.loss, out.dlogits, "dlogits");
    const auto tol = tolerance_of<T>(arithmetic_of<T>(half), in, ref);
    lmatrix loss = as_lrow(ref.loss), loss_tol = as_lrow(tol.loss), dz = ref.dlogits, dz_tol = tol.dlogits;
    if (half) {
        saturate(loss, loss_tol, *half);
        saturate(dz, dz_tol, *half);
    }
    require_close<T>(ctx, "loss", as_row(out.loss), loss, loss_tol);
    require_close<T>(ctx, "dlogits", out.dlogits, dz, dz_tol);
}

// The same call with other options/weights; its reference and tolerance.
template <class T>
struct evaluated {
    ce_ex_input<T> in;
    ce_ex_result<T> out;
    reference::ce_options_reference ref;
    ce_options_tolerances tol;
};

// An identity compares finite outputs: in a half format, a case where an exact output lies within
// its tolerance of the format's overflow threshold (where ±inf is the correct answer) is left to
// the reference property, which judges the rounding to ±inf.
inline void discard_if_it_may_overflow(const lvector& value, const lvector& tol, half_format f) {
    const long double limit = facts_of(f).max_finite * (1 + facts_of(f).unit_roundoff);
    for (std::size_t k = 0; k < value.size(); ++k)
        if (std::fabs(value[k]) + tol[k] >= limit) RC_DISCARD("an exact output is at or beyond the half format's range");
}

template <class T>
evaluated<T> evaluate(const subject& s, ce_ex_input<T> in, std::optional<half_format> half) {
    evaluated<T> e;
    e.out = call_ce<T>(s, in, half);
    e.ref = reference::cross_entropy_with_options(in);
    e.tol = tolerance_of<T>(arithmetic_of<T>(half), in, e.ref);
    if (half && !every_row_ignored_mean(e.ref, in.options)) {
        discard_if_it_may_overflow(e.ref.loss, e.tol.loss, *half);
        discard_if_it_may_overflow(lvector(e.ref.dlogits.data(), e.ref.dlogits.data() + e.ref.dlogits.size()),
                                   lvector(e.tol.dlogits.data(), e.tol.dlogits.data() + e.tol.dlogits.size()), *half);
    }
    e.in = std::move(in);
    return e;
}

// |a − b| within ta + tb, element by element: two outputs of the implementation that the
// mathematics says are equal, each allowed its own derived error.
template <class T>
void require_agree(property_context& ctx, const std::string& what, const lmatrix& a, const lmatrix& b, const lmatrix& ta,
                   const lmatrix& tb) {
    if (a.rows() != b.rows() || a.cols() != b.cols())
        GRADPROOF_FAIL(fmt::format("{}: shapes differ ({}×{} vs {}×{})", what, a.rows(), a.cols(), b.rows(), b.cols()));
    long double worst = -1;
    Eigen::Index wk = 0;
    for (Eigen::Index k = 0; k < a.size(); ++k) {
        const long double err = std::fabs(a.data()[k] - b.data()[k]);
        const long double bound = ta.data()[k] + tb.data()[k];
        const long double m = std::isnan(err) ? (std::isnan(a.data()[k]) && std::isnan(b.data()[k]) ? 0 : INFINITY)
                              : err == 0      ? 0
                              : bound > 0     ? err / bound
                                              : INFINITY;
        if (m > worst) {
            worst = m;
            wk = k;
        }
    }
    if (worst < 0) return;
    const Eigen::Index i = wk / std::max<Eigen::Index>(a.cols(), 1), j = wk % std::max<Eigen::Index>(a.cols(), 1);
    require_close_ld<T>(ctx, fmt::format("{}[{},{}]", what, i, j), a.data()[wk], b.data()[wk], ta.data()[wk] + tb.data()[wk]);
}

lmatrix scaled(const lmatrix& m, long double f) { return m * f; }

}  // namespace

// ---- against the reference -----------------------------------------------------------------

template <class T>
void cross_entropy_with_options_matches_the_reference(property_context& ctx, const subject& s) {
    check_ce_against_reference<T>(ctx, s, draw_ce_input<T>(ctx, ce_draw{}), std::nullopt);
}

template <class T>
void cross_entropy_with_options_matches_the_reference_in_bf16(property_context& ctx, const subject& s) {
    if constexpr (std::is_same_v<T, float>) {
        ce_draw d;
        d.half = half_format::bf16;
        check_ce_against_reference<T>(ctx, s, draw_ce_input<T>(ctx, d), d.half);
    }
}

template <class T>
void cross_entropy_with_options_matches_the_reference_in_f16(property_context& ctx, const subject& s) {
    if constexpr (std::is_same_v<T, float>) {
        ce_draw d;
        d.half = half_format::f16;
        check_ce_against_reference<T>(ctx, s, draw_ce_input<T>(ctx, d), d.half);
    }
}

template <class T>
void cross_entropy_with_options_stays_finite_and_accurate_under_extreme_logits(property_context& ctx, const subject& s) {
    ce_draw d;
    d.logits.hazards = gen::hazard_mode::extreme;
    d.half = draw_ce_storage<T>(ctx, s);
    check_ce_against_reference<T>(ctx, s, draw_ce_input<T>(ctx, d), d.half);
}

template <class T>
void cross_entropy_with_options_stays_accurate_at_vocabulary_widths(property_context& ctx, const subject& s) {
    ce_draw d;
    d.logits.shape.wide = true;
    d.logits.shape.wide_max_c = 256000;  // Gemma's vocabulary
    d.logits.shape.max_n = 2;
    d.choice.soft_targets = false;       // an n×256 000 target matrix adds nothing but time
    d.half = draw_ce_storage<T>(ctx, s);
    check_ce_against_reference<T>(ctx, s, draw_ce_input<T>(ctx, d), d.half);
}

namespace {

// Fused cases: H (n×d) and W (v×d) with small magnitudes (the logits of a trained LM head are
// O(10)), bias or none, labels with ignored rows, options as for cross-entropy but hard labels.
enum class fused_grid { general, exact_logits, exact_logits_in_half };

template <class T>
fused_ce_input<T> draw_fused_values(fused_grid grid) {
    const auto n = *rc::gen::inRange<Eigen::Index>(1, 9);
    const auto d = *rc::gen::inRange<Eigen::Index>(1, 33);
    const auto v = *rc::gen::weightedOneOf<Eigen::Index>({{4, rc::gen::inRange<Eigen::Index>(1, 200)},
                                                          {1, rc::gen::inRange<Eigen::Index>(257, 1200)}});
    // exact_logits: multiples of 1/8 in [−2, 2] with d ≤ 32 give H·Wᵀ + b exactly in f32 and f64
    // (multiples of 1/64 below 2^8); exact_logits_in_half: multiples of 1/2 in [−1, 1] give
    // multiples of 1/4 of magnitude ≤ 33, which need 8 significant bits, as bf16 has.
    const auto value = grid == fused_grid::exact_logits ? rc::gen::map(rc::gen::inRange(-16, 17), [](int k) { return static_cast<T>(k / 8.0); })
                       : grid == fused_grid::exact_logits_in_half
                           ? rc::gen::map(rc::gen::inRange(-2, 3), [](int k) { return static_cast<T>(k / 2.0); })
                           : rc::gen::map(rc::gen::inRange(-4096, 4097), [](int k) { return static_cast<T>(k / 1024.0); });
    fused_ce_input<T> in;
    in.hidden.resize(n, d);
    in.weight.resize(v, d);
    for (Eigen::Index k = 0; k < in.hidden.size(); ++k) in.hidden.data()[k] = *value;
    for (Eigen::Index k = 0; k < in.weight.size(); ++k) in.weight.data()[k] = *value;
    in.has_bias = *rc::gen::arbitrary<bool>();
    if (in.has_bias) in.bias = *rc::gen::container<std::vector<T>>(static_cast<std::size_t>(v), value);
    in.labels = *rc::gen::container<label_vector>(static_cast<std::size_t>(n), rc::gen::inRange<std::int32_t>(0, static_cast<std::int32_t>(v)));
    gen::ce_options_choice choice;
    choice.soft_targets = false;
    ce_options o = *gen::ce_options_gen(choice);
    if (o.has_ignore_index) {
        const auto ignored = *gen::ignored_rows(n);
        for (Eigen::Index i = 0; i < n; ++i)
            if (ignored[static_cast<std::size_t>(i)]) in.labels[static_cast<std::size_t>(i)] = o.ignore_index;
    }
    if (*rc::gen::inRange(0, 3) == 0) {
        in.class_weights = *gen::class_weights<T>(v);
        for (auto y : in.labels)
            if (!(o.has_ignore_index && y == o.ignore_index)) {
                if (in.class_weights[static_cast<std::size_t>(y)] == T(0)) in.class_weights[static_cast<std::size_t>(y)] = T(1);
                break;
            }
    }
    in.options = o;
    in.dloss = *gen::upstream<T>(o.reduce == reduction::none ? n : 1);
    return in;
}

// The call a fused property evaluates, shown and recorded as the main case: another fused
// property's counterexample pinned by the runner comes back whole (rounded to the format for the
// half forms), so one root cause found by several fused properties is one finding. exact_logits
// properties draw their own grid, which their claim needs.
template <class T>
fused_ce_input<T> draw_fused_input(property_context& ctx, std::optional<half_format> half, bool exact_logits = false) {
    const auto* pinned = exact_logits ? nullptr : ctx.pinned_as<fused_ce_input<T>>();
    const fused_grid grid = !exact_logits ? fused_grid::general : half ? fused_grid::exact_logits_in_half : fused_grid::exact_logits;
    fused_ce_input<T> in = pinned ? *pinned : draw_fused_values<T>(grid);
    if (half) {
        for (Eigen::Index k = 0; k < in.hidden.size(); ++k) in.hidden.data()[k] = to_format(*half, in.hidden.data()[k]);
        for (Eigen::Index k = 0; k < in.weight.size(); ++k) in.weight.data()[k] = to_format(*half, in.weight.data()[k]);
        for (auto& b : in.bias) b = to_format(*half, b);
        for (auto& w : in.class_weights) w = to_format(*half, w);
        for (auto& g : in.dloss) g = to_format(*half, g);
        ctx.set_storage_unit_roundoff(facts_of(*half).unit_roundoff);
    }
    ctx.show("hidden", in.hidden);
    ctx.show("weight", in.weight);
    if (in.has_bias) ctx.show("bias", in.bias);
    ctx.show("labels", in.labels);
    ctx.show("options", in.options);
    if (!in.class_weights.empty()) ctx.show("class_weights", in.class_weights);
    ctx.show("dloss", in.dloss);
    ctx.set_main_case(in);
    return in;
}

const char* fused_entry_name(std::optional<half_format> half) {
    if (!half) return "fused_linear_cross_entropy";
    return *half == half_format::bf16 ? "fused_linear_cross_entropy_bf16" : "fused_linear_cross_entropy_f16";
}

template <class T>
fused_ce_result<T> call_fused(const subject& s, const fused_ce_input<T>& in, std::optional<half_format> half) {
    const char* name = fused_entry_name(half);
    const auto& e = s.at<T>();
    const auto& f = !half                        ? e.fused_linear_cross_entropy
                    : *half == half_format::bf16 ? e.fused_linear_cross_entropy_bf16
                                                 : e.fused_linear_cross_entropy_f16;
    auto out = call_option_entry(name, [&] { return call_entry(name, [&] { return f(in); }); });
    const std::size_t expect = in.options.reduce == reduction::none ? static_cast<std::size_t>(in.n()) : 1;
    if (out.loss.size() != expect)
        GRADPROOF_FAIL(fmt::format("{}: loss has {} values, expected {}", name, out.loss.size(), expect));
    require_shape(std::string(name) + " dhidden", out.dhidden, in.n(), in.d());
    require_shape(std::string(name) + " dweight", out.dweight, in.v(), in.d());
    if (in.has_bias && out.dbias.size() != static_cast<std::size_t>(in.v()))
        GRADPROOF_FAIL(fmt::format("{}: dbias has {} values, expected {}", name, out.dbias.size(), in.v()));
    return out;
}

// Against the 128-bit point reference, or (certified) against the point of each certified MPFI
// enclosure nearest to the output; the tolerance is the same.
template <class T>
void check_fused_against_reference(property_context& ctx, const subject& s, std::optional<half_format> half,
                                   bool certified = false) {
    const auto in = draw_fused_input<T>(ctx, half);
    const auto out = call_fused<T>(s, in, half);
    const auto ref = reference::fused_linear_cross_entropy(in);
    const char* name = fused_entry_name(half);
    if (every_row_ignored_mean(ref.ce, in.options)) {
        require_empty_mean(name, out.loss, out.dhidden, "dhidden");
        require_empty_mean(name, out.loss, out.dweight, "dweight");
        return;
    }
    const auto tol = fused_linear_cross_entropy_tolerance(arithmetic_of<T>(half), widen(in.hidden), widen(in.weight),
                                                          widen_vector(in.bias), in.labels, in.options,
                                                          widen_vector(in.class_weights), widen_vector(in.dloss), ref);
    std::vector<long double> loss = ref.ce.loss, dbias = ref.dbias;
    lmatrix dhidden = ref.dhidden, dweight = ref.dweight;
    if (certified) {
        const auto cert = reference::certify_fused_linear_cross_entropy(in);
        for (std::size_t k = 0; k < loss.size(); ++k) loss[k] = reference::nearest_point(out.loss[k], cert.ce.loss[k]);
        for (std::size_t k = 0; k < dbias.size(); ++k) dbias[k] = reference::nearest_point(out.dbias[k], cert.dbias[k]);
        dhidden = reference::nearest_points(out.dhidden, cert.dhidden);
        dweight = reference::nearest_points(out.dweight, cert.dweight);
    }
    require_close<T>(ctx, "loss", as_row(out.loss), as_lrow(loss), as_lrow(tol.loss));
    require_close<T>(ctx, "dhidden", out.dhidden, dhidden, tol.dhidden);
    require_close<T>(ctx, "dweight", out.dweight, dweight, tol.dweight);
    if (in.has_bias) require_close<T>(ctx, "dbias", as_row(out.dbias), as_lrow(dbias), as_lrow(tol.dbias));
}

}  // namespace

template <class T>
void fused_linear_cross_entropy_matches_the_reference(property_context& ctx, const subject& s) {
    check_fused_against_reference<T>(ctx, s, std::nullopt);
}

template <class T>
void fused_linear_cross_entropy_lies_within_tolerance_of_the_certified_enclosure(property_context& ctx, const subject& s) {
    check_fused_against_reference<T>(ctx, s, std::nullopt, true);
}

template <class T>
void fused_linear_cross_entropy_matches_the_reference_in_bf16(property_context& ctx, const subject& s) {
    if constexpr (std::is_same_v<T, float>) check_fused_against_reference<T>(ctx, s, half_format::bf16);
}

template <class T>
void fused_linear_cross_entropy_matches_the_reference_in_f16(property_context& ctx, const subject& s) {
    if constexpr (std::is_same_v<T, float>) check_fused_against_reference<T>(ctx, s, half_format::f16);
}

// ---- identities of the options -------------------------------------------------------------

// PyTorch #69511's test: a batch with one more, ignored, row gives the same loss and the same
// gradient rows; the ignored row's gradient is exactly 0.
template <class T>
void an_ignored_sample_changes_nothing_else_and_gets_a_zero_gradient(property_context& ctx, const subject& s) {
    ce_draw d;
    d.hard_labels = true;
    d.ignore_some = true;
    d.half = draw_ce_storage<T>(ctx, s);
    const auto base = draw_ce_input<T>(ctx, d);
    ce_ex_input<T> more = base;
    const Eigen::Index n = base.n(), c = base.c();
    const auto extra = *rc::gen::container<std::vector<T>>(static_cast<std::size_t>(c), rc::gen::map(rc::gen::inRange(-8000, 8001), [&](int k) {
        return in_storage(d.half, static_cast<T>(k / 256.0));
    }));
    more.logits.conservativeResize(n + 1, c);
    for (Eigen::Index j = 0; j < c; ++j) more.logits(n, j) = extra[static_cast<std::size_t>(j)];
    more.labels.push_back(base.options.ignore_index);
    if (base.options.reduce == reduction::none) more.dloss.push_back(in_storage(d.half, (*gen::upstream<T>(1))[0]));
    ctx.show("ignored_row_logits", extra);
    if (base.options.reduce == reduction::none) ctx.show("ignored_row_dloss", more.dloss.back());

    const auto a = evaluate<T>(s, base, d.half);
    const auto b = evaluate<T>(s, more, d.half);
    for (Eigen::Index j = 0; j < c; ++j)
        if (b.out.dlogits(n, j) != T(0))
            GRADPROOF_FAIL(fmt::format("{}: the ignored row {} has dlogits[{},{}] = {} (must be 0)", ce_entry_name(d.half), n, n, j,
                                       static_cast<double>(b.out.dlogits(n, j))));
    if (every_row_ignored_mean(a.ref, base.options)) return;  // both 0/0: the contract property judges them
    const std::size_t k = a.out.loss.size();
    if (base.options.reduce == reduction::none && b.out.loss[k] != T(0))
        GRADPROOF_FAIL(fmt::format("{}: the ignored row's loss is {} (must be 0)", ce_entry_name(d.half),
                                   static_cast<double>(b.out.loss[k])));
    lvector bl(b.out.loss.begin(), b.out.loss.begin() + static_cast<std::ptrdiff_t>(k));
    lvector btl(b.tol.loss.begin(), b.tol.loss.begin() + static_cast<std::ptrdiff_t>(k));
    require_agree<T>(ctx, "loss with the ignored row vs without", as_lrow(bl), as_lrow(widen_vector(a.out.loss)), as_lrow(btl),
                     as_lrow(a.tol.loss));
    require_agree<T>(ctx, "dlogits with the ignored row vs without", widen(matrix<T>(b.out.dlogits.topRows(n))),
                     widen(a.out.dlogits), b.tol.dlogits.topRows(n), a.tol.dlogits);
}

template <class T>
void mean_is_the_sum_divided_by_the_weight_of_the_samples_not_ignored(property_context& ctx, const subject& s) {
    ce_draw d;
    d.choice.zloss = false;  // the z-loss term is divided by the row count, not the weight sum
    d.reduce = reduction::mean;
    d.half = draw_ce_storage<T>(ctx, s);
    auto mean_in = draw_ce_input<T>(ctx, d);
    mean_in.dloss = {T(1)};
    ce_ex_input<T> sum_in = mean_in;
    sum_in.options.reduce = reduction::sum;
    const auto m = evaluate<T>(s, mean_in, d.half);
    if (m.ref.all_ignored || m.ref.ce_divisor == 0) return;
    const auto sm = evaluate<T>(s, sum_in, d.half);
    const long double W = m.ref.ce_divisor;  // exact: a sum of weights in T, or n
    ctx.show("weight_of_rows_not_ignored", static_cast<double>(W));
    require_agree<T>(ctx, "mean·W vs sum", as_lrow({static_cast<long double>(m.out.loss[0]) * W}),
                     as_lrow({static_cast<long double>(sm.out.loss[0])}), as_lrow({m.tol.loss[0] * W}), as_lrow(sm.tol.loss));
    require_agree<T>(ctx, "dlogits(mean)·W vs dlogits(sum)", scaled(widen(m.out.dlogits), W), widen(sm.out.dlogits),
                     scaled(m.tol.dlogits, W), sm.tol.dlogits);
}

template <class T>
void reduction_none_summed_equals_reduction_sum(property_context& ctx, const subject& s) {
    ce_draw d;
    d.reduce = reduction::none;
    d.half = draw_ce_storage<T>(ctx, s);
    auto none_in = draw_ce_input<T>(ctx, d);
    ce_ex_input<T> sum_in = none_in;
    sum_in.options.reduce = reduction::sum;
    // One upstream value g for the sum equals g on every row for none.
    const T g = none_in.dloss[0];
    std::fill(none_in.dloss.begin(), none_in.dloss.end(), g);
    sum_in.dloss = {g};
    const auto a = evaluate<T>(s, none_in, d.half);
    const auto b = evaluate<T>(s, sum_in, d.half);
    long double total = 0, total_tol = 0;
    for (std::size_t i = 0; i < a.out.loss.size(); ++i) {
        total += a.out.loss[i];
        total_tol += a.tol.loss[i];
    }
    require_agree<T>(ctx, "Σ none vs sum", as_lrow({total}), as_lrow({static_cast<long double>(b.out.loss[0])}),
                     as_lrow({total_tol}), as_lrow(b.tol.loss));
    require_agree<T>(ctx, "dlogits(none) vs dlogits(sum)", widen(a.out.dlogits), widen(b.out.dlogits), a.tol.dlogits,
                     b.tol.dlogits);
}

template <class T>
void label_smoothing_is_the_convex_combination_of_hard_and_uniform_cross_entropy(property_context& ctx, const subject& s) {
    ce_draw d;
    d.half = draw_ce_storage<T>(ctx, s);
    const auto in = draw_ce_input<T>(ctx, d);
    const long double e = in.options.label_smoothing;
    auto with = [&](double eps) {
        ce_ex_input<T> x = in;
        x.options.label_smoothing = eps;
        return evaluate<T>(s, std::move(x), d.half);
    };
    const auto mid = with(in.options.label_smoothing), hard = with(0), uniform = with(1);
    if (every_row_ignored_mean(mid.ref, in.options)) return;
    // (1−ε)·a + ε·b, a term with coefficient 0 left out (an overflowed L(1) times 0 is not NaN).
    const auto comb = [&](const lmatrix& a, const lmatrix& b) -> lmatrix {
        if (e == 0) return a;
        if (e == 1) return b;
        return ((1 - e) * a + e * b).eval();
    };
    require_agree<T>(ctx, "L(ε) vs (1−ε)·L(0) + ε·L(1)", as_lrow(widen_vector(mid.out.loss)),
                     comb(as_lrow(widen_vector(hard.out.loss)), as_lrow(widen_vector(uniform.out.loss))), as_lrow(mid.tol.loss),
                     comb(as_lrow(hard.tol.loss), as_lrow(uniform.tol.loss)));
    require_agree<T>(ctx, "dlogits(ε) vs (1−ε)·dlogits(0) + ε·dlogits(1)", widen(mid.out.dlogits),
                     comb(widen(hard.out.dlogits), widen(uniform.out.dlogits)), mid.tol.dlogits,
                     comb(hard.tol.dlogits, uniform.tol.dlogits));
}

template <class T>
void equal_class_weights_leave_the_mean_unchanged(property_context& ctx, const subject& s) {
    ce_draw d;
    d.choice.weights = false;
    d.reduce = reduction::mean;
    d.hard_labels = true;  // a soft-target mean divides by N: equal weights w scale it by w
    d.half = draw_ce_storage<T>(ctx, s);
    const auto in = draw_ce_input<T>(ctx, d);
    const T w = static_cast<T>(std::ldexp(1.0, *rc::gen::inRange(-3, 4)));
    ctx.show("equal_weight", w);
    ce_ex_input<T> weighted = in;
    weighted.class_weights.assign(static_cast<std::size_t>(in.c()), w);
    const auto a = evaluate<T>(s, in, d.half);
    if (every_row_ignored_mean(a.ref, in.options)) return;
    const auto b = evaluate<T>(s, weighted, d.half);
    require_agree<T>(ctx, "mean loss with equal weights vs without", as_lrow(widen_vector(b.out.loss)),
                     as_lrow(widen_vector(a.out.loss)), as_lrow(b.tol.loss), as_lrow(a.tol.loss));
    require_agree<T>(ctx, "dlogits with equal weights vs without", widen(b.out.dlogits), widen(a.out.dlogits), b.tol.dlogits,
                     a.tol.dlogits);
}

template <class T>
void scaling_every_class_weight_leaves_the_mean_unchanged(property_context& ctx, const subject& s) {
    ce_draw d;
    d.reduce = reduction::mean;
    d.hard_labels = true;  // soft targets divide by n, not the weight sum: scaling changes their mean
    d.half = draw_ce_storage<T>(ctx, s);
    auto in = draw_ce_input<T>(ctx, d);
    if (in.class_weights.empty()) {
        in.class_weights = *gen::class_weights<T>(in.c());
        for (auto& w : in.class_weights) w = in_storage(d.half, w);
        in.class_weights[static_cast<std::size_t>(in.labels[0] < 0 || in.labels[0] >= in.c() ? 0 : in.labels[0])] = T(1);
        ctx.show("class_weights", in.class_weights);
    }
    const int k = *rc::gen::inRange(-4, 5);
    ctx.show("scale", std::ldexp(1.0, k));
    ce_ex_input<T> scaled_in = in;
    for (auto& w : scaled_in.class_weights) {
        w = static_cast<T>(std::ldexp(static_cast<double>(w), k));  // exact in T
        // In f16 a weight scaled past 65504 or into the subnormals is no longer the same weight
        // scaled: the claim is about exact scaling.
        if (in_storage(d.half, w) != w) RC_DISCARD("a scaled class weight is not exact in the storage format");
    }
    const auto a = evaluate<T>(s, in, d.half);
    if (every_row_ignored_mean(a.ref, in.options) || a.ref.ce_divisor == 0) return;
    const auto b = evaluate<T>(s, scaled_in, d.half);
    require_agree<T>(ctx, "mean loss with scaled weights vs with the weights", as_lrow(widen_vector(b.out.loss)),
                     as_lrow(widen_vector(a.out.loss)), as_lrow(b.tol.loss), as_lrow(a.tol.loss));
    require_agree<T>(ctx, "dlogits with scaled weights vs with the weights", widen(b.out.dlogits), widen(a.out.dlogits),
                     b.tol.dlogits, a.tol.dlogits);
}

template <class T>
void z_loss_adds_two_s_lse_p_to_the_gradient(property_context& ctx, const subject& s) {
    ce_draw d;
    d.choice.softcap = false;  // with a cap the difference carries the cap's derivative as well
    d.half = draw_ce_storage<T>(ctx, s);
    auto in = draw_ce_input<T>(ctx, d);
    const double scale = std::ldexp(1.0, *rc::gen::inRange(-13, 1));
    ctx.show("lse_square_scale_compared", scale);
    ce_ex_input<T> off = in, on = in;
    off.options.lse_square_scale = 0;
    on.options.lse_square_scale = scale;
    const auto a = evaluate<T>(s, off, d.half);
    const auto b = evaluate<T>(s, on, d.half);
    if (every_row_ignored_mean(a.ref, in.options)) return;
    // Expected difference: dloss_i · 2·s·lse_i·p_ij / K for rows counted (K = 1 unless mean).
    const Eigen::Index n = in.n(), c = in.c();
    long double K = 0;
    for (Eigen::Index i = 0; i < n; ++i) K += is_ignored(in, i) ? 0 : 1;
    const long double div = in.options.reduce == reduction::mean ? K : 1;
    lmatrix expected(n, c);
    for (Eigen::Index i = 0; i < n; ++i) {
        const long double g = in.dloss[in.options.reduce == reduction::none ? static_cast<std::size_t>(i) : 0];
        for (Eigen::Index j = 0; j < c; ++j)
            expected(i, j) = is_ignored(in, i) ? 0 : g * 2 * scale * b.ref.lse[static_cast<std::size_t>(i)] * b.ref.probs(i, j) / div;
    }
    const lmatrix diff = widen(b.out.dlogits) - widen(a.out.dlogits);
    require_agree<T>(ctx, "dlogits(s) − dlogits(0) vs 2·s·lse·p", diff, expected, (b.tol.dlogits + a.tol.dlogits).eval(),
                     lmatrix::Zero(n, c));
}

// With cap > 0 the gradient at logits x is the uncapped gradient at z = cap·tanh(x/cap) times
// 1 − tanh²(x/cap). The implementation's uncapped gradient is evaluated at z rounded to T; the
// rounding moves it by at most a_i·(p_j|Δz_j| + p_j·Σ_k p_k|Δz_k|) ≤ 2·a_i·p_j·max|Δz| (the
// Hessian of a_i·lse is a_i·(diag p − ppᵀ)), a_i the row's total weight (1−ε)·w[y] + ε/C·Σw,
// times the upstream value and divided by the mean's divisor.
template <class T>
void soft_capping_multiplies_the_gradient_by_the_derivative_of_the_cap(property_context& ctx, const subject& s) {
    ce_draw d;
    d.choice.zloss = false;  // the z-loss Hessian is not bounded by the row weight
    d.hard_labels = true;
    d.half = draw_ce_storage<T>(ctx, s);
    auto in = draw_ce_input<T>(ctx, d);
    if (in.options.softcap == 0) {
        in.options.softcap = 30;
        ctx.show("softcap_used", 30.0);
    }
    const long double cap = in.options.softcap;
    ce_ex_input<T> plain = in;
    plain.options.softcap = 0;
    const Eigen::Index n = in.n(), c = in.c();
    lmatrix factor(n, c);
    std::vector<long double> max_dz(static_cast<std::size_t>(n), 0);
    for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index j = 0; j < c; ++j) {
            const long double q = static_cast<long double>(in.logits(i, j)) / cap, t = std::tanh(q);
            const long double sech = 1 / std::cosh(q);  // 1 − t² cancels to 0 once |t| rounds to 1
            factor(i, j) = sech * sech;
            plain.logits(i, j) = in_storage(d.half, static_cast<T>(cap * t));
            max_dz[static_cast<std::size_t>(i)] =
                std::max(max_dz[static_cast<std::size_t>(i)], std::fabs(cap * t - static_cast<long double>(plain.logits(i, j))) +
                                                                  2 * std::ldexp(1.0L, -63) * std::fabs(cap * t));
        }
    const auto capped = evaluate<T>(s, in, d.half);
    if (every_row_ignored_mean(capped.ref, in.options)) return;
    const auto uncapped = evaluate<T>(s, plain, d.half);
    const long double eps = in.options.label_smoothing;
    long double wsum = 0;
    for (Eigen::Index j = 0; j < c; ++j) wsum += in.class_weights.empty() ? 1 : in.class_weights[static_cast<std::size_t>(j)];
    const long double div = in.options.reduce == reduction::mean ? capped.ref.ce_divisor : 1;
    lmatrix expected(n, c), bound(n, c);
    for (Eigen::Index i = 0; i < n; ++i) {
        const auto y = in.labels[static_cast<std::size_t>(i)];
        const long double wy = is_ignored(in, i) ? 0 : in.class_weights.empty() ? 1 : in.class_weights[static_cast<std::size_t>(y)];
        const long double a = is_ignored(in, i) ? 0 : (1 - eps) * wy + eps / static_cast<long double>(c) * wsum;
        const long double g = std::fabs(static_cast<long double>(in.dloss[in.options.reduce == reduction::none ? static_cast<std::size_t>(i) : 0]));
        for (Eigen::Index j = 0; j < c; ++j) {
            expected(i, j) = static_cast<long double>(uncapped.out.dlogits(i, j)) * factor(i, j);
            bound(i, j) = factor(i, j) * (uncapped.tol.dlogits(i, j) +
                                          2 * a * uncapped.ref.probs(i, j) * max_dz[static_cast<std::size_t>(i)] * g / div) +
                          std::ldexp(1.0L, -62) * std::fabs(expected(i, j));
        }
    }
    require_agree<T>(ctx, "capped dlogits vs uncapped dlogits at the capped logits × (1 − tanh²)", widen(capped.out.dlogits),
                     expected, capped.tol.dlogits, bound);
}

template <class T>
void fused_linear_cross_entropy_equals_cross_entropy_of_the_projected_logits(property_context& ctx, const subject& s) {
    const auto half = draw_storage<T>(ctx, s, {entry_point::fused_linear_cross_entropy_bf16, entry_point::cross_entropy_ex_bf16},
                                      {entry_point::fused_linear_cross_entropy_f16, entry_point::cross_entropy_ex_f16});
    const auto in = draw_fused_input<T>(ctx, half, true);
    const auto out = call_fused<T>(s, in, half);
    // The logits are exact in the storage format (the grids of draw_fused_values): the plain
    // entry point sees exactly the logits the fused one forms.
    ce_ex_input<T> plain;
    plain.logits = (in.hidden * in.weight.transpose()).eval();
    if (in.has_bias)
        for (Eigen::Index i = 0; i < plain.logits.rows(); ++i)
            for (Eigen::Index j = 0; j < plain.logits.cols(); ++j) plain.logits(i, j) += in.bias[static_cast<std::size_t>(j)];
    plain.labels = in.labels;
    plain.options = in.options;
    plain.class_weights = in.class_weights;
    plain.dloss = in.dloss;
    const auto pe = evaluate<T>(s, plain, half);
    const auto ref = reference::fused_linear_cross_entropy(in);
    if (every_row_ignored_mean(ref.ce, in.options)) return;
    const auto tol = fused_linear_cross_entropy_tolerance(arithmetic_of<T>(half), widen(in.hidden), widen(in.weight),
                                                          widen_vector(in.bias), in.labels, in.options,
                                                          widen_vector(in.class_weights), widen_vector(in.dloss), ref);
    require_agree<T>(ctx, "fused loss vs cross_entropy_ex of H·Wᵀ + b", as_lrow(widen_vector(out.loss)),
                     as_lrow(widen_vector(pe.out.loss)), as_lrow(tol.loss), as_lrow(pe.tol.loss));
    // dH = dlogits·W from the plain entry point's dlogits, formed exactly in long double (the
    // products of T values are exact there and the sums of d ≤ 32 terms round by ≤ γ_v relative).
    const lmatrix W = widen(in.weight), dz = widen(pe.out.dlogits);
    const lmatrix dH = dz * W, dHtol = (pe.tol.dlogits * W.cwiseAbs()).eval();
    require_agree<T>(ctx, "fused dhidden vs dlogits·W", widen(out.dhidden), dH, tol.dhidden,
                     (dHtol + scaled((dz.cwiseAbs() * W.cwiseAbs()).eval(), static_cast<long double>(in.v()) * std::ldexp(1.0L, -63)))
                         .eval());
}

// ---- contract ------------------------------------------------------------------------------

template <class T>
void a_batch_with_every_row_ignored_is_handled_per_contract(property_context& ctx, const subject& s) {
    ce_draw d;
    d.hard_labels = true;
    d.half = draw_ce_storage<T>(ctx, s);
    auto in = draw_ce_input<T>(ctx, d);
    in.options.has_ignore_index = true;
    for (auto& y : in.labels) y = in.options.ignore_index;
    ctx.show("options_used", in.options);
    ctx.show("labels_used", in.labels);
    const auto out = call_ce<T>(s, in, d.half);
    const char* name = ce_entry_name(d.half);
    if (in.options.reduce == reduction::mean) return require_empty_mean(name, out.loss, out.dlogits, "dlogits");
    for (std::size_t k = 0; k < out.loss.size(); ++k)
        if (out.loss[k] != T(0))
            GRADPROOF_FAIL(fmt::format("{}: every row is ignored; reduction {} must give loss 0, got loss[{}] = {}", name,
                                       to_string(in.options.reduce), k, static_cast<double>(out.loss[k])));
    for (Eigen::Index k = 0; k < out.dlogits.size(); ++k)
        if (out.dlogits.data()[k] != T(0))
            GRADPROOF_FAIL(fmt::format("{}: every row is ignored, yet dlogits element {} is {} (must be 0)", name, k,
                                       static_cast<double>(out.dlogits.data()[k])));
}

#define GRADPROOF_INSTANTIATE(T)                                                                                         \
    template void cross_entropy_with_options_matches_the_reference<T>(property_context&, const subject&);                \
    template void cross_entropy_with_options_matches_the_reference_in_bf16<T>(property_context&, const subject&);        \
    template void cross_entropy_with_options_matches_the_reference_in_f16<T>(property_context&, const subject&);         \
    template void cross_entropy_with_options_stays_finite_and_accurate_under_extreme_logits<T>(property_context&,        \
                                                                                               const subject&);          \
    template void cross_entropy_with_options_stays_accurate_at_vocabulary_widths<T>(property_context&, const subject&);  \
    template void fused_linear_cross_entropy_matches_the_reference<T>(property_context&, const subject&);                \
    template void fused_linear_cross_entropy_matches_the_reference_in_bf16<T>(property_context&, const subject&);        \
    template void fused_linear_cross_entropy_matches_the_reference_in_f16<T>(property_context&, const subject&);         \
    template void fused_linear_cross_entropy_lies_within_tolerance_of_the_certified_enclosure<T>(property_context&,      \
                                                                                                const subject&);       \
    template void an_ignored_sample_changes_nothing_else_and_gets_a_zero_gradient<T>(property_context&, const subject&); \
    template void mean_is_the_sum_divided_by_the_weight_of_the_samples_not_ignored<T>(property_context&, const subject&); \
    template void reduction_none_summed_equals_reduction_sum<T>(property_context&, const subject&);                      \
    template void label_smoothing_is_the_convex_combination_of_hard_and_uniform_cross_entropy<T>(property_context&,      \
                                                                                                 const subject&);        \
    template void equal_class_weights_leave_the_mean_unchanged<T>(property_context&, const subject&);                    \
    template void scaling_every_class_weight_leaves_the_mean_unchanged<T>(property_context&, const subject&);            \
    template void z_loss_adds_two_s_lse_p_to_the_gradient<T>(property_context&, const subject&);                         \
    template void soft_capping_multiplies_the_gradient_by_the_derivative_of_the_cap<T>(property_context&, const subject&); \
    template void fused_linear_cross_entropy_equals_cross_entropy_of_the_projected_logits<T>(property_context&,          \
                                                                                            const subject&);             \
    template void a_batch_with_every_row_ignored_is_handled_per_contract<T>(property_context&, const subject&);
GRADPROOF_INSTANTIATE(float)
GRADPROOF_INSTANTIATE(double)
#undef GRADPROOF_INSTANTIATE

}  // namespace gradproof::properties
