#include "accounts/account_book.h"

#include <algorithm>
#include <openssl/sha.h>

#include "core/tokens.h"

namespace harvest::accounts {
namespace {

std::string sha256_hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 15]);
  }
  return out;
}

bool username_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

}  // namespace

std::string normalized_username(std::string_view username) {
  std::string out(username);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; });
  return out;
}

std::string username_problem(std::string_view username) {
  const std::string u = normalized_username(username);
  if (u.size() < 3 || u.size() > 32) return "'username' must be 3-32 characters";
  if (!std::all_of(u.begin(), u.end(), username_char))
    return "'username' may hold letters, digits, '.', '_' and '-' only";
  if (!username_char(u.front()) || u.front() == '.' || u.front() == '_' || u.front() == '-')
    return "'username' must start with a letter or digit";
  return {};
}

std::string password_problem(std::string_view password) {
  if (password.size() < 8) return "'password' must be at least 8 characters";
  if (password.size() > 128) return "'password' must be at most 128 bytes";
  return {};
}

Status AccountBook::load(int64_t now_ms) {
  std::vector<Account> accounts;
  if (auto st = store_.list_accounts(accounts); !st) return st;
  for (auto& a : accounts) {
    id_by_username_[a.username] = a.id;
    by_id_[a.id] = std::move(a);
  }
  std::vector<Session> sessions;
  if (auto st = store_.list_sessions(sessions); !st) return st;
  for (auto& s : sessions)
    if (s.expires_at_ms > now_ms) sessions_[s.token_hash] = std::move(s);
  std::vector<Invite> invites;
  if (auto st = store_.list_invites(invites); !st) return st;
  for (auto& i : invites)
    if (!i.used && i.expires_at_ms > now_ms) invites_[i.code_hash] = std::move(i);
  return Status::ok();
}

const Account* AccountBook::find(const std::string& account_id) const {
  auto it = by_id_.find(account_id);
  return it == by_id_.end() ? nullptr : &it->second;
}

const Account* AccountBook::find_by_username(std::string_view username) const {
  auto it = id_by_username_.find(normalized_username(username));
  return it == id_by_username_.end() ? nullptr : find(it->second);
}

std::vector<const Account*> AccountBook::all() const {
  std::vector<const Account*> out;
  for (const auto& [id, a] : by_id_) out.push_back(&a);
  std::sort(out.begin(), out.end(), [](const Account* a, const Account* b) {
    return a->created_at_ms != b->created_at_ms ? a->created_at_ms < b->created_at_ms : a->id < b->id;
  });
  return out;
}

Status AccountBook::add(std::string_view username, const std::string& name, const std::string& password_hash,
                        int64_t now_ms, const Account*& out) {
  const std::string u = normalized_username(username);
  if (id_by_username_.count(u) != 0) return Status::error("username taken");
  Account a{.id = "f" + tokens::random_id(11), .username = u, .name = name, .password_hash = password_hash,
            .disabled = false, .created_at_ms = now_ms};
  if (auto st = store_.save_account(a); !st) return st;
  id_by_username_[u] = a.id;
  const std::string id = a.id;
  out = &(by_id_[id] = std::move(a));
  return Status::ok();
}

Status AccountBook::set_disabled(const std::string& account_id, bool disabled) {
  auto it = by_id_.find(account_id);
  if (it == by_id_.end()) return Status::error("no such account");
  Account changed = it->second;
  changed.disabled = disabled;
  if (auto st = store_.save_account(changed); !st) return st;
  it->second = std::move(changed);
  return disabled ? close_all_sessions(account_id) : Status::ok();
}

Status AccountBook::open_session(const std::string& account_id, int64_t now_ms, std::string& token) {
  token = tokens::random_hex(32);
  Session s{.token_hash = sha256_hex(token), .account_id = account_id, .created_at_ms = now_ms,
            .expires_at_ms = now_ms + kSessionTtlMs};
  if (auto st = store_.save_session(s); !st) return st;
  // Expired sessions of this account are dropped here, so a farmer signing in daily does not
  // accumulate them.
  for (auto it = sessions_.begin(); it != sessions_.end();)
    it = it->second.account_id == account_id && it->second.expires_at_ms <= now_ms ? sessions_.erase(it) : std::next(it);
  sessions_[s.token_hash] = std::move(s);
  return Status::ok();
}

const Account* AccountBook::account_for_session(std::string_view token, int64_t now_ms) const {
  if (token.size() != 64) return nullptr;
  auto it = sessions_.find(sha256_hex(token));
  if (it == sessions_.end() || it->second.expires_at_ms <= now_ms) return nullptr;
  const Account* a = find(it->second.account_id);
  return a == nullptr || a->disabled ? nullptr : a;
}

Status AccountBook::close_session(std::string_view token) {
  const std::string hash = sha256_hex(token);
  if (sessions_.count(hash) == 0) return Status::ok();
  if (auto st = store_.delete_session(hash); !st) return st;
  sessions_.erase(hash);
  return Status::ok();
}

Status AccountBook::close_all_sessions(const std::string& account_id) {
  if (auto st = store_.delete_sessions_of(account_id); !st) return st;
  for (auto it = sessions_.begin(); it != sessions_.end();)
    it = it->second.account_id == account_id ? sessions_.erase(it) : std::next(it);
  return Status::ok();
}

Status AccountBook::create_invite(const std::string& name, int64_t ttl_ms, int64_t now_ms, std::string& code) {
  code = tokens::random_hex(16);
  Invite i{.code_hash = sha256_hex(code), .name = name, .created_at_ms = now_ms, .expires_at_ms = now_ms + ttl_ms,
           .used = false};
  if (auto st = store_.save_invite(i); !st) return st;
  invites_[i.code_hash] = std::move(i);
  return Status::ok();
}

const Invite* AccountBook::find_invite(std::string_view code, int64_t now_ms) const {
  if (code.size() != 32) return nullptr;
  auto it = invites_.find(sha256_hex(code));
  if (it == invites_.end() || it->second.used || it->second.expires_at_ms <= now_ms) return nullptr;
  return &it->second;
}

Status AccountBook::mark_invite_used(std::string_view code) {
  auto it = invites_.find(sha256_hex(code));
  if (it == invites_.end()) return Status::error("no such invite");
  Invite used = it->second;
  used.used = true;
  if (auto st = store_.save_invite(used); !st) return st;
  invites_.erase(it);
  return Status::ok();
}

}  // namespace harvest::accounts
