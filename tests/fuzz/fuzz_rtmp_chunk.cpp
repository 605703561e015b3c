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
  // Small limits so the fuzzer reaches them.
  ChunkParser parser(ChunkLimits{.max_chunk_size = 65536, .max_message_bytes = 4096, .max_buffered_bytes = 8192,
                                 .max_chunk_streams = 8});
  const size_t piece = 1 + data[0] % 64;
  std::span<const uint8_t> rest(data + 1, size - 1);
  std::vector<RtmpMessage> out;
  while (!rest.empty()) {
    const size_t n = std::min(piece, rest.size());
    if (parser.feed(rest.subspan(0, n), out) != ChunkParser::Error::none) break;
    rest = rest.subspan(n);
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
