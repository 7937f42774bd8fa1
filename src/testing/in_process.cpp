#include "testing/in_process.hpp"

#include "core/half.hpp"
#include "plugin/external.hpp"

#include <bit>
#include <memory>
#include <cstring>
#include <optional>
#include <vector>

namespace gradproof::testing {

namespace {

// A NaN no arithmetic produces (not the canonical quiet NaN) in each storage type; 0x7fd7 is a
// NaN both as bf16 and as f16.
template <class T>
T garbage() {
    if constexpr (std::is_same_v<T, double>) return std::bit_cast<double>(std::uint64_t{0x7ff8dead0badf00dULL});
    else if constexpr (std::is_same_v<T, float>) return std::bit_cast<float>(std::uint32_t{0x7fdead0bU});
    else return std::uint16_t{0x7fd7};
}

template <class T>
void fill_garbage(T* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) p[i] = garbage<T>();
}

template <class T>
void require_written(const char* entry, const char* what, const T* p, std::size_t n) {
    const T g = garbage<T>();
    for (std::size_t i = 0; i < n; ++i)
        if (std::memcmp(p + i, &g, sizeof(T)) == 0)
            throw plugin::contract_violation(std::string(entry) + " broke the contract: " + what + "[" + std::to_string(i) +
                                             "] was not written");
}

template <class M>
void require_unchanged(const char* entry, const char* what, const M& now, const M& before) {
    if (now.size() && std::memcmp(now.data(), before.data(), sizeof(now.data()[0]) * static_cast<std::size_t>(now.size())) != 0)
        throw plugin::contract_violation(std::string(entry) + " broke the contract: input " + what + " was modified");
}

void check_rc(int rc, const char* entry) {
    if (rc == GRADPROOF_UNSUPPORTED) throw option_unsupported(std::string(entry) + " does not implement an option of this call");
    if (rc != 0) throw rejected_input(std::string(entry) + " returned " + std::to_string(rc));
}

template <class S>
void require_same(const char* entry, const char* what, const std::vector<S>& now, const std::vector<S>& before) {
    if (now.size() && std::memcmp(now.data(), before.data(), sizeof(S) * now.size()) != 0)
        throw plugin::contract_violation(std::string(entry) + " broke the contract: input " + what + " was modified");
}

// Values of type T in an entry point's storage type S: S = T, or the bit patterns of a half
// format (the properties draw half inputs exactly representable in it; outputs widen exactly).
template <class T, class S>
struct storage {
    std::optional<half_format> half;
    std::vector<S> store(const T* p, Eigen::Index count) const {
        std::vector<S> out(static_cast<std::size_t>(count));
        for (std::size_t k = 0; k < out.size(); ++k) {
            if constexpr (std::is_same_v<S, std::uint16_t>) out[k] = float_to_half(*half, p[k]);
            else out[k] = p[k];
        }
        return out;
    }
    template <class V>
    std::vector<S> store(const V& v) const {
        return store(v.data(), static_cast<Eigen::Index>(v.size()));
    }
    T load(S x) const {
        if constexpr (std::is_same_v<S, std::uint16_t>) return half_to_float(*half, x);
        else return x;
    }
    std::vector<T> load_all(const std::vector<S>& v) const {
        std::vector<T> out(v.size());
        for (std::size_t k = 0; k < v.size(); ++k) out[k] = load(v[k]);
        return out;
    }
    matrix<T> load_matrix(const std::vector<S>& v, Eigen::Index rows, Eigen::Index cols) const {
        matrix<T> out(rows, cols);
        for (Eigen::Index k = 0; k < out.size(); ++k) out.data()[k] = load(v[static_cast<std::size_t>(k)]);
        return out;
    }
};

gradproof_ce_options abi_options(const ce_options& o) {
    gradproof_ce_options a{};
    a.size = sizeof(gradproof_ce_options);
    a.reduction = o.reduce == reduction::none  ? GRADPROOF_REDUCTION_NONE
                  : o.reduce == reduction::sum ? GRADPROOF_REDUCTION_SUM
                                               : GRADPROOF_REDUCTION_MEAN;
    a.has_ignore_index = o.has_ignore_index ? 1 : 0;
    a.ignore_index = o.ignore_index;
    a.label_smoothing = o.label_smoothing;
    a.lse_square_scale = o.lse_square_scale;
    a.softcap = o.softcap;
    return a;
}

template <class S>
std::vector<S> unwritten(std::size_t count) {
    return std::vector<S>(count, garbage<S>());
}

template <class S>
const S* or_null(const std::vector<S>& v) {
    return v.empty() ? nullptr : v.data();
}

template <class T, class S>
typename entry_points<T>::ce_ex_fn wrap_ce_ex(cross_entropy_ex_fn<S> f, const char* entry, storage<T, S> st) {
    return [f, entry, st](const ce_ex_input<T>& in) {
        const Eigen::Index n = in.n(), c = in.c();
        if (!in.soft() && static_cast<Eigen::Index>(in.labels.size()) != n) throw std::invalid_argument("labels: size mismatch");
        const auto logits = st.store(in.logits), weights = st.store(in.class_weights), soft = st.store(in.soft_targets),
                   dloss = st.store(in.dloss);
        auto logits_c = logits, weights_c = weights, soft_c = soft, dloss_c = dloss;
        label_vector labels_c = in.labels;
        gradproof_ce_options o = abi_options(in.options);
        o.class_weights = or_null(weights_c);
        o.soft_targets = or_null(soft_c);
        const gradproof_ce_options o_before = o;
        auto loss = unwritten<S>(in.options.reduce == reduction::none ? static_cast<std::size_t>(n) : 1);
        auto dz = unwritten<S>(static_cast<std::size_t>(n * c));
        check_rc(f(logits_c.data(), in.soft() ? nullptr : labels_c.data(), n, c, &o, dloss_c.data(), loss.data(), dz.data()),
                 entry);
        require_same(entry, "logits", logits_c, logits);
        require_same(entry, "class_weights", weights_c, weights);
        require_same(entry, "soft_targets", soft_c, soft);
        require_same(entry, "dloss", dloss_c, dloss);
        if (labels_c != in.labels) throw plugin::contract_violation(std::string(entry) + " broke the contract: input labels was modified");
        if (std::memcmp(&o, &o_before, sizeof o) != 0)
            throw plugin::contract_violation(std::string(entry) + " broke the contract: input options was modified");
        require_written(entry, "loss", loss.data(), loss.size());
        require_written(entry, "dlogits", dz.data(), dz.size());
        return ce_ex_result<T>{st.load_all(loss), st.load_matrix(dz, n, c)};
    };
}

template <class T, class S>
typename entry_points<T>::fused_fn wrap_fused(fused_linear_cross_entropy_fn<S> f, const char* entry, storage<T, S> st) {
    return [f, entry, st](const fused_ce_input<T>& in) {
        const Eigen::Index n = in.n(), d = in.d(), v = in.v();
        if (static_cast<Eigen::Index>(in.labels.size()) != n) throw std::invalid_argument("labels: size mismatch");
        if (in.weight.cols() != d) throw std::invalid_argument("weight: column count differs from hidden's");
        const auto hidden = st.store(in.hidden), weight = st.store(in.weight), weights = st.store(in.class_weights),
                   dloss = st.store(in.dloss);
        const auto bias = in.has_bias ? st.store(in.bias) : std::vector<S>{};
        auto hidden_c = hidden, weight_c = weight, bias_c = bias, weights_c = weights, dloss_c = dloss;
        label_vector labels_c = in.labels;
        gradproof_ce_options o = abi_options(in.options);
        o.class_weights = or_null(weights_c);
        const gradproof_ce_options o_before = o;
        auto loss = unwritten<S>(in.options.reduce == reduction::none ? static_cast<std::size_t>(n) : 1);
        auto dh = unwritten<S>(static_cast<std::size_t>(n * d)), dw = unwritten<S>(static_cast<std::size_t>(v * d));
        auto db = unwritten<S>(in.has_bias ? static_cast<std::size_t>(v) : 0);
        check_rc(f(hidden_c.data(), weight_c.data(), in.has_bias ? bias_c.data() : nullptr, labels_c.data(), n, d, v, &o,
                   dloss_c.data(), loss.data(), dh.data(), dw.data(), in.has_bias ? db.data() : nullptr),
                 entry);
        require_same(entry, "hidden", hidden_c, hidden);
        require_same(entry, "weight", weight_c, weight);
        require_same(entry, "bias", bias_c, bias);
        require_same(entry, "class_weights", weights_c, weights);
        require_same(entry, "dloss", dloss_c, dloss);
        if (labels_c != in.labels) throw plugin::contract_violation(std::string(entry) + " broke the contract: input labels was modified");
        if (std::memcmp(&o, &o_before, sizeof o) != 0)
            throw plugin::contract_violation(std::string(entry) + " broke the contract: input options was modified");
        require_written(entry, "loss", loss.data(), loss.size());
        require_written(entry, "dhidden", dh.data(), dh.size());
        require_written(entry, "dweight", dw.data(), dw.size());
        require_written(entry, "dbias", db.data(), db.size());
        fused_ce_result<T> r;
        r.loss = st.load_all(loss);
        r.dhidden = st.load_matrix(dh, n, d);
        r.dweight = st.load_matrix(dw, v, d);
        r.dbias = st.load_all(db);
        return r;
    };
}

template <class T>
std::function<matrix<T>(const matrix<T>&)> wrap_row(softmax_fn<T> f, const char* entry) {
    return [f, entry](const matrix<T>& z) {
        matrix<T> in = z, out(z.rows(), z.cols());
        fill_garbage(out.data(), static_cast<std::size_t>(out.size()));
        check_rc(f(in.data(), in.rows(), in.cols(), out.data()), entry);
        require_unchanged(entry, "logits", in, z);
        require_written(entry, "out", out.data(), static_cast<std::size_t>(out.size()));
        return out;
    };
}

template <class T>
std::function<matrix<T>(const matrix<T>&, const matrix<T>&)> wrap_backward(backward_fn<T> f, const char* entry) {
    return [f, entry](const matrix<T>& a, const matrix<T>& g) {
        matrix<T> ai = a, gi = g, out(a.rows(), a.cols());
        fill_garbage(out.data(), static_cast<std::size_t>(out.size()));
        check_rc(f(ai.data(), gi.data(), a.rows(), a.cols(), out.data()), entry);
        require_unchanged(entry, "forward output", ai, a);
        require_unchanged(entry, "upstream gradient", gi, g);
        require_written(entry, "dlogits", out.data(), static_cast<std::size_t>(out.size()));
        return out;
    };
}

}  // namespace

