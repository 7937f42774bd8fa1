#include "gen/generators.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace gradproof::gen {

namespace {

using rng_t = std::mt19937_64;

template <class T>
struct thresholds {
    static long double overflow() { return std::log(static_cast<long double>(std::numeric_limits<T>::max())); }
    static long double underflow() { return -std::log(static_cast<long double>(std::numeric_limits<T>::denorm_min())); }
    static long double huge() { return std::is_same_v<T, float> ? 1e30L : 1e300L; }
};

double uniform(rng_t& r, double a, double b) { return std::uniform_real_distribution<double>(a, b)(r); }
int uniform_int(rng_t& r, int a, int b) { return std::uniform_int_distribution<int>(a, b)(r); }
bool chance(rng_t& r, double p) { return uniform(r, 0, 1) < p; }
double normal(rng_t& r) { return std::normal_distribution<double>(0, 1)(r); }

struct shape {
    int n, d, c;
};

shape draw_shape(rng_t& r, const shape_options& o, int size) {
    if (o.wide) {
        const double p = uniform(r, 0, 1);
        if (o.wide_max_c > 50257 && p < 0.3) return shape{1, 1, o.wide_max_c};
        const int c = p < 0.4 ? 50257 : p < 0.7 ? 2 * uniform_int(r, 128, 2047) + 1 : uniform_int(r, 4096, 50257);
        return shape{uniform_int(r, 1, 2), 1, c};
    }
    // Larger shapes become likelier as RapidCheck's size grows from 0 to 100.
    const double big = 0.05 + 0.15 * std::min(size, 100) / 100.0;
    shape s{};
    const double pc = uniform(r, 0, 1);
    if (pc < 0.06) s.c = 1;
    else if (pc < 0.22) s.c = 2;
    else if (pc < 0.55) s.c = uniform_int(r, 3, 9);
    else if (pc < 1 - big) s.c = uniform_int(r, 10, 64);
    else if (pc < 1 - big / 2) s.c = uniform_int(r, 65, 256);
    else if (pc < 1 - big / 5) s.c = 2 * uniform_int(r, 128, 255) + 1;  // odd, 257..511
    else s.c = uniform_int(r, 512, 3000);
    const double pn = uniform(r, 0, 1);
    if (pn < 0.2) s.n = 1;
    else if (pn < 0.7) s.n = uniform_int(r, 2, 16);
    else if (pn < 1 - big) s.n = uniform_int(r, 17, 64);
    else s.n = uniform_int(r, 65, 130);
    const double pd = uniform(r, 0, 1);
    if (pd < 0.15) s.d = 1;
    else if (pd < 0.65) s.d = uniform_int(r, 2, 8);
    else if (pd < 0.95) s.d = uniform_int(r, 9, 32);
    else s.d = uniform_int(r, 33, 48);
    s.c = std::min(s.c, o.max_c);
    s.n = std::min(s.n, o.max_n);
    s.d = std::min(s.d, o.max_d);
    // Keep N·D·C within the reference budget: shrink D first, then N, then C.
    while (static_cast<long>(s.n) * s.d * s.c > o.max_work) {
        if (s.d > 1) s.d = std::max(1, s.d / 2);
        else if (s.n > 1) s.n = std::max(1, s.n / 2);
        else s.c = std::max(1, s.c / 2);
    }
    return s;
}

// A value of magnitude ≈ scale with all significand bits random, or an exactly representable
// "nice" value (0, small integer, power of two), or rarely a subnormal.
template <class T>
T draw_scalar(rng_t& r, double scale) {
    const double p = uniform(r, 0, 1);
    if (p < 0.06) return T(0);
    if (p < 0.16) return T(uniform_int(r, -4, 4));
    if (p < 0.24) return T(std::ldexp(chance(r, 0.5) ? 1.0 : -1.0, static_cast<int>(std::round(std::log2(scale))) + uniform_int(r, -2, 2)));
    if (p < 0.25) return T(uniform_int(r, -3, 3)) * std::numeric_limits<T>::denorm_min();
    return static_cast<T>(normal(r) * scale);
}

double draw_scale(rng_t& r) {
    const double p = uniform(r, 0, 1);
    if (p < 0.55) return std::ldexp(1.0, uniform_int(r, -3, 2));
    if (p < 0.85) return std::ldexp(1.0, uniform_int(r, -10, 5));
    return std::ldexp(1.0, uniform_int(r, 5, 10));  // scores in the hundreds to thousands
}

enum class hazard { normal, spread, label_far, all_negative, huge_equal, ties, masked, subnormal, shifted, count };

// One logit row (length c) carrying the given hazard; label is the row's label.
template <class T>
void fill_hazard_row(rng_t& r, T* row, int c, int label, hazard h, bool allow_masked) {
    using th = thresholds<T>;
    const double ov = static_cast<double>(th::overflow()), un = static_cast<double>(th::underflow());
    const double sigma = std::vector<double>{0.5, 3, 20}[static_cast<std::size_t>(uniform_int(r, 0, 2))];
    for (int j = 0; j < c; ++j) row[j] = static_cast<T>(normal(r) * sigma);
    switch (h) {
        case hazard::normal: break;
        case hazard::spread: {  // max − min beyond the overflow and underflow thresholds
            const int hi = uniform_int(r, 0, c - 1);
            row[hi] = static_cast<T>(uniform(r, ov * 1.001, un * 1.5));
            if (chance(r, 0.5)) row[uniform_int(r, 0, c - 1)] = static_cast<T>(-uniform(r, ov, un * 1.5));
            break;
        }
        case hazard::label_far: {  // the label's probability is subnormal or underflows
            const double gap = chance(r, 0.5) ? uniform(r, ov - 1, un) : uniform(r, un, 4 * un);
            T mx = row[0];
            for (int j = 1; j < c; ++j) mx = std::max(mx, row[j]);
            row[label] = static_cast<T>(static_cast<double>(mx) - gap);
            break;
        }
        case hazard::all_negative: {  // every logit below −1.07·underflow (−800 in double)
            const double base = -uniform(r, 1.07, 3) * un;
            for (int j = 0; j < c; ++j) row[j] = static_cast<T>(base + static_cast<double>(row[j]));
            break;
        }
        case hazard::huge_equal: {  // (1e16, 1e16)-style: equal or nearly equal huge logits
            const double mags[] = {1.0 / static_cast<double>(std::numeric_limits<T>::epsilon()), 1e8, 1e16,
                                   static_cast<double>(th::huge())};
            const double m = mags[uniform_int(r, 0, 3)] * (chance(r, 0.3) ? -1 : 1);
            const T base = static_cast<T>(m);
            for (int j = 0; j < c; ++j) {
                T v = base;
                for (int k = uniform_int(r, 0, 2); k > 0; --k) v = std::nextafter(v, std::numeric_limits<T>::infinity());
                row[j] = chance(r, 0.6) ? base : v;
            }
            break;
        }
        case hazard::ties: {
            const T a = static_cast<T>(normal(r) * sigma);
            const T b = std::nextafter(a, std::numeric_limits<T>::infinity());
            for (int j = 0; j < c; ++j) row[j] = chance(r, 0.5) ? a : (chance(r, 0.5) ? b : row[j]);
            break;
        }
        case hazard::masked: {
            if (!allow_masked || c < 2) break;
            for (int j = 0; j < c; ++j)
                if (j != label && chance(r, 0.4)) row[j] = -std::numeric_limits<T>::infinity();
            break;
        }
        case hazard::subnormal: {
            for (int j = 0; j < c; ++j) row[j] = static_cast<T>(uniform_int(r, -8, 8)) * std::numeric_limits<T>::denorm_min();
            break;
        }
        case hazard::shifted: {  // an ordinary row plus a constant up to the type's huge magnitudes
            const double k = std::pow(10.0, uniform(r, 1, std::log10(static_cast<double>(th::huge())))) *
                             (chance(r, 0.5) ? -1 : 1);
            for (int j = 0; j < c; ++j) row[j] = static_cast<T>(static_cast<double>(row[j]) + k);
            break;
        }
        case hazard::count: break;
    }
}

template <class T>
hazard draw_hazard(rng_t& r, hazard_mode mode) {
    if (mode == hazard_mode::ordinary) return hazard::normal;
    if (mode == hazard_mode::mixed && chance(r, 0.65)) return hazard::normal;
    return static_cast<hazard>(uniform_int(r, 1, static_cast<int>(hazard::count) - 1));
}

// ---- shrinking -------------------------------------------------------------------------------

// 0, trunc(x), the decimal exponent halved (±10^⌊e/2⌋ for |x| ≈ 10^e, e ≥ 4), readable values of
// the same magnitude, then x/10 and x/2; never the value itself. The halved exponent reaches a
// threshold such as 100 from 2e180 in about log2(180) accepted steps instead of ≈ 600 halvings,
// each of which may cost a crashed worker's restart.
template <class T>
std::vector<T> simpler_values(T x) {
    std::vector<T> out;
    if (!std::isfinite(x) || x == T(0)) return out;
    auto push = [&](T v) {
        if (v != x && std::isfinite(v) && std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
    };
    push(T(0));
    push(std::trunc(x));
    const long double ax = std::fabs(static_cast<long double>(x));
    const int e10 = static_cast<int>(std::floor(std::log10(ax)));
    if (e10 >= 4) push(static_cast<T>(std::copysign(std::pow(10.0L, e10 / 2), static_cast<long double>(x))));
    for (int digits = 1; digits <= 3; ++digits) {
        const long double q = std::pow(10.0L, e10 - digits + 1);
        push(static_cast<T>(std::round(static_cast<long double>(x) / q) * q));
    }
    push(x / T(10));
    push(x / T(2));
    return out;
}

template <class T>
matrix<T> drop_row(const matrix<T>& m, Eigen::Index r) {
    matrix<T> out(m.rows() - 1, m.cols());
    for (Eigen::Index i = 0, o = 0; i < m.rows(); ++i)
        if (i != r) out.row(o++) = m.row(i);
    return out;
}
// Removes rows [r, r + k).
template <class T>
matrix<T> drop_rows(const matrix<T>& m, Eigen::Index r, Eigen::Index k) {
    matrix<T> out(m.rows() - k, m.cols());
    out.topRows(r) = m.topRows(r);
    out.bottomRows(m.rows() - r - k) = m.bottomRows(m.rows() - r - k);
    return out;
}
label_vector drop_labels(const label_vector& y, std::size_t r, std::size_t k) {
    label_vector out = y;
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(r), out.begin() + static_cast<std::ptrdiff_t>(r + k));
    return out;
}
// (start, count) blocks of halving size: first halves, then quarters, …, down to blocks of 2,
// so that shrinking a large batch takes O(log N) accepted steps (each of which may cost an
// implementation's timeout) before single rows are tried.
std::vector<std::pair<Eigen::Index, Eigen::Index>> row_blocks(Eigen::Index n) {
    std::vector<std::pair<Eigen::Index, Eigen::Index>> out;
    for (Eigen::Index k = n / 2; k >= 2; k /= 2)
        for (Eigen::Index start = 0; start + k <= n; start += k) out.emplace_back(start, k);
    return out;
}

template <class T>
matrix<T> drop_col(const matrix<T>& m, Eigen::Index c) {
    matrix<T> out(m.rows(), m.cols() - 1);
    for (Eigen::Index j = 0, o = 0; j < m.cols(); ++j)
        if (j != c) out.col(o++) = m.col(j);
    return out;
}
// Removes columns [j, j + k); labels inside the block move to its left neighbour (or 0), labels
// right of it shift down.
template <class T>
matrix<T> drop_cols(const matrix<T>& m, Eigen::Index j, Eigen::Index k) {
    matrix<T> out(m.rows(), m.cols() - k);
    out.leftCols(j) = m.leftCols(j);
    out.rightCols(m.cols() - j - k) = m.rightCols(m.cols() - j - k);
    return out;
}
label_vector relabel_without_block(const label_vector& y, std::int32_t j, std::int32_t k) {
    label_vector out = y;
    for (auto& v : out) {
        if (v >= j + k) v -= k;
        else if (v >= j) v = j > 0 ? j - 1 : 0;
    }
    return out;
}

label_vector drop_label(const label_vector& y, std::size_t i) {
    label_vector out = y;
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(i));
    return out;
}
// Removing class c: labels above it move down; a label on it moves to c−1 (or 0).
label_vector relabel_without(const label_vector& y, std::int32_t c) {
    label_vector out = y;
    for (auto& v : out)
        if (v > c || (v == c && v > 0)) --v;
    return out;
}

