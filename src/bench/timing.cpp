#include "bench/timing.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

namespace gradproof::bench {

std::vector<timing> time_calls(const std::vector<std::function<void()>>& calls, int repetitions, double slow_seconds) {
    using clock_type = std::chrono::steady_clock;
    auto since = [](clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); };
    std::vector<timing> t(calls.size());
    std::vector<std::vector<double>> samples(calls.size());
    std::vector<std::size_t> sampled;  // the calls that get rounds
    for (std::size_t i = 0; i < calls.size(); ++i) {
        const auto t0 = clock_type::now();
        calls[i]();  // warm-up: allocations, page faults, thread start-up
        const double first = since(t0);
        if (first > slow_seconds || repetitions < 1) {
            t[i].median_seconds = t[i].min_seconds = t[i].max_seconds = first;
            t[i].repetitions = 1;
        } else {
            // Calls per sample: as many warm calls as fill 2 ms (the warm-up call itself may be
            // far slower: first-touch page faults, thread start-up).
            long k = 0;
            const auto t1 = clock_type::now();
            do {
                calls[i]();
                ++k;
            } while (since(t1) < 2e-3);
            t[i].calls_per_sample = k;
            t[i].repetitions = repetitions;
            sampled.push_back(i);
        }
    }
    for (int r = 0; r < repetitions; ++r)
        for (const std::size_t i : sampled) {
            // One untimed call first: the other calls of the round have evicted this one's data
            // from the caches and changed the allocator's state.
            calls[i]();
            const auto t0 = clock_type::now();
            for (long k = 0; k < t[i].calls_per_sample; ++k) calls[i]();
            samples[i].push_back(since(t0) / static_cast<double>(t[i].calls_per_sample));
        }
    for (const std::size_t i : sampled) {
        auto& v = samples[i];
        std::sort(v.begin(), v.end());
        const std::size_t m = v.size();
        t[i].median_seconds = m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
        t[i].min_seconds = v.front();
        t[i].max_seconds = v.back();
    }
    return t;
}

}  // namespace gradproof::bench
