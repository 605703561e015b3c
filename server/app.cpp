#include "app.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "accounts/password.h"
#include "api/accounts.h"
#include "api/dashboard.h"
#include "api/health.h"
#include "api/images.h"
#include "api/hls_files.h"
#include "api/metrics.h"
#include "api/orders.h"
#include "api/products.h"
#include "api/reader.h"
#include "api/replays.h"
#include "api/report.h"
#include "api/restream.h"
#include "api/sample_images.h"
#include "api/tls.h"
#include "api/trace.h"
#include "api/whip.h"
#include "commerce/commerce_service.h"
#include "core/log.h"
#include "core/tokens.h"
#include "media/hls/replay_library.h"
#include "media/ingest/demo_publisher.h"
#include "media/hls/ll_hls_registry.h"
#include "media/ingest/ingest_manager.h"
#include "media/webrtc/whep_playback.h"
#include "media/webrtc/whip_ingest.h"
#include "media/rtmp/server.h"
#include "media/srt/server.h"
#include "realtime/http_server.h"
#include "realtime/protocol.h"
#include "realtime/rooms.h"
#include "realtime/static_files.h"
#include "show/card_link.h"
#include "store/order_writer.h"

namespace harvest {

namespace fs = std::filesystem;

std::string find_project_dir(const std::string& name) {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path()) {
      if (fs::is_directory(dir / name) && fs::exists(dir / "CMakeLists.txt")) return (dir / name).string();
    }
  }
  return (fs::path(HARVEST_SOURCE_DIR) / name).string();
}

App::App(ServerConfig config) : config_(std::move(config)) {
  if (config_.web_root.empty()) config_.web_root = find_project_dir("web-client");
  if (config_.samples_dir.empty()) config_.samples_dir = find_project_dir("samples");
}

App::~App() {
  // Stop the order writer first: its last group's callbacks are posted to a loop that no
  // longer runs, and reference commerce_ and rooms_, which must outlive the thread.
  order_writer_.reset();
  passwords_.reset();
  // The reader thread may be reading the replays or the store: it stops before they go.
  reader_.reset();
  photo_worker_.reset();
}

int App::http_port() const { return http_ ? http_->port() : 0; }

