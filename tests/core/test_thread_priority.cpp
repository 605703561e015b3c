#include <catch2/catch.hpp>

#include <algorithm>
#include <thread>

#include "core/thread_priority.h"

using namespace harvest;

// A lower priority (a higher nice value) is always allowed, so this runs without CAP_SYS_NICE.
TEST_CASE("a thread's nice value is its own", "[core][thread_priority]") {
  const int process_nice = this_thread_nice();
  const int lower = std::min(process_nice + 5, 19);
  int inside = 0;
  bool took = false;
  std::thread t([&] {
    took = set_this_thread_nice(lower);
    inside = this_thread_nice();
  });
  t.join();
  CHECK(took);
  CHECK(inside == lower);
  CHECK(this_thread_nice() == process_nice);  // the other threads keep theirs
}
