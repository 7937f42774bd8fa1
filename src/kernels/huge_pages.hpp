// Fresh large outputs on transparent huge pages.
//
// Why. vectorized::softmax_loss returns a new dS (N×C) and dW (D×C) from every call, and a fused
// call that resizes its `out` allocates them anew. Large blocks come from malloc as fresh mmap'ed
// memory, so the kernel's first write to each 4 KiB page takes a page fault that maps and zeroes
// it: at (64, 512, 50257) in double, dW alone is 206 MB, ≈ 50 000 faults and ≈ 48 ms of a 157 ms
// call (the whole difference between the README's `vectorized` and `vectorized_into` rows before
// this). Advised with MADV_HUGEPAGE before anything writes it, the range is mapped in 2 MiB pages,
// 512 times fewer faults: first-touching 206 MB took 78 ms with 4 KiB pages and 17.5 ms with
// huge pages on the README's machine (Linux 6.18, THP "madvise" mode, Debian's default).
// Only an advice: where THP is off ("never"), unsupported, or not Linux, nothing changes. With the
// defrag setting "madvise" (also the default) the kernel may compact memory on such a fault, a
// one-time stall (≈ 0.4 s once on that machine) that later calls do not pay: freed huge pages are
// reused.
#pragma once

#include "core/matrix.hpp"

#include <cstddef>

namespace gradproof::detail {

// Outputs smaller than this are left alone: the range must hold at least one whole 2 MiB page
// after its start is rounded up to a page boundary, and below a few MiB the faults are cheap.
inline constexpr std::size_t huge_page_min_bytes = std::size_t(8) << 20;

// Asks for transparent huge pages over the whole pages inside [p, p + bytes); does nothing when
// bytes < huge_page_min_bytes. Never fails: an advice the system refuses changes nothing.
void advise_huge_pages(void* p, std::size_t bytes) noexcept;

// m.resize(rows, cols) (storage kept when the element count is unchanged, as Eigen does); new
// storage is advised with advise_huge_pages before anything writes it.
template <class T>
void resize_output(matrix<T>& m, Eigen::Index rows, Eigen::Index cols) {
    const bool fresh = m.size() != rows * cols;
    m.resize(rows, cols);
    if (fresh) advise_huge_pages(m.data(), static_cast<std::size_t>(m.size()) * sizeof(T));
}

}  // namespace gradproof::detail
