// MPFR building blocks shared by the point (point.cpp), certified (interval.cpp) and cross-entropy
// option (cross_entropy_options.cpp) references: owning MPFR and MPFI numbers and vectors, loading exact long double inputs, and exact dot products.
// Internal to src/reference; everything lives in gradproof::reference::detail.
#pragma once

#include "core/matrix.hpp"
#include "core/validate.hpp"
#include "reference/interval.hpp"

#include <mpfi.h>
#include <mpfr.h>

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace gradproof::reference::detail {

using lmatrix = matrix<long double>;

// Significand bits of long double: every input is held exactly at this precision.
constexpr mpfr_prec_t ld_digits = std::numeric_limits<long double>::digits;
constexpr long double ld_nan = std::numeric_limits<long double>::quiet_NaN();

using mpfr_struct = std::remove_extent_t<mpfr_t>;

// n MPFR numbers, all initialized at one precision (exact_dot may change individual ones). Not
// copyable: the structs own their limbs.
class mpfr_vec {
public:
    mpfr_vec(Eigen::Index n, mpfr_prec_t prec) : v_(static_cast<std::size_t>(n)), ptr_(v_.size()) {
        for (std::size_t i = 0; i < v_.size(); ++i) {
            mpfr_init2(&v_[i], prec);
            ptr_[i] = &v_[i];
        }
    }
    ~mpfr_vec() {
        for (auto& x : v_) mpfr_clear(&x);
    }
    mpfr_vec(const mpfr_vec&) = delete;
    mpfr_vec& operator=(const mpfr_vec&) = delete;

    mpfr_ptr operator[](Eigen::Index i) { return &v_[static_cast<std::size_t>(i)]; }
    mpfr_srcptr operator[](Eigen::Index i) const { return &v_[static_cast<std::size_t>(i)]; }
    // Pointers to elements offset, offset + 1, …: the array form mpfr_dot and mpfr_sum take.
    const mpfr_ptr* ptrs(Eigen::Index offset = 0) const { return ptr_.data() + offset; }

private:
    std::vector<mpfr_struct> v_;
    std::vector<mpfr_ptr> ptr_;
};

class mpfr_num {
public:
    explicit mpfr_num(mpfr_prec_t prec) { mpfr_init2(v_, prec); }
    ~mpfr_num() { mpfr_clear(v_); }
    mpfr_num(const mpfr_num&) = delete;
    mpfr_num& operator=(const mpfr_num&) = delete;
    operator mpfr_ptr() { return v_; }
    operator mpfr_srcptr() const { return v_; }

private:
    mpfr_t v_;
};

inline void check_bits(unsigned bits) {
    if (bits < 64)
        gradproof::detail::throw_invalid("bits", "must be at least 64 (the long double significand), got " +
                                                     std::to_string(bits));
}

inline long double to_ld(mpfr_srcptr x) { return mpfr_get_ld(x, MPFR_RNDN); }

inline void load(mpfr_vec& out, const lmatrix& m) {
    for (Eigen::Index i = 0; i < m.size(); ++i) mpfr_set_ld(out[i], m.data()[i], MPFR_RNDN);
}

inline void load_row(mpfr_vec& out, const lmatrix& m, Eigen::Index i) {
    for (Eigen::Index j = 0; j < m.cols(); ++j) mpfr_set_ld(out[j], m(i, j), MPFR_RNDN);
}

// The index of the largest logit of the row z[offset .. offset + c) (the first, among equals), or
// −1 when the row is undefined: it holds NaN or +inf, or every class is masked (−inf).
inline Eigen::Index row_argmax(const mpfr_vec& z, Eigen::Index offset, Eigen::Index c) {
    Eigen::Index k = -1;
    for (Eigen::Index j = 0; j < c; ++j) {
        mpfr_srcptr zj = z[offset + j];
        if (mpfr_nan_p(zj) || (mpfr_inf_p(zj) && mpfr_sgn(zj) > 0)) return -1;
        if (mpfr_inf_p(zj)) continue;
        if (k < 0 || mpfr_greater_p(zj, z[offset + k])) k = j;
    }
    return k;
}

inline mpfr_prec_t bit_length(unsigned long n) {
    mpfr_prec_t b = 0;
    for (; n != 0; n >>= 1) ++b;
    return b;
}

// Exact dot products and sums (mpfr_dot would do, but allocates its product array on every call,
// which made it the most expensive part of softmax_loss).
class exact_dot {
public:
    // out ← Σ_k a[k]·b[k] exactly (b == nullptr: Σ_k a[k]); changes out's precision. A nonzero
    // term is a multiple of 2^lsb, lsb = EXP(a) − PREC(a) + EXP(b) − PREC(b), and below
    // 2^(EXP(a) + EXP(b)) in magnitude, so every partial sum of n terms is a multiple of
    // 2^(min lsb) below n·2^(max EXP): at precision max EXP − min lsb + bit_length(n) no addition
    // rounds, and a product rounds not at all at precision PREC(a) + PREC(b). NaN or ±inf
    // operands make the result NaN or ±inf, which any precision holds (mpfr_dot/mpfr_sum get the
    // IEEE special cases right).
    void operator()(mpfr_ptr out, const mpfr_ptr* a, const mpfr_ptr* b, unsigned long n) {
        bool finite = true, any = false;
        mpfr_exp_t top = 0, lsb = 0;
        mpfr_prec_t prod_prec = MPFR_PREC_MIN;
        for (unsigned long k = 0; k < n && finite; ++k) {
            finite = mpfr_number_p(a[k]) && (b == nullptr || mpfr_number_p(b[k]));
            if (!finite || mpfr_zero_p(a[k]) || (b != nullptr && mpfr_zero_p(b[k]))) continue;
            mpfr_exp_t e = mpfr_get_exp(a[k]), l = e - mpfr_get_prec(a[k]);
            if (b != nullptr) {
                e += mpfr_get_exp(b[k]);
                l += mpfr_get_exp(b[k]) - mpfr_get_prec(b[k]);
                prod_prec = std::max(prod_prec, mpfr_get_prec(a[k]) + mpfr_get_prec(b[k]));
            }
            top = any ? std::max(top, e) : e;
            lsb = any ? std::min(lsb, l) : l;
            any = true;
        }
        if (!finite) {
            mpfr_set_prec(out, MPFR_PREC_MIN);
            if (b != nullptr)
                mpfr_dot(out, a, b, n, MPFR_RNDN);
            else
                mpfr_sum(out, a, n, MPFR_RNDN);
            return;
        }
        mpfr_set_prec(out, std::max<mpfr_prec_t>(any ? top - lsb + bit_length(n) : 1, MPFR_PREC_MIN));
        mpfr_set_zero(out, 1);
        if (!any) return;
        mpfr_set_prec(prod_, prod_prec);
        for (unsigned long k = 0; k < n; ++k) {
            [[maybe_unused]] int inexact = 0;
            if (b == nullptr) {
                inexact = mpfr_add(out, out, a[k], MPFR_RNDN);
            } else {
                inexact = mpfr_mul(prod_, a[k], b[k], MPFR_RNDN);
                assert(inexact == 0);
                inexact = mpfr_add(out, out, prod_, MPFR_RNDN);
            }
            assert(inexact == 0);
        }
    }

private:
    mpfr_num prod_{2 * ld_digits};
};

// Owning MPFI intervals (the certified references).
using mpfi_struct = std::remove_extent_t<mpfi_t>;

class mpfi_vec {
public:
    mpfi_vec(Eigen::Index n, mpfr_prec_t prec) : v_(static_cast<std::size_t>(n)) {
        for (auto& x : v_) mpfi_init2(&x, prec);
    }
    ~mpfi_vec() {
        for (auto& x : v_) mpfi_clear(&x);
    }
    mpfi_vec(const mpfi_vec&) = delete;
    mpfi_vec& operator=(const mpfi_vec&) = delete;
    mpfi_ptr operator[](Eigen::Index i) { return &v_[static_cast<std::size_t>(i)]; }
    mpfi_srcptr operator[](Eigen::Index i) const { return &v_[static_cast<std::size_t>(i)]; }

private:
    std::vector<mpfi_struct> v_;
};

class mpfi_num {
public:
    explicit mpfi_num(mpfr_prec_t prec) { mpfi_init2(v_, prec); }
    ~mpfi_num() { mpfi_clear(v_); }
    mpfi_num(const mpfi_num&) = delete;
    mpfi_num& operator=(const mpfi_num&) = delete;
    operator mpfi_ptr() { return v_; }
    operator mpfi_srcptr() const { return v_; }

private:
    mpfi_t v_;
};

// Outward rounding to long double. MPFI stores a zero right endpoint as −0; both zero endpoints
// are reported as +0 (the same real number) so that [0, 0] reads as such.
inline enclosure to_enclosure(mpfi_srcptr x) {
    if (mpfi_nan_p(x)) return {ld_nan, ld_nan};
    enclosure e{mpfr_get_ld(&x->left, MPFR_RNDD), mpfr_get_ld(&x->right, MPFR_RNDU)};
    if (e.lo == 0) e.lo = 0;
    if (e.hi == 0) e.hi = 0;
    return e;
}

}  // namespace gradproof::reference::detail