// Lazily enumerates the single-value simplifications of the given matrices: index k encodes
// (matrix, element, candidate); candidates are computed on demand.
template <class Case, class T>
rc::Seq<Case> value_shrinks(const Case& c, std::vector<matrix<T> Case::*> members) {
    std::vector<std::pair<std::size_t, Eigen::Index>> slots;  // (member, flat index)
    for (std::size_t m = 0; m < members.size(); ++m) {
        const auto& mat = c.*members[m];
        for (Eigen::Index k = 0; k < mat.size(); ++k)
            if (!simpler_values(mat.data()[k]).empty()) slots.emplace_back(m, k);
    }
    return rc::seq::mapcat(rc::seq::fromContainer(std::move(slots)), [c, members](const std::pair<std::size_t, Eigen::Index>& s) {
        const auto& mat = c.*members[s.first];
        return rc::seq::map(rc::seq::fromContainer(simpler_values(mat.data()[s.second])), [c, members, s](T v) {
            Case out = c;
            (out.*members[s.first]).data()[s.second] = v;
            return out;
        });
    });
}

template <class T>
rc::Seq<loss_case<T>> shrink_loss(const loss_case<T>& c) {
    using C = loss_case<T>;
    const auto n = c.X.rows(), d = c.X.cols(), k = c.W.cols();
    auto blocks = rc::seq::map(rc::seq::fromContainer(row_blocks(n)), [c](std::pair<Eigen::Index, Eigen::Index> b) {
        C o = c;
        o.X = drop_rows(c.X, b.first, b.second);
        o.y = drop_labels(c.y, static_cast<std::size_t>(b.first), static_cast<std::size_t>(b.second));
        return o;
    });
    auto rows = rc::seq::map(rc::seq::range<Eigen::Index>(0, n > 1 ? n : 0), [c](Eigen::Index i) {
        C o = c;
        o.X = drop_row(c.X, i);
        o.y = drop_label(c.y, static_cast<std::size_t>(i));
        return o;
    });
    auto classes = rc::seq::map(rc::seq::range<Eigen::Index>(0, k > 1 ? k : 0), [c](Eigen::Index j) {
        C o = c;
        o.W = drop_col(c.W, j);
        o.y = relabel_without(c.y, static_cast<std::int32_t>(j));
        return o;
    });
    auto features = rc::seq::map(rc::seq::range<Eigen::Index>(0, d > 1 ? d : 0), [c](Eigen::Index j) {
        C o = c;
        o.X = drop_col(c.X, j);
        o.W = drop_row(c.W, j);
        return o;
    });
    auto reg = c.reg != T(0) ? rc::seq::just([c] { C o = c; o.reg = T(0); return o; }()) : rc::Seq<C>();
    auto labels = rc::seq::map(rc::seq::filter(rc::seq::range<std::size_t>(0, c.y.size()), [c](std::size_t i) { return c.y[i] != 0; }),
                               [c](std::size_t i) { C o = c; o.y[i] = 0; return o; });
    return rc::seq::concat(std::move(blocks), std::move(rows), std::move(classes), std::move(features), std::move(reg), std::move(labels),
                           value_shrinks<C, T>(c, {&C::W, &C::X}));
}

