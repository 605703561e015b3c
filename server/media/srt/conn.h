#pragma once
// One SRT publisher on the SRT server thread: asks the loop to publish, then pushes the
// MPEG-TS it receives into the stream pipeline (appsrc ! tsdemux ...), and reports link stats.
#include <cstdint>
#include <memory>
#include <string>

#include "media/ingest/ingest_manager.h"
#include "media/ingest/publish_session.h"

namespace harvest::media::srt {

class SrtServer;

class SrtConn {
public:
  SrtConn(SrtServer& server, int socket, std::string peer, std::string stream_key);
  ~SrtConn();
  SrtConn(const SrtConn&) = delete;
  SrtConn& operator=(const SrtConn&) = delete;

  int socket() const { return socket_; }
  bool finished() const { return finished_; }
  void request_publish();
  void on_publish_answer(const IngestManager::Answer& answer);
  void on_readable();
  void tick(int64_t now_ms);  // timeouts and link stats
  void close(const std::string& reason, bool error = true);

private:
  enum class State { awaiting_answer, publishing };
  SrtServer& server_;
  int socket_;
  std::string peer_;
  std::string key_;
  State state_ = State::awaiting_answer;
  bool finished_ = false;
  int64_t opened_ms_ = 0;
  int64_t last_data_ms_ = 0;
  int64_t last_stats_ms_ = 0;
  uint64_t bytes_in_ = 0;
  std::string held_;  // TS received before the answer (bounded)
  std::shared_ptr<PublishSession> session_;
  std::shared_ptr<StreamPipeline> pipeline_;
};

}  // namespace harvest::media::srt
