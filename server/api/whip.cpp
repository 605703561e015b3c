#include "api/whip.h"

#include <optional>

#include "media/webrtc/sdp.h"

namespace harvest::api {
namespace {

using media::webrtc::WhipIngest;

// A page on another origin (an encoder's web UI, a phone page served elsewhere) may publish:
// the stream key is the credential, not the origin.
void add_cors(HttpResponse& r) {
  r.headers.emplace_back("Access-Control-Allow-Origin", "*");
  r.headers.emplace_back("Access-Control-Expose-Headers", "Location");
}

HttpResponse preflight(const char* methods) {
  HttpResponse r = HttpResponse::text(204, "");
  add_cors(r);
  r.headers.emplace_back("Access-Control-Allow-Methods", methods);
  r.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type");
  r.headers.emplace_back("Access-Control-Max-Age", "600");
  return r;
}

HttpResponse error(int status, const std::string& code, const std::string& message) {
  HttpResponse r = HttpResponse::error(status, code, message);
  add_cors(r);
  return r;
}

// Refused from the head, before the offer is read: the media type and that a key was given
// (which key opens the stream is decided with the offer, by the ingest).
std::optional<HttpResponse> check_offer_head(const HttpRequest& req) {
  const std::string type = req.header("content-type");
  if (type.rfind("application/sdp", 0) != 0)
    return error(415, "unsupported_media_type", "the offer must be sent as Content-Type: application/sdp");
  if (req.bearer_token().empty())
    return error(401, "unauthorized", "this stream's key is required (Authorization: Bearer STREAM_KEY)");
  return std::nullopt;
}

}  // namespace

void register_whip_routes(Router& router, std::function<WhipIngest*()> whip) {
  router.add("OPTIONS", "/whip/{id}", [](const HttpRequest&) { return preflight("POST, OPTIONS"); });
  router.add("OPTIONS", "/whip/{id}/{session}", [](const HttpRequest&) { return preflight("DELETE, OPTIONS"); });

  router.add("POST", "/whip/{id}", {.max_body_bytes = media::webrtc::kMaxOfferBytes, .check = check_offer_head},
             [whip](const HttpRequest& req) {
    WhipIngest* ingest = whip();
    if (ingest == nullptr) return error(503, "unavailable", "media ingest is not running");
    const std::string id = req.params.at("id");
    return HttpResponse::later([ingest, id, key = req.bearer_token(), offer = req.body,
                                peer = req.peer](realtime::HttpReply reply) {
      ingest->publish(id, key, offer, peer, [reply, id](WhipIngest::Outcome o) {
        if (o.status != 201) return reply(error(o.status, o.code, o.message));
        HttpResponse r = HttpResponse::text(201, o.answer_sdp, "application/sdp");
        r.headers.emplace_back("Location", "/whip/" + id + "/" + o.session_id);
        add_cors(r);
        reply(std::move(r));
      });
    });
  });

  router.add("DELETE", "/whip/{id}/{session}", [whip](const HttpRequest& req) {
    WhipIngest* ingest = whip();
    if (ingest == nullptr || !ingest->end(req.params.at("id"), req.params.at("session"), "publisher ended (DELETE)"))
      return error(404, "not_found", "no such WHIP session");
    HttpResponse r = HttpResponse::text(200, "");
    add_cors(r);
    return r;
  });
}

}  // namespace harvest::api
