// |computed − f(x)| for an elementary function f, with f(x) from 256-bit MPFR: the error of a
// vector exp or log1p (tests/impl/test_simd_exp.cpp, test_simd_log1p.cpp).
#pragma once

#include <mpfr.h>

namespace gradproof::test_support {

using mpfr_function = int (*)(mpfr_ptr, mpfr_srcptr, mpfr_rnd_t);

inline long double mpfr_error(long double computed, double x, mpfr_function f) {
    mpfr_t e, c;
    mpfr_init2(e, 256);
    mpfr_init2(c, 256);
    mpfr_set_d(e, x, MPFR_RNDN);
    f(e, e, MPFR_RNDN);
    mpfr_set_ld(c, computed, MPFR_RNDN);
    mpfr_sub(c, c, e, MPFR_RNDN);
    mpfr_abs(c, c, MPFR_RNDN);
    const long double err = mpfr_get_ld(c, MPFR_RNDU);
    mpfr_clear(e);
    mpfr_clear(c);
    return err;
}

}  // namespace gradproof::test_support
