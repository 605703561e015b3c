// libFuzzer: FLV files (the demo loop and replays of recorded publishes) and the FLV tag bodies
// every RTMP audio/video message carries. Invariants: whatever parse_flv_file accepts writes back
// into a file that parses to the same tags; a tag's payload view lies inside its body.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "media/rtmp/flv.h"

using namespace harvest::media::rtmp;

namespace {
bool inside(std::string_view outer, std::string_view inner) {
  if (inner.empty()) return true;
  return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

void check_bodies(std::string_view body) {
  if (auto v = parse_video_tag(body); v && !inside(body, v->data)) __builtin_trap();
  if (auto a = parse_audio_tag(body); a) {
    if (!inside(body, a->data)) __builtin_trap();
    if (a->sequence_header && a->codec == AudioCodec::aac) {
      if (auto asc = parse_audio_specific_config(a->data); asc && (asc->sample_rate < 0 || asc->channels < 0))
        __builtin_trap();
    }
  }
  (void)looks_like_avc_config(body);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  check_bodies(bytes);
  auto tags = parse_flv_file(bytes);
  if (!tags) return 0;
  for (const auto& t : *tags) check_bodies(t.body);
  const std::string again = write_flv_file(*tags, true, true);
  auto reparsed = parse_flv_file(again);
  if (!reparsed || reparsed->size() != tags->size()) __builtin_trap();
  for (size_t i = 0; i < tags->size(); ++i) {
    const FlvTag& a = (*tags)[i];
    const FlvTag& b = (*reparsed)[i];
    if (a.type != b.type || a.timestamp != b.timestamp || a.body != b.body) __builtin_trap();
  }
  return 0;
}
