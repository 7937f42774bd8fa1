// Reliability (issue 6): hostile and broken inputs give one clear message and exit code 2, or a
// failed property for a misbehaving implementation — never a crash, hang or garbage file; an
// interrupted run still writes everything it gathered, marked incomplete; runs are deterministic;
// a plug-in that corrupts its own heap cannot alter the parent's results.
#include "core/validate.hpp"
#include "impl/naive.hpp"
#include "impl/seed_vectorized.hpp"
#include "impl/vectorized.hpp"
#include "plugin/external.hpp"
#include "plugin/process.hpp"
#include "protocol/wire.hpp"
#include "report/reporters.hpp"
#include "support/run_command.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace gradproof;
using test_support::outcome;

outcome run(const std::string& args) { return test_support::run_command(std::string(GRADPROOF_BINARY) + " " + args); }
bool contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }
int lines(const std::string& s) { return test_support::line_count(s); }

std::string read(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

// A fresh directory per test (ctest runs tests of this binary in parallel processes).
fs::path temp_dir(const std::string& name) {
    const auto d = fs::temp_directory_path() / ("gradproof_reliability_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

// Replaces the value after every `"key": ` — a number, or a string when it starts with a quote —
// by `value` (std::regex trips GCC 12's -Wmaybe-uninitialized under -Werror).
std::string replace_field(std::string text, const std::string& key, const std::string& value) {
    const std::string tag = "\"" + key + "\": ";
    for (std::size_t p = text.find(tag); p != std::string::npos; p = text.find(tag, p + tag.size())) {
        std::size_t b = p + tag.size(), e = b;
        if (e < text.size() && text[e] == '"') e = text.find('"', e + 1) + 1;
        else
            while (e < text.size() && std::string("-+0123456789.eE").find(text[e]) != std::string::npos) ++e;
        text.replace(b, e - b, value);
    }
    return text;
}

bool has_temporaries(const fs::path& dir) {
    for (const auto& e : fs::directory_iterator(dir))
        if (contains(e.path().filename().string(), ".tmp.")) return true;
    return false;
}

// ---- misbehaving subprocesses (--exec) ----------------------------------------------------------

struct hostile_case {
    const char* mode;
    const char* expected;  // in the failure message
};

class hostile_peer : public ::testing::TestWithParam<hostile_case> {};

TEST_P(hostile_peer, fails_the_property_and_the_run_completes) {
    const auto dir = temp_dir(std::string("peer_") + GetParam().mode);
    const auto json = dir / "r.json";
    const auto start = std::chrono::steady_clock::now();
    const auto o = run(std::string("check -q --precision f64 -p softmax_matches_the_reference --cases 5 --timeout 1 "
                                   "--shrink-time 2 --exec '") +
                       HOSTILE_PEER + " " + GetParam().mode + "' --json " + json.string());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(o.exit_code, 1) << o.out;
    EXPECT_TRUE(contains(o.out, GetParam().expected)) << o.out;
    EXPECT_TRUE(contains(o.out, "0 passed, 1 failed")) << o.out;
    EXPECT_LT(seconds, 120) << "the run must not hang";
    std::ifstream f(json);
    const run_result r = read_json(f);
    ASSERT_EQ(r.results.size(), 1u);
    EXPECT_EQ(r.results[0].status, verdict::fail);
    EXPECT_FALSE(has_temporaries(dir));
    fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(
    reliability, hostile_peer,
    ::testing::Values(hostile_case{"exit_early", "exited with status 3"}, hostile_case{"garbage", "header is not JSON"},
                      hostile_case{"truncated", "payload truncated"}, hostile_case{"flood", "longer than 64 KiB"},
                      hostile_case{"silent", "gave no answer within 1000 ms"},
                      hostile_case{"huge_claim", "exceeds the expected"}),
    [](const auto& info) { return std::string(info.param.mode); });

// A restarted child begins with the handshake, as the first one did: the peer exits at its first
// request after hello, and every call, the first and those after each restart, says so. (Without
// the handshake a restarted peer takes the softmax request for hello and answers it with zero bytes.)
TEST(hostile_peer_restart, a_restarted_peer_is_sent_hello_first) {
    auto x = plugin::open_exec(std::string(HOSTILE_PEER) + " exit_early", plugin::process_options{});
    ASSERT_TRUE(x.subj.f64.has(entry_point::softmax));
    matrix<double> z(1, 2);
    z << 1, 2;
    for (int call = 0; call < 3; ++call) {
        try {
            (void)x.subj.f64.softmax(z);
            ADD_FAILURE() << "call " << call << " returned";
        } catch (const implementation_crashed& e) {
            EXPECT_TRUE(contains(e.what(), "exited with status 3")) << "call " << call << ": " << e.what();
        }
    }
    EXPECT_EQ(x.process->restarts(), 2);
}

TEST(hostile_peer_handshake, broken_hello_is_one_line_and_exit_2) {
    for (const char* mode : {"hello_garbage", "hello_exit"}) {
        const auto o = run(std::string("check --timeout 2 --exec '") + HOSTILE_PEER + " " + mode + "'");
        EXPECT_EQ(o.exit_code, 2) << mode << ": " << o.out;
        EXPECT_EQ(lines(o.out), 1) << mode << ": " << o.out;
    }
}

// ---- isolation ----------------------------------------------------------------------------------

// The plug-in's log_softmax overruns a heap block and frees it twice; its softmax is correct.
// The worker dies, the property fails with the signal, and the softmax result is untouched.
TEST(isolation, heap_corruption_in_a_plugin_cannot_alter_the_parents_results) {
    const auto dir = temp_dir("heap");
    const auto json = dir / "r.json";
    // Under ASan the worker's report of the double free is expected: it goes to a log file here,
    // not into the captured stderr of this test.
    const auto o = test_support::run_command(
        "ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:log_path=" + (dir / "expected_asan").string() + "\" " + GRADPROOF_BINARY +
        " check -q --precision f64 -p softmax_matches_the_reference -p log_softmax_matches_the_reference "
        "-p every_softmax_row_sums_to_one --cases 20 --shrink-time 2 --plugin " + HEAP_CORRUPTION_PLUGIN +
        " --json " + json.string());
    EXPECT_EQ(o.exit_code, 1) << o.out;
    EXPECT_TRUE(contains(o.out, "crashed with signal")) << o.out;
    std::ifstream f(json);
    const run_result r = read_json(f);
    ASSERT_EQ(r.results.size(), 3u) << o.out;
    for (const auto& res : r.results) {
        if (res.property == "log_softmax_matches_the_reference") {
            EXPECT_EQ(res.status, verdict::fail);
        } else {
            EXPECT_EQ(res.status, verdict::pass) << res.property << ": " << res.message;
            EXPECT_EQ(res.cases_run, 20) << res.property;
        }
    }
    fs::remove_all(dir);
}

// ---- absurd dimensions --------------------------------------------------------------------------

template <class Impl>
void expect_scores_refused() {
    // W is 1×2^20 and X 2^20×1 (8 MiB each): their scores would be 2^40 doubles (8 TiB).
    const Eigen::Index big = Eigen::Index{1} << 20;
    const matrix<double> W = matrix<double>::Zero(1, big), X = matrix<double>::Zero(big, 1);
    const label_vector y(static_cast<std::size_t>(big), 0);
    try {
        (void)Impl::template softmax_loss<double>(W, X, y, 0.0);
        FAIL() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()).rfind("X: ", 0), 0u) << e.what();
        EXPECT_TRUE(contains(e.what(), "physical memory")) << e.what();
    }
}

TEST(absurd_dimensions, library_refuses_scores_beyond_memory_before_allocating) {
    expect_scores_refused<impl::naive>();
    expect_scores_refused<impl::vectorized>();
    expect_scores_refused<impl::seed_vectorized>();
}

TEST(absurd_dimensions, n_times_c_overflowing_int64_is_refused) {
    try {
        detail::check_work_size("X", std::int64_t{1} << 40, std::int64_t{1} << 40, sizeof(double), "the scores X·W");
        FAIL() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()).rfind("X: ", 0), 0u) << e.what();
        EXPECT_TRUE(contains(e.what(), "overflow")) << e.what();
    }
    EXPECT_THROW(detail::check_work_size("X", 3, 4611686018427387904LL, 1, "s"), std::invalid_argument);
    EXPECT_NO_THROW(detail::check_work_size("X", 1000, 1000, sizeof(double), "s"));
}

