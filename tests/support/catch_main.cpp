#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdlib>

// Sanitizer options for every test binary and the processes it starts (the server, ffmpeg):
// whole-process tests leave GLib/GStreamer's process-lifetime allocations behind, so leak
// detection is off (element tests check leaks with GST_TRACERS=leaks instead); an error aborts
// so ctest sees the failure. Set here rather than through ctest's ENVIRONMENT, which
// catch_discover_tests cannot pass as a list.
extern "C" const char* __asan_default_options() { return "detect_leaks=0:abort_on_error=1"; }
extern "C" const char* __ubsan_default_options() { return "print_stacktrace=1"; }

int main(int argc, char* argv[]) {
  setenv("ASAN_OPTIONS", __asan_default_options(), /*overwrite=*/0);
  setenv("UBSAN_OPTIONS", __ubsan_default_options(), /*overwrite=*/0);
  return Catch::Session().run(argc, argv);
}
