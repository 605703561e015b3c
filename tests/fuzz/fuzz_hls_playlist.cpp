// libFuzzer: HLS media playlists read back from disk after a restart (replays), and their
// ISO 8601 program date times. Invariants: one parse/render round reaches a fixed point (what
// the server rewrites is what it reads again), and an accepted time formats back to itself.
#include <cstddef>
#include <cstdint>
#include <string>

#include "media/hls/playlist.h"

using namespace harvest::media::hls;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto ms = parse_iso8601_ms(text)) {
    auto again = parse_iso8601_ms(format_iso8601_ms(*ms));
    if (!again || *again != *ms) __builtin_trap();
  }
  const std::string once = render_media_playlist(parse_media_playlist(text));
  const std::string twice = render_media_playlist(parse_media_playlist(once));
  if (once != twice) __builtin_trap();
  return 0;
}