// A header claiming n = 10^18 rows with an empty payload: the worker answers with an error at
// once (no allocation, no call into the plug-in) and keeps serving.
TEST(absurd_dimensions, worker_refuses_a_header_claiming_1e18_rows) {
    plugin::implementation_process p({GRADPROOF_BINARY, "worker", CORRECT_PLUGIN}, "worker", {});
    const auto hello = p.call({{"gradproof", 1}, {"op", "hello"}}, {}, 0);
    ASSERT_EQ(hello.header.value("status", ""), "ok");
    const auto m = p.call({{"gradproof", 1}, {"op", "softmax"}, {"dtype", "f64"}, {"n", 1000000000000000000LL}, {"c", 3}}, {},
                          1 << 20);
    EXPECT_EQ(m.header.value("status", ""), "error") << m.header.dump();
    EXPECT_TRUE(contains(m.header.value("message", ""), "exceed the payload")) << m.header.dump();
    // n×c wrapping around 2^64 to a small number is refused the same way.
    const auto w = p.call({{"gradproof", 1}, {"op", "softmax"}, {"dtype", "f64"}, {"n", 4294967296LL}, {"c", 4294967297LL}},
                          std::string(16, '\0'), 1 << 20);
    EXPECT_EQ(w.header.value("status", ""), "error") << w.header.dump();
    // A float where an integer belongs (1e30 has no int64 value) is refused, not converted.
    const auto f = p.call({{"gradproof", 1}, {"op", "softmax"}, {"dtype", "f64"}, {"n", 1e30}, {"c", 2}}, {}, 1 << 20);
    EXPECT_EQ(f.header.value("status", ""), "error") << f.header.dump();
    // Still serving.
    const double z[2] = {0, 0};
    std::string payload(reinterpret_cast<const char*>(z), sizeof z);
    const auto ok = p.call({{"gradproof", 1}, {"op", "softmax"}, {"dtype", "f64"}, {"n", 1}, {"c", 2}}, payload, 16);
    EXPECT_EQ(ok.header.value("status", ""), "ok") << ok.header.dump();
    EXPECT_EQ(ok.payload.size(), 16u);
}

