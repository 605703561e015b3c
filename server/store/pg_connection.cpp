#include "store/pg_connection.h"

#include <cstdio>
#include <cstdlib>

namespace harvest::store {

PgParams& PgParams::real(std::optional<double> v) {
  if (!v) return null();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", *v);
  return text(buf);
}

std::vector<const char*> PgParams::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (const auto& v : values_) out.push_back(v ? v->c_str() : nullptr);
  return out;
}

bool PgResult::ok() const {
  if (!r_) return false;
  const auto s = PQresultStatus(r_.get());
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

std::string PgResult::error() const {
  if (!r_) return "no result from PostgreSQL (connection lost?)";
  std::string m = PQresultErrorMessage(r_.get());
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m.empty() ? "PostgreSQL error" : m;
}

int64_t PgResult::integer(int row, int col) const {
  return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10);
}

double PgResult::real(int row, int col) const { return std::strtod(PQgetvalue(r_.get(), row, col), nullptr); }

int64_t PgResult::affected() const {
  const char* n = r_ ? PQcmdTuples(r_.get()) : "";
  return *n != '\0' ? std::strtoll(n, nullptr, 10) : 0;
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

Status PgConnection::open(const std::string& url) {
  conn_ = PQconnectdb(url.c_str());
  if (conn_ == nullptr) return Status::error("out of memory");
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string m = PQerrorMessage(conn_);
    while (!m.empty() && m.back() == '\n') m.pop_back();
    return Status::error(m);
  }
  // Quiet NOTICEs (CREATE ... IF NOT EXISTS) stay out of the server's log.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  return Status::ok();
}

bool PgConnection::ensure_connected() {
  if (conn_ == nullptr) return false;
  if (PQstatus(conn_) == CONNECTION_OK) return true;
  prepared_.clear();
  PQreset(conn_);
  return PQstatus(conn_) == CONNECTION_OK;
}

Status PgConnection::exec(const char* sql) {
  if (!ensure_connected()) return Status::error("PostgreSQL connection lost");
  PgResult r(PQexec(conn_, sql));
  return r.ok() ? Status::ok() : Status::error(r.error());
}

PgResult PgConnection::run(const char* name, const char* sql, const PgParams& params) {
  if (!ensure_connected()) return PgResult();
  if (prepared_.count(name) == 0) {
    PgResult p(PQprepare(conn_, name, sql, 0, nullptr));
    if (!p.ok()) return p;
    prepared_.insert(name);
  }
  const auto values = params.pointers();
  return PgResult(PQexecPrepared(conn_, name, params.size(), values.data(), nullptr, nullptr, 0));
}

Status PgConnection::abort(Status st) {
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) PgResult(PQexec(conn_, "ROLLBACK"));
  return st;
}

std::string pg_text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('"');
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

std::string pg_int_array(const std::vector<int64_t>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += std::to_string(values[i]);
  }
  out.push_back('}');
  return out;
}

std::string pg_real_array(const std::vector<std::optional<double>>& values) {
  std::string out = "{";
  char buf[64];
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    if (!values[i]) {
      out += "NULL";
      continue;
    }
    std::snprintf(buf, sizeof buf, "%.17g", *values[i]);
    out += buf;
  }
  out.push_back('}');
  return out;
}

}  // namespace harvest::store
