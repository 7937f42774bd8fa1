#include "properties/context.hpp"

#include "gen/show.hpp"

#include <cmath>
#include <sstream>

namespace gradproof {

const char* to_string(failure_kind k) {
    switch (k) {
        case failure_kind::numerical: return "numerical";
        case failure_kind::rejection: return "rejection";
        case failure_kind::crash: return "crash";
        case failure_kind::contract: return "contract";
    }
    return "?";
}

namespace {
template <class T>
std::function<std::string()> matrix_text(const char* name, const matrix<T>& m) {
    return [name = std::string(name), m] {
        std::ostringstream os;
        print_matrix(os, name.c_str(), m);
        return os.str();
    };
}
}  // namespace

void property_context::show(const char* name, const matrix<float>& m) { shown_.push_back({name, matrix_text(name, m), true}); }
void property_context::show(const char* name, const matrix<double>& m) { shown_.push_back({name, matrix_text(name, m), true}); }

template <class C>
void property_context::record_main(const C& c) {
    if (!main_case_.has_value()) main_case_ = c;
    shown_.push_back({"case", [c] { return rc::toString(c); }, true});
}

namespace {

// X·W in T when every element is exact (formed in long double and unchanged by rounding to T).
template <class T>
bool exact_logits(const loss_case<T>& c, matrix<T>& z) {
    const auto zl = (c.X.template cast<long double>() * c.W.template cast<long double>()).eval();
    z.resize(zl.rows(), zl.cols());
    for (Eigen::Index k = 0; k < zl.size(); ++k) {
        z.data()[k] = static_cast<T>(zl.data()[k]);
        if (!std::isfinite(zl.data()[k]) || static_cast<long double>(z.data()[k]) != zl.data()[k]) return false;
    }
    return true;
}

}  // namespace

template <class T>
bool property_context::take_pinned_logits(logits_case<T>& out, bool with_upstream, bool labelled) {
    if (main_case_.has_value() || !pinned_.has_value()) return false;
    if (const auto* l = std::any_cast<logits_case<T>>(&pinned_.value)) {
        if (with_upstream && l->g.size() != l->z.size()) return false;
        if (labelled && l->y.size() != static_cast<std::size_t>(l->z.rows())) return false;
        out = *l;
    } else if (const auto* c = std::any_cast<loss_case<T>>(&pinned_.value)) {
        if (with_upstream || !exact_logits(*c, out.z)) return false;
        out.y = c->y;
        out.g.resize(0, 0);
    } else {
        return false;
    }
    pin_used_ = true;
    return true;
}

template <class T>
loss_case<T> property_context::loss(const gen::loss_options& opt, const std::function<void(loss_case<T>&)>& adjust) {
    loss_case<T> c;
    bool pinned = false;
    if (!main_case_.has_value() && pinned_.has_value()) {
        if (const auto* l = std::any_cast<loss_case<T>>(&pinned_.value)) {
            c = *l;
            pinned = true;
        } else if (const auto* z = std::any_cast<logits_case<T>>(&pinned_.value);
                   z && z->y.size() == static_cast<std::size_t>(z->z.rows()) && z->z.allFinite()) {
            // Logits as a loss case: X = I, W = z, reg = 0 (S = X·W = z exactly).
            c.W = z->z;
            c.X = matrix<T>::Identity(z->z.rows(), z->z.rows());
            c.y = z->y;
            c.reg = T(0);
            pinned = true;
        }
        pin_used_ = pin_used_ || pinned;
    }
    if (!pinned) {
        gen::loss_options o = opt;
        if (domain_.kind == domain_kind::extreme && o.hazards == gen::hazard_mode::mixed) o.hazards = gen::hazard_mode::extreme;
        if (domain_.kind == domain_kind::ordinary) {
            input_domain d = domain_;
            d.max_abs_logit *= opt.ordinary_headroom;
            c = *rc::gen::map(gen::loss<T>(o), [d](loss_case<T> x) { return into_ordinary(std::move(x), d); });
        } else {
            c = *gen::loss<T>(o);
        }
    }
    if (adjust) adjust(c);
    record_main(c);
    return c;
}

template <class T>
logits_case<T> property_context::logits(const gen::logits_options& opt) {
    logits_case<T> c;
    if (!take_pinned_logits(c, opt.with_upstream, true)) {
        gen::logits_options o = opt;
        if (domain_.kind == domain_kind::extreme && o.hazards == gen::hazard_mode::mixed) o.hazards = gen::hazard_mode::extreme;
        if (domain_.kind == domain_kind::ordinary) {
            input_domain d = domain_;
            d.max_abs_logit *= opt.ordinary_headroom;
            c = *rc::gen::map(gen::logits<T>(o), [d](logits_case<T> x) { return into_ordinary(std::move(x), d); });
        } else {
            c = *gen::logits<T>(o);
        }
    }
    record_main(c);
    return c;
}

template <class T>
logits_case<T> property_context::unlabelled_logits(const gen::logits_options& opt) {
    logits_case<T> c;
    if (take_pinned_logits(c, opt.with_upstream, false)) {
        c.y.clear();
    } else {
        gen::logits_options o = opt;
        if (domain_.kind == domain_kind::extreme && o.hazards == gen::hazard_mode::mixed) o.hazards = gen::hazard_mode::extreme;
        if (domain_.kind == domain_kind::ordinary) {
            input_domain d = domain_;
            d.max_abs_logit *= opt.ordinary_headroom;
            c = *rc::gen::map(gen::unlabelled_logits<T>(o), [d](logits_case<T> x) { return into_ordinary(std::move(x), d); });
        } else {
            c = *gen::unlabelled_logits<T>(o);
        }
    }
    record_main(c);
    return c;
}

#define GRADPROOF_INSTANTIATE(T)                                                                                         \
    template loss_case<T> property_context::loss<T>(const gen::loss_options&, const std::function<void(loss_case<T>&)>&); \
    template logits_case<T> property_context::logits<T>(const gen::logits_options&);                                     \
    template logits_case<T> property_context::unlabelled_logits<T>(const gen::logits_options&);
GRADPROOF_INSTANTIATE(float)
GRADPROOF_INSTANTIATE(double)
#undef GRADPROOF_INSTANTIATE

}  // namespace gradproof
