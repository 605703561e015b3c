#include "api/replays.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "media/hls/playlist.h"
#include "realtime/route_checks.h"

namespace harvest::api {
namespace {

using media::hls::ReplayInfo;
using media::hls::ReplayLibrary;
using nlohmann::json;

std::string replay_base(const std::string& stream_id, const std::string& session) {
  return "/hls/" + stream_id + "/replay/" + session + "/";
}

json replay_json(const std::string& stream_id, const ReplayInfo& r) {
  const std::string base = replay_base(stream_id, r.session);
  return {{"session", r.session},
          {"started_at", r.started_at_ms},
          {"ended_at", r.live ? json(nullptr) : json(r.ended_at_ms)},
          {"duration_s", std::round(r.duration_s * 1000.0) / 1000.0},
          {"live", r.live},
          {"segments", r.segments},
          {"discontinuities", r.discontinuities},
          {"playlist_url", base + "index.m3u8"},
          {"chapters_url", base + "chapters.json"},
          {"watch_url", "/watch/" + stream_id + "?replay=" + r.session}};
}

std::map<std::string, std::string> product_titles(realtime::SellingDesk& selling, const std::string& stream_id) {
  std::map<std::string, std::string> titles;
  for (const auto& p : selling.products(stream_id)) titles[p.id] = p.title;
  return titles;
}

}  // namespace

json replay_chapters(const std::vector<show::CardExposure>& exposures, const std::string& session,
                     const media::hls::PlaylistView& playlist,
                     const std::map<std::string, std::string>& titles) {
  json list = json::array();
  double total = 0;
  for (const auto& s : playlist.segments) total += s.duration_s;
  auto seconds = [](double s) { return std::round(s * 1000.0) / 1000.0; };
  for (const auto& e : exposures) {
    if (e.session_id != session) continue;
    const double start = ReplayLibrary::position_s(playlist.segments, e.shown_pdt_ms);
    json end = nullptr;
    if (e.hidden_pdt_ms)
      end = seconds(ReplayLibrary::position_s(playlist.segments, *e.hidden_pdt_ms));
    else if (playlist.ended)
      end = seconds(total);  // a crash left it open: on screen to the end
    auto title = titles.find(e.product_id);
    list.push_back({{"product_id", e.product_id},
                    {"title", title != titles.end() ? title->second : e.product_id},
                    {"start", seconds(start)},
                    {"end", end},
                    {"pts", e.shown_pts},
                    {"program_date_time", media::hls::format_iso8601_ms(e.shown_pdt_ms)},
                    {"exposure_id", e.id}});
  }
  return list;
}

void register_replay_routes(Router& router, StreamRegistry& streams, const AccessConfig& access, Reader& reader,
                            ReplayLibrary& replays, const show::ExposureTimeline& exposures,
                            realtime::SellingDesk& selling) {
  router.add("GET", "/api/streams/{id}/replays", [&streams, &reader, &replays](const HttpRequest& req) {
    const std::string& id = req.params.at("id");
    if (streams.find(id) == nullptr) return HttpResponse::error(404, "not_found", "no such stream");
    return answer_from_reader(reader, [&replays, id](store::Store&) {
      json list = json::array();
      for (const ReplayInfo& r : replays.list(id)) list.push_back(replay_json(id, r));
      return HttpResponse::json(200, json{{"stream", id}, {"replays", list}}.dump());
    });
  });

  router.add("DELETE", "/api/streams/{id}/replays/{session}",
             [manager = realtime::stream_manager(access, streams), &replays](const HttpRequest& req) {
    if (auto refused = manager(req)) return *refused;
    const std::string& id = req.params.at("id");
    const std::string& session = req.params.at("session");
    auto info = replays.find(id, session);
    if (!info) return HttpResponse::error(404, "not_found", "no such replay");
    if (info->live) return HttpResponse::error(409, "conflict", "the replay is still being recorded");
    if (!replays.remove(id, session)) return HttpResponse::error(500, "internal", "could not delete the replay");
    return HttpResponse::json(200, json{{"stream", id}, {"session", session}, {"deleted", true}}.dump());
  });

  router.add("GET", "/hls/{id}/replay/{session}/chapters.json",
             [&streams, &reader, &replays, &exposures, &selling](const HttpRequest& req) {
               const std::string& id = req.params.at("id");
               if (streams.find(id) == nullptr) return HttpResponse::error(404, "not_found", "no such stream");
               // The loop's state is copied here; the playlist is read on the reader thread.
               return answer_from_reader(reader, [&replays, id, session = req.params.at("session"),
                                                  exposures = exposures.exposures(id),
                                                  titles = product_titles(selling, id)](store::Store&) {
                 auto playlist = replays.playlist(id, session);
                 if (!playlist || playlist->segments.empty())
                   return HttpResponse::error(404, "not_found", "no such replay");
                 double duration = 0;
                 for (const auto& s : playlist->segments) duration += s.duration_s;
                 json out = {{"stream", id},
                             {"session", session},
                             {"live", !playlist->ended},
                             {"duration_s", std::round(duration * 1000.0) / 1000.0},
                             {"started_at", playlist->segments.front().program_date_time_ms},
                             {"chapters", replay_chapters(exposures, session, *playlist, titles)}};
                 auto r = HttpResponse::json(200, out.dump());
                 r.headers.emplace_back("cache-control", "no-cache");
                 r.headers.emplace_back("access-control-allow-origin", "*");
                 return r;
               });
             });
}

}  // namespace harvest::api
