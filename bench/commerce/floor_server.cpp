// floor_server: the least a websocket fan-out server can do, as a yardstick for
// bench/commerce/run.sh. It answers the upgrade without checking it, never reads from a viewer,
// and writes each event to every viewer with one send() per viewer, spread over --threads
// threads: no protocol, no rooms, no queues, no back-pressure. Whatever time loadgen measures
// against it is the cost of the sockets themselves on this machine (the kernel's TCP on
// loopback, the wake-ups, loadgen's own receiving), which no real server can go below.
//
//   floor_server [--threads 2]    listens on 127.0.0.1, a free port; prints "port=N"
//   GET /pub...  the publisher: each text frame {"type":"chat.send","text":T} it sends is
//                written to every viewer as {"type":"chat","text":T}
//   GET /sub...  a viewer
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

// One writing thread and the viewers it owns.
struct Shard {
  std::mutex mutex;
  std::condition_variable wake;
  std::vector<int> viewers;
  std::string pending;  // events not yet written, framed, back to back
};

std::string server_text_frame(const std::string& payload) {
  std::string f;
  f.push_back(static_cast<char>(0x81));
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(payload.size()));
  } else {
    f.push_back(static_cast<char>(126));
    f.push_back(static_cast<char>((payload.size() >> 8) & 0xff));
    f.push_back(static_cast<char>(payload.size() & 0xff));
  }
  return f + payload;
}

// Everything that came in since the last round goes to each viewer in one send().
void write_loop(Shard& shard) {
  for (;;) {
    std::string frames;
    std::vector<int> viewers;
    {
      std::unique_lock lock(shard.mutex);
      shard.wake.wait(lock, [&] { return !shard.pending.empty(); });
      frames.swap(shard.pending);
      viewers = shard.viewers;
    }
    for (int fd : viewers) (void)::send(fd, frames.data(), frames.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
}

// Reads the publisher's masked frames and hands each text payload to every shard.
void publisher_loop(int fd, std::vector<std::unique_ptr<Shard>>& shards) {
  std::string in;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
    while (in.size() >= 6) {
      size_t len = static_cast<unsigned char>(in[1]) & 0x7f;
      size_t head = 2;
      if (len == 126) {
        if (in.size() < 4) break;
        len = (static_cast<size_t>(static_cast<unsigned char>(in[2])) << 8) | static_cast<unsigned char>(in[3]);
        head = 4;
      }
      if (in.size() < head + 4 + len) break;
      const char* mask = in.data() + head;
      std::string payload(in.data() + head + 4, len);
      for (size_t i = 0; i < len; ++i) payload[i] = static_cast<char>(payload[i] ^ mask[i % 4]);
      const bool text = (static_cast<unsigned char>(in[0]) & 0x0f) == 0x1;
      in.erase(0, head + 4 + len);
      if (!text) continue;
      // {"type":"chat.send","text":"T..."} -> {"type":"chat","text":"T..."}
      const size_t at = payload.find("\"text\"");
      if (at == std::string::npos) continue;
      const std::string frame = server_text_frame("{\"type\":\"chat\"," + payload.substr(at));
      for (auto& s : shards) {
        {
          std::lock_guard lock(s->mutex);
          s->pending += frame;
        }
        s->wake.notify_one();
      }
    }
  }
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  for (int i = 1; i + 1 < argc; i += 2)
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::max(1, std::atoi(argv[i + 1]));
  const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(lfd, 4096) != 0) {
    std::perror("floor_server: listen");
    return 1;
  }
  socklen_t alen = sizeof addr;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &alen);
  std::printf("floor_server threads=%d port=%d\n", threads, ntohs(addr.sin_port));
  std::fflush(stdout);

  std::vector<std::unique_ptr<Shard>> shards;
  for (int i = 0; i < threads; ++i) shards.push_back(std::make_unique<Shard>());
  for (auto& s : shards) std::thread([&s] { write_loop(*s); }).detach();

  // Handshakes one at a time on this thread: loadgen opens its viewers a few hundred at a
  // time and sends each request in one write, so a blocking read per connection is enough.
  size_t next = 0;
  for (;;) {
    const int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::string request;
    char buf[2048];
    while (request.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
    }
    static const std::string kSwitch =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    if (::send(fd, kSwitch.data(), kSwitch.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(kSwitch.size())) {
      ::close(fd);
      continue;
    }
    if (request.rfind("GET /pub", 0) == 0) {
      std::thread([fd, &shards] { publisher_loop(fd, shards); }).detach();
      continue;
    }
    Shard& s = *shards[next++ % shards.size()];
    std::lock_guard lock(s.mutex);
    s.viewers.push_back(fd);
  }
}
