// Threading control for the fused kernels, and the fork–join loop they run on.
//
// Thread count: set_num_threads(n) (n ≥ 1; 0 restores the default), else the environment
// variable GRADPROOF_THREADS (a positive integer, read once), else
// std::thread::hardware_concurrency(). It is an upper bound: a kernel uses fewer threads when it
// has fewer tasks or too little work for waking a thread (a few µs, see min_flops_per_thread) to
// pay off.
//
// Determinism: a kernel splits its work into tasks that are fixed by the problem's shape alone
// and writes each task's result to its own slot; slots are combined afterwards in task order on
// the calling thread. Which thread runs which task (decided at run time by an atomic counter)
// therefore never changes a rounded value, and results are bitwise identical for every thread
// count.
#pragma once

#include <cstddef>
#include <functional>

namespace gradproof {

// Upper bound on the threads used by the fused kernels (≥ 1).
int num_threads();
// n ≥ 1 sets the bound for the whole process; n = 0 restores the default (GRADPROOF_THREADS or
// the hardware concurrency). Negative n throws std::invalid_argument.
void set_num_threads(int n);

namespace detail {

// The value of GRADPROOF_THREADS as a thread count: a positive decimal integer (capped at 1024),
// else 0 (unset, empty or malformed: the hardware default applies).
int parse_thread_count(const char* value);

// Runs task(0) … task(tasks − 1), each exactly once, on up to `threads` threads (the calling
// thread included). Returns when all are done; the first exception thrown by a task is rethrown
// here after every thread has joined.
void parallel_for_threads(std::size_t tasks, std::size_t threads, const std::function<void(std::size_t)>& task);

// Waking a pooled worker (kernels/parallel.cpp: 4–25 µs measured) must stay small against a thread's
// share: 2^21 flops is ≈ 10–200 µs at the single-core GEMM rate of Eigen (10–200 GFLOP/s, SSE2 to
// AVX-512).
inline constexpr double min_flops_per_thread = 2097152.0;

// Threads worth using for `work` flops split into `tasks` tasks: at most `limit`, at most one per
// task, and one per min_flops_per_thread of work so that small problems stay single-threaded and
// never pay a wake-up. Inline: the separately built AVX2 kernels use it too.
inline std::size_t threads_for_limit(double work, std::size_t tasks, std::size_t limit) {
    const double by_work = work / min_flops_per_thread;
    std::size_t t = limit < tasks ? limit : tasks;
    if (by_work < static_cast<double>(t)) t = static_cast<std::size_t>(by_work);
    return t < 1 ? 1 : t;
}

}  // namespace detail
}  // namespace gradproof
