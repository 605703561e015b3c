// libFuzzer: the RTMP chunk stream parser, fed the input in pieces whose sizes the input picks,
// then every message it produces through the AMF0 decoder and FLV tag parsers; between pieces,
// the partial message the connection peeks at.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "media/rtmp/amf0.h"
#include "media/rtmp/chunk.h"
#include "media/rtmp/flv.h"

using namespace harvest::media::rtmp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // Small limits so the fuzzer reaches them. With the top bit of the first byte set, the parser
  // is driven as an RTMP connection drives it before a valid key: message by message under tight
  // limits, lifted after the first AMF0 command.
  const ChunkLimits loose{.max_chunk_size = 65536, .max_message_bytes = 4096, .max_buffered_bytes = 8192,
                          .max_chunk_streams = 8};
  const ChunkLimits tight{.max_chunk_size = 65536, .max_message_bytes = 512, .max_buffered_bytes = 1024,
                          .max_chunk_streams = 4};
  bool lifted = (data[0] & 0x80) == 0;
  ChunkParser parser(lifted ? loose : tight);
  const size_t piece = 1 + (data[0] & 0x3f);
  std::span<const uint8_t> rest(data + 1, size - 1);
  std::vector<RtmpMessage> out;
  while (!rest.empty()) {
    const size_t n = std::min(piece, rest.size());
    ChunkParser::Error err = ChunkParser::Error::none;
    if (lifted) {
      err = parser.feed(rest.subspan(0, n), out);
      rest = rest.subspan(n);
    } else {
      size_t used = 0;
      const size_t before = out.size();
      err = parser.feed_message(rest.subspan(0, n), out, used);
      if (used == 0 || used > n || out.size() > before + 1) __builtin_trap();  // progress, one at most
      rest = rest.subspan(used);
      if (out.size() > before) {
        if (out.back().payload.size() > 512) __builtin_trap();  // the tight limit held until lifted
        if (out.back().type == kCommandAmf0) {
          lifted = true;
          parser.set_limits(loose);
        }
      }
    }
    if (err != ChunkParser::Error::none) break;
    // What the RTMP connection peeks at between reads: a message still arriving.
    if (auto part = parser.partial(kVideo, 5)) {
      if (part->head.size() < 5 || part->head.size() >= part->length || part->length > 4096) __builtin_trap();
    }
  }
  for (const auto& m : out) {
    if (m.payload.size() > 4096) __builtin_trap();  // the limit must hold
    const auto* p = reinterpret_cast<const uint8_t*>(m.payload.data());
    if (m.type == kCommandAmf0 || m.type == kDataAmf0) amf0_decode_all({p, m.payload.size()});
    if (m.type == kVideo) parse_video_tag(m.payload);
    if (m.type == kAudio) {
      if (auto a = parse_audio_tag(m.payload)) parse_audio_specific_config(a->data);
    }
  }
  ServerHandshake hs;
  std::string reply;
  hs.feed({data, size}, reply);
  return 0;
}