implementation::implementation(std::string name) : state_(std::make_shared<state>()) {
    state_->subj.name = std::move(name);
    state_->subj.description = "in-process callable";
}

const std::string& implementation::name() const { return state_->subj.name; }

// Copy on write: copies of a builder share their state until one of them is changed.
implementation::state& implementation::mutable_state() {
    if (state_.use_count() > 1) state_ = std::make_shared<state>(*state_);
    return *state_;
}

template <class T>
static entry_points<T>& points(subject& s) {
    if constexpr (std::is_same_v<T, float>) return s.f32;
    else return s.f64;
}

template <class T>
implementation& implementation::softmax(softmax_fn<T> f) {
    points<T>(mutable_state().subj).softmax = wrap_row<T>(std::move(f), "softmax");
    return *this;
}
template <class T>
implementation& implementation::log_softmax(softmax_fn<T> f) {
    points<T>(mutable_state().subj).log_softmax = wrap_row<T>(std::move(f), "log_softmax");
    return *this;
}
template <class T>
implementation& implementation::softmax_backward(backward_fn<T> f) {
    points<T>(mutable_state().subj).softmax_backward = wrap_backward<T>(std::move(f), "softmax_backward");
    return *this;
}
template <class T>
implementation& implementation::log_softmax_backward(backward_fn<T> f) {
    points<T>(mutable_state().subj).log_softmax_backward = wrap_backward<T>(std::move(f), "log_softmax_backward");
    return *this;
}
template <class T>
implementation& implementation::cross_entropy(cross_entropy_fn<T> f) {
    points<T>(mutable_state().subj).cross_entropy = [f](const matrix<T>& z, const label_vector& y) {
        if (static_cast<Eigen::Index>(y.size()) != z.rows()) throw std::invalid_argument("labels: size mismatch");
        matrix<T> zi = z;
        label_vector yi = y;
        cross_entropy_result<T> r;
        r.loss = garbage<T>();
        r.dlogits.resize(z.rows(), z.cols());
        fill_garbage(r.dlogits.data(), static_cast<std::size_t>(r.dlogits.size()));
        check_rc(f(zi.data(), yi.data(), z.rows(), z.cols(), &r.loss, r.dlogits.data()), "cross_entropy");
        require_unchanged("cross_entropy", "logits", zi, z);
        if (yi != y) throw plugin::contract_violation("cross_entropy broke the contract: input labels was modified");
        require_written("cross_entropy", "loss", &r.loss, 1);
        require_written("cross_entropy", "dlogits", r.dlogits.data(), static_cast<std::size_t>(r.dlogits.size()));
        return r;
    };
    return *this;
}
template <class T>
implementation& implementation::softmax_loss(softmax_loss_fn<T> f) {
    points<T>(mutable_state().subj).softmax_loss = [f](const matrix<T>& W, const matrix<T>& X, const label_vector& y, T reg) {
        if (static_cast<Eigen::Index>(y.size()) != X.rows()) throw std::invalid_argument("y: size mismatch");
        if (X.cols() != W.rows()) throw std::invalid_argument("X: column count differs from W's row count");
        matrix<T> Wi = W, Xi = X;
        label_vector yi = y;
        loss_result<T> r;
        r.loss = garbage<T>();
        r.dW.resize(W.rows(), W.cols());
        fill_garbage(r.dW.data(), static_cast<std::size_t>(r.dW.size()));
        check_rc(f(Wi.data(), Xi.data(), yi.data(), X.rows(), W.rows(), W.cols(), reg, &r.loss, r.dW.data()), "softmax_loss");
        require_unchanged("softmax_loss", "W", Wi, W);
        require_unchanged("softmax_loss", "X", Xi, X);
        if (yi != y) throw plugin::contract_violation("softmax_loss broke the contract: input y was modified");
        require_written("softmax_loss", "loss", &r.loss, 1);
        require_written("softmax_loss", "dW", r.dW.data(), static_cast<std::size_t>(r.dW.size()));
        return r;
    };
    return *this;
}

