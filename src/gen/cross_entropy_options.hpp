// Generators for cross-entropy's options (core/cross_entropy_options.hpp): the option values,
// label vectors with ignored entries, class weights, soft targets and upstream gradients.
//
// Weighted toward the cases that broke real kernels: ignored rows (none, some, every row — a 0/0
// the contract defines), ignore_index equal to a real class, class weights with zeros and
// unequal weights (the smoothing term is weighted class by class), ε ∈ {0, tiny, 1} and values
// between, reduction none with a non-uniform upstream gradient, z-loss and soft-capping on and
// off. Every value is exactly representable in the storage type, so an implementation reading
// it in T sees the value the reference uses. Shrinking moves toward the defaults (no option).
#pragma once

#include "core/cross_entropy_options.hpp"

#include <rapidcheck.h>

namespace gradproof {
// How counterexamples show options: "reduction=sum ignore_index=-100 label_smoothing=0.25 …" (every field).
void showValue(const ce_options& o, std::ostream& os);
}  // namespace gradproof

namespace gradproof::gen {

struct ce_options_choice {
    bool soft_targets = true;   // may draw soft-label targets (then nothing is ignored)
    bool weights = true;
    bool ignore = true;
    bool zloss = true;
    bool softcap = true;
    bool reduction_none = true;
};

// Options alone (the arrays are drawn per shape below).
rc::Gen<ce_options> ce_options_gen(const ce_options_choice& choice = {});

// Which rows are ignored: none, a few, or all of them.
rc::Gen<std::vector<bool>> ignored_rows(Eigen::Index n);

// c class weights ≥ 0 in T (zeros, powers of two, unequal values), or equal ones.
template <class T>
rc::Gen<std::vector<T>> class_weights(Eigen::Index c);

// n×c soft targets ≥ 0: one-hot rows, normalised distributions, rows not summing to one.
template <class T>
rc::Gen<matrix<T>> soft_targets(Eigen::Index n, Eigen::Index c);

// count upstream gradient values (1 for a scalar loss): 1, powers of two, random signs.
template <class T>
rc::Gen<std::vector<T>> upstream(Eigen::Index count);

}  // namespace gradproof::gen
