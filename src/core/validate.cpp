#include "core/validate.hpp"

#include <unistd.h>

namespace gradproof::detail {

void throw_invalid(const std::string& argument, const std::string& why) {
    throw std::invalid_argument(argument + ": " + why);
}

void check_work_size(const std::string& argument, std::int64_t rows, std::int64_t cols, std::size_t elem_bytes,
                     const std::string& what) {
    if (rows < 0 || cols < 0) throw_invalid(argument, what + " would have negative dimensions");
    std::int64_t elements = 0, bytes = 0;
    if (__builtin_mul_overflow(rows, cols, &elements) ||
        __builtin_mul_overflow(elements, static_cast<std::int64_t>(elem_bytes), &bytes))
        throw_invalid(argument, what + " (" + std::to_string(rows) + "×" + std::to_string(cols) +
                                    " elements) would overflow a 64-bit size");
    // Queried once per process: a system call on every entry-point call showed up in the per-call
    // overhead of small shapes, and the machine's physical memory does not change during a run.
    static const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0 && bytes / page > pages)
        throw_invalid(argument, what + " (" + std::to_string(rows) + "×" + std::to_string(cols) + " elements, " +
                                    std::to_string(bytes) + " bytes) would exceed the machine's physical memory");
}

}  // namespace gradproof::detail
