// Float-aware generators for softmax verification.
//
// RapidCheck's own double generator draws modest magnitudes and shrinks toward 0, −x and trunc(x):
// it never produces the spreads beyond 709/745, huge equal logits, ties, −inf masks or
// subnormals that break softmax code, and its shrinking can erase a magnitude-dependent failure.
// These generators draw shapes and values from mixtures weighted toward the hazards listed in
// accuracy.md, with thresholds taken from the scalar type (exp overflows above log(max) ≈ 709.78
// in double, 88.72 in float; underflows below log(denorm_min) ≈ −745.13, −103.97).
//
// Shrinking (custom, via rc::shrinkable::shrinkRecur): first drop rows (N), classes (C) and
// features (D); then set reg to 0 and labels to 0; then simplify single values: toward 0, the
// decimal exponent halved (1e90 for 2e180), readable values of the same magnitude (1, 2 or 3
// significant digits, trunc), a tenth or a half. RapidCheck keeps a candidate only if the property
// still fails (the same way: runner/rapidcheck_adapter.cpp), so magnitudes shrink exactly as far as
// the failure allows: a spread of 1234.5678 becomes 1000 or 750, not 0.
#pragma once

#include "gen/cases.hpp"

#include <rapidcheck.h>

namespace gradproof::gen {

enum class hazard_mode {
    mixed,    // mostly ordinary data, hazards in about a third of the cases
    extreme,  // every case carries at least one softmax hazard
    ordinary, // finite moderate data only (for identities that need exact shifts etc.)
};

struct shape_options {
    int max_n = 130;       // N > 64 is drawn now and then (batch-dependent code paths)
    int max_d = 48;
    int max_c = 3000;      // odd C above 256 and C in the thousands, sometimes
    long max_work = 40000; // cap on N·D·C (reference cost); shapes above are cut down
    // Language-model widths instead: C = 50 257 (GPT-2's vocabulary), odd C in 257..4095 or C up
    // to 50 257, with N ∈ {1, 2}; max_work does not apply.
    bool wide = false;
    // With wide: a vocabulary above GPT-2's to draw as well (256 000 for Gemma's), N = 1 then.
    int wide_max_c = 50257;
};

struct logits_options {
    shape_options shape;
    hazard_mode hazards = hazard_mode::mixed;
    bool allow_masked = true;  // −inf entries (masked classes)
    bool allow_nonfinite_rows = false; // +inf / NaN rows (contract tests)
    bool with_upstream = false;        // draw an upstream gradient g (backward entry points)
    // In the ordinary domain (gen/domain.hpp): the fraction of its logit bound a drawn case may
    // use, leaving room for a property's own shifts of the logits.
    double ordinary_headroom = 1;
};

struct loss_options {
    shape_options shape;
    hazard_mode hazards = hazard_mode::mixed;
    bool random_reg = true;    // reg = 0 or a random positive value
    double ordinary_headroom = 1;  // as in logits_options
};

template <class T>
rc::Gen<logits_case<T>> logits(const logits_options& opt = {});

// The same logits without labels, for entry points that take none (softmax, log_softmax and their
// backward functions): counterexamples then show no labels that played no part.
template <class T>
rc::Gen<logits_case<T>> unlabelled_logits(const logits_options& opt = {});

template <class T>
rc::Gen<loss_case<T>> loss(const loss_options& opt = {});

// Random vector of the same size as a loss case's W (direction for directional derivatives).
template <class T>
rc::Gen<direction_case<T>> direction(Eigen::Index rows, Eigen::Index cols);

}  // namespace gradproof::gen