std::string App::start() {
  std::error_code ec;
  fs::create_directories(config_.data_dir, ec);
  if (ec) return "cannot create data directory '" + config_.data_dir + "': " + ec.message();

  std::string error;
  store::StoreOptions store_options{.backend = config_.store, .data_dir = config_.data_dir, .read_only = false};
  store_ = store::open_store(store_options, error);
  if (!store_) return error;
  store_options.read_only = true;
  auto reader_store = store::open_store(store_options, error);
  if (!reader_store) return error;
  reader_ = std::make_unique<api::Reader>(loop_, std::move(reader_store));
  photos_.emplace((fs::path(config_.data_dir) / "images").string());
  photo_worker_ = std::make_unique<WorkerThread>(api::kMaxQueuedPhotos);
  streams_ = std::make_unique<StreamRegistry>(*store_);
  if (auto st = streams_->load(); !st) return "cannot load streams: " + st.message();
  if (config_.demo) {
    StreamState* demo = nullptr;
    if (auto st = streams_->ensure_demo_stream(demo); !st) return "cannot create the demo stream: " + st.message();
    if (auto st = streams_->ensure_phone_demo_stream(demo); !st) return "cannot create the demo stream: " + st.message();
  }

  if (!accounts::init_password_hashing()) return "cannot start libsodium (password hashing)";
  accounts_ = std::make_unique<accounts::AccountBook>(*store_);
  if (auto st = accounts_->load(now_ms()); !st) return "cannot load accounts: " + st.message();
  passwords_ = std::make_unique<accounts::PasswordWorker>(loop_);
  login_throttle_ = std::make_unique<accounts::LoginThrottle>(
      accounts::ThrottleLimits{.failures_per_account = config_.login_failures_per_account,
                               .attempts_per_address = config_.login_attempts_per_address});
  access_.account_for_session = [this](std::string_view token, int64_t now) -> std::string {
    const accounts::Account* a = accounts_->account_for_session(token, now);
    return a != nullptr ? a->id : std::string();
  };
  access_.admin_token = config_.admin_token;
  access_.token_secret = !config_.token_secret.empty()
                             ? config_.token_secret
                             : tokens::load_or_create_secret((fs::path(config_.data_dir) / "token-secret").string());
  if (access_.token_secret.empty()) return "cannot create the token secret in '" + config_.data_dir + "'";
  endpoints_.public_host = config_.public_host;

  realtime::HttpServerOptions http_options;
  http_options.bind_address = config_.bind_address;
  http_options.port = config_.http_port;
  http_options.tls_cert = config_.tls_cert;
  http_options.tls_key = config_.tls_key;
  http_options.ws_ping_after = std::chrono::seconds(config_.ws_keepalive_s);
  http_options.ws_hangup_after = 2 * http_options.ws_ping_after;
  if (config_.tls_self_signed) {
    std::vector<std::string> names = local_tls::this_machine_names();
    if (!config_.public_host.empty() && std::find(names.begin(), names.end(), config_.public_host) == names.end())
      names.push_back(config_.public_host);
    local_tls::Files files;
    const std::string dir = (fs::path(config_.data_dir) / "tls").string();
    if (auto st = local_tls::ensure_certificates(dir, names, files); !st) return "--tls-self-signed: " + st.message();
    http_options.tls_cert = files.server_cert;
    http_options.tls_key = files.server_key;
    log::info("tls_self_signed").kv("dir", dir).kv("ca_fingerprint_sha256", files.ca_fingerprint_sha256);
    self_signed_ = std::move(files);
  }
  endpoints_.tls = !http_options.tls_cert.empty();
  http_options.fanout_threads =
      config_.fanout_threads >= 0 ? static_cast<unsigned>(config_.fanout_threads)
                                  : std::clamp(std::thread::hardware_concurrency(), 1u, 9u) - 1;
  if (config_.http_request_rate > 0 || config_.http_file_rate > 0) {
    realtime::RequestBudgetOptions budget;
    budget.api_rate = config_.http_request_rate;
    budget.api_burst = config_.http_request_burst;
    budget.file_rate = config_.http_file_rate;
    budget.file_burst = config_.http_file_burst;
    budget.exempt = config_.http_limit_exempt;
    http_options.request_budget = budget;
  } else {
    http_options.request_budget.reset();
  }
  http_ = std::make_unique<realtime::HttpServer>(loop_, http_options);
  order_writer_ = std::make_unique<store::OrderWriter>(*store_, loop_);
  commerce::CommerceOptions commerce_options;
  commerce_options.payment_window_ms = int64_t{config_.payment_window_s} * 1000;
  commerce_options.payment_secret = config_.payment_secret;
  commerce_options.payment_url = config_.payment_url;
  commerce_options.shared_store = config_.store != "sqlite";
  commerce_ = std::make_unique<commerce::CommerceService>(*store_, *order_writer_, commerce_options);
  bus_ = bus::open_bus(config_.bus, loop_, error);
  if (!bus_) return error;
  endpoints_.node_id = bus_->node_id();
  // Rate limits: defaults, then HARVEST_WS_* (benchmarks), then the --ws-* flags.
  realtime::RoomOptions room_options = realtime::RoomOptions::from_environment();
  if (config_.ws_message_rate > 0) room_options.message_rate = config_.ws_message_rate;
  if (config_.ws_message_burst > 0) room_options.message_burst = config_.ws_message_burst;
  if (config_.ws_chat_rate > 0) room_options.chat_rate = config_.ws_chat_rate;
  if (config_.ws_chat_burst > 0) room_options.chat_burst = config_.ws_chat_burst;
  if (config_.ws_flood_strikes > 0) room_options.flood_strikes = config_.ws_flood_strikes;
  rooms_ = std::make_unique<realtime::RoomService>(loop_, *http_, *streams_, access_, *commerce_,
                                                   room_options, bus_.get());
  // Exposures: restored from the store, then written through when one opens or closes (rare
  // events: a direct write on the loop thread).
  std::vector<show::CardExposure> exposures;
  if (auto st = store_->list_exposures(exposures); !st) return "cannot load card exposures: " + st.message();
  exposures_.restore(std::move(exposures));
  exposures_.set_on_change([this](const show::CardExposure& e) {
    if (auto st = store_->save_exposure(e); !st)
      log::error("exposure_not_stored").kv("stream", e.stream_id).kv("exposure", e.id).kv("reason", st.message());
  });
  rooms_->selling().set_card_timeline(&exposures_);
  // Replays: a live session a crash cut off is closed (ENDLIST) before anyone lists it.
  replays_ = std::make_unique<media::hls::ReplayLibrary>(
      replay_root(), media::hls::ReplayRetention{.keep_per_stream = static_cast<size_t>(config_.replay_keep),
                                                 .max_age_days = config_.replay_max_age_days});
  replays_->recover(now_ms());
  ll_hls_ = std::make_unique<media::hls::LlHlsRegistry>(loop_);
  http_->set_websocket_handler(rooms_.get());
  if (config_.demo) {
    if (auto err = load_demo_catalog(); !err.empty()) log::warn("demo_catalog_not_loaded").kv("reason", err);
  }
  rooms_->start();
  register_routes();
  for (const std::string& route : http_->router().describe()) log::debug("route").kv("route", route);
  for (realtime::ClientType t : realtime::kClientTypes)
    log::debug("ws_command")
        .kv("type", realtime::client_type_name(t))
        .kv("host_only", realtime::is_host_command(t));
  if (auto err = http_->start(); !err.empty()) return err;
  endpoints_.http_port = http_->port();
  endpoints_.rtmp_port = config_.rtmp_port;  // replaced by the chosen port once ingest listens
  endpoints_.srt_port = config_.srt_port;
  endpoints_.whep = config_.whep_max_viewers > 0;
  if (auto err = start_ingest(); !err.empty()) return err;

  log::info("listening")
      .kv("http_port", http_->port())
      .kv("rtmp_port", endpoints_.rtmp_port)
      .kv("srt_port", endpoints_.srt_port)
      .kv("data_dir", config_.data_dir)
      .kv("store", config_.store)
      .kv("bus", config_.bus)
      .kv("node", bus_->node_id())
      .kv("web_root", config_.web_root);
  if (config_.admin_token.empty())
    log::warn("no_admin_token").kv("hint", "set HARVEST_ADMIN_TOKEN; admin routes are refused");
  if (config_.demo) {
    if (StreamState* demo = streams_->find("demo")) {
      demo_publisher_ = std::make_unique<media::DemoPublisher>(media::DemoPublisher::Options{
          .rtmp_port = endpoints_.rtmp_port,
          .stream_key = demo->record.stream_key,
          .work_dir = (fs::path(config_.data_dir) / "demo").string()});
      demo_publisher_->start();
    }
    print_demo_links();
  }
  return {};
}

