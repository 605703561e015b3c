#pragma once
// Tunables of the rooms, defaults in one place.
#include <chrono>

namespace harvest::realtime {

struct RoomOptions {
  // Per connection, every message (token bucket). Past it: `rate_limited` answers.
  double message_rate = 20;
  double message_burst = 40;
  // Per connection, and per buyer over all its connections on a node, chat.send on top of
  // the above.
  double chat_rate = 1;
  double chat_burst = 5;
  // This many `rate_limited` answers within `strike_window` close the connection with 1008.
  int flood_strikes = 10;
  std::chrono::milliseconds strike_window{10000};
  // Room-wide coalescing of superseding broadcasts.
  std::chrono::milliseconds stock_interval{50};     // stock and purchase
  std::chrono::milliseconds viewers_interval{500};  // viewer count
  // stream.health to the host connections of each room (also at once on live/offline).
  std::chrono::milliseconds health_interval{3000};
  // Overrides from HARVEST_WS_MESSAGE_RATE, HARVEST_WS_MESSAGE_BURST, HARVEST_WS_CHAT_RATE,
  // HARVEST_WS_CHAT_BURST (benchmarks raise them); the --ws-* flags override those.
  static RoomOptions from_environment();
};

}  // namespace harvest::realtime
