// Reporters of `gradproof bench`: the one terminal table and the JSON document, both rendering the
// same bench_result and writing to an injected stream (as the reporters of src/report/).
#pragma once

#include "bench/run.hpp"

#include <iosfwd>

namespace gradproof::bench {

void write_bench_table(std::ostream& os, const bench_result& r);
void write_bench_json(std::ostream& os, const bench_result& r);

}  // namespace gradproof::bench
