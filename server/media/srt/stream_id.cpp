#include "media/srt/stream_id.h"

namespace harvest::media::srt {

std::optional<SrtStreamId> parse_stream_id(std::string_view text) {
  if (text.empty() || text.size() > 512) return std::nullopt;
  SrtStreamId id;
  if (text.substr(0, 4) != "#!::") {
    // Plain form: the whole text is the resource.
    for (char c : text)
      if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;
    id.resource = std::string(text);
    return id;
  }
  text.remove_prefix(4);
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view pair = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    const std::string key(pair.substr(0, eq));
    std::string value(pair.substr(eq + 1));
    for (char c : value)
      if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;
    if (key == "r") id.resource = std::move(value);
    else if (key == "m") id.mode = std::move(value);
    else if (key == "u") id.user = std::move(value);
    else id.other[key] = std::move(value);
  }
  return id;
}

std::optional<std::string> publish_key(const SrtStreamId& id) {
  std::string_view r = id.resource;
  if (r.substr(0, 5) == "live/") r.remove_prefix(5);
  if (auto q = r.find('?'); q != std::string_view::npos) r = r.substr(0, q);
  if (r.empty() || r.find('/') != std::string_view::npos) return std::nullopt;
  return std::string(r);
}

}  // namespace harvest::media::srt
