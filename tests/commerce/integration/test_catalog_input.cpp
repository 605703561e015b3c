// PUT /api/streams/{id}/products against the real server: a title that would reorder or hide
// text, or a picture URL that runs script or reads files, answers 400 with a sentence naming the
// field; the catalog before it stays as it was.
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
const std::string kAdmin = "catalog-test-admin";

json catalog(const std::string& title, const std::string& image) {
  return {{"products", {{{"id", "pear"}, {"title", title}, {"price", 3990}, {"currency", "CNY"}, {"stock", 10},
                         {"image", image}}}}};
}
}  // namespace

TEST_CASE("PUT products refuses bidi and control titles and non-http image URLs with 400", "[catalog]") {
  TempDir dir;
  ServerProcess server({.data_dir = dir.path(), .env = {{"HARVEST_ADMIN_TOKEN", kAdmin}}});
  const int port = server.http_port();
  auto created = http_request(port, "POST", "/api/streams", R"({"title":"pears","farmer":"Li"})", bearer(kAdmin));
  REQUIRE(created.status == 201);
  const std::string id = json::parse(created.body)["id"];
  const std::string path = "/api/streams/" + id + "/products";

  auto good = http_request(port, "PUT", path, catalog("隰县玉露香梨", "/samples/images/pear-yulu.png").dump(), bearer(kAdmin));
  REQUIRE(good.status == 200);

  struct Bad {
    std::string title, image, field;
  };
  for (const Bad& bad : {Bad{"\xe2\x80\xae" "gnp.raep", "", "'title'"}, Bad{"pear\x1b[2J", "", "'title'"},
                         Bad{"pear", "javascript:alert(document.cookie)", "'image'"},
                         Bad{"pear", "data:text/html;base64,PHNjcmlwdD4=", "'image'"},
                         Bad{"pear", "file:///etc/passwd", "'image'"}}) {
    INFO(bad.title << " " << bad.image);
    auto r = http_request(port, "PUT", path, catalog(bad.title, bad.image).dump(), bearer(kAdmin));
    CHECK(r.status == 400);
    const json body = json::parse(r.body, nullptr, false);
    REQUIRE(body.is_object());
    CHECK(body.dump().find(bad.field + " of 'pear'") != std::string::npos);
  }
  // The good catalog is still the one served.
  const json now = json::parse(http_get(port, path).body);
  REQUIRE(now["products"].size() == 1);
  CHECK(now["products"][0]["title"] == "隰县玉露香梨");
  CHECK(now["products"][0]["image"] == "/samples/images/pear-yulu.png");
  // And a stream title with a bidi override is refused the same way.
  CHECK(http_request(port, "POST", "/api/streams", json{{"title", "\xe2\x80\xae" "sraep"}}.dump(), bearer(kAdmin)).status ==
        400);
}