template <class T>
rc::Seq<logits_case<T>> shrink_logits(const logits_case<T>& c) {
    using C = logits_case<T>;
    const auto n = c.z.rows(), k = c.z.cols();
    auto blocks = rc::seq::map(rc::seq::fromContainer(row_blocks(n)), [c](std::pair<Eigen::Index, Eigen::Index> b) {
        C o = c;
        o.z = drop_rows(c.z, b.first, b.second);
        if (c.g.size()) o.g = drop_rows(c.g, b.first, b.second);
        o.y = drop_labels(c.y, static_cast<std::size_t>(b.first), static_cast<std::size_t>(b.second));
        return o;
    });
    auto rows = rc::seq::map(rc::seq::range<Eigen::Index>(0, n > 1 ? n : 0), [c](Eigen::Index i) {
        C o = c;
        o.z = drop_row(c.z, i);
        if (c.g.size()) o.g = drop_row(c.g, i);
        o.y = drop_label(c.y, static_cast<std::size_t>(i));
        return o;
    });
    auto classes = rc::seq::map(rc::seq::range<Eigen::Index>(0, k > 1 ? k : 0), [c](Eigen::Index j) {
        C o = c;
        o.z = drop_col(c.z, j);
        if (c.g.size()) o.g = drop_col(c.g, j);
        o.y = relabel_without(c.y, static_cast<std::int32_t>(j));
        return o;
    });
    auto labels = rc::seq::map(rc::seq::filter(rc::seq::range<std::size_t>(0, c.y.size()), [c](std::size_t i) { return c.y[i] != 0; }),
                               [c](std::size_t i) { C o = c; o.y[i] = 0; return o; });
    // Blocks of classes (halves, quarters, …) first, so a 50 257-wide row shrinks in O(log C) steps.
    auto class_blocks = rc::seq::map(rc::seq::fromContainer(row_blocks(k)), [c](std::pair<Eigen::Index, Eigen::Index> b) {
        C o = c;
        o.z = drop_cols(c.z, b.first, b.second);
        if (c.g.size()) o.g = drop_cols(c.g, b.first, b.second);
        o.y = relabel_without_block(c.y, static_cast<std::int32_t>(b.first), static_cast<std::int32_t>(b.second));
        return o;
    });
    return rc::seq::concat(std::move(blocks), std::move(rows), std::move(class_blocks), std::move(classes), std::move(labels),
                           value_shrinks<C, T>(c, {&C::z, &C::g}));
}

