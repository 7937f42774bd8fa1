// Exact sums of products in integer arithmetic: the fast path of the references' exact stages
// (S = X·W, Xᵀ·dS, X·V). Internal to src/reference; everything lives in gradproof::reference::detail.
//
// Why it is exact (no error analysis needed beyond integer overflow):
// * A finite long double is x = ±m·2^e with an integer m < 2^64 (split_ld: frexp is exact and
//   scaling by 2^64 is exact), so a product of two of them is ±(m₁·m₂)·2^(e₁+e₂) with
//   m₁·m₂ < 2^128 held exactly in an unsigned __int128. An MPFR number of precision p is likewise
//   an exact sum of ⌈p/64⌉ such 64-bit pieces (split_mpfr, from mpfr_get_z_2exp's integer
//   significand).
// * fixed_accumulator holds Σ terms as an integer multiple of 2^lsb, where lsb is at most the
//   exponent of every term's lowest bit (the caller passes min e₁ + min e₂). Each term, shifted to
//   that grid, is cut into five 32-bit digits that are added (or subtracted) into signed 64-bit
//   limbs without carrying: after k additions a limb's magnitude is < k·2^32, so no overflow can
//   occur before k = 2^31; normalize() carries every 2^30 terms to stay far below that. Integer
//   addition is exact and associative, so the final carry propagation gives the exact sum whatever
//   the order of the terms — which also makes split work across threads bitwise reproducible.
// * The result is converted to MPFR through an mpz and mpfr_set_z_2exp at a precision of at least
//   the integer's bit length: exact again. to_mpfr_rounded rounds it once, in the requested
//   direction, at a given precision (for point values and outward-rounded bounds).
//
// Capped grids (dW stages only): terms more than max_span bits below the largest term actually
// present are bounded instead of added (fixed_accumulator::reset); the callers widen the enclosure
// (interval) or accept the bound as error (point) — ≤ n·2^-max_span relative to the largest term,
// hence to Σ|terms| = (|X|ᵀ|dS|)_kj, i.e. nothing at max_span = 1024 next to the 2^-128 of the
// working precision.
//
// Cost: one 64×64→128-bit multiplication and five adds per term (a few ns), against ≈ 100 ns for
// mpfr_mul + mpfr_add at the same (exact) precision and ≈ 300 ns for MPFI's mpfi_mul_fr + mpfi_add,
// which allocate temporaries on every call (callgrind: malloc/free and __tls_get_addr were a quarter
// of the certified reference's instructions). The limb array spans (top − lsb)/32 + O(1) limbs:
// at most ≈ 2 100 for products of long doubles over their full range (S = X·W needs no cap), and
// ≈ 40 for the capped Xᵀ·dS sums.
//
// Reference for the technique (a "superaccumulator" with deferred carries): R. M. Neal, "Fast exact
// summation using small and large superaccumulators", arXiv:1505.05571 (2015); U. Kulisch, Computer
// Arithmetic and Validity, de Gruyter (2013).
#pragma once

#include "reference/mpfr_support.hpp"

#include <gmp.h>
#include <mpfr.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <exception>
#include <thread>
#include <limits>
#include <vector>

namespace gradproof::reference::detail {

// GCC/Clang's 128-bit integer (__extension__: -Wpedantic would reject the type otherwise).
__extension__ using uint128 = unsigned __int128;

// ±sig·2^exp with an integer significand (sig == 0 for zero).
struct split_ld {
    std::uint64_t sig = 0;
    int exp = 0;
    bool neg = false;
};

// Exact for every finite long double (subnormals included: frexp normalises them).
inline split_ld split(long double x) {
    if (x == 0) return {};
    int e = 0;
    long double m = std::frexp(x, &e);  // |m| ∈ [½, 1)
    const bool neg = m < 0;
    if (neg) m = -m;
    return {static_cast<std::uint64_t>(std::ldexp(m, 64)), e - 64, neg};
}

// Appends the 64-bit pieces of a finite MPFR number (nothing for zero): x = Σ ±piece·2^exp.
inline void split_mpfr(mpfr_srcptr x, mpz_t scratch, std::vector<split_ld>& out) {
    if (mpfr_zero_p(x)) return;
    const mpfr_exp_t e = mpfr_get_z_2exp(scratch, x);  // x = scratch·2^e exactly
    const bool neg = mpz_sgn(scratch) < 0;
    const std::size_t n = mpz_size(scratch);
    for (std::size_t l = 0; l < n; ++l) {
        const mp_limb_t limb = mpz_getlimbn(scratch, static_cast<mp_size_t>(l));
        if (limb != 0) out.push_back({static_cast<std::uint64_t>(limb), static_cast<int>(e) + 64 * static_cast<int>(l), neg});
    }
}

static_assert(sizeof(mp_limb_t) == 8, "split_mpfr assumes 64-bit GMP limbs");

// Exponent range of the nonzero entries of a set of pieces: min of exp and max of exp + 64.
struct exp_range {
    int lo = std::numeric_limits<int>::max();
    int hi = std::numeric_limits<int>::min();
    void add(const split_ld& s) {
        if (s.sig == 0) return;
        lo = std::min(lo, s.exp);
        hi = std::max(hi, s.exp + 64);
    }
    bool empty() const { return lo > hi; }
};

class fixed_accumulator {
public:
    fixed_accumulator() { mpz_init(z_); }
    ~fixed_accumulator() { mpz_clear(z_); }
    fixed_accumulator(const fixed_accumulator&) = delete;
    fixed_accumulator& operator=(const fixed_accumulator&) = delete;

