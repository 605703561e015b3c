// RequestBudget (realtime/request_budget.h): per-address token buckets for HTTP requests, the
// files and API classes apart, exempt addresses, Retry-After, and the bounded address table.
#include <catch2/catch.hpp>

#include "realtime/request_budget.h"

using harvest::realtime::classify_request;
using harvest::realtime::RequestBudget;
using harvest::realtime::RequestBudgetOptions;
using harvest::realtime::RequestClass;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

RequestBudgetOptions small() {
  RequestBudgetOptions o;
  o.api_rate = 2;
  o.api_burst = 4;
  o.file_rate = 10;
  o.file_burst = 20;
  o.exempt = {"127.0.0.1"};
  return o;
}

}  // namespace

TEST_CASE("files and the API are told apart by method and path", "[realtime][budget]") {
  CHECK(classify_request("GET", "/hls/abc/index.m3u8") == RequestClass::files);
  CHECK(classify_request("HEAD", "/hls/abc/seg_1.ts") == RequestClass::files);
  CHECK(classify_request("GET", "/static/js/player.js") == RequestClass::files);
  CHECK(classify_request("GET", "/images/p.jpg") == RequestClass::files);
  CHECK(classify_request("GET", "/samples/images/pear.png") == RequestClass::files);
  CHECK(classify_request("POST", "/hls/abc/index.m3u8") == RequestClass::api);
  CHECK(classify_request("GET", "/api/streams") == RequestClass::api);
  CHECK(classify_request("POST", "/whip/abc") == RequestClass::api);
  CHECK(classify_request("GET", "/watch/abc") == RequestClass::api);
  CHECK(classify_request("GET", "/hlsx") == RequestClass::api);
}

TEST_CASE("an address gets its burst, then 429 with the seconds until a token, then the rate",
          "[realtime][budget]") {
  RequestBudget budget(small());
  const auto t0 = Clock::now();
  for (int i = 0; i < 4; ++i) CHECK(budget.take("10.0.0.1", RequestClass::api, t0) == 0);
  CHECK(budget.take("10.0.0.1", RequestClass::api, t0) == 1);  // 2/s: a token in 0.5 s -> 1 s
  // Another address and the same address's files are not affected.
  CHECK(budget.take("10.0.0.2", RequestClass::api, t0) == 0);
  CHECK(budget.take("10.0.0.1", RequestClass::files, t0) == 0);
  // Half a second later one token is back: one request, not two.
  CHECK(budget.take("10.0.0.1", RequestClass::api, t0 + milliseconds(500)) == 0);
  CHECK(budget.take("10.0.0.1", RequestClass::api, t0 + milliseconds(500)) > 0);
}

TEST_CASE("Retry-After rounds up to whole seconds", "[realtime][budget]") {
  RequestBudgetOptions o = small();
  o.api_rate = 0.25;  // a token every 4 s
  o.api_burst = 1;
  RequestBudget budget(o);
  const auto t0 = Clock::now();
  CHECK(budget.take("10.0.0.1", RequestClass::api, t0) == 0);
  CHECK(budget.take("10.0.0.1", RequestClass::api, t0) == 4);
  CHECK(budget.take("10.0.0.1", RequestClass::api, t0 + milliseconds(3500)) == 1);
}

TEST_CASE("exempt addresses, a rate of 0 and an unknown address are not limited", "[realtime][budget]") {
  RequestBudgetOptions o = small();
  o.file_rate = 0;  // files off
  RequestBudget budget(o);
  const auto t0 = Clock::now();
  for (int i = 0; i < 100; ++i) {
    CHECK(budget.take("127.0.0.1", RequestClass::api, t0) == 0);
    CHECK(budget.take("10.0.0.9", RequestClass::files, t0) == 0);
    CHECK(budget.take("", RequestClass::api, t0) == 0);
  }
  CHECK(budget.tracked() == 0);
}

TEST_CASE("the address table stays bounded: idle addresses are forgotten first", "[realtime][budget]") {
  RequestBudgetOptions o = small();
  o.max_addresses = 3;
  RequestBudget budget(o);
  const auto t0 = Clock::now();
  for (const char* a : {"10.0.0.1", "10.0.0.2", "10.0.0.3"})
    for (int i = 0; i < 4; ++i) CHECK(budget.take(a, RequestClass::api, t0) == 0);
  CHECK(budget.tracked() == 3);
  // The table is full of busy addresses: a new one is let through, not tracked.
  CHECK(budget.take("10.0.0.4", RequestClass::api, t0) == 0);
  CHECK(budget.tracked() == 3);
  // Ten seconds later every bucket is full again: the old ones are forgotten for the new one.
  CHECK(budget.take("10.0.0.4", RequestClass::api, t0 + std::chrono::seconds(10)) == 0);
  CHECK(budget.tracked() == 1);
}
