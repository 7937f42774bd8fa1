// Catalog properties are ordinary RapidCheck properties: this is how a user embeds one in an
// RC_GTEST_PROP of their own test suite (RC_PARAMS controls seed and case count there).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "impl/builtin.hpp"
#include "properties/accuracy.hpp"
#include "properties/identities.hpp"
#include "properties/invariances.hpp"

RC_GTEST_PROP(vectorized_f64, shift_leaves_softmax_unchanged, ()) {
    gradproof::properties::shift_leaves_softmax_unchanged<double>(*gradproof::find_builtin("vectorized"));
}

RC_GTEST_PROP(naive_f32, every_row_of_ds_sums_to_zero, ()) {
    gradproof::properties::every_row_of_ds_sums_to_zero<float>(*gradproof::find_builtin("naive"));
}

RC_GTEST_PROP(vectorized_f64, cross_entropy_stays_finite_and_accurate_under_extreme_logits, ()) {
    gradproof::properties::cross_entropy_stays_finite_and_accurate_under_extreme_logits<double>(
        *gradproof::find_builtin("vectorized"));
}
