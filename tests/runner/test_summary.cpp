// The run summary: computed once from results and findings, with --fail-on deciding the verdict.
#include "runner/summary.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace gradproof;

namespace {

property_result result(const std::string& impl, verdict v, int cases, const char* category = "reference") {
    property_result r;
    r.implementation = impl;
    r.property = std::string("p");  // not operator=(const char*): GCC 12 at -O3 reports a false -Wrestrict there (GCC bug 105329)
    r.status = v;
    r.cases_run = cases;
    r.category = category;
    return r;
}

finding make_finding(const std::string& impl, finding_class c, bool known_flawed = false) {
    finding f;
    f.implementation = impl;
    f.cls = c;
    f.known_flawed = known_flawed;
    f.summary = "summary of " + impl;
    return f;
}

}  // namespace

TEST(summary, fail_on_decides_which_findings_fail_the_run) {
    run_result run;
    run.results = {result("k", verdict::pass, 150), result("k", verdict::fail, 3)};
    run.findings = {make_finding("k", finding_class::contract), make_finding("k", finding_class::extreme_inputs)};
    EXPECT_TRUE(summarize(run, parse_finding_classes("all", "--fail-on")).fails);
    EXPECT_FALSE(summarize(run, parse_finding_classes("wrong,accuracy,crash", "--fail-on")).fails);
    EXPECT_TRUE(summarize(run, parse_finding_classes("contract", "--fail-on")).fails);
    EXPECT_FALSE(summarize(run, parse_finding_classes("none", "--fail-on")).fails);
    const auto s = summarize(run, {});
    ASSERT_EQ(s.implementations.size(), 1u);
    EXPECT_EQ(s.findings[static_cast<int>(finding_class::contract)], 1);
    EXPECT_EQ(s.implementations[0].reference_cases, 150);
    EXPECT_NE(s.implementations[0].headline.find("correct at ordinary inputs (150 cases"), std::string::npos)
        << s.implementations[0].headline;
    EXPECT_NE(s.implementations[0].headline.find("1 extreme-input finding; 1 contract finding"), std::string::npos)
        << s.implementations[0].headline;
}

// An accuracy finding: the mathematics was established at ordinary inputs, "correct" was not.
TEST(summary, an_accuracy_finding_says_mathematics_right_not_correct) {
    run_result run;
    run.results = {result("k", verdict::pass, 150), result("k", verdict::fail, 40)};
    run.findings = {make_finding("k", finding_class::accuracy)};
    const auto s = summarize(run, {});
    ASSERT_EQ(s.implementations.size(), 1u);
    const std::string& h = s.implementations[0].headline;
    EXPECT_EQ(h.rfind("mathematics right at ordinary inputs (150 cases", 0), 0u) << h;
    EXPECT_EQ(h.find("correct"), std::string::npos) << h;
    EXPECT_NE(h.find("; 1 accuracy finding"), std::string::npos) << h;
    EXPECT_TRUE(s.implementations[0].correct_at_ordinary_inputs);
}

TEST(summary, a_wrong_finding_leads_the_top_line_and_known_flawed_specimens_never_fail) {
    run_result run;
    run.results = {result("k", verdict::fail, 0), result("seed", verdict::fail, 0)};
    run.results[1].known_flawed = true;
    run.findings = {make_finding("k", finding_class::wrong), make_finding("seed", finding_class::wrong, true)};
    const auto s = summarize(run, parse_finding_classes("all", "--fail-on"));
    ASSERT_EQ(s.implementations.size(), 2u);
    EXPECT_TRUE(s.implementations[0].fails);
    EXPECT_EQ(s.implementations[0].headline.rfind("WRONG at ordinary inputs: summary of k", 0), 0u) << s.implementations[0].headline;
    EXPECT_FALSE(s.implementations[0].correct_at_ordinary_inputs);
    EXPECT_FALSE(s.implementations[1].fails);
    EXPECT_TRUE(s.fails);
    EXPECT_EQ(s.failed, 1);
    EXPECT_EQ(s.failed_known_flawed, 1);
}

TEST(summary, an_extreme_domain_run_claims_nothing_about_ordinary_inputs) {
    run_result run;
    run.meta.domain = "extreme";
    run.results = {result("k", verdict::pass, 40)};
    const auto s = summarize(run, {});
    EXPECT_FALSE(s.implementations[0].correct_at_ordinary_inputs);
    EXPECT_NE(s.implementations[0].headline.find("correct at the extreme inputs drawn"), std::string::npos);
}

// A crash only extreme inputs reach is named with its threshold, and ordinary inputs still get
// their answer; a crash at an ordinary input leads the line.
TEST(summary, a_crash_at_extreme_inputs_only_still_answers_for_ordinary_inputs) {
    run_result run;
    run.results = {result("k", verdict::pass, 150), result("k", verdict::fail, 0)};
    run.results[1].ordinary_cases = 100;
    run.findings = {make_finding("k", finding_class::crash)};
    run.findings[0].hazard = "|logit| ≥ 1e+15";
    run.findings[0].threshold = "|logit| ≥ 100.5 (bisection on the scale of the logits: fails at 0.1×, passes at 0.09×)";
    auto s = summarize(run, parse_finding_classes("all", "--fail-on"));
    EXPECT_EQ(s.implementations[0].headline,
              "CRASHES at extreme inputs, from |logit| ≥ 100.5 on; correct at ordinary inputs (250 cases against the "
              "certified and 128-bit references); 1 crash finding");
    EXPECT_TRUE(s.implementations[0].correct_at_ordinary_inputs);
    EXPECT_TRUE(s.implementations[0].fails);

    run.findings[0].threshold.clear();
    run.findings[0].hazard.clear();
    run.findings[0].ordinary = true;
    s = summarize(run, parse_finding_classes("all", "--fail-on"));
    EXPECT_EQ(s.implementations[0].headline, "CRASHES at ordinary inputs: 1 crash finding");
    EXPECT_FALSE(s.implementations[0].correct_at_ordinary_inputs);

    // A hang outside the ordinary domain is not replayed: where it starts is unknown.
    run.findings[0].ordinary = false;
    s = summarize(run, parse_finding_classes("all", "--fail-on"));
    EXPECT_EQ(s.implementations[0].headline, "CRASHES: 1 crash finding");
    EXPECT_FALSE(s.implementations[0].correct_at_ordinary_inputs);
}

TEST(summary, unknown_classes_are_rejected_naming_the_option) {
    try {
        parse_finding_classes("wrong,sometimes", "--fail-on");
        FAIL() << "accepted an unknown class";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("--fail-on"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("sometimes"), std::string::npos);
    }
}
