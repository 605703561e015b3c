// libFuzzer target: the Protocol v1 parser must never crash, hang or leak on any frame.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "realtime/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = harvest::realtime::parse_client_message(text);
  if (r.message) (void)harvest::realtime::client_type_name(r.message->type);
  return 0;
}
