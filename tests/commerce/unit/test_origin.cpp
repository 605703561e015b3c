// Origin records (issue 18): what validate_origin takes and refuses, and the JSON both ways
// (origin_json / origin_from_json) as the catalog API, the store and the trace API use them, and
// the store keeping them (an old database upgraded in place).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "commerce/origin_json.h"
#include "commerce/origin_validation.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"

using namespace harvest::commerce;
using namespace std::chrono;
using nlohmann::json;

namespace {
const sys_days kToday = sys_days{year{2026} / month{12} / day{5}};

Origin pear_origin() {
  Origin o;
  o.farm = "隰县黄土镇玉露香梨专业合作社";
  o.place = {"隰县", "黄土镇", "上庄村"};
  o.harvest_date = "2026-09-12";
  o.method = "有机种植";
  o.certificates = {"绿色食品", "地理标志"};
  o.trace_code = "SX-XIXIAN-2026-0017";
  return o;
}

std::string with_date(const std::string& date) {
  Origin o = pear_origin();
  o.harvest_date = date;
  return validate_origin(o, kToday);
}
}  // namespace

TEST_CASE("a full origin record and an empty one are valid", "[origin]") {
  CHECK(validate_origin(pear_origin(), kToday).empty());
  CHECK(validate_origin(Origin{}, kToday).empty());
}

TEST_CASE("harvest dates must be real calendar days, not before 1900, not in the future", "[origin]") {
  CHECK(with_date("2024-02-29").empty());  // a leap day
  CHECK(with_date("1900-01-01").empty());
  CHECK(with_date("2026-12-05").empty());  // today
  CHECK(with_date("2026-12-06").empty());  // one day of slack for a clock a little ahead
  for (const char* bad :
       {"2026-02-30", "2026-13-01", "2026-00-10", "2026-04-31", "2025-02-29", "2026-9-12", "2026/09/12",
        "12-09-2026", "2026-09-12T00:00", "２０２６-09-12", "abcd-ef-gh", " 2026-09-12"}) {
    INFO(bad);
    const std::string err = with_date(bad);
    CHECK(err.find("'harvest_date'") != std::string::npos);
    CHECK(err.find("calendar date") != std::string::npos);
  }
  CHECK(with_date("1899-12-31").find("1900") != std::string::npos);
  CHECK(with_date("0926-09-12").find("1900") != std::string::npos);
  CHECK(with_date("2026-12-07").find("future") != std::string::npos);
  CHECK(with_date("9999-12-31").find("future") != std::string::npos);
}

TEST_CASE("China's today is UTC+8", "[origin]") {
  // 2026-12-04 16:30 UTC is 00:30 on the 5th in China.
  const auto t = sys_days{year{2026} / month{12} / day{4}} + hours{16} + minutes{30};
  CHECK(china_today(t) == kToday);
  CHECK(china_today(t - hours{1}) == kToday - days{1});
}

TEST_CASE("parse_calendar_date reads exactly YYYY-MM-DD", "[origin]") {
  CHECK(parse_calendar_date("2026-09-12") == sys_days{year{2026} / month{9} / day{12}});
  CHECK_FALSE(parse_calendar_date("2026-02-30"));
  CHECK_FALSE(parse_calendar_date(""));
  CHECK_FALSE(parse_calendar_date("2026-09-123"));
}

TEST_CASE("trace codes are 4-64 characters [A-Za-z0-9_-]", "[origin]") {
  CHECK(is_trace_code("SX-XIXIAN-2026-0017"));
  CHECK(is_trace_code("abcd"));
  CHECK(is_trace_code(std::string(64, 'a')));
  CHECK_FALSE(is_trace_code("abc"));
  CHECK_FALSE(is_trace_code(std::string(65, 'a')));
  for (const char* bad : {"ab cd", "ab/cd", "../etc", "ab%2F", "码码码码", "ab.cd", "ab\ncd", "=cmd|x"}) {
    INFO(bad);
    CHECK_FALSE(is_trace_code(bad));
  }
  Origin o = pear_origin();
  o.trace_code = "SX/0017";
  CHECK(validate_origin(o, kToday).find("'trace_code'") != std::string::npos);
}

