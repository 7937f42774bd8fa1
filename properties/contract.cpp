#include "properties/contract.hpp"

#include "gen/generators.hpp"
#include "gen/show.hpp"
#include "properties/checks.hpp"

#include <fmt/format.h>

#include <ostream>
#include <tuple>

namespace gradproof::properties {

using reference::lmatrix;

namespace {
// Runs f and reports whether it declined the input (non-zero return or invalid_argument).
template <class F>
bool declined(F&& f) {
    try {
        f();
    } catch (const rejected_input&) {
        return true;
    } catch (const std::invalid_argument&) {
        return true;
    }
    return false;
}
}  // namespace

template <class T>
void labels_outside_the_class_range_are_rejected(property_context& ctx, const subject& s) {
    const auto& e = s.at<T>();
    if (!e.cross_entropy && !e.softmax_loss) RC_DISCARD("no entry point takes labels");
    gen::loss_options opt;
    opt.shape.max_work = 2000;
    auto c = ctx.loss<T>(opt);
    const auto C = static_cast<std::int32_t>(c.W.cols());
    const auto i = ctx.draw("index", rc::gen::inRange<std::size_t>(0, c.y.size()));
    const std::int32_t bad = ctx.draw("label", rc::gen::element(C, C + 1, -1, -100, std::numeric_limits<std::int32_t>::min()));
    c.y[i] = bad;
    ctx.show("y passed", c.y);
    if (e.softmax_loss && !declined([&] { (void)e.softmax_loss(c.W, c.X, c.y, c.reg); }))
        GRADPROOF_FAIL_AS(failure_kind::contract, fmt::format("softmax_loss accepted label {} at index {} with C = {}", bad, i, C));
    if (e.cross_entropy) {
        const matrix<T> z = (c.X * c.W).eval();
        if (!declined([&] { (void)e.cross_entropy(z, c.y); }))
            GRADPROOF_FAIL_AS(failure_kind::contract, fmt::format("cross_entropy accepted label {} at index {} with C = {}", bad, i, C));
    }
}

template <class T>
void a_class_count_of_zero_is_rejected(property_context& ctx, const subject& s) {
    const auto& e = s.at<T>();
    const Eigen::Index n = ctx.draw("N", rc::gen::inRange<Eigen::Index>(1, 5));
    const matrix<T> z(n, 0);
    const label_vector y(static_cast<std::size_t>(n), 0);
    auto must_decline = [&](const char* name, auto&& f) {
        if (!declined(f)) GRADPROOF_FAIL_AS(failure_kind::contract, fmt::format("{} accepted C = 0 (N = {})", name, n));
    };
    bool any = false;
    if (e.softmax) { any = true; must_decline("softmax", [&] { (void)e.softmax(z); }); }
    if (e.log_softmax) { any = true; must_decline("log_softmax", [&] { (void)e.log_softmax(z); }); }
    if (e.softmax_backward) { any = true; must_decline("softmax_backward", [&] { (void)e.softmax_backward(z, z); }); }
    if (e.log_softmax_backward) { any = true; must_decline("log_softmax_backward", [&] { (void)e.log_softmax_backward(z, z); }); }
    if (e.cross_entropy) { any = true; must_decline("cross_entropy", [&] { (void)e.cross_entropy(z, y); }); }
    if (e.softmax_loss) {
        any = true;
        const matrix<T> W(3, 0), X = matrix<T>::Ones(n, 3);
        must_decline("softmax_loss", [&] { (void)e.softmax_loss(W, X, y, T(0)); });
    }
    if (!any) RC_DISCARD("no entry points");
}

// n = 0: the row-wise functions succeed and return nothing; cross_entropy and softmax_loss,
// whose mean over an empty batch is undefined, reject it.
template <class T>
void an_empty_batch_is_handled_per_contract(property_context& ctx, const subject& s) {
    const auto& e = s.at<T>();
    const Eigen::Index c = ctx.draw("C", rc::gen::inRange<Eigen::Index>(1, 9));
    const matrix<T> z(0, c);
    auto must_accept = [&](const char* name, auto&& f) {
        try {
            const auto out = f();
            if (out.rows() != 0 || out.cols() != c)
                GRADPROOF_FAIL_AS(failure_kind::contract, fmt::format("{} on an empty batch returned {}×{}", name, out.rows(), out.cols()));
        } catch (const property_failure&) {
            throw;
        } catch (const std::exception& ex) {
            GRADPROOF_FAIL_AS(failure_kind::contract, fmt::format("{} rejected an empty batch (N = 0, C = {}): {}", name, c, ex.what()));
        }
    };
    bool any = false;
    if (e.softmax) { any = true; must_accept("softmax", [&] { return e.softmax(z); }); }
    if (e.log_softmax) { any = true; must_accept("log_softmax", [&] { return e.log_softmax(z); }); }
    if (e.softmax_backward) { any = true; must_accept("softmax_backward", [&] { return e.softmax_backward(z, z); }); }
    if (e.log_softmax_backward) { any = true; must_accept("log_softmax_backward", [&] { return e.log_softmax_backward(z, z); }); }
    if (e.cross_entropy) {
        any = true;
        if (!declined([&] { (void)e.cross_entropy(z, label_vector{}); }))
            GRADPROOF_FAIL_AS(failure_kind::contract, fmt::format("cross_entropy accepted an empty batch (C = {})", c));
    }
    if (e.softmax_loss) {
        any = true;
        const matrix<T> W = matrix<T>::Zero(2, c), X(0, 2);
        if (!declined([&] { (void)e.softmax_loss(W, X, label_vector{}, T(0)); }))
            GRADPROOF_FAIL_AS(failure_kind::contract, fmt::format("softmax_loss accepted an empty batch (C = {})", c));
    }
    if (!any) RC_DISCARD("no entry points");
}

// The non-finite value written into a drawn logits matrix; shown after the logits in
// counterexamples (RapidCheck finds showValue by argument-dependent lookup).
namespace {
struct poisoned_entry {
    Eigen::Index row = 0, col = 0;
    bool nan = true;  // otherwise +inf
};

void showValue(const poisoned_entry& p, std::ostream& os) {
    os << "logits[" << p.row << ", " << p.col << "] = " << (p.nan ? "nan" : "inf");
}
}  // namespace

// A NaN or +inf in one row: the call is rejected, or that row's outputs are NaN and every
// other row is still correct.
template <class T>
void nan_or_inf_in_a_row_stays_in_that_row(property_context& ctx, const subject& s) {
    const auto& e = s.at<T>();
    if (!e.softmax && !e.log_softmax) RC_DISCARD("needs softmax or log_softmax");
    gen::logits_options opt;
    opt.allow_masked = false;
    auto c = ctx.unlabelled_logits<T>(opt);
    if (c.z.rows() < 2) RC_DISCARD("needs two rows");
    const auto poison = ctx.draw("poisoned", rc::gen::map(
        rc::gen::tuple(rc::gen::inRange<Eigen::Index>(0, c.z.rows()), rc::gen::inRange<Eigen::Index>(0, c.z.cols()),
                       rc::gen::arbitrary<bool>()),
        [](const std::tuple<Eigen::Index, Eigen::Index, bool>& t) {
            return poisoned_entry{std::get<0>(t), std::get<1>(t), !std::get<2>(t)};
        }));
    const Eigen::Index bad_row = poison.row, bad_col = poison.col;
    c.z(bad_row, bad_col) = poison.nan ? std::numeric_limits<T>::quiet_NaN() : std::numeric_limits<T>::infinity();
    const lmatrix z = widen(c.z);
    const lmatrix p_ref = reference::softmax(z), o_ref = reference::log_softmax(z);
    const auto tol = softmax_tolerance<T>(z, p_ref);
    auto check = [&](const char* name, const auto& f, const lmatrix& ref, const lmatrix& t) {
        matrix<T> out;
        try {
            out = f(c.z);
        } catch (const rejected_input&) {
            return;  // rejecting the whole call is allowed
        } catch (const std::invalid_argument&) {
            return;
        }
        require_shape(name, out, c.z.rows(), c.z.cols());
        for (Eigen::Index j = 0; j < out.cols(); ++j)
            if (!std::isnan(out(bad_row, j))) {
                std::string row;
                for (Eigen::Index k = 0; k < c.z.cols() && k < 8; ++k)
                    row += (k ? ", " : "") + format_exact<T>(c.z(bad_row, k));
                GRADPROOF_FAIL_AS(failure_kind::contract, fmt::format("{}[{},{}] = {} although row {} = [{}{}] holds {} at column {}", name, bad_row, j,
                                           format_exact<T>(out(bad_row, j)), bad_row, row, c.z.cols() > 8 ? ", …" : "",
                                           format_exact<T>(c.z(bad_row, bad_col)), bad_col));
            }
        require_close<T>(ctx, std::string(name) + " (other rows)", out, ref, t);
    };
    if (e.softmax) check("probs", e.softmax, p_ref, tol.probs);
    if (e.log_softmax) check("log_probs", e.log_softmax, o_ref, tol.log_probs);
}

#define GRADPROOF_INSTANTIATE(T)                                                  \
    template void labels_outside_the_class_range_are_rejected<T>(property_context&, const subject&); \
    template void a_class_count_of_zero_is_rejected<T>(property_context&, const subject&);           \
    template void an_empty_batch_is_handled_per_contract<T>(property_context&, const subject&);      \
    template void nan_or_inf_in_a_row_stays_in_that_row<T>(property_context&, const subject&);
GRADPROOF_INSTANTIATE(float)
GRADPROOF_INSTANTIATE(double)
#undef GRADPROOF_INSTANTIATE

}  // namespace gradproof::properties
