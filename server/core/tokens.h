#pragma once
// Secrets and tokens: random ids and keys, and signed host tokens.
//
// A host token makes a websocket or API caller a host of exactly one stream until it expires:
//   h1.<stream_id>.<expires_unix_s>.<hex HMAC-SHA256(secret, "h1.<stream_id>.<expires_unix_s>")>
// It needs no store lookup to verify, so any node that shares the secret accepts it.
//
// A buyer token is the identity the server gives a viewer (per-buyer limits, mutes and "my
// orders" key on it, never on an id the client picks), long-lived and valid on every stream:
//   b1.<buyer_id>.<hex HMAC-SHA256(secret, "b1.<buyer_id>")>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace harvest::tokens {

// `bytes` of cryptographic randomness, hex encoded (2 chars per byte).
std::string random_hex(size_t bytes);
// URL-safe lower-case id of `chars` characters (letters and digits).
std::string random_id(size_t chars);

bool constant_time_equal(std::string_view a, std::string_view b);

// hex(HMAC-SHA256(secret, message)), lower case: host and buyer tokens, payment notifications.
std::string hmac_sha256_hex(std::string_view secret, std::string_view message);

std::string sign_host_token(std::string_view secret, std::string_view stream_id, int64_t expires_unix_s);

struct HostClaim {
  std::string stream_id;
  int64_t expires_unix_s = 0;
};
enum class TokenCheck { valid, malformed, bad_signature, expired };
// Checks signature and expiry against `now_unix_s`; fills `claim` when valid.
TokenCheck verify_host_token(std::string_view secret, std::string_view token, int64_t now_unix_s,
                             HostClaim& claim);

// A new buyer's token, for a fresh random buyer id.
std::string new_buyer_token(std::string_view secret);
// The buyer id a genuine buyer token carries; nullopt for anything else.
std::optional<std::string> verify_buyer_token(std::string_view secret, std::string_view token);

// Reads the signing secret from `path`, creating it (0600, random) if missing. Empty on failure.
std::string load_or_create_secret(const std::string& path);

}  // namespace harvest::tokens
