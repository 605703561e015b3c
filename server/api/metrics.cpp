#include "api/metrics.h"

#include "realtime/route_checks.h"

#include "core/metrics.h"
#include "media/webrtc/whep_playback.h"

namespace harvest::api {
namespace {

std::string label_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void counter(std::string& out, const std::string& name, const std::string& help, const std::string& type,
             const std::string& value) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " + value + "\n";
}

// Ingest: live publishers, bytes, frames, publishes, refusals and segments, per protocol.
void render_ingest_metrics(std::string& out, const std::vector<const StreamState*>& all) {
  auto& m = metrics();
  const std::pair<const char*, const IngestCounters*> protocols[] = {
      {"rtmp", &m.ingest_rtmp}, {"srt", &m.ingest_srt}, {"whip", &m.ingest_whip}};
  auto family = [&out](const char* name, const char* help, const char* type) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  family("harvest_ingest_streams_live", "Streams with a publisher connected now, by protocol.", "gauge");
  for (const auto& [protocol, c] : protocols) {
    int64_t n = 0;
    for (const auto* s : all)
      if (s->live && s->ingest.is_object() && s->ingest.value("protocol", "") == protocol &&
          !s->ingest.value("waiting_for_publisher", false))
        ++n;
    out += std::string("harvest_ingest_streams_live{protocol=\"") + protocol + "\"} " + std::to_string(n) + "\n";
  }
  auto per_protocol = [&](const char* name, const char* help, std::atomic<uint64_t> IngestCounters::*field) {
    family(name, help, "counter");
    for (const auto& [protocol, c] : protocols)
      out += std::string(name) + "{protocol=\"" + protocol + "\"} " + std::to_string((c->*field).load()) + "\n";
  };
  per_protocol("harvest_ingest_bytes_total", "Media bytes received from publishers.", &IngestCounters::bytes_in);
  family("harvest_ingest_frames_total", "Frames received into the stream pipelines.", "counter");
  for (const auto& [protocol, c] : protocols) {
    out += std::string("harvest_ingest_frames_total{protocol=\"") + protocol + "\",kind=\"video\"} " +
           std::to_string(c->video_frames_in.load()) + "\n";
    out += std::string("harvest_ingest_frames_total{protocol=\"") + protocol + "\",kind=\"audio\"} " +
           std::to_string(c->audio_frames_in.load()) + "\n";
  }
  per_protocol("harvest_ingest_publishes_total", "Publishers accepted.", &IngestCounters::publishes);
  per_protocol("harvest_ingest_takeovers_total", "Publishers accepted by taking over a stalled one.",
               &IngestCounters::takeovers);
  per_protocol("harvest_ingest_segments_total", "Passthrough HLS segments written.", &IngestCounters::segments);
  per_protocol("harvest_ingest_segments_cut_early_total",
               "Of those, cut as the keyframe after them came in, before it crossed the pipeline.",
               &IngestCounters::segments_cut_early);
  family("harvest_whip_sessions", "WebRTC (WHIP) peers running now, uplink checks included.", "gauge");
  out += "harvest_whip_sessions " + std::to_string(m.whip_sessions.load()) + "\n";
  family("harvest_whep_viewers", "WebRTC (WHEP) viewers now, being answered or playing.", "gauge");
  out += "harvest_whep_viewers " + std::to_string(media::webrtc::whep_counters().viewers.load()) + "\n";
  family("harvest_whep_refused_full_total", "WHEP viewers sent to HLS (503) because --whep-max-viewers were playing.",
         "counter");
  out += "harvest_whep_refused_full_total " + std::to_string(media::webrtc::whep_counters().refused_full.load()) + "\n";
  family("harvest_ingest_refused_total", "Publishers refused, by protocol and reason.", "counter");
  for (const auto& [label, n] : m.ingest_refused.snapshot()) {
    const auto slash = label.find('/');
    out += "harvest_ingest_refused_total{protocol=\"" + label_escape(label.substr(0, slash)) + "\",reason=\"" +
           label_escape(slash == std::string::npos ? "" : label.substr(slash + 1)) + "\"} " + std::to_string(n) + "\n";
  }
}

}  // namespace