rng_t rng_from(const rc::Random& random) {
    rc::Random r = random;
    return rng_t(r.next());
}

}  // namespace

template <class T>
rc::Gen<logits_case<T>> logits(const logits_options& opt) {
    return rc::Gen<logits_case<T>>([opt](const rc::Random& random, int size) {
        rng_t r = rng_from(random);
        const shape s = draw_shape(r, opt.shape, size);
        logits_case<T> c;
        c.z.resize(s.n, s.c);
        c.g.resize(opt.with_upstream ? s.n : 0, opt.with_upstream ? s.c : 0);
        c.y.resize(static_cast<std::size_t>(s.n));
        for (int i = 0; i < s.n; ++i) {
            c.y[static_cast<std::size_t>(i)] = uniform_int(r, 0, s.c - 1);
            fill_hazard_row<T>(r, c.z.row(i).data(), s.c, c.y[static_cast<std::size_t>(i)], draw_hazard<T>(r, opt.hazards),
                               opt.allow_masked);
            const double gs = draw_scale(r);
            if (opt.with_upstream)
                for (int j = 0; j < s.c; ++j) c.g(i, j) = draw_scalar<T>(r, gs);
        }
        if (opt.allow_nonfinite_rows && s.n > 1 && chance(r, 0.5)) {
            const int i = uniform_int(r, 0, s.n - 1), j = uniform_int(r, 0, s.c - 1);
            c.z(i, j) = chance(r, 0.5) ? std::numeric_limits<T>::quiet_NaN() : std::numeric_limits<T>::infinity();
        }
        return rc::shrinkable::shrinkRecur(std::move(c), &shrink_logits<T>);
    });
}