    // Starts a sum of products a·b with a ∈ range_a, b ∈ range_b (either empty: the sum is 0).
    // max_span caps the bits between the largest possible term and the grid: terms entirely below
    // 2^(top − max_span) are not added but counted into tail_bound() (their magnitude sum is at
    // most count·2^(largest such exponent)), which the caller adds to its error bound or
    // enclosure. Without a cap (the default) every sum is exact. Why a cap at all: probabilities
    // below the long double range stay representable in MPFR (exp(−1e8) ≈ 2^-1.4e8), and an
    // exact grid down to them would cost millions of limbs per sum.
    // actual_top (optional): a bound 2^actual_top on the largest term actually added, tighter than
    // the ranges' product; the cap is measured from it, so that the tail is negligible relative to
    // the largest term, not merely relative to the ranges (X_ik = 0 next to a large dS_ij).
    void reset(const exp_range& a, const exp_range& b, int max_span = std::numeric_limits<int>::max(),
               int actual_top = std::numeric_limits<int>::max()) {
        empty_ = a.empty() || b.empty() || actual_top == std::numeric_limits<int>::min();
        count_ = 0;
        tail_count_ = 0;
        tail_top_ = std::numeric_limits<int>::min();
        if (empty_) return;
        const int top = std::min(a.hi + b.hi, actual_top);
        lsb_ = a.lo + b.lo;
        if (top - lsb_ > max_span) lsb_ = top - max_span;
        // Products are below 2^top; digits of a term reach 32·5 bits above its grid position; the
        // carries of up to 2^62 terms need 62 more bits; one limb for the sign.
        const int span = top - lsb_;
        limbs_.assign(static_cast<std::size_t>(span / 32 + 8), 0);
    }

    // Adds ±a.sig·b.sig·2^(a.exp + b.exp).
    void add(const split_ld& a, const split_ld& b) {
        if (a.sig == 0 || b.sig == 0) return;
        assert(!empty_);
        const int s = a.exp + b.exp - lsb_;
        if (s < 0) [[unlikely]] {  // below the capped grid: bounded, not added
            ++tail_count_;
            tail_top_ = std::max(tail_top_, a.exp + b.exp + 128);
            return;
        }
        const uint128 p = static_cast<uint128>(a.sig) * b.sig;
        const int r = s & 31;
        std::int64_t* l = limbs_.data() + (s >> 5);
        const uint128 lo = p << r;
        const std::uint64_t hi = r == 0 ? 0 : static_cast<std::uint64_t>(p >> (128 - r));
        constexpr std::uint64_t mask = 0xffffffffu;
        const auto d0 = static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) & mask);
        const auto d1 = static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) >> 32);
        const auto d2 = static_cast<std::int64_t>(static_cast<std::uint64_t>(lo >> 64) & mask);
        const auto d3 = static_cast<std::int64_t>(static_cast<std::uint64_t>(lo >> 64) >> 32);
        const auto d4 = static_cast<std::int64_t>(hi);
        // Branch-free negation ((d ^ m) − m is −d for m = −1, d for m = 0): signs of random data
        // would mispredict half the time.
        const std::int64_t m = -static_cast<std::int64_t>(a.neg != b.neg);
        l[0] += (d0 ^ m) - m;
        l[1] += (d1 ^ m) - m;
        l[2] += (d2 ^ m) - m;
        l[3] += (d3 ^ m) - m;
        l[4] += (d4 ^ m) - m;
        if (++count_ == (1u << 30)) normalize();
    }

    // Whether terms fell below a capped grid; tail_bound then sets out ≥ Σ|those terms| (exactly
    // count·2^top_exponent, a power-of-two multiple; out needs ≥ 64 bits).
    bool has_tail() const { return tail_count_ != 0; }
    void tail_bound(mpfr_ptr out) const {
        mpfr_set_ui(out, tail_count_, MPFR_RNDU);
        mpfr_mul_2si(out, out, tail_top_, MPFR_RNDU);
    }

    // out ← the exact sum (out's precision is changed to hold it). Only without a tail.
    void to_mpfr(mpfr_ptr out) {
        assert(!has_tail());
        if (!load_z()) {
            mpfr_set_prec(out, MPFR_PREC_MIN);
            mpfr_set_zero(out, 1);
            return;
        }
        const auto bits = static_cast<mpfr_prec_t>(mpz_sizeinbase(z_, 2));
        mpfr_set_prec(out, std::max<mpfr_prec_t>(bits, MPFR_PREC_MIN));
        [[maybe_unused]] const int inexact = mpfr_set_z_2exp(out, z_, lsb_, MPFR_RNDN);
        assert(inexact == 0);
    }

    // out ← the sum of the added terms (exact) rounded once in direction rnd at out's own precision.
    void to_mpfr_rounded(mpfr_ptr out, mpfr_rnd_t rnd) {
        if (!load_z()) {
            mpfr_set_zero(out, 1);
            return;
        }
        mpfr_set_z_2exp(out, z_, lsb_, rnd);
    }

