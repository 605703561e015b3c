#pragma once
// Farmer accounts over HTTP (docs/accounts.md): the admin creates farmers or invite links; a
// farmer signs in with a password and gets an HttpOnly session cookie; signs out here or
// everywhere. Password hashing runs on the PasswordWorker, never on the loop.
#include "accounts/account_book.h"
#include "accounts/login_throttle.h"
#include "accounts/password_worker.h"
#include "api/common.h"

namespace harvest::api {

struct AccountDeps {
  accounts::AccountBook& book;
  accounts::PasswordWorker& passwords;
  accounts::LoginThrottle& throttle;
  bool tls = false;  // cookies get Secure
};

// POST/GET /api/farmers, POST /api/farmers/{id}/disable|enable, POST /api/invites,
// GET /api/invites/{code}, POST /api/invites/{code}/accept, POST /api/login, POST /api/logout
// [?everywhere=1], GET /api/me.
void register_account_routes(Router& router, const AccessConfig& access, StreamRegistry& streams, AccountDeps deps);

// Set-Cookie values: a new session, and the one that removes it.
std::string session_cookie(const std::string& token, bool tls);
std::string cleared_session_cookie(bool tls);

}  // namespace harvest::api
