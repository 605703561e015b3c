#include <catch2/catch.hpp>

#include "core/tokens.h"
#include "realtime/access.h"

using namespace harvest;

TEST_CASE("host tokens verify only with the right secret, stream and time", "[tokens]") {
  const std::string secret = tokens::random_hex(32);
  const std::string token = tokens::sign_host_token(secret, "abc123", 2000);
  tokens::HostClaim claim;
  REQUIRE(tokens::verify_host_token(secret, token, 1000, claim) == tokens::TokenCheck::valid);
  CHECK(claim.stream_id == "abc123");
  CHECK(tokens::verify_host_token(secret, token, 2000, claim) == tokens::TokenCheck::expired);
  CHECK(tokens::verify_host_token("other-secret", token, 1000, claim) == tokens::TokenCheck::bad_signature);

  std::string forged = token;
  forged.replace(3, 6, "zzz999");  // same length, other stream
  CHECK(tokens::verify_host_token(secret, forged, 1000, claim) == tokens::TokenCheck::bad_signature);
  std::string extended = tokens::sign_host_token(secret, "abc123", 2000);
  extended.replace(extended.find(".2000."), 6, ".9000.");
  CHECK(tokens::verify_host_token(secret, extended, 1000, claim) == tokens::TokenCheck::bad_signature);

  for (const char* bad : {"", "h1.", "h1..", "h1.a.b.c", "x1.abc.2000.00", "h1.abc.20x0.00", "h1.abc.2000"}) {
    INFO(bad);
    CHECK(tokens::verify_host_token(secret, bad, 1000, claim) != tokens::TokenCheck::valid);
  }
}

TEST_CASE("identify gives admin, host of one stream, or viewer", "[tokens]") {
  realtime::AccessConfig access{"admin-secret", tokens::random_hex(32)};
  CHECK(realtime::identify(access, "", 100).role == realtime::Role::viewer);
  CHECK(realtime::identify(access, "admin-secret", 100).role == realtime::Role::admin);
  const auto host = realtime::identify(access, realtime::issue_host_token(access, "s1", 100), 100);
  CHECK(host.role == realtime::Role::host);
  CHECK(host.may_manage("s1"));
  CHECK_FALSE(host.may_manage("s2"));
  const auto expired = realtime::identify(access, realtime::issue_host_token(access, "s1", 100), 100 + access.host_token_ttl_s);
  CHECK(expired.role == realtime::Role::viewer);
  CHECK(expired.token_problem == "expired");
  CHECK(realtime::identify(access, "nonsense", 100).token_problem == "invalid");
}

TEST_CASE("random ids and keys are distinct and URL-safe", "[tokens]") {
  const auto a = tokens::random_id(8), b = tokens::random_id(8);
  CHECK(a.size() == 8);
  CHECK(a != b);
  for (char c : a) CHECK(((c >= 'a' && c <= 'z') || (c >= '2' && c <= '9')));
  CHECK(tokens::random_hex(16).size() == 32);
}
