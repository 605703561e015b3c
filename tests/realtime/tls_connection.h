#pragma once
// A blocking TLS client connection for tests (OpenSSL), verifying the server against a CA file
// and a host name, the way a phone that installed the local CA does.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "support/http_client.h"

namespace harvest::test {

class TlsConnection {
public:
  // `host` is what the certificate must name (SNI and verification): "localhost" or "127.0.0.1".
  TlsConnection(int port, const std::string& ca_file, const std::string& host) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr) != 1) {
      error_ = "cannot load " + ca_file;
      return;
    }
    fd_ = connect_loopback(port);
    if (fd_ < 0) {
      error_ = "connection refused";
      return;
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, host.c_str());
    SSL_set1_host(ssl_, host.c_str());
    if (SSL_connect(ssl_) != 1) {
      error_ = "TLS handshake failed: verify result " + std::to_string(SSL_get_verify_result(ssl_));
      return;
    }
    // Reads wait in poll() with a deadline, never in SSL_read.
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    connected_ = true;
  }
  ~TlsConnection() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (fd_ >= 0) ::close(fd_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  }
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  bool connected() const { return connected_; }
  const std::string& error() const { return error_; }

  bool send(const std::string& bytes) {
    return connected_ && SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) == static_cast<int>(bytes.size());
  }
  // Reads until `needle` is in what was read, the peer closes, or `timeout` passes.
  std::string read_until(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (connected_ && buffer_.find(needle) == std::string::npos) {
      if (!read_some(deadline)) break;
    }
    return buffer_;
  }
  // True when the peer closed (or the connection failed) within `timeout`.
  bool closed_within(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline)
      if (!read_some(deadline)) return std::chrono::steady_clock::now() < deadline;
    return false;
  }
  std::string& buffer() { return buffer_; }

private:
  // False on close, error or deadline.
  bool read_some(std::chrono::steady_clock::time_point deadline) {
    char chunk[16384];
    for (;;) {
      const int n = SSL_read(ssl_, chunk, sizeof chunk);
      if (n > 0) {
        buffer_.append(chunk, static_cast<size_t>(n));
        return true;
      }
      const int err = SSL_get_error(ssl_, n);
      if (err != SSL_ERROR_WANT_READ) return false;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    }
  }

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool connected_ = false;
  std::string error_;
  std::string buffer_;
};

}  // namespace harvest::test
