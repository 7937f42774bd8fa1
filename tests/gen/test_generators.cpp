// Tests of the float-aware generators (gen/generators.hpp) and of counterexample printing
// (gen/show.hpp). Cases are drawn by calling the generators directly with a fixed sequence of
// seeds and sizes, so every run sees the same cases. The checks are frequencies of the hazards
// listed in accuracy.md (each must occur at least a few times in a few thousand draws), validity
// of every case and of every shrink candidate, that shrinking only ever simplifies, and that the
// printed form of a case reads back to the same binary values.
#include "gen/generators.hpp"
#include "gen/show.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace gradproof {
namespace {

constexpr int kDraws = 3000;

template <class T>
std::uint64_t bits_of(T x) {
    if constexpr (std::is_same_v<T, float>) return std::bit_cast<std::uint32_t>(x);
    else return std::bit_cast<std::uint64_t>(x);
}

template <class T>
bool same_bits(const matrix<T>& a, const matrix<T>& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
    for (Eigen::Index k = 0; k < a.size(); ++k)
        if (bits_of(a.data()[k]) != bits_of(b.data()[k])) return false;
    return true;
}

template <class Gen>
auto draw(const Gen& g, int i) {
    // Sizes sweep 0..100 as in a RapidCheck run; seeds are fixed.
    return g(rc::Random(static_cast<std::uint64_t>(1000 + i)), i % 101);
}

// ---- validity --------------------------------------------------------------------------------

template <class T>
::testing::AssertionResult valid_loss_case(const loss_case<T>& c) {
    const auto n = c.X.rows(), d = c.X.cols(), k = c.W.cols();
    if (n < 1 || d < 1 || k < 1) return ::testing::AssertionFailure() << "empty shape " << n << "×" << d << "×" << k;
    if (c.W.rows() != d) return ::testing::AssertionFailure() << "W has " << c.W.rows() << " rows, X has " << d << " columns";
    if (static_cast<Eigen::Index>(c.y.size()) != n) return ::testing::AssertionFailure() << c.y.size() << " labels for " << n << " rows";
    for (auto v : c.y)
        if (v < 0 || v >= k) return ::testing::AssertionFailure() << "label " << v << " outside [0, " << k << ")";
    for (Eigen::Index i = 0; i < c.W.size(); ++i)
        if (!std::isfinite(c.W.data()[i])) return ::testing::AssertionFailure() << "W not finite";
    for (Eigen::Index i = 0; i < c.X.size(); ++i)
        if (!std::isfinite(c.X.data()[i])) return ::testing::AssertionFailure() << "X not finite";
    if (!std::isfinite(c.reg) || c.reg < 0) return ::testing::AssertionFailure() << "reg " << c.reg;
    return ::testing::AssertionSuccess();
}

template <class T>
::testing::AssertionResult valid_logits_case(const logits_case<T>& c) {
    const auto n = c.z.rows(), k = c.z.cols();
    if (n < 1 || k < 1) return ::testing::AssertionFailure() << "empty shape " << n << "×" << k;
    // The upstream gradient is drawn only on request (with_upstream); then it has z's shape.
    if (c.g.size() != 0 && (c.g.rows() != n || c.g.cols() != k)) return ::testing::AssertionFailure() << "upstream shape differs";
    if (static_cast<Eigen::Index>(c.y.size()) != n) return ::testing::AssertionFailure() << c.y.size() << " labels for " << n << " rows";
    for (auto v : c.y)
        if (v < 0 || v >= k) return ::testing::AssertionFailure() << "label " << v << " outside [0, " << k << ")";
    return ::testing::AssertionSuccess();
}

// ---- shapes ------------------------------------------------------------------------------------

struct shape_counts {
    int c1 = 0, c2 = 0, c_mod4_3 = 0, odd_c_above_256 = 0, c_ge_512 = 0, n1 = 0, n_above_64 = 0, d1 = 0;
    void add(Eigen::Index n, Eigen::Index c, Eigen::Index d) {
        c1 += c == 1;
        c2 += c == 2;
        c_mod4_3 += c % 4 == 3;
        odd_c_above_256 += c > 256 && c % 2 == 1;
        c_ge_512 += c >= 512;
        n1 += n == 1;
        n_above_64 += n > 64;
        d1 += d == 1;
    }
};

void expect_shape_hazards(const shape_counts& s, bool features) {
    // "Sometimes" means at least a handful of times in kDraws draws.
    EXPECT_GE(s.c1, 10);
    EXPECT_GE(s.c2, 10);
    EXPECT_GE(s.c_mod4_3, 10);
    EXPECT_GE(s.odd_c_above_256, 5);
    EXPECT_GE(s.c_ge_512, 5);
    EXPECT_GE(s.n1, 10);
    EXPECT_GE(s.n_above_64, 5);
    if (features) {
        EXPECT_GE(s.d1, 10);
    }
}

template <class T>
void check_loss_shapes(const gen::loss_options& opt) {
    const auto g = gen::loss<T>(opt);
    shape_counts s;
    for (int i = 0; i < kDraws; ++i) {
        const auto c = draw(g, i).value();
        ASSERT_TRUE(valid_loss_case(c)) << "draw " << i;
        const auto n = c.X.rows(), d = c.X.cols(), k = c.W.cols();
        ASSERT_LE(n * d * k, opt.shape.max_work) << "draw " << i << ": N×D×C = " << n << "×" << d << "×" << k;
        ASSERT_LE(n, opt.shape.max_n) << "draw " << i;
        ASSERT_LE(d, opt.shape.max_d) << "draw " << i;
        ASSERT_LE(k, opt.shape.max_c) << "draw " << i;
        s.add(n, k, d);
    }
    expect_shape_hazards(s, true);
}

TEST(LossGenerator, ShapesDouble) { check_loss_shapes<double>({}); }
TEST(LossGenerator, ShapesFloat) { check_loss_shapes<float>({}); }
TEST(LossGenerator, ShapesExtreme) {
    gen::loss_options o;
    o.hazards = gen::hazard_mode::extreme;
    check_loss_shapes<double>(o);
}

// A tighter budget and smaller limits are respected whatever path a case takes.
TEST(LossGenerator, ShapesRespectCustomLimits) {
    for (auto mode : {gen::hazard_mode::mixed, gen::hazard_mode::extreme, gen::hazard_mode::ordinary}) {
        gen::loss_options o;
        o.hazards = mode;
        o.shape.max_work = 3000;
        o.shape.max_d = 6;
        o.shape.max_n = 40;
        o.shape.max_c = 700;
        const auto g = gen::loss<double>(o);
        for (int i = 0; i < kDraws; ++i) {
            const auto c = draw(g, i).value();
            ASSERT_TRUE(valid_loss_case(c)) << "draw " << i;
            const auto n = c.X.rows(), d = c.X.cols(), k = c.W.cols();
            ASSERT_LE(n * d * k, o.shape.max_work) << "mode " << static_cast<int>(mode) << " draw " << i << ": " << n << "×" << d << "×" << k;
            ASSERT_LE(n, o.shape.max_n) << "draw " << i;
            ASSERT_LE(d, o.shape.max_d) << "mode " << static_cast<int>(mode) << " draw " << i << ": D = " << d;
            ASSERT_LE(k, o.shape.max_c) << "draw " << i;
        }
    }
}

TEST(LossGenerator, ScoresCarryHazards) {
    const auto g = gen::loss<double>();
    int spread = 0, reg_zero = 0, reg_positive = 0, subnormal = 0;
    for (int i = 0; i < kDraws; ++i) {
        const auto c = draw(g, i).value();
        // Scores in long double: a double product is exact there up to the sum's rounding.
        const matrix<long double> S = convert<long double>(c.X) * convert<long double>(c.W);
        for (Eigen::Index r = 0; r < S.rows(); ++r)
            if (S.row(r).maxCoeff() - S.row(r).minCoeff() > 745) {
                ++spread;
                break;
            }
        reg_zero += c.reg == 0;
        reg_positive += c.reg > 0;
        bool sub = false;
        for (Eigen::Index k = 0; k < c.W.size(); ++k) sub = sub || std::fpclassify(c.W.data()[k]) == FP_SUBNORMAL;
        for (Eigen::Index k = 0; k < c.X.size(); ++k) sub = sub || std::fpclassify(c.X.data()[k]) == FP_SUBNORMAL;
        subnormal += sub;
    }
    EXPECT_GE(spread, 30);
    EXPECT_GE(reg_zero, 100);
    EXPECT_GE(reg_positive, 100);
    EXPECT_GE(subnormal, 10);
}

// ---- logit hazards --------------------------------------------------------------------------------

struct logit_counts {
    shape_counts shapes;
    int spread = 0, all_very_negative = 0, masked = 0, huge_equal = 0, ties = 0, subnormal = 0, nonfinite_other = 0;
};

template <class T>
logit_counts count_logit_hazards(const gen::logits_options& opt, double spread_threshold, double negative_threshold) {
    const auto g = gen::logits<T>(opt);
    logit_counts h;
    for (int i = 0; i < kDraws; ++i) {
        const auto c = draw(g, i).value();
        EXPECT_TRUE(valid_logits_case(c)) << "draw " << i;
        const auto n = c.z.rows(), k = c.z.cols();
        EXPECT_LE(n * k, opt.shape.max_work);
        h.shapes.add(n, k, 1);
        bool spread = false, neg = false, masked = false, huge = false, tie = false, sub = false, other = false;
        for (Eigen::Index r = 0; r < n; ++r) {
            T lo = std::numeric_limits<T>::infinity(), hi = -lo;
            bool all_neg = true;
            std::vector<std::uint64_t> seen;
            for (Eigen::Index j = 0; j < k; ++j) {
                const T v = c.z(r, j);
                if (v == -std::numeric_limits<T>::infinity()) {
                    masked = true;
                    continue;
                }
                if (!std::isfinite(v)) {
                    other = true;
                    all_neg = false;
                    continue;
                }
                lo = std::min(lo, v);
                hi = std::max(hi, v);
                all_neg = all_neg && v < negative_threshold;
                sub = sub || std::fpclassify(v) == FP_SUBNORMAL;
                seen.push_back(bits_of(v));
            }
            // Exact ties: equal bit patterns; huge ties: two equal entries with |v| ≥ 1e15.
            std::sort(seen.begin(), seen.end());
            for (std::size_t q = 1; q < seen.size(); ++q)
                if (seen[q] == seen[q - 1]) {
                    T v;
                    if constexpr (std::is_same_v<T, float>) v = std::bit_cast<float>(static_cast<std::uint32_t>(seen[q]));
                    else v = std::bit_cast<double>(seen[q]);
                    tie = tie || std::fpclassify(v) == FP_NORMAL;  // not just equal zeros or subnormals
                    huge = huge || std::fabs(v) >= T(1e15);
                }
            spread = spread || (hi > lo && static_cast<double>(hi) - static_cast<double>(lo) > spread_threshold);
            neg = neg || (all_neg && !seen.empty());  // at least one finite entry
        }
        h.spread += spread;
        h.all_very_negative += neg;
        h.masked += masked;
        h.huge_equal += huge;
        h.ties += tie;
        h.subnormal += sub;
        h.nonfinite_other += other;
    }
    return h;
}

void expect_logit_hazards(const logit_counts& h) {
    std::cout << "[ info     ] of " << kDraws << " draws: C=1 " << h.shapes.c1 << ", C=2 " << h.shapes.c2 << ", C%4=3 "
              << h.shapes.c_mod4_3 << ", odd C>256 " << h.shapes.odd_c_above_256 << ", C>=512 " << h.shapes.c_ge_512
              << ", N=1 " << h.shapes.n1 << ", N>64 " << h.shapes.n_above_64 << "; spread " << h.spread
              << ", all very negative " << h.all_very_negative << ", masked " << h.masked << ", huge equal "
              << h.huge_equal << ", ties " << h.ties << ", subnormal " << h.subnormal << "\n";
    expect_shape_hazards(h.shapes, false);
    EXPECT_GE(h.spread, 30);
    EXPECT_GE(h.all_very_negative, 30);
    EXPECT_GE(h.masked, 30);
    EXPECT_GE(h.huge_equal, 30);
    EXPECT_GE(h.ties, 30);
    EXPECT_GE(h.subnormal, 30);
}

// Thresholds from accuracy.md: exp under/overflow at −745.13 / 709.78 (double), −103.97 / 88.72
// (float); "all < −800" in double.
TEST(LogitsGenerator, HazardsDouble) {
    const auto h = count_logit_hazards<double>({}, 745, -800);
    expect_logit_hazards(h);
    EXPECT_EQ(h.nonfinite_other, 0);  // +inf / NaN only when allow_nonfinite_rows
}
TEST(LogitsGenerator, HazardsFloat) {
    const auto h = count_logit_hazards<float>({}, 104, -104);
    expect_logit_hazards(h);
    EXPECT_EQ(h.nonfinite_other, 0);
}
TEST(LogitsGenerator, ExtremeModeIsMostlyHazards) {
    gen::logits_options o;
    o.hazards = gen::hazard_mode::extreme;
    const auto mixed = count_logit_hazards<double>({}, 745, -800);
    const auto extreme = count_logit_hazards<double>(o, 745, -800);
    EXPECT_GT(extreme.spread, mixed.spread);
    EXPECT_GT(extreme.masked, mixed.masked);
}
TEST(LogitsGenerator, OrdinaryAndUnmaskedOptions) {
    gen::logits_options o;
    o.hazards = gen::hazard_mode::ordinary;
    const auto h = count_logit_hazards<double>(o, 745, -800);
    EXPECT_EQ(h.masked, 0);
    EXPECT_EQ(h.spread, 0);
    EXPECT_EQ(h.nonfinite_other, 0);
    gen::logits_options m;
    m.allow_masked = false;
    EXPECT_EQ(count_logit_hazards<double>(m, 745, -800).masked, 0);
}
TEST(LogitsGenerator, UpstreamOnRequest) {
    gen::logits_options o;
    o.with_upstream = true;
    const auto with = gen::logits<double>(o);
    const auto without = gen::logits<double>();
    int nonzero = 0;
    for (int i = 0; i < 500; ++i) {
        const auto a = draw(with, i).value();
        ASSERT_EQ(a.g.rows(), a.z.rows());
        ASSERT_EQ(a.g.cols(), a.z.cols());
        for (Eigen::Index k = 0; k < a.g.size(); ++k) ASSERT_TRUE(std::isfinite(a.g.data()[k]));
        nonzero += (a.g.array() != 0).any();
        EXPECT_EQ(draw(without, i).value().g.size(), 0);
    }
    EXPECT_GT(nonzero, 400);
}

TEST(LogitsGenerator, NonFiniteRowsOnRequest) {
    gen::logits_options o;
    o.allow_nonfinite_rows = true;
    EXPECT_GE(count_logit_hazards<double>(o, 745, -800).nonfinite_other, 100);
}

// ---- shrinking ----------------------------------------------------------------------------------

std::string format_value(long double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.21Lg", v);
    return buf;
}

// ±10^⌊e/2⌋ for |x| ≈ 10^e with e ≥ 4: the decimal exponent halved, sign kept (tiny values keep
// their exponent: their hazards are being tiny).
template <class T>
bool exponent_halved(T x, T v) {
    const int e10 = static_cast<int>(std::floor(std::log10(std::fabs(static_cast<long double>(x)))));
    return e10 >= 4 && v == static_cast<T>(std::copysign(std::pow(10.0L, e10 / 2), static_cast<long double>(x)));
}

// Candidate value v of an original x is "simpler": 0, trunc(x), x/2, x/10, the decimal exponent
// halved, or a rounding of x to at most three significant decimal digits (which cannot move it by
// more than |x|).
template <class T>
::testing::AssertionResult simpler_value(T x, T v) {
    if (bits_of(v) == bits_of(x)) return ::testing::AssertionFailure() << "value replaced by itself";
    if (!std::isfinite(x)) return ::testing::AssertionFailure() << "non-finite value " << x << " changed";
    if (v == T(0) || v == std::trunc(x) || v == x / T(2) || v == x / T(10) || exponent_halved(x, v))
        return ::testing::AssertionSuccess();
    if (!std::isfinite(v)) return ::testing::AssertionFailure() << "non-finite replacement";
    // Rounded to d ≤ 3 significant digits: printing v with 3 digits reproduces it to a few ulps.
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2Le", static_cast<long double>(v));
    const long double back = std::strtold(buf, nullptr);
    const long double ulp = std::max(std::ldexp(std::fabs(static_cast<long double>(v)), 1 - std::numeric_limits<T>::digits),
                                     static_cast<long double>(std::numeric_limits<T>::denorm_min()));
    if (std::fabs(back - static_cast<long double>(v)) > 4 * ulp)
        return ::testing::AssertionFailure() << format_value(x) << " -> " << format_value(v) << " is not a short decimal";
    if (std::fabs(static_cast<long double>(v) - static_cast<long double>(x)) > std::fabs(static_cast<long double>(x)))
        return ::testing::AssertionFailure() << format_value(x) << " -> " << format_value(v) << " changes the magnitude";
    return ::testing::AssertionSuccess();
}

// Differences between two matrices of the same shape, as (flat index) list.
template <class T>
std::vector<Eigen::Index> differing(const matrix<T>& a, const matrix<T>& b) {
    std::vector<Eigen::Index> out;
    for (Eigen::Index k = 0; k < a.size(); ++k)
        if (bits_of(a.data()[k]) != bits_of(b.data()[k])) out.push_back(k);
    return out;
}

std::vector<std::size_t> differing_labels(const label_vector& a, const label_vector& b) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i]) out.push_back(i);
    return out;
}


