// libFuzzer: the bus envelope parser (runs on every message another node — or anyone who can
// PUBLISH to the Redis channel — sends). Whatever parses must re-encode to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bus/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view wire(reinterpret_cast<const char*>(data), size);
  if (auto e = harvest::bus::decode_envelope(wire)) {
    if (harvest::bus::encode_envelope(*e) != wire) __builtin_trap();
  }
  return 0;
}
