// The twelve symbols of include/gradproof/plugin.h, by entry point and type.
#pragma once

#include "core/subject.hpp"

#include <array>
#include <string>

namespace gradproof::plugin {

inline constexpr std::array<entry_point, 6> all_entry_points{
    entry_point::softmax,       entry_point::log_softmax,  entry_point::softmax_backward,
    entry_point::log_softmax_backward, entry_point::cross_entropy, entry_point::softmax_loss};

// "softmax_f64" — the entry point and type as named on the wire and in symbol names.
inline std::string entry_name(entry_point e, precision p) {
    return std::string(to_string(e)) + (p == precision::f64 ? "_f64" : "_f32");
}
inline std::string symbol_name(entry_point e, precision p) { return "gradproof_" + entry_name(e, p); }

}  // namespace gradproof::plugin
