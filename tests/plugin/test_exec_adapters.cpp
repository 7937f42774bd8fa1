// The Python adapters of examples/python, served over the subprocess protocol (--exec) with
// Debian's /usr/bin/python3 (python3-numpy and python3-scipy, installed by scripts/install-deps.sh).
// The seed's vectorized numpy function is a known-flawed specimen: gradproof must report it failing
// extreme-logit stability with a shrunk counterexample and a reproduce line naming the command;
// its naive loop passes the identities through the same protocol. (scipy is checked in tests/CMakeLists.txt as a
// third-party library: its findings are reported, not asserted.)
#include "support/run_command.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

namespace {

using gradproof::test_support::outcome;

const std::string k_stability = "loss_and_gradient_stay_finite_and_accurate_under_extreme_logits";

std::string seed_numpy(const std::string& variant) {
    return "/usr/bin/python3 " + std::string(EXAMPLES_DIR) + "/python/seed_numpy.py " + variant;
}

outcome check_exec(const std::string& command, const std::string& extra) {
    return gradproof::test_support::run_command(std::string(GRADPROOF_BINARY) + " check -q " + extra + " --exec '" +
                                                command + "'");
}

nlohmann::json result_of(const nlohmann::json& results, const std::string& property, const std::string& precision) {
    for (const auto& r : results.at("results"))
        if (r.at("property") == property && r.at("precision") == precision) return r;
    return nullptr;
}

TEST(exec_adapters, seed_numpy_vectorized_fails_extreme_logit_stability_with_a_counterexample) {
    const std::string json_path = "exec_seed_vectorized.json";
    const auto o = check_exec(seed_numpy("vectorized"), "-p " + k_stability + " --json " + json_path);
    ASSERT_EQ(o.exit_code, 1) << o.out;
    std::ifstream in(json_path);
    ASSERT_TRUE(in) << "no results JSON";
    const auto results = nlohmann::json::parse(in);
    for (const char* precision : {"f64", "f32"}) {
        const auto r = result_of(results, k_stability, precision);
        ASSERT_FALSE(r.is_null()) << precision << "\n" << o.out;
        EXPECT_EQ(r.at("status"), "fail") << precision;
        // The seed forms exp(z) without subtracting the row maximum: the loss overflows to inf or
        // NaN rather than being merely inaccurate.
        EXPECT_NE(r.at("message").get<std::string>().find("actual"), std::string::npos) << r.dump(2);
        EXPECT_NE(r.at("counterexample").get<std::string>().find("W ("), std::string::npos) << r.dump(2);
        EXPECT_NE(r.at("reproduce").get<std::string>().find("--exec '" + seed_numpy("vectorized") + "'"),
                  std::string::npos)
            << r.dump(2);
    }
}

TEST(exec_adapters, seed_numpy_naive_loop_passes_the_identities_over_the_protocol) {
    // The passing counterpart: the same adapter and protocol, the seed's naive loop, properties it
    // satisfies (it shares only the ΣW² overflow with the vectorized function; see README findings).
    const auto o = check_exec(seed_numpy("naive"),
                              "-p loss_at_zero_weights_is_log_c -p permuting_the_batch_leaves_loss_and_gradient_unchanged "
                              "--cases 15");
    EXPECT_EQ(o.exit_code, 0) << o.out;
    EXPECT_NE(o.out.find("4 passed, 0 failed"), std::string::npos) << o.out;
}

TEST(exec_adapters, a_command_that_cannot_start_is_a_one_line_usage_error) {
    const auto o = check_exec("/nonexistent/interpreter adapter.py", "--cases 5");
    EXPECT_EQ(o.exit_code, 2) << o.out;
    EXPECT_NE(o.out.find("/nonexistent/interpreter"), std::string::npos) << o.out;
}

}  // namespace
