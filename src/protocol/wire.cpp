#include "protocol/wire.hpp"

#include <algorithm>
#include <cerrno>
#include <poll.h>
#include <unistd.h>

namespace gradproof::protocol {

namespace {

int remaining_ms(const std::optional<deadline>& until) {
    if (!until) return -1;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*until - std::chrono::steady_clock::now());
    return left.count() <= 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), 1 << 30));
}

// Waits until fd is ready for `events`; throws timeout_error past the deadline.
void wait_ready(int fd, short events, const std::optional<deadline>& until) {
    for (;;) {
        pollfd p{fd, events, 0};
        const int ms = remaining_ms(until);
        const int r = ::poll(&p, 1, ms);
        if (r > 0) return;
        if (r == 0) throw timeout_error("no answer before the deadline");
        if (errno != EINTR) throw protocol_error(std::string("poll failed: ") + std::strerror(errno));
    }
}

// Reads up to n bytes; returns 0 at end of stream.
std::size_t read_some(int fd, char* buf, std::size_t n, const std::optional<deadline>& until) {
    for (;;) {
        wait_ready(fd, POLLIN, until);
        const ssize_t r = ::read(fd, buf, n);
        if (r >= 0) return static_cast<std::size_t>(r);
        if (errno != EINTR && errno != EAGAIN) throw protocol_error(std::string("read failed: ") + std::strerror(errno));
    }
}

}  // namespace

void write_message(int fd, const nlohmann::json& header, std::string_view payload, std::optional<deadline> until) {
    nlohmann::json h = header;
    h["bytes"] = payload.size();
    std::string data = h.dump();
    data += '\n';
    data.append(payload);
    std::size_t done = 0;
    while (done < data.size()) {
        wait_ready(fd, POLLOUT, until);
        const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            throw protocol_error(std::string("write failed: ") + std::strerror(errno));
        }
        done += static_cast<std::size_t>(w);
    }
}

message read_message(int fd, std::optional<deadline> until, std::uint64_t max_payload) {
    std::string line;
    char ch = 0;
    // Byte by byte: the header is short, and nothing of the payload may be consumed here.
    for (;;) {
        const std::size_t r = read_some(fd, &ch, 1, until);
        if (r == 0) {
            if (line.empty()) throw eof_error("the stream ended");
            throw protocol_error("the stream ended inside a header line");
        }
        if (ch == '\n') break;
        line.push_back(ch);
        if (line.size() > max_header_bytes) throw protocol_error("header line longer than 64 KiB");
    }
    message m;
    try {
        m.header = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
        const std::string shown = line.substr(0, 80);
        throw protocol_error("header is not JSON: '" + shown + (line.size() > 80 ? "…'" : "'"));
    }
    if (!m.header.is_object()) throw protocol_error("header is not a JSON object");
    std::uint64_t bytes = 0;
    if (m.header.contains("bytes")) {
        const auto& b = m.header["bytes"];
        if (!b.is_number_unsigned()) throw protocol_error("header field 'bytes' is not a non-negative integer");
        bytes = b.get<std::uint64_t>();
    }
    if (bytes > max_payload)
        throw protocol_error("payload of " + std::to_string(bytes) + " bytes exceeds the expected " + std::to_string(max_payload));
    // The buffer grows with the bytes that actually arrive (at most 1 MiB ahead of them): a header
    // claiming a huge payload allocates nothing until its data is really sent.
    constexpr std::uint64_t chunk = std::uint64_t{1} << 20;
    m.payload.reserve(static_cast<std::size_t>(std::min(bytes, chunk)));
    while (m.payload.size() < bytes) {
        const std::size_t got = m.payload.size();
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(bytes - got, chunk));
        m.payload.resize(got + want);
        const std::size_t r = read_some(fd, m.payload.data() + got, want, until);
        m.payload.resize(got + r);
        if (r == 0)
            throw protocol_error("payload truncated: " + std::to_string(got) + " of " + std::to_string(bytes) + " bytes");
    }
    return m;
}

}  // namespace gradproof::protocol
