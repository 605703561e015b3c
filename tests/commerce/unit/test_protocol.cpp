// Protocol v1 parser: a pure function from frame text to a message or an error.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/json_writer.h"
#include "realtime/protocol.h"

using namespace harvest::realtime;

namespace {
ParseError error_of(std::string_view text) {
  auto r = parse_client_message(text);
  REQUIRE_FALSE(r.message);
  return r.error;
}
}  // namespace

TEST_CASE("protocol: well-formed messages of every type") {
  auto buy = parse_client_message(
      R"({"type":"buy","id":"b1","product_id":"pear-yulu","qty":2,"idempotency_key":"k-1","media_time":12.5})");
  REQUIRE(buy.message);
  CHECK(buy.message->type == ClientType::buy);
  CHECK(buy.message->id_json == "\"b1\"");
  CHECK(buy.message->qty == 2);
  CHECK(buy.message->media_time == Approx(12.5));
  auto show = parse_client_message(R"({"type":"card.show","product_id":"p","slot":"top","id":7})");
  REQUIRE(show.message);
  CHECK(show.message->slot == "top");
  CHECK(show.message->id_json == "7");
  CHECK(parse_client_message(R"({"type":"card.hide"})").message);
  auto upd = parse_client_message(R"({"type":"product.update","product_id":"p","price":0,"title":"梨"})");
  REQUIRE(upd.message);
  CHECK(*upd.message->price == 0);
  CHECK(*upd.message->title == "梨");
  CHECK_FALSE(upd.message->stock);
  auto sale = parse_client_message(
      R"({"type":"sale.start","product_id":"p","price":1990,"quantity":100,"per_buyer_limit":2,"duration_s":60})");
  REQUIRE(sale.message);
  CHECK(sale.message->quantity == 100);
  CHECK(parse_client_message(R"({"type":"sale.stop","sale_id":"s1"})").message);
  CHECK(parse_client_message(R"({"type":"chat.send","text":"你好"})").message);
  CHECK(parse_client_message(R"({"type":"ping"})").message);
  // Unknown fields are ignored; null counts as absent.
  CHECK(parse_client_message(R"({"type":"ping","extra":[1,2],"id":null})").message);
}

TEST_CASE("protocol: bad JSON and unknown types") {
  CHECK(error_of("{").code == "bad_json");
  CHECK(error_of("").code == "bad_json");
  CHECK(error_of("[]").code == "bad_json");
  CHECK(error_of("\"ping\"").code == "bad_json");
  CHECK(error_of(R"({"type":"fly","id":"x"})").code == "unknown_type");
  CHECK(error_of(R"({"type":"fly","id":"x"})").id_json == "\"x\"");
  CHECK(error_of(R"({"id":1})").code == "invalid");
  CHECK(error_of(R"({"type":5})").code == "invalid");
}

