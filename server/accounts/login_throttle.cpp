#include "accounts/login_throttle.h"

#include <algorithm>

namespace harvest::accounts {

void LoginThrottle::prune(std::map<std::string, Times>& by_key, int64_t now_ms) {
  for (auto it = by_key.begin(); it != by_key.end();) {
    Times& t = it->second;
    while (!t.empty() && t.front() <= now_ms - limits_.window_ms) t.pop_front();
    it = t.empty() ? by_key.erase(it) : std::next(it);
  }
}

int64_t LoginThrottle::wait_s(const Times& times, int64_t now_ms) const {
  const int64_t free_at = times.front() + limits_.window_ms;
  return std::max<int64_t>(1, (free_at - now_ms + 999) / 1000);
}

int64_t LoginThrottle::admit(const std::string& username, const std::string& address, int64_t now_ms) {
  // A sweep at most once a window keeps memory bounded by what one window can hold.
  if (now_ms - last_prune_ms_ >= limits_.window_ms / 15) {
    prune(failures_, now_ms);
    prune(attempts_, now_ms);
    last_prune_ms_ = now_ms;
  }
  auto expire = [&](Times& t) {
    while (!t.empty() && t.front() <= now_ms - limits_.window_ms) t.pop_front();
  };
  Times& by_address = attempts_[address];
  expire(by_address);
  if (static_cast<int>(by_address.size()) >= limits_.attempts_per_address) return wait_s(by_address, now_ms);
  if (auto it = failures_.find(username); it != failures_.end()) {
    expire(it->second);
    if (static_cast<int>(it->second.size()) >= limits_.failures_per_account) return wait_s(it->second, now_ms);
  }
  by_address.push_back(now_ms);
  return 0;
}

void LoginThrottle::failed(const std::string& username, int64_t now_ms) { failures_[username].push_back(now_ms); }

void LoginThrottle::succeeded(const std::string& username) { failures_.erase(username); }

}  // namespace harvest::accounts
