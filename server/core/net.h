#pragma once
// TCP listening sockets for the servers that accept connections themselves (RTMP, and HTTP
// when fan-out threads take over accepting from lws).
#include <string>

namespace harvest::net {

struct Listener {
  enum class Outcome { ok, bad_address, failed };
  Outcome outcome = Outcome::failed;
  int fd = -1;   // owned by the caller when ok
  int port = 0;  // the bound port (the one picked when asked for 0)
  int error = 0; // errno of the failed call
};

// Binds and listens on IPv4 `address`:`port` (0 picks a free port) with SO_REUSEADDR,
// close-on-exec, and O_NONBLOCK when `nonblocking`. On failure nothing is left open.
Listener listen_tcp(const std::string& address, int port, int backlog, bool nonblocking);

}  // namespace harvest::net