TEST_CASE("protocol: wrong field types and out-of-range numbers are invalid") {
  const char* bad[] = {
      R"({"type":"buy","product_id":"p","qty":"1","idempotency_key":"k"})",
      R"({"type":"buy","product_id":"p","qty":-1,"idempotency_key":"k"})",
      R"({"type":"buy","product_id":"p","qty":0,"idempotency_key":"k"})",
      R"({"type":"buy","product_id":"p","qty":100,"idempotency_key":"k"})",
      R"({"type":"buy","product_id":"p","qty":1.5,"idempotency_key":"k"})",
      R"({"type":"buy","product_id":"p","qty":1e3,"idempotency_key":"k"})",
      R"({"type":"buy","product_id":"p","qty":18446744073709551616,"idempotency_key":"k"})",
      R"({"type":"buy","product_id":"p","qty":1,"idempotency_key":""})",
      R"({"type":"buy","product_id":"p","qty":1})",
      R"({"type":"buy","product_id":"p q","qty":1,"idempotency_key":"k"})",
      R"({"type":"buy","product_id":"p","qty":1,"idempotency_key":"k","media_time":-1})",
      R"({"type":"buy","product_id":"p","qty":1,"idempotency_key":"k","media_time":"1"})",
      R"({"type":"product.update","product_id":"p","price":99999999999999999999})",
      R"({"type":"product.update","product_id":"p","price":9223372036854775807})",
      R"({"type":"product.update","product_id":"p","price":-1})",
      R"({"type":"product.update","product_id":"p"})",
      R"({"type":"sale.start","product_id":"p","price":1,"quantity":1,"per_buyer_limit":1,"duration_s":0})",
      R"({"type":"sale.start","product_id":"p","price":1e30,"quantity":1,"per_buyer_limit":1,"duration_s":5})",
      R"({"type":"card.show","product_id":5})",
      R"({"type":"card.show","product_id":"p","slot":"middle"})",
      R"({"type":"chat.send","text":""})",
      R"({"type":"chat.send","text":"a\nb"})",
      R"({"type":"product.update","product_id":"p","title":"\u202egnp.raep"})",  // RLO: the catalog rule
      R"({"type":"chat.send","text":"\u2066hidden\u2069"})",
      R"({"type":"ping","id":{"x":1}})",
      R"({"type":"ping","id":1.5})",
  };
  for (const char* text : bad) {
    INFO(text);
    CHECK(error_of(text).code == "invalid");
  }
  CHECK(error_of(R"({"type":"buy","id":"b","qty":-1})").type == "buy");
  // 200 characters are fine even at 3 bytes each; 201 are not.
  std::string ok = R"({"type":"chat.send","text":")";
  for (int i = 0; i < 200; ++i) ok += "梨";
  CHECK(parse_client_message(ok + "\"}").message);
  CHECK(error_of(ok + "梨\"}").code == "invalid");
}

TEST_CASE("protocol: helpers") {
  CHECK(is_token_chars("abc-DEF_123", 1, 64));
  CHECK_FALSE(is_token_chars("", 1, 64));
  CHECK_FALSE(is_token_chars("a b", 1, 64));
  CHECK_FALSE(is_token_chars("abcdefg", 8, 64));
  CHECK(utf8_length("隰县玉露香梨") == 6);
  CHECK(is_host_command(ClientType::sale_start));
  CHECK_FALSE(is_host_command(ClientType::buy));
}

TEST_CASE("protocol: the fast path for buys answers exactly as the reference parser") {
  const char* frames[] = {
      R"({"type":"buy","id":7,"product_id":"bench","qty":1,"idempotency_key":"k0-7"})",
      R"({"type":"buy","id":"b-1","product_id":"p","qty":99,"idempotency_key":"key with spaces","sale_id":"s1"})",
      R"( { "qty" : 2 , "type" : "buy", "product_id":"p","idempotency_key":"k","media_time":12 } )",
      R"({"type":"buy","id":-3,"product_id":"p","qty":1,"idempotency_key":"k","extra":true,"n":5})",
      R"({"type":"buy","id":"x","product_id":"p","qty":1,"idempotency_key":"k","media_time":12.5})",
      R"({"type":"buy","id":0,"product_id":"p","qty":1,"idempotency_key":"k","sale_id":null})",
      R"({"type":"buy","id":-0,"product_id":"p","qty":1,"idempotency_key":"k"})",
      R"({"type":"buy","id":01,"product_id":"p","qty":1,"idempotency_key":"k"})",
      R"({"type":"buy","product_id":"p","qty":1,"qty":2,"idempotency_key":"k"})",
      R"({"type":"buy","product_id":"p","qty":100,"idempotency_key":"k"})",
      R"({"type":"buy","product_id":"p","qty":1,"idempotency_key":"k\u0041"})",
      R"({"type":"buy","product_id":"p","qty":1,"idempotency_key":"梨"})",
      R"({"type":"buy","product_id":"p","qty":1,"idempotency_key":"k"} x)",
      R"({"type":"buy","product_id":"p","qty":1,"idempotency_key":"k","id":true})",
      R"({"type":"buy","product_id":"p","qty":1,"idempotency_key":"k","media_time":-1})",
      R"({"type":"buy","product_id":"p","qty":1,"idempotency_key":"k","media_time":1000000001})",
      R"({"type":"buy","product_id":"p","qty":1,"idempotency_key":"k","sale_id":"s 1"})",
      R"({"type":"buy","product_id":"p","qty":1,"idempotency_key":"k","nested":{"a":1}})",
      R"({"type":"buy","product_id":"p","qty":1,"idempotency_key":"0123456789012345678901234567890123456789012345678901234567890123"})",
      R"({"type":"buy","product_id":"p","qty":1,"idempotency_key":"01234567890123456789012345678901234567890123456789012345678901234"})",
      R"({"type":"ping","id":1})",
      R"({"type":"buy"})",
      R"({})",
      "",
  };
  for (const char* f : frames) {
    INFO(f);
    const ParseResult fast = parse_client_message(f);
    const ParseResult ref = parse_client_message_json(f);
    REQUIRE(fast.message.has_value() == ref.message.has_value());
    if (fast.message) {
      CHECK(fast.message->type == ref.message->type);
      CHECK(fast.message->id_json == ref.message->id_json);
      CHECK(fast.message->product_id == ref.message->product_id);
      CHECK(fast.message->qty == ref.message->qty);
      CHECK(fast.message->idempotency_key == ref.message->idempotency_key);
      CHECK(fast.message->sale_id == ref.message->sale_id);
      CHECK(fast.message->media_time == ref.message->media_time);
    } else {
      CHECK(fast.error.code == ref.error.code);
      CHECK(fast.error.message == ref.error.message);
      CHECK(fast.error.id_json == ref.error.id_json);
    }
  }
}