void register_metrics_route(Router& router, StreamRegistry& streams, const AccessConfig& access,
                            const realtime::Audience& audience) {
  router.add("GET", "/metrics", [&streams, &access, &audience](const HttpRequest& req) {
    auto& m = metrics();
    std::string out;
    const auto all = streams.all();
    int64_t live = 0, viewers = 0;
    for (const auto* s : all) {
      live += s->live ? 1 : 0;
      viewers += s->viewers;
    }
    counter(out, "harvest_streams", "Streams known to this server.", "gauge", std::to_string(all.size()));
    counter(out, "harvest_streams_live", "Streams with a publisher.", "gauge", std::to_string(live));
    counter(out, "harvest_viewers", "Websocket connections in rooms, all streams.", "gauge", std::to_string(viewers));
    out += "# HELP harvest_stream_viewers Websocket connections in the stream's room.\n"
           "# TYPE harvest_stream_viewers gauge\n";
    for (const auto* s : all)
      out += "harvest_stream_viewers{stream=\"" + label_escape(s->record.id) + "\"} " + std::to_string(s->viewers) + "\n";
    out += "# HELP harvest_ingest_bitrate_bps Ingest bitrate per live stream.\n"
           "# TYPE harvest_ingest_bitrate_bps gauge\n";
    for (const auto* s : all)
      if (s->ingest.contains("bitrate_bps") && s->ingest["bitrate_bps"].is_number())
        out += "harvest_ingest_bitrate_bps{stream=\"" + label_escape(s->record.id) + "\"} " +
               s->ingest["bitrate_bps"].dump() + "\n";
    out += "# HELP harvest_ingest_loss_pct Ingest packet loss per live stream (percent).\n"
           "# TYPE harvest_ingest_loss_pct gauge\n";
    for (const auto* s : all)
      if (s->ingest.contains("loss_pct") && s->ingest["loss_pct"].is_number())
        out += "harvest_ingest_loss_pct{stream=\"" + label_escape(s->record.id) + "\"} " +
               s->ingest["loss_pct"].dump() + "\n";
    render_ingest_metrics(out, all);
    // Of the current publisher session (a reconnect starts again at 0, as counters may).
    for (const auto& [key, help] : {std::pair<const char*, const char*>{"encoded", "Frames the burned-in rendition encoded."},
                                    {"dropped", "Frames the burned-in rendition dropped (encoder or decoder behind)."}}) {
      out += std::string("# HELP harvest_burned_frames_") + key + "_total " + help + "\n# TYPE harvest_burned_frames_" + key +
             "_total counter\n";
      for (const auto* s : all)
        if (s->ingest.contains("burned") && s->ingest["burned"].contains(key))
          out += std::string("harvest_burned_frames_") + key + "_total{stream=\"" + label_escape(s->record.id) + "\"} " +
                 s->ingest["burned"][key].dump() + "\n";
    }
    counter(out, "harvest_orders_confirmed_total", "Orders confirmed (durable).", "counter",
            std::to_string(m.orders_confirmed.load()));
    out += "# HELP harvest_orders_rejected_total Buy requests rejected, by reason.\n"
           "# TYPE harvest_orders_rejected_total counter\n";
    for (const auto& [reason, n] : m.orders_rejected.snapshot())
      out += "harvest_orders_rejected_total{reason=\"" + label_escape(reason) + "\"} " + std::to_string(n) + "\n";
    out += "# HELP harvest_order_changes_total Durable order changes after the buy, by the status reached.\n"
           "# TYPE harvest_order_changes_total counter\n";
    for (const auto& [status, n] : m.order_changes.snapshot())
      out += "harvest_order_changes_total{to=\"" + label_escape(status) + "\"} " + std::to_string(n) + "\n";
    out += "# HELP harvest_payment_notices_total Payment notifications handled, by outcome.\n"
           "# TYPE harvest_payment_notices_total counter\n";
    for (const auto& [outcome, n] : m.payment_notices.snapshot())
      out += "harvest_payment_notices_total{outcome=\"" + label_escape(outcome) + "\"} " + std::to_string(n) + "\n";
    // Money is the operator's business: GMV only with the admin token (as the report needs one).
    if (realtime::caller_of(access, req).role == Role::admin)
      counter(out, "harvest_gmv_fen_total", "Gross merchandise value of confirmed orders (fen, all currencies).",
              "counter", std::to_string(m.gmv_fen.load()));
    render_http_metrics(out);
    counter(out, "harvest_ws_connections", "Open websocket connections.", "gauge",
            std::to_string(audience.connection_count()));
    counter(out, "harvest_ws_messages_in_total", "Websocket messages received.", "counter",
            std::to_string(m.ws_messages_in.load()));
    counter(out, "harvest_ws_messages_out_total", "Websocket messages delivered to sockets.", "counter",
            std::to_string(m.ws_messages_out.load()));
    counter(out, "harvest_ws_frames_out_total", "Websocket frames written (batching packs several messages).",
            "counter", std::to_string(m.ws_frames_out.load()));
    counter(out, "harvest_ws_superseded_dropped_total",
            "Superseding updates (stock, purchase, viewers) replaced or dropped under back-pressure.", "counter",
            std::to_string(m.ws_dropped_superseded.load()));
    counter(out, "harvest_ws_slow_disconnects_total", "Connections closed for not reading.", "counter",
            std::to_string(m.ws_slow_disconnects.load()));
    counter(out, "harvest_ws_keepalive_closes_total", "Websockets closed for not answering a ping.", "counter",
            std::to_string(m.ws_keepalive_closes.load()));
    m.fanout_latency_s.render(out, "harvest_fanout_latency_seconds",
                              "Time from queueing a websocket message to writing it to the socket.");
    m.store_group_size.render(out, "harvest_store_commit_group_size", "Orders per group commit.");
    m.store_commit_latency_s.render(out, "harvest_store_commit_seconds", "Duration of one group commit (with fsync).");
    m.order_ack_latency_s.render(out, "harvest_order_durable_seconds",
                                 "Time from accepting an order to its durable acknowledgement.");
    return HttpResponse::text(200, out, "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace harvest::api