template <class T>
implementation& implementation::cross_entropy_ex(cross_entropy_ex_fn<T> f) {
    points<T>(mutable_state().subj).cross_entropy_ex = wrap_ce_ex<T, T>(std::move(f), "cross_entropy_ex", {});
    return *this;
}
implementation& implementation::cross_entropy_ex_bf16(cross_entropy_ex_fn<std::uint16_t> f) {
    mutable_state().subj.f32.cross_entropy_ex_bf16 =
        wrap_ce_ex<float, std::uint16_t>(std::move(f), "cross_entropy_ex_bf16", {half_format::bf16});
    return *this;
}
implementation& implementation::cross_entropy_ex_f16(cross_entropy_ex_fn<std::uint16_t> f) {
    mutable_state().subj.f32.cross_entropy_ex_f16 =
        wrap_ce_ex<float, std::uint16_t>(std::move(f), "cross_entropy_ex_f16", {half_format::f16});
    return *this;
}
template <class T>
implementation& implementation::fused_linear_cross_entropy(fused_linear_cross_entropy_fn<T> f) {
    points<T>(mutable_state().subj).fused_linear_cross_entropy =
        wrap_fused<T, T>(std::move(f), "fused_linear_cross_entropy", {});
    return *this;
}
implementation& implementation::fused_linear_cross_entropy_bf16(fused_linear_cross_entropy_fn<std::uint16_t> f) {
    mutable_state().subj.f32.fused_linear_cross_entropy_bf16 =
        wrap_fused<float, std::uint16_t>(std::move(f), "fused_linear_cross_entropy_bf16", {half_format::bf16});
    return *this;
}
implementation& implementation::fused_linear_cross_entropy_f16(fused_linear_cross_entropy_fn<std::uint16_t> f) {
    mutable_state().subj.f32.fused_linear_cross_entropy_f16 =
        wrap_fused<float, std::uint16_t>(std::move(f), "fused_linear_cross_entropy_f16", {half_format::f16});
    return *this;
}

#define GRADPROOF_INSTANTIATE(T)                                                    \
    template implementation& implementation::softmax<T>(softmax_fn<T>);             \
    template implementation& implementation::log_softmax<T>(softmax_fn<T>);         \
    template implementation& implementation::softmax_backward<T>(backward_fn<T>);   \
    template implementation& implementation::log_softmax_backward<T>(backward_fn<T>); \
    template implementation& implementation::cross_entropy<T>(cross_entropy_fn<T>); \
    template implementation& implementation::softmax_loss<T>(softmax_loss_fn<T>);    \
    template implementation& implementation::cross_entropy_ex<T>(cross_entropy_ex_fn<T>); \
    template implementation& implementation::fused_linear_cross_entropy<T>(fused_linear_cross_entropy_fn<T>);
GRADPROOF_INSTANTIATE(float)
GRADPROOF_INSTANTIATE(double)
#undef GRADPROOF_INSTANTIATE

}  // namespace gradproof::testing
