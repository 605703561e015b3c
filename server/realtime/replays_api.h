#pragma once
// HTTP routes of replays (issue 6, "Recording"): each live session kept as HLS VOD, with the
// session's card timeline as chapters. See docs/replays.md.
//   GET    /api/streams/{id}/replays                   public, like the HLS itself
//   DELETE /api/streams/{id}/replays/{session}         host of the stream or admin
//   GET    /hls/{id}/replay/{session}/chapters.json    public
// The playlists and segments themselves are served by media/hls/hls_routes.
#include "commerce/exposure_timeline.h"
#include "core/stream_registry.h"
#include "media/hls/replay_library.h"
#include "realtime/access.h"
#include "realtime/rooms.h"
#include "realtime/router.h"

namespace harvest::realtime {

// Must be registered before the HLS file routes (chapters.json lives under /hls/).
void register_replay_routes(Router& router, StreamRegistry& streams, const AccessConfig& access,
                            media::hls::ReplayLibrary& replays, const commerce::ExposureTimeline& exposures,
                            RoomService& rooms);

// The chapters of one replay: the card exposures of its session, placed on the replay's
// timeline (pure, for tests). `titles` maps product id -> title.
nlohmann::json replay_chapters(const std::vector<commerce::CardExposure>& exposures,
                               const std::string& session, const media::hls::PlaylistView& playlist,
                               const std::map<std::string, std::string>& titles);

}  // namespace harvest::realtime