private:
    // Carries so that every limb but the last lies in [0, 2^32).
    void normalize() {
        for (std::size_t k = 0; k + 1 < limbs_.size(); ++k) {
            const std::int64_t carry = limbs_[k] >> 32;  // arithmetic shift: floor division
            limbs_[k] -= carry * (std::int64_t{1} << 32);
            limbs_[k + 1] += carry;
        }
        count_ = 0;
    }

    // z_ ← the sum / 2^lsb; false when it is zero.
    bool load_z() {
        if (empty_) return false;
        normalize();
        digits_.resize(limbs_.size() - 1);
        for (std::size_t k = 0; k + 1 < limbs_.size(); ++k) digits_[k] = static_cast<std::uint32_t>(limbs_[k]);
        mpz_import(z_, digits_.size(), -1, sizeof(std::uint32_t), 0, 0, digits_.data());
        const std::int64_t top = limbs_.back();
        if (top != 0) {
            mpz_t t;
            mpz_init_set_si(t, static_cast<long>(top));
            mpz_mul_2exp(t, t, 32 * (limbs_.size() - 1));
            mpz_add(z_, z_, t);
            mpz_clear(t);
        }
        return mpz_sgn(z_) != 0;
    }

    std::vector<std::int64_t> limbs_;
    std::vector<std::uint32_t> digits_;
    mpz_t z_;
    int lsb_ = 0;
    bool empty_ = true;
    unsigned count_ = 0;
    unsigned long tail_count_ = 0;
    int tail_top_ = 0;
};

// Grid cap of the Xᵀ·dS sums (see fixed_accumulator::reset): 1024 bits below the largest term,
// far below the 128-bit working precision.
inline constexpr int dw_max_span = 1024;


// A matrix split entry-wise into rows of pieces (transposed on request, so that the inner loop of
// a product reads contiguous memory), with the exponent range of each row.
struct split_matrix {
    std::vector<split_ld> v;       // rows × inner, row-major
    std::vector<exp_range> range;  // per row
    std::ptrdiff_t rows = 0, inner = 0;
    const split_ld* row(std::ptrdiff_t i) const { return v.data() + i * inner; }
};

// Rows of m (transpose = false) or columns of m (transpose = true) as the split rows.
template <class Matrix>
split_matrix split_matrix_of(const Matrix& m, bool transpose) {
    split_matrix s;
    s.rows = transpose ? m.cols() : m.rows();
    s.inner = transpose ? m.rows() : m.cols();
    s.v.resize(static_cast<std::size_t>(s.rows * s.inner));
    s.range.resize(static_cast<std::size_t>(s.rows));
    for (std::ptrdiff_t i = 0; i < s.rows; ++i)
        for (std::ptrdiff_t k = 0; k < s.inner; ++k) {
            const split_ld e = split(static_cast<long double>(transpose ? m(k, i) : m(i, k)));
            s.v[static_cast<std::size_t>(i * s.inner + k)] = e;
            s.range[static_cast<std::size_t>(i)].add(e);
        }
    return s;
}

