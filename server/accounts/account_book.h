#pragma once
// The platform's farmer accounts, sessions and invites as the loop thread sees them: kept in
// memory (a county has hundreds of farmers, not millions) and written through to the store on
// every change, so a restart loses no account and no sign-in. Password hashing is not done
// here (it is slow): the API hashes on the PasswordWorker and hands the hash in.
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "accounts/account.h"

namespace harvest::accounts {

inline constexpr int64_t kSessionTtlMs = int64_t{30} * 24 * 3600 * 1000;
inline constexpr int64_t kMaxInviteTtlMs = int64_t{30} * 24 * 3600 * 1000;

// "" when `username` may be used (3-32 of [a-z0-9._-] after lower-casing, starting with a
// letter or digit), else a sentence for a 400. Phone numbers qualify.
std::string username_problem(std::string_view username);
std::string normalized_username(std::string_view username);
// "" when `password` may be set: 8-128 bytes.
std::string password_problem(std::string_view password);

class AccountBook {
public:
  explicit AccountBook(AccountRecords& store) : store_(store) {}

  // Reads every account, live session and unused invite from the store.
  Status load(int64_t now_ms);

  const Account* find(const std::string& account_id) const;
  const Account* find_by_username(std::string_view username) const;
  std::vector<const Account*> all() const;

  // A new account with a fresh id; fails if the username is taken (checked again here: the
  // caller hashed the password meanwhile on another thread).
  Status add(std::string_view username, const std::string& name, const std::string& password_hash, int64_t now_ms,
             const Account*& out);
  // Disabling also ends every session of the account.
  Status set_disabled(const std::string& account_id, bool disabled);

  // --- sessions ---
  // A fresh session; returns the token for the cookie (only its hash is kept).
  Status open_session(const std::string& account_id, int64_t now_ms, std::string& token);
  // The enabled account a cookie's token signs in, or nullptr (unknown, expired, disabled).
  const Account* account_for_session(std::string_view token, int64_t now_ms) const;
  Status close_session(std::string_view token);
  // "Sign out everywhere": every session of the account.
  Status close_all_sessions(const std::string& account_id);

  // --- invites ---
  // A one-use code for a farmer named `name`, valid for `ttl_ms`.
  Status create_invite(const std::string& name, int64_t ttl_ms, int64_t now_ms, std::string& code);
  // The unused, unexpired invite a code names, or nullptr.
  const Invite* find_invite(std::string_view code, int64_t now_ms) const;
  Status mark_invite_used(std::string_view code);

private:
  AccountRecords& store_;
  std::map<std::string, Account> by_id_;
  std::map<std::string, std::string> id_by_username_;
  std::map<std::string, Session> sessions_;  // by token hash
  std::map<std::string, Invite> invites_;    // by code hash
};

}  // namespace harvest::accounts
