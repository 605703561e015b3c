#include "core/local_tls.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

namespace harvest::local_tls {
namespace {

namespace fs = std::filesystem;

constexpr long kCaDays = 3650;
// Apple devices refuse server certificates valid for longer than 825 days, even from a CA the
// user installed.
constexpr long kServerDays = 825;
constexpr long kRenewDays = 30;

struct KeyFree { void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); } };
struct CertFree { void operator()(X509* c) const { X509_free(c); } };
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

bool is_ipv4(const std::string& name) {
  in_addr a{};
  return ::inet_pton(AF_INET, name.c_str(), &a) == 1;
}

Key read_key(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return nullptr;
  Key key(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  return key;
}

Cert read_cert(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return nullptr;
  Cert cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  return cert;
}

// Written to a temporary file first, then renamed: a crash never leaves half a PEM behind.
bool write_pem(const std::string& path, const std::vector<X509*>& certs, EVP_PKEY* key) {
  const std::string tmp = path + ".tmp";
  const mode_t old_mask = ::umask(key != nullptr ? 077 : 022);
  FILE* f = std::fopen(tmp.c_str(), "w");
  ::umask(old_mask);
  if (f == nullptr) return false;
  bool ok = true;
  for (X509* c : certs) ok = ok && PEM_write_X509(f, c) == 1;
  if (key != nullptr) ok = ok && PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  ok = std::fclose(f) == 0 && ok;
  return ok && std::rename(tmp.c_str(), path.c_str()) == 0;
}

bool add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `subject_cn` with `key`, signed by `issuer_key` (and `issuer`; nullptr: itself).
Cert make_cert(EVP_PKEY* key, const std::string& subject_cn, X509* issuer, EVP_PKEY* issuer_key, long days,
               const std::vector<std::pair<int, std::string>>& extensions) {
  Cert cert(X509_new());
  if (!cert) return nullptr;
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // a phone's clock a little behind
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("Harvest Live"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(subject_cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509* issuer_cert = issuer != nullptr ? issuer : cert.get();
  for (const auto& [nid, value] : extensions)
    if (!add_extension(cert.get(), issuer_cert, nid, value)) return nullptr;
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) return nullptr;
  return cert;
}

bool expires_within(X509* cert, long days) {
  time_t when = ::time(nullptr) + days * 24 * 3600;
  return X509_cmp_time(X509_get0_notAfter(cert), &when) <= 0;  // 0: unreadable, so renew
}

// Whether `cert`'s subjectAltName holds every one of `names`.
bool covers(X509* cert, const std::vector<std::string>& names) {
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans == nullptr) return false;
  std::set<std::string> have;
  for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
    if (g->type == GEN_DNS) {
      have.emplace(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
                   static_cast<size_t>(ASN1_STRING_length(g->d.dNSName)));
    } else if (g->type == GEN_IPADD && ASN1_STRING_length(g->d.iPAddress) == 4) {
      char text[INET_ADDRSTRLEN];
      ::inet_ntop(AF_INET, ASN1_STRING_get0_data(g->d.iPAddress), text, sizeof text);
      have.insert(text);
    }
  }
  GENERAL_NAMES_free(sans);
  return std::all_of(names.begin(), names.end(), [&](const std::string& n) { return have.count(n) > 0; });
}

std::string fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(cert, EVP_sha256(), md, &len);
  std::ostringstream out;
  static const char* hex = "0123456789ABCDEF";
  for (unsigned i = 0; i < len; ++i) {
    if (i > 0) out << ':';
    out << hex[md[i] >> 4] << hex[md[i] & 15];
  }
  return out.str();
}

std::string alt_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + std::string(is_ipv4(n) ? "IP:" : "DNS:") + n;
  return out;
}

}  // namespace

std::vector<std::string> this_machine_names() {
  std::vector<std::string> names{"localhost"};
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') {
    names.emplace_back(host);
    if (std::string(host).find('.') == std::string::npos) names.push_back(std::string(host) + ".local");
  }
  names.emplace_back("127.0.0.1");
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) == 0) {
    for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
      if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_UP) == 0) continue;
      char text[INET_ADDRSTRLEN];
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof text);
      if (std::find(names.begin(), names.end(), text) == names.end()) names.emplace_back(text);
    }
    ::freeifaddrs(list);
  }
  return names;
}

Status ensure_certificates(const std::string& dir, const std::vector<std::string>& names, Files& files) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::error("cannot create " + dir + ": " + ec.message());
  files.ca_cert = dir + "/ca.pem";
  files.server_cert = dir + "/server.pem";
  files.server_key = dir + "/server.key";
  const std::string ca_key_path = dir + "/ca.key";

  Key ca_key = read_key(ca_key_path);
  Cert ca = read_cert(files.ca_cert);
  if (!ca_key || !ca || X509_check_private_key(ca.get(), ca_key.get()) != 1 || expires_within(ca.get(), kRenewDays)) {
    ca_key.reset(EVP_EC_gen("P-256"));
    if (!ca_key) return Status::error("cannot make a key for the local CA");
    ca = make_cert(ca_key.get(), "Harvest Live local CA", nullptr, ca_key.get(), kCaDays,
                   {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                    {NID_key_usage, "critical,keyCertSign,cRLSign"},
                    {NID_subject_key_identifier, "hash"}});
    if (!ca) return Status::error("cannot make the local CA certificate");
    if (!write_pem(ca_key_path, {}, ca_key.get()) || !write_pem(files.ca_cert, {ca.get()}, nullptr))
      return Status::error("cannot write the local CA into " + dir);
    fs::remove(files.server_cert, ec);  // a new CA: the server certificate goes with the old one
  }
  files.ca_fingerprint_sha256 = fingerprint(ca.get());

  Cert server = read_cert(files.server_cert);
  Key server_key = read_key(files.server_key);
  const bool keep = server && server_key && X509_check_private_key(server.get(), server_key.get()) == 1 &&
                    X509_verify(server.get(), ca_key.get()) == 1 && !expires_within(server.get(), kRenewDays) &&
                    covers(server.get(), names);
  if (keep) return Status::ok();
  server_key.reset(EVP_EC_gen("P-256"));
  if (!server_key) return Status::error("cannot make a key for the server certificate");
  server = make_cert(server_key.get(), names.size() > 1 ? names[1] : names.front(), ca.get(), ca_key.get(), kServerDays,
                     {{NID_basic_constraints, "critical,CA:FALSE"},
                      {NID_key_usage, "critical,digitalSignature"},
                      {NID_ext_key_usage, "serverAuth"},
                      {NID_authority_key_identifier, "keyid"},
                      {NID_subject_alt_name, alt_names(names)}});
  if (!server) return Status::error("cannot make the server certificate");
  if (!write_pem(files.server_key, {}, server_key.get()) || !write_pem(files.server_cert, {server.get(), ca.get()}, nullptr))
    return Status::error("cannot write the server certificate into " + dir);
  return Status::ok();
}

}  // namespace harvest::local_tls
