// The pure parts of the bus: the envelope's wire form and the --bus redis:// URL.
#include <catch2/catch.hpp>

#include "bus/bus.h"
#include "bus/envelope.h"

using harvest::bus::decode_envelope;
using harvest::bus::encode_envelope;
using harvest::bus::Envelope;
using harvest::bus::parse_redis_url;

TEST_CASE("an envelope survives the wire, body bytes and all", "[bus]") {
  Envelope e{"n0a1b2", "s-42", "role", "14", std::string("{\"a\":\"\n\"}\0tail", 14)};
  const std::string wire = encode_envelope(e);
  CHECK(wire.rfind("hb1 n0a1b2 s-42 role 14\n", 0) == 0);
  auto back = decode_envelope(wire);
  REQUIRE(back);
  CHECK(back->origin == e.origin);
  CHECK(back->room == e.room);
  CHECK(back->kind == e.kind);
  CHECK(back->tag == e.tag);
  CHECK(back->body == e.body);
  CHECK(decode_envelope("hb1 n s sync -\n")->body.empty());
}

TEST_CASE("malformed envelopes are refused, and bad fields are never encoded", "[bus]") {
  for (const char* bad : {"", "hb1", "hb1 n s k t", "hb2 n s k t\n", "hb1 n s k\n", "hb1  s k t\n",
                          "hb1 n s k t x\n", "hb1 n s/x k t\n", "hb1 n s k t", "HB1 n s k t\n"})
    CHECK_FALSE(decode_envelope(bad));
  CHECK_FALSE(decode_envelope("hb1 " + std::string(129, 'n') + " s k t\n"));
  CHECK(encode_envelope(Envelope{"n", "a room", "all", "r", "{}"}).empty());
  CHECK(encode_envelope(Envelope{"", "s", "all", "r", "{}"}).empty());
}

TEST_CASE("Redis bus URLs (--bus redis://host:port)", "[bus]") {
  std::string error;
  auto a = parse_redis_url("redis://127.0.0.1:6380", error);
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 6380);
  auto d = parse_redis_url("redis://cache.local/", error);
  REQUIRE(d);
  CHECK(d->host == "cache.local");
  CHECK(d->port == 6379);
  for (const char* bad : {"redis://", "redis://:6379", "redis://h:0", "redis://h:70000", "redis://h:x",
                          "redis://u:p@h:6379", "redis://h:6379/2", "http://h:6379"}) {
    error.clear();
    CHECK_FALSE(parse_redis_url(bad, error));
    CHECK_FALSE(error.empty());
  }
}
