// thread_scratch: a kernel's temporaries, kept between calls on the calling thread.
//
// Why. The fused kernels need Wᵀ and per-chunk accumulators on every call.
// From malloc, a freed block at the top of the heap goes back to the system once the free space
// there passes glibc's trim threshold (128 KiB until a larger mmap'ed block is freed), and the next
// call page-faults on every 4 KiB page of it again. On a 2-vCPU VM (AMD EPYC, Linux 6.18) a fault
// costs ≈ 6 µs: at (32, 3073, 10) in float that was ≈ 380 µs of a 434 µs call (50 µs with the
// trim threshold raised). Kept buffers are faulted in once.
//
// Memory: each (T, tag) keeps one buffer per thread that used it, as large as the largest request
// up to max_kept_scratch_bytes; a larger request is served and freed as before (it is mmap'ed, and its
// faults are small against the work of a problem that size).
//
// Contents are not initialised: a caller writes every element it reads. A second live
// thread_scratch of the same (T, tag) on a thread (re-entry) gets memory of its own, and so does
// every request for a type that is not trivially copyable (multiprecision numbers carry a
// precision and own memory: nothing of theirs outlives the call).
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <type_traits>
#include <vector>

namespace gradproof::detail {

inline constexpr std::size_t max_kept_scratch_bytes = std::size_t(16) << 20;

// Which temporary a scratch buffer holds: one kept buffer per tag (and type) and thread.
enum class scratch_tag { narrow_wt, narrow_accumulators, row_split_accumulators };

template <class T, scratch_tag Tag>
class thread_scratch {
public:
    explicit thread_scratch(std::size_t count) {
        state& s = local();
        if (!std::is_trivially_copyable_v<T> || s.in_use || count * sizeof(T) > max_kept_scratch_bytes) {
            own_.resize(count);
            data_ = own_.data();
            return;
        }
        if (s.buffer.size() < count) {
            s.buffer = buffer_type();  // release first: the old and the new block never coexist
            s.buffer.resize(count);
        }
        s.in_use = true;
        kept_ = &s;
        data_ = s.buffer.data();
    }
    ~thread_scratch() {
        if (kept_ != nullptr) kept_->in_use = false;
    }
    thread_scratch(const thread_scratch&) = delete;
    thread_scratch& operator=(const thread_scratch&) = delete;

    T* data() const { return data_; }

private:
    using buffer_type = std::vector<T, Eigen::aligned_allocator<T>>;
    struct state {
        buffer_type buffer;
        bool in_use = false;
    };
    static state& local() {
        thread_local state s;
        return s;
    }

    buffer_type own_;
    state* kept_ = nullptr;
    T* data_ = nullptr;
};

}  // namespace gradproof::detail
