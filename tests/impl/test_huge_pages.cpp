// Fresh large outputs on transparent huge pages (kernels/huge_pages.hpp): resize_output advises new
// storage of huge_page_min_bytes or more (seen in /proc/self/smaps as the VmFlags entry "hg" of
// its mapping), keeps storage whose size is unchanged, and advise_huge_pages accepts anything.
#include "kernels/huge_pages.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

using namespace gradproof;

namespace {

// The VmFlags of the mapping holding address a, from /proc/self/smaps; nullopt if not found.
std::optional<std::string> vm_flags_of(const void* a) {
    std::ifstream smaps("/proc/self/smaps");
    if (!smaps) return std::nullopt;
    const auto addr = reinterpret_cast<std::uintptr_t>(a);
    bool inside = false;
    std::string line;
    while (std::getline(smaps, line)) {
        std::uintptr_t lo = 0, hi = 0;
        char dash = 0;
        std::istringstream head(line);
        if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
            inside = lo <= addr && addr < hi;
            continue;
        }
        if (inside && line.rfind("VmFlags:", 0) == 0) return line.substr(8);
    }
    return std::nullopt;
}

// Transparent huge pages can be asked for here: "[always]" or "[madvise]" selected.
bool thp_available() {
    std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string s;
    std::getline(f, s);
    return s.find("[always]") != std::string::npos || s.find("[madvise]") != std::string::npos;
}

bool has_flag(const std::string& flags, const std::string& flag) {
    std::istringstream in(flags);
    std::string f;
    while (in >> f)
        if (f == flag) return true;
    return false;
}

}  // namespace

TEST(huge_pages, a_fresh_large_output_is_advised_before_it_is_written) {
    if (!thp_available()) GTEST_SKIP() << "transparent huge pages are off on this system";
    matrix<double> m;
    // 32 MiB: above glibc's largest mmap threshold, so the block is a mapping of its own.
    detail::resize_output(m, 2048, 2048);
    const auto flags = vm_flags_of(m.data() + m.size() / 2);
    ASSERT_TRUE(flags.has_value()) << "no mapping found in /proc/self/smaps";
    EXPECT_TRUE(has_flag(*flags, "hg")) << "VmFlags:" << *flags;
    EXPECT_EQ(m.rows(), 2048);
    EXPECT_EQ(m.cols(), 2048);
}

TEST(huge_pages, an_output_of_unchanged_size_keeps_its_storage) {
    matrix<float> m(300, 10);
    m.setConstant(1.5f);
    const float* before = m.data();
    detail::resize_output(m, 10, 300);
    EXPECT_EQ(m.data(), before);
    EXPECT_EQ(m.rows(), 10);
    EXPECT_EQ(m(9, 299), 1.5f);
    detail::resize_output(m, 7, 7);
    EXPECT_EQ(m.size(), 49);
}

TEST(huge_pages, advice_on_any_range_is_harmless) {
    detail::advise_huge_pages(nullptr, std::size_t(1) << 30);
    alignas(64) static char small[4096];
    detail::advise_huge_pages(small, sizeof small);  // below the threshold: nothing
    small[0] = 1;
    EXPECT_EQ(small[0], 1);
    // A range that starts and ends mid-page and holds no whole huge page once rounded.
    std::string big(detail::huge_page_min_bytes + 1000, 'x');
    detail::advise_huge_pages(big.data() + 3, big.size() - 6);
    EXPECT_EQ(big[big.size() / 2], 'x');
}
