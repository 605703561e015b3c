#include "api/streams.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "commerce/product_validation.h"
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
  std::string whep(const std::string& stream_id) const { return http_base() + "/whep/" + stream_id; }
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

// Where a show is in its life, for the home page's sections: live now, announced for later,
// or over (its replays). A show whose announced start passed without going live stays
// "upcoming" for kLateStartMs (farmers start late), then counts as over.
constexpr int64_t kLateStartMs = 12 * 3600 * 1000;
const char* phase(const StreamState& s, int64_t now) {
  if (s.record.ended_at_ms != 0) return "ended";  // even while the cut-off publisher's grace runs
  if (s.live) return "live";
  if (s.record.scheduled_at_ms != 0 && s.record.scheduled_at_ms + kLateStartMs > now) return "upcoming";
  return "offline";
}

int phase_rank(const std::string& phase) { return phase == "live" ? 0 : phase == "upcoming" ? 1 : 2; }

// LL-HLS (docs/ll-hls.md) is served only for a live stream ingested on this node (its playlist
// is in the ingesting node's memory); every input feeds it (RTMP as it comes, SRT and WHIP's
// MPEG-TS converted from Annex B + ADTS).
bool serves_ll_hls(const StreamState& s, const Urls& urls) {
  if (!s.live) return false;
  return s.ingest_node.empty() || s.ingest_node == urls.ep.node_id;
}

json public_view(const StreamState& s, const Urls& urls) {
  json view = {{"id", s.record.id},
          {"title", s.record.title},
          {"farmer", s.record.farmer},
          {"state", s.live ? "live" : "offline"},
          {"live_since", s.live ? json(s.live_since_ms) : json(nullptr)},
          {"viewers", s.viewers},
          {"peak_viewers", s.peak_viewers},
          {"hls_url", "/hls/" + s.record.id + "/index.m3u8"},
          {"burned_hls_url", "/hls/" + s.record.id + "/burned/index.m3u8"},
          {"watch_url", urls.http_base() + "/watch/" + s.record.id},
          {"scheduled_at", s.record.scheduled_at_ms != 0 ? json(s.record.scheduled_at_ms) : json(nullptr)},
          {"ended_at", s.record.ended_at_ms != 0 ? json(s.record.ended_at_ms) : json(nullptr)},
          {"cover", s.record.cover},
          {"phase", phase(s, now_ms())},
          // Which node's ingest holds it (several nodes: where RTMP/SRT/WHIP for it must go);
          // every node serves its HLS from the shared --hls-dir.
          {"ingest_node", !s.live ? json(nullptr) : json(s.ingest_node.empty() ? urls.ep.node_id : s.ingest_node)},
          // No secret in it (the stream key goes in the Authorization header), so everyone may
          // know where to publish; the broadcaster page uses it with a typed-in key.
          {"whip_url", urls.whip(s.record.id)},
          // WebRTC playback (POST /whep/{id}); the viewer page prefers it, HLS is the fallback.
          {"whep_url", urls.ep.whep ? json(urls.whep(s.record.id)) : json(nullptr)}};
  if (serves_ll_hls(s, urls)) view["ll_hls_url"] = "/hls/" + s.record.id + "/ll.m3u8";
  return view;
}

// What only the show's farmer, its hosts and the admin see: the secret key and the ingest URLs.
void add_private_view(json& out, const StreamState& s, const Urls& urls) {
  out["stream_key"] = s.record.stream_key;
  out["rtmp_url"] = urls.rtmp(s.record.stream_key);
  out["srt_url"] = urls.srt(s.record.stream_key);
  out["host_url"] = urls.http_base() + "/host/" + s.record.id;
  out["broadcast_url"] = urls.http_base() + "/broadcast/" + s.record.id;
}

// Text fields from the operator: required, 1..max UTF-8 bytes, no control characters or bidi
// overrides (the rule for every title people see: core/text.h).
bool valid_text(const json& v, size_t max_bytes) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  return !s.empty() && s.size() <= max_bytes && text::is_display_text(s);
}

