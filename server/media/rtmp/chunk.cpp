#include "media/rtmp/chunk.h"

#include <algorithm>
#include <random>

namespace harvest::media::rtmp {
namespace {

uint32_t be24(const char* p) {
  return (uint32_t{static_cast<uint8_t>(p[0])} << 16) | (uint32_t{static_cast<uint8_t>(p[1])} << 8) |
         uint32_t{static_cast<uint8_t>(p[2])};
}
uint32_t be32(const char* p) { return (be24(p) << 8) | uint32_t{static_cast<uint8_t>(p[3])}; }
uint32_t le32(const char* p) {
  return uint32_t{static_cast<uint8_t>(p[0])} | (uint32_t{static_cast<uint8_t>(p[1])} << 8) |
         (uint32_t{static_cast<uint8_t>(p[2])} << 16) | (uint32_t{static_cast<uint8_t>(p[3])} << 24);
}
void put_be24(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}
void put_be32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  put_be24(out, v & 0xffffff);
}

void put_basic_header(std::string& out, int fmt, uint32_t csid) {
  const auto f = static_cast<uint8_t>(fmt << 6);
  if (csid >= 2 && csid <= 63) {
    out.push_back(static_cast<char>(f | csid));
  } else if (csid >= 64 && csid <= 319) {
    out.push_back(static_cast<char>(f | 0));
    out.push_back(static_cast<char>(csid - 64));
  } else {
    const uint32_t v = std::min<uint32_t>(std::max<uint32_t>(csid, 64), 65599) - 64;
    out.push_back(static_cast<char>(f | 1));
    out.push_back(static_cast<char>(v & 0xff));
    out.push_back(static_cast<char>(v >> 8));
  }
}

}  // namespace

std::string_view ChunkParser::describe(Error e) {
  switch (e) {
    case Error::none: return "none";
    case Error::bad_chunk_size: return "chunk size out of range";
    case Error::message_too_large: return "message larger than the limit";
    case Error::buffer_limit: return "too much partial message data";
    case Error::too_many_chunk_streams: return "too many chunk streams";
    case Error::no_previous_header: return "compressed chunk header without a previous header";
  }
  return "unknown";
}

long ChunkParser::parse_header(std::string_view b) {
  if (b.empty()) return 0;
  const auto b0 = static_cast<uint8_t>(b[0]);
  const int fmt = b0 >> 6;
  uint32_t csid = b0 & 0x3f;
  size_t pos = 1;
  if (csid == 0) {
    if (b.size() < 2) return 0;
    csid = 64 + static_cast<uint8_t>(b[1]);
    pos = 2;
  } else if (csid == 1) {
    if (b.size() < 3) return 0;
    csid = 64 + static_cast<uint8_t>(b[1]) + 256u * static_cast<uint8_t>(b[2]);
    pos = 3;
  }
  static constexpr size_t kHeaderSize[4] = {11, 7, 3, 0};
  const size_t mh = kHeaderSize[fmt];
  if (b.size() < pos + mh) return 0;

  auto it = streams_.find(csid);
  if (it == streams_.end()) {
    if (fmt != 0) {
      error_ = Error::no_previous_header;
      return -1;
    }
    if (streams_.size() >= limits_.max_chunk_streams) {
      error_ = Error::too_many_chunk_streams;
      return -1;
    }
  } else if (fmt != 0 && !it->second.has_header) {
    error_ = Error::no_previous_header;
    return -1;
  }
  // Work on a copy until the whole header (with any extended timestamp) is in.
  ChunkStream cs;
  const ChunkStream* prev = it == streams_.end() ? nullptr : &it->second;
  if (prev != nullptr) {
    cs.has_header = prev->has_header;
    cs.extended = prev->extended;
    cs.timestamp = prev->timestamp;
    cs.ts_field = prev->ts_field;
    cs.length = prev->length;
    cs.type = prev->type;
    cs.stream_id = prev->stream_id;
  }
  const char* p = b.data() + pos;
  uint32_t field = 0;
  if (fmt <= 2) field = be24(p);
  if (fmt <= 1) {
    cs.length = be24(p + 3);
    cs.type = static_cast<uint8_t>(p[6]);
  }
  if (fmt == 0) cs.stream_id = le32(p + 7);
  pos += mh;
  bool extended = fmt <= 2 ? field == 0xFFFFFF : cs.extended;
  if (extended) {
    if (b.size() < pos + 4) return 0;
    const uint32_t ext = be32(b.data() + pos);
    pos += 4;
    if (fmt <= 2) field = ext;
    else field = prev != nullptr && prev->payload.empty() ? ext : cs.ts_field;
  } else if (fmt == 3) {
    field = cs.ts_field;
  }

  const bool starts_message = prev == nullptr || prev->payload.empty() || fmt != 3;
  if (starts_message) {
    if (fmt == 0) cs.timestamp = field;
    else cs.timestamp += field;  // fmt 1/2: delta; fmt 3: the previous header's field again
    cs.ts_field = field;
  }
  cs.extended = extended;
  cs.has_header = true;

  if (cs.length > limits_.max_message_bytes) {
    error_ = Error::message_too_large;
    return -1;
  }
  ChunkStream& slot = streams_[csid];
  if (starts_message && !slot.payload.empty()) {
    // A new header in the middle of a message: the peer gave up on the old one.
    buffered_ -= slot.payload.size();
    slot.payload.clear();
  }
  cs.payload = std::move(slot.payload);
  slot = std::move(cs);
  current_ = &slot;
  current_csid_ = csid;
  chunk_left_ = std::min<uint32_t>(chunk_size_, slot.length - static_cast<uint32_t>(slot.payload.size()));
  return static_cast<long>(pos);
}

