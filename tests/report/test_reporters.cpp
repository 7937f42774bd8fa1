// Tests of the reporters (report/reporters.hpp): JSON round trip and error handling, JUnit XML
// structure and escaping, terminal content, and atomic file writing.
#include "report/reporters.hpp"
#include "runner/summary.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

namespace gradproof {
namespace {

namespace fs = std::filesystem;

constexpr double inf = std::numeric_limits<double>::infinity();

property_result make(const std::string& impl, precision p, const std::string& prop, verdict v) {
    property_result r;
    r.implementation = impl;
    r.prec = p;
    r.property = prop;
    r.claim = "claim of " + prop;
    r.needs = "needs of " + prop;
    r.status = v;
    r.cases_requested = 200;
    r.cases_run = v == verdict::not_applicable ? 0 : 200;
    r.seed = 0x9E3779B97F4A7C15ull ^ std::hash<std::string>{}(impl + prop);
    r.seconds = 0.125 + static_cast<double>(prop.size()) / 7;
    return r;
}

// A run with every kind of result: pass, fail (message, counterexample, reproduce), n/a,
// known-flawed fail, an error, inf margins, awkward characters.
run_result sample_run() {
    run_result run;
    run.meta.gradproof_version = "0.1.0";
    run.meta.date_utc = "2024-05-01T12:34:56Z";
    run.meta.machine = "x86_64 Linux \"test box\"";
    run.meta.command_line = "gradproof --seed 18446744073709551615 --impl vectorized";
    run.meta.seed = 18446744073709551615ull;  // 2^64 − 1 must survive JSON
    run.meta.case_counts = "--cases 200";
    run.meta.libraries = {"Eigen 3.4.0", "MPFR 4.2.0", "ünïcode ✓"};
    run.incomplete = true;

    auto pass = make("vectorized", precision::f64, "loss.accuracy", verdict::pass);
    pass.worst_margin = 0.123456789012345678;
    pass.worst_componentwise = 1.0 / 3;
    pass.worst_ulps = 2.5;
    pass.worst_where = "dW(3,1)";
    run.results.push_back(pass);

    auto fail = make("naive", precision::f32, "softmax.no_overflow", verdict::fail);
    fail.cases_run = 17;
    fail.worst_margin = inf;
    fail.worst_componentwise = inf;
    fail.worst_ulps = inf;
    fail.worst_where = "probs(0,1)";
    fail.message = "expected 0.5, got nan (inf ULP, margin inf)";
    fail.counterexample = "\nlogits (1×2) =\n  [ 1000, 1000 ]\nlabels = [0]\n";
    fail.reproduce = "gradproof --seed 42 --property softmax.no_overflow --impl naive --precision f32";
    fail.seed = 42;
    run.results.push_back(fail);

    auto na = make("plugin", precision::f64, "white_box.dS_rows_sum_to_zero", verdict::not_applicable);
    run.results.push_back(na);

    auto flawed = make("seed_vectorized", precision::f64, "loss.label_far", verdict::fail);
    flawed.known_flawed = true;
    flawed.cases_run = 3;
    flawed.worst_margin = 1.5e300;
    flawed.message = "loss inf where the exact loss is 800";
    flawed.counterexample = "\nW (1×2) =\n  [ 0, -800 ]\n";
    flawed.reproduce = "gradproof --seed 7 --property loss.label_far --impl seed_vectorized";
    run.results.push_back(flawed);

    auto err = make("plugin", precision::f32, "loss.accuracy", verdict::error);
    err.message = "plugin crashed: signal 11";
    err.worst_margin = 0;
    run.results.push_back(err);

    // The known-flawed failure as a finding with every field set.
    run.meta.domain = "full";
    run.meta.domain_text = "full: ordinary and extreme inputs <bounds & \"quotes\">";
    run.meta.fail_on = {"wrong", "crash"};
    finding f;
    f.id = 0;
    f.implementation = "seed_vectorized";
    f.prec = precision::f64;
    f.known_flawed = true;
    f.cls = finding_class::extreme_inputs;
    f.kind = "numerical";
    f.property = "loss.label_far";
    f.properties = {"loss.label_far", "loss.accuracy"};
    f.summary = "Fails only at extreme inputs, from label's logit 717.4 below the row max on";
    f.message = flawed.message;
    f.counterexample = flawed.counterexample;
    f.margin = inf;
    f.digits_lost = 0.25;
    f.componentwise_margin = 1e300;
    f.hazard = "label's logit 800 below the row max";
    f.threshold = "label's logit 717.4 below the row max (bisection)";
    f.replay = {"seed_vectorized", "loss.label_far", precision::f64, 7, 150, "--domain full"};
    f.reproduce = flawed.reproduce;
    run.findings.push_back(f);
    run.results[3].finding = 0;
    run.results[3].replay = f.replay;
    run.results[3].category = "reference";
    run.results[3].ordinary_cases = 97;
    run.summary = summarize(run, {finding_class::wrong, finding_class::crash});
    return run;
}

void expect_same(const property_result& a, const property_result& b) {
    EXPECT_EQ(a.implementation, b.implementation);
    EXPECT_EQ(a.known_flawed, b.known_flawed);
    EXPECT_EQ(a.prec, b.prec);
    EXPECT_EQ(a.property, b.property);
    EXPECT_EQ(a.claim, b.claim);
    EXPECT_EQ(a.needs, b.needs);
    EXPECT_EQ(a.status, b.status);
    EXPECT_EQ(a.cases_run, b.cases_run);
    EXPECT_EQ(a.cases_requested, b.cases_requested);
    EXPECT_EQ(a.worst_margin, b.worst_margin);  // exact: inf and every bit of finite values
    EXPECT_EQ(a.worst_componentwise, b.worst_componentwise);
    EXPECT_EQ(a.worst_ulps, b.worst_ulps);
    EXPECT_EQ(a.worst_where, b.worst_where);
    EXPECT_EQ(a.message, b.message);
    EXPECT_EQ(a.counterexample, b.counterexample);
    EXPECT_EQ(a.reproduce, b.reproduce);
    EXPECT_EQ(a.seed, b.seed);
    EXPECT_EQ(a.seconds, b.seconds);
    EXPECT_EQ(a.category, b.category);
    EXPECT_EQ(a.ordinary_cases, b.ordinary_cases);
    EXPECT_EQ(a.finding, b.finding);
    EXPECT_EQ(a.replay.implementation, b.replay.implementation);
    EXPECT_EQ(a.replay.property, b.replay.property);
    EXPECT_EQ(a.replay.prec, b.replay.prec);
    EXPECT_EQ(a.replay.seed, b.replay.seed);
    EXPECT_EQ(a.replay.cases, b.replay.cases);
    EXPECT_EQ(a.replay.domain_args, b.replay.domain_args);
}

std::string json_of(const run_result& run) {
    std::ostringstream os;
    write_json(os, run);
    return os.str();
}

run_result parse(const std::string& text) {
    std::istringstream is(text);
    return read_json(is);
}

std::size_t count(const std::string& hay, const std::string& needle) {
    std::size_t n = 0;
    for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size())) ++n;
    return n;
}

