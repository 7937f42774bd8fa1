// The built-in implementations as subjects, and the adapter that turns any struct of templated
// static entry points (naive, vectorized, seed_vectorized, the mutation variants) into one.
#pragma once

#include "core/half.hpp"
#include "core/subject.hpp"

#include <type_traits>
#include <vector>

namespace gradproof {

namespace detail {
template <class Impl, class T>
entry_points<T> bind_entry_points() {
    entry_points<T> e;
    if constexpr (requires(const matrix<T>& z) { Impl::template softmax<T>(z); })
        e.softmax = [](const matrix<T>& z) { return Impl::template softmax<T>(z); };
    if constexpr (requires(const matrix<T>& z) { Impl::template log_softmax<T>(z); })
        e.log_softmax = [](const matrix<T>& z) { return Impl::template log_softmax<T>(z); };
    if constexpr (requires(const matrix<T>& p) { Impl::template softmax_backward<T>(p, p); })
        e.softmax_backward = [](const matrix<T>& p, const matrix<T>& g) { return Impl::template softmax_backward<T>(p, g); };
    if constexpr (requires(const matrix<T>& p) { Impl::template log_softmax_backward<T>(p, p); })
        e.log_softmax_backward = [](const matrix<T>& o, const matrix<T>& g) {
            return Impl::template log_softmax_backward<T>(o, g);
        };
    if constexpr (requires(const matrix<T>& z, const label_vector& y) { Impl::template cross_entropy<T>(z, y); })
        e.cross_entropy = [](const matrix<T>& z, const label_vector& y) { return Impl::template cross_entropy<T>(z, y); };
    if constexpr (requires(const matrix<T>& w, const label_vector& y) { Impl::template softmax_loss<T>(w, w, y, T(0)); })
        e.softmax_loss = [](const matrix<T>& W, const matrix<T>& X, const label_vector& y, T reg) {
            return Impl::template softmax_loss<T>(W, X, y, reg);
        };
    // ABI version 2: cross-entropy with options and fused linear cross-entropy; the bf16/f16 forms
    // (float only) from static cross_entropy_ex_half / fused_linear_cross_entropy_half(half_format, …).
    if constexpr (requires(const ce_ex_input<T>& in) { Impl::template cross_entropy_ex<T>(in); })
        e.cross_entropy_ex = [](const ce_ex_input<T>& in) { return Impl::template cross_entropy_ex<T>(in); };
    if constexpr (requires(const fused_ce_input<T>& in) { Impl::template fused_linear_cross_entropy<T>(in); })
        e.fused_linear_cross_entropy = [](const fused_ce_input<T>& in) {
            return Impl::template fused_linear_cross_entropy<T>(in);
        };
    if constexpr (std::is_same_v<T, float>) {
        if constexpr (requires(const ce_ex_input<float>& in) { Impl::cross_entropy_ex_half(half_format::bf16, in); }) {
            e.cross_entropy_ex_bf16 = [](const ce_ex_input<float>& in) { return Impl::cross_entropy_ex_half(half_format::bf16, in); };
            e.cross_entropy_ex_f16 = [](const ce_ex_input<float>& in) { return Impl::cross_entropy_ex_half(half_format::f16, in); };
        }
        if constexpr (requires(const fused_ce_input<float>& in) {
                          Impl::fused_linear_cross_entropy_half(half_format::bf16, in);
                      }) {
            e.fused_linear_cross_entropy_bf16 = [](const fused_ce_input<float>& in) {
                return Impl::fused_linear_cross_entropy_half(half_format::bf16, in);
            };
            e.fused_linear_cross_entropy_f16 = [](const fused_ce_input<float>& in) {
                return Impl::fused_linear_cross_entropy_half(half_format::f16, in);
            };
        }
    }
    return e;
}
}  // namespace detail

// Builds a subject from a struct with templated static entry points; the mp_real instantiation
// of softmax_loss is bound as white-box access when it compiles.
template <class Impl>
subject make_subject(std::string name, std::string description, bool known_flawed = false) {
    subject s;
    s.name = std::move(name);
    s.description = std::move(description);
    s.known_flawed = known_flawed;
    s.f32 = detail::bind_entry_points<Impl, float>();
    s.f64 = detail::bind_entry_points<Impl, double>();
    if constexpr (requires(const matrix<mp_real>& w, const label_vector& y) {
                      Impl::template softmax_loss<mp_real>(w, w, y, mp_real(0));
                  })
        s.softmax_loss_mp = [](const matrix<mp_real>& W, const matrix<mp_real>& X, const label_vector& y, mp_real reg) {
            return Impl::template softmax_loss<mp_real>(W, X, y, reg);
        };
    return s;
}

// naive, vectorized and seed_vectorized (the last marked known-flawed).
const std::vector<subject>& builtin_subjects();
const subject* find_builtin(std::string_view name);

}  // namespace gradproof
