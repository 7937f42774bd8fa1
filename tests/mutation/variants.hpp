// Mutation suite: deliberately buggy variants of the softmax loss ("mutants"), each a bug class
// that occurs in real code, and correct variants that compute the same function differently.
// The default catalog must catch every mutant and flag no correct variant (test_mutation.cpp).
//
// Structure. Most bugs live in one row of logits or in one batch reduction, so every variant is
// built on two CRTP drivers that follow impl::naive statement for statement:
//   loss_driver<Self>   softmax_loss: S = X·W, per-row loss and p, L = mean ℓ + ½·reg·‖W‖²,
//                       dS = P − Y, dW = Xᵀ·dS / N + reg·W;
//   logit_driver<Self>  cross_entropy: the same row kernel applied to logits directly.
// A variant overrides only the hook that carries its bug (or its different method); every hook
// is a templated static, looked up through Self, so the override also applies in mp_real, where
// the white-box properties differentiate it. A variant whose bug has no logit-level counterpart
// (regularisation, the layout of dW) derives from loss_driver only and exposes no cross_entropy.
#pragma once

#include "core/matrix.hpp"
#include "core/subject.hpp"
#include "core/validate.hpp"
#include "impl/builtin.hpp"
#include "impl/math.hpp"

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

namespace gradproof::mutation {

struct variant_info {
    std::string name;
    std::string description;
    subject subj;
};

// ---- drivers ---------------------------------------------------------------------------------

template <class Self>
struct loss_driver {
    // Σ v in index order (recursive summation, as naive).
    template <class T>
    static T sum(const std::vector<T>& v) {
        T s = T(0);
        for (const T& x : v) s += x;
        return s;
    }

    // One row of logits z (length c, label y): returns ℓ = lse(z) − z_y and writes p = softmax(z).
    // The naive max-shifted form; masked −inf entries give exp = 0.
    template <class T>
    static T row(const T* z, Eigen::Index c, Eigen::Index y, T* p) {
        T mx = z[0];
        for (Eigen::Index j = 1; j < c; ++j)
            if (z[j] > mx) mx = z[j];
        std::vector<T> e(static_cast<std::size_t>(c));
        for (Eigen::Index j = 0; j < c; ++j) e[static_cast<std::size_t>(j)] = detail::exp_(T(z[j] - mx));
        const T s = Self::template sum<T>(e);
        for (Eigen::Index j = 0; j < c; ++j) p[j] = e[static_cast<std::size_t>(j)] / s;
        return (mx - z[y]) + detail::log_(s);
    }

    // mean ℓ_i; the (1/N)·Σ_i term of one dW element; one dlogits element from p − e_y.
    template <class T>
    static T reduce_loss(const std::vector<T>& rows) {
        return Self::template sum<T>(rows) / T(static_cast<double>(rows.size()));
    }
    template <class T>
    static T reduce_grad(const std::vector<T>& terms) {
        return Self::template sum<T>(terms) / T(static_cast<double>(terms.size()));
    }
    template <class T>
    static T scale_dlogit(const T& g, Eigen::Index /*i*/, Eigen::Index n) {
        return g / T(static_cast<double>(n));
    }

    // ½·reg·‖W‖² without spurious overflow, as naive and vectorized compute it.
    template <class T>
    static T reg_loss(const matrix<T>& W, const T& reg) {
        return detail::half_reg_squared_norm(W, reg);
    }
    template <class T>
    static T reg_grad(const T& w, const T& reg) {
        return reg * w;
    }

    // Offset of dW(k, j) in the row-major D×C buffer.
    static Eigen::Index dw_offset(Eigen::Index k, Eigen::Index j, Eigen::Index /*d*/, Eigen::Index c) {
        return k * c + j;
    }

