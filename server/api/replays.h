#pragma once
// HTTP routes of replays (issue 6, "Recording"): each live session kept as HLS VOD, with the
// session's card timeline as chapters. See docs/replays.md.
//   GET    /api/streams/{id}/replays                   public, like the HLS itself
//   DELETE /api/streams/{id}/replays/{session}         host of the stream or admin
//   GET    /hls/{id}/replay/{session}/chapters.json    public
// The playlists and segments themselves are served by api/hls_files. Listing and the
// playlists are read on the reader thread (they are files: a stream keeps many replays).
#include <map>
#include <string>
#include <vector>

#include "api/common.h"
#include "api/reader.h"
#include "media/hls/replay_library.h"
#include "realtime/selling_desk.h"
#include "show/exposure_timeline.h"

namespace harvest::api {

// Must be registered before the HLS file routes (chapters.json lives under /hls/).
void register_replay_routes(Router& router, StreamRegistry& streams, const AccessConfig& access, Reader& reader,
                            media::hls::ReplayLibrary& replays, const show::ExposureTimeline& exposures,
                            realtime::SellingDesk& selling);

// The chapters of one replay: the card exposures of its session, placed on the replay's
// timeline (pure, for tests). `titles` maps product id -> title.
nlohmann::json replay_chapters(const std::vector<show::CardExposure>& exposures,
                               const std::string& session, const media::hls::PlaylistView& playlist,
                               const std::map<std::string, std::string>& titles);

}  // namespace harvest::api
