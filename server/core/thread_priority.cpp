#include "core/thread_priority.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "core/log.h"

namespace harvest {

namespace {
// On Linux PRIO_PROCESS with a thread id reads and sets that one thread's nice value.
id_t this_thread_id() { return static_cast<id_t>(::syscall(SYS_gettid)); }
}  // namespace

int this_thread_nice() {
  errno = 0;
  const int nice = ::getpriority(PRIO_PROCESS, this_thread_id());
  return errno == 0 ? nice : 0;
}

bool set_this_thread_nice(int nice) {
  if (::setpriority(PRIO_PROCESS, this_thread_id(), nice) == 0) return true;
  const int err = errno;
  static std::atomic<bool> logged{false};
  if (!logged.exchange(true))
    log::warn("thread_priority_refused")
        .kv("nice", nice)
        .kv("error", std::strerror(err))
        .kv("hint", "grant CAP_SYS_NICE to keep cards on time on a busy machine");
  return false;
}

}  // namespace harvest
