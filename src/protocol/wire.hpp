// The gradproof subprocess protocol, version 1: how gradproof talks to an implementation in
// another process (a plug-in's worker, or any program given with --exec).
//
// Every message is a header line — one JSON object, UTF-8, terminated by '\n', at most 64 KiB —
// followed by exactly header["bytes"] bytes of payload (0 when absent). Payloads are raw
// little-endian arrays (IEEE-754 binary64/binary32 for "f64"/"f32", int32 for labels),
// concatenated in the order listed for each op, so every bit pattern (NaN payloads, ±inf, −0.0,
// subnormals) crosses exactly. The README documents the ops with a complete example.
#pragma once

#include <nlohmann/json.hpp>

#include <bit>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace gradproof::protocol {

static_assert(std::endian::native == std::endian::little, "the wire format is little-endian");

inline constexpr int version = 1;
inline constexpr std::size_t max_header_bytes = 64 * 1024;

struct protocol_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// The peer closed the stream before sending a single byte of a message.
struct eof_error : protocol_error {
    using protocol_error::protocol_error;
};
struct timeout_error : protocol_error {
    using protocol_error::protocol_error;
};

using deadline = std::chrono::steady_clock::time_point;

struct message {
    nlohmann::json header;
    std::string payload;
};

// Writes one whole message (blocking; EPIPE and friends throw protocol_error).
void write_message(int fd, const nlohmann::json& header, std::string_view payload = {},
                   std::optional<deadline> until = std::nullopt);

// Reads one message, giving up at the deadline. A header that is not a JSON object, longer
// than max_header_bytes, or a payload larger than max_payload or cut short, throws
// protocol_error; nothing is allocated before the declared size has been checked.
message read_message(int fd, std::optional<deadline> until, std::uint64_t max_payload);

template <class T>
void append(std::string& payload, const T* data, std::size_t count) {
    payload.append(reinterpret_cast<const char*>(data), count * sizeof(T));
}

// Copies `count` elements of T out of the payload at `offset`, advancing it; throws
// protocol_error when the payload is too short.
template <class T>
void extract(const std::string& payload, std::size_t& offset, T* out, std::size_t count) {
    const std::size_t bytes = count * sizeof(T);
    if (count != 0 && (bytes / sizeof(T) != count || offset + bytes > payload.size() || offset + bytes < offset))
        throw protocol_error("payload too short");
    if (bytes) std::memcpy(out, payload.data() + offset, bytes);
    offset += bytes;
}

}  // namespace gradproof::protocol
