#include "core/tokens.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/random.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

namespace harvest::tokens {
namespace {

std::string to_hex(const unsigned char* data, size_t len) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (size_t i = 0; i < len; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 0xf]);
  }
  return out;
}

void fill_random(unsigned char* buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    const ssize_t n = getrandom(buf + got, len - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
}

std::string hmac_hex(std::string_view secret, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_len);
  return to_hex(mac, mac_len);
}

}  // namespace

std::string hmac_sha256_hex(std::string_view secret, std::string_view message) { return hmac_hex(secret, message); }

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  fill_random(buf.data(), bytes);
  return to_hex(buf.data(), bytes);
}

std::string random_id(size_t chars) {
  static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";  // no look-alikes (l, 1, o, 0)
  std::vector<unsigned char> buf(chars);
  fill_random(buf.data(), chars);
  std::string out;
  for (unsigned char b : buf) out.push_back(alphabet[b % 32]);
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string sign_host_token(std::string_view secret, std::string_view stream_id, int64_t expires_unix_s) {
  std::string payload = "h1." + std::string(stream_id) + "." + std::to_string(expires_unix_s);
  return payload + "." + hmac_hex(secret, payload);
}

std::string new_buyer_token(std::string_view secret) {
  const std::string payload = "b1.v" + random_id(15);
  return payload + "." + hmac_hex(secret, payload);
}

std::optional<std::string> verify_buyer_token(std::string_view secret, std::string_view token) {
  if (token.size() > 256 || token.rfind("b1.", 0) != 0) return std::nullopt;
  const size_t mac_dot = token.rfind('.');
  if (mac_dot <= 3) return std::nullopt;
  const std::string_view buyer_id = token.substr(3, mac_dot - 3);
  if (buyer_id.find('.') != std::string_view::npos) return std::nullopt;
  if (!constant_time_equal(hmac_hex(secret, token.substr(0, mac_dot)), token.substr(mac_dot + 1))) return std::nullopt;
  return std::string(buyer_id);
}

TokenCheck verify_host_token(std::string_view secret, std::string_view token, int64_t now_unix_s,
                             HostClaim& claim) {
  // h1 . stream_id . expires . mac  (stream ids contain no dots)
  if (token.size() > 512 || token.rfind("h1.", 0) != 0) return TokenCheck::malformed;
  const size_t mac_dot = token.rfind('.');
  const size_t exp_dot = token.rfind('.', mac_dot - 1);
  if (mac_dot == std::string_view::npos || exp_dot == std::string_view::npos || exp_dot <= 3)
    return TokenCheck::malformed;
  const std::string_view stream_id = token.substr(3, exp_dot - 3);
  const std::string_view expires_text = token.substr(exp_dot + 1, mac_dot - exp_dot - 1);
  int64_t expires = 0;
  auto [ptr, ec] = std::from_chars(expires_text.data(), expires_text.data() + expires_text.size(), expires);
  if (stream_id.empty() || ec != std::errc() || ptr != expires_text.data() + expires_text.size())
    return TokenCheck::malformed;
  const std::string expected = hmac_hex(secret, token.substr(0, mac_dot));
  if (!constant_time_equal(expected, token.substr(mac_dot + 1))) return TokenCheck::bad_signature;
  if (expires <= now_unix_s) return TokenCheck::expired;
  claim.stream_id = std::string(stream_id);
  claim.expires_unix_s = expires;
  return TokenCheck::valid;
}

std::string load_or_create_secret(const std::string& path) {
  {
    std::ifstream in(path);
    std::stringstream text;
    if (in) {
      text << in.rdbuf();
      std::string secret = text.str();
      while (!secret.empty() && (secret.back() == '\n' || secret.back() == ' ')) secret.pop_back();
      if (secret.size() >= 32) return secret;
    }
  }
  const std::string secret = random_hex(32);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return {};
  const std::string line = secret + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  return ok ? secret : std::string();
}

}  // namespace harvest::tokens