// ---- JSON ------------------------------------------------------------------------------------

TEST(Json, RoundTripsEveryField) {
    const run_result run = sample_run();
    const run_result back = parse(json_of(run));
    EXPECT_EQ(back.meta.gradproof_version, run.meta.gradproof_version);
    EXPECT_EQ(back.meta.date_utc, run.meta.date_utc);
    EXPECT_EQ(back.meta.machine, run.meta.machine);
    EXPECT_EQ(back.meta.command_line, run.meta.command_line);
    EXPECT_EQ(back.meta.seed, run.meta.seed);
    EXPECT_EQ(back.meta.case_counts, run.meta.case_counts);
    EXPECT_EQ(back.meta.libraries, run.meta.libraries);
    EXPECT_EQ(back.incomplete, run.incomplete);
    EXPECT_EQ(back.meta.domain, run.meta.domain);
    EXPECT_EQ(back.meta.domain_text, run.meta.domain_text);
    EXPECT_EQ(back.meta.fail_on, run.meta.fail_on);
    ASSERT_EQ(back.findings.size(), 1u);
    const auto& f = run.findings[0];
    const auto& g = back.findings[0];
    EXPECT_EQ(g.cls, f.cls);
    EXPECT_EQ(g.properties, f.properties);
    EXPECT_EQ(g.summary, f.summary);
    EXPECT_EQ(g.margin, f.margin);
    EXPECT_EQ(g.threshold, f.threshold);
    EXPECT_EQ(g.hazard, f.hazard);
    EXPECT_EQ(g.replay.domain_args, f.replay.domain_args);
    // The summary is recomputed from the findings and fail-on classes that were read.
    EXPECT_EQ(back.summary.fails, run.summary.fails);
    ASSERT_EQ(back.summary.implementations.size(), run.summary.implementations.size());
    for (std::size_t i = 0; i < run.summary.implementations.size(); ++i)
        EXPECT_EQ(back.summary.implementations[i].headline, run.summary.implementations[i].headline);
    ASSERT_EQ(back.results.size(), run.results.size());
    for (std::size_t i = 0; i < run.results.size(); ++i) {
        SCOPED_TRACE(run.results[i].property);
        expect_same(run.results[i], back.results[i]);
    }
    // Writing the read-back run gives the same text.
    EXPECT_EQ(json_of(back), json_of(run));
}

