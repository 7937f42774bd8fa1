#include "runner/runner.hpp"

#include "runner/findings.hpp"
#include "runner/summary.hpp"

#include "core/scalar.hpp"

#include <gradproof/version.hpp>

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

namespace detail {

replay_data replay_of(const property& prop, const subject& s, precision p, const run_config& cfg, int cases) {
    return replay_data{s.name, prop.name, p, cfg.seed, cases, cfg.domain.arguments()};
}

property_run run_one(const property& prop, const subject& s, precision p, const run_config& cfg, const pinned_case* pin,
                     std::optional<int> cases_override, std::optional<input_domain> domain) {
    property_run run;
    property_result& r = run.result;
    r.implementation = s.name;
    r.known_flawed = s.known_flawed;
    r.prec = p;
    r.property = prop.name;
    r.claim = prop.claim;
    r.needs = prop.needs_text();
    r.category = to_string(prop.category);
    r.seed = derive_seed(cfg.seed, prop.name, s.name, p);
    const int cases = cases_override ? *cases_override
                      : cfg.cases    ? *cfg.cases
                                     : std::max(1, static_cast<int>(std::lround(prop.default_cases * cfg.case_scale)));
    r.cases_requested = cases;

    property_context ctx(domain ? *domain : cfg.domain);
    if (pin) ctx.pin(*pin);
    check_params params;
    params.seed = r.seed;
    params.cases = cases;
    params.max_size = cfg.max_size;
    params.shrink = cfg.shrink && !pin;
    params.shrink_budget_seconds = cfg.shrink_budget_seconds;
    params.id = s.name + "/" + std::string(to_string(p)) + "/" + prop.name;
    params.assertion_kind = prop.category == property_category::contract ? failure_kind::contract : failure_kind::numerical;
    params.unit_roundoff = p == precision::f32 ? unit_roundoff<float>() : unit_roundoff<double>();
    params.stop_requested = [] { return stop_signal_ != 0; };
    const auto& body = p == precision::f32 ? prop.body_f32 : prop.body_f64;
    const auto start = std::chrono::steady_clock::now();
    const check_outcome out = check_property([&](property_context& c) { body(c, s); }, ctx, params);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto& m = ctx.margins();
    r.worst_margin = finite_or_max(m.normwise);
    r.worst_componentwise = finite_or_max(m.componentwise);
    r.worst_ulps = finite_or_max(m.worst_ulps);
    r.worst_where = m.worst_where;
    r.interrupted = out.interrupted;
    run.pin_unused = out.pin_unused;
    r.cases_run = out.successes;
    switch (out.result) {
        case check_outcome::status::pass: r.status = verdict::pass; break;
        case check_outcome::status::fail: {
            r.status = verdict::fail;
            run.failure = out.failure;
            const auto& f = *out.failure;
            r.message = out.budget_hit    ? f.message + fmt::format(" (shrinking stopped after its {} s budget)", cfg.shrink_budget_seconds)
                        : out.interrupted ? f.message + " (shrinking interrupted)"
                                          : f.message;
            r.counterexample = f.counterexample;
            r.replay = replay_of(prop, s, p, cfg, cases);
            break;
        }
        case check_outcome::status::gave_up:
            r.status = out.successes == 0 ? verdict::not_applicable : verdict::pass;
            r.message = "gave up: " + out.description;
            break;
        case check_outcome::status::error:
            r.status = verdict::error;
            r.message = out.description;
            r.replay = replay_of(prop, s, p, cfg, cases);
            break;
    }
    return run;
}

}  // namespace detail

property_result run_property(const property& prop, const subject& s, precision p, const run_config& cfg) {
    property_result r;
    if (!prop.applicable(s, p) || (cfg.domain.kind == domain_kind::ordinary && prop.category == property_category::extreme)) {
        r.implementation = s.name;
        r.known_flawed = s.known_flawed;
        r.prec = p;
        r.property = prop.name;
        r.claim = prop.claim;
        r.needs = prop.needs_text();
        r.category = to_string(prop.category);
        r.seed = derive_seed(cfg.seed, prop.name, s.name, p);
        r.status = verdict::not_applicable;
        if (prop.applicable(s, p)) r.message = "hazard-only property: outside the ordinary domain";
    } else {
        r = detail::run_one(prop, s, p, cfg).result;
    }
    if (cfg.on_result) cfg.on_result(r);
    return r;
}

