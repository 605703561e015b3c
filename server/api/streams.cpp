#include "api/streams.h"

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/text.h"
#include "realtime/route_checks.h"

namespace harvest::api {
namespace {

using nlohmann::json;

struct Urls {
  std::string host;
  const PublicEndpoints& ep;
  std::string http_base() const {
    return std::string(ep.tls ? "https://" : "http://") + host + ":" + std::to_string(ep.http_port);
  }
  std::string rtmp(const std::string& key) const {
    return "rtmp://" + host + ":" + std::to_string(ep.rtmp_port) + "/live/" + key;
  }
  std::string whip(const std::string& stream_id) const { return http_base() + "/whip/" + stream_id; }
  std::string srt(const std::string& key) const {
    return "srt://" + host + ":" + std::to_string(ep.srt_port) + "?streamid=#!::r=live/" + key + ",m=publish";
  }
};

Urls urls_for(const HttpRequest& req, const PublicEndpoints& ep) {
  std::string host = ep.public_host;
  if (host.empty()) host = host_without_port(req.header("host"));
  if (host.empty()) host = "localhost";
  return Urls{host, ep};
}

json public_view(const StreamState& s, const Urls& urls) {
  return {{"id", s.record.id},
          {"title", s.record.title},
          {"farmer", s.record.farmer},
          {"state", s.live ? "live" : "offline"},
          {"live_since", s.live ? json(s.live_since_ms) : json(nullptr)},
          {"viewers", s.viewers},
          {"peak_viewers", s.peak_viewers},
          {"hls_url", "/hls/" + s.record.id + "/index.m3u8"},
          {"burned_hls_url", "/hls/" + s.record.id + "/burned/index.m3u8"},
          {"watch_url", urls.http_base() + "/watch/" + s.record.id},
          // No secret in it (the stream key goes in the Authorization header), so everyone may
          // know where to publish; the broadcaster page uses it with a typed-in key.
          {"whip_url", urls.whip(s.record.id)}};
}

// Text fields from the operator: required, 1..max UTF-8 bytes, no control characters or bidi
// overrides (the rule for every title people see: core/text.h).
bool valid_text(const json& v, size_t max_bytes) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  return !s.empty() && s.size() <= max_bytes && text::is_display_text(s);
}

}  // namespace

std::string host_without_port(const std::string& host_header) {
  if (host_header.empty()) return {};
  if (host_header.front() == '[') {
    const auto close = host_header.find(']');
    return close == std::string::npos ? std::string() : host_header.substr(0, close + 1);
  }
  return host_header.substr(0, host_header.find(':'));
}

void register_stream_routes(Router& router, StreamRegistry& streams, const AccessConfig& access,
                            const PublicEndpoints& endpoints) {
  router.add("POST", "/api/streams", {.check = admin_only(access)}, [&streams, &access, &endpoints](const HttpRequest& req) {
    const json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return HttpResponse::error(400, "bad_json", "body must be a JSON object");
    if (!valid_text(body.value("title", json()), 200))
      return HttpResponse::error(400, "invalid", "'title' must be a string of 1-200 bytes");
    const json farmer = body.value("farmer", json(""));
    if (!farmer.is_string() || farmer.get_ref<const std::string&>().size() > 200)
      return HttpResponse::error(400, "invalid", "'farmer' must be a string of at most 200 bytes");

    StreamState* created = nullptr;
    if (auto st = streams.create(body["title"].get<std::string>(), farmer.get<std::string>(), created); !st) {
      log::error("stream_create_failed").kv("reason", st.message());
      return HttpResponse::error(500, "internal", "could not store the stream");
    }
    const Urls urls = urls_for(req, endpoints);
    const std::string& id = created->record.id;
    log::info("stream_created").kv("stream", id).kv("title", created->record.title);
    json out = public_view(*created, urls);
    out["stream_key"] = created->record.stream_key;
    out["host_token"] = realtime::issue_host_token(access, id, now_s());
    out["rtmp_url"] = urls.rtmp(created->record.stream_key);
    out["srt_url"] = urls.srt(created->record.stream_key);
    out["host_url"] = urls.http_base() + "/host/" + id;
    out["broadcast_url"] = urls.http_base() + "/broadcast/" + id;
    return HttpResponse::json(201, out.dump());
  });

  router.add("GET", "/api/streams", [&streams, &endpoints](const HttpRequest& req) {
    const Urls urls = urls_for(req, endpoints);
    json list = json::array();
    for (const StreamState* s : streams.all()) list.push_back(public_view(*s, urls));
    return HttpResponse::json(200, json{{"streams", list}}.dump());
  });

  router.add("GET", "/api/streams/{id}", [&streams, &access, &endpoints](const HttpRequest& req) {
    StreamState* s = streams.find(req.params.at("id"));
    if (s == nullptr) return HttpResponse::error(404, "not_found", "no such stream");
    const Urls urls = urls_for(req, endpoints);
    json out = public_view(*s, urls);
    out["ingest"] = s->ingest;
    // The host and admin also get the ingest URLs (they carry the secret key).
    if (identify(access, req.bearer_token(), now_s()).may_manage(s->record.id)) {
      out["stream_key"] = s->record.stream_key;
      out["rtmp_url"] = urls.rtmp(s->record.stream_key);
      out["srt_url"] = urls.srt(s->record.stream_key);
    }
    return HttpResponse::json(200, out.dump());
  });
}

}  // namespace harvest::api
