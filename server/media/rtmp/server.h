#pragma once
// The RTMP ingest listener: one thread, non-blocking sockets on epoll, one RtmpConn per
// connection. Publish requests go to the control-plane loop (IngestManager::publish) and the
// answer comes back to this thread through post().
#include <sys/epoll.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/event_loop.h"
#include "core/listener_thread.h"
#include "media/ingest_manager.h"
#include "media/rtmp/chunk.h"

namespace harvest::media::rtmp {

class RtmpConn;

struct RtmpServerOptions {
  std::string bind_address = "0.0.0.0";
  int port = 1935;  // 0: pick a free port; see port()
  // From accept to an answered `publish`: slow or stuck clients (slowloris, a truncated
  // handshake) are closed after this.
  std::chrono::milliseconds setup_timeout{10'000};
  // A publishing connection that sends nothing at all for this long is closed.
  std::chrono::milliseconds idle_timeout{30'000};
  size_t max_connections = 512;
  size_t max_output_bytes = 1 << 20;  // a peer that never reads our replies is closed
  // After a round that handled socket events, wait this long before polling again, so one
  // wake-up reads what many publishers sent meanwhile (each sends a small TCP segment per
  // frame: waking for every one costs more than handling it). Adds at most this to ingest
  // latency, except for a publisher whose next keyframe is due: it is read as soon as its bytes
  // arrive (RtmpConn::wants_prompt_reads), so segment cuts are not delayed. 0: poll again at once.
  std::chrono::milliseconds coalesce{10};
  ChunkLimits limits;
};

class RtmpServer {
public:
  RtmpServer(EventLoop& loop, IngestManager& ingest, RtmpServerOptions options);
  ~RtmpServer();
  RtmpServer(const RtmpServer&) = delete;
  RtmpServer& operator=(const RtmpServer&) = delete;

  // Binds, listens and starts the thread. Returns an error sentence, or empty.
  std::string start();
  int port() const { return port_; }
  // Closes every connection and joins the thread. Idempotent.
  void stop();

  // Any thread: runs `task` on the server thread.
  void post(std::function<void()> task);

  // --- for RtmpConn (server thread) ---
  EventLoop& loop() { return loop_; }
  IngestManager& ingest() { return ingest_; }
  const RtmpServerOptions& options() const { return options_; }
  void want_write(int fd, bool on);
  // Stops watching `fd`; call before closing it (a new connection may get the same number).
  void forget(int fd);
  RtmpConn* find(uint64_t conn_id);
  void kick(uint64_t conn_id, const std::string& reason);

private:
  void run();
  // Handles one epoll_wait's events; true if any was a connection's.
  bool handle(const epoll_event* events, int n);
  // Moves a connection in or out of the prompt set (prompt_fd_) as its keyframe falls due. Called
  // after its I/O: what it wants changes only with the media it was read (its media clock).
  void update_prompt(uint64_t id, RtmpConn& conn);
  void accept_all();
  void close_finished();

  EventLoop& loop_;
  IngestManager& ingest_;
  RtmpServerOptions options_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int prompt_fd_ = -1;  // a second epoll with the connections read promptly; see `coalesce`
  int wake_fd_ = -1;
  int port_ = 0;
  uint64_t next_id_ = 16;
  std::map<uint64_t, std::unique_ptr<RtmpConn>> conns_;
  ListenerThread thread_;  // last: joined before the members above go
};

}  // namespace harvest::media::rtmp