template <class T>
rc::Gen<loss_case<T>> loss(const loss_options& opt) {
    return rc::Gen<loss_case<T>>([opt](const rc::Random& random, int size) {
        rng_t r = rng_from(random);
        shape s = draw_shape(r, opt.shape, size);
        loss_case<T> c;
        const bool embed = opt.hazards != hazard_mode::ordinary &&
                           (opt.hazards == hazard_mode::extreme ? chance(r, 0.7) : chance(r, 0.3));
        if (embed) {
            // X = I (N = D) makes the scores S = X·W exactly W, so each hazard row of logits
            // reaches the loss unchanged.
            // D = N changes the work N·D·C: cap it again (N first, keeping the hazardous C) so the
            // shape stays within max_d and max_work like every other case.
            s.n = std::min({s.n, 24, opt.shape.max_d});
            while (static_cast<long>(s.n) * s.n * s.c > opt.shape.max_work) {
                if (s.n > 1) s.n = std::max(1, s.n / 2);
                else s.c = std::max(1, s.c / 2);
            }
            s.d = s.n;
            c.X = matrix<T>::Identity(s.n, s.n);
            c.W.resize(s.n, s.c);
            c.y.resize(static_cast<std::size_t>(s.n));
            for (int i = 0; i < s.n; ++i) {
                c.y[static_cast<std::size_t>(i)] = uniform_int(r, 0, s.c - 1);
                hazard h = draw_hazard<T>(r, opt.hazards);
                if (h == hazard::masked) h = hazard::label_far;  // W must be finite
                if (opt.hazards == hazard_mode::extreme && h == hazard::normal) h = hazard::spread;
                fill_hazard_row<T>(r, c.W.row(i).data(), s.c, c.y[static_cast<std::size_t>(i)], h, false);
            }
        } else {
            const double xs = draw_scale(r), ws = opt.hazards == hazard_mode::extreme ? std::ldexp(1.0, uniform_int(r, 6, 11))
                                                                                       : draw_scale(r);
            c.X.resize(s.n, s.d);
            c.W.resize(s.d, s.c);
            for (Eigen::Index k = 0; k < c.X.size(); ++k) c.X.data()[k] = draw_scalar<T>(r, xs);
            for (Eigen::Index k = 0; k < c.W.size(); ++k) c.W.data()[k] = draw_scalar<T>(r, ws);
            c.y.resize(static_cast<std::size_t>(s.n));
            for (auto& v : c.y) v = uniform_int(r, 0, s.c - 1);
        }
        c.reg = opt.random_reg && chance(r, 0.6) ? static_cast<T>(std::ldexp(uniform(r, 0.5, 1), uniform_int(r, -12, 0)))
                                                 : T(0);
        return rc::shrinkable::shrinkRecur(std::move(c), &shrink_loss<T>);
    });
}

