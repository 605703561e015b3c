#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <gst/gst.h>
#include <catch2/catch.hpp>

// gst_deinit() when the run ends, so GST_TRACERS=leaks can report objects the
// tests (or the elements) left alive: the "element leaks" ctest fails on them.

namespace {
struct GstDeinitListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testRunEnded(const Catch::TestRunStats&) override {
    if (gst_is_initialized()) gst_deinit();
  }
};
}  // namespace
CATCH_REGISTER_LISTENER(GstDeinitListener)
