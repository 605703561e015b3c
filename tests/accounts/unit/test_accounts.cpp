// Accounts' rules without sockets: usernames and passwords, argon2id hashes, the sign-in
// throttle, the cookie parser, and the account book's sessions and invites over an
// in-memory store.
#include <catch2/catch.hpp>

#include "accounts/account_book.h"
#include "accounts/login_throttle.h"
#include "accounts/password.h"
#include "realtime/access.h"

using namespace harvest;
using namespace harvest::accounts;

namespace {

// The store's part for accounts, in memory; `fail` makes every write fail.
struct MemoryAccounts : AccountRecords {
  std::vector<Account> accounts;
  std::vector<Session> sessions;
  std::vector<Invite> invites;
  bool fail = false;
  Status save_account(const Account& a) override {
    if (fail) return Status::error("disk full");
    std::erase_if(accounts, [&](const Account& x) { return x.id == a.id; });
    accounts.push_back(a);
    return Status::ok();
  }
  Status list_accounts(std::vector<Account>& out) override { out = accounts; return Status::ok(); }
  Status save_session(const Session& s) override {
    if (fail) return Status::error("disk full");
    sessions.push_back(s);
    return Status::ok();
  }
  Status delete_session(const std::string& h) override {
    std::erase_if(sessions, [&](const Session& s) { return s.token_hash == h; });
    return Status::ok();
  }
  Status delete_sessions_of(const std::string& id) override {
    std::erase_if(sessions, [&](const Session& s) { return s.account_id == id; });
    return Status::ok();
  }
  Status list_sessions(std::vector<Session>& out) override { out = sessions; return Status::ok(); }
  Status save_invite(const Invite& i) override {
    std::erase_if(invites, [&](const Invite& x) { return x.code_hash == i.code_hash; });
    invites.push_back(i);
    return Status::ok();
  }
  Status list_invites(std::vector<Invite>& out) override { out = invites; return Status::ok(); }
};

}  // namespace

TEST_CASE("usernames and passwords", "[accounts]") {
  CHECK(username_problem("wang.pear").empty());
  CHECK(username_problem("13800138000").empty());
  CHECK(username_problem("Wang_Pear-2").empty());
  CHECK(normalized_username("Wang.PEAR") == "wang.pear");
  for (const char* bad : {"", "ab", "a b c", "../etc", "-dash", ".dot", "王大姐", "x@y.z", "abcdefghijabcdefghijabcdefghijabc"}) {
    INFO(bad);
    CHECK_FALSE(username_problem(bad).empty());
  }
  CHECK(password_problem("12345678").empty());
  CHECK_FALSE(password_problem("1234567").empty());
  CHECK_FALSE(password_problem(std::string(129, 'x')).empty());
}

TEST_CASE("argon2id hashes verify only the right password", "[accounts]") {
  REQUIRE(init_password_hashing());
  const std::string h = hash_password("pear orchard 7");
  REQUIRE(h.rfind("$argon2id$", 0) == 0);
  CHECK(h != hash_password("pear orchard 7"));  // salted
  CHECK(verify_password(h, "pear orchard 7"));
  CHECK_FALSE(verify_password(h, "pear orchard 8"));
  CHECK_FALSE(verify_password("", "x"));
  CHECK_FALSE(verify_password("$argon2id$garbage", "x"));
  CHECK_FALSE(verify_password(decoy_hash(), "pear orchard 7"));
}

TEST_CASE("the sign-in throttle counts failures per account and attempts per address", "[accounts]") {
  LoginThrottle throttle({.failures_per_account = 3, .attempts_per_address = 5, .window_ms = 60'000});
  for (int i = 0; i < 3; i++) {
    REQUIRE(throttle.admit("wang", "10.0.0.1", 1000 + i) == 0);
    throttle.failed("wang", 1000 + i);
  }
  const int64_t wait = throttle.admit("wang", "10.0.0.2", 2000);
  CHECK(wait > 0);
  CHECK(wait <= 60);
  CHECK(throttle.admit("li", "10.0.0.2", 2000) == 0);  // other accounts are unaffected
  CHECK(throttle.admit("wang", "10.0.0.2", 1000 + 60'000 + 1) == 0);  // the window passed

  // Five attempts from one address, whatever the accounts: the sixth waits.
  LoginThrottle per_address({.failures_per_account = 100, .attempts_per_address = 5, .window_ms = 60'000});
  for (int i = 0; i < 5; i++) REQUIRE(per_address.admit("user" + std::to_string(i), "10.9.9.9", 5000) == 0);
  CHECK(per_address.admit("user9", "10.9.9.9", 5000) > 0);
  CHECK(per_address.admit("user9", "10.9.9.8", 5000) == 0);

  // A right password clears the account's failures.
  LoginThrottle clears({.failures_per_account = 2, .attempts_per_address = 100, .window_ms = 60'000});
  clears.admit("a", "x", 0);
  clears.failed("a", 0);
  clears.succeeded("a");
  clears.admit("a", "x", 1);
  clears.failed("a", 1);
  CHECK(clears.admit("a", "x", 2) == 0);
}

TEST_CASE("cookie values are read from a Cookie header", "[accounts]") {
  using realtime::cookie_value;
  CHECK(cookie_value("hl_session=abc", "hl_session") == "abc");
  CHECK(cookie_value("a=1; hl_session=abc; b=2", "hl_session") == "abc");
  CHECK(cookie_value("xhl_session=abc", "hl_session").empty());
  CHECK(cookie_value("hl_session_other=abc", "hl_session").empty());
  CHECK(cookie_value("", "hl_session").empty());
  CHECK(cookie_value(";;=;hl_session", "hl_session").empty());
}

TEST_CASE("the account book keeps sessions and invites, and forgets what is disabled or used", "[accounts]") {
  MemoryAccounts store;
  AccountBook book(store);
  REQUIRE(book.load(0));
  const Account* wang = nullptr;
  REQUIRE(book.add("Wang", "王大姐", "hash", 1000, wang));
  CHECK_FALSE(book.add("wang", "other", "hash", 1000, wang));  // taken, whatever the case
  const std::string id = book.find_by_username("WANG")->id;

  std::string token;
  REQUIRE(book.open_session(id, 1000, token));
  CHECK(store.sessions.front().token_hash != token);  // only the hash is stored
  CHECK(book.account_for_session(token, 2000)->id == id);
  CHECK(book.account_for_session(token, 1000 + kSessionTtlMs) == nullptr);  // expired
  CHECK(book.account_for_session("short", 2000) == nullptr);

  // A restart (a new book over the same store) keeps the session.
  AccountBook reloaded(store);
  REQUIRE(reloaded.load(2000));
  CHECK(reloaded.account_for_session(token, 3000)->id == id);

  REQUIRE(book.set_disabled(id, true));
  CHECK(book.account_for_session(token, 3000) == nullptr);
  CHECK(store.sessions.empty());
  REQUIRE(book.set_disabled(id, false));

  std::string code;
  REQUIRE(book.create_invite("李大哥", 3600'000, 1000, code));
  CHECK(book.find_invite(code, 2000)->name == "李大哥");
  CHECK(book.find_invite(code, 1000 + 3600'000) == nullptr);  // expired
  REQUIRE(book.mark_invite_used(code));
  CHECK(book.find_invite(code, 2000) == nullptr);

  // A store that cannot write: nothing changes in memory either.
  store.fail = true;
  const Account* none = nullptr;
  CHECK_FALSE(book.add("li", "李", "hash", 1000, none));
  CHECK(book.find_by_username("li") == nullptr);
  std::string t2;
  CHECK_FALSE(book.open_session(id, 1000, t2));
}
