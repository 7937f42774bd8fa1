#include "impl/builtin.hpp"

#include "impl/naive.hpp"
#include "impl/seed_vectorized.hpp"
#include "impl/vectorized.hpp"

namespace gradproof {

const std::vector<subject>& builtin_subjects() {
    static const std::vector<subject> all = [] {
        std::vector<subject> v;
        v.push_back(make_subject<impl::naive>("naive", "the seed's per-sample, per-class loop"));
        v.push_back(make_subject<impl::vectorized>("vectorized", "Eigen, shifted log-sum-exp with log1p (Blanchard et al. 2021)"));
        v.push_back(make_subject<impl::seed_vectorized>(
            "seed_vectorized", "faithful port of the seed's numpy code: loss = −log(rounded p_y)", true));
        return v;
    }();
    return all;
}

const subject* find_builtin(std::string_view name) {
    for (const auto& s : builtin_subjects())
        if (s.name == name) return &s;
    return nullptr;
}

}  // namespace gradproof
