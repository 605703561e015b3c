// libFuzzer: the LL-HLS blocking-reload query (_HLS_msn/_HLS_part, straight from a viewer's URL)
// and part file names (from a viewer's path). Input: "msn\npart\nname".
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "media/hls/ll_playlist.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace harvest::media::hls;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const size_t a = text.find('\n');
  const size_t b = a == std::string::npos ? std::string::npos : text.find('\n', a + 1);
  std::map<std::string, std::string> query;
  query["_HLS_msn"] = text.substr(0, a);
  if (a != std::string::npos) query["_HLS_part"] = text.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
  std::string error;
  const auto request = parse_blocking_request(query, error);
  if (request.has_value() == !error.empty()) __builtin_trap();  // exactly one of a request or an error
  if (request) {
    // The verdict is total, and a request for what exists is ready: the part (written), or the
    // whole segment (complete, the next one open).
    const LlPosition now = request->part ? LlPosition{request->msn, *request->part + 1, false}
                                         : LlPosition{request->msn + 1, 0, false};
    if (decide_blocking(now, *request) != BlockVerdict::ready) __builtin_trap();
    if (decide_blocking(LlPosition{0, 0, false}, *request) == BlockVerdict::ready && request->msn > 0) __builtin_trap();
  }
  const std::string name = b == std::string::npos ? text : text.substr(b + 1);
  if (auto number = parse_part_file_name("llx-", name)) {
    // Leading zeros parse too; anything else must round-trip.
    if (part_file_name("llx-", *number) != name && name.find("p0") == std::string::npos) __builtin_trap();
    const LlPosition now{3, 1, false, 6, 10, 2};
    const BlockVerdict v = decide_part_file(now, *number);
    if ((*number < 10) != (v == BlockVerdict::ready)) __builtin_trap();
  }
  return 0;
}
