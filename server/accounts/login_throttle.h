#pragma once
// Sign-in attempts allowed per account and per address: guessing a password, or making the
// server burn argon2id time for nothing, is slowed to a few tries per window. Pure (the time
// is passed in), loop thread only.
#include <cstdint>
#include <deque>
#include <map>
#include <string>

namespace harvest::accounts {

struct ThrottleLimits {
  int failures_per_account = 5;   // wrong passwords for one username per window
  int attempts_per_address = 30;  // sign-ins of any kind from one address per window
  int64_t window_ms = 15 * 60 * 1000;
};

class LoginThrottle {
public:
  explicit LoginThrottle(ThrottleLimits limits = {}) : limits_(limits) {}

  // 0 when an attempt for `username` from `address` may go on (and counts it against the
  // address); else the seconds until one may.
  int64_t admit(const std::string& username, const std::string& address, int64_t now_ms);
  // The attempt's password was wrong (or the user unknown: counted the same).
  void failed(const std::string& username, int64_t now_ms);
  // A right password clears the account's failures.
  void succeeded(const std::string& username);

private:
  using Times = std::deque<int64_t>;
  // Drops times older than the window; the key goes when it has none left.
  void prune(std::map<std::string, Times>& by_key, int64_t now_ms);
  int64_t wait_s(const Times& times, int64_t now_ms) const;

  ThrottleLimits limits_;
  std::map<std::string, Times> failures_;  // by username
  std::map<std::string, Times> attempts_;  // by address
  int64_t last_prune_ms_ = 0;
};

}  // namespace harvest::accounts
