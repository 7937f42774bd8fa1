#include "bench/timing.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

namespace gradproof::bench {

timing time_call(const std::function<void()>& call, int repetitions, double slow_seconds) {
    using clock_type = std::chrono::steady_clock;
    auto since = [](clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); };
    timing t;
    auto t0 = clock_type::now();
    call();  // warm-up: allocations, page faults, thread start-up
    const double first = since(t0);
    if (first > slow_seconds || repetitions < 1) {
        t.median_seconds = t.min_seconds = t.max_seconds = first;
        t.repetitions = 1;
        return t;
    }
    t.calls_per_sample = std::max(1L, static_cast<long>(2e-3 / std::max(first, 1e-9)));
    std::vector<double> samples;
    for (int r = 0; r < repetitions; ++r) {
        t0 = clock_type::now();
        for (long k = 0; k < t.calls_per_sample; ++k) call();
        samples.push_back(since(t0) / static_cast<double>(t.calls_per_sample));
    }
    std::sort(samples.begin(), samples.end());
    const std::size_t m = samples.size();
    t.median_seconds = m % 2 ? samples[m / 2] : (samples[m / 2 - 1] + samples[m / 2]) / 2;
    t.min_seconds = samples.front();
    t.max_seconds = samples.back();
    t.repetitions = repetitions;
    return t;
}

}  // namespace gradproof::bench