TEST_CASE("json writer: the same text nlohmann::json::dump() gives for strings, numbers and null") {
  const std::string samples[] = {"", "plain", "quote \" and \\ backslash", "tab\tnew\nline\r", std::string("nul\0x", 5),
                                 "\x01\x1f\x7f", "隰县玉露香梨 5斤装", "/slash/"};
  for (const auto& v : samples) {
    std::string mine;
    harvest::append_json_string(mine, v);
    CHECK(mine == nlohmann::json(v).dump());
  }
  for (int64_t n : {int64_t{0}, int64_t{-1}, int64_t{10000000000}, INT64_MIN, INT64_MAX}) {
    std::string mine;
    harvest::append_json_int(mine, n);
    CHECK(mine == nlohmann::json(n).dump());
  }
  const std::string obj = harvest::JsonObject()
                              .str("type", "order.confirmed")
                              .raw("re", "\"b1\"")
                              .raw("none", "")
                              .num("total", 7980)
                              .null("sale_id")
                              .boolean("duplicate", false)
                              .take();
  CHECK(nlohmann::json::parse(obj) == nlohmann::json({{"type", "order.confirmed"},
                                                      {"re", "b1"},
                                                      {"none", nullptr},
                                                      {"total", 7980},
                                                      {"sale_id", nullptr},
                                                      {"duplicate", false}}));
}

TEST_CASE("protocol: chat moderation commands (host only, bounded)") {
  auto del = parse_client_message(R"({"type":"chat.delete","message_id":12,"id":"d"})");
  REQUIRE(del.message);
  CHECK(del.message->type == ClientType::chat_delete);
  CHECK(del.message->message_id == 12);
  auto mute = parse_client_message(R"({"type":"viewer.mute","viewer_id":"viewer-0001"})");
  REQUIRE(mute.message);
  CHECK(mute.message->viewer_id == "viewer-0001");
  CHECK(mute.message->duration_s == kDefaultMuteS);
  CHECK(parse_client_message(R"({"type":"viewer.mute","viewer_id":"viewer-0001","duration_s":30})").message->duration_s == 30);
  CHECK(is_host_command(ClientType::chat_delete));
  CHECK(is_host_command(ClientType::viewer_mute));
  CHECK(error_of(R"({"type":"chat.delete"})").code == "invalid");
  CHECK(error_of(R"({"type":"chat.delete","message_id":0})").code == "invalid");
  CHECK(error_of(R"({"type":"chat.delete","message_id":"12"})").code == "invalid");
  CHECK(error_of(R"({"type":"viewer.mute","viewer_id":"short"})").code == "invalid");
  CHECK(error_of(R"({"type":"viewer.mute","viewer_id":"viewer-0001","duration_s":-5})").code == "invalid");
  CHECK(error_of(R"({"type":"viewer.mute","viewer_id":"viewer-0001","duration_s":99999999})").code == "invalid");
  CHECK(error_of(R"({"type":"viewer.mute","viewer_id":"<script>alert(1)</script>"})").code == "invalid");
}
