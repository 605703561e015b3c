#pragma once
// Runs the real harvest-server binary for a test: free ports, its own data directory,
// its log captured so tests can wait for a line. Stopped (SIGTERM, then SIGKILL) on
// destruction so no process outlives the test.
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.h"

namespace harvest::test {

class ServerProcess {
public:
  struct Options {
    std::string data_dir;                  // required: use a TempDir
    std::vector<std::string> extra_args;   // e.g. {"--demo"}
    std::map<std::string, std::string> env;  // e.g. {{"HARVEST_ADMIN_TOKEN", "t"}}
    bool wait_ready = true;                // wait for the "listening" log line
  };

  explicit ServerProcess(Options options);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Ports the server logged (0 until known).
  int http_port() const;
  int port(const std::string& log_key) const;  // e.g. "rtmp_port"

  // Waits until a captured log line contains `needle`.
  bool wait_for_log(const std::string& needle,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
  std::string log() const;

  // Sends `signum` and waits for exit; returns the exit code (128+sig if killed), -1 on timeout.
  int stop(int signum, std::chrono::milliseconds timeout = std::chrono::seconds(15));
  void kill_hard();  // SIGKILL, for crash tests
  // Exit status if exited (waits up to `timeout`), else -1.
  int wait_exit(std::chrono::milliseconds timeout);
  pid_t pid() const { return pid_; }

  static std::string binary_path();

private:
  void read_log();
  Options options_;
  std::unique_ptr<ChildProcess> child_;
  pid_t pid_ = -1;  // kept after exit, for messages
  int log_fd_ = -1;
  int exit_code_ = -1;
  std::thread reader_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::string log_;
  bool log_closed_ = false;  // the reader saw EOF
  std::map<std::string, int> ports_;
};

}  // namespace harvest::test
