// Reporters render one run_result to an injected stream (google/benchmark style): the
// terminal table, JSON (the data HTML reports are rendered from), and JUnit XML for CI systems.
#pragma once

#include "runner/result.hpp"

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace gradproof {

struct terminal_options {
    bool color = false;
    bool show_not_applicable = false;
};

void write_terminal(std::ostream& os, const run_result& run, const terminal_options& opt = {});
// One progress line for a finished property run.
void write_progress_line(std::ostream& os, const property_result& r);

void write_json(std::ostream& os, const run_result& run);
run_result read_json(std::istream& is);  // inverse of write_json (throws std::runtime_error)

void write_junit(std::ostream& os, const run_result& run);

// Writes via a temporary file renamed into place, so a reader never sees a partial file.
// Throws std::runtime_error naming the path when it cannot be written.
void write_file_atomically(const std::string& path, const std::string& content);

std::string xml_escape(const std::string& s);

// HTML report (report/html_page.cpp, charts in report/html_charts.cpp), rendered from the Mustache
// templates in reports/, which are embedded into the binary at build time.
struct report_source {
    std::string path;   // a results file that went into a merged report
    run_metadata meta;  // its own metadata (the report header shows the first one's)
};
struct html_options {
    std::vector<report_source> sources;  // noted in the header when there are two or more
};
void write_html(std::ostream& os, const run_result& run, const html_options& opt = {});

// The one escaping function for every string in an HTML report: the template engine's {{name}}
// substitutions are routed through it. Escapes & < > " ' so the result is safe in text and in
// quoted attribute values.
std::string html_escape(std::string_view s);

// Merges results files (e.g. shards of one CI run) into one run (report/merge.cpp): metadata of the
// first; results, implementations, findings and chart data are the union. Of two results for the
// same implementation, precision and property the worse verdict wins (fail/error over pass over
// n/a), together with the finding it points to; findings are renumbered and a finding that only
// explained results which lost that way is dropped, so overlapping files do not count a cause twice.
// The summary is recomputed against the first run's fail_on (empty: every class). Throws
// std::invalid_argument for no runs or an unknown finding class in fail_on.
run_result merge_runs(const std::vector<run_result>& runs);

namespace detail {
// The order in which the worse of two results for one cell wins (merge_runs, the report's matrix).
inline int verdict_rank(verdict v) {
    switch (v) {
        case verdict::error: return 3;
        case verdict::fail: return 2;
        case verdict::pass: return 1;
        case verdict::not_applicable: return 0;
    }
    return 0;
}
}  // namespace detail

}  // namespace gradproof
