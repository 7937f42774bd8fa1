// See ozaki_product.hpp for the splitting and its error analysis.
#include "reference/ozaki_product.hpp"

#include "core/validate.hpp"
#include "kernels/kernel_isa.hpp"
#include "reference/exact_sum.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace gradproof::reference {

namespace {

using dmatrix = matrix<double>;
using ldmatrix = matrix<long double>;

constexpr long double u53 = 0x1p-53L, u64 = 0x1p-64L, slack = 1 + 0x1p-58L;
constexpr double tiny = std::numeric_limits<double>::denorm_min();
constexpr int no_exponent = INT_MIN;  // an all-zero row or column

int ceil_log2(Eigen::Index k) {
    int b = 0;
    while ((Eigen::Index{1} << b) < k) ++b;
    return b;
}

// e with max |line| < 2^e, per row (rows) or column of M; no_exponent for a zero line.
std::vector<int> line_exponents(const dmatrix& M, bool rows) {
    Eigen::VectorXd max = rows ? Eigen::VectorXd(M.cwiseAbs().rowwise().maxCoeff()) : Eigen::VectorXd(M.cwiseAbs().colwise().maxCoeff().transpose());
    std::vector<int> e(static_cast<std::size_t>(max.size()), no_exponent);
    for (Eigen::Index q = 0; q < max.size(); ++q)
        if (max[q] != 0) std::frexp(max[q], &e[static_cast<std::size_t>(q)]);  // max = f·2^e, f ∈ [½, 1)
    return e;
}

// Slices 1..s of M along its rows (rows) or columns: slice t on the grid 2^g, g = e − t·β, as
// fl(fl(R + σ) − σ) with σ = 1.5·2^(g + 52): ulp(σ) = 2^g and |R| < 2^(g + 51), so R + σ rounds R to
// the nearest multiple of 2^g and the subtraction is exact (Ozaki et al. 2012, Algorithm 3).
std::vector<dmatrix> split(const dmatrix& M, bool rows, const std::vector<int>& e, int beta, int s) {
    std::vector<dmatrix> out;
    dmatrix R = M;
    std::vector<double> sigma(e.size());
    for (int t = 1; t <= s; ++t) {
        for (std::size_t q = 0; q < e.size(); ++q) sigma[q] = e[q] == no_exponent ? 0.0 : std::ldexp(1.5, e[q] - t * beta + 52);
        dmatrix S(M.rows(), M.cols());
        for (Eigen::Index i = 0; i < M.rows(); ++i) {
            const double* r = &R(i, 0);
            double* out_row = &S(i, 0);
            double* rest = &R(i, 0);
            if (rows) {
                const double sg = sigma[static_cast<std::size_t>(i)];
                for (Eigen::Index l = 0; l < M.cols(); ++l) {
                    const double v = (r[l] + sg) - sg;
                    out_row[l] = v;
                    rest[l] = r[l] - v;
                }
            } else {
                for (Eigen::Index l = 0; l < M.cols(); ++l) {
                    const double sg = sigma[static_cast<std::size_t>(l)];
                    const double v = (r[l] + sg) - sg;
                    out_row[l] = v;
                    rest[l] = r[l] - v;
                }
            }
        }
        out.push_back(std::move(S));
    }
    return out;
}

// c (m×p, row stride ldc) = a·b, row-major with row strides, by the accelerated build's GEMM when
// one is selected (kernels/kernel_isa.hpp), else this build's Eigen.
void multiply(const double* a, Eigen::Index lda, const double* b, Eigen::Index ldb, double* c, Eigen::Index ldc,
              Eigen::Index m, Eigen::Index k, Eigen::Index p) {
    if (gradproof::detail::run_accelerated_gemm(a, lda, b, ldb, c, ldc, m, k, p)) return;
    using S = Eigen::OuterStride<>;
    Eigen::Map<dmatrix, 0, S>(c, m, p, S(ldc)).noalias() =
        Eigen::Map<const dmatrix, 0, S>(a, m, k, S(lda)) * Eigen::Map<const dmatrix, 0, S>(b, k, p, S(ldb));
}

unsigned worker_threads(unsigned threads) {
    return threads != 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
}

// Runs block(begin, end) over the larger of A's rows and B's columns.
template <class Block>
void over_blocks(Eigen::Index m, Eigen::Index p, unsigned threads, Block block) {
    detail::parallel_blocks(std::max(m, p), threads, [&](std::ptrdiff_t b0, std::ptrdiff_t b1) { block(m >= p, b0, b1 - b0); });
}

// block(by_rows, b0, len, a, b, c): c = a·b for rows [b0, b0 + len) of A (by_rows) or columns of B.
template <class Block>
void over_product_blocks(const dmatrix& A, const dmatrix& B, unsigned threads, Block block) {
    const Eigen::Index m = A.rows(), k = A.cols(), p = B.cols();
    over_blocks(m, p, threads, [&](bool by_rows, Eigen::Index b0, Eigen::Index len) {
        auto times = [&](const dmatrix& a, const dmatrix& b, dmatrix& c) {
            if (by_rows) multiply(a.data() + b0 * k, k, b.data(), p, c.data() + b0 * p, p, len, k, p);
            else multiply(a.data(), k, b.data() + b0, p, c.data() + b0, p, m, k, len);
        };
        block(times);
    });
}

}  // namespace

