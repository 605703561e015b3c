#include "core/config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string_view>

namespace harvest {
namespace {

using Setter = std::function<std::string(ServerConfig&, const std::string&)>;

// The whole of `text` as a decimal number in [lo, hi]; nullopt for anything else (empty, a sign
// or trailing characters, out of range).
std::optional<int> int_in_range(std::string_view text, int lo, int hi) {
  int n = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (text.empty() || ec != std::errc() || ptr != end || n < lo || n > hi) return std::nullopt;
  return n;
}

// A per-address request limit: a number 1-1000000, or "off" (0) where `off_allowed`.
std::string set_request_limit(int& field, const std::string& name, const std::string& what, const std::string& value,
                              bool off_allowed = true) {
  if (off_allowed && value == "off") {
    field = 0;
    return {};
  }
  const auto n = int_in_range(value, 1, 1000000);
  if (!n) return "--" + name + " needs a number of " + what + " 1-1000000" + (off_allowed ? " or 'off'" : "") + ", got '" + value + "'";
  field = *n;
  return {};
}

std::string set_port(int& field, const std::string& name, const std::string& value) {
  const auto port = int_in_range(value, 0, 65535);
  if (!port) return "--" + name + " needs a port number 0-65535, got '" + value + "'";
  field = *port;
  return {};
}

// What is wrong with the HOST:PORT of an ICE server URL, or "" if nothing: a host name or IPv4
// address, or an IPv6 address in brackets, then a port 1-65535. Caught here, because webrtcbin
// and libnice take a bad one silently and publishers behind a NAT then just fail to connect.
std::string ice_host_port_problem(std::string_view host_port) {
  const size_t colon = host_port.rfind(':');
  const bool bracketed = !host_port.empty() && host_port.front() == '[';
  if (colon == std::string_view::npos || (bracketed && colon < host_port.find(']')))
    return "the port is missing";
  const std::string_view host = host_port.substr(0, colon);
  const std::string_view port = host_port.substr(colon + 1);
  if (host.empty()) return "the host is empty";
  if (bracketed) {
    in6_addr parsed{};
    const std::string inner(host.substr(1, host.size() - 2));
    if (host.back() != ']' || ::inet_pton(AF_INET6, inner.c_str(), &parsed) != 1)
      return "'" + std::string(host) + "' is not an IPv6 address in brackets";
  } else if (host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
             std::string_view::npos) {
    return "the host '" + std::string(host) + "' is not a host name or address (an IPv6 address goes in brackets)";
  }
  if (port.empty()) return "the port is missing";
  if (!int_in_range(port, 1, 65535)) return "the port '" + std::string(port) + "' is not a number 1-65535";
  return {};
}

// One table of value-taking options, shared by flags and the config file.
const std::map<std::string, Setter>& value_options() {
  static const std::map<std::string, Setter> table = {
      {"http-port", [](ServerConfig& c, const std::string& v) { return set_port(c.http_port, "http-port", v); }},
      {"rtmp-port", [](ServerConfig& c, const std::string& v) { return set_port(c.rtmp_port, "rtmp-port", v); }},
      {"srt-port", [](ServerConfig& c, const std::string& v) { return set_port(c.srt_port, "srt-port", v); }},
      {"srt-latency-ms", [](ServerConfig& c, const std::string& v) {
         const auto n = int_in_range(v, 20, 8000);
         if (!n) return "--srt-latency-ms needs a latency in milliseconds 20-8000, got '" + v + "'";
         c.srt_latency_ms = *n;
         return std::string();
       }},
      {"rtmp-max-per-address", [](ServerConfig& c, const std::string& v) {
         const auto n = int_in_range(v, 1, 100000);
         if (!n) return "--rtmp-max-per-address needs a number of connections 1-100000, got '" + v + "'";
         c.rtmp_max_per_address = *n;
         return std::string();
       }},
      {"whep-max-viewers", [](ServerConfig& c, const std::string& v) {
         const auto n = int_in_range(v, 0, 100000);
         if (!n) return "--whep-max-viewers needs a number of viewers 0-100000, got '" + v + "'";
         c.whep_max_viewers = *n;
         return std::string();
       }},
      {"login-attempts-per-address", [](ServerConfig& c, const std::string& v) {
         const auto n = int_in_range(v, 1, 1000000);
         if (!n) return "--login-attempts-per-address needs a number of attempts 1-1000000, got '" + v + "'";
         c.login_attempts_per_address = *n;
         return std::string();
       }},
      {"login-failures-per-account", [](ServerConfig& c, const std::string& v) {
         const auto n = int_in_range(v, 1, 1000000);
         if (!n) return "--login-failures-per-account needs a number of failures 1-1000000, got '" + v + "'";
         c.login_failures_per_account = *n;
         return std::string();
       }},
      {"ws-message-rate", [](ServerConfig& c, const std::string& v) {
         const auto n = int_in_range(v, 1, 100000);
         if (!n) return "--ws-message-rate needs a number of messages per second 1-100000, got '" + v + "'";
         c.ws_message_rate = *n;
         return std::string();
       }},
      {"ws-message-burst", [](ServerConfig& c, const std::string& v) {
         const auto n = int_in_range(v, 1, 100000);
         if (!n) return "--ws-message-burst needs a number of messages 1-100000, got '" + v + "'";
         c.ws_message_burst = *n;
         return std::string();
       }},
      {"ws-chat-rate", [](ServerConfig& c, const std::string& v) {
         const auto n = int_in_range(v, 1, 10000);
         if (!n) return "--ws-chat-rate needs a number of chat messages per second 1-10000, got '" + v + "'";
         c.ws_chat_rate = *n;
         return std::string();
       }},
      {"ws-chat-burst", [](ServerConfig& c, const std::string& v) {
         const auto n = int_in_range(v, 1, 10000);
         if (!n) return "--ws-chat-burst needs a number of chat messages 1-10000, got '" + v + "'";
         c.ws_chat_burst = *n;
         return std::string();
       }},
      {"ws-flood-strikes", [](ServerConfig& c, const std::string& v) {
         const auto n = int_in_range(v, 1, 100000);
         if (!n) return "--ws-flood-strikes needs a number of rate_limited answers 1-100000, got '" + v + "'";
         c.ws_flood_strikes = *n;
         return std::string();
       }},
      {"ws-keepalive", [](ServerConfig& c, const std::string& v) {
         const auto n = int_in_range(v, 1, 3600);
         if (!n) return "--ws-keepalive needs a number of seconds 1-3600, got '" + v + "'";
         c.ws_keepalive_s = *n;
         return std::string();
       }},
      {"http-request-rate", [](ServerConfig& c, const std::string& v) {
         return set_request_limit(c.http_request_rate, "http-request-rate", "requests per second per address", v);
       }},
      {"http-request-burst", [](ServerConfig& c, const std::string& v) {
         return set_request_limit(c.http_request_burst, "http-request-burst", "requests per address", v, /*off_allowed=*/false);
       }},
      {"http-file-rate", [](ServerConfig& c, const std::string& v) {
         return set_request_limit(c.http_file_rate, "http-file-rate", "file requests per second per address", v);
       }},
      {"http-file-burst", [](ServerConfig& c, const std::string& v) {
         return set_request_limit(c.http_file_burst, "http-file-burst", "file requests per address", v, /*off_allowed=*/false);
       }},
      {"http-limit-exempt", [](ServerConfig& c, const std::string& v) {
         // Comma-separated IPv4 addresses; "none": nobody is exempt.
         std::vector<std::string> addresses;
         if (v != "none") {
           size_t pos = 0;
           while (true) {
             const size_t comma = v.find(',', pos);
             const std::string item = v.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
             in_addr parsed{};
             if (::inet_pton(AF_INET, item.c_str(), &parsed) != 1)
               return "--http-limit-exempt needs comma-separated IPv4 addresses or 'none', got '" + v + "'";
             addresses.push_back(item);
             if (comma == std::string::npos) break;
             pos = comma + 1;
           }
         }
         c.http_limit_exempt = std::move(addresses);
         return std::string();
       }},
      {"rtmp-setup-timeout", [](ServerConfig& c, const std::string& v) {
         const auto n = int_in_range(v, 1, 600);
         if (!n) return "--rtmp-setup-timeout needs a number of seconds 1-600, got '" + v + "'";
         c.rtmp_setup_timeout_s = *n;
         return std::string();
       }},
      {"fanout-threads", [](ServerConfig& c, const std::string& v) {
         if (v == "auto") {
           c.fanout_threads = -1;
           return std::string();
         }
         const auto n = int_in_range(v, 0, 32);
         if (!n) return "--fanout-threads needs 'auto' or a number 0-32, got '" + v + "'";
         c.fanout_threads = *n;
         return std::string();
       }},
      {"replay-retention", [](ServerConfig& c, const std::string& v) {
         // "N": keep the newest N replays per stream; "Nd": also drop replays older than N days.
         const bool days = !v.empty() && v.back() == 'd';
         const std::string digits = days ? v.substr(0, v.size() - 1) : v;
         const auto n = int_in_range(digits, days ? 1 : 0, 100000);
         if (!n) return "--replay-retention needs a count (e.g. 20; 0 records nothing) or days (e.g. 7d), got '" + v + "'";
         if (days) c.replay_max_age_days = *n;
         else c.replay_keep = *n;
         return std::string();
       }},
      {"hls-window", [](ServerConfig& c, const std::string& v) {
         const auto n = int_in_range(v, 2, 100);
         if (!n) return "--hls-window needs a number of segments 2-100, got '" + v + "'";
         c.hls_window = *n;
         return std::string();
       }},
      {"burned-in", [](ServerConfig& c, const std::string& v) {
         if (v != "on" && v != "off") return "--burned-in must be on or off, got '" + v + "'";
         c.burned_in = v == "on";
         return std::string();
       }},
      {"burned-ladder", [](ServerConfig& c, const std::string& v) {
         // Comma-separated heights, e.g. "720,480,360"; "" or "off": no ladder.
         const std::string problem =
             "--burned-ladder needs comma-separated even heights 64-2160 (e.g. 720,480,360) or 'off', got '" + v + "'";
         std::vector<int> rungs;
         if (v != "off" && !v.empty()) {
           size_t pos = 0;
           while (true) {
             const size_t comma = v.find(',', pos);
             const std::string item = v.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
             const auto n = int_in_range(item, 64, 2160);
             if (!n || *n % 2 != 0) return problem;
             if (std::find(rungs.begin(), rungs.end(), *n) != rungs.end()) return problem + " (repeated " + item + ")";
             rungs.push_back(*n);
             if (comma == std::string::npos) break;
             pos = comma + 1;
           }
         }
         std::sort(rungs.rbegin(), rungs.rend());
         c.burned_ladder = std::move(rungs);
         return std::string();
       }},
      {"bind", [](ServerConfig& c, const std::string& v) { c.bind_address = v; return std::string(); }},
      {"public-host", [](ServerConfig& c, const std::string& v) { c.public_host = v; return std::string(); }},
      {"data-dir", [](ServerConfig& c, const std::string& v) { c.data_dir = v; return std::string(); }},
      {"store", [](ServerConfig& c, const std::string& v) {
         if (v != "sqlite" && v.rfind("postgres://", 0) != 0 && v.rfind("postgresql://", 0) != 0)
           return "--store must be 'sqlite' or a postgres:// URL, got '" + v + "'";
         c.store = v;
         return std::string();
       }},
      {"bus", [](ServerConfig& c, const std::string& v) {
         if (v != "local" && v.rfind("redis://", 0) != 0)
           return "--bus must be 'local' or a redis:// URL, got '" + v + "'";
         c.bus = v;
         return std::string();
       }},
      {"hls-dir", [](ServerConfig& c, const std::string& v) { c.hls_dir = v; return std::string(); }},
      {"web-root", [](ServerConfig& c, const std::string& v) { c.web_root = v; return std::string(); }},
      {"samples-dir", [](ServerConfig& c, const std::string& v) { c.samples_dir = v; return std::string(); }},
      {"tls-cert", [](ServerConfig& c, const std::string& v) { c.tls_cert = v; return std::string(); }},
      {"tls-key", [](ServerConfig& c, const std::string& v) { c.tls_key = v; return std::string(); }},
      {"webrtc-public-ip", [](ServerConfig& c, const std::string& v) {
         in_addr parsed{};
         if (::inet_pton(AF_INET, v.c_str(), &parsed) != 1)
           return "--webrtc-public-ip needs an IPv4 address (the one a NAT shows the world), got '" + v + "'";
         c.webrtc_public_ip = v;
         return std::string();
       }},
      {"webrtc-udp-ports", [](ServerConfig& c, const std::string& v) {
         const std::string problem = "--webrtc-udp-ports needs a range MIN-MAX within 1024-65535 (e.g. 40000-40099), got '" + v + "'";
         const size_t dash = v.find('-');
         if (dash == std::string::npos) return problem;
         const auto lo = int_in_range(v.substr(0, dash), 1024, 65535);
         const auto hi = int_in_range(v.substr(dash + 1), 1024, 65535);
         if (!lo || !hi || *lo > *hi) return problem;
         c.webrtc_udp_min = *lo;
         c.webrtc_udp_max = *hi;
         return std::string();
       }},
      {"webrtc-stun", [](ServerConfig& c, const std::string& v) {
         const std::string usage = "--webrtc-stun needs stun:HOST:PORT (e.g. stun:stun.example.net:3478)";
         if (v.rfind("stun:", 0) != 0) return usage + ", got '" + v + "'";
         if (const std::string problem = ice_host_port_problem(std::string_view(v).substr(5)); !problem.empty())
           return usage + ": " + problem + ", got '" + v + "'";
         c.webrtc_stun = v;
         return std::string();
       }},
      {"webrtc-turn", [](ServerConfig& c, const std::string& v) {
         // The value holds a password: the messages never repeat it.
         const std::string usage = "--webrtc-turn needs turn:USER:PASSWORD@HOST:PORT (e.g. turn:farm:secret@turn.example.net:3478)";
         const size_t at = v.rfind('@');
         if (v.rfind("turn:", 0) != 0 || at == std::string::npos) return usage;
         const std::string_view user_pass = std::string_view(v).substr(5, at - 5);
         const size_t colon = user_pass.find(':');
         if (colon == std::string_view::npos) return usage + ": the password is missing";
         if (colon == 0) return usage + ": the user is empty";
         if (v.find_first_of(" \r\n\"<>") != std::string::npos)
           return usage + ": spaces, quotes and angle brackets cannot be handed out in a Link header";
         if (const std::string problem = ice_host_port_problem(std::string_view(v).substr(at + 1)); !problem.empty())
           return usage + ": " + problem;
         c.webrtc_turn = v;
         return std::string();
       }},
      {"payment-window", [](ServerConfig& c, const std::string& v) {
         // Seconds, or with a unit: 90s, 15m, 2h.
         const std::string problem = "--payment-window needs a duration from 1s to 48h (e.g. 15m, 90s), got '" + v + "'";
         if (v.empty()) return problem;
         int unit = 1;
         std::string number = v;
         switch (v.back()) {
           case 's': unit = 1; number.pop_back(); break;
           case 'm': unit = 60; number.pop_back(); break;
           case 'h': unit = 3600; number.pop_back(); break;
           default: break;
         }
         const auto n = int_in_range(number, 1, 48 * 3600);
         if (!n || static_cast<int64_t>(*n) * unit > 48 * 3600) return problem;
         c.payment_window_s = *n * unit;
         return std::string();
       }},
      {"payment-secret", [](ServerConfig& c, const std::string& v) {
         if (v.size() < 16) return std::string("--payment-secret needs at least 16 characters (the payment service's notification key)");
         c.payment_secret = v;
         return std::string();
       }},
      {"payment-url", [](ServerConfig& c, const std::string& v) {
         if ((v.rfind("https://", 0) != 0 && v.rfind("http://", 0) != 0) || v.find("{order_id}") == std::string::npos ||
             v.find_first_of(" \r\n\"<>") != std::string::npos)
           return "--payment-url needs an http(s) URL template with {order_id} (and optionally {amount}, {currency}), got '" + v + "'";
         c.payment_url = v;
         return std::string();
       }},
      {"admin-token", [](ServerConfig& c, const std::string& v) { c.admin_token = v; return std::string(); }},
      {"token-secret", [](ServerConfig& c, const std::string& v) { c.token_secret = v; return std::string(); }},
      {"log-level", [](ServerConfig& c, const std::string& v) {
         if (v != "debug" && v != "info" && v != "warn" && v != "error")
           return "--log-level must be debug, info, warn or error, got '" + v + "'";
         c.log_level = v;
         return std::string();
       }},
  };
  return table;
}

}  // namespace

std::string usage_text() {
  return R"(Usage: harvest-server [--config FILE] [options]

Live-stream commerce server: RTMP/SRT ingest, HLS playback, product cards, real-time orders.
Flags override the JSON config file, which overrides the defaults.

  --config FILE        JSON file with any of the options below (keys without the dashes)
  --http-port N        HTTP + websocket port (default 8080; 0 picks a free port)
  --rtmp-port N        RTMP ingest port (default 1935; 0 picks a free port)
  --srt-port N         SRT ingest port (default 9000; 0 picks a free port)
  --srt-latency-ms N   SRT receive latency in ms, 20-8000 (default 800: 4 x the RTT of a
                       weak 4G uplink; the larger of this and the publisher's own is used)
  --bind ADDR          address to listen on (default 0.0.0.0)
  --rtmp-max-per-address N  RTMP connections one address may hold before it has sent
                       `publish` with a valid stream key (default 16; more are refused)
  --rtmp-setup-timeout S  seconds an RTMP connection has from accept to `publish` (default 5)
  --login-attempts-per-address N  farmer sign-ins one address may try per 15 minutes
                       (default 30; more get 429 with Retry-After)
  --login-failures-per-account N  wrong passwords per username per 15 minutes (default 5)
  --ws-message-rate N  websocket messages per second per connection (default 20)
  --ws-message-burst N burst of websocket messages per connection (default 40)
  --ws-chat-rate N     chat messages per second, per connection and per buyer (default 1)
  --ws-chat-burst N    burst of chat messages, per connection and per buyer (default 5)
  --ws-flood-strikes N `rate_limited` answers within 10 s that close a websocket with 1008
                       (default 10)
  --ws-keepalive S     ping a websocket silent for S seconds, drop it when silent for 2*S
                       (a phone that lost its network; default 30)
  --http-request-rate N  HTTP requests per second per client address to pages, the API and
                       WHIP, or 'off' (default 100; over it: 429 with Retry-After)
  --http-request-burst N burst of those requests per address (default 400)
  --http-file-rate N   requests per second per address for HLS, replays, static files and
                       photos, or 'off' (default 3000: many viewers behind one NAT address)
  --http-file-burst N  burst of those per address (default 6000)
  --http-limit-exempt A,B  addresses never limited, or 'none' (default 127.0.0.1: a reverse
                       proxy on this machine carries every client's requests; limit there)
  --fanout-threads N   threads serving websockets beside the control loop (default auto:
                       one per CPU beyond the first, at most 8; 0: all on the loop thread)
  --burned-in on|off   a burned-in rendition (cards drawn into the video) per live stream (default on)
  --public-host HOST   host name used in the URLs handed out (default: the request's Host)
  --data-dir DIR       where the store, HLS files and recordings live (default ./data)
  --store S            'sqlite' (default) or a postgres:// URL (several nodes share it)
  --bus B              'local' (default: one node) or redis://host:port (room events between nodes)
  --hls-dir DIR        live HLS, written by the node holding a stream's ingest and served by
                       every node: a directory all nodes share (default DATA_DIR/hls, this node's)
  --web-root DIR       web client files (default: found beside the binary)
  --samples-dir DIR    demo catalog and media (default: found beside the binary)
  --tls-cert FILE      serve HTTPS/WSS with this certificate (with --tls-key)
  --tls-key FILE
  --tls-self-signed    serve HTTPS/WSS with a certificate made for this machine's names and
                       addresses, kept in DATA_DIR/tls/ (for phones on the LAN; see docs/deploy.md)
  --webrtc-public-ip A the IPv4 address WHIP publishers should reach (a cloud VM's public
                       address, hidden by its NAT); host candidates are advertised with it
  --webrtc-udp-ports R UDP port range for WebRTC media, e.g. 40000-40099 (default: any)
  --webrtc-stun URL    stun:HOST:PORT, used by the server and handed to publishers (Link header)
  --webrtc-turn URL    turn:USER:PASSWORD@HOST:PORT, likewise
  --whep-max-viewers N WebRTC (WHEP) viewers at once over the whole server; more get 503 with
                       Retry-After and are sent to HLS (default 60, from docs/benchmarks.md
                       "WHEP viewers per core"; 0: no WHEP playback, every POST /whep gets 503)
  --payment-window D   how long a reserved order holds its units for payment (default 15m;
                       e.g. 90s, 30m, 2h); unpaid orders expire and their units go back on sale
  --payment-secret S   the payment service's notification key: enables online payment, with
                       signed notifications at POST /api/payments/notify (docs/orders.md);
                       needs --payment-url
  --payment-url U      the payment page a buyer is sent to, a template such as
                       https://pay.example.com/cashier?order={order_id}&amount={amount}&currency={currency}
  --admin-token T      admin token (default: the HARVEST_ADMIN_TOKEN environment variable)
  --token-secret S     secret that signs host tokens (default: generated into the data dir)
  --replay-retention R replays kept per stream: a count (default 20; 0 records nothing) or
                       an age in days (e.g. 7d: newest 20 kept, and none older than 7 days)
  --hls-window N       segments in the live HLS playlist (default 8)
  --burned-ladder L    extra burned-in renditions, comma-separated heights (e.g. 720,480,360;
                       the short side for portrait sources; rungs not below the source are
                       skipped), with a master playlist /hls/{id}/burned/master.m3u8
                       (default: off, one burned-in rendition at the source size)
  --demo               load the sample catalog and start the built-in demo publisher
  --log-level L        debug, info (default), warn, error
  --help               show this text
  --version            print the version
)";
}

std::string apply_config_json(const std::string& json_text, ServerConfig& config) {
  nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return "config file is not valid JSON";
  if (!doc.is_object()) return "config file must hold a JSON object";
  for (const auto& [key, value] : doc.items()) {
    if (key == "demo" || key == "tls-self-signed") {
      if (!value.is_boolean()) return "config key '" + key + "' must be true or false";
      (key == "demo" ? config.demo : config.tls_self_signed) = value.get<bool>();
      continue;
    }
    const auto& table = value_options();
    const auto it = table.find(key);
    if (it == table.end()) return "unknown config key '" + key + "'";
    std::string text;
    if (value.is_string()) text = value.get<std::string>();
    else if (value.is_number_integer()) text = std::to_string(value.get<long long>());
    else return "config key '" + key + "' must be a string or an integer";
    if (auto err = it->second(config, text); !err.empty()) return "config file: " + err;
  }
  return {};
}

ConfigResult parse_command_line(const std::vector<std::string>& args,
                                std::optional<std::string> env_admin_token) {
  ConfigResult result;
  auto fail = [&](std::string message) {
    result.action = ConfigResult::Action::error;
    result.error = std::move(message);
    return result;
  };

  // Split "--key=value" and "--key value" into (key, value) pairs first, so the
  // config file can be applied before any flag regardless of where it appears.
  struct Flag { std::string key; std::optional<std::string> value; };
  std::vector<Flag> flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) return fail("unexpected argument '" + arg + "'");
    std::string key = arg.substr(2);
    std::optional<std::string> value;
    if (auto eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key.resize(eq);
    }
    const bool takes_value = key == "config" || value_options().count(key) > 0;
    const bool is_switch = key == "help" || key == "version" || key == "demo" || key == "tls-self-signed";
    if (!takes_value && !is_switch) return fail("unknown flag '--" + key + "' (see --help)");
    if (takes_value && !value) {
      if (i + 1 >= args.size()) return fail("flag '--" + key + "' needs a value");
      value = args[++i];
    }
    if (is_switch && value) return fail("flag '--" + key + "' takes no value");
    flags.push_back({key, value});
  }

  for (const auto& f : flags) {
    if (f.key == "help") { result.action = ConfigResult::Action::help; return result; }
    if (f.key == "version") { result.action = ConfigResult::Action::version; return result; }
  }

  ServerConfig config;
  if (env_admin_token && !env_admin_token->empty()) config.admin_token = *env_admin_token;
  for (const auto& f : flags) {
    if (f.key != "config") continue;
    std::ifstream in(*f.value);
    if (!in) return fail("cannot read config file '" + *f.value + "'");
    std::stringstream text;
    text << in.rdbuf();
    if (auto err = apply_config_json(text.str(), config); !err.empty())
      return fail(*f.value + ": " + err);
  }
  for (const auto& f : flags) {
    if (f.key == "config") continue;
    if (f.key == "demo") { config.demo = true; continue; }
    if (f.key == "tls-self-signed") { config.tls_self_signed = true; continue; }
    if (auto err = value_options().at(f.key)(config, *f.value); !err.empty()) return fail(err);
  }
  if (config.tls_cert.empty() != config.tls_key.empty())
    return fail("--tls-cert and --tls-key must be given together");
  // Online payment needs both halves: where the buyer pays, and the key its notifications carry.
  if (config.payment_secret.empty() != config.payment_url.empty())
    return fail("--payment-secret and --payment-url must be given together (online payment needs a payment page and signed notifications)");
  if (config.tls_self_signed && !config.tls_cert.empty())
    return fail("--tls-self-signed makes its own certificate: give it or --tls-cert/--tls-key, not both");

  result.config = std::move(config);
  return result;
}

}  // namespace harvest
