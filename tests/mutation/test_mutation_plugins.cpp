// The mutation suite through the plug-in path: every mutant, loaded as a C plug-in in a worker
// process, is caught by `gradproof check --plugin`, and every correct variant passes.
#include "support/run_command.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace {

using gradproof::test_support::outcome;

outcome check(const std::string& variant, const std::string& extra) {
    return gradproof::test_support::run_command("GRADPROOF_VARIANT=" + variant + " " + GRADPROOF_BINARY +
                                                " check -q --precision f64 " + extra + " --plugin " + MUTATION_PLUGIN);
}

class mutant_plugin : public ::testing::TestWithParam<std::string> {};
class correct_plugin : public ::testing::TestWithParam<std::string> {};

TEST_P(mutant_plugin, is_caught_by_check) {
    // Detection is the point here, not minimal counterexamples: a short shrink budget.
    const auto o = check(GetParam(), "--shrink-time 1");
    EXPECT_EQ(o.exit_code, 1) << o.out;
    EXPECT_NE(o.out.find("minimal counterexample"), std::string::npos) << o.out;
}

TEST_P(correct_plugin, passes_check) {
    const auto o = check(GetParam(), "--cases 60");
    EXPECT_EQ(o.exit_code, 0) << o.out;
    EXPECT_NE(o.out.find(" 0 failed"), std::string::npos) << o.out;
}

// Declaring the input domain never hides a bug in the mathematics: a wrong finding still fails.
TEST(mutant_plugin_domain, a_wrong_finding_fails_the_ordinary_domain_run) {
    const auto o = check("gradient_not_divided_by_n", "--domain ordinary --fail-on wrong");
    EXPECT_EQ(o.exit_code, 1) << o.out;
    EXPECT_NE(o.out.find(": wrong — "), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("--domain ordinary"), std::string::npos) << o.out;  // in the reproduce line
}

// An extreme-input bug is not a failure of a run that declares ordinary inputs only.
TEST(mutant_plugin_domain, an_extreme_input_bug_passes_the_ordinary_domain_run) {
    const auto o = check("missing_max_shift", "--domain ordinary");
    EXPECT_EQ(o.exit_code, 0) << o.out;
    EXPECT_NE(o.out.find("correct at ordinary inputs"), std::string::npos) << o.out;
}

INSTANTIATE_TEST_SUITE_P(mutation, mutant_plugin,
                         ::testing::Values("missing_max_shift", "max_initialized_at_zero", "log_of_rounded_probability",
                                           "epsilon_inside_log", "gradient_not_divided_by_n",
                                           "loss_summed_gradient_averaged", "regularization_factor_mismatch",
                                           "float_accumulation", "last_class_skipped", "simd_tail_drops_last",
                                           "micro_batch_mean_of_means", "tiny_probabilities_dropped", "ten_digit_log2e",
                                           "transposed_gradient_index", "clamped_logits"));
INSTANTIATE_TEST_SUITE_P(mutation, correct_plugin,
                         ::testing::Values("reversed_summation", "kahan_summation", "long_double_internal", "online_softmax",
                                           "log1p_form"));

}  // namespace
