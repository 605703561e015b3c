#include "media/srt/conn.h"

#include <srt/srt.h>

#include <cmath>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "media/srt/server.h"
#include "media/ingest/stream_pipeline.h"

namespace harvest::media::srt {

namespace {
constexpr size_t kMaxHeldBytes = 4 * 1024 * 1024;
}

SrtConn::SrtConn(SrtServer& server, int socket, std::string peer, std::string stream_key)
    : server_(server), socket_(socket), peer_(std::move(peer)), key_(std::move(stream_key)) {
  opened_ms_ = last_data_ms_ = last_stats_ms_ = steady_ms();
}

SrtConn::~SrtConn() {
  if (!finished_) close("connection destroyed", false);
}

void SrtConn::request_publish() {
  session_ = std::make_shared<PublishSession>();
  session_->protocol = "srt";
  session_->publisher = peer_;
  SrtServer* server = &server_;
  const int sock = socket_;
  session_->kick = [server, sock](const std::string& reason) {
    server->post([server, sock, reason] {
      if (SrtConn* c = server->find(sock)) c->close(reason);
    });
  };
  IngestManager* ingest = &server_.ingest();
  auto session = session_;
  const std::string key = key_;
  server_.loop().post([ingest, server, sock, session, key] {
    const IngestManager::Answer answer = ingest->publish(session, key);
    if (!answer.accepted) session->ended.store(true);
    server->post([server, sock, answer, session, ingest] {
      SrtConn* c = server->find(sock);
      if (c != nullptr && c->session_ == session) {
        c->on_publish_answer(answer);
      } else if (answer.accepted) {
        server->loop().post([ingest, session] { ingest->unpublish(session, "publisher gone before the answer"); });
      }
    });
  });
}

void SrtConn::on_publish_answer(const IngestManager::Answer& answer) {
  if (finished_) return;
  if (!answer.accepted) {
    session_.reset();
    close("publish refused: " + answer.description);
    return;
  }
  pipeline_ = server_.ingest().make_pipeline(session_);
  Status st = pipeline_->add_ts_input();
  if (st) st = pipeline_->start();
  if (!st) {
    close("cannot start the media pipeline: " + st.message());
    return;
  }
  state_ = State::publishing;
  last_data_ms_ = steady_ms();
  if (!held_.empty()) {
    pipeline_->push_ts(held_);
    held_.clear();
  }
}

void SrtConn::on_readable() {
  char buf[1500];
  for (int i = 0; i < 256 && !finished_; ++i) {
    const int n = srt_recvmsg(socket_, buf, sizeof buf);
    if (n == SRT_ERROR) {
      if (srt_getlasterror(nullptr) == SRT_EASYNCRCV) return;
      close(std::string("receive failed: ") + srt_getlasterror_str(), false);
      return;
    }
    if (n <= 0) return;
    bytes_in_ += static_cast<uint64_t>(n);
    last_data_ms_ = steady_ms();
    if (state_ == State::publishing) {
      session_->bytes_received.fetch_add(static_cast<uint64_t>(n));
      metrics().ingest_srt.bytes_in.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      session_->touch();
      pipeline_->push_ts({buf, static_cast<size_t>(n)});
    } else if (held_.size() + static_cast<size_t>(n) <= kMaxHeldBytes) {
      held_.append(buf, static_cast<size_t>(n));
    }
  }
}

void SrtConn::tick(int64_t now) {
  if (finished_) return;
  if (pipeline_) pipeline_->flush(false);
  if (now - last_data_ms_ > server_.options().idle_timeout.count()) {
    close("no data from the publisher within the idle timeout");
    return;
  }
  if (state_ != State::publishing || now - last_stats_ms_ < 1000) return;
  last_stats_ms_ = now;
  SRT_TRACEBSTATS st{};
  if (srt_bstats(socket_, &st, 0) != 0) return;
  const double received = static_cast<double>(st.pktRecvTotal);
  const double lost = static_cast<double>(st.pktRcvLossTotal);
  const double loss_pct = received + lost > 0 ? lost * 100.0 / (received + lost) : 0.0;
  session_->merge_info({{"rtt_ms", std::round(st.msRTT * 100.0) / 100.0},
                        {"loss_pct", std::round(loss_pct * 100.0) / 100.0},
                        {"retransmits", st.pktRcvRetrans},
                        {"packets_lost", st.pktRcvLossTotal},
                        {"link_mbps", std::round(st.mbpsRecvRate * 100.0) / 100.0}});
}

void SrtConn::close(const std::string& reason, bool error) {
  if (finished_) return;
  finished_ = true;
  server_.forget(socket_);
  srt_close(socket_);
  auto line = error ? log::warn("srt_conn_closed") : log::info("srt_conn_closed");
  line.kv("peer", peer_).kv("reason", reason).kv("bytes_in", bytes_in_);
  if (session_ && !session_->stream_id.empty()) line.kv("stream", session_->stream_id);
  if (session_) {
    auto session = std::move(session_);
    session->ended.store(true);
    if (pipeline_) pipeline_->flush(true);
    pipeline_.reset();
    IngestManager* ingest = &server_.ingest();
    server_.loop().post([ingest, session, reason] { ingest->unpublish(session, reason); });
  }
}

}  // namespace harvest::media::srt
