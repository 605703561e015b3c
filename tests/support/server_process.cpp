#include "support/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <regex>
#include <stdexcept>

#include "support/wait.h"

extern char** environ;

namespace harvest::test {

std::string ServerProcess::binary_path() { return HARVEST_SERVER_BIN; }

ServerProcess::ServerProcess(Options options) : options_(std::move(options)) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");

  std::vector<std::string> args = {binary_path(), "--http-port", "0", "--rtmp-port", "0",
                                   "--srt-port", "0", "--bind", "127.0.0.1",
                                   "--data-dir", options_.data_dir};
  for (const auto& a : options_.extra_args) args.push_back(a);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const auto key = entry.substr(0, entry.find('='));
    if (options_.env.count(key) == 0) env_strings.push_back(entry);
  }
  for (const auto& [k, v] : options_.env) env_strings.push_back(k + "=" + v);
  // The server stops when this test process dies, even by a crash (no destructor runs then).
  if (options_.env.count("HARVEST_EXIT_WITH_PARENT") == 0) env_strings.push_back("HARVEST_EXIT_WITH_PARENT=1");
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  // Start with no blocked signals, whatever the test runner's mask is.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  const int rc = posix_spawn(&pid_, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    throw std::runtime_error("cannot start " + binary_path() + ": " + std::strerror(rc));
  }
  log_fd_ = pipe_fds[0];
  reader_ = std::thread([this] { read_log(); });

  if (options_.wait_ready && !wait_for_log("event=listening")) {
    throw std::runtime_error("harvest-server did not start; log:\n" + log());
  }
}

ServerProcess::~ServerProcess() {
  if (exit_code_ < 0 && pid_ > 0) {
    if (stop(SIGTERM, std::chrono::seconds(10)) < 0) kill_hard();
  }
  if (reader_.joinable()) reader_.join();
  if (log_fd_ >= 0) ::close(log_fd_);
}

void ServerProcess::read_log() {
  static const std::regex port_re(R"(\b([a-z]+_port)=(\d+))");
  char buf[4096];
  std::string pending;
  while (true) {
    const ssize_t n = ::read(log_fd_, buf, sizeof buf);
    if (n <= 0) break;
    pending.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      const std::string line = pending.substr(0, nl + 1);
      pending.erase(0, nl + 1);
      std::lock_guard lock(mutex_);
      log_ += line;
      if (line.find("event=listening") != std::string::npos) {
        for (std::sregex_iterator it(line.begin(), line.end(), port_re), end; it != end; ++it)
          ports_[(*it)[1]] = std::stoi((*it)[2]);
      }
      changed_.notify_all();
    }
  }
  std::lock_guard lock(mutex_);
  log_closed_ = true;
  changed_.notify_all();
}

int ServerProcess::http_port() const { return port("http_port"); }

int ServerProcess::port(const std::string& log_key) const {
  std::lock_guard lock(mutex_);
  auto it = ports_.find(log_key);
  return it == ports_.end() ? 0 : it->second;
}

bool ServerProcess::wait_for_log(const std::string& needle, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return log_.find(needle) != std::string::npos; });
}

std::string ServerProcess::log() const {
  std::lock_guard lock(mutex_);
  return log_;
}

int ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_code_ >= 0) return exit_code_;
  int status = 0;
  const bool done = wait_until(
      [&] {
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        return r == pid_;
      },
      timeout, std::chrono::milliseconds(10));
  if (!done) return -1;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  // The process is gone; let the reader take in its last lines (EOF on the pipe) so callers
  // can inspect the complete log. Bounded, in case a grandchild still holds the pipe.
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, std::chrono::seconds(5), [&] { return log_closed_; });
  return exit_code_;
}

int ServerProcess::stop(int signum, std::chrono::milliseconds timeout) {
  if (exit_code_ >= 0) return exit_code_;
  ::kill(pid_, signum);
  return wait_exit(timeout);
}

void ServerProcess::kill_hard() {
  if (exit_code_ >= 0) return;
  ::kill(pid_, SIGKILL);
  wait_exit(std::chrono::seconds(10));
}

}  // namespace harvest::test
