#pragma once
// --tls-self-signed: HTTPS on a LAN without a public certificate. Phone browsers open the camera
// only on a secure origin, and a farmer's phone reaches the server by its LAN address.
//
// Two certificates are kept in a directory (DATA_DIR/tls/), the way local development CAs do
// it: a local CA ("Harvest Live local CA", 10 years) that a phone can install once and trust,
// and the server's own certificate signed by it for this machine's names and addresses. The
// server certificate is made again (by the same CA, so nothing is re-installed) when an address
// is new (DHCP gave another one) or it has less than 30 days left.
#include <string>
#include <vector>

#include "core/status.h"

namespace harvest::local_tls {

struct Files {
  std::string ca_cert;      // PEM, what a phone installs (served at /tls/ca.pem)
  std::string server_cert;  // PEM: the server's certificate, then the CA's
  std::string server_key;   // PEM, readable by the owner only
  std::string ca_fingerprint_sha256;  // "AB:CD:..." of the CA certificate, to check by eye
};

// localhost, the host name (and NAME.local for mDNS), 127.0.0.1 and every IPv4 address of an
// interface that is up.
std::vector<std::string> this_machine_names();

// Makes (or keeps) the CA and a server certificate covering `names` (host names and IPv4
// addresses) in `dir`. On success `files` names them.
Status ensure_certificates(const std::string& dir, const std::vector<std::string>& names, Files& files);

}  // namespace harvest::local_tls
