#pragma once
// One RTMP connection on the server thread: handshake, chunk stream, AMF0 commands, and once
// publishing, FLV audio/video tags fed (timestamps repaired) into the stream's pipeline.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "media/ingest/ingest_manager.h"
#include "media/ingest/publish_session.h"
#include "media/rtmp/amf0.h"
#include "media/rtmp/chunk.h"
#include "media/rtmp/flv.h"
#include "media/ingest/timestamp_repair.h"

namespace harvest::media::rtmp {

class RtmpServer;

class RtmpConn {
public:
  // `address` is the peer's IP address, `peer` the address and port.
  RtmpConn(RtmpServer& server, int fd, uint64_t id, std::string address, std::string peer);
  ~RtmpConn();
  RtmpConn(const RtmpConn&) = delete;
  RtmpConn& operator=(const RtmpConn&) = delete;

  int fd() const { return fd_; }
  uint64_t id() const { return id_; }
  bool finished() const { return finished_; }
  const std::string& address() const { return address_; }
  // Sent `publish` with a key that opens a stream (the loop may still refuse it, e.g. busy).
  // Until then the connection is held to RtmpServerOptions::pre_auth_limits.
  bool authenticated() const { return authenticated_; }

  void on_readable();
  void on_writable();
  void check_timeouts(int64_t now_ms);
  // Sends nothing more and closes now, with a log line.
  void close(const std::string& reason, bool error = true);
  void on_publish_answer(const IngestManager::Answer& answer);

  // Whether the server should read this connection as soon as bytes arrive instead of in its
  // coalesced rounds: a publisher's next keyframe is due (by the media time between its last
  // two), so the segment it ends is cut and listed without waiting for a round.
  bool wants_prompt_reads() const;
  bool prompt() const { return prompt_; }
  // While on, the pipeline gets media as it comes (no batching), see StreamPipeline::set_prompt.
  void set_prompt(bool on);

private:
  enum class State { handshake, connecting, connected, awaiting_answer, publishing, closing };
  void on_bytes(std::span<const uint8_t> bytes);
  void on_message(RtmpMessage& msg);
  void on_command(const std::vector<Amf0Value>& values);
  void on_data(const std::vector<Amf0Value>& values);
  void on_media(RtmpMessage& msg);
  void send_control(uint8_t type, uint32_t value, std::optional<uint8_t> extra = std::nullopt);
  void send_command(uint32_t csid, uint32_t stream_id, const std::vector<Amf0Value>& values);
  void send_status(const std::string& level, const std::string& code, const std::string& description);
  void refuse_and_close(const std::string& code, const std::string& description);
  void flush();
  void end_publishing(const std::string& reason);
  bool tracks_ready() const;
  void start_pipeline();
  void push(const RtmpMessage& msg);
  void on_video_head();
  void keyframe_arrived(int64_t media_ms);

  RtmpServer& server_;
  int fd_;
  uint64_t id_;
  std::string address_;
  std::string peer_;
  State state_ = State::handshake;
  bool authenticated_ = false;
  bool finished_ = false;
  int64_t opened_ms_ = 0;
  int64_t last_read_ms_ = 0;
  int64_t close_deadline_ms_ = 0;
  std::string close_reason_;

  ServerHandshake handshake_;
  ChunkParser parser_;
  std::string out_;
  size_t out_pos_ = 0;
  bool write_armed_ = false;
  uint32_t out_chunk_size_ = 128;
  uint64_t bytes_in_ = 0;
  uint64_t acked_ = 0;
  uint32_t ack_window_ = 2'500'000;
  std::string app_;

  std::shared_ptr<PublishSession> session_;
  std::shared_ptr<StreamPipeline> pipeline_;
  bool pipeline_failed_ = false;
  // Track discovery: messages held until the tracks (sequence headers) are known.
  std::vector<RtmpMessage> pending_;
  size_t pending_bytes_ = 0;
  bool have_metadata_ = false;
  bool meta_video_ = false;
  bool meta_audio_ = false;
  std::string video_config_;
  std::string audio_config_;
  AacConfig aac_{};
  bool got_keyframe_ = false;
  // Keyframe timing in media time (the publisher's unwrapped ms), for wants_prompt_reads().
  int64_t media_ms_ = -1;  // the latest media timestamp received
  int64_t last_keyframe_ms_ = -1;
  int64_t keyframe_interval_ms_ = 0;
  std::optional<uint32_t> announced_keyframe_;  // RTMP timestamp of the keyframe told to keyframe_coming()
  bool prompt_ = false;
  TimestampUnwrapper unwrap_;
  TimestampRepair repair_;
};

}  // namespace harvest::media::rtmp
