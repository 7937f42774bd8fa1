#include "kernels/parallel.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
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

namespace {

// The first exception thrown by a task, kept until the caller rethrows it.
struct first_error {
    std::mutex mutex;
    std::exception_ptr error;
    void keep(std::atomic<std::size_t>& next, std::size_t tasks) {
        const std::lock_guard lock(mutex);
        if (!error) error = std::current_exception();
        next.store(tasks, std::memory_order_relaxed);  // stop handing out tasks
    }
};

// Takes tasks off `next` until none is left.
void run_tasks(std::atomic<std::size_t>& next, std::size_t tasks, const std::function<void(std::size_t)>& task,
               first_error& err) {
    for (std::size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < tasks;) {
        try {
            task(i);
        } catch (...) {
            err.keep(next, tasks);
        }
    }
}

// The fallback for a call that finds the pool busy (a task that itself runs a parallel loop, or
// two user threads calling at once): threads started for this call alone.
void run_on_new_threads(std::size_t tasks, std::size_t threads, const std::function<void(std::size_t)>& task) {
    std::atomic<std::size_t> next{0};
    first_error err;
    std::vector<std::thread> started;
    started.reserve(threads - 1);
    try {
        for (std::size_t t = 1; t < threads; ++t) started.emplace_back([&] { run_tasks(next, tasks, task, err); });
    } catch (const std::system_error&) {
        // No more threads available (resource limits): the ones started and this one finish the work.
    }
    run_tasks(next, tasks, task, err);
    for (auto& th : started) th.join();
    if (err.error) std::rethrow_exception(err.error);
}

// Workers that outlive a call, so that a parallel loop costs a wake-up instead of thread start-up.
// Measured on a 2-vCPU VM (AMD EPYC, Linux 6.18), a loop of two empty tasks: 3.6 µs back to back
// (the worker still waiting from the previous loop), 6–25 µs after 1 ms idle (the worker asleep),
// against 24–50 µs with threads started per loop. One loop at a time; each worker has its own
// slot, so that a loop wakes only the workers it uses. After a loop a worker waits spin_time
// before it sleeps: the kernels run several loops back to back (the class split's phases, the
// steps of a training loop).
class thread_pool {
public:
    // Runs the loop on the pool; false (nothing run) when another loop holds it.
    bool try_run(std::size_t tasks, std::size_t threads, const std::function<void(std::size_t)>& task) {
        const std::unique_lock lock(busy_, std::try_to_lock);
        if (!lock.owns_lock()) return false;
        const std::size_t helpers = grow(threads - 1);
        task_ = &task;
        tasks_ = tasks;
        next_.store(0, std::memory_order_relaxed);
        error_.error = nullptr;
        pending_.store(static_cast<std::uint32_t>(helpers), std::memory_order_relaxed);
        for (std::size_t w = 0; w < helpers; ++w) {
            slot& s = *slots_[w];
            s.go.store(s.go.load(std::memory_order_relaxed) + 1, std::memory_order_release);
            s.go.notify_one();
        }
        run_tasks(next_, tasks, task, error_);
        // The workers may still run their last task: wait for them before the caller's frame goes.
        wait_while_not(pending_, std::uint32_t{0});
        if (error_.error) std::rethrow_exception(error_.error);
        return true;
    }

private:
    static constexpr auto spin_time = std::chrono::microseconds(100);

    struct alignas(64) slot {
        std::atomic<std::uint32_t> go{0};  // bumped by the caller for each loop this worker joins
    };

    // Waits while a == v: spin_time of yielding, then sleep. No busy spin: on a 2-vCPU VM the
    // scheduler at times queues a woken thread on its waker's CPU, where it runs only when the
    // waiter gives the CPU up, and a busy spin (with or without pause) there made a loop cost the
    // whole spin (≈ 200–280 µs against 4–25 µs yielding).
    template <class U>
    static U wait_until_changed(const std::atomic<U>& a, U v) {
        const auto until = std::chrono::steady_clock::now() + spin_time;
        for (unsigned spins = 0;; ++spins) {
            const U now = a.load(std::memory_order_acquire);
            if (now != v) return now;
            if ((spins & 15u) == 15u && std::chrono::steady_clock::now() > until) break;
            std::this_thread::yield();
        }
        for (;;) {
            a.wait(v, std::memory_order_acquire);
            const U now = a.load(std::memory_order_acquire);
            if (now != v) return now;
        }
    }

    template <class U>
    static void wait_while_not(const std::atomic<U>& a, U target) {
        for (U v = a.load(std::memory_order_acquire); v != target;) v = wait_until_changed(a, v);
    }

    // Starts workers until `wanted` exist (fewer when the system refuses more); returns how many do.
    std::size_t grow(std::size_t wanted) {
        while (slots_.size() < wanted) {
            auto s = std::make_unique<slot>();
            slot* raw = s.get();
            try {
                std::thread([this, raw] { work(*raw); }).detach();
            } catch (const std::system_error&) {
                break;
            }
            slots_.push_back(std::move(s));
        }
        return std::min(wanted, slots_.size());
    }

    void work(slot& s) {
        for (std::uint32_t seen = 0;;) {
            seen = wait_until_changed(s.go, seen);
            run_tasks(next_, tasks_, *task_, error_);
            // Nothing of the loop is touched after this: the caller may return.
            if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
        }
    }

    std::mutex busy_;
    std::vector<std::unique_ptr<slot>> slots_;  // slots outlive nothing: the pool is never destroyed
    const std::function<void(std::size_t)>* task_ = nullptr;
    std::size_t tasks_ = 0;
    std::atomic<std::size_t> next_{0};
    std::atomic<std::uint32_t> pending_{0};
    first_error error_;
};

// The process's pool, never destroyed (its workers are detached and may sleep through exit). A
// child of fork() has none of the parent's workers: it starts a pool of its own.
std::atomic<thread_pool*> pool_instance{nullptr};

thread_pool& pool() {
    static const bool registered = [] {
        ::pthread_atfork(nullptr, nullptr, [] { pool_instance.store(nullptr, std::memory_order_relaxed); });
        return true;
    }();
    (void)registered;
    thread_pool* p = pool_instance.load(std::memory_order_acquire);
    if (p == nullptr) {
        static std::mutex create;
        const std::lock_guard lock(create);
        p = pool_instance.load(std::memory_order_acquire);
        if (p == nullptr) {
            p = new thread_pool;
            pool_instance.store(p, std::memory_order_release);
        }
    }
    return *p;
}

}  // namespace

void parallel_for_threads(std::size_t tasks, std::size_t threads, const std::function<void(std::size_t)>& task) {
    threads = std::max<std::size_t>(1, std::min(threads, tasks));
    if (threads == 1) {
        for (std::size_t i = 0; i < tasks; ++i) task(i);
        return;
    }
    if (!pool().try_run(tasks, threads, task)) run_on_new_threads(tasks, threads, task);
}

}  // namespace detail
}  // namespace gradproof
