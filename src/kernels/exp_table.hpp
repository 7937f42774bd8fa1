// The tables of the vector exp (kernels/simd_exp.hpp): 2^{j/N} as double-doubles hi + lo, for
// N = 128 (AVX2, looked up by gathers) and N = 16 (AVX-512, four vector registers, looked up by
// permutes). Plain C++, so that the tests can check them.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>

namespace gradproof::detail {

struct exp_table {
    static constexpr int bits = 7;
    static constexpr int size = 1 << bits;
    alignas(64) std::array<double, size> hi{};
    alignas(64) std::array<double, size> lo{};

    exp_table() {
        for (int j = 0; j < size; ++j) {
            const long double t = exp2l(static_cast<long double>(j) / size);
            hi[static_cast<std::size_t>(j)] = static_cast<double>(t);
            lo[static_cast<std::size_t>(j)] = static_cast<double>(t - static_cast<long double>(hi[static_cast<std::size_t>(j)]));
        }
    }

    static const exp_table& get() {
        static const exp_table table;
        return table;
    }
};

// 2^{j/16} = hi + lo, j = 0…15, rounded from 300-bit MPFR (tests/impl/test_simd_exp.cpp recomputes
// them): constants, so the table lives in registers and needs no initialisation guard.
struct exp_sixteenths {
    alignas(64) static constexpr double hi[16] = {
        0x1p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
        0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
        0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f09p+0,
        0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0};
    alignas(64) static constexpr double lo[16] = {
        0x0p+0, 0x1.8a62e4adc610bp-54, -0x1.19041b9d78a76p-55, 0x1.9b07eb6c70573p-54,
        0x1.6f46ad23182e4p-55, 0x1.ada0911f09ebcp-55, 0x1.d4397afec42e2p-56, 0x1.6324c054647adp-54,
        -0x1.bdd3413b26456p-54, -0x1.41577ee04992fp-55, 0x1.6e9f156864b27p-54, 0x1.c7c46b071f2bep-56,
        0x1.7a1cd345dcc81p-54, 0x1.11065895048ddp-55, 0x1.2ed02d75b3707p-55, -0x1.e9c23179c2893p-54};
};

}  // namespace gradproof::detail
