// The reads lws does for websockets, watched for unmasked client frames (see ws_frame_gate.h).
//
// lws offers no hook between the socket and its frame parser, so this file defines recv(),
// SSL_read() and close() in the server itself: the dynamic linker resolves lws' calls to these
// (the executable comes first in symbol lookup) and each forwards to the next definition (libc,
// libssl, or a sanitizer's interceptor) through dlsym(RTLD_NEXT). Only descriptors handed to
// watch_client_frames() are looked at; every other caller pays one atomic load. A gate lives
// from watch_client_frames() until its descriptor is closed, whoever closes it, so a number
// reused by another socket is never read as a websocket.
#include <dlfcn.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <memory>

#include "core/metrics.h"
#include "realtime/ws_frame_gate.h"

namespace harvest::realtime {
namespace {

enum class Transport : uint8_t { plain, tls };

struct WatchedSocket {
  ClientFrameGate gate;
  Transport transport;
};

// Indexed by descriptor. Descriptors past the table (the server's fd limit is far below it)
// are not watched: watch_client_frames() refuses them, and the upgrade is refused.
constexpr int kMaxWatchedFd = 1 << 20;
std::atomic<WatchedSocket*> watched[kMaxWatchedFd];

WatchedSocket* watched_socket(int fd) {
  if (fd < 0 || fd >= kMaxWatchedFd) return nullptr;
  return watched[fd].load(std::memory_order_acquire);
}

void forget(int fd) {
  if (fd < 0 || fd >= kMaxWatchedFd) return;
  if (watched[fd].load(std::memory_order_relaxed) == nullptr) return;  // the common case
  delete watched[fd].exchange(nullptr, std::memory_order_acq_rel);
}

template <typename Fn>
Fn next_definition(const char* name) {
  return reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
}

using RecvFn = ssize_t (*)(int, void*, size_t, int);
using SendFn = ssize_t (*)(int, const void*, size_t, int);
using CloseFn = int (*)(int);
using SslReadFn = int (*)(SSL*, void*, int);

// Follows what was read; false when the stream carried an unmasked frame.
bool frames_masked(WatchedSocket& socket, const void* data, size_t n) {
  if (socket.gate.violated()) return false;
  if (socket.gate.feed(static_cast<const uint8_t*>(data), n)) return true;
  metrics().http_refused.add("ws_unmasked_frame");
  return false;
}

}  // namespace

void watch_client_frames(int fd, uint64_t skip) {
  if (fd < 0 || fd >= kMaxWatchedFd) return;
  delete watched[fd].exchange(new WatchedSocket{ClientFrameGate(skip), Transport::plain}, std::memory_order_acq_rel);
}

void watch_client_frames_tls(int fd) {
  if (fd < 0 || fd >= kMaxWatchedFd) return;
  delete watched[fd].exchange(new WatchedSocket{ClientFrameGate(0), Transport::tls}, std::memory_order_acq_rel);
}

bool client_frames_watched(int fd) { return watched_socket(fd) != nullptr; }

}  // namespace harvest::realtime

using harvest::realtime::Transport;

extern "C" ssize_t recv(int fd, void* buf, size_t len, int flags) {
  static const auto next = harvest::realtime::next_definition<harvest::realtime::RecvFn>("recv");
  const ssize_t got = next(fd, buf, len, flags);
  if (got <= 0 || (flags & MSG_PEEK) != 0) return got;
  auto* socket = harvest::realtime::watched_socket(fd);
  if (socket == nullptr || socket->transport != Transport::plain) return got;
  if (harvest::realtime::frames_masked(*socket, buf, static_cast<size_t>(got))) return got;
  // RFC 6455 7.4.1: 1002, protocol error. Written directly: the connection ends here, so a
  // frame lws had half written does not matter any more. Then lws reads "end of stream".
  static const auto send_next = harvest::realtime::next_definition<harvest::realtime::SendFn>("send");
  static const unsigned char close_1002[] = {0x88, 0x02, 0x03, 0xea};
  (void)send_next(fd, close_1002, sizeof close_1002, MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(fd, SHUT_RDWR);
  return 0;
}

extern "C" int SSL_read(SSL* ssl, void* buf, int num) {
  static const auto next = harvest::realtime::next_definition<harvest::realtime::SslReadFn>("SSL_read");
  const int got = next(ssl, buf, num);
  if (got <= 0) return got;
  const int fd = SSL_get_fd(ssl);
  auto* socket = harvest::realtime::watched_socket(fd);
  if (socket == nullptr || socket->transport != Transport::tls) return got;
  if (harvest::realtime::frames_masked(*socket, buf, static_cast<size_t>(got))) return got;
  ::shutdown(fd, SHUT_RDWR);  // no close frame: it would have to be encrypted by lws
  return 0;
}

extern "C" int close(int fd) {
  static const auto next = harvest::realtime::next_definition<harvest::realtime::CloseFn>("close");
  harvest::realtime::forget(fd);
  return next(fd);
}
