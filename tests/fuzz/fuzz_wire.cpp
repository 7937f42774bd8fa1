// Fuzzes the subprocess protocol reader (src/protocol/wire.cpp) with the byte stream a peer would
// send: messages are read until the stream ends or is rejected. Every outcome must be a message or
// a protocol_error; no message may hold more payload than was sent, and a header claiming a huge
// payload must not allocate it (libFuzzer's malloc limit turns such an allocation into a crash).
#include "protocol/wire.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace gradproof::protocol;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return 0;
    // The whole input must fit in the pipe before anything reads it (inputs stay below 1 MiB).
    ::fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
    std::size_t done = 0;
    while (done < size) {
        const ssize_t w = ::write(fds[1], data + done, size - done);
        if (w <= 0) break;
        done += static_cast<std::size_t>(w);
    }
    ::close(fds[1]);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (int i = 0; i < 64; ++i) {
        try {
            // The worker's bound (2^40): only the incremental growth keeps this from allocating.
            const message m = read_message(fds[0], until, std::uint64_t{1} << 40);
            if (m.payload.size() > done || !m.header.is_object()) std::abort();
        } catch (const protocol_error&) {
            break;  // eof_error, timeout_error and malformed input all end the stream
        }
    }
    ::close(fds[0]);
    return 0;
}
