#pragma once
// The built-in demo publisher (--demo): pushes a looping portrait stream over real RTMP to the
// server's own RTMP port with the demo stream's key, so the demo exercises the real ingest
// path. The loop (720x1280, 30 fps, moving ball, ticking audio, H.264 + AAC in FLV) is encoded
// once into the data directory and then replayed in real time with no encoder running, which
// keeps it cheap on a small machine. If the connection drops it reconnects.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "media/rtmp/client.h"

namespace harvest::media {

class DemoPublisher {
public:
  struct Options {
    int rtmp_port = 1935;
    std::string stream_key;
    std::string work_dir;  // where the encoded loop is kept
    int width = 720;
    int height = 1280;
    int fps = 30;
    int seconds = 10;
  };
  explicit DemoPublisher(Options options) : options_(std::move(options)) {}
  ~DemoPublisher() { stop(); }
  DemoPublisher(const DemoPublisher&) = delete;
  DemoPublisher& operator=(const DemoPublisher&) = delete;

  void start();
  void stop();

  // Encodes the loop into `path` with GStreamer (blocking). Returns an error sentence, or empty.
  static std::string encode_loop(const Options& options, const std::string& path);

private:
  void run();
  // Sleeps until `deadline` unless stopped; false when stopped.
  bool wait_until(std::chrono::steady_clock::time_point deadline);

  Options options_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  rtmp::RtmpPublisher* active_ = nullptr;  // under mutex_, to interrupt a blocked send
};

}  // namespace harvest::media
