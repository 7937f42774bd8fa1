// Fuzzes the results JSON loader used by `gradproof report` (read_json in src/report/json.cpp).
// Malformed input must throw std::runtime_error (one line, exit 2 in the CLI), nothing else; an
// accepted file must survive a write/read round trip unchanged.
#include "report/reporters.hpp"

#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    gradproof::run_result run;
    try {
        run = gradproof::read_json(in);
    } catch (const std::runtime_error&) {
        return 0;
    }
    std::ostringstream once;
    gradproof::write_json(once, run);
    std::istringstream again(once.str());
    std::ostringstream twice;
    gradproof::write_json(twice, gradproof::read_json(again));  // must not throw
    if (once.str() != twice.str()) std::abort();
    return 0;
}
