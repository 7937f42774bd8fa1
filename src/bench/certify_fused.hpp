// Certification of every element of a fused linear cross-entropy result (loss, dhidden, dweight,
// dbias) at an LM-head shape, (N, D, V) = (256, 768, 50 257): enclosures of the exact values,
// then every output element of an implementation against them with the tolerance of
// error/cross_entropy_tolerance.hpp. certify.hpp's exact superaccumulator products would take
// hours there (3·N·D·V ≈ 3·10¹⁰ exact products), so the products are enclosed from GEMMs
// (reference/ozaki_product.hpp), and the rows run in low-precision interval arithmetic.
//
// Error analysis (u = 2^-53):
//  • products, either (error_free_products) by Ozaki's splitting into slice GEMMs that do not
//    round, leaving ≈ the final rounding to double (u·|A·B| plus 2^-60 of |A|·|B|), or by one
//    rounded GEMM with Higham's a-priori bound γ_k·|A|·|B| ("Accuracy and Stability of Numerical
//    Algorithms", 2nd ed., SIAM 2002, §3.5: any order, with or without FMA). ozaki_product.hpp
//    states both.
//  • logits S = H·Wᵀ + b: the enclosure [S̃ − R₀, S̃ + R₀] of H·Wᵀ (exact inputs: the entry points'
//    inputs are doubles, floats or halves), then + b rounded to nearest: R = R₀ + u·|S̃ + b|.
//  • rows: reference::certify_cross_entropy_with_options on [S̃ − R, S̃ + R] (interval arithmetic,
//    64-bit MPFI, exp in double with certified bounds): enclosures [lo, hi] of the loss and of
//    every dlogit G, for every logit matrix within the radii, the true one included.
//  • dhidden = G·W, dweight = Gᵀ·H, from the midpoints M = RN(mid [lo, hi]) (doubles) and radii
//    ρ ≥ max(hi − M, M − lo): G·W ∈ M·W ± ρ·|W|, with M·W enclosed as above and ρ·|W| bounded by
//    its computed value plus its a-priori error (and likewise with N for dweight); dbias =
//    Σ_i G_ij summed in long double: ± (Σρ + γ^ld_N·Σ|M|)·(1 + 8u).
// With a-priori products the enclosures are ≈ γ_D·|H|·|W|ᵀ wide on the logits, which is what a
// double implementation's own tolerance allows: they resolve float, bf16 and f16 implementations
// by 10⁶ and more, double ones only to about their tolerance. Error-free products leave the rows'
// own width (exp in double with certified bounds, ≈ 20u): double implementations are resolved to
// 10⁻³–10⁻² of their tolerance, at ≈ 3× the GEMM time. The report states the widest enclosure
// relative to its tolerance.
//
// The error of the implementation is measured against the point of the enclosure nearest to its
// output (error/ulp.hpp's measure; any point of the enclosure may be the exact value).
#pragma once

#include "bench/certify.hpp"
#include "core/cross_entropy_options.hpp"
#include "reference/cross_entropy_options.hpp"

#include <string>
#include <vector>

namespace gradproof::bench {

struct fused_certify_options {
    unsigned bits = 64;               // MPFI precision of the rows (≥ 64)
    unsigned threads = 0;             // workers (0 = all hardware threads)
    bool error_free_products = true;  // false: a-priori product bounds (enough for float and below)
};

// Enclosures of the exact results at one input: [mid − rad, mid + rad] per element.
struct fused_certificate {
    long n = 0, d = 0, v = 0;
    std::vector<reference::enclosure> loss;
    matrix<double> dhidden_mid, dhidden_rad;  // n×d
    matrix<double> dweight_mid, dweight_rad;  // v×d
    std::vector<long double> dbias_mid, dbias_rad;
    reference::fused_ce_reference midpoints;  // approximate values for the tolerance model
    std::vector<stage_time> stages;
};

// Throws std::invalid_argument naming the argument for invalid inputs (those of
// reference::fused_linear_cross_entropy, and hidden, weight, bias non-finite).
fused_certificate certify_fused(const fused_ce_input<double>& in, const fused_certify_options& options = {});

// One output of the implementation against the certificate.
struct fused_part {
    std::string name;               // "loss", "dhidden", "dweight", "dbias"
    long elements = 0;
    double max_ulps = 0;            // against the nearest point of each enclosure, ULPs of the output type
    double worst_margin = 0;        // max |error| / tolerance (≤ 1 passes)
    long worst_row = -1, worst_col = -1;
    double max_width_relative = 0;  // widest enclosure / its element's tolerance (the resolution)
    bool passed = true;
};

struct fused_certification {
    long n = 0, d = 0, v = 0;
    std::string dtype;  // of the implementation: "f64", "f32"
    long elements = 0;
    std::vector<fused_part> parts;
    std::vector<stage_time> stages;  // the certificate's, then the tolerance and comparison stages
    double total_seconds = 0;        // certificate + tolerances + comparison
    bool passed = false;
};

// `in` is the double form of the input the implementation was called with (exact: T ⊂ double);
// `out` its result in T = double or float. Throws std::invalid_argument when out's shapes do not
// match. threads: workers for the element comparison (0 = all hardware threads).
template <class T>
fused_certification compare_fused(const fused_certificate& cert, const fused_ce_input<double>& in,
                                  const fused_ce_result<T>& out, unsigned threads = 0);

}  // namespace gradproof::bench
