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
    case Role::viewer: return "viewer";
  }
  return "viewer";
}

}  // namespace harvest::realtime