// Worker threads for the exact stages: `requested` (0 = all hardware threads), but one thread
// when the work is too small to pay for starting threads (≈ 50 µs each).
inline unsigned worker_count(unsigned requested, double work) {
    if (work < 2e5) return 1;
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    return requested == 0 ? hw : requested;
}

// Runs f(begin, end) over [0, n) split into `threads` contiguous blocks, the first on the calling
// thread. Exceptions in workers are rethrown here. MPFR is built thread-safe on Debian (per-thread
// caches and exponent range); callers use explicit precisions only, never Boost's process-wide
// default precision. A worker frees its thread's MPFR caches and mpz pool before it ends: MPFR
// keeps them in thread-local storage (mpfr_exp fills the log 2 cache, every mpz temporary goes back
// to the pool) and nothing else would release them when the thread exits.
template <class F>
void parallel_blocks(std::ptrdiff_t n, unsigned threads, F&& f) {
    if (threads <= 1 || n < 2) {
        f(std::ptrdiff_t{0}, n);
        return;
    }
    threads = static_cast<unsigned>(std::min<std::ptrdiff_t>(threads, n));
    std::vector<std::thread> pool;
    std::vector<std::exception_ptr> errors(threads);
    auto block = [&](unsigned t) { return n * static_cast<std::ptrdiff_t>(t) / static_cast<std::ptrdiff_t>(threads); };
    for (unsigned t = 1; t < threads; ++t)
        pool.emplace_back([&, t] {
            try {
                f(block(t), block(t + 1));
            } catch (...) {
                errors[t] = std::current_exception();
            }
            mpfr_free_cache2(MPFR_FREE_LOCAL_CACHE);
        });
    try {
        f(block(0), block(1));
    } catch (...) {
        errors[0] = std::current_exception();
    }
    for (auto& th : pool) th.join();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
}

// The entries of an N×C matrix of MPFR numbers (get(i, j)) as ⌈bits/64⌉ pieces each, stored by
// column j so that Xᵀ·M reads them contiguously, with the exponent range of each column.
struct piece_matrix {
    std::ptrdiff_t rows = 0, cols = 0, per = 0;
    std::vector<split_ld> v;          // ((j·rows + i)·per + piece)
    std::vector<int> top;             // (j·rows + i): 2^top bounds |entry|; INT_MIN for zero
    std::vector<exp_range> col_range;
    int top_at(std::ptrdiff_t i, std::ptrdiff_t j) const { return top[static_cast<std::size_t>(j * rows + i)]; }
    const split_ld* at(std::ptrdiff_t i, std::ptrdiff_t j) const { return v.data() + (j * rows + i) * per; }
};

template <class Get>
piece_matrix split_pieces(std::ptrdiff_t rows, std::ptrdiff_t cols, mpfr_prec_t bits, Get&& get) {
    piece_matrix m;
    m.rows = rows;
    m.cols = cols;
    m.per = (bits + 63) / 64;
    m.v.resize(static_cast<std::size_t>(rows * cols * m.per));
    m.col_range.resize(static_cast<std::size_t>(cols));
    m.top.assign(static_cast<std::size_t>(rows * cols), std::numeric_limits<int>::min());
    mpz_t z;
    mpz_init(z);
    std::vector<split_ld> pieces;
    for (std::ptrdiff_t j = 0; j < cols; ++j)
        for (std::ptrdiff_t i = 0; i < rows; ++i) {
            mpfr_srcptr x = get(i, j);
            assert(mpfr_get_prec(x) <= bits && !mpfr_nan_p(x) && !mpfr_inf_p(x));
            pieces.clear();
            split_mpfr(x, z, pieces);
            split_ld* out = m.v.data() + (j * rows + i) * m.per;
            for (std::size_t p = 0; p < pieces.size(); ++p) {
                out[p] = pieces[p];
                m.col_range[static_cast<std::size_t>(j)].add(pieces[p]);
                auto& t = m.top[static_cast<std::size_t>(j * rows + i)];
                t = std::max(t, pieces[p].exp + 64);
            }
        }
    mpz_clear(z);
    return m;
}