TEST_CASE("text fields are display text within their byte bounds", "[origin]") {
  struct Case {
    void (*set)(Origin&, std::string);
    size_t max;
    const char* field;
  };
  const Case cases[] = {
      {[](Origin& o, std::string v) { o.farm = std::move(v); }, kMaxFarmBytes, "'farm'"},
      {[](Origin& o, std::string v) { o.place.county = std::move(v); }, kMaxPlacePartBytes, "'place.county'"},
      {[](Origin& o, std::string v) { o.place.township = std::move(v); }, kMaxPlacePartBytes,
       "'place.township'"},
      {[](Origin& o, std::string v) { o.place.village = std::move(v); }, kMaxPlacePartBytes,
       "'place.village'"},
      {[](Origin& o, std::string v) { o.method = std::move(v); }, kMaxMethodBytes, "'method'"},
  };
  for (const Case& c : cases) {
    INFO(c.field);
    Origin o = pear_origin();
    c.set(o, std::string(c.max, 'x'));
    CHECK(validate_origin(o, kToday).empty());
    c.set(o, std::string(c.max + 1, 'x'));
    CHECK(validate_origin(o, kToday).find(c.field) != std::string::npos);
    c.set(o,
          "ok\xe2\x80\xae"
          "gnp");  // a bidi override
    CHECK(validate_origin(o, kToday).find(c.field) != std::string::npos);
    c.set(o, "a\x1b[2Jb");
    CHECK(validate_origin(o, kToday).find(c.field) != std::string::npos);
    c.set(o, "\xff\xfe");
    CHECK(validate_origin(o, kToday).find(c.field) != std::string::npos);
  }
  Origin forty = pear_origin();
  forty.farm.clear();
  for (int i = 0; i < 40; ++i) forty.farm += "农";  // 120 bytes
  CHECK(validate_origin(forty, kToday).empty());
  forty.farm += "农";
  CHECK_FALSE(validate_origin(forty, kToday).empty());
}

TEST_CASE("certificates: at most 8, each 1-60 bytes of display text", "[origin]") {
  Origin o = pear_origin();
  o.certificates.assign(kMaxCertificates, "绿色食品");
  CHECK(validate_origin(o, kToday).empty());
  o.certificates.push_back("有机产品");
  CHECK(validate_origin(o, kToday).find("at most 8") != std::string::npos);
  o.certificates = {""};
  CHECK(validate_origin(o, kToday).find("'certificates'") != std::string::npos);
  o.certificates = {std::string(kMaxCertificateBytes + 1, 'c')};
  CHECK(validate_origin(o, kToday).find("'certificates'") != std::string::npos);
}

TEST_CASE("origin JSON round-trips and has every key", "[origin][json]") {
  const Origin o = pear_origin();
  const json j = origin_json(o);
  CHECK(j["place"]["county"] == "隰县");
  CHECK(j["certificates"] == json::array({"绿色食品", "地理标志"}));
  Origin back;
  REQUIRE(origin_from_json(j, back).empty());
  CHECK(back.farm == o.farm);
  CHECK(back.place.county == o.place.county);
  CHECK(back.place.township == o.place.township);
  CHECK(back.place.village == o.place.village);
  CHECK(back.harvest_date == o.harvest_date);
  CHECK(back.method == o.method);
  CHECK(back.certificates == o.certificates);
  CHECK(back.trace_code == o.trace_code);
  // Through text too (the store's column).
  Origin from_text;
  REQUIRE(origin_from_json(json::parse(j.dump()), from_text).empty());
  CHECK(origin_json(from_text) == j);

  const json empty = origin_json(Origin{});
  for (const char* key : {"farm", "place", "harvest_date", "method", "certificates", "trace_code"})
    CHECK(empty.contains(key));
}