TEST(Json, RoundTripsRandomMargins) {
    run_result run = sample_run();
    run.incomplete = false;
    std::uint64_t state = 12345;
    auto next = [&] {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return state;
    };
    for (auto& r : run.results) {
        for (double* v : {&r.worst_margin, &r.worst_componentwise, &r.worst_ulps, &r.seconds}) {
            double x;
            do {
                const std::uint64_t bits = next() & 0x7FFFFFFFFFFFFFFFull;  // nonnegative
                std::memcpy(&x, &bits, sizeof x);
            } while (!std::isfinite(x));
            *v = x;
        }
        r.seed = next();
    }
    const run_result back = parse(json_of(run));
    ASSERT_EQ(back.results.size(), run.results.size());
    EXPECT_FALSE(back.incomplete);
    for (std::size_t i = 0; i < run.results.size(); ++i) expect_same(run.results[i], back.results[i]);
}

TEST(Json, EmptyRun) {
    run_result run;
    const run_result back = parse(json_of(run));
    EXPECT_TRUE(back.results.empty());
    EXPECT_TRUE(back.meta.libraries.empty());
}

void expect_rejected(const std::string& text, const std::string& what) {
    try {
        (void)parse(text);
        ADD_FAILURE() << "accepted " << what;
    } catch (const std::runtime_error& e) {
        EXPECT_FALSE(std::string(e.what()).empty()) << what;
    } catch (...) {
        ADD_FAILURE() << "wrong exception type for " << what;
    }
}

TEST(Json, RejectsMalformedAndTruncated) {
    const std::string good = json_of(sample_run());
    ASSERT_NO_THROW((void)parse(good));
    expect_rejected("", "empty input");
    expect_rejected("{", "an open brace");
    expect_rejected("not json", "text");
    expect_rejected("[1, 2, 3]", "an array");
    expect_rejected("42", "a number");
    for (std::size_t cut : {good.size() / 10, good.size() / 3, good.size() / 2, good.size() - 3})
        expect_rejected(good.substr(0, cut), "JSON truncated to " + std::to_string(cut) + " bytes");
}

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
    const auto p = s.find(from);
    EXPECT_NE(p, std::string::npos) << from;
    if (p != std::string::npos) s.replace(p, from.size(), to);
    return s;
}

TEST(Json, RejectsWrongFormatAndBadFields) {
    const std::string good = json_of(sample_run());
    expect_rejected(replace_once(good, "\"gradproof-results\"", "\"other-results\""), "wrong format");
    expect_rejected(replace_once(good, "\"format\"", "\"formats\""), "missing format");
    expect_rejected(replace_once(good, "\"gradproof-results\"", "7"), "numeric format");
    expect_rejected(replace_once(good, "\"status\": \"pass\"", "\"status\": \"maybe\""), "unknown status");
    expect_rejected(replace_once(good, "\"precision\": \"f32\"", "\"precision\": \"f16\""), "unknown precision");
    expect_rejected(replace_once(good, "\"meta\"", "\"metadata\""), "missing meta");
    expect_rejected(replace_once(good, "\"cases_run\": 200", "\"cases_run\": \"many\""), "string count");
    expect_rejected(replace_once(good, "\"incomplete\": true", "\"incomplete\": 3"), "non-bool flag");
    expect_rejected(R"({"format": "gradproof-results"})", "format alone");
}

