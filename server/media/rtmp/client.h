#pragma once
// A minimal blocking RTMP publisher: handshake, connect, createStream, publish, then FLV tags
// as RTMP messages. The built-in demo publisher pushes its loop through it, and tests use it to
// send exactly the bytes they want (bad timestamps, HEVC tags, ...).
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "media/rtmp/chunk.h"

namespace harvest::media::rtmp {

class RtmpPublisher {
public:
  struct Result {
    bool ok = false;          // NetStream.Publish.Start received
    std::string code;         // the onStatus / _error code
    std::string description;
    std::string error;        // transport failure, if any
  };

  RtmpPublisher() = default;
  ~RtmpPublisher();
  RtmpPublisher(const RtmpPublisher&) = delete;
  RtmpPublisher& operator=(const RtmpPublisher&) = delete;

  // Connects to host:port and publishes `key` in application `app`; each step waits at most
  // `timeout`.
  Result publish(const std::string& host, int port, const std::string& app, const std::string& key,
                 std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Sends one FLV tag body (8 audio, 9 video, 18 script data) at `timestamp_ms`. A script tag
  // ("onMetaData", ...) gets the "@setDataFrame" prefix RTMP servers expect.
  bool send_tag(uint8_t type, uint32_t timestamp_ms, std::string_view body);
  // Sends raw bytes (tests).
  bool send_raw(std::string_view bytes);
  // Reads what the server sent, waiting up to `wait`; returns the last onStatus code seen
  // (empty if none) and fills `description`. Also tells whether the server closed.
  std::string read_status(std::chrono::milliseconds wait, std::string* description = nullptr);
  bool peer_closed() const { return peer_closed_; }
  void close();
  // Any thread: makes a blocked send/read return (shutdown).
  void interrupt();

private:
  bool write_all(std::string_view bytes);
  bool read_messages(std::chrono::milliseconds wait, std::vector<RtmpMessage>& out);

  int fd_ = -1;
  ChunkParser parser_;
  uint32_t stream_id_ = 1;
  uint32_t out_chunk_size_ = 4096;
  bool peer_closed_ = false;
};

}  // namespace harvest::media::rtmp
