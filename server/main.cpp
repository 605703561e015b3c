// harvest-server: the live-stream commerce server. See --help.
#include <gst/gst.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "app.h"
#include "core/log.h"
#include "livecommerce.h"

int main(int argc, char** argv) {
  // Test harnesses set this so that a server they started never outlives them: a test process
  // that crashes runs no destructors. SIGTERM is the graceful stop below.
  if (const char* p = std::getenv("HARVEST_EXIT_WITH_PARENT"); p != nullptr && p[0] == '1') {
    const pid_t parent = getppid();
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) return 1;  // the parent was gone before the request took effect
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  const char* env_token = std::getenv("HARVEST_ADMIN_TOKEN");
  auto parsed = harvest::parse_command_line(
      args, env_token ? std::optional<std::string>(env_token) : std::nullopt);
  switch (parsed.action) {
    case harvest::ConfigResult::Action::help:
      std::fputs(harvest::usage_text().c_str(), stdout);
      return 0;
    case harvest::ConfigResult::Action::version:
      std::puts("harvest-server " HARVEST_VERSION);
      return 0;
    case harvest::ConfigResult::Action::error:
      std::fprintf(stderr, "harvest-server: %s\n", parsed.error.c_str());
      return 2;
    case harvest::ConfigResult::Action::run:
      break;
  }
  harvest::log::Level level{};
  harvest::log::parse_level(parsed.config.log_level, level);
  harvest::log::set_min_level(level);

  // Block the stop signals before any thread exists (GStreamer, store writer, ...),
  // so only the waiter thread below ever sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  gst_init(nullptr, nullptr);
  harvest_livecommerce_register();

  auto app_holder = std::make_unique<harvest::App>(parsed.config);
  harvest::App& app = *app_holder;
  if (auto err = app.start(); !err.empty()) {
    harvest::log::error("startup_failed").kv("reason", err);
    std::fprintf(stderr, "harvest-server: %s\n", err.c_str());
    app_holder.reset();
    std::fflush(nullptr);
    std::_Exit(2);  // see the end of main()
  }

  std::thread signal_waiter([&app, stop_signals] {
    int signum = 0;
    sigwait(&stop_signals, &signum);
    harvest::log::info("signal").kv("signal", signum == SIGINT ? "SIGINT" : "SIGTERM");
    app.stop();
  });

  app.run();
  // If run() ended for another reason, wake the waiter so it can be joined.
  pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();
  app_holder.reset();
  // Everything of ours is shut down. libsrt 1.5's static destructors can block forever in
  // pthread_cond_destroy at exit, so leave without running library destructors.
  std::fflush(nullptr);
  std::_Exit(0);
}
