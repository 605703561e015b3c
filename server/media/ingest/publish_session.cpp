#include "media/ingest/publish_session.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/stream_registry.h"
#include "media/hls/hls_writer.h"
#include "media/ingest/stream_pipeline.h"

namespace harvest::media {

void PublishSession::touch() { last_data_steady_ms.store(steady_ms()); }

void PublishSession::set_epoch_once(int64_t first_rt_ns) {
  int64_t expected = 0;
  epoch_wall_ms.compare_exchange_strong(expected, now_ms() - first_rt_ns / 1'000'000);
}

void PublishSession::merge_info(const nlohmann::json& fields) {
  std::lock_guard lock(mutex_);
  info_.update(fields);
}

nlohmann::json PublishSession::info() const {
  std::lock_guard lock(mutex_);
  return info_;
}

void PublishSession::set_pipeline(std::shared_ptr<StreamPipeline> p) {
  std::lock_guard lock(mutex_);
  pipeline_ = std::move(p);
}

std::shared_ptr<StreamPipeline> PublishSession::pipeline() const {
  std::lock_guard lock(mutex_);
  return pipeline_;
}

void SegmentListing::open(std::shared_ptr<hls::HlsWriter> writer) {
  std::lock_guard lock(mutex_);
  writer_ = std::move(writer);
  begun_ = false;
}

void SegmentListing::close() {
  std::lock_guard lock(mutex_);
  writer_.reset();
}

bool SegmentListing::list(const std::string& path, uint64_t start_ns, uint64_t end_ns, int64_t session_wall_ms) {
  std::lock_guard lock(mutex_);
  if (!writer_) return false;
  if (!begun_) {
    writer_->begin_session(session_wall_ms);
    begun_ = true;
  }
  if (auto st = writer_->list_segment(path, start_ns, end_ns); !st)
    log::error("hls_write_failed").kv("file", path).kv("reason", st.message());
  return true;
}

}  // namespace harvest::media
