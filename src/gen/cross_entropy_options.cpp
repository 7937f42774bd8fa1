#include "gen/cross_entropy_options.hpp"

#include <cmath>
#include <ostream>

namespace gradproof {
void showValue(const ce_options& o, std::ostream& os) {
    os << "reduction=" << to_string(o.reduce);
    if (o.has_ignore_index) os << " ignore_index=" << o.ignore_index;
    else os << " ignore_index=none";
    os << " label_smoothing=" << o.label_smoothing << " lse_square_scale=" << o.lse_square_scale
       << " softcap=" << o.softcap;
}
}  // namespace gradproof

namespace gradproof::gen {

namespace {

// A value of T drawn from a float-exact grid: k/1024 for k in [lo·1024, hi·1024].
template <class T>
rc::Gen<T> grid(double lo, double hi) {
    return rc::gen::map(rc::gen::inRange<int>(static_cast<int>(lo * 1024), static_cast<int>(hi * 1024) + 1),
                        [](int k) { return static_cast<T>(std::ldexp(static_cast<double>(k), -10)); });
}

}  // namespace

rc::Gen<ce_options> ce_options_gen(const ce_options_choice& choice) {
    const auto eps = rc::gen::weightedOneOf<double>({
        {3, rc::gen::just(0.0)},
        {1, rc::gen::just(std::ldexp(1.0, -20))},  // tiny: the uniform term barely present
        {1, rc::gen::just(1.0)},                   // only the uniform term
        {3, grid<double>(0, 1)},
    });
    const auto scale = rc::gen::weightedOneOf<double>({
        {3, rc::gen::just(0.0)},
        {1, rc::gen::just(std::ldexp(1.0, -13))},  // ≈ 1e-4, PaLM's z-loss scale
        {1, grid<double>(0, 1)},
    });
    const auto cap = rc::gen::weightedOneOf<double>({
        {3, rc::gen::just(0.0)},
        {1, rc::gen::just(30.0)},                  // Gemma 2's final-logit cap
        {1, grid<double>(0.5, 50)},
    });
    const auto red = rc::gen::element(reduction::mean, reduction::sum, reduction::none);
    return rc::gen::apply(
        [choice](double e, double s, double c, reduction r, bool ign, int ignore_class) {
            ce_options o;
            o.label_smoothing = e;
            o.lse_square_scale = choice.zloss ? s : 0;
            o.softcap = choice.softcap ? c : 0;
            o.reduce = (!choice.reduction_none && r == reduction::none) ? reduction::mean : r;
            o.has_ignore_index = choice.ignore && ign;
            // PyTorch's default −100, or a real class index (the contract allows either).
            o.ignore_index = ignore_class < 0 ? -100 : ignore_class;
            return o;
        },
        eps, scale, cap, red, rc::gen::arbitrary<bool>(),
        rc::gen::weightedOneOf<int>({{2, rc::gen::just(-1)}, {1, rc::gen::inRange(0, 3)}}));
}

rc::Gen<std::vector<bool>> ignored_rows(Eigen::Index n) {
    const auto count = static_cast<std::size_t>(n);
    return rc::gen::weightedOneOf<std::vector<bool>>({
        {2, rc::gen::just(std::vector<bool>(count, false))},
        {5, rc::gen::container<std::vector<bool>>(count, rc::gen::weightedOneOf<bool>({{3, rc::gen::just(false)},
                                                                                       {1, rc::gen::just(true)}}))},
        {1, rc::gen::just(std::vector<bool>(count, true))},
    });
}

template <class T>
rc::Gen<std::vector<T>> class_weights(Eigen::Index c) {
    const auto count = static_cast<std::size_t>(c);
    const auto one = rc::gen::weightedOneOf<T>({
        {1, rc::gen::just(T(0))},
        {2, rc::gen::map(rc::gen::inRange(-3, 4), [](int k) { return static_cast<T>(std::ldexp(1.0, k)); })},
        {4, grid<T>(0, 4)},
    });
    return rc::gen::weightedOneOf<std::vector<T>>({
        {1, rc::gen::map(rc::gen::inRange(-2, 3), [count](int k) {
             return std::vector<T>(count, static_cast<T>(std::ldexp(1.0, k)));
         })},
        {4, rc::gen::container<std::vector<T>>(count, one)},
    });
}

template <class T>
rc::Gen<matrix<T>> soft_targets(Eigen::Index n, Eigen::Index c) {
    return rc::gen::map(
        rc::gen::pair(rc::gen::container<std::vector<int>>(static_cast<std::size_t>(n), rc::gen::inRange(0, 3)),
                      rc::gen::container<std::vector<int>>(static_cast<std::size_t>(n * c), rc::gen::inRange(0, 1025))),
        [n, c](const std::pair<std::vector<int>, std::vector<int>>& draw) {
            matrix<T> q(n, c);
            for (Eigen::Index i = 0; i < n; ++i) {
                const int kind = draw.first[static_cast<std::size_t>(i)];
                long double total = 0;
                for (Eigen::Index j = 0; j < c; ++j) total += draw.second[static_cast<std::size_t>(i * c + j)];
                for (Eigen::Index j = 0; j < c; ++j) {
                    const int k = draw.second[static_cast<std::size_t>(i * c + j)];
                    if (kind == 1) q(i, j) = total > 0 ? static_cast<T>(k / total) : T(0);  // a distribution
                    else q(i, j) = static_cast<T>(std::ldexp(static_cast<double>(k), -9));  // any mass
                }
                if (kind == 0) {  // one-hot
                    q.row(i).setZero();
                    q(i, draw.second[static_cast<std::size_t>(i * c)] % c) = T(1);
                }
            }
            return q;
        });
}

template <class T>
rc::Gen<std::vector<T>> upstream(Eigen::Index count) {
    const auto one = rc::gen::weightedOneOf<T>({
        {2, rc::gen::just(T(1))},
        {1, rc::gen::map(rc::gen::inRange(-4, 5), [](int k) { return static_cast<T>(std::ldexp(k % 2 ? -1.0 : 1.0, k)); })},
        {2, grid<T>(-4, 4)},
    });
    return rc::gen::container<std::vector<T>>(static_cast<std::size_t>(count), one);
}

#define GRADPROOF_INSTANTIATE(T)                                                  \
    template rc::Gen<std::vector<T>> class_weights<T>(Eigen::Index);              \
    template rc::Gen<matrix<T>> soft_targets<T>(Eigen::Index, Eigen::Index);      \
    template rc::Gen<std::vector<T>> upstream<T>(Eigen::Index);
GRADPROOF_INSTANTIATE(float)
GRADPROOF_INSTANTIATE(double)
#undef GRADPROOF_INSTANTIATE

}  // namespace gradproof::gen
