#pragma once
// How a phone comes to trust this server's HTTPS (see core/local_tls.h):
//   GET /api/tls     {"https", "self_signed", and with --tls-self-signed "ca_url",
//                     "ca_fingerprint_sha256"}: what the home page tells the farmer
//   GET /tls/ca.pem  the local CA to install on a phone (only with --tls-self-signed)
#include <optional>

#include "api/common.h"
#include "core/local_tls.h"

namespace harvest::api {

void register_tls_routes(Router& router, bool https, std::optional<local_tls::Files> self_signed);

}  // namespace harvest::api
