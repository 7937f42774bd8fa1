// Tests of reference/cross_entropy_options.hpp against independent facts: closed forms (log C,
// full smoothing), identities between reductions, the ignore mask, the z-loss and soft-cap
// derivatives, fused = plain on exactly representable H·Wᵀ + b, central differences of an
// independent 256-bit evaluation of plugin.h's formula, and the certified enclosures. Every
// tolerance is derived at its use from the long double rounding of the values compared.
#include "core/scalar.hpp"
#include "reference/cross_entropy_options.hpp"

#include "support/throws_invalid.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace gradproof::reference {
namespace {

using ld_limits = std::numeric_limits<long double>;
const long double u_ld = std::ldexp(1.0L, -ld_limits::digits);

lmatrix random_matrix(std::mt19937_64& rng, Eigen::Index rows, Eigen::Index cols, double scale) {
    std::normal_distribution<double> nd(0, 1);
    lmatrix m(rows, cols);
    for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = static_cast<long double>(nd(rng) * scale);
    return m;
}

std::vector<long double> random_weights(std::mt19937_64& rng, Eigen::Index c) {
    std::uniform_real_distribution<double> ud(0.25, 4);
    std::vector<long double> w(static_cast<std::size_t>(c));
    for (auto& v : w) v = static_cast<long double>(ud(rng));
    return w;
}

label_vector random_labels(std::mt19937_64& rng, Eigen::Index n, Eigen::Index c) {
    label_vector y(static_cast<std::size_t>(n));
    for (auto& v : y) v = static_cast<std::int32_t>(rng() % static_cast<std::uint64_t>(c));
    return y;
}

// |a − b| ≤ k·u_ld·scale (scale: the magnitude the compared quantities were formed from).
testing::AssertionResult near(long double a, long double b, long double k, long double scale) {
    const long double tol = k * u_ld * scale;
    if (std::fabs(a - b) <= tol) return testing::AssertionSuccess();
    return testing::AssertionFailure() << a << " vs " << b << ": |diff| " << std::fabs(a - b) << " > " << tol;
}


ce_options opts(reduction r, double eps = 0, double s = 0, double cap = 0) {
    ce_options o;
    o.reduce = r;
    o.label_smoothing = eps;
    o.lse_square_scale = s;
    o.softcap = cap;
    return o;
}

std::vector<long double> ones(std::size_t k) { return std::vector<long double>(k, 1.0L); }

TEST(CrossEntropyOptionsReference, UniformLogitsGiveLogC) {
    for (Eigen::Index c : {1, 2, 7, 1000}) {
        const lmatrix z = lmatrix::Constant(3, c, 3.5L);
        const long double log_c = std::log(static_cast<long double>(c));
        for (double eps : {0.0, 0.3, 1.0}) {
            const auto r = cross_entropy_with_options(z, {0, static_cast<std::int32_t>(c - 1), 0}, opts(reduction::none, eps),
                                                      {}, lmatrix(), ones(3));
            // Every lse − z_c is log C, so ce = ((1−ε) + ε)·log C; std::log is within an ulp.
            for (long double l : r.loss) EXPECT_TRUE(near(l, log_c, 4, log_c)) << "C = " << c << " ε = " << eps;
            for (Eigen::Index j = 0; j < c; ++j)
                EXPECT_TRUE(near(r.probs(0, j), 1.0L / static_cast<long double>(c), 2, 1.0L));
        }
    }
}

TEST(CrossEntropyOptionsReference, FullSmoothingWithEqualWeightsIsTheMeanOfLseMinusZ) {
    std::mt19937_64 rng(3);
    const Eigen::Index n = 4, c = 9;
    const lmatrix z = random_matrix(rng, n, c, 2);
    const std::vector<long double> w(static_cast<std::size_t>(c), 2.5L);
    const auto r = cross_entropy_with_options(z, random_labels(rng, n, c), opts(reduction::none, 1.0), w, lmatrix(), ones(n));
    for (Eigen::Index i = 0; i < n; ++i) {
        // Independent: lse by long double exp/log of moderate logits (each within 2 ulps).
        long double se = 0;
        for (Eigen::Index j = 0; j < c; ++j) se += std::exp(z(i, j));
        const long double lse = std::log(se);
        long double mean = 0, mag = 0;
        for (Eigen::Index j = 0; j < c; ++j) {
            mean += 2.5L * (lse - z(i, j)) / static_cast<long double>(c);
            mag += 2.5L * (std::fabs(lse) + std::fabs(z(i, j))) / static_cast<long double>(c);
        }
        EXPECT_TRUE(near(r.loss[static_cast<std::size_t>(i)], mean, 4 * (c + 4), mag));
    }
}

TEST(CrossEntropyOptionsReference, ReductionsAgree) {
    std::mt19937_64 rng(4);
    const Eigen::Index n = 6, c = 11;
    const lmatrix z = random_matrix(rng, n, c, 3);
    const auto w = random_weights(rng, c);
    label_vector y = random_labels(rng, n, c);
    ce_options base = opts(reduction::none, 0.1, 0.01, 5);
    base.has_ignore_index = true;
    base.ignore_index = 2;  // a real class: rows labelled 2 are ignored
    y[1] = 2;
    const auto none = cross_entropy_with_options(z, y, base, w, lmatrix(), ones(n));
    ce_options o = base;
    o.reduce = reduction::sum;
    const auto sum = cross_entropy_with_options(z, y, o, w, lmatrix(), {1.0L});
    o.reduce = reduction::mean;
    const auto mean = cross_entropy_with_options(z, y, o, w, lmatrix(), {1.0L});
    long double total = 0, ce = 0, zl = 0, W = 0, K = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
        const auto k = static_cast<std::size_t>(i);
        total += none.loss[k];
        ce += none.row_ce[k];
        zl += none.row_zloss[k];
        if (y[k] == 2) {
            EXPECT_EQ(none.loss[k], 0);
            for (Eigen::Index j = 0; j < c; ++j) EXPECT_EQ(none.dlogits(i, j), 0);
            continue;
        }
        W += w[static_cast<std::size_t>(y[k])];
        K += 1;
    }
    EXPECT_TRUE(near(sum.loss[0], total, 2 * (n + 2), total));
    EXPECT_EQ(mean.ce_divisor, W);
    EXPECT_EQ(mean.z_divisor, K);
    EXPECT_TRUE(near(mean.loss[0], ce / W + zl / K, 2 * (n + 4), ce / W + zl / K));
    // With dloss = 1 everywhere the none and sum gradients coincide (same function summed).
    for (Eigen::Index k = 0; k < z.size(); ++k) EXPECT_EQ(none.dlogits.data()[k], sum.dlogits.data()[k]);
}

