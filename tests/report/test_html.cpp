// HTML report: escaping of hostile strings, the sections and charts the browser test looks for,
// findings and per-implementation headlines, merging of results files (findings included), the
// embedded template's rules, and the size budget.
#include "diagnostics/diagnostics.hpp"
#include "impl/builtin.hpp"
#include "report/reporters.hpp"
#include "runner/summary.hpp"

#include "report_templates.hpp"

#include "support/run_command.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <cctype>
#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <sstream>

namespace {

using namespace gradproof;

std::vector<finding_class> every_class() { return {std::begin(all_finding_classes), std::end(all_finding_classes)}; }

property_result make_result(const std::string& impl, const std::string& prop, verdict v, precision p = precision::f64) {
    property_result r;
    r.implementation = impl;
    r.prec = p;
    r.property = prop;
    r.claim = "The claim of " + prop + ".";
    r.status = v;
    r.cases_run = 10;
    r.cases_requested = 10;
    r.worst_margin = v == verdict::fail ? 3.5 : 0.25;
    r.worst_ulps = v == verdict::fail ? 26 : 1;
    r.seconds = 0.01;
    if (v == verdict::fail) {
        r.message = "loss: expected 720, actual 720.00000000000296, error 26 ULP";
        r.counterexample = "logits (1×2) =\n  [ -720, 0 ]\nlabels = [0]";
        r.reproduce = "gradproof verify --implementation " + impl + " --property " + prop;
    }
    return r;
}

// The built-ins' chart data, computed once for the whole test program (about a second).
const diagnostic_data& builtin_diagnostics() {
    static const diagnostic_data d = compute_diagnostics(builtin_subjects(), {precision::f64, precision::f32});
    return d;
}

run_result sample_run() {
    run_result run;
    run.meta.gradproof_version = "0.1.0";
    run.meta.date_utc = "2026-01-01T00:00:00Z";
    run.meta.machine = "test machine";
    run.meta.command_line = "gradproof verify --html";
    run.meta.seed = 7;
    run.meta.case_counts = "10 per property";
    run.meta.libraries = {"Eigen 3.4.0"};
    for (const auto& s : builtin_subjects()) run.implementations.push_back(describe_subject(s));
    run.results.push_back(make_result("vectorized", "softmax_matches_the_reference", verdict::pass));
    run.results.push_back(make_result("seed_vectorized", "softmax_matches_the_reference", verdict::fail));
    run.results.push_back(make_result("naive", "log_softmax_matches_the_reference", verdict::not_applicable));
    run.diagnostics = builtin_diagnostics();
    run.summary = summarize(run, every_class());
    return run;
}

finding make_finding(const std::string& impl, finding_class cls, const std::string& prop, bool known_flawed = false) {
    finding f;
    f.implementation = impl;
    f.cls = cls;
    f.known_flawed = known_flawed;
    f.kind = "numerical";
    f.property = prop;
    f.properties = {prop};
    f.summary = "the " + std::string(to_string(cls)) + " cause of " + impl + " in " + prop;
    f.message = "loss: expected 720, actual inf";
    f.counterexample = "logits (1×2) =\n  [ -720, 0 ]\nlabels = [0]\n";
    f.margin = std::numeric_limits<double>::infinity();
    f.reproduce = "gradproof verify -i " + impl + " --property " + prop + " --seed 7";
    return f;
}

// Appends a failed result of `prop` explained by a new finding; returns the finding's index.
int add_failure(run_result& run, finding f, verdict v = verdict::fail) {
    f.id = static_cast<int>(run.findings.size());
    property_result r = make_result(f.implementation, f.property, v, f.prec);
    r.known_flawed = f.known_flawed;
    r.finding = f.id;
    run.results.push_back(r);
    run.findings.push_back(std::move(f));
    return run.findings.back().id;
}

// sample_run with one finding of three classes: an extreme-input cause of the known-flawed seed
// specimen (hazard and threshold), an accuracy finding and a wrong one.
run_result run_with_findings() {
    run_result run = sample_run();
    run.results.erase(run.results.begin() + 1);  // the seed's failure comes back with its finding
    run.meta.domain = "full";
    run.meta.domain_text = "full: ordinary and extreme inputs (ordinary = every logit in [−30, 30])";
    run.meta.fail_on = {"wrong", "crash"};
    finding extreme = make_finding("seed_vectorized", finding_class::extreme_inputs, "softmax_matches_the_reference", true);
    extreme.hazard = "a logit far below the row's maximum";
    extreme.threshold = "label's logit ≥ 708.4 below the row maximum";
    add_failure(run, extreme);
    finding accuracy = make_finding("vectorized", finding_class::accuracy, "loss_matches_the_reference");
    accuracy.digits_lost = 1.3;
    accuracy.componentwise_margin = 42;
    accuracy.margin = 17.8;
    accuracy.ordinary = true;
    add_failure(run, accuracy);
    finding wrong = make_finding("naive", finding_class::wrong, "gradient_matches_the_reference");
    wrong.properties.push_back("loss_matches_the_reference");
    wrong.ordinary = true;
    add_failure(run, wrong);
    run.summary = summarize(run, {finding_class::wrong, finding_class::crash});
    return run;
}

std::string render(const run_result& run, const html_options& opt = {}) {
    std::ostringstream os;
    write_html(os, run, opt);
    return os.str();
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

TEST(html_escape, escapes_markup_and_quotes) {
    EXPECT_EQ(html_escape("<script>alert('x')</script> & \"q\""),
              "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
    EXPECT_EQ(html_escape("plain ∂L/∂W"), "plain ∂L/∂W");
}

TEST(html_report, hostile_strings_cannot_inject) {
    run_result run = sample_run();
    const std::string evil = "<script>alert(1)</script>";
    const std::string attr = "\"><img src=x onerror=alert(2)>";
    property_result r = make_result(evil, "prop" + attr, verdict::fail);
    r.message = "error " + evil + attr;
    r.counterexample = "</pre>" + evil;
    r.reproduce = "gradproof check --plugin '" + evil + "'";
    r.claim = attr;
    r.worst_where = evil;
    run.results.push_back(r);
    implementation_info info;
    info.name = evil;
    info.description = attr + evil;
    info.entry_points_f64 = {evil};
    run.implementations.push_back(info);
    run.meta.command_line = "gradproof check --plugin " + evil + attr;
    run.meta.machine = evil;
    run.meta.libraries.push_back(evil);
    run.diagnostics.ulp.push_back({evil, attr, precision::f64, {1, 2}});
    run.diagnostics.stability.push_back({evil, attr, precision::f64, "small", {1, 10}, {0.5, 0.5}});
    finding f = make_finding(evil, finding_class::wrong, "prop" + attr);
    f.summary = evil + attr;  // the wrong class's headline quotes it
    f.properties = {evil, attr};
    f.hazard = attr + evil;
    f.threshold = evil;
    f.message = evil;
    f.counterexample = "</pre>" + evil;
    f.reproduce = "gradproof check --plugin '" + evil + "'" + attr;
    add_failure(run, f);
    finding accuracy = make_finding(attr, finding_class::accuracy, evil);
    accuracy.threshold = attr;
    add_failure(run, accuracy);
    run.meta.domain_text = evil + attr;
    run.meta.fail_on = {"wrong", attr + evil};
    run.summary = summarize(run, every_class());
    std::string headlines;
    for (const auto& i : run.summary.implementations) headlines += i.headline;
    ASSERT_TRUE(contains(headlines, evil));  // so the check below covers the headline too
    const std::string html = render(run, {{{"results" + evil + ".json", run.meta}, {attr, run.meta}}});
    const std::string l = lower(html);
    // The template itself has no script and no img: any occurrence would be injected.
    EXPECT_FALSE(contains(l, "<script")) << "script element injected";
    EXPECT_FALSE(contains(l, "<img")) << "img element injected";
    EXPECT_FALSE(contains(html, attr)) << "attribute broken out of";
    EXPECT_FALSE(contains(html, evil));
    EXPECT_TRUE(contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    EXPECT_TRUE(contains(html, "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
}

TEST(html_report, template_uses_only_escaped_substitutions) {
    const std::string_view t = detail::report_html_template();
    EXPECT_EQ(t.find("{{{"), std::string_view::npos);
    EXPECT_EQ(t.find("{{&"), std::string_view::npos);
    EXPECT_EQ(t.find("<script"), std::string_view::npos);
    EXPECT_FALSE(detail::report_css().empty());
}

TEST(html_report, has_header_matrix_failures_and_every_chart) {
    const std::string html = render(sample_run());
    for (const char* needle :
         {"id=\"report-header\"", "id=\"implementations\"", "id=\"summary-matrix\"", "id=\"failures\"",
          "data-failure=\"seed_vectorized/f64/softmax_matches_the_reference\"", "id=\"chart-ulp-f64\"",
          "id=\"chart-ulp-f32\"", "id=\"chart-stability-f64\"", "id=\"chart-stability-f32\"", "id=\"chart-fd\"",
          "class=\"series\"", "Content-Security-Policy", "known-flawed specimen", "softmax_loss"})
        EXPECT_TRUE(contains(html, needle)) << needle;
    // Failures sort first in the matrix: the failing property's row precedes the passing-only one.
    const auto matrix = html.find("id=\"summary-matrix\"");
    EXPECT_LT(html.find("softmax_matches_the_reference", matrix), html.find("log_softmax_matches_the_reference", matrix));
    // Self-contained: nothing is fetched.
    for (const char* needle : {"http://", "https://", "@import", "url(", "<link", "src=\""})
        EXPECT_FALSE(contains(html, needle)) << needle;
}

TEST(html_report, renders_findings_headlines_domain_and_fail_on) {
    const run_result run = run_with_findings();
    const std::string html = render(run);
    for (const char* needle :
         {"id=\"implementation-verdicts\"", "id=\"findings\"", "<span class=\"badge extreme_inputs\">extreme_inputs</span>",
          "<span class=\"badge accuracy\">accuracy</span>", "<span class=\"badge wrong\">wrong</span>",
          "id=\"finding-1\"", "id=\"finding-3\"", "data-finding=\"extreme_inputs/seed_vectorized/f64\"",
          "Findings (3)", "id=\"input-domain\"", "id=\"fail-on\"", "<span class=\"badge crash\">crash</span>",
          "a logit far below the row&#39;s maximum", "label&#39;s logit ≥ 708.4 below the row maximum",
          "1.3 decimal digits beyond the bound (componentwise margin 42)", "href=\"#finding-1\""})
        EXPECT_TRUE(contains(html, needle)) << needle;
    EXPECT_TRUE(contains(html, html_escape(run.meta.domain_text)));
    // Every implementation's headline, the one that fails the run (naive: wrong) in red.
    ASSERT_EQ(run.summary.implementations.size(), 3u);
    for (const auto& i : run.summary.implementations) EXPECT_TRUE(contains(html, html_escape(i.headline))) << i.headline;
    EXPECT_TRUE(contains(html, "class=\"impl-verdict fail\" data-implementation=\"naive\""));
    EXPECT_TRUE(contains(html, "class=\"impl-verdict flawed\" data-implementation=\"seed_vectorized\""));
    EXPECT_TRUE(contains(html, "class=\"impl-verdict pass\" data-implementation=\"vectorized\""));  // accuracy is not in fail_on
    EXPECT_TRUE(contains(html, "class=\"verdict fail\""));
    // Summary, properties, counterexample and reproduce line of each finding.
    for (const auto& f : run.findings) {
        EXPECT_TRUE(contains(html, html_escape(f.summary))) << f.summary;
        EXPECT_TRUE(contains(html, "<pre class=\"cmd reproduce\">" + html_escape(f.reproduce) + "</pre>")) << f.reproduce;
        for (const auto& p : f.properties) EXPECT_TRUE(contains(html, "<code class=\"prop-name\">" + p + "</code>")) << p;
    }
    EXPECT_TRUE(contains(html, "<pre class=\"counterexample\">" + html_escape(run.findings[0].counterexample) + "</pre>"));
    // Near the top: headlines, then findings, then the per-property matrix (kept).
    const auto verdicts = html.find("id=\"implementation-verdicts\""), findings = html.find("id=\"findings\"");
    EXPECT_LT(verdicts, findings);
    EXPECT_LT(findings, html.find("id=\"summary-matrix\""));
    // Findings of implementations under test come before those of known-flawed specimens.
    EXPECT_LT(html.find("id=\"finding-2\""), html.find("id=\"finding-1\""));
}

TEST(html_report, no_failures_and_no_chart_data_still_render) {
    run_result run = sample_run();
    run.results.erase(run.results.begin() + 1);
    run.diagnostics = {};
    const std::string html = render(run);
    EXPECT_TRUE(contains(html, "id=\"no-failures\""));
    EXPECT_TRUE(contains(html, "id=\"no-findings\""));
    EXPECT_TRUE(contains(html, "id=\"no-charts\""));
}

TEST(diagnostics, stability_curve_shows_the_seed_blow_up) {
    const auto& d = builtin_diagnostics();
    bool seen = false;
    for (const auto& c : d.stability) {
        if (c.prec != precision::f64 || c.label_on != "small") continue;
        ASSERT_EQ(c.magnitude.size(), c.ulps.size());
        for (std::size_t i = 0; i < c.magnitude.size(); ++i) {
            if (c.implementation == "seed_vectorized" && c.magnitude[i] > 746) {
                EXPECT_TRUE(std::isinf(c.ulps[i])) << c.magnitude[i];
            }
            if (c.implementation == "vectorized") {
                EXPECT_LE(c.ulps[i], 4) << c.magnitude[i];
            }
        }
        seen = seen || c.implementation == "seed_vectorized";
    }
    EXPECT_TRUE(seen);
    EXPECT_DOUBLE_EQ(stability_magnitudes(1e300).back(), 1e300);
}

TEST(diagnostics, fd_curve_is_a_v_beside_a_flat_multiprecision_line) {
    const auto& d = builtin_diagnostics();
    ASSERT_EQ(d.fd.size(), 1u);
    const auto& c = d.fd.front();
    ASSERT_EQ(c.step.size(), 15u);
    const auto best = std::min_element(c.double_error.begin(), c.double_error.end());
    // The double curve bottoms out in the middle (≈ 1e−10) and rises at both ends.
    EXPECT_GT(best - c.double_error.begin(), 2);
    EXPECT_LT(best - c.double_error.begin(), 13);
    EXPECT_LT(*best, 1e-8);
    EXPECT_GT(c.double_error.back(), 1e3 * *best);
    for (double e : c.mp_error) EXPECT_LT(e, 1e-40);
}

TEST(diagnostics, cost_is_small) {
    const auto start = std::chrono::steady_clock::now();
    const auto d = compute_diagnostics(builtin_subjects(), {precision::f64, precision::f32});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_FALSE(d.ulp.empty());
    // The budget is 2 s; allow slack for sanitizer builds and a busy machine.
    EXPECT_LT(seconds, 6.0);
    std::cout << "compute_diagnostics: " << seconds << " s\n";
}

TEST(results_json, round_trips_diagnostics_and_loads_older_files) {
    const run_result run = sample_run();
    std::stringstream js;
    write_json(js, run);
    const run_result back = read_json(js);
    ASSERT_EQ(back.diagnostics.ulp.size(), run.diagnostics.ulp.size());
    ASSERT_EQ(back.diagnostics.stability.size(), run.diagnostics.stability.size());
    ASSERT_EQ(back.diagnostics.fd.size(), 1u);
    EXPECT_EQ(back.diagnostics.stability[0].ulps.size(), run.diagnostics.stability[0].ulps.size());
    EXPECT_EQ(back.implementations.size(), run.implementations.size());
    // inf survives as "inf".
    bool has_inf = false;
    for (const auto& c : back.diagnostics.stability)
        for (double e : c.ulps) has_inf = has_inf || std::isinf(e);
    EXPECT_TRUE(has_inf);
    // NaN and −inf come back as themselves, not as +inf.
    run_result odd = run;
    ASSERT_GE(odd.diagnostics.stability[0].ulps.size(), 2u);
    odd.diagnostics.stability[0].ulps[0] = std::numeric_limits<double>::quiet_NaN();
    odd.diagnostics.stability[0].ulps[1] = -std::numeric_limits<double>::infinity();
    std::stringstream js2;
    write_json(js2, odd);
    const run_result odd_back = read_json(js2);
    EXPECT_TRUE(std::isnan(odd_back.diagnostics.stability[0].ulps[0]));
    EXPECT_EQ(odd_back.diagnostics.stability[0].ulps[1], -std::numeric_limits<double>::infinity());
    std::string text = js2.str();
    const auto at = text.find("\"-inf\"");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 6, "\"huge\"");
    std::stringstream bad(text);
    EXPECT_THROW(read_json(bad), std::runtime_error);

    std::stringstream old(R"({"format":"gradproof-results","format_version":1,
        "meta":{"gradproof_version":"0.1.0","date_utc":"d","machine":"m","command_line":"c","seed":1,
                "case_counts":"x","libraries":[]},
        "incomplete":false,"results":[]})");
    const run_result legacy = read_json(old);
    EXPECT_TRUE(legacy.diagnostics.empty());
    EXPECT_TRUE(contains(render(legacy), "id=\"summary-matrix\""));
}

TEST(html_report, merges_two_results_files) {
    run_result a = sample_run();
    run_result b = sample_run();
    b.meta.seed = 99;
    b.meta.command_line = "gradproof verify --shard 1/2";
    b.results = {make_result("naive", "shard_only_property", verdict::pass),
                 make_result("vectorized", "softmax_matches_the_reference", verdict::fail)};
    std::stringstream ja, jb;
    write_json(ja, a);
    write_json(jb, b);
    const run_result ra = read_json(ja), rb = read_json(jb);
    const run_result merged = merge_runs({ra, rb});
    EXPECT_EQ(merged.meta.seed, 7u);  // metadata of the first
    EXPECT_EQ(merged.results.size(), 4u);
    const auto it = std::find_if(merged.results.begin(), merged.results.end(), [](const auto& r) {
        return r.implementation == "vectorized" && r.property == "softmax_matches_the_reference";
    });
    ASSERT_NE(it, merged.results.end());
    EXPECT_EQ(it->status, verdict::fail);  // the worse verdict wins
    EXPECT_EQ(merged.diagnostics.ulp.size(), a.diagnostics.ulp.size());  // no duplicates
    const std::string html = render(merged, {{{"a.json", ra.meta}, {"b.json", rb.meta}}});
    EXPECT_TRUE(contains(html, "id=\"merged-sources\""));
    EXPECT_TRUE(contains(html, "b.json"));
    EXPECT_TRUE(contains(html, "gradproof verify --shard 1/2"));
    EXPECT_TRUE(contains(html, "shard_only_property"));
}

// Two shards with findings: a failure of the first that loses to an error of the second takes its
// finding out with it; the others are renumbered and every result points to its own cause.
TEST(merge_runs, merges_findings_and_remaps_result_indices) {
    run_result a = sample_run(), b = sample_run();
    a.results.clear();
    b.results.clear();
    a.meta.fail_on = {"wrong", "crash"};
    b.meta.fail_on = {"accuracy"};  // the first run's fail_on applies
    const int a_wrong = add_failure(a, make_finding("vectorized", finding_class::wrong, "p1"));
    add_failure(a, make_finding("seed_vectorized", finding_class::extreme_inputs, "p2", true));
    // The ordinary counterpart of a cause found outside the ordinary domain: no result points to it.
    a.findings.push_back(make_finding("seed_vectorized", finding_class::accuracy, "p2", true));
    a.findings.back().id = 2;
    a.findings.back().summary = "the ordinary counterpart";
    add_failure(b, make_finding("naive", finding_class::accuracy, "p3"));
    b.results.push_back(make_result("vectorized", "p1", verdict::pass));  // loses to a's failure
    add_failure(b, make_finding("seed_vectorized", finding_class::crash, "p2", true), verdict::error);  // wins
    ASSERT_EQ(a_wrong, 0);

    const run_result merged = merge_runs({a, b});
    ASSERT_EQ(merged.findings.size(), 4u);
    for (std::size_t k = 0; k < merged.findings.size(); ++k) EXPECT_EQ(merged.findings[k].id, static_cast<int>(k));
    EXPECT_EQ(merged.findings[0].cls, finding_class::wrong);
    EXPECT_EQ(merged.findings[1].summary, "the ordinary counterpart");
    EXPECT_EQ(merged.findings[2].cls, finding_class::accuracy);
    EXPECT_EQ(merged.findings[3].cls, finding_class::crash);
    const auto result = [&](const std::string& impl, const std::string& prop) {
        const auto it = std::find_if(merged.results.begin(), merged.results.end(),
                                     [&](const auto& r) { return r.implementation == impl && r.property == prop; });
        return it == merged.results.end() ? property_result{} : *it;
    };
    ASSERT_EQ(merged.results.size(), 3u);
    EXPECT_EQ(result("vectorized", "p1").status, verdict::fail);
    EXPECT_EQ(result("vectorized", "p1").finding, 0);
    EXPECT_EQ(result("seed_vectorized", "p2").status, verdict::error);
    EXPECT_EQ(result("seed_vectorized", "p2").finding, 3);
    EXPECT_EQ(result("naive", "p3").finding, 2);
    for (const auto& r : merged.results) {
        ASSERT_GE(r.finding, 0);
        EXPECT_EQ(merged.findings[static_cast<std::size_t>(r.finding)].implementation, r.implementation);
        EXPECT_EQ(merged.findings[static_cast<std::size_t>(r.finding)].property, r.property);
    }

    // The summary is recomputed with the first run's fail_on: wrong and crash, not accuracy.
    EXPECT_EQ(merged.summary.findings[static_cast<int>(finding_class::wrong)], 1);
    EXPECT_EQ(merged.summary.findings[static_cast<int>(finding_class::accuracy)], 2);
    EXPECT_EQ(merged.summary.findings[static_cast<int>(finding_class::crash)], 1);
    EXPECT_EQ(merged.summary.findings[static_cast<int>(finding_class::extreme_inputs)], 0);
    EXPECT_TRUE(merged.summary.fails);
    for (const auto& i : merged.summary.implementations)
        EXPECT_EQ(i.fails, i.implementation == "vectorized") << i.implementation << ": " << i.headline;

    // Empty fail_on (results files before findings): every class counts, naive's accuracy too.
    a.meta.fail_on.clear();
    const run_result every = merge_runs({a, b});
    for (const auto& i : every.summary.implementations)
        EXPECT_EQ(i.fails, i.implementation == "vectorized" || i.implementation == "naive") << i.implementation;
    a.meta.fail_on = {"wrong", "everything"};
    EXPECT_THROW(merge_runs({a, b}), std::invalid_argument);
}

TEST(merge_runs, the_same_file_twice_counts_each_finding_once) {
    const run_result run = run_with_findings();
    std::stringstream js;
    write_json(js, run);
    const run_result back = read_json(js);
    const run_result merged = merge_runs({back, back});
    ASSERT_EQ(merged.findings.size(), run.findings.size());
    ASSERT_EQ(merged.results.size(), run.results.size());
    for (std::size_t k = 0; k < run.results.size(); ++k) EXPECT_EQ(merged.results[k].finding, run.results[k].finding);
    for (int c = 0; c < 5; ++c) EXPECT_EQ(merged.summary.findings[c], run.summary.findings[c]) << c;
    EXPECT_EQ(merged.summary.fails, run.summary.fails);
    ASSERT_EQ(merged.summary.implementations.size(), run.summary.implementations.size());
    for (std::size_t k = 0; k < run.summary.implementations.size(); ++k)
        EXPECT_EQ(merged.summary.implementations[k].headline, run.summary.implementations[k].headline);
    // A merged report renders every finding with its class.
    const std::string html = render(merged);
    for (const char* needle : {"badge extreme_inputs", "badge accuracy", "badge wrong", "id=\"finding-3\""})
        EXPECT_TRUE(contains(html, needle)) << needle;
}

TEST(html_report, ten_implementations_stay_under_a_few_megabytes) {
    run_result run = sample_run();
    run.results.clear();
    run.implementations.clear();
    run.diagnostics = {};
    for (int i = 0; i < 10; ++i) {
        const subject& s = builtin_subjects()[static_cast<std::size_t>(i % 3)];
        const std::string name = "impl_" + std::to_string(i);
        implementation_info info = describe_subject(s);
        info.name = name;
        run.implementations.push_back(info);
        for (precision p : {precision::f64, precision::f32})
            for (int k = 0; k < 30; ++k)
                run.results.push_back(make_result(name, "property_" + std::to_string(k), k % 7 ? verdict::pass : verdict::fail, p));
        for (auto u : builtin_diagnostics().ulp)
            if (u.implementation == s.name) {
                u.implementation = name;
                run.diagnostics.ulp.push_back(u);
            }
        for (auto c : builtin_diagnostics().stability)
            if (c.implementation == s.name) {
                c.implementation = name;
                run.diagnostics.stability.push_back(c);
            }
    }
    run.diagnostics.fd = builtin_diagnostics().fd;
    const std::string html = render(run);
    EXPECT_LT(html.size(), 3u * 1024 * 1024);
    std::cout << "10-implementation report: " << html.size() / 1024 << " KiB\n";
}

// The `report` subcommand: bad input is one line on stderr and exit 2; shards merge into one file.
using gradproof::test_support::outcome;
outcome run_cli(const std::string& args) {
    return gradproof::test_support::run_command(std::string(GRADPROOF_BINARY) + " " + args);
}
int lines(const std::string& s) { return gradproof::test_support::line_count(s); }

TEST(report_cli, unreadable_or_malformed_input_is_one_line_and_exit_2) {
    const auto dir = std::filesystem::temp_directory_path() / "gradproof_test_html_cli";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "garbage.json") << "not json at all";
    std::ofstream(dir / "wrong.json") << R"({"format":"gradproof-results","meta":3})";
    for (const std::string& input : {(dir / "missing.json").string(), (dir / "garbage.json").string(), (dir / "wrong.json").string()}) {
        const auto o = run_cli("report " + input + " -o " + (dir / "out.html").string());
        EXPECT_EQ(o.exit_code, 2) << input;
        EXPECT_EQ(lines(o.out), 1) << o.out;
    }
    EXPECT_FALSE(std::filesystem::exists(dir / "out.html"));
    EXPECT_EQ(run_cli("report").exit_code, 2);
}

TEST(report_cli, merges_shards_into_one_report) {
    const auto dir = std::filesystem::temp_directory_path() / "gradproof_test_html_cli";
    std::filesystem::create_directories(dir);
    run_result a = sample_run(), b = sample_run();
    b.results = {make_result("naive", "shard_two_property", verdict::pass)};
    {
        std::ofstream fa(dir / "shard0.json"), fb(dir / "shard1.json");
        write_json(fa, a);
        write_json(fb, b);
    }
    const auto html_path = dir / "merged.html";
    std::filesystem::remove(html_path);
    const auto o = run_cli("report " + (dir / "shard0.json").string() + " " + (dir / "shard1.json").string() + " -o " +
                           html_path.string());
    ASSERT_EQ(o.exit_code, 0) << o.out;
    EXPECT_NE(o.out.find(html_path.string()), std::string::npos);
    std::ifstream f(html_path);
    std::stringstream ss;
    ss << f.rdbuf();
    EXPECT_TRUE(contains(ss.str(), "shard_two_property"));
    EXPECT_TRUE(contains(ss.str(), "id=\"merged-sources\""));
}

}  // namespace
