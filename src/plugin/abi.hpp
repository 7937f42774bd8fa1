// The symbols of include/gradproof/plugin.h, by entry point and type.
#pragma once

#include "core/subject.hpp"

#include <array>
#include <string>

namespace gradproof::plugin {

inline constexpr std::array<entry_point, 12> all_entry_points{
    entry_point::softmax,          entry_point::log_softmax,           entry_point::softmax_backward,
    entry_point::log_softmax_backward, entry_point::cross_entropy,     entry_point::softmax_loss,
    entry_point::cross_entropy_ex, entry_point::cross_entropy_ex_bf16, entry_point::cross_entropy_ex_f16,
    entry_point::fused_linear_cross_entropy, entry_point::fused_linear_cross_entropy_bf16,
    entry_point::fused_linear_cross_entropy_f16};

// The bf16/f16 forms carry their format in their name and belong to the f32 column.
inline bool is_half_form(entry_point e) {
    return e == entry_point::cross_entropy_ex_bf16 || e == entry_point::cross_entropy_ex_f16 ||
           e == entry_point::fused_linear_cross_entropy_bf16 || e == entry_point::fused_linear_cross_entropy_f16;
}
inline bool exists_in(entry_point e, precision p) { return !is_half_form(e) || p == precision::f32; }

// "softmax_f64", "cross_entropy_ex_bf16" — the entry point and type as named on the wire and in
// symbol names (empty for a half form asked for in f64, which does not exist).
inline std::string entry_name(entry_point e, precision p) {
    if (!exists_in(e, p)) return {};
    if (is_half_form(e)) return to_string(e);
    return std::string(to_string(e)) + (p == precision::f64 ? "_f64" : "_f32");
}
inline std::string symbol_name(entry_point e, precision p) { return "gradproof_" + entry_name(e, p); }

// The op and dtype of a wire request: cross_entropy_ex_bf16 travels as op "cross_entropy_ex",
// dtype "bf16".
inline std::string wire_op(entry_point e) {
    switch (e) {
        case entry_point::cross_entropy_ex_bf16:
        case entry_point::cross_entropy_ex_f16: return "cross_entropy_ex";
        case entry_point::fused_linear_cross_entropy_bf16:
        case entry_point::fused_linear_cross_entropy_f16: return "fused_linear_cross_entropy";
        default: return to_string(e);
    }
}

}  // namespace gradproof::plugin