// 2^result bounds the largest |x_i|·|entry (i, j)| of Σ_i x_i·M_ij (INT_MIN when every term is 0).
inline int largest_term_exponent(const split_ld* x, const piece_matrix& m, std::ptrdiff_t j) {
    int top = std::numeric_limits<int>::min();
    const int* t = m.top.data() + j * m.rows;
    for (std::ptrdiff_t i = 0; i < m.rows; ++i)
        if (x[i].sig != 0 && t[i] != std::numeric_limits<int>::min()) top = std::max(top, x[i].exp + 64 + t[i]);
    return top;
}

// Enclosures of out(k, j) = Σ_i X(i, k)·M(i, j) for every M with lo ≤ M ≤ hi entry-wise: for
// x ≥ 0, x·lo ≤ x·m ≤ x·hi (swapped for x < 0); summing these inequalities over i encloses the sum
// by two sums, each exact (capped grid as the dW stages, widened by its tail bound), rounded
// outward once at prec. xc = columns of X (split_matrix_of(X, true)); lo, hi from split_pieces.
// done(k, j, lo_t, hi_t, scratch) receives the bounds and a scratch number, all of precision prec
// and its to modify; it runs on the worker threads.
template <class Done>
void enclosed_transposed_products(const split_matrix& xc, const piece_matrix& lo, const piece_matrix& hi,
                                  mpfr_prec_t prec, unsigned workers, Done done) {
    const std::ptrdiff_t inner = lo.rows, cols = lo.cols;
    parallel_blocks(xc.rows, workers, [&](std::ptrdiff_t begin, std::ptrdiff_t end) {
        fixed_accumulator acc_lo, acc_hi;
        mpfr_num lo_t(prec), hi_t(prec), tail(prec);
        for (std::ptrdiff_t k = begin; k < end; ++k)
            for (std::ptrdiff_t j = 0; j < cols; ++j) {
                exp_range range = lo.col_range[static_cast<std::size_t>(j)];
                const exp_range& other = hi.col_range[static_cast<std::size_t>(j)];
                if (!other.empty()) range.lo = std::min(range.lo, other.lo), range.hi = std::max(range.hi, other.hi);
                const split_ld* x = xc.row(k);
                const int top = std::max(largest_term_exponent(x, lo, j), largest_term_exponent(x, hi, j));
                acc_lo.reset(xc.range[static_cast<std::size_t>(k)], range, dw_max_span, top);
                acc_hi.reset(xc.range[static_cast<std::size_t>(k)], range, dw_max_span, top);
                for (std::ptrdiff_t i = 0; i < inner; ++i) {
                    if (x[i].sig == 0) continue;
                    const split_ld* a = lo.at(i, j);
                    const split_ld* b = hi.at(i, j);
                    if (x[i].neg) std::swap(a, b);
                    for (std::ptrdiff_t p = 0; p < lo.per; ++p) {
                        acc_lo.add(x[i], a[p]);
                        acc_hi.add(x[i], b[p]);
                    }
                }
                acc_lo.to_mpfr_rounded(lo_t, MPFR_RNDD);
                acc_hi.to_mpfr_rounded(hi_t, MPFR_RNDU);
                if (acc_lo.has_tail()) {  // terms below the capped grid: widen by their bound
                    acc_lo.tail_bound(tail);
                    mpfr_sub(lo_t, lo_t, tail, MPFR_RNDD);
                }
                if (acc_hi.has_tail()) {
                    acc_hi.tail_bound(tail);
                    mpfr_add(hi_t, hi_t, tail, MPFR_RNDU);
                }
                done(k, j, static_cast<mpfr_ptr>(lo_t), static_cast<mpfr_ptr>(hi_t), static_cast<mpfr_ptr>(tail));
            }
    });
}

// S = X·W exactly, each entry at the precision it needs: xr = rows of X, wc = columns of W.
inline void exact_products(const split_matrix& xr, const split_matrix& wc, mpfr_vec& out, unsigned workers) {
    const std::ptrdiff_t c = wc.rows, d = xr.inner;
    parallel_blocks(xr.rows, workers, [&](std::ptrdiff_t begin, std::ptrdiff_t end) {
        fixed_accumulator acc;
        for (std::ptrdiff_t i = begin; i < end; ++i)
            for (std::ptrdiff_t j = 0; j < c; ++j) {
                acc.reset(xr.range[static_cast<std::size_t>(i)], wc.range[static_cast<std::size_t>(j)]);
                const split_ld* x = xr.row(i);
                const split_ld* w = wc.row(j);
                for (std::ptrdiff_t k = 0; k < d; ++k) acc.add(x[k], w[k]);
                acc.to_mpfr(out[i * c + j]);
            }
    });
}

}  // namespace gradproof::reference::detail