product_enclosure enclose_product_a_priori(const dmatrix& A, const dmatrix& B, unsigned threads) {
    using gradproof::detail::throw_invalid;
    if (A.cols() != B.rows())
        throw_invalid("B", "has " + std::to_string(B.rows()) + " rows but A has " + std::to_string(A.cols()) + " columns");
    const Eigen::Index m = A.rows(), p = B.cols(), k = A.cols();
    product_enclosure r;
    r.error_free = false;
    r.mid = dmatrix::Zero(m, p);
    r.rad = dmatrix::Zero(m, p);
    if (k == 0) return r;
    // For A, B ≥ 0, |A|·|B| is the product itself: one GEMM instead of two.
    const bool nonnegative = (A.array() >= 0).all() && (B.array() >= 0).all();
    const dmatrix aA = nonnegative ? dmatrix() : dmatrix(A.cwiseAbs()), aB = nonnegative ? dmatrix() : dmatrix(B.cwiseAbs());
    over_product_blocks(A, B, worker_threads(threads), [&](auto times) {
        times(A, B, r.mid);
        if (!nonnegative) times(aA, aB, r.rad);
    });
    if (nonnegative) r.rad = r.mid;
    const long double kk = static_cast<long double>(k), g = kk * u53 / (1 - kk * u53);
    for (Eigen::Index q = 0; q < r.rad.size(); ++q)
        r.rad.data()[q] = round_up((g * static_cast<long double>(r.rad.data()[q]) * (1 + 2 * g) + (kk + 1) * tiny) * slack);
    return r;
}

