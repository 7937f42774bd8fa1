// Reporters render one run_result to an injected stream (google/benchmark style): the
// terminal table, JSON (the data HTML reports are rendered from), and JUnit XML for CI systems.
#pragma once

#include "runner/result.hpp"

#include <iosfwd>
#include <string>

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

}  // namespace gradproof