namespace {

struct open_finding {
    int id;
    failure_kind kind;
    pinned_case input;
    long work = 0;          // N·D·C of the input
    std::string signature;  // failure_signature of its failure
};

// What tells two failures of one kind apart as causes. Numerical failures and rejections of the
// same input are one cause; a contract breach or a crash is named by its message (which entry
// point, which breach, which exit), numbers aside: "out[0] was not written" and "input logits was
// modified" are two causes, "exited with status 7 … n=1" and "… n=3" one.
std::string failure_signature(failure_kind kind, const std::string& message) {
    if (kind != failure_kind::contract && kind != failure_kind::crash) return to_string(kind);
    std::string m = message;
    if (const auto note = m.find(" (shrinking"); note != std::string::npos) m.resize(note);
    if (kind == failure_kind::crash)
        if (const auto at = m.find(" crashed: "); at != std::string::npos) m = m.substr(at + 10);
    std::string out = std::string(to_string(kind)) + ":";
    for (char c : m)
        if (!(c >= '0' && c <= '9') && c != '-') out += c;
    return out;
}

// The work N·D·C of a case (N·C for logits).
long work_of(const std::any& a) {
    auto loss = [](const auto& c) { return static_cast<long>(c.X.rows() * c.X.cols() * c.W.cols()); };
    auto logits = [](const auto& c) { return static_cast<long>(c.z.size()); };
    if (const auto* c = std::any_cast<loss_case<double>>(&a)) return loss(*c);
    if (const auto* c = std::any_cast<loss_case<float>>(&a)) return loss(*c);
    if (const auto* c = std::any_cast<logits_case<double>>(&a)) return logits(*c);
    if (const auto* c = std::any_cast<logits_case<float>>(&a)) return logits(*c);
    return 0;
}

// The 256-bit finite-difference properties draw cases of at most this work; a larger minimal
// input (an unshrunk one) is not tried on them, whose cost grows with its square.
constexpr long white_box_replay_work = 1200;

bool failure_kind_from(const std::string& text, failure_kind& out) {
    for (auto k : {failure_kind::numerical, failure_kind::rejection, failure_kind::crash, failure_kind::contract})
        if (text == to_string(k)) {
            out = k;
            return true;
        }
    return false;
}

constexpr double secondary_shrink_budget_seconds = 3;

// Removes finding `id`, renumbering the later ones and the results that name them.
void erase_finding(run_result& out, int id, int into) {
    for (auto& r : out.results)
        if (r.finding == id) r.finding = into;
    for (auto& r : out.results)
        if (r.finding > id) --r.finding;
    out.findings.erase(out.findings.begin() + id);
    for (std::size_t k = static_cast<std::size_t>(id); k < out.findings.size(); ++k) out.findings[k].id = static_cast<int>(k);
}

// An implementation that is wrong at ordinary inputs produces outputs of the wrong size, and the
// tolerances of the self-consistency properties (derived from the exact outputs' magnitudes) no
// longer describe its rounding: their failures are consequences of the wrong finding, not causes
// of their own, and are folded into it.
void merge_same_breaches(run_result& out, std::size_t first) {
    for (std::size_t k = out.findings.size(); k-- > first + 1;) {
        const auto& f = out.findings[k];
        if (f.cls != finding_class::crash && f.cls != finding_class::contract) continue;
        failure_kind kind{};
        if (f.kind == "crash") kind = failure_kind::crash;
        else if (f.kind == "contract") kind = failure_kind::contract;
        else continue;
        const std::string sig = failure_signature(kind, f.message);
        for (std::size_t j = first; j < k; ++j) {
            auto& g = out.findings[j];
            if (g.kind != f.kind || failure_signature(kind, g.message) != sig) continue;
            for (const auto& name : f.properties)
                if (std::find(g.properties.begin(), g.properties.end(), name) == g.properties.end()) g.properties.push_back(name);
            erase_finding(out, static_cast<int>(k), static_cast<int>(j));
            break;
        }
    }
}

void fold_consequences(run_result& out, std::size_t first) {
    int wrong = -1;
    for (std::size_t k = first; k < out.findings.size(); ++k)
        if (out.findings[k].cls == finding_class::wrong) {
            wrong = static_cast<int>(k);
            break;
        }
    if (wrong < 0) return;
    for (std::size_t k = out.findings.size(); k-- > first;) {
        const auto& f = out.findings[k];
        const property* prop = find_property(f.property);
        if (f.cls == finding_class::wrong || f.cls == finding_class::contract || f.cls == finding_class::crash || !prop ||
            (prop->category != property_category::invariance && prop->category != property_category::identity))
            continue;
        auto& w = out.findings[static_cast<std::size_t>(wrong)];
        for (const auto& name : f.properties)
            if (std::find(w.properties.begin(), w.properties.end(), name) == w.properties.end()) w.properties.push_back(name);
        erase_finding(out, static_cast<int>(k), wrong);
        if (static_cast<int>(k) < wrong) --wrong;
    }
}

// Runs the selected properties of one subject in one precision, grouping failures into findings.
void run_subject_precision(const subject& s, precision p, const std::vector<const property*>& props, const run_config& cfg,
                           run_result& out, std::size_t& done) {
    std::vector<open_finding> open;
    const std::size_t first_finding = out.findings.size();
    // Once the implementation is known to be wrong here, later causes are reported with a short
    // shrink: the user fixes the first one first, and a broken implementation stays fast to check.
    bool found_wrong = false;
    run_config secondary = cfg;
    secondary.shrink_budget_seconds = std::min(cfg.shrink_budget_seconds, secondary_shrink_budget_seconds);
    // Tries the minimal inputs of the open findings (those passing `which`) on a property; joins
    // the first that makes it fail the same way and returns that trial's result.
    auto try_join = [&](const property& prop, const auto& which) -> std::optional<property_result> {
        for (auto& f : open) {
            if (stop_signal_ != 0) break;
            auto& fd = out.findings[static_cast<std::size_t>(f.id)];
            if (!which(fd)) continue;
            if (prop.category == property_category::white_box && f.work > white_box_replay_work) continue;
            auto trial = detail::run_one(prop, s, p, cfg, &f.input, cfg.replay_cases);
            if (trial.pin_unused || !trial.failure || trial.failure->kind != f.kind ||
                failure_signature(trial.failure->kind, trial.failure->message) != f.signature)
                continue;
            if (std::find(fd.properties.begin(), fd.properties.end(), prop.name) == fd.properties.end())
                fd.properties.push_back(prop.name);
            trial.result.finding = f.id;
            trial.result.cases_run = 0;
            trial.result.replay = fd.replay;
            return std::move(trial.result);
        }
        return std::nullopt;
    };
    auto add_finding = [&](const property& prop, detail::property_run& run, const std::string& domain_args) {
        std::any shown;
        finding f = detail::make_finding(prop, s, p, cfg, run, &shown);
        f.id = static_cast<int>(out.findings.size());
        if (!domain_args.empty()) f.replay.domain_args = domain_args;
        run.result.finding = f.id;
        out.findings.push_back(std::move(f));
        failure_kind k{};
        // A hang is not tried on other properties: each trial would cost a whole timeout.
        const bool hung = run.failure && run.failure->hung;
        if (shown.has_value() && !hung && failure_kind_from(out.findings.back().kind, k))
            open.push_back({out.findings.back().id, k, pinned_case{shown}, work_of(shown),
                            failure_signature(k, run.failure ? run.failure->message : std::string())});
        if (out.findings.back().cls == finding_class::wrong) found_wrong = true;
        return out.findings.back().id;
    };
    // A property failing through a cause outside the ordinary domain still has to be established
    // at ordinary inputs, where a failure is a cause of its own: an ordinary finding already open
    // is tried first, then the property runs over ordinary inputs.
    auto establish_at_ordinary_inputs = [&](const property& prop, property_result& r) {
        if (r.status != verdict::fail || r.finding < 0 || r.interrupted) return;
        const finding& cause = out.findings[static_cast<std::size_t>(r.finding)];
        if (cause.cls != finding_class::extreme_inputs && !(cause.cls == finding_class::crash && !cause.hazard.empty())) return;
        if (prop.category == property_category::contract || prop.category == property_category::extreme ||
            cfg.domain.kind == domain_kind::ordinary || stop_signal_ != 0)
            return;
        if (auto also = try_join(prop, [](const finding& f) { return f.ordinary; })) {
            r.message += fmt::format(" — and at ordinary inputs: finding #{}", also->finding + 1);
            return;
        }
        input_domain ordinary = cfg.domain;
        ordinary.kind = domain_kind::ordinary;
        auto run = detail::run_one(prop, s, p, found_wrong ? secondary : cfg, nullptr, std::nullopt, ordinary);
        if (run.result.status == verdict::pass) {
            r.ordinary_cases = run.result.cases_run;
            return;
        }
        if (run.result.status != verdict::fail || run.result.interrupted) return;
        const int id = add_finding(prop, run, ordinary.arguments());
        r.message += fmt::format(" — and at ordinary inputs: finding #{}", id + 1);
    };
    for (const property* prop : props) {
        if (stop_signal_ != 0) return;
        const bool hazard_only = cfg.domain.kind == domain_kind::ordinary && prop->category == property_category::extreme;
        if (!prop->applicable(s, p) || hazard_only) {
            property_result r = run_property(*prop, s, p, cfg);
            out.results.push_back(std::move(r));
            ++done;
            continue;
        }
        // A known cause first: the property joins the finding whose minimal input fails it the same way.
        std::optional<property_result> joined = try_join(*prop, [](const finding&) { return true; });
        if (joined) {
            out.results.push_back(*joined);
            establish_at_ordinary_inputs(*prop, out.results.back());
            if (cfg.on_result) cfg.on_result(out.results.back());
            ++done;
            continue;
        }
        auto run = detail::run_one(*prop, s, p, found_wrong ? secondary : cfg);
        // An interrupted run without a failure proves nothing: it is left out. A failure found
        // before the interruption is a real finding (with the best counterexample so far).
        if (run.result.interrupted && run.result.status != verdict::fail) return;
        if (run.result.status == verdict::fail || run.result.status == verdict::error) add_finding(*prop, run, "");
        out.results.push_back(std::move(run.result));
        establish_at_ordinary_inputs(*prop, out.results.back());
        if (cfg.on_result) cfg.on_result(out.results.back());
        ++done;
    }
    merge_same_breaches(out, first_finding);
    fold_consequences(out, first_finding);
}

}  // namespace

