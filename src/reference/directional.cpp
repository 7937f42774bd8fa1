// See directional.hpp for the method and its error analysis.
#include "reference/directional.hpp"

// core/validate.hpp names boost::multiprecision::isfinite without including Boost.Multiprecision.
#include <boost/multiprecision/number.hpp>

#include "core/validate.hpp"
#include "reference/exact_sum.hpp"
#include "reference/mpfr_support.hpp"

#include <mpfr.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace gradproof::reference {

namespace detail {
namespace {

// out ← Σ_k a_k·b_k exactly over all entries of two equally shaped matrices, then rounded to
// nearest at out's precision.
void flat_dot(mpfr_ptr out, const lmatrix& a, const lmatrix& b) {
    std::vector<split_ld> sa(static_cast<std::size_t>(a.size())), sb(sa.size());
    exp_range ra, rb;
    for (Eigen::Index k = 0; k < a.size(); ++k) {
        sa[static_cast<std::size_t>(k)] = split(a.data()[k]);
        sb[static_cast<std::size_t>(k)] = split(b.data()[k]);
        ra.add(sa[static_cast<std::size_t>(k)]);
        rb.add(sb[static_cast<std::size_t>(k)]);
    }
    fixed_accumulator acc;
    acc.reset(ra, rb);
    for (std::size_t k = 0; k < sa.size(); ++k) acc.add(sa[k], sb[k]);
    acc.to_mpfr_rounded(out, MPFR_RNDN);
}

// L(W + t·V) = (1/N) Σ_i ℓ_i(S_i + t·SV_i) + c0 + c1·t + c2·t², everything at `prec` bits.
class loss_line {
public:
    loss_line(const mpfr_vec& s0, const mpfr_vec& sv, const label_vector& y, Eigen::Index n, Eigen::Index c,
              mpfr_prec_t prec, unsigned workers)
        : s0_(s0), sv_(sv), y_(y), n_(n), c_(c), prec_(prec), workers_(workers), c0_(prec), c1_(prec), c2_(prec) {}

    mpfr_ptr c0() { return c0_; }
    mpfr_ptr c1() { return c1_; }
    mpfr_ptr c2() { return c2_; }

    void eval(mpfr_ptr out, mpfr_srcptr t) const {
        const unsigned blocks = std::max(1u, workers_);
        mpfr_vec partial(blocks, prec_);
        parallel_blocks(static_cast<std::ptrdiff_t>(blocks), blocks, [&](std::ptrdiff_t b0, std::ptrdiff_t b1) {
            for (std::ptrdiff_t b = b0; b < b1; ++b)
                rows(partial[b], n_ * b / blocks, n_ * (b + 1) / blocks, t);
        });
        mpfr_set_zero(out, 1);
        for (unsigned b = 0; b < blocks; ++b) mpfr_add(out, out, partial[b], MPFR_RNDN);  // fixed order
        mpfr_div_ui(out, out, static_cast<unsigned long>(n_), MPFR_RNDN);
        mpfr_num u(prec_), v(prec_);
        mpfr_mul(u, c2_, t, MPFR_RNDN);  // (c2·t + c1)·t + c0
        mpfr_add(u, u, c1_, MPFR_RNDN);
        mpfr_mul(u, u, t, MPFR_RNDN);
        mpfr_add(u, u, c0_, MPFR_RNDN);
        mpfr_add(out, out, u, MPFR_RNDN);
    }

private:
    // Σ_{i ∈ [begin, end)} ℓ_i with the shifted formula of point.cpp: ℓ = log1p(s) − (z_y − a).
    void rows(mpfr_ptr sum, Eigen::Index begin, Eigen::Index end, mpfr_srcptr t) const {
        mpfr_vec z(c_, prec_);
        mpfr_num e(prec_), s(prec_), l(prec_);
        mpfr_set_zero(sum, 1);
        for (Eigen::Index i = begin; i < end; ++i) {
            Eigen::Index k = 0;
            for (Eigen::Index j = 0; j < c_; ++j) {
                mpfr_mul(z[j], sv_[i * c_ + j], t, MPFR_RNDN);
                mpfr_add(z[j], z[j], s0_[i * c_ + j], MPFR_RNDN);
                if (mpfr_greater_p(z[j], z[k])) k = j;
            }
            mpfr_set_zero(s, 1);
            for (Eigen::Index j = 0; j < c_; ++j) {
                if (j == k) continue;
                mpfr_sub(e, z[j], z[k], MPFR_RNDN);
                mpfr_exp(e, e, MPFR_RNDN);
                mpfr_add(s, s, e, MPFR_RNDN);
            }
            mpfr_log1p(l, s, MPFR_RNDN);
            const auto yi = static_cast<Eigen::Index>(y_[static_cast<std::size_t>(i)]);
            mpfr_sub(e, z[k], z[yi], MPFR_RNDN);  // a − z_y ≥ 0
            mpfr_add(l, l, e, MPFR_RNDN);
            mpfr_add(sum, sum, l, MPFR_RNDN);
        }
    }