// ---- JUnit ------------------------------------------------------------------------------------

// A small XML checker: tags nest and match, attribute values are quoted and contain no '<', text
// contains no raw '<' or '>' outside tags, every '&' starts a known entity, and no control
// characters other than tab/newline/CR appear.
::testing::AssertionResult well_formed_xml(const std::string& x) {
    std::vector<std::string> stack;
    std::size_t i = 0;
    auto entity_ok = [&](std::size_t p) {
        for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"})
            if (x.compare(p, std::strlen(e), e) == 0) return true;
        return false;
    };
    for (unsigned char ch : x)
        if (ch < 0x20 && ch != '\n' && ch != '\t' && ch != '\r')
            return ::testing::AssertionFailure() << "control character " << static_cast<int>(ch);
    if (x.rfind("<?xml ", 0) != 0) return ::testing::AssertionFailure() << "no XML declaration";
    i = x.find("?>") + 2;
    while (i < x.size()) {
        if (x[i] == '&') {
            if (!entity_ok(i)) return ::testing::AssertionFailure() << "bare & at " << i;
            ++i;
            continue;
        }
        if (x[i] == '>') return ::testing::AssertionFailure() << "raw > in text at " << i;
        if (x[i] != '<') {
            ++i;
            continue;
        }
        // A tag.
        const bool closing = i + 1 < x.size() && x[i + 1] == '/';
        std::size_t p = i + (closing ? 2 : 1);
        const std::size_t name_start = p;
        while (p < x.size() && (std::isalnum(static_cast<unsigned char>(x[p])) || x[p] == '-' || x[p] == '_')) ++p;
        const std::string name = x.substr(name_start, p - name_start);
        if (name.empty()) return ::testing::AssertionFailure() << "bad tag at " << i << ": " << x.substr(i, 20);
        // Attributes: name="value"
        for (;;) {
            while (p < x.size() && std::isspace(static_cast<unsigned char>(x[p]))) ++p;
            if (p >= x.size()) return ::testing::AssertionFailure() << "unterminated tag " << name;
            if (x[p] == '>' || (x[p] == '/' && p + 1 < x.size() && x[p + 1] == '>')) break;
            if (closing) return ::testing::AssertionFailure() << "attributes on closing tag " << name;
            const std::size_t a = p;
            while (p < x.size() && (std::isalnum(static_cast<unsigned char>(x[p])) || x[p] == '_' || x[p] == '-')) ++p;
            if (p == a || p + 1 >= x.size() || x[p] != '=' || x[p + 1] != '"')
                return ::testing::AssertionFailure() << "bad attribute in " << name << " at " << p << ": " << x.substr(a, 30);
            p += 2;
            while (p < x.size() && x[p] != '"') {
                if (x[p] == '<') return ::testing::AssertionFailure() << "raw < in attribute of " << name;
                if (x[p] == '&' && !entity_ok(p)) return ::testing::AssertionFailure() << "bare & in attribute of " << name;
                ++p;
            }
            if (p >= x.size()) return ::testing::AssertionFailure() << "unterminated attribute in " << name;
            ++p;
        }
        const bool self_closing = x[p] == '/';
        i = p + (self_closing ? 2 : 1);
        if (closing) {
            if (stack.empty() || stack.back() != name)
                return ::testing::AssertionFailure() << "</" << name << "> does not close " << (stack.empty() ? "anything" : stack.back());
            stack.pop_back();
        } else if (!self_closing) {
            stack.push_back(name);
        }
    }
    if (!stack.empty()) return ::testing::AssertionFailure() << "unclosed <" << stack.back() << ">";
    return ::testing::AssertionSuccess();
}

std::string junit_of(const run_result& run) {
    std::ostringstream os;
    write_junit(os, run);
    return os.str();
}

