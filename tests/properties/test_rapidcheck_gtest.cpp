// Catalog properties are ordinary RapidCheck properties: this is how a user embeds one in an
// RC_GTEST_PROP of their own test suite (RC_PARAMS controls seed and case count there). The body
// takes a property_context; a default one draws from the full domain.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "impl/builtin.hpp"
#include "properties/accuracy.hpp"
#include "properties/identities.hpp"
#include "properties/invariances.hpp"

RC_GTEST_PROP(vectorized_f64, shift_leaves_softmax_unchanged, ()) {
    gradproof::property_context ctx;
    gradproof::properties::shift_leaves_softmax_unchanged<double>(ctx, *gradproof::find_builtin("vectorized"));
}

RC_GTEST_PROP(naive_f32, every_row_of_ds_sums_to_zero, ()) {
    gradproof::property_context ctx;
    gradproof::properties::every_row_of_ds_sums_to_zero<float>(ctx, *gradproof::find_builtin("naive"));
}

RC_GTEST_PROP(vectorized_f64, cross_entropy_stays_finite_and_accurate_under_extreme_logits, ()) {
    gradproof::property_context ctx;
    gradproof::properties::cross_entropy_stays_finite_and_accurate_under_extreme_logits<double>(
        ctx, *gradproof::find_builtin("vectorized"));
}

// Over ordinary inputs only: the context's domain maps every drawn case into it.
RC_GTEST_PROP(vectorized_f32, loss_and_gradient_match_the_reference_at_ordinary_inputs, ()) {
    gradproof::property_context ctx(gradproof::input_domain{gradproof::domain_kind::ordinary});
    gradproof::properties::loss_and_gradient_match_the_reference<float>(ctx, *gradproof::find_builtin("vectorized"));
}
