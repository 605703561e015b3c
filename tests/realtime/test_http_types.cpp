// Pure helpers of the HTTP edge: where a plain request on the TLS port is sent on to.
#include <catch2/catch.hpp>

#include "realtime/http_types.h"

using harvest::realtime::https_url_for;

TEST_CASE("a plain request on the TLS port is sent on to the same URL over https", "[http]") {
  CHECK(https_url_for("GET /watch/ab?x=1 HTTP/1.1\r\nHost: 192.168.1.5:8080\r\n\r\n") ==
        "https://192.168.1.5:8080/watch/ab?x=1");
  CHECK(https_url_for("GET / HTTP/1.1\r\nUser-Agent: a\r\nhOsT:  farm.local \r\n\r\n") == "https://farm.local/");
  CHECK(https_url_for("GET / HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n") == "https://[::1]:8443/");
}

TEST_CASE("no redirect without a usable Host or target", "[http]") {
  CHECK(https_url_for("GET / HTTP/1.1\r\n\r\n").empty());
  CHECK(https_url_for("GET / HTTP/1.1\r\nHost: \r\n\r\n").empty());
  CHECK(https_url_for("GET / HTTP/1.1\r\nHost: evil.com/\r\n\r\n").empty());  // only host[:port]
  CHECK(https_url_for("GET / HTTP/1.1\r\nHost: a\r\nb.com\r\n\r\n") == "https://a/");
  CHECK(https_url_for("GET http://x/ HTTP/1.1\r\nHost: a\r\n\r\n").empty());  // absolute form
  CHECK(https_url_for("garbage").empty());
  CHECK(https_url_for("GET  HTTP/1.1\r\nHost: a\r\n\r\n").empty());
}
