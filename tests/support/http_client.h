#pragma once
// A small blocking HTTP/1.1 client for tests: one request per connection.
#include <chrono>
#include <map>
#include <string>

namespace harvest::test {

struct HttpResult {
  int status = 0;  // 0: no response (connection failed or timed out)
  std::map<std::string, std::string> headers;  // lower-case names; repeated ones joined with ", "
  std::string body;
  std::string error;
};

HttpResult http_request(int port, const std::string& method, const std::string& path,
                        const std::string& body = {},
                        const std::map<std::string, std::string>& headers = {},
                        std::chrono::milliseconds timeout = std::chrono::seconds(10));

inline HttpResult http_get(int port, const std::string& path,
                           const std::map<std::string, std::string>& headers = {}) {
  return http_request(port, "GET", path, {}, headers);
}

// The Authorization header carrying `token` (admin, host or buyer).
inline std::map<std::string, std::string> bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

// A blocking TCP connection to 127.0.0.1:port (close-on-exec); -1 if refused.
int connect_loopback(int port);

// Connects to 127.0.0.1:port, writes `bytes`, and returns what the peer sent back until it
// closed or `timeout` passed. Used to throw garbage at listeners.
std::string raw_exchange(int port, const std::string& bytes,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace harvest::test
