#pragma once
// Server configuration: defaults here, overridden by a JSON config file, overridden by flags.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace harvest {

struct ServerConfig {
  // Network. Port 0 means "pick a free port"; the chosen port is logged.
  std::string bind_address = "0.0.0.0";
  int http_port = 8080;
  int rtmp_port = 1935;
  int srt_port = 9000;
  std::string tls_cert;
  std::string tls_key;
  // Make (once) and use a certificate for this machine's names and addresses, kept in
  // data_dir/tls/ (phone browsers open the camera only on a secure origin; docs/deploy.md).
  bool tls_self_signed = false;

  // WebRTC (WHIP) ICE: the address to advertise in host candidates when a NAT hides the
  // machine's own (a cloud VM), a UDP port range for firewalls (0-0: any), and STUN/TURN
  // servers handed to the publisher's browser in Link headers and used by the server.
  std::string webrtc_public_ip;
  int webrtc_udp_min = 0;
  int webrtc_udp_max = 0;
  std::string webrtc_stun;  // stun:host:port
  std::string webrtc_turn;  // turn:user:pass@host:port
  // Threads that serve websockets beside the control-plane loop (fan-out to many viewers);
  // 0: the loop thread serves everything; -1 ("auto"): one per CPU beyond the first, at most 8.
  // See docs/architecture.md.
  int fanout_threads = -1;
  // Host name used in the ingest/playback URLs handed to farmers; empty: the request's Host.
  std::string public_host;

  // Storage and scale-out backends.
  std::string data_dir = "./data";
  std::string store = "sqlite";  // or a postgres:// URL
  std::string bus = "local";     // or a redis:// URL
  // Where live HLS is written and served from; empty: DATA_DIR/hls, this node's own. Several
  // nodes point it at one shared directory (NFS...) so that every node serves every stream.
  std::string hls_dir;

  // Where the web client's files are; empty: found next to the binary / source tree.
  std::string web_root;
  std::string samples_dir;

  // Admin token; normally from HARVEST_ADMIN_TOKEN.
  std::string admin_token;
  // Secret used to sign host tokens; generated and kept in data_dir when empty.
  std::string token_secret;

  // Replays (each live session kept as HLS VOD under data_dir/replays): how many per stream
  // are kept, newest first (0: nothing is recorded), and an optional age limit in days
  // (0: none). `--replay-retention 20` or `--replay-retention 7d`.
  int replay_keep = 20;
  int replay_max_age_days = 0;
  // Segments in the live playlist's window (the live HLS keeps these plus a few lingering).
  int hls_window = 8;
  // A burned-in rendition (decode, cards drawn, encode) per live stream; off: passthrough only
  // (what the ingest benchmark compares with nginx-rtmp, which does not transcode either).
  bool burned_in = true;

  // Burned-in rendition's ladder: rung heights (the short side for portrait sources), largest
  // first, each an even number 64-2160; empty (default): one burned-in rendition at the source
  // size. `--burned-ladder 720,480,360`. See docs/media-link.md "Ladder".
  std::vector<int> burned_ladder;

  // RTMP ingest limits (docs/reliability.md): connections from one address that have not yet
  // sent `publish` with a valid stream key, and how long a connection may take to get there.
  int rtmp_max_per_address = 16;
  int whep_max_viewers = 60;  // see --whep-max-viewers
  int rtmp_setup_timeout_s = 5;
  // SRT receive latency (SRTO_RCVLATENCY on the listener; the connection uses the larger of
  // this and the caller's own latency). libsrt's 120 ms default is for a LAN: on rural 4G
  // (RTT ~150-200 ms, a few % loss) a lost packet needs several round trips to be retransmitted
  // before its play-out time, and SRT's guidance is latency >= 4 x RTT on lossy links:
  // 4 x 200 ms = 800 ms (docs/reliability.md, "Weak uplinks").
  int srt_latency_ms = 800;

  // Websocket rate limits (docs/protocol.md "Rate limits", docs/reliability.md "Floods"):
  // messages per second and burst per connection; chat per connection and per buyer; how many
  // `rate_limited` answers within 10 s close the connection (1008). 0: the default (or the
  // HARVEST_WS_* environment variable).
  double ws_message_rate = 0;
  double ws_message_burst = 0;
  double ws_chat_rate = 0;
  double ws_chat_burst = 0;
  int ws_flood_strikes = 0;
  int ws_keepalive_s = 30;  // ping after this much silence, drop after twice it

  // HTTP requests per client address and second, and bursts (docs/reliability.md "Floods"):
  // the API (pages, REST, WHIP) and files (HLS, replays, static, photos) separately; 0: off.
  // Addresses in http_limit_exempt (a reverse proxy in front) are not limited.
  int http_request_rate = 100;
  int http_request_burst = 400;
  int http_file_rate = 3000;
  int http_file_burst = 6000;
  std::vector<std::string> http_limit_exempt = {"127.0.0.1"};

  // Farmer sign-in limits per 15 minutes (docs/accounts.md).
  int login_attempts_per_address = 30;
  int login_failures_per_account = 5;

  // Checkout (docs/orders.md): how long a reserved order holds its units for payment, and the
  // payment service's notification secret (empty: buyers pay offline only).
  int payment_window_s = 15 * 60;
  std::string payment_secret;
  // Where a buyer pays online: a URL template with {order_id}, {amount} (fen), {currency};
  // given with the secret (one without the other is refused at start).
  std::string payment_url;

  bool demo = false;
  std::string log_level = "info";
};

struct ConfigResult {
  enum class Action { run, help, version, error };
  Action action = Action::run;
  ServerConfig config;
  std::string error;  // set when action == error; a sentence for the operator
};

// Parses argv (argv[0] is skipped). `env_admin_token` is the value of HARVEST_ADMIN_TOKEN if set.
// Precedence: defaults < --config FILE < flags; the env token applies unless the flag/config set one.
ConfigResult parse_command_line(const std::vector<std::string>& args,
                                std::optional<std::string> env_admin_token);

// Applies the JSON text of a config file onto `config`. Returns an error sentence, or empty.
std::string apply_config_json(const std::string& json_text, ServerConfig& config);

std::string usage_text();

}  // namespace harvest