// What a newcomer needs from the demo, on standard output (the log goes to standard error):
// every page, the host console already signed in, and the broadcaster page at the LAN address
// for a phone on the same Wi-Fi (https: a phone opens the camera only on a secure origin).
void App::print_demo_links() const {
  const std::string local = "http://localhost:" + std::to_string(endpoints_.http_port);
  const std::string lan = lan_address();
  const StreamState* demo = streams_->find("demo");
  const StreamState* phone = streams_->find("phone");
  if (demo == nullptr || phone == nullptr) return;
  std::string text = "\nHarvest Live demo\n";
  text += "  Shop (viewers):        " + local + "/\n";
  text += "  Watch the demo show:   " + local + "/watch/demo\n";
  text += "  Host console:          " + local + "/host/demo#token=" + realtime::issue_host_token(access_, "demo", now_ms() / 1000) + "\n";
  if (endpoints_.tls && !lan.empty()) {
    const std::string phone_base = "https://" + lan + ":" + std::to_string(endpoints_.http_port);
    text += "  Go live from a phone:  " + phone_base + "/broadcast/phone#key=" + phone->record.stream_key + "\n";
    text += "                         (same Wi-Fi; the phone warns about the certificate: accept it, or\n";
    text += "                          install " + phone_base + "/tls/ca.pem first)\n";
    text += "  Its show for viewers:  " + phone_base + "/watch/phone\n";
  } else {
    text += "  Go live from a phone:  start with --tls-self-signed (phones open the camera only over https)\n";
  }
  text += "  Encoder apps (OBS):    rtmp://" + (lan.empty() ? std::string("localhost") : lan) + ":" +
          std::to_string(endpoints_.rtmp_port) + "/live/" + phone->record.stream_key + "\n";
  text += "  Farmers sign in:       " + local + "/login  (My farm: " + local + "/farm, sales: " + local + "/dashboard)\n";
  if (!config_.admin_token.empty()) {
    text += "  Farmer accounts:       " + local + "/admin  (admin token below; make a farmer or an invite link)\n";
    text += "  Admin token:           " + config_.admin_token + "\n";
  }
  std::fputs((text + "\n").c_str(), stdout);
  std::fflush(stdout);
}

// The first IPv4 address of this machine that is not loopback: what a phone on the same Wi-Fi
// reaches it at. "" when there is none.
std::string App::lan_address() {
  for (const auto& name : local_tls::this_machine_names())
    if (name.find_first_not_of("0123456789.") == std::string::npos && name.rfind("127.", 0) != 0) return name;
  return {};
}

