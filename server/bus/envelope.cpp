#include "bus/envelope.h"

#include <array>

namespace harvest::bus {
namespace {
constexpr std::string_view kMagic = "hb1 ";
constexpr size_t kMaxToken = 128;

// Splits the next space-terminated (or, for the last, newline-terminated) token off `rest`.
std::optional<std::string_view> take_token(std::string_view& rest, char end) {
  const size_t at = rest.find(end);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view token = rest.substr(0, at);
  if (!is_envelope_token(token)) return std::nullopt;
  rest.remove_prefix(at + 1);
  return token;
}
}  // namespace

bool is_envelope_token(std::string_view s) {
  if (s.empty() || s.size() > kMaxToken) return false;
  for (char ch : s) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                    ch == '.' || ch == '_' || ch == ':' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

std::string encode_envelope(const Envelope& e) {
  if (!is_envelope_token(e.origin) || !is_envelope_token(e.room) || !is_envelope_token(e.kind) ||
      !is_envelope_token(e.tag))
    return std::string();
  std::string out;
  out.reserve(kMagic.size() + e.origin.size() + e.room.size() + e.kind.size() + e.tag.size() + 4 +
              e.body.size());
  out.append(kMagic).append(e.origin).append(" ").append(e.room).append(" ").append(e.kind);
  out.append(" ").append(e.tag).append("\n").append(e.body);
  return out;
}

std::optional<Envelope> decode_envelope(std::string_view wire) {
  if (wire.substr(0, kMagic.size()) != kMagic) return std::nullopt;
  std::string_view rest = wire.substr(kMagic.size());
  std::array<std::string_view, 4> fields;
  for (size_t i = 0; i < fields.size(); ++i) {
    auto token = take_token(rest, i + 1 < fields.size() ? ' ' : '\n');
    if (!token) return std::nullopt;
    fields[i] = *token;
  }
  return Envelope{std::string(fields[0]), std::string(fields[1]), std::string(fields[2]),
                  std::string(fields[3]), std::string(rest)};
}

}  // namespace harvest::bus
