#include "show/exposure_timeline.h"

#include <algorithm>

namespace harvest::show {

void ExposureTimeline::card_shown(const std::string& stream_id, const std::string& session_id,
                                  const std::string& product_id, uint64_t change_id, double pts, int64_t pdt_ms) {
  // Showing a card that is already open (an update) keeps the first exposure running.
  for (const auto& e : exposures_) {
    if (e.stream_id == stream_id && e.session_id == session_id && e.product_id == product_id && !e.hidden_pts)
      return;
  }
  CardExposure e;
  e.stream_id = stream_id;
  e.session_id = session_id;
  e.product_id = product_id;
  e.change_id = change_id;
  e.shown_pts = pts;
  e.shown_pdt_ms = pdt_ms;
  e.id = next_id_++;
  exposures_.push_back(std::move(e));
  if (on_change_) on_change_(exposures_.back());
}

void ExposureTimeline::card_hidden(const std::string& stream_id, const std::string& session_id,
                                   const std::string& product_id, double pts, int64_t pdt_ms) {
  for (auto& e : exposures_) {
    if (e.stream_id == stream_id && e.session_id == session_id && e.product_id == product_id && !e.hidden_pts) {
      e.hidden_pts = std::max(pts, e.shown_pts);
      e.hidden_pdt_ms = std::max(pdt_ms, e.shown_pdt_ms);
      if (on_change_) on_change_(e);
    }
  }
}

void ExposureTimeline::session_ended(const std::string& stream_id, const std::string& session_id, double pts,
                                     int64_t pdt_ms) {
  for (auto& e : exposures_) {
    if (e.stream_id == stream_id && e.session_id == session_id && !e.hidden_pts) {
      e.hidden_pts = std::max(pts, e.shown_pts);
      e.hidden_pdt_ms = std::max(pdt_ms, e.shown_pdt_ms);
      if (on_change_) on_change_(e);
    }
  }
}

const CardExposure* ExposureTimeline::find_at(const std::string& stream_id, const std::string& session_id,
                                              double media_time) const {
  std::string session = session_id;
  if (session.empty()) {  // the stream's current (latest) session
    for (auto it = exposures_.rbegin(); it != exposures_.rend() && session.empty(); ++it) {
      if (it->stream_id == stream_id) session = it->session_id;
    }
    if (session.empty()) return nullptr;
  }
  // Most recently shown first: with several cards visible, the newest one wins.
  for (auto it = exposures_.rbegin(); it != exposures_.rend(); ++it) {
    if (it->stream_id != stream_id || it->session_id != session) continue;
    if (media_time >= it->shown_pts && (!it->hidden_pts || media_time < *it->hidden_pts)) return &*it;
  }
  return nullptr;
}

std::string ExposureTimeline::card_at(const std::string& stream_id, double media_time) const {
  const CardExposure* e = find_at(stream_id, "", media_time);
  return e != nullptr ? e->product_id : std::string();
}

std::string ExposureTimeline::card_at_in_session(const std::string& stream_id, const std::string& session_id,
                                                 double media_time) const {
  if (session_id.empty()) return {};
  const CardExposure* e = find_at(stream_id, session_id, media_time);
  return e != nullptr ? e->product_id : std::string();
}

int64_t ExposureTimeline::exposure_at(const std::string& stream_id, const std::string& session_id,
                                      double media_time) const {
  const CardExposure* e = find_at(stream_id, session_id, media_time);
  return e != nullptr ? e->id : 0;
}

std::vector<CardExposure> ExposureTimeline::exposures(const std::string& stream_id) const {
  std::vector<CardExposure> out;
  for (const auto& e : exposures_) {
    if (e.stream_id == stream_id) out.push_back(e);
  }
  return out;
}

void ExposureTimeline::restore(std::vector<CardExposure> exposures) {
  for (auto& e : exposures) {
    if (e.id <= 0) e.id = next_id_;
    next_id_ = std::max(next_id_, e.id + 1);
    exposures_.push_back(std::move(e));
  }
  // Keep show order across streams restored in several calls.
  std::stable_sort(exposures_.begin(), exposures_.end(),
                   [](const CardExposure& a, const CardExposure& b) { return a.id < b.id; });
}

}  // namespace harvest::show
