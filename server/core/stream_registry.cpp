#include "core/stream_registry.h"

#include <algorithm>
#include <chrono>

#include "core/tokens.h"

namespace harvest {

Status StreamRegistry::load() {
  std::vector<StreamRecord> records;
  if (auto st = store_.list_streams(records); !st) return st;
  for (auto& record : records) {
    auto state = std::make_unique<StreamState>();
    state->record = std::move(record);
    by_key_[state->record.stream_key] = state.get();
    by_id_[state->record.id] = std::move(state);
  }
  return Status::ok();
}

Status StreamRegistry::create(const std::string& title, const std::string& farmer, StreamState*& out) {
  return create_with_id(tokens::random_id(8), title, farmer, out);
}

Status StreamRegistry::ensure_demo_stream(StreamState*& out) {
  out = find("demo");
  if (out != nullptr) return Status::ok();
  return create_with_id("demo", "隰县玉露香梨 · 宿迁大闸蟹 · 重庆特产 直播间", "Harvest Live 示范农场", out);
}

Status StreamRegistry::ensure_phone_demo_stream(StreamState*& out) {
  out = find("phone");
  if (out != nullptr) return Status::ok();
  return create_with_id("phone", "手机直播 · 果园现场", "Harvest Live 示范农场", out);
}

Status StreamRegistry::create_with_id(const std::string& id, const std::string& title, const std::string& farmer,
                                      StreamState*& out) {
  StreamRecord record;
  record.id = id;
  record.title = title;
  record.farmer = farmer;
  return create_record(std::move(record), out);
}

Status StreamRegistry::create(const StreamRecord& fields, StreamState*& out) {
  StreamRecord record = fields;
  record.id = tokens::random_id(8);
  record.ended_at_ms = 0;
  return create_record(std::move(record), out);
}

Status StreamRegistry::create_record(StreamRecord record, StreamState*& out) {
  auto state = std::make_unique<StreamState>();
  state->record = std::move(record);
  state->record.stream_key = "sk_" + tokens::random_hex(16);
  state->record.created_at_ms = now_ms();
  if (auto st = store_.create_stream(state->record); !st) return st;
  out = state.get();
  by_key_[state->record.stream_key] = out;
  by_id_[state->record.id] = std::move(state);
  notify(*out, Change::created);
  return Status::ok();
}

Status StreamRegistry::replace(StreamState& s, StreamRecord changed, Change c) {
  if (auto st = store_.update_stream(changed); !st) return st;
  by_key_.erase(s.record.stream_key);
  s.record = std::move(changed);
  by_key_[s.record.stream_key] = &s;
  notify(s, c);
  return Status::ok();
}

Status StreamRegistry::update_details(const std::string& id, const std::string& title, int64_t scheduled_at_ms,
                                      const std::string& cover) {
  StreamState* s = find(id);
  if (s == nullptr) return Status::error("no such stream");
  StreamRecord changed = s->record;
  changed.title = title;
  changed.scheduled_at_ms = scheduled_at_ms;
  changed.cover = cover;
  return replace(*s, std::move(changed), Change::details);
}

Status StreamRegistry::rotate_key(const std::string& id) {
  StreamState* s = find(id);
  if (s == nullptr) return Status::error("no such stream");
  StreamRecord changed = s->record;
  changed.stream_key = "sk_" + tokens::random_hex(16);
  return replace(*s, std::move(changed), Change::key_rotated);
}

Status StreamRegistry::end(const std::string& id, int64_t at_ms) {
  StreamState* s = find(id);
  if (s == nullptr) return Status::error("no such stream");
  if (s->record.ended_at_ms != 0) return Status::ok();
  StreamRecord changed = s->record;
  changed.ended_at_ms = at_ms;
  return replace(*s, std::move(changed), Change::ended);
}

StreamState* StreamRegistry::find(const std::string& id) {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second.get();
}

StreamState* StreamRegistry::find_by_key(const std::string& stream_key) {
  auto it = by_key_.find(stream_key);
  return it == by_key_.end() ? nullptr : it->second;
}

std::vector<const StreamState*> StreamRegistry::all() const {
  std::vector<const StreamState*> out;
  for (const auto& [id, state] : by_id_) out.push_back(state.get());
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) {
    return a->record.created_at_ms < b->record.created_at_ms;
  });
  return out;
}

void StreamRegistry::set_live(const std::string& id, bool live) {
  StreamState* s = find(id);
  if (s == nullptr || s->live == live) return;
  s->live = live;
  s->live_since_ms = live ? now_ms() : 0;
  if (!live) {
    s->ingest = nlohmann::json::object();
    s->ingest_node.clear();
  }
  notify(*s, live ? Change::live : Change::offline);
}

Status StreamRegistry::refresh(const std::string& id, Change change) {
  std::optional<StreamRecord> record = store_.find_stream(id);
  if (!record) return Status::error("no such stream in the store");
  StreamState* s = find(id);
  if (s == nullptr) {
    auto state = std::make_unique<StreamState>();
    state->record = std::move(*record);
    s = state.get();
    by_key_[s->record.stream_key] = s;
    by_id_[id] = std::move(state);
    notify(*s, Change::created);
    return Status::ok();
  }
  by_key_.erase(s->record.stream_key);
  s->record = std::move(*record);
  by_key_[s->record.stream_key] = s;
  notify(*s, change);
  return Status::ok();
}

void StreamRegistry::set_remote_live(const std::string& id, const std::string& node, bool live) {
  StreamState* s = find(id);
  if (s == nullptr) return;
  if (s->live && s->ingest_node.empty()) return;  // our own ingest holds it
  if (!live) {
    if (!s->live || s->ingest_node != node) return;
    s->ingest_node.clear();
    set_live(id, false);
    return;
  }
  s->ingest_node = node;
  if (!s->live) set_live(id, true);
}

void StreamRegistry::set_ingest_stats(const std::string& id, nlohmann::json stats) {
  StreamState* s = find(id);
  if (s == nullptr) return;
  s->ingest = std::move(stats);
  notify(*s, Change::ingest_stats);
}

void StreamRegistry::set_viewers(const std::string& id, int viewers) {
  StreamState* s = find(id);
  if (s == nullptr || s->viewers == viewers) return;
  s->viewers = viewers;
  s->peak_viewers = std::max(s->peak_viewers, viewers);
  notify(*s, Change::viewers);
}

void StreamRegistry::notify(const StreamState& s, Change c) {
  for (auto& listener : listeners_) listener(s, c);
}

}  // namespace harvest