template <class T>
bool same_row(const matrix<T>& a, Eigen::Index i, const matrix<T>& b, Eigen::Index j) {
    for (Eigen::Index k = 0; k < a.cols(); ++k)
        if (bits_of(a(i, k)) != bits_of(b(j, k))) return false;
    return true;
}
template <class T>
bool same_col(const matrix<T>& a, Eigen::Index i, const matrix<T>& b, Eigen::Index j) {
    for (Eigen::Index k = 0; k < a.rows(); ++k)
        if (bits_of(a(k, i)) != bits_of(b(k, j))) return false;
    return true;
}

// Whether `after` is `before` without one contiguous block of rows (a single row, or a block of
// the halving sizes the shrinker tries first) — linear time: the block starts at the first row
// that differs; every later row must then be shifted up by the block size. Each matrix in the
// list is checked with the same block; the labels likewise if given.
template <class T>
bool is_row_drop(std::vector<std::pair<const matrix<T>*, const matrix<T>*>> mats, const label_vector* yb,
                 const label_vector* ya) {
    const Eigen::Index sn = mats[0].second->rows(), k = mats[0].first->rows() - sn;
    auto row_equal = [&](Eigen::Index i, Eigen::Index j) {
        for (auto [b, a] : mats)
            if (!same_row(*a, i, *b, j)) return false;
        return yb == nullptr || (*ya)[static_cast<std::size_t>(i)] == (*yb)[static_cast<std::size_t>(j)];
    };
    if (k < 1) return false;
    Eigen::Index r = 0;
    while (r < sn && row_equal(r, r)) ++r;
    for (Eigen::Index i = r; i < sn; ++i)
        if (!row_equal(i, i + k)) return false;
    return true;
}
template <class T>
bool is_col_drop(std::vector<std::pair<const matrix<T>*, const matrix<T>*>> mats, Eigen::Index& dropped) {
    const Eigen::Index sk = mats[0].second->cols();
    auto col_equal = [&](Eigen::Index i, Eigen::Index j) {
        for (auto [b, a] : mats)
            if (!same_col(*a, i, *b, j)) return false;
        return true;
    };
    Eigen::Index c = 0;
    while (c < sk && col_equal(c, c)) ++c;
    for (Eigen::Index i = c; i < sk; ++i)
        if (!col_equal(i, i + 1)) return false;
    dropped = c;
    return true;
}

