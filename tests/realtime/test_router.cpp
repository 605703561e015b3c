#include <catch2/catch.hpp>

#include "realtime/router.h"
#include "realtime/static_files.h"

using namespace harvest::realtime;

TEST_CASE("router matches literal and parameter segments", "[router]") {
  Router r;
  int hit = 0;
  r.add("GET", "/api/streams/{id}", [&](const HttpRequest&) { hit = 1; return HttpResponse{}; });
  r.add("GET", "/api/streams/{id}/products", [&](const HttpRequest&) { hit = 2; return HttpResponse{}; });
  r.add("PUT", "/api/streams/{id}/products", [&](const HttpRequest&) { hit = 3; return HttpResponse{}; });
  r.add("GET", "/hls/{id}/{file...}", [&](const HttpRequest&) { hit = 4; return HttpResponse{}; });

  auto m = r.match("GET", "/api/streams/abc");
  REQUIRE(m.handler != nullptr);
  (*m.handler)(HttpRequest{});
  CHECK(hit == 1);
  CHECK(m.params.at("id") == "abc");

  m = r.match("PUT", "/api/streams/abc/products/");
  REQUIRE(m.handler != nullptr);
  (*m.handler)(HttpRequest{});
  CHECK(hit == 3);

  m = r.match("GET", "/hls/s1/burned/index.m3u8");
  REQUIRE(m.handler != nullptr);
  CHECK(m.params.at("file") == "burned/index.m3u8");

  CHECK(r.match("GET", "/api/streams").handler == nullptr);
  CHECK(r.match("GET", "/hls/s1").handler == nullptr);
  auto wrong_method = r.match("DELETE", "/api/streams/abc");
  CHECK(wrong_method.handler == nullptr);
  CHECK(wrong_method.path_matched_other_method);

  // The table as the server logs it (event=route; tests/security/cross_tenant.mjs reads it).
  r.add("GET", "/", [](const HttpRequest&) { return HttpResponse{}; });
  CHECK(r.describe() == std::vector<std::string>{"GET /api/streams/{id}", "GET /api/streams/{id}/products",
                                                 "PUT /api/streams/{id}/products", "GET /hls/{id}/{file...}",
                                                 "GET /"});
}

TEST_CASE("static paths never leave the root", "[router]") {
  CHECK(safe_join("/srv/web", "app.js") == "/srv/web/app.js");
  CHECK(safe_join("/srv/web", "img/pear.png") == "/srv/web/img/pear.png");
  CHECK(safe_join("/srv/web", "../etc/passwd").empty());
  CHECK(safe_join("/srv/web", "img/../../x").empty());
  CHECK(safe_join("/srv/web", "/etc/passwd").empty());
  CHECK(safe_join("/srv/web", "").empty());
}

TEST_CASE("a request head is judged from its first bytes", "[router][http]") {
  constexpr size_t kLine = 32, kHead = 64;
  CHECK(inspect_request_head("GET /api/he", kLine, kHead) == HeadVerdict::incomplete);
  CHECK(inspect_request_head("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n", kLine, kHead) == HeadVerdict::request);
  CHECK(inspect_request_head("GET /ws?stream=a HTTP/1.1\r\n\r\n", kLine, kHead) == HeadVerdict::websocket);
  CHECK(inspect_request_head("GET /wsx HTTP/1.1\r\n\r\n", kLine, kHead) == HeadVerdict::request);
  CHECK(inspect_request_head("GET /" + std::string(40, 'a'), kLine, kHead) == HeadVerdict::uri_too_long);
  CHECK(inspect_request_head("GET / HTTP/1.1\r\nX: " + std::string(60, 'b'), kLine, kHead) == HeadVerdict::head_too_large);
  CHECK(inspect_request_head("GET / HTTP/1.1\r\nX: " + std::string(50, 'b') + "\r\n\r\n", kLine, kHead) ==
        HeadVerdict::head_too_large);
}

TEST_CASE("a request line is told from a body", "[router][http]") {
  CHECK(starts_with_request_line("POST /api/streams HTTP/1.1\r\nHost: x"));
  CHECK(starts_with_request_line("GET / HTTP/1.0\r\n"));
  CHECK_FALSE(starts_with_request_line("{\"title\":\"x\"}"));
  CHECK_FALSE(starts_with_request_line("POST /api/streams HTTP/1.1"));  // no line end yet
  CHECK_FALSE(starts_with_request_line("post / HTTP/1.1\r\n"));
  CHECK_FALSE(starts_with_request_line("GET /x HTTP/2\r\n"));
}
