// gradproof's public C++ API for testing your own kernel from C++ (link gradproof::core):
//
//   #include <gradproof/testing.hpp>
//   const auto impl = gradproof::testing::implementation("my_kernel")
//                         .softmax<double>(my_softmax)           // the plug-in ABI's signatures
//                         .cross_entropy<float>(my_cross_entropy_f32);
//   const gradproof::testing::catalog_report r = gradproof::testing::run_catalog(impl);
//   if (!r.passed) std::cerr << r.headline << "\n" << r.findings[0].reproduce << "\n";
//
// or register the catalog as GoogleTest tests with <gradproof/gtest.hpp>. This header uses the
// standard library and <gradproof/plugin.h> (C, <stdint.h>) only: the verification machinery (Eigen, Boost.Multiprecision, MPFR/MPFI,
// RapidCheck) stays inside the library, behind the opaque state of `implementation`, so none of it
// is compiled in your translation unit.
//
// An implementation is called in-process with the same contract checks as a plug-in worker applies
// (include/gradproof/plugin.h): inputs are compared with copies after each call, outputs are
// pre-filled with NaN garbage and must all be written, a non-zero return rejects the input. A crash
// is not contained in-process: use `gradproof check --plugin` for kernels that may crash. Calls
// come from the calling thread, one at a time.
#pragma once

#include <gradproof/plugin.h>
#include <gradproof/version.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gradproof::testing {

// The entry points of the plug-in ABI (include/gradproof/plugin.h), as callables.
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
// Version 2: cross-entropy with options and fused linear cross-entropy. S is the storage type:
// double, float, or std::uint16_t holding bf16/f16 bit patterns. Returning GRADPROOF_UNSUPPORTED
// for an option skips the case.
template <class S>
using cross_entropy_ex_fn = std::function<int(const S* logits, const std::int32_t* labels, std::int64_t n, std::int64_t c,
                                              const gradproof_ce_options* options, const S* dloss, S* loss, S* dlogits)>;
template <class S>
using fused_linear_cross_entropy_fn =
    std::function<int(const S* hidden, const S* weight, const S* bias, const std::int32_t* labels, std::int64_t n,
                      std::int64_t d, std::int64_t v, const gradproof_ce_options* options, const S* dloss, S* loss,
                      S* dhidden, S* dweight, S* dbias)>;

// Builder: implementation("mine").softmax<double>(fn).cross_entropy<float>(fn2). T is double or
// float; the bf16/f16 forms are run by the f32 properties. Copies share nothing observable: a copy changed later does not change the original.
class implementation {
public:
    explicit implementation(std::string name);
    template <class T> implementation& softmax(softmax_fn<T> f);
    template <class T> implementation& log_softmax(softmax_fn<T> f);
    template <class T> implementation& softmax_backward(backward_fn<T> f);
    template <class T> implementation& log_softmax_backward(backward_fn<T> f);
    template <class T> implementation& cross_entropy(cross_entropy_fn<T> f);
    template <class T> implementation& softmax_loss(softmax_loss_fn<T> f);
    template <class T> implementation& cross_entropy_ex(cross_entropy_ex_fn<T> f);
    implementation& cross_entropy_ex_bf16(cross_entropy_ex_fn<std::uint16_t> f);
    implementation& cross_entropy_ex_f16(cross_entropy_ex_fn<std::uint16_t> f);
    template <class T> implementation& fused_linear_cross_entropy(fused_linear_cross_entropy_fn<T> f);
    implementation& fused_linear_cross_entropy_bf16(fused_linear_cross_entropy_fn<std::uint16_t> f);
    implementation& fused_linear_cross_entropy_f16(fused_linear_cross_entropy_fn<std::uint16_t> f);
    // The finished implementation (ends a builder chain: GRADPROOF_REGISTER_CATALOG(…build())).
    const implementation& build() const { return *this; }
    const std::string& name() const;

    struct state;  // the library's subject (src/testing/in_process.hpp)
    const state& get_state() const { return *state_; }

private:
    state& mutable_state();
    std::shared_ptr<state> state_;
};

// What run_catalog runs. Defaults: those of `gradproof check`.
struct run_options {
    std::uint64_t seed = 1;
    int cases = 0;                             // cases per property; 0: each property's own count
    std::string domain = "full";               // inputs drawn: "ordinary", "extreme" or "full"
    std::vector<std::string> properties;       // property names (`gradproof list`); empty: every one
    std::vector<std::string> precisions{"f64", "f32"};
    std::vector<std::string> fail_on;          // finding classes that fail the run; empty: every class
};

// One property in one precision.
struct property_report {
    std::string property;
    std::string precision;      // "f64" or "f32"
    std::string status;         // "pass", "fail", "n/a" or "error"
    int cases = 0;              // passing cases
    double worst_margin = 0;    // max |error| / derived tolerance over the cases (< 1 passes)
    int finding = -1;           // a failure: its index in catalog_report::findings
    std::string message;        // a failure: expected vs actual at the minimal counterexample
};

// One root cause: the failures of one precision that a single minimal input explains.
struct finding_report {
    std::string finding_class;  // "wrong", "extreme_inputs", "accuracy", "contract" or "crash"
    std::string precision;
    std::string summary;        // what is wrong, in one sentence
    std::vector<std::string> properties;  // every property it fails
    std::string message;
    std::string counterexample; // every value the failing evaluation used, at full precision
    std::string hazard;         // extreme_inputs: the input feature behind it, and its threshold
    std::string threshold;
    std::string reproduce;      // the run_options that replay it
};

struct catalog_report {
    bool passed = false;        // no finding of a fail_on class
    std::string headline;       // the top line (README: "The top line")
    std::vector<property_report> properties;
    std::vector<finding_report> findings;
};

// Runs every applicable property of the catalog on `impl`, with findings grouped and classified
// as `gradproof check` does. Throws std::invalid_argument for unknown names in `options`.
catalog_report run_catalog(const implementation& impl, const run_options& options = {});

}  // namespace gradproof::testing