    template <class T>
    static loss_result<T> softmax_loss(const matrix<T>& W, const matrix<T>& X, const label_vector& y, T reg) {
        validate_softmax_loss(W, X, y, reg);
        const Eigen::Index num_classes = W.cols(), num_train = X.rows(), dim = X.cols();
        const auto sz = [](Eigen::Index n) { return static_cast<std::size_t>(n); };
        loss_result<T> r;
        r.dS.resize(num_train, num_classes);
        std::vector<T> scores(sz(num_classes)), probs(sz(num_classes)), rows(sz(num_train)), terms(sz(dim));
        for (Eigen::Index i = 0; i < num_train; ++i) {
            for (Eigen::Index j = 0; j < num_classes; ++j) {
                for (Eigen::Index k = 0; k < dim; ++k) terms[sz(k)] = X(i, k) * W(k, j);
                scores[sz(j)] = Self::template sum<T>(terms);
            }
            const Eigen::Index yi = y[sz(i)];
            rows[sz(i)] = Self::template row<T>(scores.data(), num_classes, yi, probs.data());
            for (Eigen::Index j = 0; j < num_classes; ++j) r.dS(i, j) = j == yi ? probs[sz(j)] - T(1) : probs[sz(j)];
        }
        r.loss = Self::template reduce_loss<T>(rows) + Self::template reg_loss<T>(W, reg);
        std::vector<T> buffer(sz(W.size())), per_sample(sz(num_train));
        for (Eigen::Index k = 0; k < dim; ++k)
            for (Eigen::Index j = 0; j < num_classes; ++j) {
                for (Eigen::Index i = 0; i < num_train; ++i) per_sample[sz(i)] = X(i, k) * r.dS(i, j);
                buffer[sz(Self::dw_offset(k, j, dim, num_classes))] =
                    Self::template reduce_grad<T>(per_sample) + Self::template reg_grad<T>(W(k, j), reg);
            }
        r.dW.resize(dim, num_classes);
        std::copy(buffer.begin(), buffer.end(), r.dW.data());
        return r;
    }
};

template <class Self>
struct logit_driver {
    // The naive contract: a row holding NaN or +inf, or with every class masked, gives NaN in that
    // row (and the loss) only.
    template <class T>
    static bool row_is_defined(const matrix<T>& z, Eigen::Index i) {
        T mx = -detail::inf_<T>();
        for (Eigen::Index j = 0; j < z.cols(); ++j) {
            if (detail::isnan_(z(i, j)) || z(i, j) == detail::inf_<T>()) return false;
            if (z(i, j) > mx) mx = z(i, j);
        }
        return mx != -detail::inf_<T>();
    }

