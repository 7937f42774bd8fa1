// The property catalog as GoogleTest tests in your own test binary (link gradproof::gtest):
//
//   #include <gradproof/gtest.hpp>
//   GRADPROOF_REGISTER_CATALOG(gradproof::testing::implementation("my_kernel")
//                                  .softmax<double>(my_softmax)
//                                  .cross_entropy<float>(my_cross_entropy_f32)
//                                  .build());
//
// Each applicable (property, precision) becomes a test "<name>_<f64|f32>.<property>" with the same
// verdicts, counterexamples and reproduce information as `gradproof check`, and a failure names its
// finding class (wrong, extreme_inputs, accuracy, contract, crash). The seed, case counts and input
// domain come from GRADPROOF_SEED / GRADPROOF_CASES (or RC_PARAMS) / GRADPROOF_DOMAIN, defaults
// otherwise. Standard headers only, as <gradproof/testing.hpp>; GoogleTest itself is not included.
#pragma once

#include <gradproof/testing.hpp>

namespace gradproof::testing {

// Registers the tests; returns how many (so that it can initialise a static).
int register_catalog(const implementation& impl);

}  // namespace gradproof::testing

#define GRADPROOF_DETAIL_CONCAT2(a, b) a##b
#define GRADPROOF_DETAIL_CONCAT(a, b) GRADPROOF_DETAIL_CONCAT2(a, b)
#define GRADPROOF_REGISTER_CATALOG(...)                                                          \
    [[maybe_unused]] static const int GRADPROOF_DETAIL_CONCAT(gradproof_catalog_, __LINE__) = \
        ::gradproof::testing::register_catalog(__VA_ARGS__)