TEST(CrossEntropyOptionsReference, MeanIsSumOverWeightSumAndIgnoredRowsAreNotRead) {
    std::mt19937_64 rng(5);
    const Eigen::Index n = 5, c = 6;
    lmatrix z = random_matrix(rng, n, c, 2);
    const auto w = random_weights(rng, c);
    label_vector y = random_labels(rng, n, c);
    ce_options o = opts(reduction::sum, 0.2);
    o.has_ignore_index = true;
    o.ignore_index = -100;
    const auto base = cross_entropy_with_options(z, y, o, w, lmatrix(), {1.5L});
    // Add a sixth row that is ignored, holding NaN: nothing may change.
    lmatrix z2(n + 1, c);
    z2.topRows(n) = z;
    z2.row(n).setConstant(ld_limits::quiet_NaN());
    label_vector y2 = y;
    y2.push_back(-100);
    const auto more = cross_entropy_with_options(z2, y2, o, w, lmatrix(), {1.5L});
    EXPECT_EQ(more.loss[0], base.loss[0]);
    for (Eigen::Index j = 0; j < c; ++j) EXPECT_EQ(more.dlogits(n, j), 0);
    for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index j = 0; j < c; ++j) EXPECT_EQ(more.dlogits(i, j), base.dlogits(i, j));
    o.reduce = reduction::mean;
    const auto mean = cross_entropy_with_options(z, y, o, w, lmatrix(), {1.5L});
    long double W = 0;
    for (auto l : y) W += w[static_cast<std::size_t>(l)];
    EXPECT_TRUE(near(mean.loss[0], base.loss[0] / W, 4, base.loss[0] / W));
    for (Eigen::Index k = 0; k < z.size(); ++k)
        EXPECT_TRUE(near(mean.dlogits.data()[k], base.dlogits.data()[k] / W, 4, std::fabs(base.dlogits.data()[k] / W) + 1e-30L));
}

