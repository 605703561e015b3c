#pragma once
// The server's clocks in milliseconds: steady_ms() (monotonic) for timeouts and intervals,
// now_ms() (wall time, since the epoch) for what is stored or shown.
#include <cstdint>

namespace harvest {

int64_t steady_ms();
int64_t now_ms();

}  // namespace harvest