// The optional fields of a show a farmer sets: scheduled_at (ms since the epoch, within a year
// from now; null clears it) and cover (an image URL as a product's). "" when fine.
std::string show_fields_problem(const json& body, int64_t now) {
  if (body.contains("scheduled_at") && !body["scheduled_at"].is_null()) {
    const json& at = body["scheduled_at"];
    if (!at.is_number_integer()) return "'scheduled_at' must be milliseconds since the epoch, or null";
    const int64_t ms = at.get<int64_t>();
    if (ms < now - 24 * 3600 * 1000 || ms > now + int64_t{366} * 24 * 3600 * 1000)
      return "'scheduled_at' must be within the next year";
  }
  if (body.contains("cover")) {
    const json& c = body["cover"];
    if (!c.is_string() || !commerce::is_product_image_url(c.get_ref<const std::string&>()))
      return "'cover' must be an image URL on this site (POST /api/images) or http(s)";
  }
  return {};
}

int64_t scheduled_from(const json& body, int64_t current) {
  if (!body.contains("scheduled_at")) return current;
  return body["scheduled_at"].is_null() ? 0 : body["scheduled_at"].get<int64_t>();
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
                            const PublicEndpoints& endpoints, AccountNames account_name) {
  // The admin for anyone, a signed-in farmer for themselves.
  router.add("POST", "/api/streams", {.check = realtime::farmer_or_admin(access)},
             [&streams, &access, &endpoints, account_name](const HttpRequest& req) {
    const json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return HttpResponse::error(400, "bad_json", "body must be a JSON object");
    if (!valid_text(body.value("title", json()), 200))
      return HttpResponse::error(400, "invalid", "'title' must be a string of 1-200 bytes");
    const json farmer = body.value("farmer", json(""));
    if (!farmer.is_string() || farmer.get_ref<const std::string&>().size() > 200)
      return HttpResponse::error(400, "invalid", "'farmer' must be a string of at most 200 bytes");
    if (auto p = show_fields_problem(body, now_ms()); !p.empty()) return HttpResponse::error(400, "invalid", p);

    const Identity who = realtime::caller_of(access, req);
    StreamRecord fields;
    fields.title = body["title"].get<std::string>();
    fields.farmer = farmer.get<std::string>();
    if (who.role == Role::farmer) {
      fields.owner = who.account_id;
      if (fields.farmer.empty()) fields.farmer = account_name(who.account_id);
    }
    fields.scheduled_at_ms = scheduled_from(body, 0);
    fields.cover = body.value("cover", "");
    StreamState* created = nullptr;
    if (auto st = streams.create(fields, created); !st) {
      log::error("stream_create_failed").kv("reason", st.message());
      return HttpResponse::error(500, "internal", "could not store the stream");
    }
    const Urls urls = urls_for(req, endpoints);
    const std::string& id = created->record.id;
    log::info("stream_created").kv("stream", id).kv("title", created->record.title).kv("owner", fields.owner);
    json out = public_view(*created, urls);
    add_private_view(out, *created, urls);
    out["host_token"] = realtime::issue_host_token(access, id, now_s());
    return HttpResponse::json(201, out.dump());
  });

  // Live first (most watched first), then upcoming (soonest first), then the rest (newest first).
  router.add("GET", "/api/streams", [&streams, &endpoints](const HttpRequest& req) {
    const Urls urls = urls_for(req, endpoints);
    std::vector<json> views;
    for (const StreamState* s : streams.all()) views.push_back(public_view(*s, urls));
    std::stable_sort(views.begin(), views.end(), [](const json& a, const json& b) {
      const int ra = phase_rank(a["phase"]), rb = phase_rank(b["phase"]);
      if (ra != rb) return ra < rb;
      if (ra == 0) return a["viewers"].get<int>() > b["viewers"].get<int>();
      if (ra == 1) return a["scheduled_at"].get<int64_t>() < b["scheduled_at"].get<int64_t>();
      return false;
    });
    json list = json::array();
    for (auto& v : views) list.push_back(std::move(v));
    // streams.all() is oldest first: the past shows are listed newest first.
    auto first_past = std::find_if(list.begin(), list.end(), [](const json& v) { return phase_rank(v["phase"]) == 2; });
    std::reverse(first_past, list.end());
    return HttpResponse::json(200, json{{"streams", list}}.dump());
  });

  router.add("GET", "/api/me/streams", {.check = realtime::farmer_or_admin(access)},
             [&streams, &access, &endpoints](const HttpRequest& req) {
    const Identity who = realtime::caller_of(access, req);
    const Urls urls = urls_for(req, endpoints);
    json list = json::array();
    for (const StreamState* s : streams.all()) {
      if (!who.may_manage(s->record)) continue;
      json v = public_view(*s, urls);
      add_private_view(v, *s, urls);
      list.push_back(std::move(v));
    }
    return HttpResponse::json(200, json{{"streams", list}}.dump());
  });

  router.add("GET", "/api/streams/{id}", [&streams, &access, &endpoints](const HttpRequest& req) {
    StreamState* s = streams.find(req.params.at("id"));
    if (s == nullptr) return HttpResponse::error(404, "not_found", "no such stream");
    const Urls urls = urls_for(req, endpoints);
    json out = public_view(*s, urls);
    out["ingest"] = s->ingest;
    // The farmer, hosts and the admin also get the ingest URLs (they carry the secret key).
    if (realtime::caller_of(access, req).may_manage(s->record)) add_private_view(out, *s, urls);
    return HttpResponse::json(200, out.dump());
  });

  router.add("PATCH", "/api/streams/{id}", {.check = realtime::stream_manager(access, streams)},
             [&streams, &endpoints](const HttpRequest& req) {
    StreamState* s = streams.find(req.params.at("id"));
    const json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return HttpResponse::error(400, "bad_json", "body must be a JSON object");
    if (body.contains("title") && !valid_text(body["title"], 200))
      return HttpResponse::error(400, "invalid", "'title' must be a string of 1-200 bytes");
    if (auto p = show_fields_problem(body, now_ms()); !p.empty()) return HttpResponse::error(400, "invalid", p);
    if (s->record.ended_at_ms != 0) return HttpResponse::error(409, "ended", "this show has ended");
    const std::string title = body.contains("title") ? body["title"].get<std::string>() : s->record.title;
    const std::string cover = body.contains("cover") ? body["cover"].get<std::string>() : s->record.cover;
    if (auto st = streams.update_details(s->record.id, title, scheduled_from(body, s->record.scheduled_at_ms), cover); !st)
      return HttpResponse::error(500, "internal", "could not store the show");
    return HttpResponse::json(200, public_view(*s, urls_for(req, endpoints)).dump());
  });

  // A leaked key: the farmer takes a new one; whoever publishes with the old one is cut off.
  router.add("POST", "/api/streams/{id}/key", {.check = realtime::stream_owner(access, streams)},
             [&streams, &endpoints](const HttpRequest& req) {
    StreamState* s = streams.find(req.params.at("id"));
    if (auto st = streams.rotate_key(s->record.id); !st)
      return HttpResponse::error(500, "internal", "could not store the new key");
    log::info("stream_key_rotated").kv("stream", s->record.id);
    json out = public_view(*s, urls_for(req, endpoints));
    add_private_view(out, *s, urls_for(req, endpoints));
    return HttpResponse::json(200, out.dump());
  });

  // A fresh host token for a helper (or the farmer's own host console): tokens expire.
  router.add("POST", "/api/streams/{id}/host_token", {.check = realtime::stream_owner(access, streams)},
             [&access, &endpoints](const HttpRequest& req) {
    const std::string& id = req.params.at("id");
    const Urls urls = urls_for(req, endpoints);
    return HttpResponse::json(200, json{{"host_token", realtime::issue_host_token(access, id, now_s())},
                                        {"expires_at", (now_s() + access.host_token_ttl_s) * 1000},
                                        {"host_url", urls.http_base() + "/host/" + id}}.dump());
  });

  router.add("POST", "/api/streams/{id}/end", {.check = realtime::stream_owner(access, streams)},
             [&streams, &endpoints](const HttpRequest& req) {
    StreamState* s = streams.find(req.params.at("id"));
    if (auto st = streams.end(s->record.id, now_ms()); !st)
      return HttpResponse::error(500, "internal", "could not store the end of the show");
    log::info("stream_ended").kv("stream", s->record.id);
    return HttpResponse::json(200, public_view(*s, urls_for(req, endpoints)).dump());
  });
}

const char* show_phase(const StreamState& s, int64_t now) { return phase(s, now); }

}  // namespace harvest::api
