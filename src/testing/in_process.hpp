// In-process subjects from C++ callables with the plug-in ABI's signatures (include/gradproof/
// plugin.h), for users who test their kernel inside their own GoogleTest binary instead of
// building a shared library. The same contract checks as a plug-in worker apply: inputs are
// compared with copies after each call, outputs are pre-filled with NaN garbage and must all be
// written, a non-zero return is a rejection. (A crash is not contained in-process: use
// `gradproof check --plugin` for kernels that may crash.)
#pragma once

#include "core/subject.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace gradproof::testing {

template <class T>
using softmax_fn = std::function<int(const T* logits, std::int64_t n, std::int64_t c, T* out)>;
template <class T>
using backward_fn = std::function<int(const T* fwd, const T* upstream, std::int64_t n, std::int64_t c, T* dlogits)>;
template <class T>
using cross_entropy_fn =
    std::function<int(const T* logits, const std::int32_t* labels, std::int64_t n, std::int64_t c, T* loss, T* dlogits)>;
template <class T>
using softmax_loss_fn = std::function<int(const T* W, const T* X, const std::int32_t* y, std::int64_t n, std::int64_t d,
                                          std::int64_t c, T reg, T* loss, T* dW)>;

// Builder: implementation("mine").softmax<double>(fn).cross_entropy<float>(fn2).build()
class implementation {
public:
    explicit implementation(std::string name);
    template <class T> implementation& softmax(softmax_fn<T> f);
    template <class T> implementation& log_softmax(softmax_fn<T> f);
    template <class T> implementation& softmax_backward(backward_fn<T> f);
    template <class T> implementation& log_softmax_backward(backward_fn<T> f);
    template <class T> implementation& cross_entropy(cross_entropy_fn<T> f);
    template <class T> implementation& softmax_loss(softmax_loss_fn<T> f);
    const subject& build() const { return subject_; }

private:
    subject subject_;
};

}  // namespace gradproof::testing