// The reader accepts payloads up to max_payload, but allocates only as the bytes arrive: a header
// claiming 10^12 bytes followed by three is a truncated payload, not a terabyte allocation.
TEST(absurd_dimensions, protocol_reader_does_not_allocate_a_claimed_payload) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const std::string data = "{\"status\":\"ok\",\"bytes\":1000000000000}\nabc";
    ASSERT_EQ(::write(fds[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));
    ::close(fds[1]);
    try {
        (void)protocol::read_message(fds[0], std::chrono::steady_clock::now() + std::chrono::seconds(10),
                                     std::uint64_t{1} << 40);
        ADD_FAILURE() << "no exception";
    } catch (const protocol::protocol_error& e) {
        EXPECT_TRUE(contains(e.what(), "payload truncated: 3 of 1000000000000 bytes")) << e.what();
    }
    ::close(fds[0]);
}

// ---- results files given to `gradproof report` ---------------------------------------------------

TEST(report_input, truncated_malformed_and_odd_files_are_one_line_and_exit_2) {
    const auto dir = temp_dir("report_input");
    const auto good = dir / "good.json";
    ASSERT_EQ(run("verify -q -i vectorized -p every_softmax_row_sums_to_one --precision f64 --cases 3 --json " + good.string())
                  .exit_code,
              0);
    const std::string text = read(good);
    ASSERT_GT(text.size(), 200u);
    std::vector<std::pair<std::string, std::string>> inputs = {
        {"empty.json", ""},
        {"truncated_early.json", text.substr(0, 40)},
        {"truncated_middle.json", text.substr(0, text.size() / 2)},
        {"truncated_late.json", text.substr(0, text.size() - 2)},
        {"binary.json", std::string("\x7f" "ELF\x02\x01\x01\0\0\xff\xfe", 12)},
        {"float_count.json", replace_field(text, "cases_run", "1e30")},
        {"negative_seed.json", replace_field(text, "seed", "-1")},
        {"nested.json", std::string(100000, '[') + std::string(100000, ']')},
    };
    for (const auto& [name, content] : inputs) {
        std::ofstream(dir / name, std::ios::binary) << content;
        const auto o = run("report " + (dir / name).string() + " -o " + (dir / "out.html").string());
        EXPECT_EQ(o.exit_code, 2) << name << ": " << o.out;
        EXPECT_EQ(lines(o.out), 1) << name << ": " << o.out;
        EXPECT_FALSE(fs::exists(dir / "out.html")) << name;
    }
    // A directory given as the results file.
    const auto o = run("report " + dir.string() + " -o " + (dir / "out.html").string());
    EXPECT_EQ(o.exit_code, 2) << o.out;
    EXPECT_EQ(lines(o.out), 1) << o.out;
    EXPECT_EQ(run("report " + good.string() + " -o " + (dir / "out.html").string()).exit_code, 0);
    fs::remove_all(dir);
}

