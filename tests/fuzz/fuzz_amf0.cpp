// libFuzzer: AMF0 decoding; whatever decodes must re-encode and decode to the same encoding.
#include <cstddef>
#include <cstdint>
#include <span>

#include "media/rtmp/amf0.h"

using namespace harvest::media::rtmp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto values = amf0_decode_all({data, size});
  if (!values) return 0;
  const std::string once = amf0_encode_all(*values);
  auto again = amf0_decode_all({reinterpret_cast<const uint8_t*>(once.data()), once.size()}, Amf0Limits{.max_depth = 64, .max_elements = 1 << 20});
  if (!again || amf0_encode_all(*again) != once) __builtin_trap();
  return 0;
}
