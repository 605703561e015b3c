// libFuzzer: SRT stream id parsing (runs inside libsrt's accept callback on untrusted input).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "media/srt/stream_id.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto id = harvest::media::srt::parse_stream_id(text)) {
    if (auto key = harvest::media::srt::publish_key(*id)) {
      if (key->empty() || key->find('/') != std::string::npos) __builtin_trap();
    }
  }
  return 0;
}
