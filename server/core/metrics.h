#pragma once
// Process-wide counters and histograms for GET /metrics (Prometheus text format).
// Thread-safe: store threads and the loop thread update them without locks (relaxed atomics).
#include <array>
#include <memory>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace harvest {

class Histogram {
public:
  class Batch;
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  // Adds what `batch` gathered and empties it.
  void merge(Batch& batch);
  // Appends "<name>_bucket{le=..}", "_sum", "_count" lines (with HELP/TYPE).
  void render(std::string& out, const std::string& name, const std::string& help) const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  // The smallest bucket bound holding at least `q` of the observations (0 if none).
  double quantile_bound(double q) const;

private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1 (+Inf)
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Observations gathered on one thread and merged into a Histogram now and then. A hot path
// shared by several threads (the fan-out shards write 10,000 messages per event) would otherwise
// bounce the histogram's cache lines between cores with three atomic adds per observation.
class Histogram::Batch {
public:
  explicit Batch(const Histogram& h) : bounds_(&h.bounds_), buckets_(h.bounds_.size() + 1, 0) {}
  void observe(double value) {
    size_t i = 0;
    while (i < bounds_->size() && value > (*bounds_)[i]) ++i;
    buckets_[i]++;
    count_++;
    sum_ += value;
  }

private:
  friend class Histogram;
  const std::vector<double>* bounds_;
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  double sum_ = 0;
};

// Counters labelled by one string (e.g. rejection reason), created on first use.
class LabelledCounter {
public:
  void add(const std::string& label, uint64_t n = 1);
  std::map<std::string, uint64_t> snapshot() const;

private:
  mutable std::mutex mutex_;
  std::map<std::string, uint64_t> values_;
};

// Ingest counters of one protocol; updated from the ingest threads (relaxed atomics).
struct IngestCounters {
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> video_frames_in{0};
  std::atomic<uint64_t> audio_frames_in{0};
  std::atomic<uint64_t> publishes{0};  // publishers accepted
  std::atomic<uint64_t> takeovers{0};  // of those, took over a stalled publisher
  std::atomic<uint64_t> segments{0};   // passthrough HLS segments written
  // of those, cut as their ending keyframe began to arrive (StreamPipeline::keyframe_coming)
  std::atomic<uint64_t> segments_cut_early{0};
};

struct Metrics {
  IngestCounters ingest_rtmp;
  IngestCounters ingest_srt;
  IngestCounters ingest_whip;
  IngestCounters& ingest(const std::string& protocol) {
    return protocol == "srt" ? ingest_srt : protocol == "whip" ? ingest_whip : ingest_rtmp;
  }
  // WebRTC peers running now (WHIP publishers, being answered or publishing, and uplink checks):
  // what a refused or ended publisher must not leave behind.
  std::atomic<int64_t> whip_sessions{0};
  LabelledCounter ingest_refused;  // label "protocol/reason", see ingest_refused_label()

  std::atomic<uint64_t> ws_messages_in{0};
  std::atomic<uint64_t> ws_messages_out{0};  // messages (events) delivered to sockets
  std::atomic<uint64_t> ws_frames_out{0};    // websocket frames written (batched messages share one)
  std::atomic<uint64_t> ws_dropped_superseded{0};
  std::atomic<uint64_t> ws_slow_disconnects{0};
  std::atomic<uint64_t> ws_keepalive_closes{0};  // not heard from within ws_hangup_after
  std::atomic<uint64_t> ws_connections{0};
  // HTTP edge: accept() failures (out of descriptors: EMFILE/ENFILE, or the kernel's memory)
  // and requests refused before their handler ran, by reason (uri_too_long, head_too_large,
  // body_too_large, body_timeout, busy, length_required, bad_length).
  std::atomic<uint64_t> http_accept_errors{0};
  LabelledCounter http_refused;
  std::atomic<uint64_t> orders_confirmed{0};
  std::atomic<int64_t> gmv_fen{0};
  LabelledCounter orders_rejected;  // by reason
  // Durable changes of orders after the buy, by the status reached ("updated": same status,
  // e.g. a new address or a refund_due flag), and payment notifications by outcome.
  LabelledCounter order_changes;
  LabelledCounter payment_notices;
  Histogram fanout_latency_s{{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}};
  Histogram store_group_size{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048}};
  Histogram store_commit_latency_s{{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}};
  Histogram order_ack_latency_s{{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}};
};

// The process's metrics.
Metrics& metrics();

// Appends the HTTP edge's counters (Prometheus text) for GET /metrics.
void render_http_metrics(std::string& out);

// Counts a refused publisher (wrong key, busy stream, unsupported codec, too many connections...).
void count_ingest_refusal(const std::string& protocol, const std::string& reason);

}  // namespace harvest