// Where a phone scanning a burned-in card's QR reaches this server: --public-host, else the
// address it is bound to when that is one address, else its LAN address (as the demo links).
std::string App::public_http_base() const {
  std::string host = config_.public_host;
  if (host.empty() && !config_.bind_address.empty() && config_.bind_address != "0.0.0.0" &&
      config_.bind_address != "::")
    host = config_.bind_address;
  if (host.empty()) host = lan_address();
  if (host.empty()) host = "localhost";
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";  // IPv6
  return std::string(endpoints_.tls ? "https://" : "http://") + host + ":" +
         std::to_string(endpoints_.http_port);
}

std::string App::hls_root() const {
  return !config_.hls_dir.empty() ? config_.hls_dir : (fs::path(config_.data_dir) / "hls").string();
}

std::string App::replay_root() const { return (fs::path(config_.data_dir) / "replays").string(); }

std::string App::start_ingest() {
  media::IngestOptions ingest_options;
  ingest_options.hls_root = hls_root();
  ingest_options.shared_hls_root = !config_.hls_dir.empty();
  ingest_options.hls.window_segments = static_cast<size_t>(config_.hls_window);
  ingest_options.replays = replays_.get();
  ingest_options.ll = ll_hls_.get();
  ingest_ = std::make_unique<media::IngestManager>(loop_, *streams_, ingest_options);
  show::CardLink::Options link_options;
  link_options.burned_in = config_.burned_in;
  link_options.burned_ladder = config_.burned_ladder;
  // Tests and benchmarks force an encoder that cannot keep up with a slower x264 preset.
  if (const char* preset = std::getenv("HARVEST_BURNED_SPEED_PRESET"); preset != nullptr && *preset != '\0')
    link_options.burned_speed_preset = preset;
  // Pictures of burned-in cards: catalog image URLs this server serves itself, as local files
  // (the same directories as the /samples/images/, /static/ and /images/ routes).
  const std::string web_root = fs::is_directory(config_.web_root + "/dist") ? config_.web_root + "/dist" : config_.web_root;
  link_options.image_file = [samples = config_.samples_dir, web_root,
                             photos = *photos_](const std::string& url) -> std::string {
    const std::string path = url.substr(0, url.find_first_of("?#"));
    if (path.rfind(media::images::kPhotoUrlPrefix, 0) == 0)
      return photos.path_for(std::string_view(path).substr(media::images::kPhotoUrlPrefix.size()));
    for (const auto& [prefix, dir] : {std::pair<std::string, std::string>{"/samples/images/", samples + "/images"},
                                      std::pair<std::string, std::string>{"/static/", web_root}}) {
      if (path.rfind(prefix, 0) == 0) return realtime::safe_join(dir, path.substr(prefix.size()));
    }
    return {};
  };
  link_options.trace_base_url = public_http_base();
  card_link_ = std::make_unique<show::CardLink>(loop_, rooms_->stage(), *ingest_, exposures_, std::move(link_options));
  // Restream targets set before the restart wait for each stream's next publisher session.
  std::vector<std::pair<std::string, std::string>> restreams;
  if (auto st = store_->list_restreams(restreams); !st) return "cannot load restream targets: " + st.message();
  for (const auto& [stream_id, url] : restreams) card_link_->set_restream(stream_id, url);

  media::rtmp::RtmpServerOptions rtmp_options;
  rtmp_options.bind_address = config_.bind_address;
  rtmp_options.port = config_.rtmp_port;
  rtmp_options.max_pending_per_address = static_cast<size_t>(config_.rtmp_max_per_address);
  rtmp_options.setup_timeout = std::chrono::seconds(config_.rtmp_setup_timeout_s);
  rtmp_ = std::make_unique<media::rtmp::RtmpServer>(loop_, *ingest_, rtmp_options);
  if (auto err = rtmp_->start(); !err.empty()) return err;
  endpoints_.rtmp_port = rtmp_->port();

  media::srt::SrtServerOptions srt_options;
  srt_options.bind_address = config_.bind_address;
  srt_options.port = config_.srt_port;
  srt_options.latency = std::chrono::milliseconds(config_.srt_latency_ms);
  srt_ = std::make_unique<media::srt::SrtServer>(loop_, *ingest_, srt_options);
  if (auto err = srt_->start(); !err.empty()) return err;
  endpoints_.srt_port = srt_->port();

  media::webrtc::WhipPeerOptions whip_options;
  whip_options.public_address = config_.webrtc_public_ip;
  // webrtcbin spells them stun://host:port and turn://user:pass@host:port.
  if (!config_.webrtc_stun.empty()) whip_options.stun_server = "stun://" + config_.webrtc_stun.substr(5);
  if (!config_.webrtc_turn.empty()) whip_options.turn_server = "turn://" + config_.webrtc_turn.substr(5);
  whip_options.min_port = static_cast<uint16_t>(config_.webrtc_udp_min);
  whip_options.max_port = static_cast<uint16_t>(config_.webrtc_udp_max);
  whip_ = std::make_unique<media::webrtc::WhipIngest>(loop_, *ingest_, whip_options);
  media::webrtc::WhepOptions whep_options;
  whep_options.ice = whip_options;
  whep_options.max_viewers = static_cast<size_t>(config_.whep_max_viewers);
  whep_ = std::make_unique<media::webrtc::WhepPlayback>(
      loop_, *ingest_, [this](const std::string& id) { return streams_->find(id) != nullptr; }, whep_options);
  return {};
}