TEST(CrossEntropyOptionsReference, EveryRowIgnored) {
    const lmatrix z = lmatrix::Constant(3, 4, 1.0L);
    ce_options o = opts(reduction::mean, 0.1, 0.1);
    o.has_ignore_index = true;
    o.ignore_index = 1;
    const auto mean = cross_entropy_with_options(z, {1, 1, 1}, o, {}, lmatrix(), {1.0L});
    EXPECT_TRUE(std::isnan(mean.loss[0]));
    EXPECT_TRUE(mean.all_ignored);
    EXPECT_TRUE((mean.dlogits.array() == 0).all());
    o.reduce = reduction::sum;
    EXPECT_EQ(cross_entropy_with_options(z, {1, 1, 1}, o, {}, lmatrix(), {1.0L}).loss[0], 0);
    o.reduce = reduction::none;
    for (long double l : cross_entropy_with_options(z, {1, 1, 1}, o, {}, lmatrix(), ones(3)).loss) EXPECT_EQ(l, 0);
}

TEST(CrossEntropyOptionsReference, ZLossGradientIsTwoSLseP) {
    std::mt19937_64 rng(6);
    const Eigen::Index n = 3, c = 8;
    const lmatrix z = random_matrix(rng, n, c, 4);
    const label_vector y = random_labels(rng, n, c);
    const double s = 0.125;
    const auto with = cross_entropy_with_options(z, y, opts(reduction::sum, 0, s), {}, lmatrix(), {1.0L});
    const auto without = cross_entropy_with_options(z, y, opts(reduction::sum), {}, lmatrix(), {1.0L});
    for (Eigen::Index i = 0; i < n; ++i) {
        const long double lse = with.lse[static_cast<std::size_t>(i)];
        EXPECT_TRUE(near(with.row_zloss[static_cast<std::size_t>(i)], s * lse * lse, 4, s * lse * lse));
        for (Eigen::Index j = 0; j < c; ++j) {
            const long double expect = 2 * s * lse * with.probs(i, j);
            EXPECT_TRUE(near(with.dlogits(i, j) - without.dlogits(i, j), expect, 8, 1 + std::fabs(expect)));
        }
    }
}

TEST(CrossEntropyOptionsReference, SoftCapCarriesTheChainFactor) {
    std::mt19937_64 rng(7);
    const Eigen::Index n = 3, c = 7;
    const double cap = 3;
    const lmatrix x = random_matrix(rng, n, c, 6);
    const label_vector y = random_labels(rng, n, c);
    const auto w = random_weights(rng, c);
    const auto capped = cross_entropy_with_options(x, y, opts(reduction::sum, 0.1, 0.01, cap), w, lmatrix(), {1.0L});
    // The same loss evaluated at the capped logits (rounded to long double) without a cap.
    const auto plain = cross_entropy_with_options(capped.z, y, opts(reduction::sum, 0.1, 0.01), w, lmatrix(), {1.0L});
    EXPECT_TRUE(near(capped.loss[0], plain.loss[0], 64, capped.loss[0] + 10));
    for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index j = 0; j < c; ++j) {
            const long double t = std::tanh(x(i, j) / cap);
            EXPECT_TRUE(near(capped.z(i, j), cap * t, 4, cap));
            // Derivative of cap·tanh(x/cap) is 1 − t²; the shifted logits carry ≤ u_ld·cap each.
            EXPECT_TRUE(near(capped.dlogits(i, j), plain.dlogits(i, j) * (1 - t * t), 256, 10));
        }
}

TEST(CrossEntropyOptionsReference, SoftTargetsWithOneHotEqualHardLabelsUpToTheMeanDivisor) {
    std::mt19937_64 rng(8);
    const Eigen::Index n = 4, c = 5;
    const lmatrix z = random_matrix(rng, n, c, 2);
    const label_vector y = random_labels(rng, n, c);
    const auto w = random_weights(rng, c);
    lmatrix q = lmatrix::Zero(n, c);
    for (Eigen::Index i = 0; i < n; ++i) q(i, y[static_cast<std::size_t>(i)]) = 1;
    const auto hard = cross_entropy_with_options(z, y, opts(reduction::mean, 0.2), w, lmatrix(), {1.0L});
    const auto soft = cross_entropy_with_options(z, {}, opts(reduction::mean, 0.2), w, q, {1.0L});
    // Per row: hard (1−ε)w_y h_y + (ε/C)Σ w h; soft Σ w (1−ε)q h + Σ w (ε/C) h: the same terms.
    for (std::size_t i = 0; i < 4; ++i) EXPECT_TRUE(near(soft.row_ce[i], hard.row_ce[i], 16, hard.row_ce[i]));
    EXPECT_EQ(soft.ce_divisor, 4);  // W = n for soft targets
    long double W = 0;
    for (auto l : y) W += w[static_cast<std::size_t>(l)];
    EXPECT_TRUE(near(soft.loss[0] * 4 / W, hard.loss[0], 32, hard.loss[0]));
}

