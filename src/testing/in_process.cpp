#include "testing/in_process.hpp"

#include "plugin/external.hpp"

#include <bit>
#include <memory>
#include <cstring>
#include <vector>

namespace gradproof::testing {

namespace {

template <class T>
T garbage() {
    if constexpr (std::is_same_v<T, double>) return std::bit_cast<double>(std::uint64_t{0x7ff8dead0badf00dULL});
    else return std::bit_cast<float>(std::uint32_t{0x7fdead0bU});
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
    if (rc != 0) throw rejected_input(std::string(entry) + " returned " + std::to_string(rc));
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

#define GRADPROOF_INSTANTIATE(T)                                                    \
    template implementation& implementation::softmax<T>(softmax_fn<T>);             \
    template implementation& implementation::log_softmax<T>(softmax_fn<T>);         \
    template implementation& implementation::softmax_backward<T>(backward_fn<T>);   \
    template implementation& implementation::log_softmax_backward<T>(backward_fn<T>); \
    template implementation& implementation::cross_entropy<T>(cross_entropy_fn<T>); \
    template implementation& implementation::softmax_loss<T>(softmax_loss_fn<T>);
GRADPROOF_INSTANTIATE(float)
GRADPROOF_INSTANTIATE(double)
#undef GRADPROOF_INSTANTIATE

}  // namespace gradproof::testing
