// The terminal table of `gradproof bench` (bench/report.hpp): each median in a unit that keeps
// three significant figures, from nanoseconds (the tiny shape) to seconds.
#include "bench/report.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

using namespace gradproof::bench;

namespace {

bench_result one_row(double median_seconds) {
    bench_result r;
    r.threads = 2;
    r.repetitions = 5;
    impl_row row;
    row.s = shape{8, 16, 4};
    row.implementation = "vectorized";
    row.dtype = "f64";
    row.measured = true;
    row.t.median_seconds = row.t.min_seconds = row.t.max_seconds = median_seconds;
    row.t.repetitions = 5;
    r.rows.push_back(row);
    return r;
}

std::string table_for(double median_seconds) {
    std::ostringstream os;
    write_bench_table(os, one_row(median_seconds));
    return os.str();
}

}  // namespace

TEST(bench_report, medians_keep_their_digits_at_every_scale) {
    EXPECT_NE(table_for(207.64e-9).find("207.6 ns"), std::string::npos) << table_for(207.64e-9);
    EXPECT_NE(table_for(552.2e-6).find("552.2 µs"), std::string::npos);
    EXPECT_NE(table_for(8.743e-3).find("8.74 ms"), std::string::npos);
    EXPECT_NE(table_for(4.54).find("4.54 s"), std::string::npos);
}