// After dropping class cl, every label of another class still names the same class (renumbered);
// labels on cl go anywhere in range (checked by the validity test). With equal adjacent columns
// the dropped class is ambiguous, so any consistent choice is accepted.
::testing::AssertionResult relabeled(const label_vector& before, const label_vector& after, Eigen::Index first_cl,
                                     Eigen::Index last_cl) {
    if (before.size() != after.size()) return ::testing::AssertionFailure() << "label count changed with a class";
    for (Eigen::Index cl = first_cl; cl <= last_cl; ++cl) {
        bool ok = true;
        for (std::size_t i = 0; i < before.size() && ok; ++i) {
            if (before[i] == cl) continue;
            ok = after[i] == (before[i] > cl ? before[i] - 1 : before[i]);
        }
        if (ok) return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "labels not renumbered consistently after dropping a class";
}

// The range of class indices whose removal gives `after` (a run of equal columns): from the first
// differing column back over the run of columns equal to it.
template <class T>
Eigen::Index first_of_run(const std::vector<std::pair<const matrix<T>*, const matrix<T>*>>& mats, Eigen::Index c) {
    auto equal_cols = [&](Eigen::Index i, Eigen::Index j) {
        for (auto [b, a] : mats)
            if (!same_col(*b, i, *b, j)) return false;
        return true;
    };
    while (c > 0 && equal_cols(c - 1, c)) --c;
    return c;
}

// A shrink of a loss case is valid and smaller: rows dropped (one, or one contiguous block), or one
// class or feature fewer (the rest kept),
// or the same shape with exactly one change: reg → 0, a label → 0, or one value simplified.
template <class T>
::testing::AssertionResult smaller_loss(const loss_case<T>& o, const loss_case<T>& s) {
    if (auto v = valid_loss_case(s); !v) return v;
    const auto n = o.X.rows(), d = o.X.cols(), k = o.W.cols();
    const auto sn = s.X.rows(), sd = s.X.cols(), sk = s.W.cols();
    if (sn + sd + sk > n + d + k) return ::testing::AssertionFailure() << "shape grew";
    if (sn + sd + sk < n + d + k) {
        // Fewer rows (one or a block), or exactly one class or feature fewer.
        const bool rows_only = sn < n && sd == d && sk == k && sn >= 1;
        if (!rows_only && ((n - sn) + (d - sd) + (k - sk) != 1 || sn > n || sd > d || sk > k))
            return ::testing::AssertionFailure() << "shape changed in more than one way";
        if (bits_of(s.reg) != bits_of(o.reg)) return ::testing::AssertionFailure() << "reg changed with the shape";
        if (sn < n) {  // X loses a row and y the matching label; W unchanged
            if (!same_bits(s.W, o.W)) return ::testing::AssertionFailure() << "W changed when dropping a row";
            if (is_row_drop<T>({{&o.X, &s.X}}, &o.y, &s.y)) return ::testing::AssertionSuccess();
            return ::testing::AssertionFailure() << "row drop is not a row drop";
        }
        if (sd < d) {  // X loses a column and W the matching row
            if (s.y != o.y) return ::testing::AssertionFailure() << "labels changed when dropping a feature";
            const matrix<T> Wt = o.W.transpose(), sWt = s.W.transpose();
            Eigen::Index f = 0;
            if (is_col_drop<T>({{&o.X, &s.X}, {&Wt, &sWt}}, f)) return ::testing::AssertionSuccess();
            return ::testing::AssertionFailure() << "feature drop is not a feature drop";
        }
        // W loses a column; labels renumbered
        if (!same_bits(s.X, o.X)) return ::testing::AssertionFailure() << "X changed when dropping a class";
        Eigen::Index cl = 0;
        const std::vector<std::pair<const matrix<T>*, const matrix<T>*>> mats{{&o.W, &s.W}};
        if (is_col_drop<T>(mats, cl)) return relabeled(o.y, s.y, first_of_run<T>(mats, cl), cl);
        return ::testing::AssertionFailure() << "class drop is not a class drop";
    }
    if (sn != n || sd != d || sk != k) return ::testing::AssertionFailure() << "shape reshuffled";
    const auto dw = differing(o.W, s.W), dx = differing(o.X, s.X);
    const auto dy = differing_labels(o.y, s.y);
    const bool dreg = bits_of(o.reg) != bits_of(s.reg);
    const std::size_t changes = dw.size() + dx.size() + dy.size() + (dreg ? 1 : 0);
    if (changes == 0) return ::testing::AssertionFailure() << "a case appears as its own shrink";
    if (changes != 1) return ::testing::AssertionFailure() << changes << " values changed at once";
    if (dreg) return s.reg == T(0) ? ::testing::AssertionSuccess() : ::testing::AssertionFailure() << "reg not set to 0";
    if (!dy.empty())
        return s.y[dy[0]] == 0 ? ::testing::AssertionSuccess() : ::testing::AssertionFailure() << "label not set to 0";
    if (!dw.empty()) return simpler_value(o.W.data()[dw[0]], s.W.data()[dw[0]]);
    return simpler_value(o.X.data()[dx[0]], s.X.data()[dx[0]]);
}

template <class T>
::testing::AssertionResult smaller_logits(const logits_case<T>& o, const logits_case<T>& s) {
    if (auto v = valid_logits_case(s); !v) return v;
    const auto n = o.z.rows(), k = o.z.cols(), sn = s.z.rows(), sk = s.z.cols();
    if (sn + sk > n + k) return ::testing::AssertionFailure() << "shape grew";
    if (sn + sk < n + k) {
        const bool rows_only = sn < n && sk == k && sn >= 1;
        if (sn == n && sk >= 1 && k - sk > 1) {
            // A block of classes [j, j + kk) removed: every other column kept in order, labels
            // inside the block moved to j − 1 (or 0), labels after it shifted down by kk.
            const Eigen::Index kk = k - sk;
            for (Eigen::Index j = 0; j + kk <= k; ++j) {
                bool same = true;
                for (Eigen::Index c = 0; c < sk && same; ++c) {
                    const Eigen::Index src = c < j ? c : c + kk;
                    for (Eigen::Index r = 0; r < n && same; ++r) same = bits_of(o.z(r, src)) == bits_of(s.z(r, c));
                }
                if (!same) continue;  // (equal columns can make several blocks match: try them all)
                bool labels_ok = true;
                for (std::size_t r = 0; r < o.y.size(); ++r) {
                    const auto v = o.y[r];
                    const auto want = v >= j + kk ? v - kk : v >= j ? (j > 0 ? j - 1 : 0) : v;
                    labels_ok = labels_ok && s.y[r] == want;
                }
                if (labels_ok) return ::testing::AssertionSuccess();
            }
            return ::testing::AssertionFailure() << "class block drop is not a block drop with consistent labels";
        }
        if (!rows_only && ((n - sn) + (k - sk) != 1 || sn > n || sk > k))
            return ::testing::AssertionFailure() << "shape changed in more than one way";
        if (sn < n) {
            if (is_row_drop<T>({{&o.z, &s.z}, {&o.g, &s.g}}, &o.y, &s.y)) return ::testing::AssertionSuccess();
            return ::testing::AssertionFailure() << "row drop is not a row drop";
        }
        Eigen::Index cl = 0;
        const std::vector<std::pair<const matrix<T>*, const matrix<T>*>> mats{{&o.z, &s.z}, {&o.g, &s.g}};
        if (is_col_drop<T>(mats, cl)) return relabeled(o.y, s.y, first_of_run<T>(mats, cl), cl);
        return ::testing::AssertionFailure() << "class drop is not a class drop";
    }
    const auto dz = differing(o.z, s.z), dg = differing(o.g, s.g);
    const auto dy = differing_labels(o.y, s.y);
    const std::size_t changes = dz.size() + dg.size() + dy.size();
    if (changes == 0) return ::testing::AssertionFailure() << "a case appears as its own shrink";
    if (changes != 1) return ::testing::AssertionFailure() << changes << " values changed at once";
    if (!dy.empty())
        return s.y[dy[0]] == 0 ? ::testing::AssertionSuccess() : ::testing::AssertionFailure() << "label not set to 0";
    if (!dz.empty()) return simpler_value(o.z.data()[dz[0]], s.z.data()[dz[0]]);
    return simpler_value(o.g.data()[dg[0]], s.g.data()[dg[0]]);
}

template <class T>
std::size_t elements(const loss_case<T>& c) {
    return static_cast<std::size_t>(c.W.size() + c.X.size());
}
template <class T>
std::size_t elements(const logits_case<T>& c) {
    return static_cast<std::size_t>(c.z.size() + c.g.size());
}

// Walks the shrink candidates of many drawn cases (all of them for small cases, a prefix for big
// ones: candidate i copies the whole case), then follows a greedy path of first candidates.
template <class Case, class Gen, class Smaller>
void check_shrinks(const Gen& g, Smaller smaller, int draws, std::size_t max_elements_for_full_walk) {
    long total = 0;
    int full_walks = 0;
    for (int i = 0; i < draws; ++i) {
        const auto sh = draw(g, i);
        const Case original = sh.value();
        auto shrinks = sh.shrinks();
        const bool full = elements(original) <= max_elements_for_full_walk;
        full_walks += full;
        long seen = 0;
        while (auto next = shrinks.next()) {
            ASSERT_TRUE(smaller(original, next->value())) << "draw " << i << " candidate " << seen;
            ++seen;
            if (!full && seen >= 60) break;
        }
        total += seen;
        // A greedy path of first candidates: every step valid and smaller.
        auto cur = sh;
        for (int step = 0; step < (full ? 30 : 3); ++step) {
            auto s2 = cur.shrinks();
            auto first = s2.next();
            if (!first) break;
            ASSERT_TRUE(smaller(cur.value(), first->value())) << "draw " << i << " path step " << step;
            cur = *first;
        }
    }
    EXPECT_GT(total, 10L * draws);  // shrinking offers candidates
    EXPECT_GT(full_walks, draws / 4);
}

TEST(Shrinking, LossCasesDouble) {
    check_shrinks<loss_case<double>>(gen::loss<double>(), smaller_loss<double>, 300, 400);
}
TEST(Shrinking, LossCasesFloat) {
    check_shrinks<loss_case<float>>(gen::loss<float>(), smaller_loss<float>, 200, 400);
}
gen::logits_options with_upstream() {
    gen::logits_options o;
    o.with_upstream = true;
    return o;
}
TEST(Shrinking, LogitsCasesDouble) {
    check_shrinks<logits_case<double>>(gen::logits<double>(with_upstream()), smaller_logits<double>, 300, 400);
}
TEST(Shrinking, LogitsCasesFloat) {
    check_shrinks<logits_case<float>>(gen::logits<float>(with_upstream()), smaller_logits<float>, 200, 400);
}
TEST(Shrinking, LogitsCasesWithoutUpstream) {
    check_shrinks<logits_case<double>>(gen::logits<double>(), smaller_logits<double>, 150, 400);
}

// Every kind of candidate is offered: drop a row, a class, a feature; reg → 0; a label → 0; a
// value simplified.
TEST(Shrinking, OffersEveryKindOfCandidate) {
    const auto g = gen::loss<double>();
    int found = 0;
    for (int i = 0; i < kDraws && found < 20; ++i) {
        const auto sh = draw(g, i);
        const auto v = sh.value();
        if (v.X.rows() < 2 || v.X.cols() < 2 || v.W.cols() < 2 || v.reg == 0 || elements(v) > 400) continue;
        if (std::none_of(v.y.begin(), v.y.end(), [](auto l) { return l != 0; })) continue;
        bool row = false, cls = false, feat = false, reg = false, label = false, value = false;
        auto s = sh.shrinks();
        while (auto n = s.next()) {
            const auto& w = n->value();
            row = row || w.X.rows() < v.X.rows();
            cls = cls || w.W.cols() < v.W.cols();
            feat = feat || w.X.cols() < v.X.cols();
            const bool same = w.X.rows() == v.X.rows() && w.W.cols() == v.W.cols() && w.X.cols() == v.X.cols();
            reg = reg || (same && w.reg == 0);
            label = label || (same && w.y != v.y);
            value = value || (same && (!same_bits(w.W, v.W) || !same_bits(w.X, v.X)));
        }
        EXPECT_TRUE(row && cls && feat && reg && label && value)
            << row << cls << feat << reg << label << value << " for draw " << i;
        ++found;
    }
    EXPECT_EQ(found, 20);
}

// The simplifications of a value are 0, trunc, a tenth, a half, the decimal exponent halved or a
// rounding that keeps its magnitude: 1234.5678 offers 1000, 1200, 1230, 1234, 123.45678 and
// 617.2839, never 0.5 or 1e6; 2e180 offers 1e90.
TEST(Shrinking, ValueCandidatesKeepMagnitudeOrHalveTheExponent) {
    const auto g = gen::logits<double>();
    int checked = 0;
    for (int i = 0; i < 500; ++i) {
        const auto sh = draw(g, i);
        const auto v = sh.value();
        if (v.z.rows() != 1 || v.z.size() > 16) continue;
        auto s = sh.shrinks();
        while (auto n = s.next()) {
            const auto& w = n->value();
            if (w.z.rows() != v.z.rows() || w.z.cols() != v.z.cols()) continue;
            const auto dz = differing(v.z, w.z);
            if (dz.size() != 1) continue;
            const double x = v.z.data()[dz[0]], y = w.z.data()[dz[0]];
            ASSERT_TRUE(y == 0 || y == std::trunc(x) || y == x / 10 || exponent_halved(x, y) || std::fabs(y) >= std::fabs(x) / 2)
                << x << " -> " << y;
            ASSERT_LE(std::fabs(y), 2 * std::fabs(x)) << x << " -> " << y;
            ++checked;
        }
    }
    EXPECT_GT(checked, 100);
}

// ---- show ---------------------------------------------------------------------------------------

struct parsed_matrix {
    long rows = -1, cols = -1;
    std::vector<std::string> cells;
};

// Parses "name (R×C) =" followed by R lines "  [ a, b, … ]" from the given position.
bool parse_matrix(const std::vector<std::string>& lines, std::size_t& at, const std::string& name, parsed_matrix& m) {
    if (at >= lines.size() || lines[at].rfind(name + " (", 0) != 0) return false;
    const std::string& h = lines[at];
    const auto open = h.find('('), times = h.find("×"), close = h.find(')');
    if (times == std::string::npos || close == std::string::npos) return false;
    m.rows = std::stol(h.substr(open + 1, times - open - 1));
    m.cols = std::stol(h.substr(times + std::string("×").size(), close - times - 2));
    ++at;
    for (long r = 0; r < m.rows; ++r, ++at) {
        if (at >= lines.size()) return false;
        std::string l = lines[at];
        const auto lb = l.find('['), rb = l.rfind(']');
        if (lb == std::string::npos || rb == std::string::npos) return false;
        std::stringstream ss(l.substr(lb + 1, rb - lb - 1));
        std::string cell;
        long count = 0;
        while (std::getline(ss, cell, ',')) {
            const auto b = cell.find_first_not_of(' '), e = cell.find_last_not_of(' ');
            m.cells.push_back(cell.substr(b, e - b + 1));
            ++count;
        }
        if (count != m.cols) return false;
    }
    return true;
}

label_vector parse_labels(const std::string& line, const std::string& name) {
    label_vector y;
    const auto lb = line.find('['), rb = line.rfind(']');
    if (line.rfind(name + " = [", 0) != 0 || rb == std::string::npos) return {-999};
    std::stringstream ss(line.substr(lb + 1, rb - lb - 1));
    std::string cell;
    while (std::getline(ss, cell, ',')) y.push_back(static_cast<std::int32_t>(std::stol(cell)));
    return y;
}

int significant_digits(const std::string& s) {
    int n = 0;
    bool leading = true;
    for (char ch : s.substr(0, s.find_first_of("eE"))) {
        if (ch < '0' || ch > '9') continue;
        if (leading && ch == '0') continue;
        leading = false;
        ++n;
    }
    return n;
}

template <class T>
T parse_value(const std::string& s) {
    char* end = nullptr;
    T v;
    if constexpr (std::is_same_v<T, float>) v = std::strtof(s.c_str(), &end);
    else v = std::strtod(s.c_str(), &end);
    EXPECT_EQ(*end, '\0') << "unparsed text in '" << s << "'";
    return v;
}

template <class T>
void expect_reads_back(const parsed_matrix& p, const matrix<T>& m, int& max_digits) {
    ASSERT_EQ(p.rows, m.rows());
    ASSERT_EQ(p.cols, m.cols());
    ASSERT_EQ(static_cast<Eigen::Index>(p.cells.size()), m.size());
    for (Eigen::Index k = 0; k < m.size(); ++k) {
        const std::string& s = p.cells[static_cast<std::size_t>(k)];
        const T back = parse_value<T>(s);
        if (std::isnan(m.data()[k])) {
            ASSERT_TRUE(std::isnan(back)) << s;
        } else {
            ASSERT_EQ(bits_of(back), bits_of(m.data()[k])) << s;
        }
        max_digits = std::max(max_digits, significant_digits(s));
    }
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::stringstream ss(text);
    std::string l;
    while (std::getline(ss, l)) lines.push_back(l);
    return lines;
}

template <class T>
void check_show_logits() {
    gen::logits_options o;
    o.allow_nonfinite_rows = true;
    o.with_upstream = true;
    const auto g = gen::logits<T>(o);
    int max_digits = 0, checked = 0;
    for (int i = 0; i < 600; ++i) {
        const auto c = draw(g, i).value();
        if (c.z.size() > 2000) continue;
        const auto lines = split_lines(to_text(c));
        std::size_t at = 0;
        while (at < lines.size() && lines[at].empty()) ++at;
        parsed_matrix z;
        ASSERT_TRUE(parse_matrix(lines, at, "logits", z)) << to_text(c).substr(0, 300);
        expect_reads_back(z, c.z, max_digits);
        ASSERT_LT(at, lines.size());
        ASSERT_EQ(parse_labels(lines[at++], "labels"), c.y);
        if (c.g.size() > 0 && c.g.size() <= 64) {
            parsed_matrix gm;
            ASSERT_TRUE(parse_matrix(lines, at, "upstream", gm));
            expect_reads_back(gm, c.g, max_digits);
        }
        ++checked;
    }
    EXPECT_GT(checked, 300);
    // Full precision, and no more than the type needs: 17 digits for double, 9 for float.
    EXPECT_EQ(max_digits, std::numeric_limits<T>::max_digits10);
}
TEST(Show, LogitsReadBackExactlyDouble) { check_show_logits<double>(); }
TEST(Show, LogitsReadBackExactlyFloat) { check_show_logits<float>(); }

template <class T>
void check_show_loss() {
    const auto g = gen::loss<T>();
    int max_digits = 0, checked = 0;
    for (int i = 0; i < 600; ++i) {
        const auto c = draw(g, i).value();
        if (c.W.size() + c.X.size() > 3000) continue;
        const auto lines = split_lines(to_text(c));
        std::size_t at = 0;
        while (at < lines.size() && lines[at].empty()) ++at;
        parsed_matrix W, X;
        ASSERT_TRUE(parse_matrix(lines, at, "W", W));
        expect_reads_back(W, c.W, max_digits);
        ASSERT_TRUE(parse_matrix(lines, at, "X", X));
        expect_reads_back(X, c.X, max_digits);
        ASSERT_LT(at + 1, lines.size());
        ASSERT_EQ(parse_labels(lines[at++], "y"), c.y);
        ASSERT_EQ(lines[at].rfind("reg = ", 0), 0u);
        const std::string reg = lines[at].substr(6);
        ASSERT_EQ(bits_of(parse_value<T>(reg)), bits_of(c.reg)) << reg;
        ++checked;
    }
    EXPECT_GT(checked, 300);
    EXPECT_EQ(max_digits, std::numeric_limits<T>::max_digits10);
}
TEST(Show, LossReadBackExactlyDouble) { check_show_loss<double>(); }
TEST(Show, LossReadBackExactlyFloat) { check_show_loss<float>(); }

// Hand-made values that need every digit, subnormals, −0 and masked entries.
TEST(Show, SpecialValuesReadBack) {
    logits_case<double> c;
    c.z.resize(2, 4);
    c.z << 0.1, -0.0, std::numeric_limits<double>::denorm_min(), -std::numeric_limits<double>::infinity(),
        1e16, std::nextafter(1e16, 2e16), std::numeric_limits<double>::max(), -1.0 / 3;
    c.g = matrix<double>::Constant(2, 4, 2.0 / 3);
    c.y = {0, 3};
    const auto lines = split_lines(to_text(c));
    std::size_t at = 1;
    parsed_matrix z, g;
    int digits = 0;
    ASSERT_TRUE(parse_matrix(lines, at, "logits", z));
    expect_reads_back(z, c.z, digits);
    ASSERT_EQ(parse_labels(lines[at++], "labels"), c.y);
    ASSERT_TRUE(parse_matrix(lines, at, "upstream", g));
    expect_reads_back(g, c.g, digits);
    EXPECT_EQ(digits, 17);
}

}  // namespace
}  // namespace gradproof
