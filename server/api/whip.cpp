#include "api/whip.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "media/webrtc/sdp.h"

namespace harvest::api {
namespace {

using media::webrtc::WhipIngest;

// A page on another origin (an encoder's web UI, a phone page served elsewhere) may publish:
// the stream key is the credential, not the origin.
void add_cors(HttpResponse& r) {
  r.headers.emplace_back("Access-Control-Allow-Origin", "*");
  r.headers.emplace_back("Access-Control-Expose-Headers", "Location, Link, Retry-After");
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

// RFC 8288 quoted-string content: the credentials come from the operator's flags, but a quote
// or backslash in them must not end the header's parameter early.
std::string quoted(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::vector<std::string> ice_server_links(const WhipIceServers& servers) {
  std::vector<std::string> links;
  if (!servers.stun.empty()) links.push_back("<" + servers.stun + ">; rel=\"ice-server\"");
  if (!servers.turn.empty()) {
    // turn:user:pass@host:port -> <turn:host:port>; username="user"; credential="pass"
    const std::string rest = servers.turn.substr(servers.turn.find(':') + 1);
    const size_t at = rest.rfind('@');
    if (at == std::string::npos) {
      links.push_back("<" + servers.turn + ">; rel=\"ice-server\"");
    } else {
      const std::string user_pass = rest.substr(0, at);
      const size_t colon = user_pass.find(':');
      links.push_back("<turn:" + rest.substr(at + 1) + ">; rel=\"ice-server\"; username=\"" +
                      quoted(user_pass.substr(0, colon)) + "\"; credential=\"" +
                      quoted(colon == std::string::npos ? "" : user_pass.substr(colon + 1)) +
                      "\"; credential-type=\"password\"");
    }
  }
  return links;
}

void register_whip_routes(Router& router, std::function<WhipIngest*()> whip, WhipIceServers ice) {
  const std::vector<std::string> links = ice_server_links(ice);
  // The ICE servers are in the preflight's answer too, so a page can use them before it makes
  // its offer (RFC 9725 4.4), not only in the answer to it.
  router.add("OPTIONS", "/whip/{id}", [links](const HttpRequest&) {
    HttpResponse r = preflight("POST, OPTIONS");
    for (const auto& link : links) r.headers.emplace_back("Link", link);
    return r;
  });
  router.add("OPTIONS", "/whip/{id}/{session}", [](const HttpRequest&) { return preflight("DELETE, OPTIONS"); });

  router.add("POST", "/whip/{id}", {.max_body_bytes = media::webrtc::kMaxOfferBytes, .check = check_offer_head},
             [whip, links](const HttpRequest& req) {
    WhipIngest* ingest = whip();
    if (ingest == nullptr) return error(503, "unavailable", "media ingest is not running");
    const std::string id = req.params.at("id");
    const bool probe = req.query.count("probe") > 0;
    return HttpResponse::later([ingest, id, probe, links, key = req.bearer_token(), offer = req.body,
                                peer = req.peer](realtime::HttpReply reply) {
      auto answer = [reply, id, links](WhipIngest::Outcome o) {
        if (o.status != 201) return reply(error(o.status, o.code, o.message));
        HttpResponse r = HttpResponse::text(201, o.answer_sdp, "application/sdp");
        r.headers.emplace_back("Location", "/whip/" + id + "/" + o.session_id);
        for (const auto& link : links) r.headers.emplace_back("Link", link);
        add_cors(r);
        reply(std::move(r));
      };
      if (probe) ingest->probe(id, key, offer, std::move(answer));
      else ingest->publish(id, key, offer, peer, std::move(answer));
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

void register_whep_routes(Router& router, std::function<media::webrtc::WhepPlayback*()> whep, WhipIceServers ice,
                          const media::hls::LlHlsRegistry* ll) {
  using media::webrtc::WhepPlayback;
  const std::vector<std::string> links = ice_server_links(ice);
  router.add("OPTIONS", "/whep/{id}", [links](const HttpRequest&) {
    HttpResponse r = preflight("POST, OPTIONS");
    for (const auto& link : links) r.headers.emplace_back("Link", link);
    return r;
  });
  router.add("OPTIONS", "/whep/{id}/{session}", [](const HttpRequest&) { return preflight("DELETE, OPTIONS"); });
  // Only the media type is checked from the head: watching needs no key.
  auto check_head = [](const HttpRequest& req) -> std::optional<HttpResponse> {
    if (req.header("content-type").rfind("application/sdp", 0) != 0)
      return error(415, "unsupported_media_type", "the offer must be sent as Content-Type: application/sdp");
    return std::nullopt;
  };
  router.add("POST", "/whep/{id}", {.max_body_bytes = media::webrtc::kMaxOfferBytes, .check = check_head},
             [whep, links, ll](const HttpRequest& req) {
    WhepPlayback* playback = whep();
    if (playback == nullptr) return error(503, "unavailable", "media is not running");
    const std::string id = req.params.at("id");
    return HttpResponse::later([playback, id, links, ll, offer = req.body](realtime::HttpReply reply) {
      playback->play(id, offer, [reply, id, links, ll](WhepPlayback::Outcome o) {
        if (o.status == 201) {
          HttpResponse r = HttpResponse::text(201, o.answer_sdp, "application/sdp");
          r.headers.emplace_back("Location", "/whep/" + id + "/" + o.session_id);
          for (const auto& link : links) r.headers.emplace_back("Link", link);
          add_cors(r);
          return reply(std::move(r));
        }
        HttpResponse r = error(o.status, o.code, o.message);
        if (o.status == 503) {
          // Full: the viewers WebRTC cannot take go to LL-HLS where this node writes it and it has
          // parts (not before the first keyframe), else HLS; named so a plain WHEP client can follow.
          const auto ll_stream = ll != nullptr ? ll->find(id) : nullptr;
          const bool ll_served = ll_stream != nullptr && ll_stream->parts_written() > 0;
          nlohmann::json body{{"error", o.code},
                              {"message", o.message},
                              {"hls_url", "/hls/" + id + "/index.m3u8"},
                              {"retry_after_s", o.retry_after_s}};
          if (ll_served) body["ll_hls_url"] = "/hls/" + id + "/ll.m3u8";
          r = HttpResponse::json(503, body.dump());
          add_cors(r);
          r.headers.emplace_back("Retry-After", std::to_string(o.retry_after_s));
          const char* kHlsType = "; rel=\"alternate\"; type=\"application/vnd.apple.mpegurl\"";
          if (ll_served) r.headers.emplace_back("Link", "</hls/" + id + "/ll.m3u8>" + kHlsType);
          r.headers.emplace_back("Link", "</hls/" + id + "/index.m3u8>" + kHlsType);
        } else {
          add_cors(r);  // a page on another origin reads why (and falls back to HLS)
        }
        reply(std::move(r));
      });
    });
  });
  router.add("DELETE", "/whep/{id}/{session}", [whep](const HttpRequest& req) {
    WhepPlayback* playback = whep();
    if (playback == nullptr || !playback->end(req.params.at("id"), req.params.at("session"), "viewer ended (DELETE)"))
      return error(404, "not_found", "no such WHEP session");
    HttpResponse r = HttpResponse::text(200, "");
    add_cors(r);
    return r;
  });
}

}  // namespace harvest::api
