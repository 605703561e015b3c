#pragma once
// Farmer accounts of a county platform (issue 18): who may sign in, their sessions, and the
// invite links the admin hands out. Plain values; the rules live in account_book.h, the
// password hashing in password.h, and where they are kept is the store's (AccountRecords).
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace harvest::accounts {

struct Account {
  std::string id;             // "f" + random: owner of streams and catalog products
  std::string username;       // lower case, unique; what the farmer types to sign in
  std::string name;           // shown on their shows ("隰县梨园 王大姐")
  std::string password_hash;  // argon2id, libsodium's crypto_pwhash_str format
  bool disabled = false;      // the admin turned it off: no sign-in, sessions gone
  int64_t created_at_ms = 0;
};

// A signed-in browser. The cookie carries a random token; only its SHA-256 is kept, so a copy
// of the database does not sign anyone in.
struct Session {
  std::string token_hash;  // hex SHA-256 of the cookie's token
  std::string account_id;
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;
};

// A link the admin sends to a farmer, who picks a username and password with it. One use.
struct Invite {
  std::string code_hash;  // hex SHA-256 of the code in the link
  std::string name;       // the farmer's display name, set by the admin
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;
  bool used = false;
};

// Where accounts are kept (store::Store implements it). Rare writes (sign-ups, sign-ins),
// called on the loop thread; durable on return.
class AccountRecords {
public:
  virtual ~AccountRecords() = default;
  // Inserts or replaces by id.
  virtual Status save_account(const Account& account) = 0;
  virtual Status list_accounts(std::vector<Account>& out) = 0;
  virtual Status save_session(const Session& session) = 0;
  virtual Status delete_session(const std::string& token_hash) = 0;
  virtual Status delete_sessions_of(const std::string& account_id) = 0;
  virtual Status list_sessions(std::vector<Session>& out) = 0;
  // Inserts or replaces by code_hash.
  virtual Status save_invite(const Invite& invite) = 0;
  virtual Status list_invites(std::vector<Invite>& out) = 0;
};

}  // namespace harvest::accounts
