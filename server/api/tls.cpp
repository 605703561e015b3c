#include "api/tls.h"

#include <nlohmann/json.hpp>

namespace harvest::api {

void register_tls_routes(Router& router, bool https, std::optional<local_tls::Files> self_signed) {
  nlohmann::json info{{"https", https}, {"self_signed", self_signed.has_value()}};
  if (self_signed) {
    info["ca_url"] = "/tls/ca.pem";
    info["ca_fingerprint_sha256"] = self_signed->ca_fingerprint_sha256;
  }
  router.add("GET", "/api/tls", [body = info.dump()](const HttpRequest&) { return HttpResponse::json(200, body); });
  if (!self_signed) return;
  router.add("GET", "/tls/ca.pem", [path = self_signed->ca_cert](const HttpRequest&) {
    // The type phones offer to install as a certificate authority.
    HttpResponse r = HttpResponse::file(path, "application/x-x509-ca-cert");
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"harvest-live-ca.crt\"");
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
  });
}

}  // namespace harvest::api