// ---- output paths -------------------------------------------------------------------------------

TEST(output_paths, unwritable_outputs_are_refused_before_the_run_and_leave_no_file) {
    const auto dir = temp_dir("outputs");
    fs::create_directories(dir / "a_directory");
    const std::string base = "verify -q -i naive -p loss_at_zero_weights_is_log_c --cases 2 ";
    for (const std::string opt : {"--json", "--junit", "--html"})
        for (const std::string& path : {std::string("/nonexistent-dir/x.out"), (dir / "a_directory").string()}) {
            const auto o = run(base + opt + " " + path);
            EXPECT_EQ(o.exit_code, 2) << opt << " " << path << ": " << o.out;
            EXPECT_EQ(lines(o.out), 1) << opt << " " << path << ": " << o.out;
        }
    const auto o = run("report " + (dir / "missing.json").string() + " -o /nonexistent-dir/r.html");
    EXPECT_EQ(o.exit_code, 2) << o.out;
    EXPECT_EQ(lines(o.out), 1) << o.out;
    EXPECT_FALSE(has_temporaries(dir));
    EXPECT_FALSE(has_temporaries(dir / "a_directory"));
    fs::remove_all(dir);
}

// ---- interruption ---------------------------------------------------------------------------------

struct started {
    pid_t pid = -1;
};

started start(const std::vector<std::string>& args, const fs::path& out, const fs::path& err) {
    std::vector<std::string> argv{GRADPROOF_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(o, 1);
        ::dup2(e, 2);
        std::vector<char*> a;
        for (auto& s : argv) a.push_back(s.data());
        a.push_back(nullptr);
        ::execv(a[0], a.data());
        ::_exit(127);
    }
    return {pid};
}

// Waits for the child's exit status (-1 after `seconds`, the child then killed).
int wait_exit(pid_t pid, double seconds) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    int status = 0;
    while (std::chrono::steady_clock::now() < until) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1 - WTERMSIG(status);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
}

