// Certification of a full double-precision gradient: every element of dW (and the loss) of an
// implementation's output against the certified MPFI enclosure (reference/interval.hpp), plus
// multiprecision directional finite-difference checks of the same loss (reference/directional.hpp).
// Returns plain data: errors in ULPs and as margins against the running-error-analysis tolerance
// (error/tolerance.hpp), the resolution of the certificate, and the time of each stage.
//
// What each stage proves and at which precision:
//  • scores S = X·W and Xᵀ·dS: exact (integer superaccumulator, reference/exact_sum.hpp), so
//    nothing rounds there and no precision has to be chosen; work split across threads.
//  • softmax rows (exp, log1p, divisions): MPFI at `bits` = 128 (enclosures; 128 is the smallest
//    precision for which interval.cpp's width bound, ≤ (C + max|d| + 4)·2^-127 relative, stays
//    below 2^-100 for every realistic row, i.e. ≪ 2^-53, the resolution needed to decide a double).
//  • FD: 256 bits, order 4, two Richardson levels, step 1e−12 (the catalog's white-box settings,
//    ≈ 60 correct digits; richardson.hpp): rounding ≈ 16·2^-256/1e−12 ≈ 1e−64 relative.
// The error of the implementation is measured against the point of the enclosure nearest to its
// output (any point of the enclosure may be the exact value), so a reported error is never larger
// than the true one by more than the enclosure's width, which is reported as the resolution.
#pragma once

#include "core/matrix.hpp"
#include "fd/richardson.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace gradproof::bench {

struct certify_options {
    unsigned bits = 128;       // MPFI precision of the certified reference
    int directions = 8;        // directional FD checks (random directions, entries uniform in [−1, 1])
    fd::fd_options fd{.bits = 256, .order = 4, .step = 1e-12, .levels = 2};
    unsigned threads = 0;      // workers of the exact and FD stages (0 = all hardware threads)
    std::uint64_t seed = 1;    // directions
};

struct stage_time {
    std::string name;
    double seconds = 0;
};

struct fd_check {
    double analytic = 0;          // ⟨dW_impl, V⟩
    double fd_value = 0;          // 256-bit FD of L along V (rounded to double for display)
    double fd_error = 0;          // its Richardson error estimate
    double impl_error = 0;        // |⟨dW_impl, V⟩ − FD|
    double tolerance = 0;         // Σ|V|·tol(dW) + FD error estimate
    double margin = 0;            // impl_error / tolerance (≤ 1 passes)
    double reference_gap = 0;     // distance of FD to ⟨[dW_lo, dW_hi], V⟩ (0 when inside)
    bool reference_consistent = false;  // FD within the enclosure's ⟨·, V⟩ ± FD error estimate
};

struct certification {
    long n = 0, d = 0, c = 0;
    int elements = 0;                 // dW elements certified
    double max_ulps = 0;              // dW, against the nearest point of each enclosure
    long worst_row = -1, worst_col = -1;  // element with the largest margin
    double worst_margin = 0;          // max |error|/tolerance over dW (≤ 1 passes)
    double loss_ulps = 0, loss_margin = 0;
    double max_width_ulps = 0;        // widest enclosure, in ULPs of double at the element
    double max_width_relative = 0;    // … relative to the element's magnitude scale (normwise)
    int correctly_rounded_known = 0;  // elements whose correctly rounded double the enclosure decides
    int equal_to_correctly_rounded = 0;  // … of which the implementation returned exactly that double
    std::vector<fd_check> fd;
    std::vector<stage_time> stages;
    double total_seconds = 0;
    bool passed = false;              // every margin ≤ 1 and every FD check consistent
};

// Certifies `out` (an implementation's double result at W, X, y, reg). Throws std::invalid_argument
// for invalid inputs (as the references do) or when out's shape does not match.
certification certify_gradient(const matrix<double>& W, const matrix<double>& X, const label_vector& y, double reg,
                               const loss_result<double>& out, const certify_options& options = {});

}  // namespace gradproof::bench