TEST(Junit, CountsMatchResults) {
    const run_result run = sample_run();
    const std::string x = junit_of(run);
    EXPECT_TRUE(well_formed_xml(x)) << x;
    EXPECT_EQ(count(x, "<testcase "), run.results.size());
    EXPECT_EQ(count(x, "</testcase>"), run.results.size());
    // One unexpected failure; n/a and the known-flawed failure are skipped; one error.
    EXPECT_EQ(count(x, "<failure "), 1u);
    EXPECT_EQ(count(x, "<skipped "), 2u);
    EXPECT_EQ(count(x, "<error "), 1u);
    EXPECT_NE(x.find("<testsuites name=\"gradproof\" tests=\"5\" failures=\"1\" errors=\"1\" skipped=\"2\""), std::string::npos) << x;
    // One suite per implementation and precision: vectorized.f64, naive.f32, plugin.f64,
    // seed_vectorized.f64, plugin.f32.
    EXPECT_EQ(count(x, "<testsuite "), 5u);
    EXPECT_EQ(count(x, "</testsuite>"), 5u);
    EXPECT_NE(x.find(run.results[1].reproduce), std::string::npos);
}

TEST(Junit, EscapesMarkupInEveryField) {
    run_result run = sample_run();
    const std::string evil = "<script>&\"'</script>";
    for (auto& r : run.results) {
        r.message = "message " + evil;
        r.property += evil;
        r.implementation += evil;
        r.needs = evil;
        r.counterexample = "\n" + evil + "\n";
        r.reproduce = "cmd " + evil;
    }
    run.results[0].message += std::string("\x01\x1b bell");
    const std::string x = junit_of(run);
    EXPECT_EQ(x.find("<script>"), std::string::npos);
    EXPECT_EQ(x.find("</script>"), std::string::npos);
    EXPECT_NE(x.find("&lt;script&gt;&amp;&quot;&apos;&lt;/script&gt;"), std::string::npos);
    EXPECT_TRUE(well_formed_xml(x)) << x;
    EXPECT_EQ(count(x, "<testcase "), run.results.size());
}

TEST(Junit, XmlEscape) {
    EXPECT_EQ(xml_escape("a<b>&\"'c"), "a&lt;b&gt;&amp;&quot;&apos;c");
    EXPECT_EQ(xml_escape("plain ✓ text\n"), "plain ✓ text\n");
    EXPECT_EQ(xml_escape(std::string("\x01")).find('\x01'), std::string::npos);
}

// ---- terminal ---------------------------------------------------------------------------------

TEST(Terminal, ContainsResultsFailuresAndSummary) {
    const run_result run = sample_run();
    std::ostringstream os;
    write_terminal(os, run);
    const std::string t = os.str();
    for (const auto& r : run.results)
        if (r.status != verdict::not_applicable) {
            EXPECT_NE(t.find(r.property), std::string::npos) << r.property;
        }
    EXPECT_NE(t.find("FAIL"), std::string::npos);
    const auto& f = run.results[1];
    EXPECT_NE(t.find(f.message), std::string::npos);
    EXPECT_NE(t.find(f.counterexample), std::string::npos);
    EXPECT_NE(t.find("reproduce: " + f.reproduce), std::string::npos);
    EXPECT_NE(t.find(f.claim), std::string::npos);
    EXPECT_NE(t.find("m=inf"), std::string::npos);  // inf margin shown as such
    // 1 pass; 1 fail + 1 error unexpected; 1 known-flawed; 1 n/a.
    EXPECT_NE(t.find("1 passed, 2 failed"), std::string::npos) << t;
    EXPECT_NE(t.find("1 failed on known-flawed specimens"), std::string::npos) << t;
    EXPECT_NE(t.find("1 not applicable"), std::string::npos) << t;
    EXPECT_NE(t.find("INCOMPLETE"), std::string::npos);
    EXPECT_NE(t.find(run.meta.machine), std::string::npos);
    // Findings: the block with class, summary, properties, threshold, counterexample, reproduce.
    const auto& fd = run.findings[0];
    EXPECT_NE(t.find("finding #1: extreme_inputs — seed_vectorized f64"), std::string::npos) << t;
    EXPECT_NE(t.find(fd.summary), std::string::npos) << t;
    EXPECT_NE(t.find("fails: loss.label_far, loss.accuracy"), std::string::npos) << t;
    EXPECT_NE(t.find("threshold: " + fd.threshold), std::string::npos) << t;
    EXPECT_NE(t.find("FAIL #1 extreme_inputs"), std::string::npos) << t;
    EXPECT_NE(t.find("domain: " + run.meta.domain_text), std::string::npos) << t;
    EXPECT_NE(t.find("fail on: wrong, crash"), std::string::npos) << t;
    // The top line of every implementation, from the summary.
    for (const auto& i : run.summary.implementations) EXPECT_NE(t.find(i.headline), std::string::npos) << i.implementation;
    // The n/a-only row is hidden by default and shown on request.
    EXPECT_EQ(t.find(run.results[2].property), std::string::npos);
    std::ostringstream all;
    terminal_options opt;
    opt.show_not_applicable = true;
    write_terminal(all, run, opt);
    EXPECT_NE(all.str().find(run.results[2].property), std::string::npos);
}

