#include <catch2/catch.hpp>
#include <gst/gst.h>

#include <atomic>
#include <thread>

#include "core/event_loop.h"
#include "media/gst/gst_bus_bridge.h"
#include "realtime/http_server.h"
#include "support/wait.h"

using namespace std::chrono_literals;

namespace {
// Runs an HttpServer's loop on a background thread for the test's lifetime.
struct RunningLoop {
  harvest::EventLoop loop;
  harvest::realtime::HttpServer server{loop, [] {
                                          harvest::realtime::HttpServerOptions o;
                                          o.bind_address = "127.0.0.1";
                                          o.port = 0;
                                          return o;
                                        }()};
  std::thread thread;
  std::atomic<std::thread::id> loop_thread_id{};
  RunningLoop() {
    REQUIRE(server.start().empty());
    thread = std::thread([this] {
      loop_thread_id = std::this_thread::get_id();
      server.run();
    });
  }
  ~RunningLoop() {
    loop.request_stop();
    thread.join();
  }
};
}  // namespace

TEST_CASE("tasks posted from other threads run on the loop thread in order", "[loop]") {
  RunningLoop rl;
  std::vector<int> order;
  std::atomic<int> done{0};
  std::atomic<bool> all_on_loop{true};
  std::thread producer([&] {
    for (int i = 0; i < 100; ++i) {
      rl.loop.post([&, i] {
        if (!rl.loop.in_loop_thread()) all_on_loop = false;
        order.push_back(i);
        ++done;
      });
    }
  });
  producer.join();
  REQUIRE(harvest::test::wait_until([&] { return done.load() == 100; }));
  CHECK(all_on_loop.load());
  for (int i = 0; i < 100; ++i) CHECK(order[static_cast<size_t>(i)] == i);
}

TEST_CASE("timers fire in deadline order and can be cancelled", "[loop]") {
  RunningLoop rl;
  std::vector<int> fired;
  std::atomic<bool> finished{false};
  rl.loop.post([&] {
    rl.loop.run_after(30ms, [&] { fired.push_back(2); });
    rl.loop.run_after(10ms, [&] { fired.push_back(1); });
    auto cancelled = rl.loop.run_after(20ms, [&] { fired.push_back(99); });
    rl.loop.cancel(cancelled);
    rl.loop.run_after(60ms, [&] { finished = true; });
  });
  REQUIRE(harvest::test::wait_until([&] { return finished.load(); }));
  CHECK(fired == std::vector<int>{1, 2});
}

TEST_CASE("GStreamer bus messages are handled on the control-plane thread", "[loop][gst]") {
  gst_init(nullptr, nullptr);
  RunningLoop rl;
  GError* error = nullptr;
  GstElement* pipeline = gst_parse_launch("videotestsrc num-buffers=3 ! fakesink", &error);
  REQUIRE(pipeline != nullptr);
  std::atomic<bool> got_eos{false};
  std::atomic<bool> on_loop{false};
  {
    GstBus* bus = gst_element_get_bus(pipeline);
    harvest::media::GstBusBridge bridge(rl.loop, bus, [&](GstMessage* msg) {
      if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
        on_loop = rl.loop.in_loop_thread();
        got_eos = true;
      }
    });
    gst_object_unref(bus);
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    REQUIRE(harvest::test::wait_until([&] { return got_eos.load(); }));
    CHECK(on_loop.load());
    gst_element_set_state(pipeline, GST_STATE_NULL);
  }
  gst_object_unref(pipeline);
}
