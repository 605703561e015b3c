#include "commerce/exposure_timeline.h"

namespace harvest::commerce {

void ExposureTimeline::card_shown(const std::string& stream_id, const std::string& session_id,
                                  const std::string& product_id, uint64_t change_id, double pts, int64_t pdt_ms) {
  // Showing a card that is already open (an update) keeps the first exposure running.
  for (const auto& e : exposures_) {
    if (e.stream_id == stream_id && e.session_id == session_id && e.product_id == product_id && !e.hidden_pts)
      return;
  }
  exposures_.push_back(CardExposure{stream_id, session_id, product_id, change_id, pts, pdt_ms, std::nullopt,
                                    std::nullopt});
}

void ExposureTimeline::card_hidden(const std::string& stream_id, const std::string& session_id,
                                   const std::string& product_id, double pts, int64_t pdt_ms) {
  for (auto& e : exposures_) {
    if (e.stream_id == stream_id && e.session_id == session_id && e.product_id == product_id && !e.hidden_pts) {
      e.hidden_pts = pts;
      e.hidden_pdt_ms = pdt_ms;
    }
  }
}

void ExposureTimeline::session_ended(const std::string& stream_id, const std::string& session_id, double pts,
                                     int64_t pdt_ms) {
  for (auto& e : exposures_) {
    if (e.stream_id == stream_id && e.session_id == session_id && !e.hidden_pts) {
      e.hidden_pts = pts;
      e.hidden_pdt_ms = pdt_ms;
    }
  }
}

std::string ExposureTimeline::card_at(const std::string& stream_id, double media_time) const {
  for (auto it = exposures_.rbegin(); it != exposures_.rend(); ++it) {
    if (it->stream_id == stream_id) return card_at_in_session(stream_id, it->session_id, media_time);
  }
  return {};
}

std::string ExposureTimeline::card_at_in_session(const std::string& stream_id, const std::string& session_id,
                                                 double media_time) const {
  for (auto it = exposures_.rbegin(); it != exposures_.rend(); ++it) {
    if (it->stream_id != stream_id || it->session_id != session_id) continue;
    if (media_time >= it->shown_pts && (!it->hidden_pts || media_time < *it->hidden_pts)) return it->product_id;
  }
  return {};
}

std::vector<CardExposure> ExposureTimeline::exposures(const std::string& stream_id) const {
  std::vector<CardExposure> out;
  for (const auto& e : exposures_) {
    if (e.stream_id == stream_id) out.push_back(e);
  }
  return out;
}

void ExposureTimeline::restore(std::vector<CardExposure> exposures) {
  exposures_.insert(exposures_.end(), std::make_move_iterator(exposures.begin()),
                    std::make_move_iterator(exposures.end()));
}

}  // namespace harvest::commerce