run_result run_catalog(const std::vector<subject>& subjects, const run_config& cfg) {
    run_result out;
    // Work items in catalog order; sharding picks every shard_count-th (subject, precision, property).
    std::vector<std::tuple<const subject*, precision, std::vector<const property*>>> groups;
    std::size_t total = 0;
    long item = 0;
    for (const auto& s : subjects)
        for (auto p : cfg.precisions) {
            std::vector<const property*> props;
            for (const auto& prop : catalog()) {
                if (!cfg.properties.empty() &&
                    std::find(cfg.properties.begin(), cfg.properties.end(), prop.name) == cfg.properties.end())
                    continue;
                if (cfg.shard_count > 1 && item++ % cfg.shard_count != cfg.shard_index) continue;
                props.push_back(&prop);
            }
            total += props.size();
            groups.emplace_back(&s, p, std::move(props));
        }
    std::size_t done = 0;
    for (const auto& [s, p, props] : groups) {
        if (stop_signal_ != 0) break;
        run_subject_precision(*s, p, props, cfg, out, done);
    }
    if (const int sig = stop_signal_; sig != 0 && done < total) {
        out.incomplete = true;
        const char* name = sigabbrev_np(sig);
        out.incomplete_reason = fmt::format("interrupted by {}: {} of {} property runs completed",
                                            name ? std::string("SIG") + name : "signal " + std::to_string(sig), done, total);
    }
    out.meta.domain = cfg.domain.name();
    out.summary = summarize(out, cfg.fail_on);
    return out;
}

run_metadata describe_run(const run_config& cfg, const std::string& command_line) {
    run_metadata m;
    m.gradproof_version = GRADPROOF_VERSION_STRING;
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
    m.domain = cfg.domain.name();
    m.domain_text = cfg.domain.describe();
    for (auto c : cfg.fail_on) m.fail_on.push_back(to_string(c));
    m.libraries = {fmt::format("Eigen {}.{}.{}", EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION),
                   fmt::format("Boost {}.{}.{}", BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100),
                   fmt::format("MPFR {}", MPFR_VERSION_STRING), fmt::format("fmt {}", FMT_VERSION)};
    return m;
}

}  // namespace gradproof