ChunkParser::Error ChunkParser::feed(std::span<const uint8_t> data, std::vector<RtmpMessage>& out) {
  std::string_view in(reinterpret_cast<const char*>(data.data()), data.size());
  return feed_some(in, out, false);
}

ChunkParser::Error ChunkParser::feed_message(std::span<const uint8_t> data, std::vector<RtmpMessage>& out,
                                             size_t& used) {
  std::string_view in(reinterpret_cast<const char*>(data.data()), data.size());
  const Error e = feed_some(in, out, true);
  used = e == Error::none ? data.size() - in.size() : data.size();
  return e;
}

ChunkParser::Error ChunkParser::feed_some(std::string_view& in, std::vector<RtmpMessage>& out, bool one) {
  if (error_ != Error::none) return error_;
  while (true) {
    if (current_ == nullptr) {
      // Need a header: complete it from carried bytes first. A header is at most 18 bytes.
      if (in.empty()) return Error::none;
      std::string_view view;
      size_t carried = header_bytes_.size();
      std::string joined;
      if (carried > 0) {
        joined = header_bytes_;
        joined.append(in.substr(0, std::min<size_t>(in.size(), 18)));
        view = joined;
      } else {
        view = in;
      }
      const long used = parse_header(view);
      if (used < 0) return error_;
      if (used == 0) {
        // Incomplete: keep what we have (bounded: fewer than 18 bytes).
        header_bytes_.append(in.substr(0, std::min<size_t>(in.size(), 18 - std::min<size_t>(carried, 18))));
        in = {};  // all of it: an incomplete header is shorter than 18 bytes with what was carried
        return Error::none;
      }
      const auto from_in = static_cast<size_t>(used) - carried;
      in.remove_prefix(from_in);
      header_bytes_.clear();
    }
    // Payload of the current chunk.
    ChunkStream& cs = *current_;
    const size_t take = std::min<size_t>(chunk_left_, in.size());
    if (take > 0) {
      if (buffered_ + take > limits_.max_buffered_bytes) {
        error_ = Error::buffer_limit;
        return error_;
      }
      cs.payload.append(in.substr(0, take));
      buffered_ += take;
      in.remove_prefix(take);
      chunk_left_ -= static_cast<uint32_t>(take);
    }
    if (chunk_left_ > 0) return Error::none;  // need more bytes
    current_ = nullptr;
    if (cs.payload.size() < cs.length) continue;  // the message continues in a later chunk

    RtmpMessage msg;
    msg.chunk_stream = current_csid_;
    msg.type = cs.type;
    msg.stream_id = cs.stream_id;
    msg.timestamp = cs.timestamp;
    buffered_ -= cs.payload.size();
    msg.payload = std::move(cs.payload);
    cs.payload.clear();
    if (msg.type == kSetChunkSize) {
      if (msg.payload.size() < 4) {
        error_ = Error::bad_chunk_size;
        return error_;
      }
      const uint32_t size = be32(msg.payload.data()) & 0x7fffffff;
      if (size == 0 || size > limits_.max_chunk_size) {
        error_ = Error::bad_chunk_size;
        return error_;
      }
      chunk_size_ = size;
    } else if (msg.type == kAbort && msg.payload.size() >= 4) {
      auto it = streams_.find(be32(msg.payload.data()));
      if (it != streams_.end()) {
        buffered_ -= it->second.payload.size();
        it->second.payload.clear();
      }
    }
    out.push_back(std::move(msg));
    if (one) return Error::none;
  }
}

