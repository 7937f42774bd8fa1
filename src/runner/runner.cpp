#include "runner/runner.hpp"

#include "properties/checks.hpp"

#include <rapidcheck.h>
#include <rapidcheck/detail/TestListenerAdapter.h>
#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <optional>
#include <cmath>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include <sys/utsname.h>

namespace gradproof {

namespace {
std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}
std::uint64_t fnv1a(const std::string& s) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ULL;
    return h;
}
double finite_or_max(long double v) {
    return std::isfinite(v) ? static_cast<double>(v) : std::numeric_limits<double>::infinity();
}
volatile std::sig_atomic_t stop_signal_ = 0;

extern "C" void on_stop_signal(int sig) { stop_signal_ = sig; }
}  // namespace

void install_stop_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    // SA_RESETHAND: a second Ctrl-C kills at once, for a user who does not want to wait for the
    // case in flight. SA_RESTART keeps ordinary I/O free of EINTR.
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

int stop_signal() { return stop_signal_; }
void request_stop(int signal) { stop_signal_ = signal; }
void clear_stop_request() { stop_signal_ = 0; }

std::uint64_t derive_seed(std::uint64_t run_seed, const std::string& property, const std::string& subject, precision p) {
    return splitmix64(run_seed ^ splitmix64(fnv1a(property) ^ (fnv1a(subject) << 1) ^ (p == precision::f32 ? 0x32 : 0x64)));
}

property_result run_property(const property& prop, const subject& s, precision p, const run_config& cfg) {
    property_result r;
    r.implementation = s.name;
    r.known_flawed = s.known_flawed;
    r.prec = p;
    r.property = prop.name;
    r.claim = prop.claim;
    r.needs = prop.needs_text();
    r.seed = derive_seed(cfg.seed, prop.name, s.name, p);
    if (!prop.applicable(s, p)) {
        r.status = verdict::not_applicable;
        if (cfg.on_result) cfg.on_result(r);
        return r;
    }
    const int cases = cfg.cases ? *cfg.cases
                                : std::max(1, static_cast<int>(std::lround(prop.default_cases * cfg.case_scale)));
    r.cases_requested = cases;

    rc::detail::TestParams params;
    params.seed = r.seed;
    params.maxSuccess = cases;
    params.maxSize = cfg.max_size;
    params.maxDiscardRatio = 10;
    params.disableShrinking = !cfg.shrink;
    rc::detail::TestMetadata meta;
    meta.id = s.name + "/" + std::string(to_string(p)) + "/" + prop.name;
    meta.description = prop.claim;

    const auto& body = p == precision::f32 ? prop.body_f32 : prop.body_f64;
    std::optional<std::chrono::steady_clock::time_point> first_failure;
    bool budget_hit = false;
    std::string last_failure;  // description of the most recent failing evaluation
    const auto budget = std::chrono::duration<double>(cfg.shrink_budget_seconds);
    bool interrupted = false;
    auto guarded = [&] {
        // A case boundary: once a stop is requested every remaining case (and shrink step) is
        // discarded, which ends RapidCheck's loop without evaluating anything more.
        if (stop_signal_ != 0) {
            interrupted = true;
            RC_DISCARD("interrupted");
        }
        if (first_failure && std::chrono::steady_clock::now() - *first_failure > budget) {
            budget_hit = true;
            RC_DISCARD("shrink time budget exhausted");
        }
        try {
            body(s);
        } catch (const rc::detail::CaseResult& c) {
            if (c.type == rc::detail::CaseResult::Type::Failure) {
                if (!first_failure) first_failure = std::chrono::steady_clock::now();
                last_failure = c.description;
            }
            throw;
        } catch (const std::exception& e) {
            if (!first_failure) first_failure = std::chrono::steady_clock::now();
            last_failure = e.what();
            throw;
        }
    };
    current_margins().reset();
    const auto start = std::chrono::steady_clock::now();
    const rc::detail::TestResult result = [&]() -> rc::detail::TestResult {
        try {
            // A silent listener: RapidCheck's default one prints its own reproduce banner at exit.
            rc::detail::TestListenerAdapter quiet;
            return rc::detail::checkProperty(rc::detail::toProperty(guarded), meta, params, quiet);
        } catch (const std::exception& e) {
            return rc::detail::Error(e.what());
        }
    }();
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto& m = current_margins();
    r.worst_margin = finite_or_max(m.normwise);
    r.worst_componentwise = finite_or_max(m.componentwise);
    r.worst_ulps = finite_or_max(m.worst_ulps);
    r.worst_where = m.worst_where;

    r.interrupted = interrupted;
    if (result.template is<rc::detail::SuccessResult>()) {
        r.status = verdict::pass;
        r.cases_run = result.template get<rc::detail::SuccessResult>().numSuccess;
    } else if (result.template is<rc::detail::FailureResult>()) {
        const auto& f = result.template get<rc::detail::FailureResult>();
        r.status = verdict::fail;
        r.cases_run = f.numSuccess;
        // After shrinking RapidCheck re-runs the final case for its description; past the budget
        // that re-run is discarded, so report the last failure seen instead.
        r.message = budget_hit    ? last_failure + fmt::format(" (shrinking stopped after its {} s budget)", cfg.shrink_budget_seconds)
                    : interrupted ? last_failure + " (shrinking interrupted)"
                                  : f.description;
        std::ostringstream ce;
        // Our case types print themselves as labelled matrices; other drawn values (indices,
        // flags, permutations) get a line of their own with their type.
        for (const auto& [type, value] : f.counterExample) {
            if (!value.empty() && value.front() == '\n') ce << value;
            else ce << "(" << type << ") " << value << "\n";
        }
        r.counterexample = ce.str();
        r.reproduce = fmt::format("{} verify --implementation {} --property {} --precision {} --seed {} --cases {}",
                                  cfg.program, s.name, prop.name, to_string(p), cfg.seed, cases);
    } else if (result.template is<rc::detail::GaveUpResult>()) {
        const auto& g = result.template get<rc::detail::GaveUpResult>();
        r.status = g.numSuccess == 0 ? verdict::not_applicable : verdict::pass;
        r.cases_run = g.numSuccess;
        r.message = "gave up: " + g.description;
    } else {
        r.status = verdict::error;
        r.message = result.template get<rc::detail::Error>().description;
    }
    if (cfg.on_result) cfg.on_result(r);
    return r;
}