TEST(Terminal, SummaryCountsScale) {
    run_result run;
    for (int i = 0; i < 7; ++i) run.results.push_back(make("impl", precision::f64, "p" + std::to_string(i), verdict::pass));
    for (int i = 0; i < 3; ++i) {
        auto r = make("impl", precision::f32, "q" + std::to_string(i), verdict::fail);
        r.message = "failure " + std::to_string(i);
        run.results.push_back(r);
    }
    run.summary = summarize(run, {std::begin(all_finding_classes), std::end(all_finding_classes)});
    std::ostringstream os;
    write_terminal(os, run);
    const std::string t = os.str();
    EXPECT_NE(t.find("7 passed, 3 failed"), std::string::npos) << t;
    EXPECT_EQ(t.find("known-flawed"), std::string::npos);
    EXPECT_EQ(t.find("INCOMPLETE"), std::string::npos);
    EXPECT_EQ(count(t, "FAIL"), 3u + 3u);  // table cells and failure headers
}

// ---- atomic writes ----------------------------------------------------------------------------

class TempDir : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("gradproof_test_reporters_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::vector<std::string> listing() const {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
        std::sort(out.begin(), out.end());
        return out;
    }
    static std::string slurp(const fs::path& p) {
        std::ifstream f(p, std::ios::binary);
        std::ostringstream os;
        os << f.rdbuf();
        return os.str();
    }
    fs::path dir_;
};

TEST_F(TempDir, WritesContentAndLeavesNoTemporaries) {
    const fs::path file = dir_ / "results.json";
    const std::string content = json_of(sample_run());
    write_file_atomically(file.string(), content);
    EXPECT_EQ(slurp(file), content);
    EXPECT_EQ(listing(), std::vector<std::string>{"results.json"});
    // Replacing an existing file.
    const std::string second = std::string("second\0binary", 13) + "\n";
    write_file_atomically(file.string(), second);
    EXPECT_EQ(slurp(file), second);
    EXPECT_EQ(listing(), std::vector<std::string>{"results.json"});
    // And the JSON written there reads back.
    write_file_atomically(file.string(), content);
    std::ifstream in(file);
    EXPECT_EQ(read_json(in).results.size(), sample_run().results.size());
}

void expect_write_error(const std::string& path) {
    try {
        write_file_atomically(path, "x");
        ADD_FAILURE() << "no exception for " << path;
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
}

TEST_F(TempDir, UnwritablePathThrowsNamingThePath) {
    expect_write_error((dir_ / "no_such_dir" / "deeper" / "out.json").string());
    EXPECT_TRUE(listing().empty());
    // The target is a directory: the temporary can be written but not renamed into place.
    fs::create_directories(dir_ / "a_directory");
    expect_write_error((dir_ / "a_directory").string());
    EXPECT_EQ(listing(), std::vector<std::string>{"a_directory"});
    EXPECT_TRUE(fs::is_empty(dir_ / "a_directory"));
}

}  // namespace
}  // namespace gradproof
