#pragma once
// The SRT ingest listener, on libsrt directly: one UDP port serves many publishers, each picked
// by its stream id ("#!::r=live/KEY,m=publish"). srt_listen_callback sees the stream id before
// the handshake completes, so a wrong key or mode is rejected with an SRT reject code
// (1403 forbidden, 1405 bad mode, 1400 bad request) and the caller never connects.
// (srtsrc in listener mode serves one caller per element and port; see docs/ingest.md.)
// One thread runs srt_epoll over the listener and every connection.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/event_loop.h"
#include "core/listener_thread.h"
#include "media/ingest/ingest_manager.h"

namespace harvest::media::srt {

class SrtConn;

struct SrtServerOptions {
  std::string bind_address = "0.0.0.0";
  int port = 9000;  // 0: pick a free port
  std::chrono::milliseconds latency{200};
  std::chrono::milliseconds idle_timeout{10'000};  // no media for this long: closed
  size_t max_connections = 256;
};

class SrtServer {
public:
  SrtServer(EventLoop& loop, IngestManager& ingest, SrtServerOptions options);
  ~SrtServer();
  SrtServer(const SrtServer&) = delete;
  SrtServer& operator=(const SrtServer&) = delete;

  std::string start();
  int port() const { return port_; }
  void stop();
  // Any thread: runs `task` on the server thread (within ~50 ms).
  void post(std::function<void()> task);

  // Called by libsrt on its own thread for each caller, before accepting it.
  int on_listen(int socket, const char* stream_id, const std::string& peer);

  EventLoop& loop() { return loop_; }
  IngestManager& ingest() { return ingest_; }
  const SrtServerOptions& options() const { return options_; }
  SrtConn* find(int socket);
  // Server thread: stop watching a socket (before it is closed).
  void forget(int socket);

private:
  void run();
  void accept_all();

  EventLoop& loop_;
  IngestManager& ingest_;
  SrtServerOptions options_;
  int listener_ = -1;
  int epoll_ = -1;
  int port_ = 0;
  std::map<int, std::unique_ptr<SrtConn>> conns_;
  // Callers let through on_listen per stream and when (libsrt's thread): the loop decides who
  // publishes only after accept, so without this many callers at once with the right key were
  // all accepted by libsrt and all but one then closed without a reject code. A second caller
  // within kAdmissionHold of the first is rejected 1409 (conflict) at once; after that the
  // publisher health check (has_healthy_publisher) decides.
  static constexpr std::chrono::milliseconds kAdmissionHold{2000};
  std::mutex admissions_mutex_;
  std::map<std::string, std::chrono::steady_clock::time_point> admitted_at_;
  // No wake-up: the loop's srt_epoll_uwait returns every 50 ms and runs the tasks then.
  ListenerThread thread_;  // last: joined before the members above go
};

}  // namespace harvest::media::srt
