// --tls-self-signed's certificates: a local CA made once, a server certificate for this
// machine's names, made again only when a name is new (or it runs out), by the same CA.
#include <catch2/catch.hpp>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdio>

#include "core/local_tls.h"
#include "support/temp_dir.h"

using namespace harvest;
using harvest::test::read_file;
using harvest::test::TempDir;
using harvest::test::write_file;

namespace {

// Whether the server certificate in `path` verifies against the CA in `ca_path` for `name`.
bool names_and_chains(const std::string& path, const std::string& ca_path, const std::string& name) {
  FILE* f = std::fopen(path.c_str(), "r");
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  f = std::fopen(ca_path.c_str(), "r");
  X509* ca = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert, nullptr);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  if (name.find_first_not_of("0123456789.") == std::string::npos) X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
  else X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
  const bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(ca);
  X509_free(cert);
  return ok;
}

}  // namespace

TEST_CASE("this machine's names include localhost and its loopback address", "[local_tls]") {
  const auto names = local_tls::this_machine_names();
  CHECK(std::find(names.begin(), names.end(), "localhost") != names.end());
  CHECK(std::find(names.begin(), names.end(), "127.0.0.1") != names.end());
}

TEST_CASE("certificates are made once and kept; a new address gets a new one from the same CA", "[local_tls]") {
  TempDir dir;
  local_tls::Files files;
  REQUIRE(local_tls::ensure_certificates(dir.path(), {"localhost", "farm.local", "192.168.1.5"}, files));
  CHECK(names_and_chains(files.server_cert, files.ca_cert, "farm.local"));
  CHECK(names_and_chains(files.server_cert, files.ca_cert, "192.168.1.5"));
  CHECK_FALSE(names_and_chains(files.server_cert, files.ca_cert, "192.168.1.6"));
  const std::string ca = read_file(files.ca_cert);
  const std::string server = read_file(files.server_cert);
  const std::string fingerprint = files.ca_fingerprint_sha256;

  local_tls::Files again;
  REQUIRE(local_tls::ensure_certificates(dir.path(), {"localhost", "192.168.1.5"}, again));  // a subset: kept
  CHECK(read_file(again.server_cert) == server);
  CHECK(again.ca_fingerprint_sha256 == fingerprint);

  REQUIRE(local_tls::ensure_certificates(dir.path(), {"localhost", "192.168.1.6"}, again));  // DHCP moved us
  CHECK(read_file(again.server_cert) != server);
  CHECK(read_file(again.ca_cert) == ca);  // a phone that installed the CA keeps trusting us
  CHECK(names_and_chains(again.server_cert, again.ca_cert, "192.168.1.6"));
}

TEST_CASE("a damaged key is replaced, not served", "[local_tls]") {
  TempDir dir;
  local_tls::Files files;
  REQUIRE(local_tls::ensure_certificates(dir.path(), {"localhost"}, files));
  const std::string server = read_file(files.server_cert);
  write_file(files.server_key, "not a key");
  REQUIRE(local_tls::ensure_certificates(dir.path(), {"localhost"}, files));
  CHECK(read_file(files.server_cert) != server);
  CHECK(names_and_chains(files.server_cert, files.ca_cert, "localhost"));
}

TEST_CASE("a directory that cannot be made is a sentence, not a crash", "[local_tls]") {
  TempDir dir;
  write_file(dir.path() + "/file", "x");
  local_tls::Files files;
  const Status st = local_tls::ensure_certificates(dir.path() + "/file/tls", {"localhost"}, files);
  CHECK_FALSE(st);
  CHECK(st.message().find("cannot create") != std::string::npos);
}
