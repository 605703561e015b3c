#pragma once
// HTTP requests per client address (a token bucket per address and class of request), so
// that one address cannot keep the server's single control loop busy with requests, while
// many real viewers behind one carrier-grade NAT address (a county's phones share a few
// addresses) keep playing: HLS and other files (playlists, segments, static pages' assets,
// product photos) have a budget of their own, far larger than the API's (pages, REST, WHIP).
// Over budget: 429 with Retry-After. Addresses in `exempt` (default 127.0.0.1: a reverse
// proxy in front, which carries every client's requests; limit there) are never limited.
//
// Thread-safe: the acceptor charges a connection's first request (and answers one over budget
// before the loop sees it); the shard that reads later requests on a kept-alive connection
// charges those. Pure apart from the lock: the time is passed in.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/token_bucket.h"

namespace harvest::realtime {

enum class RequestClass {
  files,  // GET/HEAD of HLS playlists and segments, replays, /static/, /images/, /samples/
  api,    // everything else: pages, /api/, /whip/, /trace/, /metrics
};
RequestClass classify_request(std::string_view method, std::string_view path);

struct RequestBudgetOptions {
  // Per address and second, and the burst (a page load's assets, a flash sale's checkouts).
  // A rate of 0 turns that class's limit off.
  double api_rate = 100;
  double api_burst = 400;
  // HLS: ~1-3 requests a second per viewer (playlist reload + segment), ~6 with LL-HLS parts:
  // 3,000/s is a few hundred to a thousand viewers behind one address.
  double file_rate = 3000;
  double file_burst = 6000;
  std::vector<std::string> exempt = {"127.0.0.1"};
  // Addresses tracked at most; idle ones (full buckets) are forgotten first. Past it, new
  // addresses are not limited (counted in harvest_http_refused{reason="budget_table_full"}).
  size_t max_addresses = 200'000;
};

class RequestBudget {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RequestBudget(RequestBudgetOptions options) : options_(std::move(options)) {}

  // Charges one request of class `c` from `address`: 0 when it may go on, else the seconds
  // after which one may (Retry-After, at least 1).
  int64_t take(std::string_view address, RequestClass c, Clock::time_point now);
  size_t tracked() const;
  const RequestBudgetOptions& options() const { return options_; }

 private:
  struct Buckets {
    TokenBucket api;
    TokenBucket files;
  };
  bool limited(std::string_view address, RequestClass c) const;
  void forget_idle(Clock::time_point now);

  RequestBudgetOptions options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Buckets> by_address_;
};

}  // namespace harvest::realtime
