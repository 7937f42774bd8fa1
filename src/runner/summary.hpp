// The run summary: counts, verdict and the top line of every implementation, computed once from
// the results and findings; every reporter renders it, none re-derives it.
#pragma once

#include "runner/result.hpp"

#include <string_view>
#include <vector>

namespace gradproof {

run_summary summarize(const run_result& run, const std::vector<finding_class>& fail_on);

// Parses "wrong,accuracy,crash" (or "all"); throws std::invalid_argument naming `what`.
std::vector<finding_class> parse_finding_classes(std::string_view text, const char* what);
finding_class finding_class_from(std::string_view text);  // throws std::invalid_argument

}  // namespace gradproof
