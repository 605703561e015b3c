#include "realtime/access.h"

#include "core/tokens.h"

namespace harvest::realtime {

Identity identify(const AccessConfig& access, std::string_view token, int64_t now_unix_s) {
  Identity id;
  if (token.empty()) return id;
  if (!access.admin_token.empty() && tokens::constant_time_equal(token, access.admin_token)) {
    id.role = Role::admin;
    return id;
  }
  tokens::HostClaim claim;
  switch (tokens::verify_host_token(access.token_secret, token, now_unix_s, claim)) {
    case tokens::TokenCheck::valid:
      id.role = Role::host;
      id.host_stream = claim.stream_id;
      break;
    case tokens::TokenCheck::expired:
      id.token_problem = "expired";
      break;
    default:
      id.token_problem = "invalid";
      break;
  }
  return id;
}

Identity identify_request(const AccessConfig& access, std::string_view bearer_token, std::string_view cookie_header,
                          int64_t now_unix_s) {
  if (!bearer_token.empty() || !access.account_for_session) return identify(access, bearer_token, now_unix_s);
  Identity id;
  const std::string token = cookie_value(cookie_header, kSessionCookie);
  if (token.empty()) return id;
  id.account_id = access.account_for_session(token, now_unix_s * 1000);
  if (id.account_id.empty()) id.token_problem = "signed_out";
  else id.role = Role::farmer;
  return id;
}

std::string cookie_value(std::string_view header, std::string_view name) {
  // "a=1; b=2": pairs separated by ';', optional spaces around them.
  while (!header.empty()) {
    const size_t end = header.find(';');
    std::string_view pair = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      std::string_view value = pair.substr(eq + 1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      return std::string(value);
    }
  }
  return {};
}

std::string issue_host_token(const AccessConfig& access, const std::string& stream_id, int64_t now_unix_s) {
  return tokens::sign_host_token(access.token_secret, stream_id, now_unix_s + access.host_token_ttl_s);
}

Buyer buyer_for(const AccessConfig& access, std::string_view presented_token) {
  if (auto id = tokens::verify_buyer_token(access.token_secret, presented_token)) return {*id, std::string(presented_token)};
  std::string token = tokens::new_buyer_token(access.token_secret);
  return {tokens::verify_buyer_token(access.token_secret, token).value_or(""), token};
}

const char* role_name(Role role) {
  switch (role) {
    case Role::admin: return "admin";
    case Role::host: return "host";
    case Role::farmer: return "farmer";
    case Role::viewer: return "viewer";
  }
  return "viewer";
}

}  // namespace harvest::realtime
