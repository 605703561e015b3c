#pragma once
// A token bucket: `rate` tokens a second up to `burst`; a new bucket starts full. Pure (the
// time is passed in); the caller keeps one per thing it limits.
#include <algorithm>
#include <chrono>

namespace harvest {

struct TokenBucket {
  using Clock = std::chrono::steady_clock;
  double tokens = 0;
  Clock::time_point last{};

  // Takes a token if there is one.
  bool take(double rate, double burst, Clock::time_point now) {
    refill(rate, burst, now);
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }
  // The tokens there would be at `now` (nothing taken).
  double peek(double rate, double burst, Clock::time_point now) const {
    if (last == Clock::time_point{}) return burst;
    return std::min(burst, tokens + rate * std::chrono::duration<double>(now - last).count());
  }
  // Seconds until a token is there (0 if one is).
  double wait_s(double rate, double burst, Clock::time_point now) const {
    const double have = peek(rate, burst, now);
    return have >= 1 ? 0 : (1 - have) / rate;
  }
  bool full(double rate, double burst, Clock::time_point now) const {
    return peek(rate, burst, now) >= burst;
  }

 private:
  void refill(double rate, double burst, Clock::time_point now) {
    tokens = peek(rate, burst, now);
    last = now;
  }
};

}  // namespace harvest
