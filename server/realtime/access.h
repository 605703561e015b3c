#pragma once
// Who is calling: admin (the operator's token), host (a signed token for one stream), or an
// anonymous viewer. Used by the HTTP API and the websocket rooms alike.
#include <cstdint>
#include <string>
#include <string_view>

namespace harvest::realtime {

struct AccessConfig {
  std::string admin_token;   // empty: nobody is admin
  std::string token_secret;  // signs host tokens
  int64_t host_token_ttl_s = 7 * 24 * 3600;
};

enum class Role { viewer, host, admin };

struct Identity {
  Role role = Role::viewer;
  std::string host_stream;  // the stream a host token is scoped to
  // Set when a token was presented but refused: "expired" or "invalid".
  std::string token_problem;

  bool may_manage(const std::string& stream_id) const {
    return role == Role::admin || (role == Role::host && host_stream == stream_id);
  }
};

// An empty token is a viewer with no problem.
Identity identify(const AccessConfig& access, std::string_view token, int64_t now_unix_s);

std::string issue_host_token(const AccessConfig& access, const std::string& stream_id, int64_t now_unix_s);

// A viewer's identity as a buyer: the one a genuine buyer token names, or a new buyer (fresh id
// and token) when none was presented or it is not genuine. Never an id the client picked.
struct Buyer {
  std::string id;
  std::string token;
};
Buyer buyer_for(const AccessConfig& access, std::string_view presented_token);

const char* role_name(Role role);

}  // namespace harvest::realtime
