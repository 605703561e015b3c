#pragma once
// The media link: card changes from the rooms drive the video, and the video's first frame of
// each change goes back to the room, the exposure timeline and the playlist. Loop thread only.
//
//   CardStage (rooms) ─on_card_change─► CardLink ─add-cue─► productcue (passthrough, after h264parse)
//                                    ▲                    │ SEI in the access unit
//                                    └─productcue-inserted┘ (bus → loop)
//   then: CardStage::card_presented (card.shown/hidden amended with pts + program_date_time),
//         ExposureTimeline::card_shown/card_hidden, HlsWriter EXT-X-DATERANGE.
//
// Changes made while the stream has no running pipeline (offline, waiting for a publisher, or
// before the session's first segment) are kept and applied at the next access unit once media
// flows; a new live session re-cues the cards still visible in the room.
//
// Time (see docs/media-link.md): `pts` = (running time + 3600 s) in seconds, which is the 90 kHz
// PTS / 90000 that mpegtsmux writes in the passthrough segments (it starts at 1 h);
// `program_date_time` = HlsWriter::program_date_time_ms(running time), the same mapping as
// the playlist's EXT-X-PROGRAM-DATE-TIME.
#include <gst/gst.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "show/exposure_timeline.h"
#include "core/event_loop.h"
#include "media/burned/burned_branch.h"
#include "media/burned/burned_ladder.h"
#include "media/ingest/ingest_manager.h"
#include "media/restream/restream.h"
#include "show/card.h"

namespace harvest::show {

// mpegtsmux's PTS for running time 0, in seconds.
constexpr double kMpegTsPtsOffsetS = 3600.0;
double pts_seconds_of_running_time(uint64_t running_time_ns);

class CardLink final : public CardListener, public media::IngestObserver {
public:
  using IngestManager = media::IngestManager;
  using PublishSession = media::PublishSession;
  struct Options {
    bool burned_in = true;  // a burned-in rendition per live stream (/hls/{id}/burned/)
    int burned_bitrate_kbps = 0;  // 0: from the source size
    std::string burned_speed_preset = "ultrafast";  // x264enc; a slower one forces overload in tests
    // The local file behind a catalog image URL the server itself serves (e.g.
    // "/samples/images/pear.png"), "" when the URL is not one of ours. Unset: cards without pictures.
    std::function<std::string(const std::string& url)> image_file;
    std::vector<int> burned_ladder;  // rung heights (--burned-ladder); empty: no ladder
    // "scheme://host:port" of this server as a phone reaches it: burned-in cards with a trace
    // code carry a QR of <trace_base_url>/trace/<code>. Empty: no QR.
    std::string trace_base_url;
  };
  CardLink(EventLoop& loop, CardStage& stage, IngestManager& ingest, ExposureTimeline& exposures,
           Options options);
  ~CardLink() override;
  CardLink(const CardLink&) = delete;
  CardLink& operator=(const CardLink&) = delete;

  // CardListener
  void on_card_change(const CardEvent& event) override;
  void on_card_update(const CardUpdate& update) override;
  // IngestObserver
  void on_session_media(const std::string& stream_id, const std::string& live_session,
                        const std::shared_ptr<PublishSession>& session, bool new_live_session) override;
  void on_element_message(const std::string& stream_id, const std::shared_ptr<PublishSession>& session,
                          GstMessage* message) override;
  void on_live_session_ended(const std::string& stream_id, const std::string& live_session, uint64_t end_rt_ns,
                             int64_t end_pdt_ms) override;
  void add_ingest_stats(const std::string& stream_id, nlohmann::json& stats) override;

  // For tests and stats: changes waiting for media, cues waiting for their access unit.
  size_t pending(const std::string& stream_id) const;

  // RTMP restream of the burned-in rendition (docs/media-link.md "Restream"). `url` ("" stops)
  // is assumed valid (restream_url_problem); while the stream is live it starts at once,
  // otherwise with the next publisher session. Returns false (nothing changed) when this
  // server makes no burned-in rendition, which the restream pushes.
  bool set_restream(const std::string& stream_id, const std::string& url);
  // Restream::status() of the stream, or null when it has no restream target.
  nlohmann::json restream_status(const std::string& stream_id) const;
  bool burned_in() const { return options_.burned_in; }

private:
  struct Change {
    uint64_t change_id = 0;
    bool shown = true;
    std::string product_id;
    std::string slot;
    std::optional<Card> card;  // shown only; kept current by on_card_update
  };
  struct StreamLink {
    std::string live_session;
    std::weak_ptr<PublishSession> session;  // whose pipeline takes cues now (media flowing)
    std::vector<Change> pending;            // not yet given to a pipeline
    std::deque<Change> in_flight;           // given to productcue, waiting for the access unit
    std::map<std::string, Change> visible;      // room view: product -> change that showed it
    std::map<std::string, uint64_t> on_video;  // shown on the video in this live session
    std::map<std::string, std::string> open_ranges;  // product -> DATERANGE id
    // Burned-in rendition of the current publisher session.
    std::unique_ptr<media::hls::HlsWriter> burned_writer;
    std::unique_ptr<media::BurnedBranch> burned;
    std::unique_ptr<media::BurnedLadder> ladder;  // rungs of the burned-in rendition (options_.burned_ladder)
    std::weak_ptr<PublishSession> burned_session;
    bool burned_begun = false;
    // Burned-in drops as last logged (the log line comes at most once a minute; see
    // on_burned_segment): the counts then, and when.
    uint64_t burned_dropped_logged = 0;
    uint64_t burned_in_logged = 0;
    std::chrono::steady_clock::time_point burned_logged_at{};
    // Restream of the burned-in rendition; kept while the stream has had a target (its taps
    // stay in the session's pipeline after a DELETE, see restream.h).
    std::unique_ptr<media::Restream> restream;
    std::map<std::string, std::string> burned_cards;  // product -> overlay card JSON last given
  };

  void attach_restream(StreamLink& link);
  void attach_burned(const std::string& stream_id, StreamLink& link, const std::shared_ptr<PublishSession>& session,
                     bool new_live_session);
  void on_burned_segment(const std::string& stream_id, const std::shared_ptr<PublishSession>& session,
                         const std::string& path, uint64_t start_ns, uint64_t end_ns);
  // The productoverlay card (scene JSON card object) for a room card; sale_ends_at as running
  // time of the burned-in session. Unresolvable pictures are logged when `log_problems`.
  nlohmann::json overlay_card(const StreamLink& link, const std::string& stream_id, const Change& change,
                              bool log_problems) const;
  bool media_flowing(StreamLink& link, const std::string& stream_id) const;
  bool cue(const std::string& stream_id, StreamLink& link, const Change& change);
  void apply_pending(const std::string& stream_id, StreamLink& link);
  void presented(const std::string& stream_id, StreamLink& link, const Change& change, uint64_t running_time_ns);

  EventLoop& loop_;
  Options options_;
  CardStage& stage_;
  IngestManager& ingest_;
  ExposureTimeline& exposures_;
  std::map<std::string, StreamLink> links_;
};

}  // namespace harvest::show
