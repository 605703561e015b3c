// libFuzzer: --bus redis://host[:port] (bus::parse_redis_url). Invariants: an accepted URL has a
// non-empty host without '/', '@', '?' or '#', and a port in 1..65535; a refusal says why.
#include <cstddef>
#include <cstdint>
#include <string>

#include "bus/bus.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string url(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto a = harvest::bus::parse_redis_url(url, error);
  if (!a) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  if (a->host.empty() || a->host.find_first_of("/@?#") != std::string::npos) __builtin_trap();
  if (a->port < 1 || a->port > 65535) __builtin_trap();
  return 0;
}