// plugin.h's formula evaluated directly (no shift, no log1p) at 256 bits, as a function of the
// logits: independent of the reference's algorithm.
mp_real direct_loss(const std::vector<mp_real>& x, Eigen::Index n, Eigen::Index c, const label_vector& y,
                    const ce_options& o, const std::vector<long double>& w, const std::vector<long double>& dloss) {
    const mp_real eps = o.label_smoothing, s = o.lse_square_scale, cap = o.softcap;
    mp_real total = 0, ces = 0, zls = 0, W = 0, K = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
        std::vector<mp_real> z(static_cast<std::size_t>(c));
        mp_real se = 0;
        for (Eigen::Index j = 0; j < c; ++j) {
            const mp_real& v = x[static_cast<std::size_t>(i * c + j)];
            z[static_cast<std::size_t>(j)] = o.softcap > 0 ? mp_real(cap * tanh(v / cap)) : v;
            se += exp(z[static_cast<std::size_t>(j)]);
        }
        const mp_real lse = log(se);
        const auto yi = static_cast<std::size_t>(y[static_cast<std::size_t>(i)]);
        mp_real sm = 0;
        for (Eigen::Index j = 0; j < c; ++j) sm += mp_real(w[static_cast<std::size_t>(j)]) * (lse - z[static_cast<std::size_t>(j)]);
        const mp_real ce = (1 - eps) * mp_real(w[yi]) * (lse - z[yi]) + eps / c * sm;
        const mp_real zl = s * lse * lse;
        W += mp_real(w[yi]);
        K += 1;
        ces += ce;
        zls += zl;
        if (o.reduce == reduction::none) total += mp_real(dloss[static_cast<std::size_t>(i)]) * (ce + zl);
    }
    if (o.reduce == reduction::sum) total = mp_real(dloss[0]) * (ces + zls);
    if (o.reduce == reduction::mean) total = mp_real(dloss[0]) * (ces / W + zls / K);
    return total;
}

TEST(CrossEntropyOptionsReference, DlogitsMatchCentralDifferencesAt256Bits) {
    std::mt19937_64 rng(9);
    const Eigen::Index n = 3, c = 5;
    for (reduction r : {reduction::none, reduction::mean, reduction::sum}) {
        const lmatrix x = random_matrix(rng, n, c, 3);
        const label_vector y = random_labels(rng, n, c);
        const auto w = random_weights(rng, c);
        const ce_options o = opts(r, 0.15, 0.05, 4);
        const std::vector<long double> dloss = r == reduction::none ? std::vector<long double>{0.5L, -2, 1.25L}
                                                                    : std::vector<long double>{0.75L};
        const auto ref = cross_entropy_with_options(x, y, o, w, lmatrix(), dloss);
        const mp_precision_guard guard(256);
        std::vector<mp_real> xm(static_cast<std::size_t>(n * c));
        for (Eigen::Index k = 0; k < n * c; ++k) xm[static_cast<std::size_t>(k)] = mp_real(x.data()[k]);
        // The loss itself: Σ dloss·loss from the reference vs the direct 256-bit formula.
        long double weighted = 0;
        for (std::size_t k = 0; k < ref.loss.size(); ++k) weighted += dloss[k] * ref.loss[k];
        const mp_real direct = direct_loss(xm, n, c, y, o, w, dloss);
        EXPECT_TRUE(near(weighted, static_cast<long double>(direct), 16, 1 + std::fabs(weighted)));
        // Central differences, h = 2^-100: truncation h²·|f‴| ≈ 2^-200, rounding 2^-256·|f|/h ≈ 2^-156.
        const mp_real h = ldexp(mp_real(1), -100);
        for (Eigen::Index k = 0; k < n * c; ++k) {
            std::vector<mp_real> xp = xm, xn = xm;
            xp[static_cast<std::size_t>(k)] += h;
            xn[static_cast<std::size_t>(k)] -= h;
            const mp_real fd = (direct_loss(xp, n, c, y, o, w, dloss) - direct_loss(xn, n, c, y, o, w, dloss)) / (2 * h);
            const long double g = ref.dlogits.data()[k];
            EXPECT_TRUE(near(g, static_cast<long double>(fd), 4, std::fabs(g) + 1e-3L)) << "element " << k;
        }
    }
}

