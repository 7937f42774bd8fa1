// The table of the vector log1p (kernels/simd_log1p.hpp): for each of the 128 intervals
// [1 + j/128, 1 + (j+1)/128) of the reduced argument m, a reciprocal c_j with 8 significant bits
// (so that r = m·c_j − 1 is exact) chosen to minimise max |r| over the interval, and −log c_j as a
// double-double from long double logl (relative error ≤ 2^-63). c_0 = 1, so L_0 = 0 and small
// arguments meet no cancellation. Plain C++, so that the tests can check the table's claims.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

namespace gradproof::detail {

struct log1p_table {
    static constexpr int bits = 7;
    static constexpr int size = 1 << bits;
    alignas(64) std::array<double, size> inv{};     // c_j
    alignas(64) std::array<double, size> log_hi{};  // −log c_j = L_hi + L_lo
    alignas(64) std::array<double, size> log_lo{};

    log1p_table() {
        inv[0] = 1.0;  // keeps L_0 = 0: no cancellation for small s
        for (int j = 1; j < size; ++j) {
            const double left = 1.0 + static_cast<double>(j) / size, right = left + 1.0 / size;
            double best = 1.0, best_r = 1.0;
            // c = q/256 with 8 significant bits; the products with the interval's ends are exact.
            for (int q = 128; q <= 256; ++q) {
                const double cq = q / 256.0;
                const double rq = std::max(std::fabs(left * cq - 1.0), std::fabs(right * cq - 1.0));
                if (rq < best_r) {
                    best_r = rq;
                    best = cq;
                }
            }
            const auto uj = static_cast<std::size_t>(j);
            inv[uj] = best;
            const long double l = -logl(static_cast<long double>(best));
            log_hi[uj] = static_cast<double>(l);
            log_lo[uj] = static_cast<double>(l - static_cast<long double>(log_hi[uj]));
        }
    }

    static const log1p_table& get() {
        static const log1p_table table;
        return table;
    }
};

}  // namespace gradproof::detail
