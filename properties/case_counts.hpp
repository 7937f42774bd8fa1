// The one place where per-property case counts live. Counts were chosen so that the whole
// catalog over the three built-ins in float and double stays within the suite's time budget
// on a 2-core machine while every mutant of tests/mutation is caught (see the README).
// `--cases N` (CLI) and `scale` multiply or replace them at run time.
#pragma once

namespace gradproof::case_counts {

inline constexpr int accuracy = 150;      // element-wise comparison with the MPFR reference
inline constexpr int certified = 40;      // MPFI enclosures cost ≈ 3× an MPFR evaluation
inline constexpr int extreme = 150;       // hazard-only inputs
inline constexpr int identity = 100;      // row sums, ranges, Jacobian structure
inline constexpr int invariance = 100;    // shifts, permutations, additivity, regularisation
inline constexpr int white_box_fd = 25;   // 256-bit finite differences of the mp_real instantiation
inline constexpr int determinism = 50;
inline constexpr int contract = 30;
inline constexpr int wide = 8;           // C up to 50 257 (256 000 for cross-entropy with options): ≈ 0.1 s of 128-bit reference per 50 257-wide row

}  // namespace gradproof::case_counts