TEST(CrossEntropyOptionsReference, FusedEqualsPlainOnExactlyRepresentableLogits) {
    std::mt19937_64 rng(10);
    const Eigen::Index n = 3, d = 4, v = 6;
    // Multiples of 1/8 in [−4, 4]: every product and sum is exact in long double.
    auto dyadic = [&](Eigen::Index r, Eigen::Index cc) {
        lmatrix m(r, cc);
        for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = static_cast<long double>(static_cast<int>(rng() % 65) - 32) / 8;
        return m;
    };
    const lmatrix H = dyadic(n, d), Wt = dyadic(v, d);
    std::vector<long double> b(static_cast<std::size_t>(v));
    for (auto& x : b) x = static_cast<long double>(static_cast<int>(rng() % 17) - 8) / 4;
    const label_vector y = random_labels(rng, n, v);
    const auto w = random_weights(rng, v);
    const ce_options o = opts(reduction::mean, 0.1, 0.01, 10);
    const auto fused = fused_linear_cross_entropy(H, Wt, b, y, o, w, {1.0L});
    lmatrix L = H * Wt.transpose();
    for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index j = 0; j < v; ++j) L(i, j) += b[static_cast<std::size_t>(j)];
    EXPECT_EQ(fused.logits, L);
    const auto plain = cross_entropy_with_options(L, y, o, w, lmatrix(), {1.0L});
    EXPECT_EQ(fused.ce.loss[0], plain.loss[0]);
    EXPECT_EQ(fused.ce.dlogits, plain.dlogits);
    // dH = dl·W, dW = dlᵀ·H, db = Σ_i dl: long double products of the rounded dl, γ_m·|dl||·|.
    const lmatrix dh = plain.dlogits * Wt, dw = plain.dlogits.transpose() * H;
    const lmatrix dhm = plain.dlogits.cwiseAbs() * Wt.cwiseAbs(), dwm = plain.dlogits.transpose().cwiseAbs() * H.cwiseAbs();
    for (Eigen::Index k = 0; k < dh.size(); ++k) EXPECT_TRUE(near(fused.dhidden.data()[k], dh.data()[k], 2 * (v + 2), dhm.data()[k]));
    for (Eigen::Index k = 0; k < dw.size(); ++k) EXPECT_TRUE(near(fused.dweight.data()[k], dw.data()[k], 2 * (n + 2), dwm.data()[k]));
    for (Eigen::Index j = 0; j < v; ++j)
        EXPECT_TRUE(near(fused.dbias[static_cast<std::size_t>(j)], plain.dlogits.col(j).sum(), 2 * (n + 2),
                         plain.dlogits.col(j).cwiseAbs().sum()));
}

TEST(CrossEntropyOptionsReference, IntervalEnclosesThePoint) {
    std::mt19937_64 rng(11);
    for (int trial = 0; trial < 6; ++trial) {
        const Eigen::Index n = 4, c = 1 + static_cast<Eigen::Index>(rng() % 9);
        const lmatrix x = random_matrix(rng, n, c, trial % 2 ? 30 : 2);
        const reduction r = static_cast<reduction>(trial % 3);
        const ce_options o = opts(r, trial % 2 ? 0.1 : 0, trial % 3 == 1 ? 0.01 : 0, trial >= 3 ? 5 : 0);
        const auto w = random_weights(rng, c);
        const std::vector<long double> dloss = r == reduction::none ? ones(n) : std::vector<long double>{2.0L};
        const bool soft = trial == 4;
        lmatrix q = soft ? lmatrix(random_matrix(rng, n, c, 1).cwiseAbs()) : lmatrix();
        const label_vector y = soft ? label_vector{} : random_labels(rng, n, c);
        const auto p = cross_entropy_with_options(x, y, o, w, q, dloss);
        const auto e = certify_cross_entropy_with_options(x, y, o, w, q, dloss);
        for (std::size_t k = 0; k < p.loss.size(); ++k) {
            EXPECT_LE(e.loss[k].lo, p.loss[k]);
            EXPECT_GE(e.loss[k].hi, p.loss[k]);
            EXPECT_LE(e.loss[k].hi - e.loss[k].lo, 8 * u_ld * (std::fabs(p.loss[k]) + 1));
        }
        for (Eigen::Index k = 0; k < p.dlogits.size(); ++k) {
            EXPECT_LE(e.dlogits.lo.data()[k], p.dlogits.data()[k]);
            EXPECT_GE(e.dlogits.hi.data()[k], p.dlogits.data()[k]);
            EXPECT_LE(e.dlogits.hi.data()[k] - e.dlogits.lo.data()[k], 8 * u_ld * (std::fabs(p.dlogits.data()[k]) + 1));
        }
    }
}

