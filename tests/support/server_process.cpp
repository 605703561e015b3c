#include "support/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <regex>
#include <stdexcept>

#include "support/wait.h"

namespace harvest::test {

std::string ServerProcess::binary_path() { return HARVEST_SERVER_BIN; }

ServerProcess::ServerProcess(Options options) : options_(std::move(options)) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");

  std::vector<std::string> args = {binary_path(), "--http-port", "0", "--rtmp-port", "0",
                                   "--srt-port", "0", "--bind", "127.0.0.1",
                                   "--data-dir", options_.data_dir};
  for (const auto& a : options_.extra_args) args.push_back(a);
  ChildProcess::Options spawn;
  spawn.output_fd = pipe_fds[1];
  spawn.env = options_.env;
  // The server stops when this test process dies, even by a crash (no destructor runs then).
  spawn.env.emplace("HARVEST_EXIT_WITH_PARENT", "1");
  child_ = std::make_unique<ChildProcess>(args, spawn);
  ::close(pipe_fds[1]);
  if (!child_->started()) {
    ::close(pipe_fds[0]);
    throw std::runtime_error("cannot start " + binary_path());
  }
  pid_ = child_->pid();
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
  const int code = child_->wait(timeout);
  if (code < 0) return -1;
  exit_code_ = code;
  // The process is gone; let the reader take in its last lines (EOF on the pipe) so callers
  // can inspect the complete log. Bounded, in case a grandchild still holds the pipe.
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, std::chrono::seconds(5), [&] { return log_closed_; });
  return exit_code_;
}

int ServerProcess::stop(int signum, std::chrono::milliseconds timeout) {
  if (exit_code_ >= 0) return exit_code_;
  child_->signal(signum);
  return wait_exit(timeout);
}

void ServerProcess::kill_hard() {
  if (exit_code_ >= 0) return;
  child_->signal(SIGKILL);
  wait_exit(std::chrono::seconds(10));
}

}  // namespace harvest::test
