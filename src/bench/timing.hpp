// Wall-clock timing for `gradproof bench`: one warm-up call, then `repetitions` samples, each
// long enough (≥ 2 ms, by repeating the call) that timer resolution and call overhead do not
// dominate tiny shapes; the median sample per call is reported (robust to the interference of
// other processes on a shared machine). A call whose warm-up already takes longer than
// `slow_seconds` is not repeated: that first run is the one sample (reported as 1 repetition).
#pragma once

#include <functional>

namespace gradproof::bench {

struct timing {
    double median_seconds = 0;  // per call
    double min_seconds = 0, max_seconds = 0;
    int repetitions = 0;        // samples taken
    long calls_per_sample = 1;
};

timing time_call(const std::function<void()>& call, int repetitions, double slow_seconds = 2.0);

}  // namespace gradproof::bench