TEST(CrossEntropyOptionsReference, FusedIntervalEnclosesThePoint) {
    std::mt19937_64 rng(12);
    for (int trial = 0; trial < 6; ++trial) {
        const Eigen::Index n = 1 + static_cast<Eigen::Index>(rng() % 5), d = 1 + static_cast<Eigen::Index>(rng() % 7),
                           v = 1 + static_cast<Eigen::Index>(rng() % 40);
        const lmatrix H = random_matrix(rng, n, d, 1), Wt = random_matrix(rng, v, d, trial % 2 ? 3 : 0.02);
        std::vector<long double> b;
        if (trial % 3 != 0) b = std::vector<long double>(random_weights(rng, v));
        const reduction r = static_cast<reduction>(trial % 3);
        ce_options o = opts(r, trial % 2 ? 0.1 : 0, trial == 4 ? 0.01 : 0, trial >= 3 ? 5 : 0);
        label_vector y = random_labels(rng, n, v);
        if (trial == 5) {
            o.has_ignore_index = true;
            o.ignore_index = -100;
            y[0] = -100;
        }
        const auto w = trial % 2 ? random_weights(rng, v) : std::vector<long double>{};
        const std::vector<long double> dloss = r == reduction::none ? ones(static_cast<std::size_t>(n)) : std::vector<long double>{2.0L};
        const auto p = fused_linear_cross_entropy(H, Wt, b, y, o, w, dloss);
        const auto e = certify_fused_linear_cross_entropy(H, Wt, b, y, o, w, dloss);
        ASSERT_EQ(e.ce.loss.size(), p.ce.loss.size());
        for (std::size_t k = 0; k < p.ce.loss.size(); ++k) {
            EXPECT_LE(e.ce.loss[k].lo, p.ce.loss[k]);
            EXPECT_GE(e.ce.loss[k].hi, p.ce.loss[k]);
        }
        // Each product's enclosure: the dlogits' own (≤ 2 ulps each, long double bounds) carried
        // through Σ|G|·|W| (resp. |G|ᵀ·|H|, Σ|G|), plus the outward rounding of the result.
        const lmatrix G = p.ce.dlogits.cwiseAbs();
        const lmatrix dh_scale = G * Wt.cwiseAbs(), dw_scale = G.transpose() * H.cwiseAbs();
        auto check = [&](const char* what, const lmatrix& point, const interval_matrix& enc, const lmatrix& scale) {
            ASSERT_EQ(enc.lo.rows(), point.rows()) << what;
            ASSERT_EQ(enc.lo.cols(), point.cols()) << what;
            for (Eigen::Index k = 0; k < point.size(); ++k) {
                EXPECT_LE(enc.lo.data()[k], point.data()[k]) << what << " " << k;
                EXPECT_GE(enc.hi.data()[k], point.data()[k]) << what << " " << k;
                EXPECT_LE(enc.hi.data()[k] - enc.lo.data()[k],
                          8 * u_ld * (scale.data()[k] + std::fabs(point.data()[k])) + 4 * ld_limits::denorm_min())
                    << what << " " << k;
            }
        };
        check("dhidden", p.dhidden, e.dhidden, dh_scale);
        check("dweight", p.dweight, e.dweight, dw_scale);
        ASSERT_EQ(e.dbias.size(), b.size());
        for (std::size_t j = 0; j < b.size(); ++j) {
            EXPECT_LE(e.dbias[j].lo, p.dbias[j]);
            EXPECT_GE(e.dbias[j].hi, p.dbias[j]);
            EXPECT_LE(e.dbias[j].hi - e.dbias[j].lo,
                      8 * u_ld * (G.col(static_cast<Eigen::Index>(j)).sum() + std::fabs(p.dbias[j])) + 4 * ld_limits::denorm_min());
        }
    }
}

