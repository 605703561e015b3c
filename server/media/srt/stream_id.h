#pragma once
// The SRT stream id of a caller, in the access-control syntax
// ("#!::r=live/KEY,m=publish", https://github.com/Haivision/srt/blob/master/docs/features/access-control.md)
// or the plain "live/KEY" many apps send. Pure; fuzzed.
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace harvest::media::srt {

struct SrtStreamId {
  std::string resource;  // r
  std::string mode;      // m: "publish", "request", "bidirectional"; empty if not given
  std::string user;      // u
  std::map<std::string, std::string> other;
};

// nullopt when the text is neither syntax, too long (over 512 bytes) or has an empty key.
std::optional<SrtStreamId> parse_stream_id(std::string_view text);

// The stream key of a publish resource "live/KEY" (or a bare "KEY"); nullopt otherwise.
std::optional<std::string> publish_key(const SrtStreamId& id);

}  // namespace harvest::media::srt
