#include "bench/machine.hpp"

#include "kernels/kernel_isa.hpp"

#include <Eigen/Dense>

#include <sys/utsname.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace gradproof::bench {

namespace {

using clock_type = std::chrono::steady_clock;

// Runs f(t) on `threads` threads at once and returns the wall time of the slowest.
template <class F>
double concurrent_seconds(int threads, F&& f) {
    std::vector<std::thread> pool;
    const auto t0 = clock_type::now();
    for (int t = 1; t < threads; ++t) pool.emplace_back([&f, t] { f(t); });
    f(0);
    for (auto& th : pool) th.join();
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

double read_bandwidth(int threads, bool quick) {
    const std::size_t n = (quick ? 32u : 256u) << 20 >> 3;  // doubles: 32 MiB or 256 MiB
    std::vector<double> a(n, 1.0);
    std::vector<double> sums(static_cast<std::size_t>(threads), 0.0);
    auto body = [&](int t) {
        const std::size_t b = n * static_cast<std::size_t>(t) / static_cast<std::size_t>(threads);
        const std::size_t e = n * static_cast<std::size_t>(t + 1) / static_cast<std::size_t>(threads);
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        std::size_t i = b;
        for (; i + 4 <= e; i += 4) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
        }
        for (; i < e; ++i) s0 += a[i];
        sums[static_cast<std::size_t>(t)] += s0 + s1 + s2 + s3;
    };
    concurrent_seconds(threads, body);  // warm-up: pages faulted in
    double best = 1e300;
    for (int r = 0; r < (quick ? 2 : 5); ++r) best = std::min(best, concurrent_seconds(threads, body));
    volatile double sink = sums[0];  // keeps the sums alive
    (void)sink;
    return static_cast<double>(n * sizeof(double)) / best / 1e9;
}

template <class T>
double gemm_gflops(int threads, bool quick) {
    using M = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    const Eigen::Index n = quick ? 256 : 1024;
    std::vector<M> a, b, c;
    for (int t = 0; t < threads; ++t) {
        a.push_back(M::Random(n, n));
        b.push_back(M::Random(n, n));
        c.push_back(M::Zero(n, n));
    }
    auto body = [&](int t) {
        const auto k = static_cast<std::size_t>(t);
        // The GEMM of the kernel build in use (kernels/kernel_isa.hpp), so that the bound and the
        // kernel share an instruction set.
        if (!detail::run_accelerated_gemm(a[k].data(), n, b[k].data(), n, c[k].data(), n, n, n, n)) c[k].noalias() = a[k] * b[k];
    };
    concurrent_seconds(threads, body);
    double best = 1e300;
    for (int r = 0; r < 3; ++r) best = std::min(best, concurrent_seconds(threads, body));
    return 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) * threads / best / 1e9;
}

}  // namespace

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
        }
    return "unknown CPU";
}

machine_info describe_machine(int threads, bool quick) {
    machine_info m;
    m.cpu_model = cpu_model();
    m.logical_cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    m.threads = std::max(1, threads);
    m.kernel_isa = std::string(kernel_isa_name(active_kernel_isa()));
    m.read_gb_per_s = read_bandwidth(m.threads, quick);
    m.gemm_f64_gflops = gemm_gflops<double>(m.threads, quick);
    m.gemm_f32_gflops = gemm_gflops<float>(m.threads, quick);
#if defined(__clang__)
    m.compiler = "clang++ " __clang_version__;
#elif defined(__GNUC__)
    m.compiler = "g++ " __VERSION__;
#endif
    m.eigen_version = std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
                      std::to_string(EIGEN_MINOR_VERSION);
    utsname u{};
    if (uname(&u) == 0) m.kernel = std::string(u.sysname) + " " + u.release;
    const std::time_t now = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    m.date_utc = buf;
    return m;
}

}  // namespace gradproof::bench
