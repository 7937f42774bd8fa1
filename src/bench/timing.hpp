// Wall-clock timing for `gradproof bench`: one warm-up call, then `repetitions` samples, each
// long enough (≥ 2 ms, by repeating the call as often as fills 2 ms when warm) that timer
// resolution and call overhead do not dominate tiny shapes; the median sample per call is
// reported (robust to the interference of other processes on a shared machine). A call whose
// warm-up already takes longer than `slow_seconds` is not repeated: that first run is the one
// sample (reported as 1 repetition).
#pragma once

#include <functional>
#include <vector>

namespace gradproof::bench {

struct timing {
    double median_seconds = 0;  // per call
    double min_seconds = 0, max_seconds = 0;
    int repetitions = 0;        // samples taken
    long calls_per_sample = 1;
};

// The calls timed together in rounds: one warm-up call each, then every round takes one sample of
// every call in turn (after one untimed call that brings the call's data back into the caches). A
// slow phase of a shared machine (another tenant's burst, seconds long) then falls on one round of
// every call instead of on all the samples of one, and the medians stay representative.
std::vector<timing> time_calls(const std::vector<std::function<void()>>& calls, int repetitions,
                               double slow_seconds = 2.0);

}  // namespace gradproof::bench
