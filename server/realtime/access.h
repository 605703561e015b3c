#pragma once
// Who is calling: admin (the operator's token), a signed-in farmer (a session cookie: their own
// shows and catalog), host (a signed token for one stream), or an anonymous viewer. Used by the HTTP API and the websocket rooms alike.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/stream_registry.h"

namespace harvest::realtime {

struct AccessConfig {
  std::string admin_token;   // empty: nobody is admin
  std::string token_secret;  // signs host tokens
  int64_t host_token_ttl_s = 7 * 24 * 3600;
  // The enabled farmer account a session cookie's token signs in ("" none); unset: no
  // accounts (the AccountBook answers it in the server).
  std::function<std::string(std::string_view session_token, int64_t now_ms)> account_for_session;
};

// The cookie a farmer's browser signs in with (HttpOnly, SameSite=Lax; Secure under TLS).
inline constexpr std::string_view kSessionCookie = "hl_session";

enum class Role { viewer, host, farmer, admin };

struct Identity {
  Role role = Role::viewer;
  std::string host_stream;  // the stream a host token is scoped to
  std::string account_id;   // the signed-in farmer
  // Set when a token was presented but refused: "expired" or "invalid".
  std::string token_problem;

  // Token holders only (websocket rooms): the admin or the stream's host.
  bool may_manage(const std::string& stream_id) const {
    return role == Role::admin || (role == Role::host && host_stream == stream_id);
  }
  // Admin, the stream's host, or the farmer who owns it.
  bool may_manage(const StreamRecord& stream) const {
    return role == Role::admin || (role == Role::host && host_stream == stream.id) ||
           (role == Role::farmer && !stream.owner.empty() && account_id == stream.owner);
  }
};

// An empty token is a viewer with no problem.
Identity identify(const AccessConfig& access, std::string_view token, int64_t now_unix_s);
// An HTTP caller: the Bearer token when there is one, else the session cookie.
Identity identify_request(const AccessConfig& access, std::string_view bearer_token, std::string_view cookie_header,
                          int64_t now_unix_s);
// The value of cookie `name` in a Cookie header ("" when absent). Pure.
std::string cookie_value(std::string_view cookie_header, std::string_view name);

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
