#include "support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace harvest::test {
namespace {

bool write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads until EOF, timeout, or `done(buffer)` says the message is complete.
template <class Done>
std::string read_until(int fd, std::chrono::milliseconds timeout, Done done) {
  std::string buf;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char chunk[16384];
  while (!done(buf)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
  }
  return buf;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

HttpResult http_request(int port, const std::string& method, const std::string& path,
                        const std::string& body, const std::map<std::string, std::string>& headers,
                        std::chrono::milliseconds timeout) {
  HttpResult result;
  const int fd = connect_loopback(port);
  if (fd < 0) {
    result.error = "connect failed";
    return result;
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT")
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  if (!write_all(fd, req)) {
    ::close(fd);
    result.error = "write failed";
    return result;
  }
  // Complete when headers are in and Content-Length bytes of body have arrived.
  auto complete = [](const std::string& buf) {
    const auto end = buf.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    const std::string head = lower(buf.substr(0, end));
    const auto cl = head.find("content-length:");
    if (cl == std::string::npos) return false;  // read to EOF
    const size_t len = std::strtoull(head.c_str() + cl + 15, nullptr, 10);
    return buf.size() >= end + 4 + len;
  };
  const std::string raw = read_until(fd, timeout, complete);
  ::close(fd);

  const auto end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) {
    result.error = "no HTTP response";
    return result;
  }
  result.status = std::atoi(raw.c_str() + 9);
  size_t line_start = raw.find("\r\n") + 2;
  while (line_start < end) {
    const size_t line_end = raw.find("\r\n", line_start);
    const std::string line = raw.substr(line_start, line_end - line_start);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      // A repeated header (Link for each ICE server) is joined with ", " as RFC 9110 5.3
      // allows, instead of the last one overwriting the others.
      std::string& joined = result.headers[lower(line.substr(0, colon))];
      joined += joined.empty() ? value : ", " + value;
    }
    line_start = line_end + 2;
  }
  result.body = raw.substr(end + 4);
  return result;
}

std::string raw_exchange(int port, const std::string& bytes, std::chrono::milliseconds timeout) {
  const int fd = connect_loopback(port);
  if (fd < 0) return {};
  write_all(fd, bytes);
  std::string out = read_until(fd, timeout, [](const std::string&) { return false; });
  ::close(fd);
  return out;
}

}  // namespace harvest::test
