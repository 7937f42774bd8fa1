// The Python adapters of examples/python, served over the subprocess protocol (--exec) with
// Debian's /usr/bin/python3 (python3-numpy and python3-scipy, installed by scripts/install-deps.sh).
// The seed's vectorized numpy function is a known-flawed specimen: gradproof must report it failing
// extreme-logit stability with a minimal counterexample and a reproduce line naming the command;
// its naive loop passes the identities through the same protocol. (scipy is checked in tests/CMakeLists.txt as a
// third-party library: its findings are reported, not asserted.)
#include "support/run_command.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
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

// The textbook CS231n vectorized loss (the seed's): its mathematics is right, so no finding is
// `wrong`; its −log of the rounded p_y is one extreme-input cause per precision, with the
// threshold where it starts; it accepts bad labels and an empty batch (contract findings). Told
// that only ordinary inputs matter and that contract findings are not failures, the run is green.
TEST(exec_adapters, textbook_numpy_loss_gets_findings_by_cause_and_class) {
    const std::string json_path = "exec_textbook_findings.json";
    const auto o = check_exec(seed_numpy("vectorized"), "--json " + json_path);
    ASSERT_EQ(o.exit_code, 1) << o.out;
    std::ifstream in(json_path);
    ASSERT_TRUE(in) << "no results JSON";
    const auto results = nlohmann::json::parse(in);
    for (const char* precision : {"f64", "f32"}) {
        SCOPED_TRACE(precision);
        int log_py = 0;
        bool labels = false, empty_batch = false;
        for (const auto& f : results.at("findings")) {
            if (f.at("precision") != precision) continue;
            EXPECT_NE(f.at("class"), "wrong") << f.dump(2);
            EXPECT_NE(f.at("class"), "crash") << f.dump(2);
            const auto props = f.at("properties").get<std::vector<std::string>>();
            if (f.at("class") == "extreme_inputs" && f.at("hazard").get<std::string>().rfind("label's logit", 0) == 0) {
                ++log_py;
                EXPECT_NE(f.at("threshold").get<std::string>().find("label's logit"), std::string::npos) << f.dump(2);
                EXPECT_NE(std::find(props.begin(), props.end(), k_stability), props.end()) << f.dump(2);
            }
            if (f.at("class") == "contract") {
                labels = labels || f.at("property") == "labels_outside_the_class_range_are_rejected";
                empty_batch = empty_batch || f.at("property") == "an_empty_batch_is_handled_per_contract";
            }
        }
        EXPECT_EQ(log_py, 1) << o.out;
        EXPECT_TRUE(labels) << o.out;
        EXPECT_TRUE(empty_batch) << o.out;
    }
    const auto& impls = results.at("summary").at("implementations");
    ASSERT_EQ(impls.size(), 1u);
    EXPECT_TRUE(impls[0].at("correct_at_ordinary_inputs").get<bool>()) << impls[0].dump(2);
    EXPECT_NE(o.out.find("correct at ordinary inputs"), std::string::npos) << o.out;

    const auto green = check_exec(seed_numpy("vectorized"), "--domain ordinary --fail-on wrong,accuracy,crash");
    EXPECT_EQ(green.exit_code, 0) << green.out;
    EXPECT_NE(green.out.find("domain: ordinary"), std::string::npos) << green.out;
    EXPECT_NE(green.out.find("fail on: wrong, accuracy, crash"), std::string::npos) << green.out;
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
