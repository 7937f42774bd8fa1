#include "impl/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace gradproof {

namespace {

int default_threads() {
    static const int value = [] {
        const int env = detail::parse_thread_count(std::getenv("GRADPROOF_THREADS"));
        return env > 0 ? env : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    }();
    return value;
}

std::atomic<int> configured{0};  // 0: use default_threads()

}  // namespace

int num_threads() {
    const int n = configured.load(std::memory_order_relaxed);
    return n > 0 ? n : default_threads();
}

void set_num_threads(int n) {
    if (n < 0) throw std::invalid_argument("threads: must be ≥ 0 (0 restores the default), got " + std::to_string(n));
    configured.store(n, std::memory_order_relaxed);
}

namespace detail {

int parse_thread_count(const char* value) {
    if (value == nullptr || *value == '\0') return 0;
    char* end = nullptr;
    const long v = std::strtol(value, &end, 10);
    // A malformed value falls back to the default rather than failing every call.
    if (end == value || *end != '\0' || v < 1) return 0;
    return static_cast<int>(std::min(v, 1024L));
}

void parallel_for_threads(std::size_t tasks, std::size_t threads, const std::function<void(std::size_t)>& task) {
    threads = std::max<std::size_t>(1, std::min(threads, tasks));
    std::atomic<std::size_t> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto worker = [&] {
        for (std::size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < tasks;) {
            try {
                task(i);
            } catch (...) {
                const std::lock_guard lock(error_mutex);
                if (!error) error = std::current_exception();
                next.store(tasks, std::memory_order_relaxed);  // stop handing out tasks
            }
        }
    };
    std::vector<std::thread> pool;
    pool.reserve(threads - 1);
    try {
        for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
    } catch (const std::system_error&) {
        // No more threads available (resource limits): the ones started and this one finish the work.
    }
    worker();
    for (auto& th : pool) th.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace detail
}  // namespace gradproof