    template <class T>
    static cross_entropy_result<T> cross_entropy(const matrix<T>& z, const label_vector& y) {
        validate_cross_entropy(z, y);
        const Eigen::Index n = z.rows(), c = z.cols();
        cross_entropy_result<T> r;
        r.dlogits.resize(n, c);
        std::vector<T> probs(static_cast<std::size_t>(c)), rows(static_cast<std::size_t>(n));
        bool defined = true;
        for (Eigen::Index i = 0; i < n; ++i) {
            if (!row_is_defined(z, i)) {
                defined = false;
                r.dlogits.row(i).setConstant(detail::nan_<T>());
                continue;
            }
            const Eigen::Index yi = y[static_cast<std::size_t>(i)];
            rows[static_cast<std::size_t>(i)] = Self::template row<T>(&z(i, 0), c, yi, probs.data());  // rows are contiguous
            for (Eigen::Index j = 0; j < c; ++j) {
                const T p = probs[static_cast<std::size_t>(j)];
                r.dlogits(i, j) = Self::template scale_dlogit<T>(j == yi ? p - T(1) : p, i, n);
            }
        }
        r.loss = defined ? Self::template reduce_loss<T>(rows) : detail::nan_<T>();
        return r;
    }
};

// Both entry points.
template <class Self>
struct driver : loss_driver<Self>, logit_driver<Self> {
    using loss_driver<Self>::softmax_loss;
    using logit_driver<Self>::cross_entropy;
};

// ---- mutants ---------------------------------------------------------------------------------

// Textbook softmax without the max shift: exp overflows for logits above ≈709 (NaN = inf/inf)
// and underflows to 0 (log 0 = −inf) when every logit is below ≈−745.
struct missing_max_shift : driver<missing_max_shift> {
    template <class T>
    static T row(const T* z, Eigen::Index c, Eigen::Index y, T* p) {
        std::vector<T> e(static_cast<std::size_t>(c));
        for (Eigen::Index j = 0; j < c; ++j) e[static_cast<std::size_t>(j)] = detail::exp_(z[j]);
        const T s = sum<T>(e);
        for (Eigen::Index j = 0; j < c; ++j) p[j] = e[static_cast<std::size_t>(j)] / s;
        return detail::log_(s) - z[y];
    }
};

// Running max initialised at 0 instead of the first logit: no shift at all when every logit is
// negative, so a row entirely below ≈−745 underflows to Σ exp = 0.
struct max_initialized_at_zero : driver<max_initialized_at_zero> {
    template <class T>
    static T row(const T* z, Eigen::Index c, Eigen::Index y, T* p) {
        T mx = T(0);
        for (Eigen::Index j = 0; j < c; ++j)
            if (z[j] > mx) mx = z[j];
        std::vector<T> e(static_cast<std::size_t>(c));
        for (Eigen::Index j = 0; j < c; ++j) e[static_cast<std::size_t>(j)] = detail::exp_(T(z[j] - mx));
        const T s = sum<T>(e);
        for (Eigen::Index j = 0; j < c; ++j) p[j] = e[static_cast<std::size_t>(j)] / s;
        return (mx - z[y]) + detail::log_(s);
    }
};

// ℓ = −log(p_y) of the rounded probability (the seed's numpy code): +inf once p_y underflows.
struct log_of_rounded_probability : driver<log_of_rounded_probability> {
    template <class T>
    static T row(const T* z, Eigen::Index c, Eigen::Index y, T* p) {
        loss_driver<log_of_rounded_probability>::row<T>(z, c, y, p);
        return -detail::log_(p[y]);
    }
};

// An "epsilon for safety" inside the log: log(Σ exp + 1e−12) biases every row loss by ≈1e−12/Σ.
struct epsilon_inside_log : driver<epsilon_inside_log> {
    template <class T>
    static T row(const T* z, Eigen::Index c, Eigen::Index y, T* p) {
        T mx = z[0];
        for (Eigen::Index j = 1; j < c; ++j)
            if (z[j] > mx) mx = z[j];
        std::vector<T> e(static_cast<std::size_t>(c));
        for (Eigen::Index j = 0; j < c; ++j) e[static_cast<std::size_t>(j)] = detail::exp_(T(z[j] - mx));
        const T s = sum<T>(e);
        for (Eigen::Index j = 0; j < c; ++j) p[j] = e[static_cast<std::size_t>(j)] / s;
        return (mx - z[y]) + detail::log_(T(s + T(1e-12)));
    }
};

// The gradient forgets the 1/N of the mean (loss averaged, gradient summed).
struct gradient_not_divided_by_n : driver<gradient_not_divided_by_n> {
    template <class T>
    static T reduce_grad(const std::vector<T>& terms) {
        return sum<T>(terms);
    }
    template <class T>
    static T scale_dlogit(const T& g, Eigen::Index, Eigen::Index) {
        return g;
    }
};

// The loss is summed over the batch while the gradient is averaged.
struct loss_summed_gradient_averaged : driver<loss_summed_gradient_averaged> {
    template <class T>
    static T reduce_loss(const std::vector<T>& rows) {
        return sum<T>(rows);
    }
};

// Regularisation convention mixed up: the loss adds reg·‖W‖² (CS231n's form) while the gradient
// adds reg·W (the derivative of the ½·reg·‖W‖² convention).
struct regularization_factor_mismatch : loss_driver<regularization_factor_mismatch> {
    template <class T>
    static T reg_loss(const matrix<T>& W, const T& reg) {
        return T(2) * loss_driver<regularization_factor_mismatch>::reg_loss<T>(W, reg);
    }
};

// Σ exp accumulated in a float accumulator while everything else is in T (a "fast" reduction
// kernel reused across precisions). Only a floating-point bug: in mp_real the sum is exact.
struct float_accumulation : driver<float_accumulation> {
    template <class T>
    static T row(const T* z, Eigen::Index c, Eigen::Index y, T* p) {
        if constexpr (!std::is_floating_point_v<T>) {
            return loss_driver<float_accumulation>::row<T>(z, c, y, p);
        } else {
            T mx = z[0];
            for (Eigen::Index j = 1; j < c; ++j)
                if (z[j] > mx) mx = z[j];
            float acc = 0;
            for (Eigen::Index j = 0; j < c; ++j) acc += static_cast<float>(std::exp(z[j] - mx));
            const T s = static_cast<T>(acc);
            for (Eigen::Index j = 0; j < c; ++j) p[j] = std::exp(z[j] - mx) / s;
            return (mx - z[y]) + std::log(s);
        }
    }
};

// Off-by-one in the normaliser loop (j < C − 1): the last class never enters Σ exp.
struct last_class_skipped : driver<last_class_skipped> {
    template <class T>
    static T row(const T* z, Eigen::Index c, Eigen::Index y, T* p) {
        T mx = z[0];
        for (Eigen::Index j = 1; j < c; ++j)
            if (z[j] > mx) mx = z[j];
        T s = T(0);
        for (Eigen::Index j = 0; j < c - 1; ++j) s += detail::exp_(T(z[j] - mx));
        for (Eigen::Index j = 0; j < c; ++j) p[j] = detail::exp_(T(z[j] - mx)) / s;
        return (mx - z[y]) + detail::log_(s);
    }
};

// SIMD-style Σ exp in 4 lanes; the tail of C % 4 elements is done as a 2-wide then a 1-wide step,
// and the 1-wide step is guarded by `rem == 1` instead of `rem & 1`: with C % 4 == 3 the last
// class is dropped from Σ exp.
struct simd_tail_drops_last : driver<simd_tail_drops_last> {
    template <class T>
    static T blocked_sum(const std::vector<T>& v) {
        const std::size_t n = v.size(), blocks = n / 4, rem = n % 4;
        T lane[4] = {T(0), T(0), T(0), T(0)};
        for (std::size_t b = 0; b < blocks; ++b)
            for (std::size_t l = 0; l < 4; ++l) lane[l] += v[4 * b + l];
        std::size_t t = 4 * blocks;
        if (rem >= 2) {
            lane[0] += v[t];
            lane[1] += v[t + 1];
            t += 2;
        }
        if (rem == 1) lane[0] += v[t];  // the bug: should be (rem & 1)
        return (lane[0] + lane[1]) + (lane[2] + lane[3]);
    }
    template <class T>
    static T row(const T* z, Eigen::Index c, Eigen::Index y, T* p) {
        T mx = z[0];
        for (Eigen::Index j = 1; j < c; ++j)
            if (z[j] > mx) mx = z[j];
        std::vector<T> e(static_cast<std::size_t>(c));
        for (Eigen::Index j = 0; j < c; ++j) e[static_cast<std::size_t>(j)] = detail::exp_(T(z[j] - mx));
        const T s = blocked_sum<T>(e);
        for (Eigen::Index j = 0; j < c; ++j) p[j] = e[static_cast<std::size_t>(j)] / s;
        return (mx - z[y]) + detail::log_(s);
    }
};

// Gradient accumulation over micro-batches of 64 that averages the micro-batch means: wrong
// weights for a partial last micro-batch, so only N > 64 (N not a multiple of 64) is affected.
struct micro_batch_mean_of_means : driver<micro_batch_mean_of_means> {
    static constexpr Eigen::Index micro_batch = 64;
    template <class T>
    static T mean_of_means(const std::vector<T>& v) {
        const Eigen::Index n = static_cast<Eigen::Index>(v.size());
        const Eigen::Index chunks = (n + micro_batch - 1) / micro_batch;
        T total = T(0);
        for (Eigen::Index b = 0; b < chunks; ++b) {
            const Eigen::Index lo = b * micro_batch, hi = std::min(n, lo + micro_batch);
            T s = T(0);
            for (Eigen::Index i = lo; i < hi; ++i) s += v[static_cast<std::size_t>(i)];
            total += s / T(static_cast<double>(hi - lo));
        }
        return total / T(static_cast<double>(chunks));
    }
    template <class T>
    static T reduce_loss(const std::vector<T>& rows) {
        return mean_of_means<T>(rows);
    }
    template <class T>
    static T reduce_grad(const std::vector<T>& terms) {
        return mean_of_means<T>(terms);
    }
    template <class T>
    static T scale_dlogit(const T& g, Eigen::Index i, Eigen::Index n) {
        const Eigen::Index chunks = (n + micro_batch - 1) / micro_batch, lo = i / micro_batch * micro_batch;
        const Eigen::Index size = std::min(n, lo + micro_batch) - lo;
        return g / T(static_cast<double>(size)) / T(static_cast<double>(chunks));
    }
};

// Gradient sparsification: probabilities below 1e−7 are set to 0 in dS ("they don't matter").
struct tiny_probabilities_dropped : driver<tiny_probabilities_dropped> {
    template <class T>
    static T row(const T* z, Eigen::Index c, Eigen::Index y, T* p) {
        const T l = loss_driver<tiny_probabilities_dropped>::row<T>(z, c, y, p);
        for (Eigen::Index j = 0; j < c; ++j)
            if (p[j] < T(1e-7)) p[j] = T(0);
        return l;
    }
};

// exp(x) as exp2(x·log2 e) with log2 e typed in to 10 digits (1.442695041; exact 1.44269504088896…):
// a relative error of ≈7.6e−11·|x| in every exp.
struct ten_digit_log2e : driver<ten_digit_log2e> {
    template <class T>
    static T exp2_(const T& x) {
        if constexpr (std::is_floating_point_v<T>) return std::exp2(x);
        else return pow(T(2), x);  // mp_real: Boost.Multiprecision pow by ADL
    }
    template <class T>
    static T row(const T* z, Eigen::Index c, Eigen::Index y, T* p) {
        T mx = z[0];
        for (Eigen::Index j = 1; j < c; ++j)
            if (z[j] > mx) mx = z[j];
        const T log2e = T(1.442695041);
        std::vector<T> e(static_cast<std::size_t>(c));
        for (Eigen::Index j = 0; j < c; ++j) e[static_cast<std::size_t>(j)] = exp2_(T((z[j] - mx) * log2e));
        const T s = sum<T>(e);
        for (Eigen::Index j = 0; j < c; ++j) p[j] = e[static_cast<std::size_t>(j)] / s;
        return (mx - z[y]) + detail::log_(s);
    }
};

// dW accumulated in a flat buffer with column-major offsets j·D + k but read back as the
// row-major D×C matrix: a layout (transposed-stride) bug that stays in bounds and does not crash;
// it is invisible when D = 1 or C = 1.
struct transposed_gradient_index : loss_driver<transposed_gradient_index> {
    static Eigen::Index dw_offset(Eigen::Index k, Eigen::Index j, Eigen::Index d, Eigen::Index /*c*/) {
        return j * d + k;
    }
};

// Logits clamped to [−80, 80] "to avoid overflow in exp": the loss and gradient are wrong for
// every row with a logit outside the range.
struct clamped_logits : driver<clamped_logits> {
    template <class T>
    static T row(const T* z, Eigen::Index c, Eigen::Index y, T* p) {
        std::vector<T> zc(static_cast<std::size_t>(c));
        for (Eigen::Index j = 0; j < c; ++j) zc[static_cast<std::size_t>(j)] = std::clamp(z[j], T(-80), T(80));
        return loss_driver<clamped_logits>::row<T>(zc.data(), c, y, p);
    }
};

// ---- correct variants ------------------------------------------------------------------------

// Every sum (dot products, Σ exp, batch reductions) in reverse index order.
struct reversed_summation : driver<reversed_summation> {
    template <class T>
    static T sum(const std::vector<T>& v) {
        T s = T(0);
        for (auto it = v.rbegin(); it != v.rend(); ++it) s += *it;
        return s;
    }
};

// Every sum compensated (Kahan 1965); exact-arithmetic types take the same path harmlessly.
struct kahan_summation : driver<kahan_summation> {
    template <class T>
    static T sum(const std::vector<T>& v) {
        T s = T(0), comp = T(0);
        for (const T& x : v) {
            const T yk = x - comp;
            const T t = s + yk;
            comp = (t - s) - yk;
            s = t;
        }
        return s;
    }
};

// The whole computation in long double (x87 80-bit: 64-bit significand), rounded to T at the end.
struct long_double_internal {
    struct plain : driver<plain> {};

