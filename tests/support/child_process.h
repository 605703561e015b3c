#pragma once
// The one way tests start another program (the server, ffmpeg, ...): no blocked signals
// whatever the test runner's mask, stdin from /dev/null, stdout and stderr together to a file
// or a pipe, and SIGKILL on destruction so no process outlives its test.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace harvest::test {

class ChildProcess {
public:
  struct Options {
    std::string log_path = "/dev/null";  // stdout and stderr, appended (ignored with output_fd)
    int output_fd = -1;                  // stdout and stderr to this descriptor instead
    std::map<std::string, std::string> env;  // set on top of this process's environment
  };
  // Starts args[0] (searched in PATH). running() is false if it could not be started.
  explicit ChildProcess(std::vector<std::string> args, const std::string& log_path = "/dev/null");
  ChildProcess(std::vector<std::string> args, const Options& options);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Exit code once exited (waits up to `timeout`; 128+signal if killed), -1 if still running.
  int wait(std::chrono::milliseconds timeout);
  void signal(int signum);
  // SIGKILL and reap.
  void kill();
  bool running();
  bool started() const { return started_; }
  pid_t pid() const { return pid_; }

private:
  pid_t pid_ = -1;
  int status_ = -1;
  bool started_ = false;
};

}  // namespace harvest::test
