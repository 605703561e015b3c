#pragma once
// Wires the modules of harvest-server together: one EventLoop (the control plane),
// the HTTP/websocket server that drives it, and the media, commerce and store parts.
#include <memory>
#include <optional>
#include <string>

#include "accounts/account_book.h"
#include "accounts/login_throttle.h"
#include "accounts/password_worker.h"
#include "api/streams.h"
#include "bus/bus.h"
#include "core/config.h"
#include "core/event_loop.h"
#include "core/local_tls.h"
#include "core/stream_registry.h"
#include "core/worker_thread.h"
#include "media/images/photo_shelf.h"
#include "realtime/access.h"
#include "show/exposure_timeline.h"
#include "store/store.h"

namespace harvest {

namespace realtime { class HttpServer; class RoomService; }
namespace api { class Reader; }
namespace store { class OrderWriter; }
namespace commerce { class CommerceService; }
namespace show { class CardLink; }
namespace media {
class IngestManager;
class DemoPublisher;
namespace hls { class ReplayLibrary; class LlHlsRegistry; }
namespace rtmp { class RtmpServer; }
namespace srt { class SrtServer; }
namespace webrtc { class WhipIngest; class WhepPlayback; }
}  // namespace media

class App {
public:
  explicit App(ServerConfig config);
  ~App();

  // Opens the store, the listeners and the pipelines. Returns an error sentence, or empty.
  std::string start();
  // Serves until stop(); returns after a clean shutdown.
  void run();
  // Thread-safe; may be called from a signal-waiting thread.
  void stop();

  const ServerConfig& config() const { return config_; }
  EventLoop& loop() { return loop_; }
  int http_port() const;

  // Media ingest (RTMP, SRT) and HLS output; nullptr before start().
  media::IngestManager* ingest() { return ingest_.get(); }

private:
  void register_routes();
  std::string load_demo_catalog();
  void print_demo_links() const;
  static std::string lan_address();
  std::string public_http_base() const;
  std::string start_ingest();
  void stop_ingest();
  std::string hls_root() const;
  std::string replay_root() const;

  ServerConfig config_;
  EventLoop loop_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<StreamRegistry> streams_;
  realtime::AccessConfig access_;
  std::unique_ptr<accounts::AccountBook> accounts_;
  std::unique_ptr<accounts::PasswordWorker> passwords_;  // posts to loop_: stopped before it
  std::unique_ptr<accounts::LoginThrottle> login_throttle_;
  api::PublicEndpoints endpoints_;
  std::optional<local_tls::Files> self_signed_;  // --tls-self-signed
  std::unique_ptr<realtime::HttpServer> http_;
  // Commerce (issue 5): destroyed before http_ and store_ (members die in reverse order).
  // Card exposures (issue 6): what was on the video when (the media link feeds it; attribution
  // and the report read it). Before the rooms, which hold a pointer to it.
  show::ExposureTimeline exposures_;
  std::unique_ptr<store::OrderWriter> order_writer_;
  std::unique_ptr<commerce::CommerceService> commerce_;
  // Room events between nodes (--bus): before rooms_, whose relay publishes on it.
  std::unique_ptr<bus::Bus> bus_;
  std::unique_ptr<realtime::RoomService> rooms_;
  // The REST API's reader thread, with its own read-only store handle (api/reader.h).
  std::unique_ptr<api::Reader> reader_;
  // Product photos (issue 18): stored under data_dir/images, made on their own worker thread,
  // which is stopped (in ~App) before the loop it answers through.
  std::optional<media::images::PhotoShelf> photos_;
  std::unique_ptr<WorkerThread> photo_worker_;
  // Replays on disk (issue 6, recording): before ingest_, which records into it.
  std::unique_ptr<media::hls::ReplayLibrary> replays_;
  std::unique_ptr<media::hls::LlHlsRegistry> ll_hls_;  // LL-HLS renditions and blocked requests
  // Media ingest (issue 4): stopped explicitly in run(); destroyed first.
  std::unique_ptr<media::IngestManager> ingest_;
  std::unique_ptr<media::rtmp::RtmpServer> rtmp_;
  std::unique_ptr<media::webrtc::WhipIngest> whip_;  // after ingest_: destroyed first
  std::unique_ptr<media::webrtc::WhepPlayback> whep_;  // likewise
  std::unique_ptr<media::srt::SrtServer> srt_;
  std::unique_ptr<media::DemoPublisher> demo_publisher_;
  std::unique_ptr<show::CardLink> card_link_;  // after rooms_ and ingest_: destroyed first
};

// Locates a directory shipped with the project (web-client, samples) when not configured.
std::string find_project_dir(const std::string& name);

}  // namespace harvest
