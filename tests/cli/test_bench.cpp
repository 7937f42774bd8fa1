// gradproof bench: a quick run succeeds and writes JSON with every field of the table; a missing
// peer degrades to "n/a" with its reason; bad options are one line and exit 2. Speed is never
// asserted.
#include "support/run_command.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace {

using gradproof::test_support::outcome;

outcome run(const std::string& args) { return gradproof::test_support::run_command(std::string(GRADPROOF_BINARY) + " " + args); }

TEST(bench_cli, quick_run_writes_the_table_and_json) {
    const auto dir = std::filesystem::temp_directory_path() / "gradproof_test_bench";
    std::filesystem::create_directories(dir);
    const auto json_path = dir / "bench.json";
    std::filesystem::remove(json_path);
    const auto o = run("bench --quick -q --shapes 8x16x4 --certify-shape 12x20x4 --fused-shapes 4x8x16 "
                       "--certify-fused-shape 6x10x30 "
                       "--torch-peer /nonexistent/torch_peer --json " + json_path.string());
    ASSERT_EQ(o.exit_code, 0) << o.out;
    EXPECT_NE(o.out.find("vectorized f64"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("torch: n/a"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("certify full gradient"), std::string::npos) << o.out;

    std::ifstream f(json_path);
    const auto j = nlohmann::json::parse(f);
    for (const char* k : {"cpu_model", "logical_cpus", "threads", "read_gb_per_s", "gemm_f64_gflops", "gemm_f32_gflops", "date_utc",
                          "kernel_isa"})
        EXPECT_TRUE(j.at("machine").contains(k)) << k;
    EXPECT_GT(j["machine"]["read_gb_per_s"].get<double>(), 0);
    // vectorized, vectorized_into (reused outputs) and naive in f64; vectorized and vectorized_into in f32.
    ASSERT_EQ(j.at("rows").size(), 5u);
    std::vector<std::string> names;
    for (const auto& row : j["rows"]) names.push_back(row["implementation"].get<std::string>() + " " + row["dtype"].get<std::string>());
    EXPECT_EQ(names, (std::vector<std::string>{"vectorized f64", "vectorized_into f64", "naive f64", "vectorized f32",
                                               "vectorized_into f32"}));
    for (const auto& row : j["rows"]) {
        for (const char* k : {"n", "d", "c", "implementation", "dtype", "median_seconds", "gflops", "gb_per_s",
                              "ratio_to_bandwidth_bound", "ratio_to_compute_bound", "numpy_seconds", "torch_seconds",
                              "speedup_vs_numpy", "speedup_vs_torch"})
            EXPECT_TRUE(row.contains(k)) << k;
        EXPECT_TRUE(row["measured"].get<bool>());
        EXPECT_GT(row["median_seconds"].get<double>(), 0);
        EXPECT_TRUE(row["torch_seconds"].is_null());
    }
    // The fused linear cross-entropy rows: vectorized f64 and f32 at (4, 8, 16).
    ASSERT_EQ(j.at("fused_rows").size(), 2u);
    for (const auto& row : j["fused_rows"]) {
        EXPECT_EQ(row["v"].get<int>(), 16);
        EXPECT_TRUE(row["measured"].get<bool>());
        EXPECT_GT(row["median_seconds"].get<double>(), 0);
        EXPECT_DOUBLE_EQ(row["flops"].get<double>(), 6.0 * 4 * 8 * 16);
        EXPECT_TRUE(row["torch_seconds"].is_null());
    }
    EXPECT_NE(o.out.find("fused linear cross-entropy"), std::string::npos) << o.out;
    ASSERT_EQ(j.at("peers").size(), 2u);
    EXPECT_FALSE(j["peers"][1]["available"].get<bool>());
    EXPECT_NE(j["peers"][1]["reason"].get<std::string>().find("not found"), std::string::npos);
    const auto& c = j.at("certify");
    EXPECT_TRUE(c["ran"].get<bool>());
    EXPECT_TRUE(c["passed"].get<bool>());
    EXPECT_EQ(c["elements"].get<int>(), 80);
    EXPECT_EQ(c["fd_checks"].size(), 8u);
    EXPECT_TRUE(c.contains("gradcheck"));
    EXPECT_TRUE(c.contains("max_enclosure_width_ulps"));
    // Every element of the fused result, f64 and f32: 1 loss + 6·10 + 30·10 + 30 bias.
    const auto& fc = j.at("certify_fused");
    EXPECT_TRUE(fc["ran"].get<bool>());
    EXPECT_EQ(fc["v"].get<int>(), 30);
    ASSERT_EQ(fc["results"].size(), 2u);
    for (const auto& r : fc["results"]) {
        EXPECT_TRUE(r["passed"].get<bool>()) << r.dump();
        EXPECT_EQ(r["elements"].get<int>(), 1 + 60 + 300 + 30);
        ASSERT_EQ(r["parts"].size(), 4u);
        for (const auto& p : r["parts"]) EXPECT_LE(p["worst_margin"].get<double>(), 1.0);
    }
    EXPECT_EQ(fc["results"][1]["dtype"].get<std::string>(), "f32");
    // Its own certificate each: error-free products for the double result, a-priori ones for float.
    auto stages_of = [&](std::size_t k) { return fc["results"][k]["stages"].dump(); };
    EXPECT_TRUE(fc["results"][0].contains("certificate_seconds"));
    EXPECT_NE(stages_of(0).find("error-free split GEMMs"), std::string::npos) << stages_of(0);
    EXPECT_NE(stages_of(1).find("a-priori bounds"), std::string::npos) << stages_of(1);
    EXPECT_NE(o.out.find("certify fused linear cross-entropy (6, 10, 30)"), std::string::npos) << o.out;
}

// GRADPROOF_ISA selects the kernel build (and the build of the GEMM bound) for the process; an
// unknown value falls back to the best available instead of failing.
TEST(bench_cli, gradproof_isa_selects_the_kernel_build) {
    // Built with append: GCC 12's -O3 -Wrestrict misfires on "literal" + std::string&&.
    std::string args = " ";
    // --fused-shapes "" turns the fused rows off.
    args.append(GRADPROOF_BINARY).append(" bench --quick -q --shapes 8x16x4 --fused-shapes \"\" --no-certify --no-peers");
    const std::string portable_env = "GRADPROOF_ISA=portable", unknown_env = "GRADPROOF_ISA=sse9";
    const auto portable = gradproof::test_support::run_command(portable_env + args);
    ASSERT_EQ(portable.exit_code, 0) << portable.out;
    EXPECT_NE(portable.out.find("kernel build: portable"), std::string::npos) << portable.out;
    EXPECT_EQ(portable.out.find("\nfused linear cross-entropy (vectorized"), std::string::npos) << portable.out;
    const auto unknown = gradproof::test_support::run_command(unknown_env + args);
    ASSERT_EQ(unknown.exit_code, 0) << unknown.out;
    EXPECT_NE(unknown.out.find("kernel build: "), std::string::npos) << unknown.out;
}

TEST(bench_cli, bad_options_are_one_line_and_exit_2) {
    for (const char* args : {"bench --shapes 8x16", "bench --shapes 0x1x1", "bench --repetitions 0",
                             "bench --threads 0", "bench --no-such-option", "bench --certify-shape 1x2x3x4",
                             "bench --fused-shapes 4x8", "bench --certify-fused-shape 4x0x2",
                             "bench --quick --no-peers --no-certify --shapes 2x2x2 --json /nonexistent/dir/b.json"}) {
        const auto o = run(args);
        EXPECT_EQ(o.exit_code, 2) << args << "\n" << o.out;
        EXPECT_EQ(gradproof::test_support::line_count(o.out), 1) << args << "\n" << o.out;
    }
}

}  // namespace
