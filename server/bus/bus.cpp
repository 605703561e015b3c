#include "bus/bus.h"

#include <charconv>

#include "bus/local_bus.h"
#include "bus/redis_bus.h"
#include "core/tokens.h"

namespace harvest::bus {

std::optional<RedisAddress> parse_redis_url(const std::string& url, std::string& error) {
  constexpr std::string_view kScheme = "redis://";
  std::string_view rest(url);
  if (rest.substr(0, kScheme.size()) != kScheme) {
    error = "a Redis bus URL starts with redis://";
    return std::nullopt;
  }
  rest.remove_prefix(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("@/?#") != std::string_view::npos) {
    error = "only redis://host[:port] is supported (no password, database or options)";
    return std::nullopt;
  }
  RedisAddress a;
  const size_t colon = rest.rfind(':');
  a.host = std::string(rest.substr(0, colon));
  if (colon != std::string_view::npos) {
    std::string_view port = rest.substr(colon + 1);
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || a.port < 1 ||
        a.port > 65535) {
      error = "bad port '" + std::string(port) + "'";
      return std::nullopt;
    }
  }
  if (a.host.empty()) {
    error = "no host";
    return std::nullopt;
  }
  return a;
}

std::unique_ptr<Bus> open_bus(const std::string& spec, EventLoop& loop, std::string& error) {
  if (spec == "local") return std::make_unique<LocalBus>();
  auto address = parse_redis_url(spec, error);
  if (!address) {
    error = "--bus " + spec + ": " + error;
    return nullptr;
  }
  // Ids are tokens of the envelope: hex only.
  return std::make_unique<RedisBus>(loop, *address, "n" + tokens::random_hex(6));
}

}  // namespace harvest::bus
