// Tests of error/cross_entropy_tolerance.hpp in both directions, at float, double, bf16 and f16:
// the correctly rounded reference and a straightforward implementation written here (shift-
// invariant formulas in float or double, outputs rounded to the storage format) lie within the
// tolerance on random and hard inputs; realistic wrong variants (smoothing not class-weighted,
// mean divided by n, z-loss gradient without its 2, soft cap without its chain factor, bf16/f16
// outputs truncated instead of rounded) land outside it.
#include "error/cross_entropy_tolerance.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace gradproof {
namespace {

enum class variant { correct, smoothing_unweighted, mean_by_n, zloss_no_two, no_chain };
// How outputs reach storage: T's own rounding, or f32 then bf16/f16 rounded / truncated.
enum class store { native, half_round, half_truncate };

struct case_data {
    lmatrix x;
    label_vector y;
    ce_options o;
    std::vector<long double> w, dloss;
    lmatrix q;  // soft targets or 0×0
};

struct outputs {
    std::vector<long double> loss;
    lmatrix dl;
};

float truncate_to_half(half_format f, float v) {
    std::uint16_t b = float_to_half(f, v);
    const float r = half_to_float(f, b);
    if (std::fabs(r) > std::fabs(v)) --b;  // one step toward zero (sign-magnitude)
    return half_to_float(f, b);
}

long double stored(long double v, store s, half_format f) {
    if (s == store::native) return v;
    const float x = static_cast<float>(v);
    return s == store::half_round ? round_to_half(f, x) : truncate_to_half(f, x);
}

// plugin.h's formulas, shift-invariant (h_c = log S + (a − z_c)), in arithmetic A.
template <class A>
outputs implement(const case_data& c, variant v, store s = store::native, half_format f = half_format::bf16) {
    const Eigen::Index n = c.x.rows(), C = c.x.cols();
    const bool soft = c.q.size() > 0;
    const A eps = static_cast<A>(c.o.label_smoothing), sc = static_cast<A>(c.o.lse_square_scale), cap = static_cast<A>(c.o.softcap);
    auto w = [&](Eigen::Index j) { return c.w.empty() ? A(1) : static_cast<A>(c.w[static_cast<std::size_t>(j)]); };
    A wsum = 0;
    for (Eigen::Index j = 0; j < C; ++j) wsum += v == variant::smoothing_unweighted ? A(1) : w(j);
    std::vector<A> ce(static_cast<std::size_t>(n), 0), zl(static_cast<std::size_t>(n), 0), lse(static_cast<std::size_t>(n), 0);
    matrix<A> p(n, C), z(n, C), chain(n, C);
    A W = 0, K = 0;
    std::vector<char> ign(static_cast<std::size_t>(n), 0);
    for (Eigen::Index i = 0; i < n; ++i) {
        const auto ii = static_cast<std::size_t>(i);
        ign[ii] = !soft && c.o.has_ignore_index && c.y[ii] == c.o.ignore_index;
        A a = -std::numeric_limits<A>::infinity();
        for (Eigen::Index j = 0; j < C; ++j) {
            const A xv = static_cast<A>(c.x(i, j));
            const A t = cap > 0 ? std::tanh(xv / cap) : A(0);
            z(i, j) = cap > 0 ? cap * t : xv;
            chain(i, j) = cap > 0 && v != variant::no_chain ? A(1) - t * t : A(1);
            a = std::max(a, z(i, j));
        }
        A S = 0;
        for (Eigen::Index j = 0; j < C; ++j) S += std::exp(z(i, j) - a);
        const A logS = std::log(S);
        lse[ii] = a + logS;
        for (Eigen::Index j = 0; j < C; ++j) p(i, j) = std::exp(z(i, j) - a) / S;
        if (ign[ii]) continue;
        auto h = [&](Eigen::Index j) { return logS + (a - z(i, j)); };
        if (!soft) {
            const auto yi = c.y[ii];
            A sm = 0;
            for (Eigen::Index j = 0; j < C; ++j) sm += (v == variant::smoothing_unweighted ? A(1) : w(j)) * h(j);
            ce[ii] = (1 - eps) * w(yi) * h(yi) + eps / static_cast<A>(C) * sm;
            W += v == variant::mean_by_n ? A(1) : w(yi);
        } else {
            for (Eigen::Index j = 0; j < C; ++j)
                ce[ii] += w(j) * ((1 - eps) * static_cast<A>(c.q(i, j)) + eps / static_cast<A>(C)) * h(j);
            W += 1;
        }
        zl[ii] = sc * lse[ii] * lse[ii];
        K += 1;
    }
    outputs out;
    const reduction r = c.o.reduce;
    if (r == reduction::none) {
        for (Eigen::Index i = 0; i < n; ++i) out.loss.push_back(stored(ce[static_cast<std::size_t>(i)] + zl[static_cast<std::size_t>(i)], s, f));
    } else {
        A sce = 0, szl = 0;
        for (Eigen::Index i = 0; i < n; ++i) sce += ce[static_cast<std::size_t>(i)], szl += zl[static_cast<std::size_t>(i)];
        out.loss.push_back(stored(r == reduction::sum ? sce + szl : sce / W + szl / K, s, f));
    }
    out.dl.setZero(n, C);
    for (Eigen::Index i = 0; i < n; ++i) {
        const auto ii = static_cast<std::size_t>(i);
        if (ign[ii]) continue;
        const A dl = static_cast<A>(c.dloss[r == reduction::none ? ii : 0]);
        const A kce = r == reduction::mean ? dl / W : dl, kzl = r == reduction::mean ? dl / K : dl;
        A B = 0;
        if (soft)
            for (Eigen::Index j = 0; j < C; ++j) B += w(j) * ((1 - eps) * static_cast<A>(c.q(i, j)) + eps / static_cast<A>(C));
        for (Eigen::Index j = 0; j < C; ++j) {
            A g;
            if (!soft) {
                const auto yi = c.y[ii];
                const A wj = v == variant::smoothing_unweighted ? A(1) : w(j);
                g = (1 - eps) * w(yi) * (p(i, j) - (j == yi ? A(1) : A(0))) + eps / static_cast<A>(C) * (wsum * p(i, j) - wj);
            } else {
                g = B * p(i, j) - w(j) * ((1 - eps) * static_cast<A>(c.q(i, j)) + eps / static_cast<A>(C));
            }
            const A zg = (v == variant::zloss_no_two ? A(1) : A(2)) * sc * lse[ii] * p(i, j);
            out.dl(i, j) = stored((kce * g + kzl * zg) * chain(i, j), s, f);
        }
    }
    return out;
}

// The largest |out − ref| / tol (tol 0: any difference is infinite).
long double worst(const outputs& out, const reference::ce_options_reference& ref, const ce_options_tolerances& t,
                  bool loss_only = false, bool dl_only = false) {
    long double m = 0;
    auto add = [&](long double o, long double r, long double tol) {
        if (std::isnan(r) && std::isnan(o)) return;
        const long double e = std::fabs(o - r);
        m = std::max(m, e == 0 ? 0.0L : tol == 0 ? std::numeric_limits<long double>::infinity() : e / tol);
    };
    if (!dl_only)
        for (std::size_t k = 0; k < ref.loss.size(); ++k) add(out.loss[k], ref.loss[k], t.loss[k]);
    if (!loss_only)
        for (Eigen::Index k = 0; k < ref.dlogits.size(); ++k) add(out.dl.data()[k], ref.dlogits.data()[k], t.dlogits.data()[k]);
    return m;
}

// Inputs representable in the storage format (round: float → bf16/f16 or identity).
template <class R>
case_data make_case(std::mt19937_64& rng, Eigen::Index n, Eigen::Index c, double scale, reduction r, double eps, double s,
                    double cap, bool weighted, bool soft, R round) {
    std::normal_distribution<double> nd(0, 1);
    std::uniform_real_distribution<double> ud(0.25, 4);
    case_data k;
    k.x.resize(n, c);
    for (Eigen::Index i = 0; i < k.x.size(); ++i) k.x.data()[i] = round(nd(rng) * scale);
    if (!soft)
        for (Eigen::Index i = 0; i < n; ++i) k.y.push_back(static_cast<std::int32_t>(rng() % static_cast<std::uint64_t>(c)));
    k.o.reduce = r;
    k.o.label_smoothing = eps;
    k.o.lse_square_scale = s;
    k.o.softcap = cap;
    if (weighted)
        for (Eigen::Index j = 0; j < c; ++j) k.w.push_back(round(ud(rng)));
    if (soft) {
        k.q.resize(n, c);
        for (Eigen::Index i = 0; i < k.q.size(); ++i) k.q.data()[i] = round(std::fabs(nd(rng)) / static_cast<double>(c));
    }
    for (Eigen::Index i = 0; i < (r == reduction::none ? n : 1); ++i) k.dloss.push_back(round(0.5 + ud(rng)));
    return k;
}

reference::ce_options_reference ref_of(const case_data& k) {
    return reference::cross_entropy_with_options(k.x, k.y, k.o, k.w, k.q, k.dloss);
}
ce_options_tolerances tol_of(const arithmetic& a, const case_data& k, const reference::ce_options_reference& r) {
    return cross_entropy_options_tolerance(a, k.x, k.y, k.o, k.w, k.q, k.dloss, r);
}

template <class T>
long double as_t(double v) {
    return static_cast<long double>(static_cast<T>(v));
}

// The reference rounded to nearest in the output format.
outputs rounded(const reference::ce_options_reference& r, const std::function<long double(long double)>& rn) {
    outputs o{r.loss, r.dlogits};
    for (auto& v : o.loss) v = std::isnan(v) ? v : rn(v);
    for (Eigen::Index k = 0; k < o.dl.size(); ++k) o.dl.data()[k] = rn(o.dl.data()[k]);
    return o;
}

struct config {
    Eigen::Index n, c;
    double scale;
    reduction r;
    double eps, s, cap;
    bool weighted, soft;
};
const std::vector<config> configs = {
    {4, 10, 2, reduction::mean, 0.1, 0.01, 0, true, false},  {3, 33, 5, reduction::sum, 0, 0.001, 8, true, false},
    {5, 7, 1, reduction::none, 0.3, 0, 0, false, false},     {2, 64, 20, reduction::mean, 0.05, 0.0001, 30, true, false},
    {3, 9, 3, reduction::mean, 0.2, 0.01, 0, true, true},    {4, 1, 3, reduction::mean, 0.1, 0.01, 0, true, false},
    {2, 300, 40, reduction::sum, 1.0, 0, 0, true, false},    // ε = 1, spread probabilities below 1e−17
};

template <class T>
void correct_within() {
    std::mt19937_64 rng(21);
    const arithmetic a = native_arithmetic<T>();
    for (const config& g : configs)
        for (int rep = 0; rep < 3; ++rep) {
            const case_data k = make_case(rng, g.n, g.c, g.scale, g.r, g.eps, g.s, g.cap, g.weighted, g.soft, as_t<T>);
            const auto ref = ref_of(k);
            const auto t = tol_of(a, k, ref);
            EXPECT_LE(worst(rounded(ref, [](long double v) { return static_cast<long double>(static_cast<T>(v)); }), ref, t), 1)
                << "C = " << g.c;
            EXPECT_LE(worst(implement<T>(k, variant::correct), ref, t), 1) << "C = " << g.c;
        }
}

TEST(CrossEntropyOptionsTolerance, CorrectFloatWithin) { correct_within<float>(); }
TEST(CrossEntropyOptionsTolerance, CorrectDoubleWithin) { correct_within<double>(); }

// A batch of 2^20 logits is analysed in row blocks over the hardware threads; with reduction none
// each row's tolerance depends on that row alone, so it must equal the tolerance of the row by
// itself (one row: one thread), bit for bit.
TEST(CrossEntropyOptionsTolerance, RowBlocksOverThreadsEqualRowsAlone) {
    std::mt19937_64 rng(77);
    const auto identity = [](double v) { return v; };
    const case_data k = make_case(rng, 16, 65536, 4, reduction::none, 0.1, 0.01, 0, true, false, identity);
    const arithmetic a = native_arithmetic<float>();
    const auto whole = tol_of(a, k, ref_of(k));
    for (Eigen::Index i = 0; i < k.x.rows(); i += 5) {
        case_data row = k;
        row.x = k.x.row(i);
        row.y = {k.y[static_cast<std::size_t>(i)]};
        row.dloss = {k.dloss[static_cast<std::size_t>(i)]};
        const auto alone = tol_of(a, row, ref_of(row));
        EXPECT_EQ(alone.loss[0], whole.loss[static_cast<std::size_t>(i)]) << i;
        for (Eigen::Index j = 0; j < k.x.cols(); ++j) ASSERT_EQ(alone.dlogits(0, j), whole.dlogits(i, j)) << i << "," << j;
    }
}

TEST(CrossEntropyOptionsTolerance, HardInputsWithin) {
    // Huge shifted logits (1e4 in double, 1e3 in float), a masked class, tiny probabilities.
    std::mt19937_64 rng(22);
    for (int prec = 0; prec < 2; ++prec) {
        case_data k = make_case(rng, 3, 12, 30, reduction::mean, 0.1, 0.001, 0, true, false, as_t<double>);
        k.x.array() += prec == 0 ? 1e4L : 1e3L;
        // Inputs must stay exact binary numbers of the type under test.
        k.x = k.x.unaryExpr([&](long double v) {
            return prec == 0 ? as_t<double>(static_cast<double>(v)) : as_t<float>(static_cast<double>(v));
        });
        const auto ref = ref_of(k);
        const arithmetic a = prec == 0 ? native_arithmetic<double>() : native_arithmetic<float>();
        const auto t = tol_of(a, k, ref);
        const outputs o = prec == 0 ? implement<double>(k, variant::correct) : implement<float>(k, variant::correct);
        EXPECT_LE(worst(o, ref, t), 1);
    }
    case_data m = make_case(rng, 2, 5, 2, reduction::sum, 0, 0.01, 0, true, false, as_t<float>);
    m.x(0, 3) = -std::numeric_limits<long double>::infinity();
    m.y = {0, 1};
    const auto ref = ref_of(m);
    EXPECT_LE(worst(implement<float>(m, variant::correct), ref, tol_of(native_arithmetic<float>(), m, ref)), 1);
}

// Each wrong variant, on a case where its formula differs, lands outside at float, double and bf16.
TEST(CrossEntropyOptionsTolerance, WrongVariantsOutside) {
    std::mt19937_64 rng(23);
    struct wrong {
        variant v;
        config g;
    };
    const std::vector<wrong> cases = {
        {variant::smoothing_unweighted, {4, 10, 2, reduction::mean, 0.2, 0, 0, true, false}},
        {variant::mean_by_n, {4, 10, 2, reduction::mean, 0, 0, 0, true, false}},
        {variant::zloss_no_two, {4, 10, 2, reduction::sum, 0, 0.05, 0, false, false}},
        {variant::no_chain, {4, 10, 6, reduction::sum, 0, 0, 4, false, false}},
    };
    const half_format bf = half_format::bf16;
    for (const wrong& w : cases) {
        const config& g = w.g;
        const case_data kd = make_case(rng, g.n, g.c, g.scale, g.r, g.eps, g.s, g.cap, g.weighted, g.soft, as_t<double>);
        auto rd = ref_of(kd);
        EXPECT_GT(worst(implement<double>(kd, w.v), rd, tol_of(native_arithmetic<double>(), kd, rd)), 1) << static_cast<int>(w.v);
        const case_data kf = make_case(rng, g.n, g.c, g.scale, g.r, g.eps, g.s, g.cap, g.weighted, g.soft, as_t<float>);
        auto rf = ref_of(kf);
        EXPECT_GT(worst(implement<float>(kf, w.v), rf, tol_of(native_arithmetic<float>(), kf, rf)), 1) << static_cast<int>(w.v);
        const case_data kb = make_case(rng, g.n, g.c, g.scale, g.r, g.eps, g.s, g.cap, g.weighted, g.soft,
                                       [&](double v) { return static_cast<long double>(round_to_half(bf, static_cast<float>(v))); });
        auto rb = ref_of(kb);
        const auto tb = tol_of(half_arithmetic(bf), kb, rb);
        EXPECT_LE(worst(implement<float>(kb, variant::correct, store::half_round, bf), rb, tb), 1);
        EXPECT_GT(worst(implement<float>(kb, w.v, store::half_round, bf), rb, tb), 1) << static_cast<int>(w.v);
    }
}

// bf16 and f16 outputs from f32 arithmetic: rounding to nearest passes; truncation is caught at
// ordinary inputs (C ≤ a few hundred) in a sizable fraction of the elements, not in every one.
TEST(CrossEntropyOptionsTolerance, HalfOutputsRoundedPassTruncatedFail) {
    std::mt19937_64 rng(24);
    for (half_format f : {half_format::bf16, half_format::f16}) {
        const arithmetic a = half_arithmetic(f);
        auto rnd = [&](double v) { return static_cast<long double>(round_to_half(f, static_cast<float>(v))); };
        long double outside = 0, total = 0;
        for (const config& g : configs) {
            if (g.c == 1) continue;  // dlogits all 0 except z-loss: nothing to truncate
            const case_data k = make_case(rng, g.n, g.c, g.scale, g.r, g.eps, g.s, g.cap, g.weighted, g.soft, rnd);
            const auto ref = ref_of(k);
            const auto t = tol_of(a, k, ref);
            EXPECT_LE(worst(rounded(ref, [&](long double v) { return static_cast<long double>(round_to_half(f, static_cast<float>(v))); }),
                            ref, t),
                      1)
                << to_string(f) << " C = " << g.c;
            EXPECT_LE(worst(implement<float>(k, variant::correct, store::half_round, f), ref, t), 1) << to_string(f) << " C = " << g.c;
            const outputs tr = implement<float>(k, variant::correct, store::half_truncate, f);
            for (Eigen::Index j = 0; j < tr.dl.size(); ++j) {
                if (ref.dlogits.data()[j] == 0) continue;
                total += 1;
                outside += std::fabs(tr.dl.data()[j] - ref.dlogits.data()[j]) > t.dlogits.data()[j];
            }
        }
        // A truncation error exceeds ½ ulp + F·E in roughly a quarter of the elements or more.
        EXPECT_GT(outside / total, 0.1L) << to_string(f) << ": " << outside << " of " << total;
    }
}

TEST(CrossEntropyOptionsTolerance, OutputRoundingIsHalfAnUlp) {
    const arithmetic bf = half_arithmetic(half_format::bf16);
    EXPECT_EQ(detail::output_rounding(bf, 1.0L), std::ldexp(1.0L, -8));    // ulp(1) = 2^-7 in bf16
    EXPECT_EQ(detail::output_rounding(bf, 1.99L), std::ldexp(1.0L, -8));
    EXPECT_EQ(detail::output_rounding(bf, 0), std::ldexp(1.0L, -134));    // half the subnormal spacing
    const arithmetic h = half_arithmetic(half_format::f16);
    EXPECT_EQ(detail::output_rounding(h, 1e-7L), std::ldexp(1.0L, -25));
}

// ---- fused --------------------------------------------------------------------------------

struct fused_out {
    std::vector<long double> loss;
    lmatrix dh, dw;
    std::vector<long double> db;
};

// Logits in A, cross-entropy by implement<A> (outputs kept in A), products in A, outputs stored.
template <class A>
fused_out fused_impl(const lmatrix& H, const lmatrix& Wt, const std::vector<long double>& b, const label_vector& y,
                     const ce_options& o, const std::vector<long double>& w, const std::vector<long double>& dloss, variant v,
                     store s = store::native, half_format f = half_format::bf16) {
    const matrix<A> h = convert<A>(H), wt = convert<A>(Wt);
    matrix<A> L = h * wt.transpose();
    for (Eigen::Index i = 0; i < L.rows(); ++i)
        for (Eigen::Index j = 0; j < L.cols(); ++j) L(i, j) += static_cast<A>(b[static_cast<std::size_t>(j)]);
    const case_data k{convert<long double>(L), y, o, w, dloss, lmatrix()};
    const outputs ce = implement<A>(k, v);
    const matrix<A> dl = convert<A>(ce.dl);
    const matrix<A> dh = dl * wt, dw = dl.transpose() * h;
    fused_out r;
    for (long double l : ce.loss) r.loss.push_back(stored(l, s, f));
    r.dh = convert<long double>(dh).unaryExpr([&](long double x) { return stored(x, s, f); });
    r.dw = convert<long double>(dw).unaryExpr([&](long double x) { return stored(x, s, f); });
    for (Eigen::Index j = 0; j < dl.cols(); ++j) r.db.push_back(stored(dl.col(j).sum(), s, f));
    return r;
}

long double fused_worst(const fused_out& o, const reference::fused_ce_reference& r, const fused_ce_tolerances& t) {
    long double m = 0;
    auto add = [&](long double a, long double b, long double tol) {
        const long double e = std::fabs(a - b);
        m = std::max(m, e == 0 ? 0.0L : tol == 0 ? std::numeric_limits<long double>::infinity() : e / tol);
    };
    for (std::size_t k = 0; k < r.ce.loss.size(); ++k) add(o.loss[k], r.ce.loss[k], t.loss[k]);
    for (Eigen::Index k = 0; k < r.dhidden.size(); ++k) add(o.dh.data()[k], r.dhidden.data()[k], t.dhidden.data()[k]);
    for (Eigen::Index k = 0; k < r.dweight.size(); ++k) add(o.dw.data()[k], r.dweight.data()[k], t.dweight.data()[k]);
    for (std::size_t k = 0; k < r.dbias.size(); ++k) add(o.db[k], r.dbias[k], t.dbias[k]);
    return m;
}

TEST(FusedCrossEntropyTolerance, CorrectWithinWrongOutside) {
    std::mt19937_64 rng(25);
    std::normal_distribution<double> nd(0, 1);
    const Eigen::Index n = 4, d = 16, v = 40;
    for (int kind = 0; kind < 3; ++kind) {  // 0 double, 1 float, 2 bf16 storage with f32 arithmetic
        const half_format f = half_format::bf16;
        auto rnd = [&](double x) {
            return kind == 0 ? static_cast<long double>(x)
                             : kind == 1 ? as_t<float>(x) : static_cast<long double>(round_to_half(f, static_cast<float>(x)));
        };
        lmatrix H(n, d), Wt(v, d);
        for (Eigen::Index k = 0; k < H.size(); ++k) H.data()[k] = rnd(nd(rng));
        for (Eigen::Index k = 0; k < Wt.size(); ++k) Wt.data()[k] = rnd(nd(rng) * 0.3);
        std::vector<long double> b, w;
        for (Eigen::Index j = 0; j < v; ++j) b.push_back(rnd(nd(rng) * 0.1)), w.push_back(rnd(1 + std::fabs(nd(rng))));
        label_vector y;
        for (Eigen::Index i = 0; i < n; ++i) y.push_back(static_cast<std::int32_t>(rng() % v));
        ce_options o;
        o.reduce = reduction::mean;
        o.label_smoothing = 0.1;
        o.lse_square_scale = 0.01;
        o.softcap = 15;
        const std::vector<long double> dloss{rnd(1.25)};
        const auto ref = reference::fused_linear_cross_entropy(H, Wt, b, y, o, w, dloss);
        const arithmetic a = kind == 0 ? native_arithmetic<double>() : kind == 1 ? native_arithmetic<float>() : half_arithmetic(f);
        const auto t = fused_linear_cross_entropy_tolerance(a, H, Wt, b, y, o, w, dloss, ref);
        const store s = kind == 2 ? store::half_round : store::native;
        auto run = [&](variant var, store st) {
            return kind == 0 ? fused_impl<double>(H, Wt, b, y, o, w, dloss, var, st, f)
                             : fused_impl<float>(H, Wt, b, y, o, w, dloss, var, st, f);
        };
        EXPECT_LE(fused_worst(run(variant::correct, s), ref, t), 1) << kind;
        EXPECT_GT(fused_worst(run(variant::mean_by_n, s), ref, t), 1) << kind;
        EXPECT_GT(fused_worst(run(variant::no_chain, s), ref, t), 1) << kind;
        if (kind == 2) {
            EXPECT_GT(fused_worst(run(variant::correct, store::half_truncate), ref, t), 1);
        }
    }
}

}  // namespace
}  // namespace gradproof
