// libFuzzer: the header probe of uploaded photos (POST /api/images runs it on every upload,
// before any decoder). Invariants: an accepted probe names a format and dimensions within the
// limits; the orientation is always 1..8.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "media/images/image_probe.h"

using namespace harvest::media::images;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const ImageLimits limits;
  const ImageProbe p = probe_image(bytes, limits);
  if (p.orientation < 1 || p.orientation > 8) __builtin_trap();
  // The server refuses an upload from its first bytes (starts_like_a_picture) only when the
  // probe would refuse the whole of it.
  if (!starts_like_a_picture(bytes.substr(0, kSignatureBytes)) && p.verdict != ProbeVerdict::not_an_image) __builtin_trap();
  if (p.verdict == ProbeVerdict::ok) {
    if (p.format == ImageFormat::unknown || p.width == 0 || p.height == 0) __builtin_trap();
    if (p.width > limits.max_side || p.height > limits.max_side) __builtin_trap();
    if (uint64_t{p.width} * p.height > limits.max_pixels) __builtin_trap();
  }
  return 0;
}
