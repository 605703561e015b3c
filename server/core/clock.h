#pragma once
// The monotonic clock in milliseconds, for timeouts and intervals (not for wall time: now_ms()).
#include <cstdint>

namespace harvest {

int64_t steady_ms();

}  // namespace harvest
