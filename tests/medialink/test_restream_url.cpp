// Restream URL rules (PUT /api/streams/{id}/restream) and masking, as pure functions.
#include <catch2/catch.hpp>

#include <string>

#include "media/restream/restream.h"

using harvest::media::mask_restream_url;
using harvest::media::restream_backoff;
using harvest::media::restream_url_problem;

TEST_CASE("restream URLs that are accepted") {
  for (const char* url :
       {"rtmp://push.example.com/live/abc123", "rtmps://push.example.com:443/app/key?sign=x&t=1",
        "RTMP://127.0.0.1:1935/live/key", "rtmp://[::1]:1935/live/key", "rtmp://h/app/inst/key",
        "rtmp://user:pw@h/live/key"}) {
    INFO(url);
    CHECK(restream_url_problem(url).empty());
  }
  CHECK(restream_url_problem("rtmp://h/a/" + std::string(1024 - 11, 'k')).empty());
}

TEST_CASE("restream URLs that are refused, with a sentence that names the url") {
  for (const char* url : {"",
                          "http://h/live/k",
                          "rtmpx://h/live/k",
                          "srt://h:9000",
                          "rtmp://h",
                          "rtmp://h/",
                          "rtmp://h/live",
                          "rtmp://h/live/",
                          "rtmp:///live/k",
                          "rtmp://:1935/live/k",
                          "rtmp://h:0/live/k",
                          "rtmp://h:65536/live/k",
                          "rtmp://h:12a/live/k",
                          "rtmp://h:/live/k",
                          "rtmp://h/live/k ey",
                          "rtmp://h/live/k\tey",
                          "rtmp://h/live/k\n",
                          "rtmp://h/live/k\x7f",
                          "rtmp://h/live/\xe7\x8e\x89",
                          "rtmp://[::1/live/k",
                          "rtmp://h//k"}) {
    INFO(url);
    const std::string problem = restream_url_problem(url);
    CHECK_FALSE(problem.empty());
    CHECK(problem.find("url") != std::string::npos);
  }
  CHECK_FALSE(restream_url_problem("rtmp://h/a/" + std::string(1024 - 10, 'k')).empty());
}

TEST_CASE("restream URLs are shown with the stream key and credentials masked") {
  CHECK(mask_restream_url("rtmp://push.example.com/live/abc123") == "rtmp://push.example.com/live/****");
  CHECK(mask_restream_url("rtmps://h:443/app/key?sign=secret/x") == "rtmps://h:443/app/****");
  CHECK(mask_restream_url("rtmp://user:pw@h/live/key") == "rtmp://****@h/live/****");
  CHECK(mask_restream_url("rtmp://h/app/inst/key") == "rtmp://h/app/inst/****");
  CHECK(mask_restream_url("rtmp://h/app?token=secret") == "rtmp://h/app");
  CHECK(mask_restream_url("") == "");
}

TEST_CASE("restream retries back off 1 s, 2 s, 4 s ... up to 30 s") {
  using std::chrono::milliseconds;
  CHECK(restream_backoff(0) == milliseconds(1000));
  CHECK(restream_backoff(1) == milliseconds(1000));
  CHECK(restream_backoff(2) == milliseconds(2000));
  CHECK(restream_backoff(3) == milliseconds(4000));
  CHECK(restream_backoff(5) == milliseconds(16000));
  CHECK(restream_backoff(6) == milliseconds(30000));
  CHECK(restream_backoff(100) == milliseconds(30000));
}
