#include "core/cross_entropy_options.hpp"

#include <charconv>

namespace gradproof {

namespace {

// Shortest decimal that reads back as the same double, so a described case can be replayed.
std::string shortest(double x) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, x);
    return std::string(buf, r.ptr);
}

}  // namespace

std::string describe(const ce_options& o, bool weighted, bool soft) {
    std::string out;
    const auto add = [&out](const std::string& part) {
        if (!out.empty()) out += ' ';
        out += part;
    };
    if (o.reduce != reduction::mean) add(std::string("reduction=") + to_string(o.reduce));
    if (o.has_ignore_index) add("ignore_index=" + std::to_string(o.ignore_index));
    if (o.label_smoothing != 0) add("ε=" + shortest(o.label_smoothing));
    if (o.lse_square_scale != 0) add("z_loss=" + shortest(o.lse_square_scale));
    if (o.softcap != 0) add("softcap=" + shortest(o.softcap));
    if (weighted) add("class_weights");
    if (soft) add("soft_targets");
    return out.empty() ? "defaults" : out;
}

}  // namespace gradproof