template <class T>
rc::Gen<direction_case<T>> direction(Eigen::Index rows, Eigen::Index cols) {
    return rc::Gen<direction_case<T>>([rows, cols](const rc::Random& random, int) {
        rng_t r = rng_from(random);
        matrix<T> v(rows, cols);
        for (Eigen::Index k = 0; k < v.size(); ++k) v.data()[k] = static_cast<T>(normal(r));
        return rc::shrinkable::just(direction_case<T>{std::move(v)});
    });
}

template <class T>
rc::Gen<logits_case<T>> unlabelled_logits(const logits_options& opt) {
    // Mapping the whole shrink tree: shrinking still runs on the labelled case underneath.
    return rc::gen::map(logits<T>(opt), [](logits_case<T> c) {
        c.y.clear();
        return c;
    });
}

template rc::Gen<logits_case<float>> logits<float>(const logits_options&);
template rc::Gen<logits_case<float>> unlabelled_logits<float>(const logits_options&);
template rc::Gen<logits_case<double>> unlabelled_logits<double>(const logits_options&);
template rc::Gen<logits_case<double>> logits<double>(const logits_options&);
template rc::Gen<loss_case<float>> loss<float>(const loss_options&);
template rc::Gen<loss_case<double>> loss<double>(const loss_options&);
template rc::Gen<direction_case<float>> direction<float>(Eigen::Index, Eigen::Index);
template rc::Gen<direction_case<double>> direction<double>(Eigen::Index, Eigen::Index);

}  // namespace gradproof::gen