run_result run_catalog(const std::vector<subject>& subjects, const run_config& cfg) {
    run_result out;
    struct work_item {
        const subject* s;
        precision p;
        const property* prop;
    };
    std::vector<work_item> work;
    long item = 0;
    for (const auto& s : subjects)
        for (auto p : cfg.precisions)
            for (const auto& prop : catalog()) {
                if (!cfg.properties.empty() &&
                    std::find(cfg.properties.begin(), cfg.properties.end(), prop.name) == cfg.properties.end())
                    continue;
                if (cfg.shard_count > 1 && item++ % cfg.shard_count != cfg.shard_index) continue;
                work.push_back({&s, p, &prop});
            }
    std::size_t done = 0;
    for (const auto& w : work) {
        if (stop_signal_ != 0) break;
        property_result r = run_property(*w.prop, *w.s, w.p, cfg);
        // An interrupted run without a failure proves nothing: it is left out. A failure found
        // before the interruption is a real finding (with the best counterexample so far).
        if (r.interrupted && r.status != verdict::fail) break;
        out.results.push_back(std::move(r));
        ++done;
    }
    if (const int sig = stop_signal_; sig != 0 && done < work.size()) {
        out.incomplete = true;
        const char* name = sigabbrev_np(sig);
        out.incomplete_reason = fmt::format("interrupted by {}: {} of {} property runs completed",
                                            name ? std::string("SIG") + name : "signal " + std::to_string(sig), done,
                                            work.size());
    }
    return out;
}

run_metadata describe_run(const run_config& cfg, const std::string& command_line) {
    run_metadata m;
    m.gradproof_version = GRADPROOF_VERSION;
    const std::time_t now = std::time(nullptr);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    m.date_utc = buf;
    std::string cpu = "unknown CPU";
    std::ifstream info("/proc/cpuinfo");
    for (std::string line; std::getline(info, line);)
        if (line.rfind("model name", 0) == 0) {
            cpu = line.substr(line.find(':') + 2);
            break;
        }
    utsname u{};
    uname(&u);
    m.machine = fmt::format("{}, {} hardware threads, {} {} {}", cpu, std::thread::hardware_concurrency(), u.sysname,
                            u.release, u.machine);
    m.command_line = command_line;
    m.seed = cfg.seed;
    m.case_counts = cfg.cases ? fmt::format("{} per property", *cfg.cases)
                              : cfg.case_scale == 1.0 ? "defaults (properties/case_counts.hpp)"
                                                      : fmt::format("defaults × {}", cfg.case_scale);
    m.libraries = {fmt::format("Eigen {}.{}.{}", EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION),
                   fmt::format("Boost {}.{}.{}", BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100),
                   fmt::format("MPFR {}", MPFR_VERSION_STRING), fmt::format("fmt {}", FMT_VERSION)};
    return m;
}

}  // namespace gradproof