    const mpfr_vec& s0_;
    const mpfr_vec& sv_;
    const label_vector& y_;
    Eigen::Index n_, c_;
    mpfr_prec_t prec_;
    unsigned workers_;
    mpfr_num c0_, c1_, c2_;
};

long double max_abs(const lmatrix& m) { return m.size() == 0 ? 0.0L : m.cwiseAbs().maxCoeff(); }

}  // namespace
}  // namespace detail

std::vector<fd::fd_estimate> loss_directional_derivatives(const lmatrix& W, const lmatrix& X, const label_vector& y,
                                                          long double reg, const std::vector<lmatrix>& directions,
                                                          const fd::fd_options& options, unsigned threads) {
    using namespace detail;
    validate_softmax_loss(W, X, y, reg);
    for (const auto& v : directions) {
        if (v.rows() != W.rows() || v.cols() != W.cols())
            gradproof::detail::throw_invalid("direction", "must have W's shape");
        if (!v.allFinite()) gradproof::detail::throw_invalid("direction", "must be finite");
    }
    const Eigen::Index n = X.rows(), d = X.cols(), c = W.cols();
    const auto prec = static_cast<mpfr_prec_t>(options.bits);
    const unsigned workers = worker_count(threads, static_cast<double>(n) * static_cast<double>(d) * static_cast<double>(c));
    const mp_precision_guard guard(options.bits);

    const split_matrix xr = split_matrix_of(X, false);
    mpfr_vec s0(n * c, MPFR_PREC_MIN), sv(n * c, MPFR_PREC_MIN);
    exact_products(xr, split_matrix_of(W, true), s0, workers);
    for (Eigen::Index k = 0; k < n * c; ++k) mpfr_prec_round(s0[k], prec, MPFR_RNDN);
    mpfr_num half_reg(prec), w_sq(prec);
    mpfr_set_ld(half_reg, reg, MPFR_RNDN);
    mpfr_div_2ui(half_reg, half_reg, 1, MPFR_RNDN);  // exact
    flat_dot(w_sq, W, W);

    std::vector<fd::fd_estimate> out;
    out.reserve(directions.size());
    for (const auto& v : directions) {
        const long double v_inf = max_abs(v);
        if (v_inf == 0) {
            out.push_back({mp_real(0), mp_real(0)});  // exactly 0 along the zero direction
            continue;
        }
        // Direction scaled by a power of two (exact) so that t's step 1e−12·max(1, |W|∞) is the
        // largest coordinate perturbation, as in fd::directional; the result is scaled back.
        const int scale_exp = std::ilogb(std::max(1.0L, max_abs(W))) - std::ilogb(v_inf);
        exact_products(xr, split_matrix_of(v, true), sv, workers);
        for (Eigen::Index k = 0; k < n * c; ++k) {
            mpfr_prec_round(sv[k], prec, MPFR_RNDN);
            mpfr_mul_2si(sv[k], sv[k], scale_exp, MPFR_RNDN);
        }
        loss_line line(s0, sv, y, n, c, prec, workers);
        mpfr_mul(line.c0(), w_sq, half_reg, MPFR_RNDN);  // c0 = ½reg‖W‖²
        flat_dot(line.c1(), W, v);                        // c1 = reg⟨W, V⟩·2^scale
        mpfr_mul_2si(line.c1(), line.c1(), scale_exp + 1, MPFR_RNDN);
        mpfr_mul(line.c1(), line.c1(), half_reg, MPFR_RNDN);
        flat_dot(line.c2(), v, v);                        // c2 = ½reg‖V‖²·2^(2·scale)
        mpfr_mul_2si(line.c2(), line.c2(), 2 * scale_exp, MPFR_RNDN);
        mpfr_mul(line.c2(), line.c2(), half_reg, MPFR_RNDN);
        fd::fd_estimate e = fd::derivative(
            [&](const mp_real& t) {
                mp_real r;
                line.eval(r.backend().data(), t.backend().data());
                return r;
            },
            mp_real(0), options);
        e.value = ldexp(e.value, -scale_exp);  // exact
        e.error_estimate = ldexp(e.error_estimate, -scale_exp);
        out.push_back(std::move(e));
    }
    return out;
}

}  // namespace gradproof::reference