TEST_CASE("origin_from_json: absent and null mean empty, wrong types are named", "[origin][json]") {
  Origin o = pear_origin();
  REQUIRE(origin_from_json(json(nullptr), o).empty());
  CHECK(o.empty());
  REQUIRE(origin_from_json(json{{"farm", "x"}, {"place", nullptr}, {"unknown", 1}}, o).empty());
  CHECK(o.farm == "x");
  CHECK(o.place.empty());
  struct Bad {
    json j;
    const char* field;
  };
  for (const Bad& bad :
       {Bad{json("隰县"), "'origin'"}, Bad{json::array(), "'origin'"}, Bad{{{"farm", 1}}, "'farm'"},
        Bad{{{"harvest_date", 20260912}}, "'harvest_date'"}, Bad{{{"place", "隰县"}}, "'place'"},
        Bad{{{"place", {{"county", true}}}}, "'place.county'"},
        Bad{{{"certificates", "绿色食品"}}, "'certificates'"},
        Bad{{{"certificates", {1, 2}}}, "'certificates'"}, Bad{{{"certificates", json::array()}}, ""},
        Bad{{{"trace_code", json::object()}}, "'trace_code'"}}) {
    INFO(bad.j.dump());
    const std::string err = origin_from_json(bad.j, o);
    if (std::string(bad.field).empty())
      CHECK(err.empty());
    else
      CHECK(err.find(bad.field) != std::string::npos);
  }
  json many = {{"certificates", json::array()}};
  for (int i = 0; i < 1000; ++i) many["certificates"].push_back("c");
  CHECK(origin_from_json(many, o).find("too many") != std::string::npos);
}

TEST_CASE("parse_origin reads and checks in one step", "[origin][json]") {
  Origin o;
  CHECK(parse_origin(origin_json(pear_origin()), kToday, o).empty());
  CHECK(o.trace_code == "SX-XIXIAN-2026-0017");
  CHECK(parse_origin(json{{"harvest_date", "2026-02-30"}}, kToday, o).find("'harvest_date'") !=
        std::string::npos);
  CHECK(parse_origin(json{{"farm", 7}}, kToday, o).find("'farm'") != std::string::npos);
  CHECK(parse_origin(json(nullptr), kToday, o).empty());
  CHECK(o.empty());
}

TEST_CASE("a database from before origins is upgraded, and records survive a reopen and are found by code",
          "[origin][store]") {
  harvest::test::TempDir dir;
  const std::string path = dir.path() + "/old.sqlite";
  {
    // The products table as the first release made it: no origin, no trace_code.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(
                db,
                "CREATE TABLE products (stream_id TEXT NOT NULL, id TEXT NOT NULL, position INTEGER NOT NULL,"
                " title TEXT NOT NULL, price INTEGER NOT NULL, currency TEXT NOT NULL, image TEXT NOT NULL,"
                " stock_ceiling INTEGER NOT NULL, PRIMARY KEY (stream_id, id));"
                "INSERT INTO products VALUES ('s1', 'old', 0, 'old pear', 100, 'CNY', '', 5);",
                nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  Product pear;
  pear.id = "pear";
  pear.title = "隰县玉露香梨";
  pear.price = 3990;
  pear.stock = 10;
  pear.origin = pear_origin();
  {
    harvest::store::SqliteStore store(path);
    REQUIRE(store.error().empty());
    std::vector<Product> products;
    REQUIRE(store.list_products("s1", products));
    REQUIRE(products.size() == 1);
    CHECK(products[0].origin.empty());
    Product old = products[0];
    REQUIRE(store.save_products("s1", {old, pear}));
  }
  harvest::store::SqliteStore reopened(path);
  REQUIRE(reopened.error().empty());
  std::vector<Product> products;
  REQUIRE(reopened.list_products("s1", products));
  REQUIRE(products.size() == 2);
  CHECK(origin_json(products[1].origin) == origin_json(pear.origin));
  std::vector<harvest::store::TracedProduct> hits;
  REQUIRE(reopened.find_traced_products("SX-XIXIAN-2026-0017", hits));
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].stream_id == "s1");
  CHECK(hits[0].product.id == "pear");
  CHECK(hits[0].product.origin.farm == pear.origin.farm);
  REQUIRE(reopened.find_traced_products("NO-SUCH-CODE", hits));
  CHECK(hits.empty());
}