TEST(CrossEntropyOptionsReference, MaskedClassWithoutSmoothingIsZeroProbability) {
    lmatrix z(1, 3);
    z << 0, -ld_limits::infinity(), 0;
    const auto r = cross_entropy_with_options(z, {0}, opts(reduction::sum), {}, lmatrix(), {1.0L});
    EXPECT_TRUE(near(r.loss[0], std::log(2.0L), 2, 1));
    EXPECT_EQ(r.probs(0, 1), 0);
    EXPECT_EQ(r.dlogits(0, 1), 0);
}

TEST(CrossEntropyOptionsReference, RejectsInvalidArguments) {
    const lmatrix z = lmatrix::Zero(2, 3);
    const label_vector y{0, 1};
    auto call = [&](const lmatrix& zz, const label_vector& yy, const ce_options& o, const std::vector<long double>& w,
                    const lmatrix& q, const std::vector<long double>& dl) {
        return [=] { cross_entropy_with_options(zz, yy, o, w, q, dl); };
    };
    const ce_options m = opts(reduction::mean);
    EXPECT_TRUE(throws_invalid(call(z, {0, 3}, m, {}, lmatrix(), {1}), "labels"));
    EXPECT_TRUE(throws_invalid(call(z, {0}, m, {}, lmatrix(), {1}), "labels"));
    EXPECT_TRUE(throws_invalid(call(z, y, m, {1, -1, 1}, lmatrix(), {1}), "class_weights"));
    EXPECT_TRUE(throws_invalid(call(z, y, m, {1, 1}, lmatrix(), {1}), "class_weights"));
    EXPECT_TRUE(throws_invalid(call(z, y, m, {1, ld_limits::infinity(), 1}, lmatrix(), {1}), "class_weights"));
    EXPECT_TRUE(throws_invalid(call(z, {}, m, {}, lmatrix::Zero(2, 2), {1}), "soft_targets"));
    EXPECT_TRUE(throws_invalid(call(z, {}, m, {}, lmatrix::Constant(2, 3, -1), {1}), "soft_targets"));
    EXPECT_TRUE(throws_invalid(call(z, y, opts(reduction::mean, 1.5), {}, lmatrix(), {1}), "label_smoothing"));
    EXPECT_TRUE(throws_invalid(call(z, y, opts(reduction::mean, 0, -1), {}, lmatrix(), {1}), "lse_square_scale"));
    EXPECT_TRUE(throws_invalid(call(z, y, opts(reduction::mean, 0, 0, -1), {}, lmatrix(), {1}), "softcap"));
    EXPECT_TRUE(throws_invalid(call(lmatrix::Zero(0, 3), {}, m, {}, lmatrix(), {1}), "logits"));
    EXPECT_TRUE(throws_invalid(call(lmatrix::Zero(2, 0), y, m, {}, lmatrix(), {1}), "logits"));
    EXPECT_TRUE(throws_invalid(call(z, y, m, {}, lmatrix(), {1, 1}), "dloss"));
    EXPECT_TRUE(throws_invalid(call(z, y, opts(reduction::none), {}, lmatrix(), {1}), "dloss"));
    ce_options ig = m;
    ig.has_ignore_index = true;
    EXPECT_TRUE(throws_invalid(call(z, {}, ig, {}, lmatrix::Zero(2, 3), {1}), "ignore_index"));
    ig.ignore_index = 3;
    EXPECT_NO_THROW(cross_entropy_with_options(z, {3, 1}, ig, {}, lmatrix(), {1}));
    EXPECT_TRUE(throws_invalid([&] { fused_linear_cross_entropy(lmatrix::Zero(2, 3), lmatrix::Zero(4, 2), {}, y, m, {}, {1}); },
                               "weight"));
    EXPECT_TRUE(throws_invalid([&] { fused_linear_cross_entropy(lmatrix::Zero(2, 3), lmatrix::Zero(4, 3), {1}, y, m, {}, {1}); },
                               "bias"));
    EXPECT_TRUE(throws_invalid([&] { fused_linear_cross_entropy(lmatrix::Zero(0, 3), lmatrix::Zero(4, 3), {}, {}, m, {}, {1}); },
                               "hidden"));
}

}  // namespace
}  // namespace gradproof::reference
