// The mutation variants as one C plug-in: the variant is chosen at run time by the environment
// variable GRADPROOF_VARIANT (the worker process inherits it), so one shared library stands for
// all twenty implementations without twenty builds. It exports softmax_loss in float and double,
// the entry point every variant has.
#include "variants.hpp"

#include <gradproof/plugin.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

namespace {

using namespace gradproof;

template <class T>
using loss_fn = loss_result<T> (*)(const matrix<T>&, const matrix<T>&, const label_vector&, T);

template <class T>
struct table {
    std::map<std::string, loss_fn<T>> loss;
};

template <class T, class V>
void add(table<T>& t, const char* name) {
    t.loss[name] = [](const matrix<T>& W, const matrix<T>& X, const label_vector& y, T reg) {
        return V::template softmax_loss<T>(W, X, y, reg);
    };
}

template <class T>
const table<T>& variants() {
    static const table<T> t = [] {
        table<T> v;
        using namespace gradproof::mutation;
#define GRADPROOF_VARIANT_ENTRY(name) add<T, name>(v, #name);
        GRADPROOF_VARIANT_ENTRY(missing_max_shift)
        GRADPROOF_VARIANT_ENTRY(max_initialized_at_zero)
        GRADPROOF_VARIANT_ENTRY(log_of_rounded_probability)
        GRADPROOF_VARIANT_ENTRY(epsilon_inside_log)
        GRADPROOF_VARIANT_ENTRY(gradient_not_divided_by_n)
        GRADPROOF_VARIANT_ENTRY(loss_summed_gradient_averaged)
        GRADPROOF_VARIANT_ENTRY(regularization_factor_mismatch)
        GRADPROOF_VARIANT_ENTRY(float_accumulation)
        GRADPROOF_VARIANT_ENTRY(last_class_skipped)
        GRADPROOF_VARIANT_ENTRY(simd_tail_drops_last)
        GRADPROOF_VARIANT_ENTRY(micro_batch_mean_of_means)
        GRADPROOF_VARIANT_ENTRY(tiny_probabilities_dropped)
        GRADPROOF_VARIANT_ENTRY(ten_digit_log2e)
        GRADPROOF_VARIANT_ENTRY(transposed_gradient_index)
        GRADPROOF_VARIANT_ENTRY(clamped_logits)
        GRADPROOF_VARIANT_ENTRY(reversed_summation)
        GRADPROOF_VARIANT_ENTRY(kahan_summation)
        GRADPROOF_VARIANT_ENTRY(long_double_internal)
        GRADPROOF_VARIANT_ENTRY(online_softmax)
        GRADPROOF_VARIANT_ENTRY(log1p_form)
#undef GRADPROOF_VARIANT_ENTRY
        return v;
    }();
    return t;
}

template <class T>
int softmax_loss(const T* W, const T* X, const std::int32_t* y, std::int64_t n, std::int64_t d, std::int64_t c, T reg,
                 T* loss, T* dW) {
    const char* name = std::getenv("GRADPROOF_VARIANT");
    if (!name) return 90;
    const auto it = variants<T>().loss.find(name);
    if (it == variants<T>().loss.end()) return 91;
    if (n <= 0 || d <= 0 || c <= 0) return 1;
    try {
        const matrix<T> Wm = Eigen::Map<const matrix<T>>(W, d, c);
        const matrix<T> Xm = Eigen::Map<const matrix<T>>(X, n, d);
        const label_vector yv(y, y + n);
        const auto r = it->second(Wm, Xm, yv, reg);
        *loss = r.loss;
        std::memcpy(dW, r.dW.data(), sizeof(T) * static_cast<std::size_t>(d * c));
        return 0;
    } catch (const std::invalid_argument&) {
        return 2;
    }
}

}  // namespace

extern "C" int gradproof_softmax_loss_f64(const double* W, const double* X, const int32_t* y, int64_t n, int64_t d,
                                          int64_t c, double reg, double* loss, double* dW) {
    return softmax_loss<double>(W, X, y, n, d, c, reg, loss, dW);
}
extern "C" int gradproof_softmax_loss_f32(const float* W, const float* X, const int32_t* y, int64_t n, int64_t d,
                                          int64_t c, float reg, float* loss, float* dW) {
    return softmax_loss<float>(W, X, y, n, d, c, reg, loss, dW);
}