// Progress lines on stderr: one per finished property run.
bool wait_progress(const fs::path& err, int lines_wanted, double seconds) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < until) {
        // Progress lines only ("… pass  38 cases  margin …"): RapidCheck may print a line of its own.
        const std::string text = read(err);
        int progress = 0;
        for (std::size_t p = text.find(" cases "); p != std::string::npos; p = text.find(" cases ", p + 1)) ++progress;
        if (progress >= lines_wanted) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

bool process_running_with(const std::string& needle) {
    for (const auto& e : fs::directory_iterator("/proc")) {
        std::ifstream f(e.path() / "cmdline", std::ios::binary);
        std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        if (contains(cmd, needle)) return true;
    }
    return false;
}

void expect_incomplete_files(const fs::path& dir, const char* signal_name) {
    std::ifstream f(dir / "r.json");
    ASSERT_TRUE(f) << "no results JSON";
    const run_result r = read_json(f);  // parses: complete, valid file
    EXPECT_TRUE(r.incomplete);
    EXPECT_TRUE(contains(r.incomplete_reason, signal_name)) << r.incomplete_reason;
    EXPECT_FALSE(r.results.empty()) << "the results gathered before the signal are kept";
    const std::string x = read(dir / "r.xml");
    EXPECT_EQ(x.rfind("<?xml", 0), 0u);
    EXPECT_TRUE(contains(x, "<property name=\"incomplete\" value=\"interrupted by ")) << x.substr(0, 400);
    EXPECT_EQ(x.substr(x.size() - 14), "</testsuites>\n");
    const std::string h = read(dir / "r.html");
    EXPECT_TRUE(contains(h, "The run was interrupted")) << h.size();
    EXPECT_TRUE(contains(h, "</html>"));
    EXPECT_FALSE(has_temporaries(dir));
}

class interruption : public ::testing::TestWithParam<int> {};

// verify, SIGINT after N finished property runs (30 in all, several seconds each under ASan).
TEST_P(interruption, sigint_stops_verify_at_a_case_boundary_and_writes_everything_marked_incomplete) {
    const auto dir = temp_dir("sigint_" + std::to_string(GetParam()));
    // Properties with cheap cases, so that the next case boundary comes quickly even under ASan
    // (a case of the certified-enclosure property can take seconds there).
    const auto p = start({"verify", "--cases", "300", "-p", "every_softmax_row_sums_to_one", "-p",
                          "probabilities_lie_in_the_unit_interval", "-p", "shift_leaves_softmax_unchanged", "-p",
                          "loss_at_zero_weights_is_log_c", "-p", "every_row_of_ds_sums_to_zero", "--json",
                          (dir / "r.json").string(), "--junit", (dir / "r.xml").string(), "--html", (dir / "r.html").string()},
                         dir / "out.txt", dir / "err.txt");
    ASSERT_TRUE(wait_progress(dir / "err.txt", GetParam(), 300)) << read(dir / "err.txt");
    ::kill(p.pid, SIGINT);
    const int code = wait_exit(p.pid, 120);
    EXPECT_EQ(code, 130) << read(dir / "out.txt") << read(dir / "err.txt");
    EXPECT_TRUE(contains(read(dir / "out.txt"), "INCOMPLETE RUN"));
    expect_incomplete_files(dir, "SIGINT");
    fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(reliability, interruption, ::testing::Values(1, 4));

// check with a plug-in (worker processes), SIGTERM: files written, no worker left behind.
TEST(interruption_check, sigterm_stops_check_and_leaves_no_worker_behind) {
    const auto dir = temp_dir("sigterm");
    const auto plugin = dir / ("libinterrupt_probe_" + std::to_string(::getpid()) + ".so");
    fs::copy_file(CORRECT_PLUGIN, plugin);
    const auto p = start({"check", "--cases", "300", "-p", "every_softmax_row_sums_to_one", "-p",
                          "probabilities_lie_in_the_unit_interval", "-p", "shift_leaves_softmax_unchanged", "-p",
                          "softmax_matches_the_reference", "-p", "cross_entropy_matches_the_reference", "--plugin",
                          plugin.string(), "--json", (dir / "r.json").string(), "--junit",
                          (dir / "r.xml").string(), "--html", (dir / "r.html").string()},
                         dir / "out.txt", dir / "err.txt");
    ASSERT_TRUE(wait_progress(dir / "err.txt", 2, 300)) << read(dir / "err.txt");
    ::kill(p.pid, SIGTERM);
    const int code = wait_exit(p.pid, 120);
    EXPECT_EQ(code, 143) << read(dir / "out.txt") << read(dir / "err.txt");
    expect_incomplete_files(dir, "SIGTERM");
    EXPECT_FALSE(process_running_with(plugin.string())) << "a worker outlived gradproof";
    fs::remove_all(dir);
}

// ---- determinism --------------------------------------------------------------------------------

// Results JSON without its timing fields (per-property seconds, the run's date).
std::string without_timing(const std::string& json) {
    return replace_field(replace_field(json, "seconds", "0"), "date_utc", "\"\"");
}

TEST(determinism, same_seed_gives_byte_identical_results_json_apart_from_timing) {
    const auto dir = temp_dir("determinism");
    const std::vector<std::string> commands = {
        "verify -q --seed 7 --cases 10 -p loss_and_gradient_match_the_reference -p shift_leaves_softmax_unchanged "
        "-p loss_and_gradient_stay_finite_and_accurate_under_extreme_logits -p every_row_of_ds_sums_to_zero",
        std::string("check -q --seed 7 --cases 10 -p softmax_matches_the_reference -p cross_entropy_matches_the_reference "
                    "-p repeated_calls_are_bitwise_identical --plugin ") + CORRECT_PLUGIN};
    for (const auto& cmd : commands) {
        std::string first;
        for (int i = 0; i < 2; ++i) {
            const auto path = dir / "r.json";  // the same command line both times (it is recorded)
            const auto o = run(cmd + " --json " + path.string());
            ASSERT_TRUE(o.exit_code == 0 || o.exit_code == 1) << o.out;
            const std::string j = read(path);
            ASSERT_GT(j.size(), 100u);
            if (i == 0) first = j;
            else EXPECT_EQ(without_timing(first), without_timing(j)) << cmd;
        }
    }
    fs::remove_all(dir);
}

}  // namespace
