#include <catch2/catch.hpp>
#include <fstream>

#include "core/config.h"
#include "support/temp_dir.h"

using harvest::ConfigResult;
using harvest::parse_command_line;

TEST_CASE("defaults are the documented ones", "[config]") {
  auto r = parse_command_line({}, std::nullopt);
  REQUIRE(r.action == ConfigResult::Action::run);
  CHECK(r.config.http_port == 8080);
  CHECK(r.config.rtmp_port == 1935);
  CHECK(r.config.srt_port == 9000);
  CHECK(r.config.data_dir == "./data");
  CHECK(r.config.store == "sqlite");
  CHECK(r.config.bus == "local");
  CHECK_FALSE(r.config.demo);
}

TEST_CASE("flags override the config file, which overrides defaults", "[config]") {
  harvest::test::TempDir dir;
  const std::string file = dir.path() + "/harvest.json";
  std::ofstream(file) << R"({"http-port": 9999, "rtmp-port": 2000, "data-dir": "/var/harvest", "demo": true})";

  auto r = parse_command_line({"--http-port=1234", "--config", file}, std::nullopt);
  REQUIRE(r.action == ConfigResult::Action::run);
  CHECK(r.config.http_port == 1234);    // flag wins even though it came first
  CHECK(r.config.rtmp_port == 2000);    // from the file
  CHECK(r.config.srt_port == 9000);     // default
  CHECK(r.config.data_dir == "/var/harvest");
  CHECK(r.config.demo);
}

TEST_CASE("admin token: env unless set explicitly", "[config]") {
  CHECK(parse_command_line({}, std::string("env-token")).config.admin_token == "env-token");
  CHECK(parse_command_line({"--admin-token", "flag"}, std::string("env")).config.admin_token == "flag");
}

TEST_CASE("bad flags are errors with a sentence", "[config]") {
  const std::vector<std::vector<std::string>> bad = {
      {"--no-such-flag"}, {"--http-port"}, {"--http-port", "seventy"}, {"--http-port", "70000"},
      {"--http-port", "-1"}, {"stray"}, {"--store", "mysql://x"}, {"--bus", "kafka"},
      {"--demo=yes"}, {"--log-level", "loud"}, {"--tls-cert", "a.pem"}, {"--config", "/nonexistent.json"},
  };
  for (const auto& args : bad) {
    INFO(args.front());
    auto r = parse_command_line(args, std::nullopt);
    CHECK(r.action == ConfigResult::Action::error);
    CHECK_FALSE(r.error.empty());
  }
}