product_enclosure enclose_product(const dmatrix& A, const dmatrix& B, int slices_a, int slices_b, unsigned threads) {
    using gradproof::detail::throw_invalid;
    if (slices_a < 1) throw_invalid("slices_a", "must be at least 1");
    if (slices_b < 1) throw_invalid("slices_b", "must be at least 1");
    if (A.cols() != B.rows())
        throw_invalid("B", "has " + std::to_string(B.rows()) + " rows but A has " + std::to_string(A.cols()) + " columns");
    const Eigen::Index m = A.rows(), k = A.cols(), p = B.cols();
    threads = worker_threads(threads);
    const int beta = (53 - ceil_log2(std::max<Eigen::Index>(k, 1))) / 2;
    const std::vector<int> ea = line_exponents(A, true), fb = line_exponents(B, false);
    auto present = [](const std::vector<int>& e) {
        std::vector<int> out;
        for (int x : e)
            if (x != no_exponent) out.push_back(x);
        return out;
    };
    const std::vector<int> pa = present(ea), pb = present(fb);
    product_enclosure r;
    if (pa.empty() || pb.empty() || k == 0) {  // A·B = 0 exactly
        r.mid = dmatrix::Zero(m, p);
        r.rad = dmatrix::Zero(m, p);
        return r;
    }
    const int lo_a = *std::min_element(pa.begin(), pa.end()), hi_a = *std::max_element(pa.begin(), pa.end());
    const int lo_b = *std::min_element(pb.begin(), pb.end()), hi_b = *std::max_element(pb.begin(), pb.end());
    // Slices and their products normal, the products' sums finite, and σ = 1.5·2^(e − β + 52) finite.
    if (beta < 1 || lo_a - slices_a * beta < -1021 || lo_b - slices_b * beta < -1021 ||
        lo_a - slices_a * beta + lo_b - slices_b * beta < -1021 || hi_a + hi_b + ceil_log2(k) > 1022 ||
        std::max(hi_a, hi_b) - beta + 53 > 1023)
        return enclose_product_a_priori(A, B, threads);

    const std::vector<dmatrix> As = split(A, true, ea, beta, slices_a), Bs = split(B, false, fb, beta, slices_b);
    auto is_zero = [](const dmatrix& S) { return (S.array() == 0).all(); };
    std::vector<char> a_zero, b_zero;
    for (const auto& S : As) a_zero.push_back(is_zero(S));
    for (const auto& S : Bs) b_zero.push_back(is_zero(S));

    ldmatrix sum = ldmatrix::Zero(m, p), mag = ldmatrix::Zero(m, p);
    over_blocks(m, p, threads, [&](bool by_rows, Eigen::Index b0, Eigen::Index len) {
        dmatrix P;
        for (std::size_t ta = 0; ta < As.size(); ++ta)
            for (std::size_t tb = 0; tb < Bs.size(); ++tb) {
                if (a_zero[ta] || b_zero[tb]) continue;
                if (by_rows) {
                    P.resize(len, p);
                    multiply(As[ta].data() + b0 * k, k, Bs[tb].data(), p, P.data(), p, len, k, p);
                } else {
                    P.resize(m, len);
                    multiply(As[ta].data(), k, Bs[tb].data() + b0, p, P.data(), len, m, k, len);
                }
                for (Eigen::Index i = 0; i < P.rows(); ++i)
                    for (Eigen::Index j = 0; j < P.cols(); ++j) {
                        const Eigen::Index gi = by_rows ? b0 + i : i, gj = by_rows ? j : b0 + j;
                        sum(gi, gj) += P(i, j);
                        mag(gi, gj) += std::fabs(static_cast<long double>(P(i, j)));
                    }
            }
    });

    // Truncation: (q_i/2)·Σ_l|b_lj| + (r_j/2)·(Σ_l|a_il| + k·q_i/2), sums in long double (γ'_{k+1}).
    const long double sum_slack = 1 + static_cast<long double>(k + 1) * 2 * u64;
    std::vector<long double> row_abs(static_cast<std::size_t>(m), 0), col_abs(static_cast<std::size_t>(p), 0), qa(row_abs.size(), 0),
        rb(col_abs.size(), 0);
    for (Eigen::Index i = 0; i < m; ++i) {
        for (Eigen::Index l = 0; l < k; ++l) row_abs[static_cast<std::size_t>(i)] += std::fabs(static_cast<long double>(A(i, l)));
        const int e = ea[static_cast<std::size_t>(i)];
        if (e != no_exponent) qa[static_cast<std::size_t>(i)] = std::ldexp(1.0L, e - slices_a * beta);
    }
    for (Eigen::Index l = 0; l < k; ++l)
        for (Eigen::Index j = 0; j < p; ++j) col_abs[static_cast<std::size_t>(j)] += std::fabs(static_cast<long double>(B(l, j)));
    for (Eigen::Index j = 0; j < p; ++j) {
        const int f = fb[static_cast<std::size_t>(j)];
        if (f != no_exponent) rb[static_cast<std::size_t>(j)] = std::ldexp(1.0L, f - slices_b * beta);
    }
    const long double terms = static_cast<long double>(slices_a * slices_b);
    r.mid.resize(m, p);
    r.rad.resize(m, p);
    for (Eigen::Index i = 0; i < m; ++i)
        for (Eigen::Index j = 0; j < p; ++j) {
            const long double s = sum(i, j);
            const double mid = static_cast<double>(s);
            const long double q = qa[static_cast<std::size_t>(i)], rr = rb[static_cast<std::size_t>(j)];
            const long double trunc =
                (q / 2 * col_abs[static_cast<std::size_t>(j)] +
                 rr / 2 * (row_abs[static_cast<std::size_t>(i)] + static_cast<long double>(k) * q / 2)) *
                sum_slack;
            r.mid(i, j) = mid;
            r.rad(i, j) = round_up((std::fabs(s - static_cast<long double>(mid)) + terms * u64 * mag(i, j) * slack + trunc) * slack);
        }
    return r;
}

}  // namespace gradproof::reference
