#pragma once
// The RTMP chunk stream: messages are split into chunks with compressed headers (fmt 0-3)
// on numbered chunk streams. ChunkParser turns received bytes back into whole messages;
// write_message() does the reverse. Both are pure (no sockets), so they are unit tested and
// fuzzed on their own. Memory is bounded by ChunkLimits whatever the peer sends.
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace harvest::media::rtmp {

// Message type ids (RTMP spec 5.4 and 7.1).
enum MessageType : uint8_t {
  kSetChunkSize = 1,
  kAbort = 2,
  kAcknowledgement = 3,
  kUserControl = 4,
  kWindowAckSize = 5,
  kSetPeerBandwidth = 6,
  kAudio = 8,
  kVideo = 9,
  kDataAmf3 = 15,
  kCommandAmf3 = 17,
  kDataAmf0 = 18,
  kCommandAmf0 = 20,
  kAggregate = 22,
};

struct RtmpMessage {
  uint32_t chunk_stream = 0;
  uint8_t type = 0;
  uint32_t stream_id = 0;
  uint32_t timestamp = 0;  // ms; 32-bit and wrapping, as on the wire
  std::string payload;
};

struct ChunkLimits {
  uint32_t max_chunk_size = 0xFFFFFF;          // the largest the spec allows; 0 and above are refused
  size_t max_message_bytes = 8 * 1024 * 1024;  // one video keyframe of a 20 Mbps stream fits
  size_t max_buffered_bytes = 16 * 1024 * 1024;  // partial messages over all chunk streams
  size_t max_chunk_streams = 64;
};

class ChunkParser {
public:
  enum class Error {
    none,
    bad_chunk_size,        // Set Chunk Size of 0 or above the limit
    message_too_large,     // a message header announces more than max_message_bytes
    buffer_limit,          // partial messages would exceed max_buffered_bytes
    too_many_chunk_streams,
    no_previous_header,    // fmt 1-3 on a chunk stream that never had a fmt 0 header
  };

  explicit ChunkParser(ChunkLimits limits = {}) : limits_(limits) {}

  // Consumes all of `data`; appends each completed message to `out`. Set Chunk Size and Abort
  // are applied here (the chunks after them depend on it) and also returned. After an error
  // the parser must not be fed again.
  Error feed(std::span<const uint8_t> data, std::vector<RtmpMessage>& out);
  // Like feed(), but returns as soon as one message is complete, so that the caller can act on
  // it (set_limits()) before the bytes after it are parsed. `used` is how many bytes of `data`
  // were consumed: all of them unless a message completed before the end.
  Error feed_message(std::span<const uint8_t> data, std::vector<RtmpMessage>& out, size_t& used);
  // Limits for what is parsed from now on; what is buffered already stays. The RTMP connection
  // starts with tight ones and lifts them once `publish` presents a valid stream key.
  void set_limits(const ChunkLimits& limits) { limits_ = limits; }

  uint32_t chunk_size() const { return chunk_size_; }
  static std::string_view describe(Error e);

  // A message of `type` still arriving, with at least `min_head` of its payload bytes in: what a
  // large message is (a video keyframe) can be acted on before the rest of it is read.
  struct Partial {
    uint32_t chunk_stream = 0;
    uint32_t timestamp = 0;
    uint32_t length = 0;    // the whole payload's size
    std::string_view head;  // the payload bytes in so far; valid until the next feed()
  };
  std::optional<Partial> partial(uint8_t type, size_t min_head) const;

private:
  struct ChunkStream {
    bool has_header = false;
    bool extended = false;  // the last header carried an extended timestamp
    uint32_t timestamp = 0;
    uint32_t ts_field = 0;  // the last header's timestamp field (delta for fmt 1/2)
    uint32_t length = 0;
    uint8_t type = 0;
    uint32_t stream_id = 0;
    std::string payload;  // partial message
  };
  // Parses one chunk header from the front of pending_; returns bytes used, 0 if incomplete, -1 on error.
  long parse_header(std::string_view bytes);
  // Consumes `in` from the front; with `one`, stops after the first whole message.
  Error feed_some(std::string_view& in, std::vector<RtmpMessage>& out, bool one);

  ChunkLimits limits_;
  uint32_t chunk_size_ = 128;
  std::map<uint32_t, ChunkStream> streams_;
  std::string header_bytes_;     // an incomplete chunk header carried to the next feed()
  ChunkStream* current_ = nullptr;  // chunk whose payload is being read
  uint32_t current_csid_ = 0;
  uint32_t chunk_left_ = 0;      // payload bytes left in the current chunk
  size_t buffered_ = 0;          // sum of partial payload sizes
  Error error_ = Error::none;
};

// Encodes one message as chunks: a fmt 0 header, then fmt 3 continuations every `chunk_size` bytes.
void write_message(std::string& out, uint32_t chunk_stream, uint8_t type, uint32_t stream_id, uint32_t timestamp,
                   std::string_view payload, uint32_t chunk_size);

// RTMP simple handshake (C0/C1/C2 <-> S0/S1/S2), server side; pure over bytes.
class ServerHandshake {
public:
  static constexpr size_t kPacketSize = 1536;
  enum class State { want_c0c1, want_c2, done, failed };
  // Consumes bytes from `in` (returns how many); appends S0+S1+S2 to `reply` once C0+C1 are in.
  size_t feed(std::span<const uint8_t> in, std::string& reply);
  State state() const { return state_; }
  std::string_view failure() const { return failure_; }

private:
  State state_ = State::want_c0c1;
  std::string buffer_;
  std::string failure_;
};

// Client side of the same handshake, for the built-in demo publisher and tests.
std::string client_handshake_c0c1();
inline constexpr size_t kServerHandshakeBytes = 1 + 2 * ServerHandshake::kPacketSize;  // S0+S1+S2
// C2 is the echo of S1.
std::string client_handshake_c2(std::string_view s0s1s2);

}  // namespace harvest::media::rtmp
