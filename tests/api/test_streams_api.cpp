// POST/GET /api/streams against the real server: admin auth, validation, persistence.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

using harvest::test::bearer;
using harvest::test::http_get;
using harvest::test::http_request;
using harvest::test::ServerProcess;
using harvest::test::TempDir;
using nlohmann::json;

namespace {
const std::string kAdmin = "test-admin-token";
}  // namespace

TEST_CASE("admin creates a stream and gets its key, host token and ingest URLs", "[streams]") {
  TempDir dir;
  ServerProcess server({.data_dir = dir.path(), .env = {{"HARVEST_ADMIN_TOKEN", kAdmin}}});
  const int port = server.http_port();

  auto r = http_request(port, "POST", "/api/streams", R"({"title":"隰县玉露香梨 直播","farmer":"李大姐"})", bearer(kAdmin));
  REQUIRE(r.status == 201);
  const json s = json::parse(r.body);
  const std::string id = s["id"];
  CHECK(id.size() == 8);
  CHECK(s["stream_key"].get<std::string>().rfind("sk_", 0) == 0);
  CHECK(s["host_token"].get<std::string>().rfind("h1." + id + ".", 0) == 0);
  CHECK(s["rtmp_url"].get<std::string>().find("/live/" + s["stream_key"].get<std::string>()) != std::string::npos);
  CHECK(s["srt_url"].get<std::string>().find("streamid=#!::r=live/") != std::string::npos);
  // /whip and /whep exist (neither URL carries a secret: a publisher's key goes in the
  // Authorization header); whep_url is null only with --whep-max-viewers 0 (browser.whep_play).
  CHECK(s["whip_url"] == "http://127.0.0.1:" + std::to_string(port) + "/whip/" + id);
  CHECK(s["whep_url"] == "http://127.0.0.1:" + std::to_string(port) + "/whep/" + id);
  CHECK(s["hls_url"] == "/hls/" + id + "/index.m3u8");

  // Anyone can see the stream, nobody but host/admin sees the key.
  auto one = http_get(port, "/api/streams/" + id);
  REQUIRE(one.status == 200);
  const json pub = json::parse(one.body);
  CHECK(pub["state"] == "offline");
  CHECK(pub["title"] == "隰县玉露香梨 直播");
  CHECK_FALSE(pub.contains("stream_key"));
  CHECK(pub["whip_url"] == s["whip_url"]);
  auto as_host = json::parse(http_get(port, "/api/streams/" + id, bearer(s["host_token"])).body);
  CHECK(as_host["stream_key"] == s["stream_key"]);

  auto list = json::parse(http_get(port, "/api/streams").body);
  REQUIRE(list["streams"].size() == 1);
  CHECK_FALSE(list["streams"][0].contains("stream_key"));
  CHECK(http_get(port, "/api/streams/nope").status == 404);
}

TEST_CASE("creating a stream needs the admin token and valid JSON", "[streams]") {
  TempDir dir;
  ServerProcess server({.data_dir = dir.path(), .env = {{"HARVEST_ADMIN_TOKEN", kAdmin}}});
  const int port = server.http_port();
  CHECK(http_request(port, "POST", "/api/streams", R"({"title":"x"})").status == 401);
  CHECK(http_request(port, "POST", "/api/streams", R"({"title":"x"})", bearer("wrong")).status == 401);
  auto bad = http_request(port, "POST", "/api/streams", "{not json", bearer(kAdmin));
  CHECK(bad.status == 400);
  CHECK(json::parse(bad.body)["error"] == "bad_json");
  CHECK(http_request(port, "POST", "/api/streams", R"({"title":""})", bearer(kAdmin)).status == 400);
  CHECK(http_request(port, "POST", "/api/streams", R"({"title":42})", bearer(kAdmin)).status == 400);
  CHECK(http_request(port, "POST", "/api/streams", std::string(2 << 20, 'x'), bearer(kAdmin)).status == 413);
  // A host token of one stream is not an admin token.
  auto created = json::parse(http_request(port, "POST", "/api/streams", R"({"title":"a"})", bearer(kAdmin)).body);
  CHECK(http_request(port, "POST", "/api/streams", R"({"title":"b"})", bearer(created["host_token"])).status == 401);
  CHECK(http_get(port, "/api/health").status == 200);
}

TEST_CASE("without an admin token admin routes are refused", "[streams]") {
  TempDir dir;
  ServerProcess server({.data_dir = dir.path(), .env = {{"HARVEST_ADMIN_TOKEN", ""}}});
  // Admin-only routes: 403 (nobody can be admin); creating a show is also open to signed-in
  // farmers, so an anonymous caller is asked to sign in (401).
  auto r = http_request(server.http_port(), "POST", "/api/farmers", R"({"username":"wang","password":"12345678","name":"w"})", bearer(""));
  CHECK(r.status == 403);
  r = http_request(server.http_port(), "POST", "/api/streams", R"({"title":"x"})", bearer(""));
  CHECK(r.status == 401);
}

TEST_CASE("streams and host tokens survive a restart", "[streams]") {
  TempDir dir;
  std::string id, host_token;
  {
    ServerProcess server({.data_dir = dir.path(), .env = {{"HARVEST_ADMIN_TOKEN", kAdmin}}});
    auto s = json::parse(http_request(server.http_port(), "POST", "/api/streams", R"({"title":"Suqian crabs"})", bearer(kAdmin)).body);
    id = s["id"];
    host_token = s["host_token"];
  }
  ServerProcess server({.data_dir = dir.path(), .env = {{"HARVEST_ADMIN_TOKEN", kAdmin}}});
  auto r = http_get(server.http_port(), "/api/streams/" + id, bearer(host_token));
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body)["title"] == "Suqian crabs");
  CHECK(json::parse(r.body).contains("stream_key"));  // the token still verifies: same secret
}
