#include "core/metrics.h"

#include <cstdio>

namespace harvest {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

void Histogram::merge(Batch& batch) {
  if (batch.count_ == 0) return;
  for (size_t i = 0; i < batch.buckets_.size(); ++i) {
    if (batch.buckets_[i] == 0) continue;
    buckets_[i].fetch_add(batch.buckets_[i], std::memory_order_relaxed);
    batch.buckets_[i] = 0;
  }
  count_.fetch_add(batch.count_, std::memory_order_relaxed);
  sum_.fetch_add(batch.sum_, std::memory_order_relaxed);
  batch.count_ = 0;
  batch.sum_ = 0;
}

namespace {
std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}
}  // namespace

void Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    const std::string le = i < bounds_.size() ? number(bounds_[i]) : "+Inf";
    out += name + "_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_sum " + number(sum_.load(std::memory_order_relaxed)) + "\n";
  out += name + "_count " + std::to_string(count_.load(std::memory_order_relaxed)) + "\n";
}

double Histogram::quantile_bound(double q) const {
  const uint64_t total = count();
  if (total == 0) return 0;
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    if (static_cast<double>(cumulative) >= q * static_cast<double>(total))
      return i < bounds_.size() ? bounds_[i] : bounds_.back() * 2;
  }
  return bounds_.back();
}

void LabelledCounter::add(const std::string& label, uint64_t n) {
  std::lock_guard lock(mutex_);
  values_[label] += n;
}

std::map<std::string, uint64_t> LabelledCounter::snapshot() const {
  std::lock_guard lock(mutex_);
  return values_;
}

Metrics& metrics() {
  static Metrics m;
  return m;
}

void render_http_metrics(std::string& out) {
  auto& m = metrics();
  out += "# HELP harvest_http_accept_errors_total Connections the HTTP listener could not accept "
         "(out of file descriptors or memory).\n# TYPE harvest_http_accept_errors_total counter\n";
  out += "harvest_http_accept_errors_total " + std::to_string(m.http_accept_errors.load()) + "\n";
  out += "# HELP harvest_http_refused_total HTTP requests refused before their handler ran, by reason.\n"
         "# TYPE harvest_http_refused_total counter\n";
  for (const auto& [reason, n] : m.http_refused.snapshot())
    out += "harvest_http_refused_total{reason=\"" + reason + "\"} " + std::to_string(n) + "\n";
}

void count_ingest_refusal(const std::string& protocol, const std::string& reason) {
  metrics().ingest_refused.add(protocol + "/" + reason);
}

}  // namespace harvest