    template <class T>
    static loss_result<T> softmax_loss(const matrix<T>& W, const matrix<T>& X, const label_vector& y, T reg) {
        if constexpr (!std::is_floating_point_v<T>) {
            return plain::softmax_loss<T>(W, X, y, reg);
        } else {
            validate_softmax_loss(W, X, y, reg);
            const auto r = plain::softmax_loss<long double>(convert<long double>(W), convert<long double>(X), y,
                                                            static_cast<long double>(reg));
            return {static_cast<T>(r.loss), convert<T>(r.dW), convert<T>(r.dS)};
        }
    }

    template <class T>
    static cross_entropy_result<T> cross_entropy(const matrix<T>& z, const label_vector& y) {
        if constexpr (!std::is_floating_point_v<T>) {
            return plain::cross_entropy<T>(z, y);
        } else {
            validate_cross_entropy(z, y);
            const auto r = plain::cross_entropy<long double>(convert<long double>(z), y);
            return {static_cast<T>(r.loss), convert<T>(r.dlogits)};
        }
    }
};

// Online (one-pass) softmax, Milakov & Gimelshein 2018: running max m and running Σ exp(z − m),
// rescaled by exp(m_old − m_new) whenever the max grows.
struct online_softmax : driver<online_softmax> {
    template <class T>
    static T row(const T* z, Eigen::Index c, Eigen::Index y, T* p) {
        T m = -detail::inf_<T>(), d = T(0);
        for (Eigen::Index j = 0; j < c; ++j) {
            if (z[j] == -detail::inf_<T>()) continue;  // masked: contributes 0 (and −inf − −inf is NaN)
            if (z[j] > m) {
                d = d * detail::exp_(T(m - z[j])) + T(1);
                m = z[j];
            } else {
                d += detail::exp_(T(z[j] - m));
            }
        }
        for (Eigen::Index j = 0; j < c; ++j) p[j] = detail::exp_(T(z[j] - m)) / d;
        return (m - z[y]) + detail::log_(d);
    }
};

// Blanchard, Higham & Higham 2021: a = max at index k, s = Σ_{j≠k} exp(z_j − a),
// lse = a + log1p(s), p_j = exp(z_j − a)/(1 + s).
struct log1p_form : driver<log1p_form> {
    template <class T>
    static T row(const T* z, Eigen::Index c, Eigen::Index y, T* p) {
        Eigen::Index k = 0;
        for (Eigen::Index j = 1; j < c; ++j)
            if (z[j] > z[k]) k = j;
        const T a = z[k];
        std::vector<T> rest;
        rest.reserve(static_cast<std::size_t>(c));
        for (Eigen::Index j = 0; j < c; ++j)
            if (j != k) rest.push_back(detail::exp_(T(z[j] - a)));
        const T s = sum<T>(rest);
        for (Eigen::Index j = 0; j < c; ++j) p[j] = (j == k ? T(1) : detail::exp_(T(z[j] - a))) / (T(1) + s);
        return (a - z[y]) + detail::log1p_(s);
    }
};

// ---- catalogues --------------------------------------------------------------------------------

template <class Impl>
variant_info make_variant(const std::string& name, const std::string& description, bool is_mutant) {
    // Mutants are known-flawed subjects: their failures are expected, not a failed run.
    return {name, description,
            make_subject<Impl>((is_mutant ? "mutant_" : "correct_") + name, description, is_mutant)};
}

inline const std::vector<variant_info>& mutants() {
    static const std::vector<variant_info> all{
        make_variant<missing_max_shift>("missing_max_shift", "softmax without the max shift", true),
        make_variant<max_initialized_at_zero>("max_initialized_at_zero", "running max initialised at 0", true),
        make_variant<log_of_rounded_probability>("log_of_rounded_probability", "loss = −log of the rounded p_y", true),
        make_variant<epsilon_inside_log>("epsilon_inside_log", "loss uses log(Σ exp + 1e−12)", true),
        make_variant<gradient_not_divided_by_n>("gradient_not_divided_by_n", "gradient missing the 1/N", true),
        make_variant<loss_summed_gradient_averaged>("loss_summed_gradient_averaged",
                                                    "loss summed over the batch, gradient averaged", true),
        make_variant<regularization_factor_mismatch>("regularization_factor_mismatch",
                                                     "loss adds reg·‖W‖², gradient adds reg·W", true),
        make_variant<float_accumulation>("float_accumulation", "Σ exp accumulated in float", true),
        make_variant<last_class_skipped>("last_class_skipped", "off-by-one: last class missing from Σ exp", true),
        make_variant<simd_tail_drops_last>("simd_tail_drops_last",
                                           "4-lane Σ exp drops the last class when C % 4 == 3", true),
        make_variant<micro_batch_mean_of_means>("micro_batch_mean_of_means",
                                                "mean of micro-batch (64) means: wrong only when N > 64", true),
        make_variant<tiny_probabilities_dropped>("tiny_probabilities_dropped", "p < 1e−7 set to 0 in the gradient",
                                                 true),
        make_variant<ten_digit_log2e>("ten_digit_log2e", "exp(x) computed as exp2(x·1.442695041)", true),
        make_variant<transposed_gradient_index>("transposed_gradient_index",
                                                "dW written with column-major offsets into a row-major buffer", true),
        make_variant<clamped_logits>("clamped_logits", "logits clamped to [−80, 80] before the softmax", true),
    };
    return all;
}

inline const std::vector<variant_info>& correct_variants() {
    static const std::vector<variant_info> all{
        make_variant<reversed_summation>("reversed_summation", "every sum in reverse order", false),
        make_variant<kahan_summation>("kahan_summation", "every sum compensated (Kahan)", false),
        make_variant<long_double_internal>("long_double_internal", "computed in long double, rounded at the end",
                                           false),
        make_variant<online_softmax>("online_softmax", "one-pass softmax (Milakov & Gimelshein 2018)", false),
        make_variant<log1p_form>("log1p_form", "lse = a + log1p(Σ_{j≠k} exp(z_j − a))", false),
    };
    return all;
}

}  // namespace gradproof::mutation
