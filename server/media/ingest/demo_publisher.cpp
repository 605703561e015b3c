#include "media/ingest/demo_publisher.h"

#include <gst/gst.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/log.h"
#include "media/rtmp/chunk.h"
#include "media/rtmp/flv.h"

namespace harvest::media {

namespace fs = std::filesystem;

void DemoPublisher::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void DemoPublisher::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    if (active_ != nullptr) active_->interrupt();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool DemoPublisher::wait_until(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  wake_.wait_until(lock, deadline, [this] { return stop_; });
  return !stop_;
}

std::string DemoPublisher::encode_loop(const Options& o, const std::string& path) {
  const int frames = o.fps * o.seconds;
  const int audio_buffers = o.seconds * 44100 / 1024 + 1;
  std::ostringstream desc;
  desc << "videotestsrc pattern=ball num-buffers=" << frames
       << " foreground-color=0xfff2c14e background-color=0xff2e6b3a motion=sweep"
       << " ! video/x-raw,width=" << o.width << ",height=" << o.height << ",framerate=" << o.fps << "/1"
       << " ! x264enc speed-preset=ultrafast tune=zerolatency bitrate=1500 key-int-max=" << o.fps
       << " ! video/x-h264,profile=constrained-baseline ! h264parse ! queue ! flvmux name=mux streamable=true"
       << " ! filesink location=\"" << path << "\""
       << " audiotestsrc wave=ticks volume=0.3 num-buffers=" << audio_buffers
       << " ! audio/x-raw,rate=44100,channels=2 ! avenc_aac ! aacparse ! queue ! mux.";
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(desc.str().c_str(), &err);
  if (pipeline == nullptr || err != nullptr) {
    std::string message = err != nullptr ? err->message : "cannot build the encoder";
    if (err != nullptr) g_error_free(err);
    if (pipeline != nullptr) gst_object_unref(pipeline);
    return message;
  }
  // A one-off file encode on the demo's own thread: nothing on the control plane waits for it,
  // so its bus is read here rather than bridged to the loop.
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg = gst_bus_timed_pop_filtered(bus, 120 * GST_SECOND,
                                               static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  std::string error;
  if (msg == nullptr) {
    error = "encoding the demo loop timed out";
  } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError* e = nullptr;
    gst_message_parse_error(msg, &e, nullptr);
    error = e != nullptr ? e->message : "encoder error";
    if (e != nullptr) g_error_free(e);
  }
  if (msg != nullptr) gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  return error;
}

void DemoPublisher::run() {
  std::error_code ec;
  fs::create_directories(options_.work_dir, ec);
  const std::string loop_path = options_.work_dir + "/loop-" + std::to_string(options_.width) + "x" +
                                std::to_string(options_.height) + "-" + std::to_string(options_.fps) + ".flv";
  if (!fs::exists(loop_path, ec) || fs::file_size(loop_path, ec) < 1024) {
    const std::string tmp = loop_path + ".tmp";
    if (auto err = encode_loop(options_, tmp); !err.empty()) {
      log::error("demo_publisher_failed").kv("reason", err);
      return;
    }
    fs::rename(tmp, loop_path, ec);
  }
  std::ifstream in(loop_path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  auto tags = rtmp::parse_flv_file(bytes.str());
  if (!tags || tags->empty()) {
    log::error("demo_publisher_failed").kv("reason", "the demo loop file is not FLV").kv("file", loop_path);
    return;
  }
  uint32_t loop_ms = 0;
  for (const auto& t : *tags) loop_ms = std::max(loop_ms, t.timestamp);
  loop_ms += static_cast<uint32_t>(1000 / std::max(options_.fps, 1));

  int attempt = 0;
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stop_) return;
    }
    if (attempt++ > 0 && !wait_until(std::chrono::steady_clock::now() + std::chrono::seconds(2))) return;
    rtmp::RtmpPublisher publisher;
    {
      std::lock_guard lock(mutex_);
      if (stop_) return;
      active_ = &publisher;
    }
    const auto result = publisher.publish("127.0.0.1", options_.rtmp_port, "live", options_.stream_key);
    if (!result.ok) {
      log::warn("demo_publisher_retry")
          .kv("reason", !result.error.empty() ? result.error : result.code + " " + result.description);
    } else {
      log::info("demo_publisher_live").kv("loop_s", loop_ms / 1000.0);
      // Replay the loop forever in real time; timestamps keep counting across iterations.
      const auto start = std::chrono::steady_clock::now();
      uint64_t offset = 0;
      bool ok = true;
      for (bool first = true; ok; first = false, offset += loop_ms) {
        for (const auto& t : *tags) {
          const bool header = t.type == rtmp::kDataAmf0 ||
                              (t.type == rtmp::kVideo && t.body.size() > 1 && t.body[1] == 0) ||
                              (t.type == rtmp::kAudio && t.body.size() > 1 && t.body[1] == 0);
          if (!first && header) continue;
          const uint64_t ts = offset + t.timestamp;
          if (!wait_until(start + std::chrono::milliseconds(ts))) {
            ok = false;
            break;
          }
          if (!publisher.send_tag(t.type, static_cast<uint32_t>(ts), t.body)) {
            log::warn("demo_publisher_retry").kv("reason", "connection lost");
            ok = false;
            break;
          }
        }
      }
    }
    std::lock_guard lock(mutex_);
    active_ = nullptr;
  }
}

}  // namespace harvest::media
