// Host token verification and route matching never crash and never accept a forged token.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/tokens.h"
#include "realtime/router.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  harvest::tokens::HostClaim claim;
  const auto check = harvest::tokens::verify_host_token("fuzz-secret-0123456789abcdef0123456789", text, 1000, claim);
  // Without the secret nobody can produce a valid MAC.
  if (check == harvest::tokens::TokenCheck::valid) __builtin_trap();

  harvest::realtime::Router router;
  router.add("GET", "/api/streams/{id}/products", [](const auto&) { return harvest::realtime::HttpResponse{}; });
  router.add("GET", "/hls/{id}/{file...}", [](const auto&) { return harvest::realtime::HttpResponse{}; });
  router.match("GET", text);
  return 0;
}
