#include "realtime/request_budget.h"

#include <algorithm>
#include <cmath>

#include "core/metrics.h"

namespace harvest::realtime {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

}  // namespace

RequestClass classify_request(std::string_view method, std::string_view path) {
  if (method != "GET" && method != "HEAD") return RequestClass::api;
  for (std::string_view files : {"/hls/", "/static/", "/images/", "/samples/images/"})
    if (starts_with(path, files)) return RequestClass::files;
  return RequestClass::api;
}

bool RequestBudget::limited(std::string_view address, RequestClass c) const {
  const double rate = c == RequestClass::files ? options_.file_rate : options_.api_rate;
  if (rate <= 0 || address.empty()) return false;
  return std::find(options_.exempt.begin(), options_.exempt.end(), address) == options_.exempt.end();
}

int64_t RequestBudget::take(std::string_view address, RequestClass c, Clock::time_point now) {
  if (!limited(address, c)) return 0;
  const bool files = c == RequestClass::files;
  const double rate = files ? options_.file_rate : options_.api_rate;
  const double burst = files ? options_.file_burst : options_.api_burst;
  std::lock_guard lock(mutex_);
  auto it = by_address_.find(std::string(address));
  if (it == by_address_.end()) {
    if (by_address_.size() >= options_.max_addresses) forget_idle(now);
    if (by_address_.size() >= options_.max_addresses) {
      metrics().http_refused.add("budget_table_full");  // not refused: counted, let through
      return 0;
    }
    it = by_address_.emplace(std::string(address), Buckets{}).first;
  }
  TokenBucket& bucket = files ? it->second.files : it->second.api;
  if (bucket.take(rate, burst, now)) return 0;
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(bucket.wait_s(rate, burst, now))));
}

size_t RequestBudget::tracked() const {
  std::lock_guard lock(mutex_);
  return by_address_.size();
}

// An address whose buckets are both full again is as good as new: forgetting it loses nothing.
void RequestBudget::forget_idle(Clock::time_point now) {
  for (auto it = by_address_.begin(); it != by_address_.end();) {
    const bool idle =
        (options_.api_rate <= 0 || it->second.api.full(options_.api_rate, options_.api_burst, now)) &&
        (options_.file_rate <= 0 || it->second.files.full(options_.file_rate, options_.file_burst, now));
    it = idle ? by_address_.erase(it) : std::next(it);
  }
}

}  // namespace harvest::realtime
