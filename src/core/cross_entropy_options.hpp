// Cross-entropy with options, as the plug-in ABI's version 2 defines it (include/gradproof/plugin.h
// states every formula): ignore_index, reduction none/mean/sum, label smoothing, class weights,
// z-loss, logit soft-capping and soft-label targets; and fused linear cross-entropy
// (logits = H·Wᵀ + b). Plain data shared by implementations, references, properties and the
// plug-in transport.
#pragma once

#include "core/matrix.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace gradproof {

enum class reduction { none, mean, sum };

inline const char* to_string(reduction r) {
    switch (r) {
        case reduction::none: return "none";
        case reduction::mean: return "mean";
        case reduction::sum: return "sum";
    }
    return "?";
}

struct ce_options {
    reduction reduce = reduction::mean;
    bool has_ignore_index = false;
    std::int32_t ignore_index = -100;
    double label_smoothing = 0;   // ε
    double lse_square_scale = 0;  // z-loss s
    double softcap = 0;           // 0: none
};

// One call of cross_entropy_ex. class_weights empty: no weights; soft_targets empty (0×0): hard
// labels; dloss holds n values for reduction none and 1 otherwise.
template <class T>
struct ce_ex_input {
    matrix<T> logits;
    label_vector labels;
    ce_options options;
    std::vector<T> class_weights;
    matrix<T> soft_targets;
    std::vector<T> dloss;

    bool soft() const { return soft_targets.size() > 0; }
    Eigen::Index n() const { return logits.rows(); }
    Eigen::Index c() const { return logits.cols(); }
};

template <class T>
struct ce_ex_result {
    std::vector<T> loss;  // n values for reduction none, else 1
    matrix<T> dlogits;
};

// One call of fused_linear_cross_entropy: hidden n×d, weight v×d (nn.Linear's layout), bias v
// values when has_bias.
template <class T>
struct fused_ce_input {
    matrix<T> hidden;
    matrix<T> weight;
    std::vector<T> bias;
    bool has_bias = false;
    label_vector labels;
    ce_options options;
    std::vector<T> class_weights;
    std::vector<T> dloss;

    Eigen::Index n() const { return hidden.rows(); }
    Eigen::Index d() const { return hidden.cols(); }
    Eigen::Index v() const { return weight.rows(); }
};

// The same input in another floating type, member by member (values rounded to nearest; exact
// when U is at least as wide as T).
template <class U, class T>
fused_ce_input<U> cast(const fused_ce_input<T>& in) {
    fused_ce_input<U> out;
    out.hidden = in.hidden.template cast<U>();
    out.weight = in.weight.template cast<U>();
    out.bias.assign(in.bias.begin(), in.bias.end());
    out.has_bias = in.has_bias;
    out.labels = in.labels;
    out.options = in.options;
    out.class_weights.assign(in.class_weights.begin(), in.class_weights.end());
    out.dloss.assign(in.dloss.begin(), in.dloss.end());
    return out;
}

template <class T>
struct fused_ce_result {
    std::vector<T> loss;
    matrix<T> dhidden;   // n×d
    matrix<T> dweight;   // v×d
    std::vector<T> dbias;  // v values when has_bias
};

// The row i is ignored (hard labels only).
template <class T>
bool is_ignored(const ce_ex_input<T>& in, Eigen::Index i) {
    return !in.soft() && in.options.has_ignore_index && in.labels[static_cast<std::size_t>(i)] == in.options.ignore_index;
}

// One line naming the options that are not at their defaults: "reduction=sum ignore_index=3 ε=0.1".
std::string describe(const ce_options& o, bool weighted, bool soft);

}  // namespace gradproof