TEST_CASE("config file errors name the problem", "[config]") {
  harvest::ServerConfig c;
  CHECK(harvest::apply_config_json("{not json", c).find("not valid JSON") != std::string::npos);
  CHECK(harvest::apply_config_json("[1]", c).find("object") != std::string::npos);
  CHECK(harvest::apply_config_json(R"({"colour": "red"})", c).find("colour") != std::string::npos);
  CHECK(harvest::apply_config_json(R"({"http-port": [1]})", c).find("http-port") != std::string::npos);
  CHECK(harvest::apply_config_json(R"({"store": "postgres://db/harvest", "bus": "redis://r:6379"})", c).empty());
  CHECK(c.store == "postgres://db/harvest");
  CHECK(c.bus == "redis://r:6379");
}

TEST_CASE("scale-out backends that are not built refuse to start with a clear message", "[config]") {
  // The PostgreSQL store and the Redis bus are built (issue 19): their URLs are accepted.
  CHECK(parse_command_line({"--store", "postgres://db/harvest"}, std::nullopt).action == ConfigResult::Action::run);
  CHECK(parse_command_line({"--store", "mysql://db"}, std::nullopt).action == ConfigResult::Action::error);
  CHECK(parse_command_line({"--bus", "redis://r:6379"}, std::nullopt).action == ConfigResult::Action::run);
  CHECK(parse_command_line({"--store", "sqlite", "--bus", "local"}, std::nullopt).action == ConfigResult::Action::run);
}

TEST_CASE("help and version", "[config]") {
  CHECK(parse_command_line({"--help"}, std::nullopt).action == ConfigResult::Action::help);
  CHECK(parse_command_line({"--http-port", "1", "--version"}, std::nullopt).action == ConfigResult::Action::version);
  CHECK(harvest::usage_text().find("--http-port") != std::string::npos);
}

TEST_CASE("replay retention: a count or days; the live window", "[config]") {
  auto d = parse_command_line({}, std::nullopt);
  CHECK(d.config.replay_keep == 20);
  CHECK(d.config.replay_max_age_days == 0);
  CHECK(d.config.hls_window == 8);
  auto r = parse_command_line({"--replay-retention", "5", "--hls-window", "3"}, std::nullopt);
  REQUIRE(r.action == ConfigResult::Action::run);
  CHECK(r.config.replay_keep == 5);
  CHECK(r.config.hls_window == 3);
  auto days = parse_command_line({"--replay-retention", "7d"}, std::nullopt);
  REQUIRE(days.action == ConfigResult::Action::run);
  CHECK(days.config.replay_keep == 20);
  CHECK(days.config.replay_max_age_days == 7);
  CHECK(parse_command_line({"--replay-retention", "0"}, std::nullopt).config.replay_keep == 0);
  for (const char* bad : {"-1", "d", "0d", "7w", "x"}) {
    INFO(bad);
    CHECK(parse_command_line({"--replay-retention", bad}, std::nullopt).action == ConfigResult::Action::error);
  }
  CHECK(parse_command_line({"--hls-window", "1"}, std::nullopt).action == ConfigResult::Action::error);
}

TEST_CASE("burned-in ladder: heights from flags or the config file, largest first", "[config]") {
  CHECK(parse_command_line({}, std::nullopt).config.burned_ladder.empty());
  auto r = parse_command_line({"--burned-ladder", "360,720,480"}, std::nullopt);
  REQUIRE(r.action == ConfigResult::Action::run);
  CHECK(r.config.burned_ladder == std::vector<int>{720, 480, 360});
  CHECK(parse_command_line({"--burned-ladder=off"}, std::nullopt).config.burned_ladder.empty());
  harvest::ServerConfig c;
  CHECK(harvest::apply_config_json(R"({"burned-ladder": "480,240"})", c).empty());
  CHECK(c.burned_ladder == std::vector<int>{480, 240});
  CHECK(harvest::apply_config_json(R"({"burned-ladder": 360})", c).empty());
  CHECK(c.burned_ladder == std::vector<int>{360});
  harvest::test::TempDir dir;
  const std::string file = dir.path() + "/harvest.json";
  std::ofstream(file) << R"({"burned-ladder": "720,480"})";
  auto f = parse_command_line({"--config", file, "--burned-ladder", "240"}, std::nullopt);
  REQUIRE(f.action == ConfigResult::Action::run);
  CHECK(f.config.burned_ladder == std::vector<int>{240});  // the flag wins
  for (const char* bad :
       {"720,,480", "abc", "721", "32", "4320", "720,720", "480,", ",480", "-240", "480p"}) {
    INFO(bad);
    auto e = parse_command_line({"--burned-ladder", bad}, std::nullopt);
    CHECK(e.action == ConfigResult::Action::error);
    CHECK(e.error.find("--burned-ladder") != std::string::npos);
  }
}

TEST_CASE("checkout flags: the payment window, and online payment needs its secret and its page", "[config]") {
  using Action = harvest::ConfigResult::Action;
  CHECK(parse_command_line({}, std::nullopt).config.payment_window_s == 15 * 60);
  CHECK(parse_command_line({"--payment-window", "90s"}, std::nullopt).config.payment_window_s == 90);
  CHECK(parse_command_line({"--payment-window", "30m"}, std::nullopt).config.payment_window_s == 1800);
  CHECK(parse_command_line({"--payment-window", "2h"}, std::nullopt).config.payment_window_s == 7200);
  for (const char* bad : {"0", "49h", "ten", "", "5d"})
    CHECK(parse_command_line({"--payment-window", bad}, std::nullopt).action == Action::error);

  const std::string secret = "0123456789abcdef0123";
  const std::string page = "https://pay.example.com/cashier?order={order_id}";
  auto both = parse_command_line({"--payment-secret", secret, "--payment-url", page}, std::nullopt);
  REQUIRE(both.action != Action::error);
  CHECK(both.config.payment_url == page);
  auto secret_only = parse_command_line({"--payment-secret", secret}, std::nullopt);
  CHECK(secret_only.action == Action::error);
  CHECK(secret_only.error.find("--payment-url") != std::string::npos);
  CHECK(parse_command_line({"--payment-url", page}, std::nullopt).action == Action::error);
  CHECK(parse_command_line({"--payment-secret", "short"}, std::nullopt).action == Action::error);
  for (const char* bad : {"javascript:alert(1)//{order_id}", "https://pay.example.com/cashier", "https://x/{order_id} y"})
    CHECK(parse_command_line({"--payment-secret", secret, "--payment-url", bad}, std::nullopt).action == Action::error);
}

TEST_CASE("config: ICE server flags need a host and a port 1-65535, and say what is wrong", "[config]") {
  auto parse = [](const std::string& flag, const std::string& value) { return parse_command_line({flag, value}, std::nullopt); };
  auto ok = parse("--webrtc-stun", "stun:stun.example.net:3478");
  REQUIRE(ok.action == ConfigResult::Action::run);
  CHECK(ok.config.webrtc_stun == "stun:stun.example.net:3478");
  CHECK(parse("--webrtc-stun", "stun:192.0.2.7:19302").action == ConfigResult::Action::run);
  CHECK(parse("--webrtc-stun", "stun:[2001:db8::1]:3478").action == ConfigResult::Action::run);
  ok = parse("--webrtc-turn", "turn:farmer:pa:ss@turn.example.net:3478");  // a colon in the password
  REQUIRE(ok.action == ConfigResult::Action::run);
  CHECK(ok.config.webrtc_turn == "turn:farmer:pa:ss@turn.example.net:3478");

  struct Bad {
    std::string flag, value, says;
  };
  const std::vector<Bad> bad = {
      {"--webrtc-stun", "stun.example.net:3478", "needs stun:HOST:PORT"},
      {"--webrtc-stun", "stun:stun.example.net", "the port is missing"},
      {"--webrtc-stun", "stun:stun.example.net:", "the port is missing"},
      {"--webrtc-stun", "stun:stun.example.net:0", "not a number 1-65535"},
      {"--webrtc-stun", "stun:stun.example.net:65536", "not a number 1-65535"},
      {"--webrtc-stun", "stun:stun.example.net:34x8", "not a number 1-65535"},
      {"--webrtc-stun", "stun::3478", "the host is empty"},
      {"--webrtc-stun", "stun:", "the port is missing"},
      {"--webrtc-stun", "stun:2001:db8::1:3478", "goes in brackets"},
      {"--webrtc-stun", "stun:[2001:db8::1]", "the port is missing"},
      {"--webrtc-stun", "stun:[not-v6]:3478", "not an IPv6 address"},
      {"--webrtc-stun", "stun:stun example.net:3478", "not a host name"},
      {"--webrtc-turn", "turn:turn.example.net:3478", "needs turn:USER:PASSWORD@HOST:PORT"},
      {"--webrtc-turn", "turn:farmer@turn.example.net:3478", "the password is missing"},
      {"--webrtc-turn", "turn::hunter2@turn.example.net:3478", "the user is empty"},
      {"--webrtc-turn", "turn:farmer:hunter2@turn.example.net", "the port is missing"},
      {"--webrtc-turn", "turn:farmer:hunter2@turn.example.net:99999", "not a number 1-65535"},
      {"--webrtc-turn", "turn:farmer:hunter2@:3478", "the host is empty"},
      {"--webrtc-turn", "turn:farmer:hun ter2@turn.example.net:3478", "Link header"},
  };
  for (const auto& b : bad) {
    INFO(b.flag << " " << b.value);
    const auto r = parse(b.flag, b.value);
    CHECK(r.action == ConfigResult::Action::error);
    CHECK(r.error.find(b.says) != std::string::npos);
    if (b.flag == "--webrtc-turn") CHECK(r.error.find("hunter2") == std::string::npos);  // the password is never echoed
  }
  // The config file goes through the same checks.
  harvest::ServerConfig c;
  CHECK(harvest::apply_config_json(R"({"webrtc-stun": "stun:stun.example.net"})", c).find("the port is missing") !=
        std::string::npos);
}

TEST_CASE("SRT latency: 800 ms by default, from a flag or the config file, 20-8000 ms", "[config]") {
  CHECK(parse_command_line({}, std::nullopt).config.srt_latency_ms == 800);
  auto r = parse_command_line({"--srt-latency-ms", "1200"}, std::nullopt);
  REQUIRE(r.action == ConfigResult::Action::run);
  CHECK(r.config.srt_latency_ms == 1200);
  harvest::ServerConfig c;
  CHECK(harvest::apply_config_json(R"({"srt-latency-ms": 400})", c).empty());
  CHECK(c.srt_latency_ms == 400);
  for (const char* bad : {"10", "9000", "fast", "-5"}) {
    INFO(bad);
    auto e = parse_command_line({"--srt-latency-ms", bad}, std::nullopt);
    CHECK(e.action == ConfigResult::Action::error);
    CHECK(e.error.find("--srt-latency-ms") != std::string::npos);
  }
}
