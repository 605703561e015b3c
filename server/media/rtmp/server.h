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
#include <unordered_map>

#include "core/event_loop.h"
#include "core/listener_thread.h"
#include "media/ingest/ingest_manager.h"
#include "media/rtmp/chunk.h"

namespace harvest::media::rtmp {

class RtmpConn;

struct RtmpServerOptions {
  std::string bind_address = "0.0.0.0";
  int port = 1935;  // 0: pick a free port; see port()
  // From accept to an answered `publish`: slow or stuck clients (slowloris, a truncated
  // handshake, idle sockets held open to fill the server) are closed after this. A publisher
  // gets there in one round trip per command: well under a second even on a weak 4G uplink.
  std::chrono::milliseconds setup_timeout{5'000};
  // A publishing connection that sends nothing at all for this long is closed.
  std::chrono::milliseconds idle_timeout{30'000};
  // All connections. When every slot is taken, the oldest connection that has not presented a
  // valid stream key is closed to make room, so idle sockets cannot lock publishers out.
  size_t max_connections = 512;
  // Connections from one address that have not (yet) sent `publish` with a valid stream key;
  // more are refused at accept. Publishers with a valid key do not count: many phones behind
  // one carrier NAT may all publish.
  size_t max_pending_per_address = 16;
  size_t max_output_bytes = 1 << 20;  // a peer that never reads our replies is closed
  // After a round that handled socket events, wait this long before polling again, so one
  // wake-up reads what many publishers sent meanwhile (each sends a small TCP segment per
  // frame: waking for every one costs more than handling it). Adds at most this to ingest
  // latency, except for a publisher whose next keyframe is due: it is read as soon as its bytes
  // arrive (RtmpConn::wants_prompt_reads), so segment cuts are not delayed. 0: poll again at once.
  std::chrono::milliseconds coalesce{10};
  // Chunk stream limits once `publish` has presented a valid stream key.
  ChunkLimits limits;
  // Before that, a connection needs only the handshake and a few small commands (connect,
  // releaseStream, FCPublish, createStream, publish: some hundred bytes each); audio and video
  // are refused. So a connection that never presents a key holds at most these few KiB.
  ChunkLimits pre_auth_limits{.max_message_bytes = 16 * 1024, .max_buffered_bytes = 32 * 1024, .max_chunk_streams = 8};
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
  // The connection sent `publish` with a key that opens a stream: it no longer counts against
  // its address's limit and is never evicted to make room.
  void on_authenticated(const RtmpConn& conn);

private:
  void run();
  // Handles one epoll_wait's events; true if any was a connection's.
  bool handle(const epoll_event* events, int n);
  // Moves a connection in or out of the prompt set (prompt_fd_) as its keyframe falls due. Called
  // after its I/O: what it wants changes only with the media it was read (its media clock).
  void update_prompt(uint64_t id, RtmpConn& conn);
  void accept_all();
  // A slot for a new connection from `address`: refuses (false) past the per-address limit;
  // when the server is full, closes the oldest connection without a valid key to make room.
  bool admit(const std::string& address, const std::string& peer);
  // One warn line per second at most for refusals at accept, which a flood makes by the thousand.
  void log_refusal(const std::string& peer, const char* reason);
  void forget_pending(const std::string& address);
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
  // In id order, which is accept order: the first unauthenticated one is the oldest.
  std::map<uint64_t, std::unique_ptr<RtmpConn>> conns_;
  std::unordered_map<std::string, size_t> pending_by_address_;  // connections without a valid key
  int64_t refusal_log_ms_ = 0;
  uint64_t refusals_unlogged_ = 0;
  ListenerThread thread_;  // last: joined before the members above go
};

}  // namespace harvest::media::rtmp
