#include "api/restream.h"

#include <nlohmann/json.hpp>
#include <optional>

#include "core/log.h"
#include "media/restream/restream.h"
#include "realtime/route_checks.h"

namespace harvest::api {
namespace {

using nlohmann::json;
using show::CardLink;

json status_body(const std::string& id, const CardLink& link) {
  return json{{"stream", id}, {"restream", link.restream_status(id)}};
}

}  // namespace

void register_restream_routes(Router& router, StreamRegistry& streams, const AccessConfig& access,
                              store::Store& store, std::function<CardLink*()> card_link) {
  // Common checks of the three routes: the stream exists, the caller manages it, media runs.
  const realtime::HeadCheck manager = realtime::stream_manager(access, streams);
  auto check = [manager, card_link](const HttpRequest& req, CardLink*& out) -> std::optional<HttpResponse> {
    if (auto refused = manager(req)) return refused;
    out = card_link();
    if (out == nullptr) return HttpResponse::error(503, "unavailable", "media ingest is not running");
    return std::nullopt;
  };

  router.add("GET", "/api/streams/{id}/restream", [check](const HttpRequest& req) {
    CardLink* link = nullptr;
    if (auto refused = check(req, link)) return *refused;
    return HttpResponse::json(200, status_body(req.params.at("id"), *link).dump());
  });

  // PUT has a body: strangers are refused from its head, before it is read.
  router.add("PUT", "/api/streams/{id}/restream", {.check = manager},
             [check, &store](const HttpRequest& req) {
    CardLink* link = nullptr;
    if (auto refused = check(req, link)) return *refused;
    const std::string& id = req.params.at("id");
    if (!link->burned_in())
      return HttpResponse::error(409, "conflict",
                                 "restream pushes the burned-in rendition, which this server does not make");
    const json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return HttpResponse::error(400, "bad_json", "body must be a JSON object");
    const json url = body.value("url", json());
    if (!url.is_string())
      return HttpResponse::error(400, "invalid", "'url' must be a string: rtmp://host[:port]/app/stream-key");
    if (auto problem = media::restream_url_problem(url.get_ref<const std::string&>()); !problem.empty())
      return HttpResponse::error(400, "invalid", problem);
    if (auto st = store.save_restream(id, url.get<std::string>()); !st) {
      log::error("restream_not_stored").kv("stream", id).kv("reason", st.message());
      return HttpResponse::error(500, "internal", "could not store the restream target");
    }
    link->set_restream(id, url.get<std::string>());
    return HttpResponse::json(200, status_body(id, *link).dump());
  });

  router.add("DELETE", "/api/streams/{id}/restream", [check, &store](const HttpRequest& req) {
    CardLink* link = nullptr;
    if (auto refused = check(req, link)) return *refused;
    const std::string& id = req.params.at("id");
    if (auto st = store.save_restream(id, ""); !st) {
      log::error("restream_not_stored").kv("stream", id).kv("reason", st.message());
      return HttpResponse::error(500, "internal", "could not remove the restream target");
    }
    link->set_restream(id, "");
    return HttpResponse::json(200, status_body(id, *link).dump());
  });
}

}  // namespace harvest::api
