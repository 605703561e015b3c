#include "media/publish_session.h"

#include <chrono>

#include "core/stream_registry.h"
#include "media/stream_pipeline.h"

namespace harvest::media {

int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

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

}  // namespace harvest::media
