// The security review's pure parts (issue 21): the constant-time compare every secret goes
// through, tokens refusing every one-character change, the headers every answer carries, and
// safe_join refusing what would leave its root (a NUL included).
#include <catch2/catch.hpp>

#include <string>

#include "core/tokens.h"
#include "realtime/http_types.h"
#include "realtime/static_files.h"

using namespace harvest;

namespace {
std::string header(const realtime::HttpResponse& r, const std::string& name) {
  std::string found;
  int count = 0;
  for (const auto& [n, v] : r.headers) {
    std::string lower;
    for (char c : n) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (lower == name) {
      found = v;
      ++count;
    }
  }
  return count > 1 ? "<repeated>" : found;
}
}  // namespace

TEST_CASE("constant_time_equal answers like == for every length and position", "[security]") {
  CHECK(tokens::constant_time_equal("", ""));
  CHECK(tokens::constant_time_equal("abc", "abc"));
  CHECK_FALSE(tokens::constant_time_equal("abc", "abd"));
  CHECK_FALSE(tokens::constant_time_equal("abc", "ab"));
  CHECK_FALSE(tokens::constant_time_equal("", "a"));
  CHECK_FALSE(tokens::constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
  CHECK(tokens::constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
  // A difference at any position, in any bit, is seen (no early exit that would skip one).
  const std::string secret = tokens::random_hex(32);
  for (size_t i = 0; i < secret.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string other = secret;
      other[i] = static_cast<char>(static_cast<unsigned char>(other[i]) ^ (1u << bit));
      REQUIRE_FALSE(tokens::constant_time_equal(secret, other));
    }
  }
  CHECK(tokens::constant_time_equal(secret, std::string(secret)));
}

TEST_CASE("host and buyer tokens refuse every one-character change and another secret", "[security]") {
  const std::string secret = "0123456789abcdef0123456789abcdef";
  const std::string host = tokens::sign_host_token(secret, "k3x9a2b7", 2'000'000'000);
  tokens::HostClaim claim;
  REQUIRE(tokens::verify_host_token(secret, host, 1'900'000'000, claim) == tokens::TokenCheck::valid);
  CHECK(tokens::verify_host_token(secret, host, 2'000'000'001, claim) == tokens::TokenCheck::expired);
  CHECK(tokens::verify_host_token("another secret, just as long!!!!", host, 1'900'000'000, claim) !=
        tokens::TokenCheck::valid);
  const std::string buyer = tokens::new_buyer_token(secret);
  REQUIRE(tokens::verify_buyer_token(secret, buyer).has_value());
  CHECK_FALSE(tokens::verify_buyer_token("another secret, just as long!!!!", buyer).has_value());
  for (const std::string& token : {host, buyer}) {
    for (size_t i = 0; i < token.size(); ++i) {
      std::string t = token;
      t[i] = t[i] == 'a' ? 'b' : 'a';
      if (t == token) continue;
      REQUIRE(tokens::verify_host_token(secret, t, 1'900'000'000, claim) != tokens::TokenCheck::valid);
      REQUIRE_FALSE(tokens::verify_buyer_token(secret, t).has_value());
    }
  }
}

TEST_CASE("every answer gets nosniff, pages a CSP, and HSTS only under TLS", "[security]") {
  auto page = realtime::HttpResponse::text(200, "<p>x</p>", "text/html; charset=utf-8");
  realtime::add_security_headers(page, false);
  CHECK(header(page, "x-content-type-options") == "nosniff");
  CHECK(header(page, "content-security-policy") == std::string(realtime::kContentSecurityPolicy));
  CHECK(header(page, "strict-transport-security").empty());

  auto error = realtime::HttpResponse::error(404, "not_found", "no");
  realtime::add_security_headers(error, true);
  CHECK(header(error, "x-content-type-options") == "nosniff");
  CHECK(header(error, "content-security-policy").empty());  // not a page
  CHECK(header(error, "strict-transport-security") == std::string(realtime::kStrictTransportSecurity));

  // A route's own header is kept, not repeated.
  auto photo = realtime::HttpResponse::text(200, "", "image/jpeg");
  photo.headers.emplace_back("X-Content-Type-Options", "nosniff");
  realtime::add_security_headers(photo, true);
  realtime::add_security_headers(photo, true);
  CHECK(header(photo, "x-content-type-options") == "nosniff");
  CHECK(header(photo, "strict-transport-security") == std::string(realtime::kStrictTransportSecurity));

  // Answers written on the raw socket (414, 431, redirects) carry nosniff too.
  CHECK(realtime::raw_response(realtime::HttpResponse::error(414, "uri_too_long", "x"))
            .find("\r\nX-Content-Type-Options: nosniff\r\n") != std::string::npos);
}

TEST_CASE("safe_join keeps every name under its root", "[security]") {
  CHECK(realtime::safe_join("/srv", "css/base.css") == "/srv/css/base.css");
  for (const std::string bad : {"", "/etc/passwd", "../x", "a/../../x", "a/./b", "..", "a\\..\\b", "./x"})
    CHECK(realtime::safe_join("/srv", bad).empty());
  // A NUL would cut the name short at open(2): "ok.css\0/../../x" must not become "ok.css".
  CHECK(realtime::safe_join("/srv", std::string("ok.css\0.png", 11)).empty());
}
