// libFuzzer: H.264 sequence parameter sets (from the AVC decoder configuration record an RTMP
// publisher sends; no h264parse runs on the passthrough). Invariants: no crash or overflow
// (UBSan), and an accepted SPS gives a positive, bounded picture size and a finite frame rate.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "media/ingest/h264_sps.h"

using namespace harvest::media;

namespace {
void check(const std::optional<SpsFacts>& f) {
  if (!f) return;
  if (f->width <= 0 || f->height <= 0 || f->width > 1 << 20 || f->height > 1 << 20) __builtin_trap();
  if (!std::isfinite(f->fps) || f->fps < 0) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  check(parse_sps(bytes));
  check(parse_avc_config_sps(bytes));
  return 0;
}