std::optional<ChunkParser::Partial> ChunkParser::partial(uint8_t type, size_t min_head) const {
  for (const auto& [csid, cs] : streams_) {
    if (cs.type != type || cs.payload.size() < std::max<size_t>(min_head, 1) || cs.payload.size() >= cs.length)
      continue;
    return Partial{csid, cs.timestamp, cs.length, cs.payload};
  }
  return std::nullopt;
}

void write_message(std::string& out, uint32_t chunk_stream, uint8_t type, uint32_t stream_id, uint32_t timestamp,
                   std::string_view payload, uint32_t chunk_size) {
  chunk_size = std::max<uint32_t>(chunk_size, 1);
  const bool extended = timestamp >= 0xFFFFFF;
  put_basic_header(out, 0, chunk_stream);
  put_be24(out, extended ? 0xFFFFFF : timestamp);
  put_be24(out, static_cast<uint32_t>(payload.size()));
  out.push_back(static_cast<char>(type));
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((stream_id >> (8 * i)) & 0xff));
  if (extended) put_be32(out, timestamp);
  size_t pos = 0;
  while (true) {
    const size_t n = std::min<size_t>(chunk_size, payload.size() - pos);
    out.append(payload.substr(pos, n));
    pos += n;
    if (pos >= payload.size()) break;
    put_basic_header(out, 3, chunk_stream);
    if (extended) put_be32(out, timestamp);
  }
}

size_t ServerHandshake::feed(std::span<const uint8_t> in, std::string& reply) {
  size_t used = 0;
  if (state_ == State::want_c0c1) {
    const size_t need = 1 + kPacketSize - buffer_.size();
    const size_t n = std::min(need, in.size());
    buffer_.append(reinterpret_cast<const char*>(in.data()), n);
    used += n;
    if (buffer_.size() >= 1 && static_cast<uint8_t>(buffer_[0]) != 3) {
      state_ = State::failed;
      failure_ = static_cast<uint8_t>(buffer_[0]) == 6 ? "encrypted RTMP (RTMPE) is not supported"
                                                       : "not an RTMP handshake (C0 version is not 3)";
      return used;
    }
    if (buffer_.size() < 1 + kPacketSize) return used;
    // S0, S1 (time, zero version: the "simple" handshake, random bytes), S2 = echo of C1.
    reply.push_back(3);
    std::string s1(kPacketSize, '\0');
    std::mt19937 rng(std::random_device{}());
    for (size_t i = 8; i < kPacketSize; ++i) s1[i] = static_cast<char>(rng() & 0xff);
    reply += s1;
    reply.append(buffer_, 1, kPacketSize);
    buffer_.clear();
    state_ = State::want_c2;
  }
  if (state_ == State::want_c2) {
    const size_t need = kPacketSize - buffer_.size();
    const size_t n = std::min(need, in.size() - used);
    buffer_.append(reinterpret_cast<const char*>(in.data() + used), n);
    used += n;
    if (buffer_.size() == kPacketSize) {
      buffer_.clear();
      buffer_.shrink_to_fit();
      state_ = State::done;
    }
  }
  return used;
}

std::string client_handshake_c0c1() {
  std::string out(1 + ServerHandshake::kPacketSize, '\0');
  out[0] = 3;
  std::mt19937 rng(std::random_device{}());
  for (size_t i = 9; i < out.size(); ++i) out[i] = static_cast<char>(rng() & 0xff);
  return out;
}

std::string client_handshake_c2(std::string_view s0s1s2) {
  if (s0s1s2.size() < 1 + ServerHandshake::kPacketSize) return std::string(ServerHandshake::kPacketSize, '\0');
  return std::string(s0s1s2.substr(1, ServerHandshake::kPacketSize));
}

}  // namespace harvest::media::rtmp
