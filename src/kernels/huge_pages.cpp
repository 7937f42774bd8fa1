#include "kernels/huge_pages.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#include <cstdint>

namespace gradproof::detail {

void advise_huge_pages(void* p, std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (p == nullptr || bytes < huge_page_min_bytes) return;
    const long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) return;
    const auto mask = static_cast<std::uintptr_t>(page) - 1;
    const auto begin = (reinterpret_cast<std::uintptr_t>(p) + mask) & ~mask;
    const auto end = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~mask;
    if (end <= begin) return;
    // The result is deliberately ignored: EINVAL (THP not built in) or ENOMEM leave the ordinary
    // pages, which are correct, only slower to fault in.
    (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

}  // namespace gradproof::detail