void App::stop_ingest() {
  // Publishers first (their connections post to the loop), then the pipelines and files.
  if (demo_publisher_) demo_publisher_->stop();
  if (rtmp_) rtmp_->stop();
  if (srt_) srt_->stop();
  whep_.reset();  // viewers first: their branches live in the publishers' pipelines
  whip_.reset();
  if (ingest_) ingest_->shutdown();
}

void App::register_routes() {
  auto& r = http_->router();
  api::register_health_route(r);
  api::register_tls_routes(r, endpoints_.tls, self_signed_);
  api::register_stream_routes(r, *streams_, access_, endpoints_, [this](const std::string& account_id) {
    const accounts::Account* a = accounts_->find(account_id);
    return a != nullptr ? a->name : std::string();
  });
  api::register_account_routes(r, access_, *streams_,
                               {*accounts_, *passwords_, *login_throttle_, endpoints_.tls});
  api::register_replay_routes(r, *streams_, access_, *reader_, *replays_, exposures_, rooms_->selling());
  api::register_hls_routes(r, hls_root(), replay_root(), ll_hls_.get());
  realtime::register_web_client_routes(r, config_.web_root);
  api::register_product_routes(r, *streams_, access_, rooms_->selling(), *store_);
  api::register_order_routes(r, *streams_, access_, *reader_);
  api::register_trace_routes(r, *streams_, *reader_);
  api::register_order_lifecycle_routes(r, *streams_, access_, rooms_->selling());
  api::register_report_routes(r, *streams_, access_, *reader_, rooms_->selling(), rooms_->monitor(), &exposures_);
  api::register_dashboard_routes(r, *streams_, access_, *reader_, rooms_->selling(), rooms_->monitor());
  api::register_metrics_route(r, *streams_, access_, rooms_->audience());
  api::register_restream_routes(r, *streams_, access_, *store_, [this] { return card_link_.get(); });
  api::register_sample_image_routes(r, config_.samples_dir);
  api::register_image_routes(r, access_, loop_, *photo_worker_, *photos_);
  api::register_whip_routes(r, [this] { return whip_.get(); }, {config_.webrtc_stun, config_.webrtc_turn});
  api::register_whep_routes(r, [this] { return whep_.get(); }, {config_.webrtc_stun, config_.webrtc_turn}, ll_hls_.get());
}

// --demo: the sample farm catalog goes into stream "demo" the first time (a stream that already
// has products keeps them), and its first product's card is shown by the host later.
std::string App::load_demo_catalog() {
  const std::string path = config_.samples_dir + "/catalog.json";
  std::ifstream in(path);
  if (!in) return "cannot read " + path;
  std::stringstream text;
  text << in.rdbuf();
  if (!rooms_->selling().products("demo").empty()) return {};
  std::vector<commerce::Product> products;
  if (auto err = api::parse_catalog(text.str(), products); !err.empty()) return path + ": " + err;
  // The demo is an operator's show (owner ""): its trace codes are claimed like any show's
  // (api/products.cpp), so no farmer can take them later, nor it a farmer's.
  std::vector<std::string> codes;
  for (const auto& p : products)
    if (!p.origin.trace_code.empty()) codes.push_back(p.origin.trace_code);
  std::string taken;
  if (auto st = store_->claim_trace_codes("", codes, taken); !st)
    return "cannot claim its trace codes: " + st.message();
  if (!taken.empty()) return path + ": trace code '" + taken + "' is another farm's";
  const std::string first = products.empty() ? std::string() : products.front().id;
  if (auto st = rooms_->selling().replace_catalog("demo", std::move(products)); !st) return st.message();
  if (!first.empty()) rooms_->stage().show_card("demo", first, "bottom");
  log::info("demo_catalog_loaded").kv("path", path);
  return {};
}

void App::run() {
  http_->run();
  stop_ingest();
  log::info("stopped");
}

void App::stop() { loop_.request_stop(); }

}  // namespace harvest
