// thread_scratch (kernels/scratch.hpp): memory kept between calls per thread, never shared by two
// live users.
#include "kernels/scratch.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace gradproof::detail {
namespace {

TEST(thread_scratch, a_second_call_on_the_same_thread_gets_the_kept_memory_back) {
    const double* first = nullptr;
    {
        const thread_scratch<double, scratch_tag::narrow_wt> a(1000);
        first = a.data();
        a.data()[999] = 1.0;  // the whole request is usable
    }
    const thread_scratch<double, scratch_tag::narrow_wt> b(500);  // smaller: the kept block serves it
    EXPECT_EQ(b.data(), first);
}

TEST(thread_scratch, two_live_users_of_one_tag_never_share_memory) {
    const thread_scratch<float, scratch_tag::narrow_wt> outer(256);
    const thread_scratch<float, scratch_tag::narrow_wt> inner(256);  // re-entry: memory of its own
    EXPECT_NE(outer.data(), inner.data());
    outer.data()[0] = 1.0f;
    inner.data()[0] = 2.0f;
    EXPECT_EQ(outer.data()[0], 1.0f);
}

TEST(thread_scratch, other_threads_keep_memory_of_their_own) {
    const double* here = nullptr;
    {
        const thread_scratch<double, scratch_tag::narrow_accumulators> s(64);
        here = s.data();
    }  // released: only a buffer kept per process, not per thread, would now go to the other thread
    const double* there = nullptr;
    std::thread([&] {
        const thread_scratch<double, scratch_tag::narrow_accumulators> s(64);
        there = s.data();
    }).join();
    EXPECT_NE(there, here);
}

TEST(thread_scratch, requests_above_the_kept_limit_are_not_kept) {
    const std::size_t big = max_kept_scratch_bytes / sizeof(double) + 1;
    const double* kept = nullptr;
    {
        const thread_scratch<double, scratch_tag::row_split_accumulators> small(16);
        kept = small.data();
    }
    {
        const thread_scratch<double, scratch_tag::row_split_accumulators> large(big);
        large.data()[big - 1] = 3.0;
        EXPECT_NE(large.data(), kept);
    }
    const thread_scratch<double, scratch_tag::row_split_accumulators> again(16);
    EXPECT_EQ(again.data(), kept);  // the kept block was not replaced by the large one
}

TEST(thread_scratch, types_that_own_memory_are_never_kept) {
    {
        const thread_scratch<std::string, scratch_tag::narrow_wt> a(4);
        a.data()[3] = std::string(100, 'x');  // owns heap memory: freed with the scratch
    }
    const thread_scratch<std::string, scratch_tag::narrow_wt> b(4);
    EXPECT_TRUE(b.data()[3].empty());  // constructed afresh
}

}  // namespace
}  // namespace gradproof::detail
