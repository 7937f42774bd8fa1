// bench/timing: the rows of `gradproof bench` are timed in rounds, one sample of every call per
// round, each sample as many calls as fill 2 ms, and a call slower than the limit runs once.
#include "bench/timing.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

using namespace gradproof::bench;

namespace {

// A call that logs its id and lasts 3 ms, longer than a sample's 2 ms: one call per sample.
std::function<void()> logged_call(std::vector<int>& log, int id) {
    return [&log, id] {
        log.push_back(id);
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
    };
}

TEST(time_calls, rounds_take_one_sample_of_every_call_in_turn) {
    std::vector<int> log;
    const auto t = time_calls({logged_call(log, 0), logged_call(log, 1)}, 3);
    // Warm-up and calibration of each, then three rounds of (untimed call, timed call).
    EXPECT_EQ(log, (std::vector<int>{0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1}));
    ASSERT_EQ(t.size(), 2u);
    for (const auto& x : t) {
        EXPECT_EQ(x.repetitions, 3);
        EXPECT_EQ(x.calls_per_sample, 1);
        EXPECT_GE(x.min_seconds, 3e-3);
        EXPECT_LE(x.min_seconds, x.median_seconds);
        EXPECT_LE(x.median_seconds, x.max_seconds);
    }
}

TEST(time_calls, a_call_slower_than_the_limit_is_run_once) {
    std::vector<int> log;
    const auto t = time_calls({logged_call(log, 0), logged_call(log, 1)}, 3, /*slow_seconds=*/1e-3);
    EXPECT_EQ(log, (std::vector<int>{0, 1}));
    for (const auto& x : t) {
        EXPECT_EQ(x.repetitions, 1);
        EXPECT_EQ(x.median_seconds, x.min_seconds);
    }
}

TEST(time_calls, short_calls_are_repeated_to_fill_a_sample) {
    int calls = 0;
    const auto t = time_calls({[&calls] { ++calls; }}, 2);
    ASSERT_EQ(t.size(), 1u);
    EXPECT_GT(t[0].calls_per_sample, 1);
    // Warm-up, calibration (one sample's worth), then two rounds of one untimed call and a sample.
    EXPECT_EQ(calls, 1 + t[0].calls_per_sample + 2 * (1 + t[0].calls_per_sample));
}

}  // namespace
