// gradproof check against real shared libraries: a correct plug-in passes; crashing, hanging,
// misbehaving and broken ones are reported with the triggering input while the run completes;
// unloadable ones are one-line errors with exit code 2.
#include "support/run_command.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>
#include <sys/wait.h>

namespace {

using gradproof::test_support::outcome;

outcome run(const std::string& args) {
    return gradproof::test_support::run_command(std::string(GRADPROOF_BINARY) + " " + args);
}

bool contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }
int lines(const std::string& s) { return gradproof::test_support::line_count(s); }

TEST(check, correct_plugin_passes_everything_in_both_precisions) {
    const auto o = run(std::string("check -q --cases 20 --plugin ") + CORRECT_PLUGIN);
    EXPECT_EQ(o.exit_code, 0) << o.out;
    EXPECT_TRUE(contains(o.out, "softmax_loss_f64")) << o.out;  // the symbols found are listed
    EXPECT_TRUE(contains(o.out, "softmax_loss_f32")) << o.out;
    EXPECT_TRUE(contains(o.out, " passed, 0 failed")) << o.out;
}

TEST(check, segfaulting_plugin_is_reported_with_the_input_and_the_run_completes) {
    const auto o = run(std::string("check -q --precision f64 --shrink-time 2 --plugin ") + SEGFAULT_PLUGIN);
    EXPECT_EQ(o.exit_code, 1) << o.out;
    EXPECT_TRUE(contains(o.out, "SIGSEGV")) << o.out;
    EXPECT_TRUE(contains(o.out, "minimal counterexample")) << o.out;
    EXPECT_TRUE(contains(o.out, "reproduce: gradproof check --plugin")) << o.out;
    EXPECT_TRUE(contains(o.out, ": crash — ")) << o.out;  // the finding's class
    EXPECT_TRUE(contains(o.out, "passed,")) << o.out;  // the summary: the run went on
    EXPECT_TRUE(contains(o.out, "pass ")) << o.out;    // and other properties passed
    // It crashes once a logit exceeds 100, which no ordinary input reaches: the verdict says where
    // the crashes start and that the crashed properties hold at ordinary inputs.
    EXPECT_TRUE(contains(o.out, "CRASHES at extreme inputs, from ")) << o.out;
    EXPECT_TRUE(contains(o.out, "; correct at ordinary inputs (")) << o.out;
    EXPECT_TRUE(contains(o.out, "threshold: ")) << o.out;
}

TEST(check, hanging_plugin_is_killed_after_the_timeout_and_reported) {
    const auto o = run(std::string("check -q --precision f64 --timeout 0.5 --shrink-time 3 -p nan_or_inf_in_a_row_stays_in_that_row "
                                   "-p softmax_matches_the_reference --cases 30 --plugin ") +
                       HANG_PLUGIN);
    EXPECT_EQ(o.exit_code, 1) << o.out;
    EXPECT_TRUE(contains(o.out, "gave no answer within 500 ms")) << o.out;
    EXPECT_TRUE(contains(o.out, "nan")) << o.out;  // the triggering input holds the NaN
    EXPECT_TRUE(contains(o.out, ": crash — ")) << o.out;  // a hang is a crash finding
    EXPECT_TRUE(contains(o.out, "1 passed, 1 failed")) << o.out;
}

TEST(check, misbehaving_plugin_cannot_disturb_the_run) {
    const auto o = run(std::string("check -q --precision f64 --cases 30 --plugin ") + MISBEHAVING_PLUGIN);
    EXPECT_EQ(o.exit_code, 1) << o.out;
    EXPECT_TRUE(contains(o.out, "was modified")) << o.out;
    EXPECT_TRUE(contains(o.out, "was not written")) << o.out;
    EXPECT_TRUE(contains(o.out, "exited with status 7")) << o.out;
    // The plug-in's stderr is quoted in crash messages only, never passed through as raw lines,
    // and its forged protocol answer on stdout changed nothing.
    EXPECT_FALSE(contains(o.out, "\nmisbehaving: called")) << "plug-in stderr leaked into gradproof's output";
    EXPECT_TRUE(contains(o.out, "passed,")) << o.out;
}

TEST(check, plugin_exporting_nothing_is_a_load_error) {
    const auto o = run(std::string("check --plugin ") + EMPTY_PLUGIN);
    EXPECT_EQ(o.exit_code, 2);
    EXPECT_EQ(lines(o.out), 1) << o.out;
    EXPECT_TRUE(contains(o.out, "exports none")) << o.out;
}

TEST(check, symbol_of_the_wrong_kind_is_not_called) {
    const auto o = run(std::string("check --plugin ") + WRONG_KIND_PLUGIN);
    EXPECT_EQ(o.exit_code, 2) << o.out;
    EXPECT_EQ(lines(o.out), 1) << o.out;
    EXPECT_TRUE(contains(o.out, "not a function")) << o.out;
}

TEST(check, missing_and_non_elf_plugins_are_load_errors) {
    auto o = run("check --plugin /nonexistent/libnothing.so");
    EXPECT_EQ(o.exit_code, 2);
    EXPECT_EQ(lines(o.out), 1) << o.out;
    const std::string text = ::testing::TempDir() + "not_elf.so";
    std::ofstream(text) << "this is not a shared library\n";
    o = run("check --plugin " + text);
    EXPECT_EQ(o.exit_code, 2);
    EXPECT_EQ(lines(o.out), 1) << o.out;
    EXPECT_TRUE(contains(o.out, "cannot load")) << o.out;
}

TEST(check, usage_errors_exit_2) {
    EXPECT_EQ(run("check").exit_code, 2);
    EXPECT_EQ(run(std::string("check --timeout -1 --plugin ") + CORRECT_PLUGIN).exit_code, 2);
    EXPECT_EQ(run(std::string("check --shard 3/2 --plugin ") + CORRECT_PLUGIN).exit_code, 2);
}

// Shards partition the work: each property result appears in exactly one shard.
TEST(check, shards_partition_the_work) {
    const std::string base = std::string("check -q --cases 3 --precision f64 --plugin ") + CORRECT_PLUGIN;
    const auto all = run(base);
    const auto a = run(base + " --shard 0/2"), b = run(base + " --shard 1/2");
    auto passed = [](const std::string& s) {
        const auto pos = s.rfind(" passed,");
        const auto start = s.rfind('\n', pos);
        return std::stoi(s.substr(start + 1, pos - start - 1));
    };
    EXPECT_EQ(passed(a.out) + passed(b.out), passed(all.out));
    EXPECT_GT(passed(a.out), 0);
    EXPECT_GT(passed(b.out), 0);
}

}  // namespace
