// loadgen: the websocket load generator of the real-time commerce benchmarks.
//
// A minimal RFC 6455 client on epoll (non-blocking sockets, several threads, thousands of
// connections per thread) that costs far less CPU than the node clients it replaces, so the
// server under test gets the cores. It does only what the benchmarks need: the upgrade
// handshake (the reply's status line is checked, Sec-WebSocket-Accept is not), masked text
// frames out, unmasked frames in (text, ping -> pong, close), and no JSON parsing beyond
// splitting a frame into its top-level objects (batched frames are JSON arrays) and finding
// "type" and the one field it measures ("re" for buys, "text" for fan-out).
//
//   loadgen buys   --port P --stream S [--connections 256] [--window 16] [--seconds 10]
//                  [--threads 1] [--batch] [--product bench]
//   loadgen fanout --port P --viewer-path PATH --publisher-path PATH [--viewers 10000]
//                  [--events 20] [--burst 20] [--threads 1] [--gather-us 500] [--socket-time]
//                  [--second-port P2 --second-server-pid PID2]   (half the viewers on a second
//                  node on the same bus; the publisher stays on P: fan-out across nodes)
//   either mode:   [--tls [--tls-ca FILE]]
//
// Fan-out latency is send -> the viewer thread's read; with --socket-time it is send -> the
// kernel's receive timestamp of the bytes (SO_TIMESTAMPNS), and once every viewer is connected
// the viewer threads drop to idle priority so they take no core the server wants
// (docs/benchmarks.md, "latency to the socket").
//
// --tls: every connection (viewers, buyers, the publisher) speaks wss:// (OpenSSL). The sockets
// and the event loop stay as they are; a connection's Transport (plain or TLS) only turns the
// bytes its socket received into websocket bytes and websocket bytes into bytes to send. TLS
// runs over memory BIOs, so --socket-time still stamps the (encrypted) bytes as the kernel
// received them. --tls-ca FILE verifies the server's certificate against that CA (for
// harvest-server --tls-self-signed: DATA_DIR/tls/ca.pem) and the --host address in it;
// without --tls-ca nothing is verified.
//
// Prints one line of key=value figures (times in ms) for bench/commerce/run.sh.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

int64_t now_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

int64_t realtime_minus_mono_us() {
  timespec rt{};
  clock_gettime(CLOCK_REALTIME, &rt);
  const int64_t mono = now_us();
  return static_cast<int64_t>(rt.tv_sec) * 1000000 + rt.tv_nsec / 1000 - mono;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "loadgen: %s\n", what.c_str());
  std::exit(2);
}

// ------------------------------------------------------------------ frames

// Appends a masked client text frame. The mask is fixed: it only has to exist (RFC 6455 5.3).
void append_text_frame(std::string& out, std::string_view payload) {
  static constexpr unsigned char kMask[4] = {0x37, 0xfa, 0x21, 0x3d};
  out.push_back(static_cast<char>(0x81));
  const size_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(0x80 | n));
  } else if (n < 65536) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>((n >> 8) & 0xff));
    out.push_back(static_cast<char>(n & 0xff));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  }
  out.append(reinterpret_cast<const char*>(kMask), 4);
  const size_t at = out.size();
  out.append(payload);
  for (size_t i = 0; i < n; ++i) out[at + i] = static_cast<char>(out[at + i] ^ static_cast<char>(kMask[i & 3]));
}

void append_control_frame(std::string& out, unsigned opcode, std::string_view payload) {
  std::string tmp;
  append_text_frame(tmp, payload.substr(0, 125));
  tmp[0] = static_cast<char>(0x80 | opcode);
  out += tmp;
}

// Calls f(object_text) for every top-level JSON object in a text frame: the frame itself, or
// each element of a batched frame (a JSON array of objects).
template <typename F>
void for_each_object(std::string_view text, F&& f) {
  size_t i = 0;
  while (i < text.size() && text[i] != '{') ++i;
  int depth = 0;
  bool in_string = false;
  size_t start = i;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      if (depth++ == 0) start = i;
    } else if (c == '}') {
      if (--depth == 0) f(text.substr(start, i - start + 1));
    }
  }
}

// The value of `"name":` in a flat-enough object: the raw text up to the next ',' or '}' (for
// numbers), or the string's contents (for strings, without unescaping). Empty if absent. Nested
// objects are not skipped: callers look for names that occur only at the top level.
std::string_view field(std::string_view obj, std::string_view name) {
  char needle[64];
  if (name.size() + 3 > sizeof needle) return {};
  needle[0] = '"';
  std::memcpy(needle + 1, name.data(), name.size());
  needle[name.size() + 1] = '"';
  needle[name.size() + 2] = ':';
  const std::string_view n(needle, name.size() + 3);
  const size_t at = obj.find(n);
  if (at == std::string_view::npos) return {};
  size_t i = at + n.size();
  while (i < obj.size() && obj[i] == ' ') ++i;
  if (i < obj.size() && obj[i] == '"') {
    const size_t end = obj.find('"', i + 1);
    return end == std::string_view::npos ? std::string_view{} : obj.substr(i + 1, end - i - 1);
  }
  size_t end = i;
  while (end < obj.size() && obj[end] != ',' && obj[end] != '}') ++end;
  return obj.substr(i, end - i);
}

int64_t to_int(std::string_view s) {
  int64_t v = 0;
  bool neg = false;
  size_t i = 0;
  if (!s.empty() && s[0] == '-') {
    neg = true;
    i = 1;
  }
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) v = v * 10 + (s[i] - '0');
  return neg ? -v : v;
}

// ------------------------------------------------------------------ transports

// How a connection's bytes travel: as they are (ws://) or through TLS (wss://). The caller
// owns the socket and does all its I/O (the workers' epoll loops, the publisher's blocking
// socket); a transport only converts. Returned views stay valid until the next call on the
// same transport, except that receive()'s stays valid across reply() and seal().
class Transport {
public:
  virtual ~Transport() = default;
  // Once the TCP connection is up: the first bytes to send (TLS: the ClientHello).
  virtual std::string_view start() = 0;
  // Whether websocket bytes may be sent yet (TLS: the handshake is over).
  virtual bool ready() const = 0;
  // Bytes the socket received -> websocket bytes in `plain` (possibly none yet). false: the
  // connection failed or the peer ended it (TLS alert, close_notify).
  virtual bool receive(std::string_view wire, std::string_view& plain) = 0;
  // Bytes the transport must send after receive() (the rest of a TLS handshake); often none.
  virtual std::string_view reply() = 0;
  // Websocket bytes -> bytes for the socket.
  virtual std::string_view seal(std::string_view plain) = 0;
};

class PlainTransport final : public Transport {
public:
  std::string_view start() override { return {}; }
  bool ready() const override { return true; }
  bool receive(std::string_view wire, std::string_view& plain) override {
    plain = wire;
    return true;
  }
  std::string_view reply() override { return {}; }
  std::string_view seal(std::string_view plain) override { return plain; }
};

// Prints OpenSSL's error queue (the first few failures only: 10,000 alike say nothing more).
void report_tls_error(const char* what, SSL* ssl) {
  static std::atomic<int> reported{0};
  if (reported.fetch_add(1) >= 5) {
    ERR_clear_error();
    return;
  }
  std::string why;
  char text[256];
  while (const unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, text, sizeof text);
    why += std::string(why.empty() ? "" : "; ") + text;
  }
  const long verify = ssl != nullptr ? SSL_get_verify_result(ssl) : X509_V_OK;
  if (verify != X509_V_OK) why += std::string(" (certificate: ") + X509_verify_cert_error_string(verify) + ")";
  std::fprintf(stderr, "loadgen: %s: %s\n", what, why.empty() ? "connection ended" : why.c_str());
}

// The client side of wss://: one SSL_CTX for every connection, each connection an SSL over two
// memory BIOs (received bytes in, bytes to send out).
class TlsClient {
public:
  // ca_file empty: the server's certificate is not verified. Otherwise it must chain to that CA
  // and name `ip` (an IPv4 address: loadgen connects to addresses only).
  TlsClient(const std::string& ca_file, std::string ip) : ip_(std::move(ip)), verify_(!ca_file.empty()) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (ctx_ == nullptr) die("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    if (verify_) {
      if (SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr) != 1) die("cannot load --tls-ca " + ca_file);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    } else {
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
    }
  }
  ~TlsClient() { SSL_CTX_free(ctx_); }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  SSL* new_ssl() const {
    SSL* ssl = SSL_new(ctx_);
    if (ssl == nullptr) die("SSL_new failed (out of memory?)");
    if (verify_ && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip_.c_str()) != 1)
      die("cannot verify against address " + ip_);
    SSL_set_connect_state(ssl);
    return ssl;
  }
  bool verifies() const { return verify_; }

private:
  SSL_CTX* ctx_ = nullptr;
  std::string ip_;
  bool verify_;
};

class TlsTransport final : public Transport {
public:
  explicit TlsTransport(const TlsClient& client) : ssl_(client.new_ssl()), verified_(client.verifies()) {
    in_ = BIO_new(BIO_s_mem());
    out_ = BIO_new(BIO_s_mem());
    if (in_ == nullptr || out_ == nullptr) die("BIO_new failed");
    BIO_set_mem_eof_return(in_, -1);  // nothing buffered means "wait for more", not end of stream
    SSL_set_bio(ssl_, in_, out_);     // ssl_ owns both now
  }
  ~TlsTransport() override { SSL_free(ssl_); }
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  std::string_view start() override {
    step_handshake();
    return take_output();
  }
  bool ready() const override { return SSL_is_init_finished(ssl_) == 1; }

  bool receive(std::string_view wire, std::string_view& plain) override {
    plain_.clear();
    bool ok = true;
    // In slices, so that a large read does not grow the input BIO's buffer for good.
    while (ok && !wire.empty()) {
      const size_t n = std::min<size_t>(wire.size(), 32 * 1024);
      if (BIO_write(in_, wire.data(), static_cast<int>(n)) != static_cast<int>(n)) die("BIO_write failed");
      wire.remove_prefix(n);
      ok = step_handshake() && read_plain();
    }
    plain = plain_;
    return ok;
  }
  std::string_view reply() override { return take_output(); }

  std::string_view seal(std::string_view plain) override {
    if (!plain.empty() && SSL_write(ssl_, plain.data(), static_cast<int>(plain.size())) <= 0)
      report_tls_error("TLS write", ssl_);  // a memory BIO takes everything: not expected
    return take_output();
  }

private:
  // Advances the handshake with what has arrived; false if it failed.
  bool step_handshake() {
    if (ready()) return true;
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      static std::atomic<bool> told{false};
      if (!told.exchange(true))
        std::fprintf(stderr, "loadgen: TLS: %s %s, server certificate %s\n", SSL_get_version(ssl_),
                     SSL_get_cipher_name(ssl_), verified_ ? "verified against --tls-ca" : "NOT verified (no --tls-ca)");
      return true;
    }
    if (SSL_get_error(ssl_, r) == SSL_ERROR_WANT_READ) return true;
    report_tls_error("TLS handshake failed", ssl_);
    return false;
  }
  // Decrypts everything buffered into plain_; false if the peer ended the session or it broke.
  bool read_plain() {
    if (!ready()) return true;
    for (;;) {
      const size_t at = plain_.size();
      plain_.resize(at + 16 * 1024);
      const int n = SSL_read(ssl_, plain_.data() + at, 16 * 1024);
      plain_.resize(at + static_cast<size_t>(std::max(n, 0)));
      if (n > 0) continue;
      const int e = SSL_get_error(ssl_, n);
      if (e == SSL_ERROR_WANT_READ) return true;
      if (e != SSL_ERROR_ZERO_RETURN) report_tls_error("TLS read", ssl_);
      return false;
    }
  }
  std::string_view take_output() {
    const size_t n = BIO_ctrl_pending(out_);
    wire_.resize(n);
    if (n > 0 && BIO_read(out_, wire_.data(), static_cast<int>(n)) != static_cast<int>(n)) die("BIO_read failed");
    return wire_;
  }

  SSL* ssl_;
  BIO* in_ = nullptr;   // owned by ssl_
  BIO* out_ = nullptr;  // owned by ssl_
  bool verified_;
  std::string plain_;  // decrypted by the latest receive()
  std::string wire_;   // encrypted, to send
};

// ------------------------------------------------------------------ connections

struct Conn;

// What a benchmark does with a connection's events (called on the connection's thread).
class Behaviour {
public:
  virtual ~Behaviour() = default;
  virtual void on_open(Conn& c) = 0;
  virtual void on_text(Conn& c, std::string_view text) = 0;
};

struct Conn {
  int fd = -1;
  size_t index = 0;  // benchmark-wide connection number
  enum class State { connecting, handshake, open, closed } state = State::connecting;
  std::unique_ptr<Transport> transport;  // plain or TLS
  std::string request;  // the websocket upgrade, until the transport is ready for it
  std::string in;   // unparsed websocket bytes (only when a frame straddles reads)
  std::string out;  // bytes for the socket not yet accepted by the kernel
  std::string message;  // fragmented message being reassembled
  bool want_write = false;
  // Benchmark state (buys): sequence numbers and send times of outstanding buys.
  uint64_t next_seq = 0;
  uint64_t inflight = 0;
  std::vector<int64_t> sent_at;
  bool welcomed = false;
  // With --socket-time: when the kernel queued the bytes of the latest read on this socket
  // (SO_TIMESTAMPNS), on the monotonic clock, in µs; 0 otherwise.
  int64_t arrived_us = 0;
};

struct Target {
  sockaddr_in addr{};
  std::string host_header;
  std::shared_ptr<const TlsClient> tls;  // null: ws://

  std::unique_ptr<Transport> transport() const {
    if (tls) return std::make_unique<TlsTransport>(*tls);
    return std::make_unique<PlainTransport>();
  }
};

std::string upgrade_request(const Target& target, const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: " + target.host_header +
         "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

class Worker {
public:
  Worker(const Target& target, Behaviour& behaviour, int gather_us = 0, bool socket_time = false)
      : target_(target), behaviour_(behaviour), gather_us_(gather_us), socket_time_(socket_time) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) die("epoll_create1 failed");
    buf_.resize(256 * 1024);
  }
  ~Worker() {
    stop();
    for (auto& c : conns_)
      if (c->fd >= 0) ::close(c->fd);
    ::close(ep_);
  }

  void add(size_t index, std::string path) { pending_.push_back({index, std::move(path)}); }
  size_t opened() const { return opened_.load(std::memory_order_acquire); }
  size_t failed() const { return failed_.load(std::memory_order_acquire); }
  std::vector<std::unique_ptr<Conn>>& conns() { return conns_; }

  void start() {
    thread_ = std::thread([this] { run(); });
  }

  // With --socket-time, once every viewer is connected (connecting, TLS handshakes above all,
  // runs at normal priority, so the connect time is not the machine's other load): the kernel
  // stamps each arrival, so reading late costs no accuracy, and this thread now reads only when
  // no other thread wants the core, the server's above all, as if the viewers were on other
  // machines. (The publisher keeps its normal priority.) Returns once it applies.
  void lower_priority() {
    std::atomic<bool> done{false};
    post([&done](Worker&) {
      sched_param none{};
      if (sched_setscheduler(0, SCHED_IDLE, &none) != 0) die("cannot lower the viewer threads' priority");
      done.store(true, std::memory_order_release);
    });
    while (!done.load(std::memory_order_acquire)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

  // Sends websocket bytes on `c` through its transport (connection's thread only).
  void send(Conn& c, std::string_view bytes) {
    if (c.state == Conn::State::closed) return;
    write_wire(c, c.transport->seal(bytes));
  }

  // Runs `task` on this worker's thread before its next wait (any thread).
  void post(std::function<void(Worker&)> task) {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
  }

private:
  struct PendingConn {
    size_t index;
    std::string path;
  };

  // Writes bytes for the socket: what the kernel takes now, the rest on EPOLLOUT.
  void write_wire(Conn& c, std::string_view bytes) {
    if (c.state == Conn::State::closed || bytes.empty()) return;
    if (c.out.empty()) {
      const ssize_t n = ::send(c.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n == static_cast<ssize_t>(bytes.size())) return;
      if (n < 0 && errno != EAGAIN) {
        close_conn(c);
        return;
      }
      c.out.assign(bytes.substr(n < 0 ? 0 : static_cast<size_t>(n)));
    } else {
      c.out.append(bytes);
    }
    watch_write(c, true);
  }

  void watch_write(Conn& c, bool on) {
    if (c.want_write == on) return;
    c.want_write = on;
    epoll_event ev{};
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    ev.data.ptr = &c;
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void close_conn(Conn& c) {
    if (c.state == Conn::State::closed) return;
    if (c.state != Conn::State::open) {
      handshaking_--;
      failed_.fetch_add(1, std::memory_order_release);
    }
    c.state = Conn::State::closed;
    epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
    c.out.clear();
    closed_++;
  }

  void connect_one(PendingConn p) {
    auto c = std::make_unique<Conn>();
    c->index = p.index;
    c->fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) die("socket() failed: " + std::string(std::strerror(errno)) + " (raise ulimit -n)");
    const int one = 1;
    ::setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (socket_time_) ::setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    const int r = ::connect(c->fd, reinterpret_cast<const sockaddr*>(&target_.addr), sizeof target_.addr);
    if (r != 0 && errno != EINPROGRESS) die("connect() failed: " + std::string(std::strerror(errno)));
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.ptr = c.get();
    c->want_write = true;
    epoll_ctl(ep_, EPOLL_CTL_ADD, c->fd, &ev);
    c->transport = target_.transport();
    c->request = upgrade_request(target_, p.path);
    c->state = Conn::State::connecting;
    conns_.push_back(std::move(c));
    handshaking_++;
  }

  void on_writable(Conn& c) {
    if (c.state == Conn::State::connecting) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        close_conn(c);
        return;
      }
      // Connected: the transport's first bytes (TLS: ClientHello), and the upgrade if it may
      // go now (plain: at once; TLS: once the handshake is over, in on_readable).
      c.state = Conn::State::handshake;
      write_wire(c, c.transport->start());
      send_request_if_ready(c);
      if (c.state == Conn::State::closed) return;
    }
    while (!c.out.empty()) {
      const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN) return;
        close_conn(c);
        return;
      }
      c.out.erase(0, static_cast<size_t>(n));
    }
    watch_write(c, false);
  }

  void send_request_if_ready(Conn& c) {
    if (c.request.empty() || !c.transport->ready()) return;
    send(c, c.request);
    std::string().swap(c.request);
  }

  // Parses whole frames from data; returns how many bytes were used.
  size_t parse_frames(Conn& c, const char* data, size_t size) {
    size_t pos = 0;
    if (c.state == Conn::State::handshake) {
      const std::string_view view(data, size);
      const size_t end = view.find("\r\n\r\n");
      if (end == std::string_view::npos) return 0;
      if (view.substr(0, 12) != "HTTP/1.1 101") {
        std::fprintf(stderr, "loadgen: upgrade refused: %.*s\n", static_cast<int>(std::min<size_t>(end, 200)), data);
        close_conn(c);
        return size;
      }
      c.state = Conn::State::open;
      handshaking_--;
      opened_.fetch_add(1, std::memory_order_release);
      pos = end + 4;
      behaviour_.on_open(c);
    }
    while (c.state == Conn::State::open && size - pos >= 2) {
      const auto* p = reinterpret_cast<const unsigned char*>(data + pos);
      const bool fin = (p[0] & 0x80) != 0;
      const unsigned opcode = p[0] & 0x0f;
      uint64_t len = p[1] & 0x7f;
      size_t header = 2;
      if (len == 126) {
        if (size - pos < 4) break;
        len = (static_cast<uint64_t>(p[2]) << 8) | p[3];
        header = 4;
      } else if (len == 127) {
        if (size - pos < 10) break;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
        header = 10;
      }
      if ((p[1] & 0x80) != 0) die("server sent a masked frame");
      if (size - pos < header + len) break;
      const std::string_view payload(data + pos + header, static_cast<size_t>(len));
      pos += header + static_cast<size_t>(len);
      switch (opcode) {
        case 0x0:
          c.message.append(payload);
          if (fin) {
            std::string whole;
            whole.swap(c.message);
            behaviour_.on_text(c, whole);
          }
          break;
        case 0x1:
        case 0x2:
          if (fin) behaviour_.on_text(c, payload);
          else c.message.assign(payload);
          break;
        case 0x8: {
          std::string frame;
          append_control_frame(frame, 0x8, payload.substr(0, 2));
          send(c, frame);
          close_conn(c);
          break;
        }
        case 0x9: {
          std::string frame;
          append_control_frame(frame, 0xA, payload);
          send(c, frame);
          break;
        }
        default:
          break;
      }
    }
    return pos;
  }

  // recv() that also records when the kernel received the bytes (the latest segment read),
  // converted from the real-time clock of SO_TIMESTAMPNS to the monotonic one.
  ssize_t recv_stamped(Conn& c) {
    iovec iov{buf_.data(), buf_.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(c.fd, &msg, 0);
    c.arrived_us = 0;
    if (n <= 0) return n;
    for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm != nullptr; cm = CMSG_NXTHDR(&msg, cm)) {
      if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPNS) continue;
      timespec ts{};
      std::memcpy(&ts, CMSG_DATA(cm), sizeof ts);
      c.arrived_us = static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000 - realtime_minus_mono_us_;
    }
    return n;
  }

  void on_readable(Conn& c) {
    for (;;) {
      if (c.state == Conn::State::closed) return;
      const ssize_t n = socket_time_ ? recv_stamped(c) : ::recv(c.fd, buf_.data(), buf_.size(), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        close_conn(c);
        return;
      }
      if (n < 0) return;
      const auto got = static_cast<size_t>(n);
      std::string_view data;  // the websocket bytes in what arrived (plain: all of it)
      if (!c.transport->receive(std::string_view(buf_.data(), got), data)) {
        close_conn(c);
        return;
      }
      write_wire(c, c.transport->reply());  // the rest of a TLS handshake, if any
      send_request_if_ready(c);               // TLS: the handshake may just have ended
      if (!data.empty() && c.state != Conn::State::closed) {
        if (c.in.empty()) {
          const size_t used = parse_frames(c, data.data(), data.size());
          if (used < data.size() && c.state != Conn::State::closed) c.in.assign(data.data() + used, data.size() - used);
        } else {
          c.in.append(data);
          const size_t used = parse_frames(c, c.in.data(), c.in.size());
          c.in.erase(0, used);
        }
      }
      if (got < buf_.size()) return;  // drained (level-triggered: the rest comes next wait)
    }
  }

  void run() {
    epoll_event events[512];
    while (!stop_.load(std::memory_order_relaxed)) {
      // Open connections a few hundred at a time so the server's accept queue never overflows.
      while (!pending_.empty() && handshaking_ < 200) {
        connect_one(std::move(pending_.front()));
        pending_.erase(pending_.begin());
      }
      std::vector<std::function<void(Worker&)>> tasks;
      {
        std::lock_guard lock(mutex_);
        tasks.swap(tasks_);
      }
      for (auto& t : tasks) t(*this);
      const int n = epoll_wait(ep_, events, 512, 2);
      if (socket_time_ && n > 0) realtime_minus_mono_us_ = realtime_minus_mono_us();
      for (int i = 0; i < n; ++i) {
        Conn& c = *static_cast<Conn*>(events[i].data.ptr);
        if (c.state == Conn::State::closed) continue;
        if ((events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0 && c.want_write) on_writable(c);
        if ((events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) on_readable(c);
      }
      if (n > 0 && n < 512 && gather_us_ > 0) {
        // Caught up. Waiting in epoll_wait again would have the server's next send() wake this
        // thread, for one message at a time: on loopback that wake-up (an IPI here) is charged
        // to the server's send and costs both sides more than the message. Sleeping a moment
        // lets deliveries gather instead. A message that arrives meanwhile is timestamped up
        // to gather_us late, so latencies are overstated by at most that, never understated
        // (with --socket-time the kernel's stamp does not move).
        std::this_thread::sleep_for(std::chrono::microseconds(gather_us_));
      }
    }
  }

  const Target& target_;
  Behaviour& behaviour_;
  int ep_ = -1;
  std::vector<char> buf_;
  std::vector<PendingConn> pending_;  // before start(), or from this thread only
  std::vector<std::unique_ptr<Conn>> conns_;
  int handshaking_ = 0;
  int gather_us_ = 0;
  bool socket_time_ = false;
  int64_t realtime_minus_mono_us_ = 0;
  size_t closed_ = 0;
  std::atomic<size_t> opened_{0};
  std::atomic<size_t> failed_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::function<void(Worker&)>> tasks_;
};

// ------------------------------------------------------------------ options

struct Options {
  std::string mode;
  std::string host = "127.0.0.1";
  int port = 0;
  int threads = 1;
  bool tls = false;    // wss://
  std::string tls_ca;  // verify the server's certificate against this CA (empty: no verification)
  // buys
  std::string stream;
  std::string product = "bench";
  size_t connections = 256;
  size_t window = 16;
  double seconds = 10;
  bool batch = false;
  // fanout
  std::string viewer_path;
  std::string publisher_path;
  size_t viewers = 10000;
  int events = 20;
  int burst = 20;
  double rate = 0;          // sustained events/s (0: no sustained phase)
  double rate_seconds = 5;  // length of the sustained phase
  int server_pid = 0;       // report the server's CPU time per phase
  int second_port = 0;      // fanout: every other viewer connects here (a second node), 0: none
  int second_server_pid = 0;
  int gather_us = 500;      // fanout: pause after catching up (Worker::run), 0: none
  bool socket_time = false; // fanout: latency until the bytes reached the viewer's socket
};

Options parse_options(int argc, char** argv) {
  Options o;
  if (argc < 2) die("usage: loadgen buys|fanout --port P ... (see the top of loadgen.cpp)");
  o.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + a);
      return argv[++i];
    };
    if (a == "--host") o.host = value();
    else if (a == "--port") o.port = std::atoi(value().c_str());
    else if (a == "--threads") o.threads = std::max(1, std::atoi(value().c_str()));
    else if (a == "--stream") o.stream = value();
    else if (a == "--product") o.product = value();
    else if (a == "--connections") o.connections = std::strtoul(value().c_str(), nullptr, 10);
    else if (a == "--window") o.window = std::strtoul(value().c_str(), nullptr, 10);
    else if (a == "--seconds") o.seconds = std::atof(value().c_str());
    else if (a == "--batch") o.batch = true;
    else if (a == "--viewer-path") o.viewer_path = value();
    else if (a == "--publisher-path") o.publisher_path = value();
    else if (a == "--viewers") o.viewers = std::strtoul(value().c_str(), nullptr, 10);
    else if (a == "--events") o.events = std::atoi(value().c_str());
    else if (a == "--burst") o.burst = std::atoi(value().c_str());
    else if (a == "--rate") o.rate = std::atof(value().c_str());
    else if (a == "--rate-seconds") o.rate_seconds = std::atof(value().c_str());
    else if (a == "--server-pid") o.server_pid = std::atoi(value().c_str());
    else if (a == "--second-port") o.second_port = std::atoi(value().c_str());
    else if (a == "--second-server-pid") o.second_server_pid = std::atoi(value().c_str());
    else if (a == "--gather-us") o.gather_us = std::max(0, std::atoi(value().c_str()));
    else if (a == "--socket-time") o.socket_time = true;
    else if (a == "--tls") o.tls = true;
    else if (a == "--tls-ca") o.tls_ca = value();
    else die("unknown option " + a);
  }
  if (o.port <= 0) die("--port is required");
  if (!o.tls_ca.empty() && !o.tls) die("--tls-ca needs --tls");
  return o;
}

Target make_target(const Options& o) {
  Target t;
  t.addr.sin_family = AF_INET;
  t.addr.sin_port = htons(static_cast<uint16_t>(o.port));
  if (inet_pton(AF_INET, o.host.c_str(), &t.addr.sin_addr) != 1) die("--host must be an IPv4 address");
  t.host_header = o.host + ":" + std::to_string(o.port);
  if (o.tls) t.tls = std::make_shared<const TlsClient>(o.tls_ca, o.host);
  return t;
}

double percentile_ms(std::vector<int64_t>& us, double p) {
  if (us.empty()) return 0;
  const size_t k = std::min(us.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(us.size())));
  std::nth_element(us.begin(), us.begin() + static_cast<std::ptrdiff_t>(k), us.end());
  return static_cast<double>(us[k]) / 1000.0;
}

// CPU seconds (user + system, all threads) of process `pid` so far; 0 without --server-pid.
double process_cpu_seconds(int pid) {
  if (pid <= 0) return 0;
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (f == nullptr) return 0;
  char buf[1024];
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');  // the command name may hold spaces
  if (p == nullptr) return 0;
  unsigned long long utime = 0, stime = 0;
  // Fields after the name: state(3) ... utime(14) stime(15).
  if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return 0;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

template <typename Pred>
bool wait_for(Pred pred, double timeout_s) {
  const int64_t deadline = now_us() + static_cast<int64_t>(timeout_s * 1e6);
  while (!pred()) {
    if (now_us() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return true;
}

// Waits until count() reaches `target`, however long that takes while it moves: a benchmark
// on a loaded machine is slow, not broken. false if it stood still for `stall_s` (viewer
// threads at idle priority can stand still for long while other work holds both cores).
template <typename Count>
bool wait_until_reached(Count count, uint64_t target, double stall_s) {
  uint64_t seen = count();
  int64_t moved_at = now_us();
  while (seen < target) {
    std::this_thread::sleep_for(std::chrono::microseconds(500));
    const uint64_t now_seen = count();
    if (now_seen != seen) {
      seen = now_seen;
      moved_at = now_us();
    } else if (now_us() - moved_at > static_cast<int64_t>(stall_s * 1e6)) {
      return false;
    }
  }
  return true;
}

// Latency samples (µs), one bucket per recording thread so recording never contends.
class LatencyLog {
public:
  void add(int64_t us) {
    Bucket& b = mine();
    std::lock_guard lock(b.mutex);  // uncontended except while take() runs
    b.samples.push_back(us);
  }
  // Takes every sample recorded so far.
  std::vector<int64_t> take() {
    std::vector<int64_t> all;
    std::lock_guard lock(mutex_);
    for (auto& b : buckets_) {
      std::lock_guard bl(b->mutex);
      all.insert(all.end(), b->samples.begin(), b->samples.end());
      b->samples.clear();
    }
    return all;
  }

private:
  struct Bucket {
    std::mutex mutex;
    std::vector<int64_t> samples;
  };
  Bucket& mine() {
    thread_local std::vector<std::pair<const LatencyLog*, Bucket*>> cache;
    for (auto& [log, bucket] : cache)
      if (log == this) return *bucket;
    std::lock_guard lock(mutex_);
    buckets_.push_back(std::make_unique<Bucket>());
    buckets_.back()->samples.reserve(1 << 20);
    cache.emplace_back(this, buckets_.back().get());
    return *buckets_.back();
  }
  std::mutex mutex_;
  std::vector<std::unique_ptr<Bucket>> buckets_;
};

// ------------------------------------------------------------------ buys

// Each connection keeps `window` buys outstanding; every order answer releases the next one.
class Buys final : public Behaviour {
public:
  explicit Buys(const Options& o) : o_(o) {}

  std::vector<std::unique_ptr<Worker>> workers;
  std::atomic<bool> go{false};
  std::atomic<bool> stopping{false};
  std::atomic<size_t> welcomed{0};
  std::atomic<uint64_t> confirmed{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> inflight{0};
  LatencyLog latencies;

  void on_open(Conn&) override {}

  void on_text(Conn& c, std::string_view text) override {
    for_each_object(text, [&](std::string_view obj) {
      const std::string_view type = field(obj, "type");
      if (type == "welcome") {
        c.welcomed = true;
        welcomed.fetch_add(1, std::memory_order_release);
        return;
      }
      const bool ok = type == "order.confirmed";
      if (!ok && type != "order.rejected") return;
      const std::string_view re = field(obj, "re");
      const auto seq = static_cast<uint64_t>(to_int(re));
      if (re.empty() || seq >= c.sent_at.size() || c.sent_at[seq] == 0) return;
      const int64_t t = now_us();
      if (ok) {
        latencies.add(t - c.sent_at[seq]);
        confirmed.fetch_add(1, std::memory_order_relaxed);
      } else {
        rejected.fetch_add(1, std::memory_order_relaxed);
        if (rejected.load(std::memory_order_relaxed) < 5)
          std::fprintf(stderr, "loadgen: rejected: %.*s\n", static_cast<int>(obj.size()), obj.data());
      }
      c.sent_at[seq] = 0;
      c.inflight--;
      inflight.fetch_sub(1, std::memory_order_relaxed);
      if (!stopping.load(std::memory_order_relaxed)) send_buys(c, 1);
    });
  }

  // Sends `n` buys on `c` in one write (the connection's thread).
  void send_buys(Conn& c, size_t n) {
    std::string frames;
    char body[256];
    const int64_t t = now_us();
    for (size_t k = 0; k < n; ++k) {
      const uint64_t seq = c.next_seq++;
      const int len = std::snprintf(body, sizeof body,
                                    "{\"type\":\"buy\",\"id\":%llu,\"product_id\":\"%s\",\"qty\":1,"
                                    "\"idempotency_key\":\"k%zu-%llu\"}",
                                    static_cast<unsigned long long>(seq), o_.product.c_str(), c.index,
                                    static_cast<unsigned long long>(seq));
      append_text_frame(frames, std::string_view(body, static_cast<size_t>(len)));
      if (c.sent_at.size() <= seq) c.sent_at.resize(seq + 1, 0);
      c.sent_at[seq] = t;
    }
    c.inflight += n;
    inflight.fetch_add(n, std::memory_order_relaxed);
    owner(c).send(c, frames);
  }

  Worker& owner(const Conn& c) { return *workers[c.index % workers.size()]; }

private:
  const Options& o_;
};

int run_buys(const Options& o) {
  if (o.stream.empty()) die("--stream is required");
  const Target target = make_target(o);
  Buys b(o);
  for (int t = 0; t < o.threads; ++t) b.workers.push_back(std::make_unique<Worker>(target, b));
  for (size_t i = 0; i < o.connections; ++i) {
    // Each connection is a new buyer: the server gives it its identity (buyer_token in
    // welcome). Nothing here reconnects, so nothing needs to present one again (&buyer=).
    std::string path = "/ws?stream=" + o.stream;
    if (o.batch) path += "&batch=1";
    b.workers[i % b.workers.size()]->add(i, std::move(path));
  }
  for (auto& w : b.workers) w->start();
  if (!wait_until_reached([&] { return b.welcomed.load(); }, o.connections, 120))
    die("only " + std::to_string(b.welcomed.load()) + " of " + std::to_string(o.connections) + " buyers welcomed");

  const double cpu0 = cpu_seconds();
  const double server0 = process_cpu_seconds(o.server_pid);
  const int64_t t0 = now_us();
  for (auto& w : b.workers) {
    w->post([&b, &o](Worker& self) {
      for (auto& c : self.conns()) b.send_buys(*c, o.window);
    });
  }
  std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(o.seconds * 1e6)));
  b.stopping.store(true);
  const uint64_t at_stop = b.confirmed.load();
  const int64_t t_stop = now_us();
  const bool drained = wait_for([&] { return b.inflight.load() == 0; }, 30);
  const int64_t t_end = now_us();
  const double cpu = cpu_seconds() - cpu0;
  const double server_cpu = process_cpu_seconds(o.server_pid) - server0;
  for (auto& w : b.workers) w->stop();

  std::vector<int64_t> lat = b.latencies.take();
  const double elapsed = static_cast<double>(t_stop - t0) / 1e6;
  std::printf("mode=buys connections=%zu window=%zu threads=%d tls=%d batch=%d seconds=%.2f confirmed=%llu rejected=%llu "
              "buys_per_s=%.0f p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f drained=%d drain_ms=%.1f "
              "client_cpu_s=%.2f client_cpu_pct=%.0f server_cpu_s=%.2f server_cpu_us_per_buy=%.1f\n",
              o.connections, o.window, o.threads, o.tls ? 1 : 0, o.batch ? 1 : 0, elapsed,
              static_cast<unsigned long long>(b.confirmed.load()), static_cast<unsigned long long>(b.rejected.load()),
              static_cast<double>(at_stop) / elapsed, percentile_ms(lat, 50), percentile_ms(lat, 99),
              percentile_ms(lat, 99.9), percentile_ms(lat, 100), drained ? 1 : 0,
              static_cast<double>(t_end - t_stop) / 1000.0, cpu,
              100.0 * cpu / (static_cast<double>(t_end - t0) / 1e6), server_cpu,
              1e6 * server_cpu / static_cast<double>(std::max<uint64_t>(1, b.confirmed.load())));
  return 0;
}

// ------------------------------------------------------------------ fan-out

// Viewers record (receive time - send time) of every chat whose text is "T<send time in µs>".
class Fanout final : public Behaviour {
public:
  std::atomic<uint64_t> received{0};
  std::atomic<int64_t> last_us{0};
  std::atomic<uint64_t> stamps_after_read{0};  // --socket-time sanity check: stays 0

  void on_open(Conn&) override {}
  void on_text(Conn& c, std::string_view text) override {
    for_each_object(text, [&](std::string_view obj) {
      const std::string_view marker = field(obj, "text");
      if (marker.size() < 2 || marker[0] != 'T' || field(obj, "type") != "chat") return;
      const int64_t read_at = now_us();
      const int64_t t = c.arrived_us != 0 ? c.arrived_us : read_at;
      // A kernel stamp later than the read would mean the two clocks disagree.
      if (t > read_at + 1000) stamps_after_read.fetch_add(1, std::memory_order_relaxed);
      latencies.add(t - to_int(marker.substr(1)));
      int64_t prev = last_us.load(std::memory_order_relaxed);
      while (prev < t && !last_us.compare_exchange_weak(prev, t, std::memory_order_relaxed)) {
      }
      received.fetch_add(1, std::memory_order_release);
    });
  }

  LatencyLog latencies;
};

// The publisher: one blocking socket on the main thread; a helper thread reads and discards
// what the server sends it (replies, viewer counts). With TLS both threads use the one
// transport, under a lock; each reads or writes the socket itself.
class Publisher {
public:
  // A server busy with 10,000 TLS viewers on a loaded machine has closed the publisher's TLS
  // handshake (docs/benchmarks.md, "fan-out over TLS"): it is said and tried again, 5 times.
  Publisher(const Target& target, const std::string& path) {
    for (int attempt = 1;; ++attempt) {
      const std::string why = connect_and_upgrade(target, path);
      if (why.empty()) break;
      if (attempt == 5) die("publisher: " + why);
      std::fprintf(stderr, "loadgen: publisher: %s; trying again\n", why.c_str());
      ::close(fd_);
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    reader_ = std::thread([this] {
      char buf[65536];
      for (;;) {
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) {
          if (!closing_.load()) std::fprintf(stderr, "loadgen: the server closed the publisher's connection\n");
          return;
        }
        std::lock_guard lock(mutex_);
        std::string_view plain;
        if (!transport_->receive(std::string_view(buf, static_cast<size_t>(n)), plain)) {
          std::fprintf(stderr, "loadgen: the publisher's TLS session ended\n");
          return;
        }
        write_all(transport_->reply());
        answer_pings(plain);
      }
    });
  }
  ~Publisher() {
    closing_.store(true);
    ::shutdown(fd_, SHUT_RDWR);
    reader_.join();
    ::close(fd_);
  }
  // Sends a chat.send whose text is "T" + the send time (µs, monotonic); returns that time.
  int64_t send_chat() {
    const int64_t t = now_us();
    const std::string body = "{\"type\":\"chat.send\",\"text\":\"T" + std::to_string(t) + "\"}";
    std::string frame;
    append_text_frame(frame, body);
    std::lock_guard lock(mutex_);
    write_all(transport_->seal(frame));
    return t;
  }

private:
  // Discards what the server sends but answers its pings: harvest-server hangs up on a
  // connection that has not answered one for 60 s (kIdlePolicy), and a run on a loaded machine
  // (10,000 TLS viewers) outlasts that. Reader thread, under mutex_.
  void answer_pings(std::string_view plain) {
    frames_.append(plain);
    size_t pos = 0;
    while (frames_.size() - pos >= 2) {
      const auto* p = reinterpret_cast<const unsigned char*>(frames_.data() + pos);
      uint64_t len = p[1] & 0x7f;
      size_t header = 2;
      if (len == 126) {
        if (frames_.size() - pos < 4) break;
        len = (static_cast<uint64_t>(p[2]) << 8) | p[3];
        header = 4;
      } else if (len == 127) {
        if (frames_.size() - pos < 10) break;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
        header = 10;
      }
      if (frames_.size() - pos < header + len) break;
      if ((p[0] & 0x0f) == 0x9) {
        std::string pong;
        append_control_frame(pong, 0xA, std::string_view(frames_).substr(pos + header, static_cast<size_t>(len)));
        write_all(transport_->seal(pong));
      }
      pos += header + static_cast<size_t>(len);
    }
    frames_.erase(0, pos);
  }

  // Connects, does the TLS handshake (with TLS) and the upgrade; returns what went wrong, if anything.
  std::string connect_and_upgrade(const Target& target, const std::string& path) {
    transport_ = target.transport();
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&target.addr), sizeof target.addr) != 0)
      return std::string("cannot connect: ") + std::strerror(errno);
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    write_all(transport_->start());
    std::string head;
    while (!transport_->ready())  // the TLS handshake (plain: ready at once)
      if (!read_some(head)) return "the server closed the connection during the TLS handshake";
    write_all(transport_->seal(upgrade_request(target, path)));
    while (head.find("\r\n\r\n") == std::string::npos)
      if (!read_some(head)) return "the server closed the connection before the upgrade";
    if (head.rfind("HTTP/1.1 101", 0) != 0) die("publisher upgrade refused: " + head);
    return {};
  }
  // Before the reader starts: reads once, appends the websocket bytes that came; false if the
  // connection ended.
  bool read_some(std::string& into) {
    char buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    std::string_view plain;
    if (!transport_->receive(std::string_view(buf, static_cast<size_t>(n)), plain)) return false;
    into.append(plain);
    write_all(transport_->reply());
    return true;
  }
  void write_all(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) die(std::string("publisher write failed: ") + (n < 0 ? std::strerror(errno) : "nothing written"));
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }
  int fd_ = -1;
  std::unique_ptr<Transport> transport_;
  std::mutex mutex_;  // transport_ (the reader thread and send_chat)
  std::atomic<bool> closing_{false};
  std::string frames_;  // the reader's unparsed websocket bytes
  std::thread reader_;
};

int run_fanout(const Options& o) {
  if (o.viewer_path.empty() || o.publisher_path.empty()) die("--viewer-path and --publisher-path are required");
  const Target target = make_target(o);
  Options second_options = o;
  second_options.port = o.second_port;
  const Target second = make_target(second_options);
  Fanout f;
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < o.threads; ++t) workers.push_back(std::make_unique<Worker>(target, f, o.gather_us, o.socket_time));
  // Two nodes: as many viewer threads again for the second, and every other viewer on it.
  if (o.second_port > 0)
    for (int t = 0; t < o.threads; ++t) workers.push_back(std::make_unique<Worker>(second, f, o.gather_us, o.socket_time));
  for (size_t i = 0; i < o.viewers; ++i) workers[i % workers.size()]->add(i, o.viewer_path);
  // CPU of the server (both nodes when there are two).
  auto servers_cpu = [&] {
    return process_cpu_seconds(o.server_pid) + (o.second_server_pid > 0 ? process_cpu_seconds(o.second_server_pid) : 0);
  };
  const double connect_server0 = servers_cpu();
  const int64_t c0 = now_us();
  for (auto& w : workers) w->start();
  auto opened = [&] {
    size_t n = 0;
    for (auto& w : workers) n += w->opened();
    return n;
  };
  auto failed = [&] {
    size_t n = 0;
    for (auto& w : workers) n += w->failed();
    return n;
  };
  if (!wait_until_reached([&] { return opened() + failed(); }, o.viewers, 120) || failed() > 0)
    die("viewers connected: " + std::to_string(opened()) + ", failed: " + std::to_string(failed()));
  const double connect_s = static_cast<double>(now_us() - c0) / 1e6;
  const double connect_server_cpu = servers_cpu() - connect_server0;
  if (o.socket_time)
    for (auto& w : workers) w->lower_priority();
  Publisher pub(target, o.publisher_path);
  const auto n = static_cast<uint64_t>(o.viewers);

  // Warm-up: welcome and viewer-count traffic ends, every viewer has seen one chat.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  pub.send_chat();
  if (!wait_until_reached([&] { return f.received.load(); }, n, 120)) die("warm-up event not delivered to everyone");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  f.latencies.take();
  f.received.store(0);

  const double cpu0 = cpu_seconds();
  const double server0 = servers_cpu();
  // Single events, one at a time: delivery latency, and how long until the last viewer had it.
  std::vector<int64_t> single;
  std::vector<int64_t> all_delivered;
  for (int e = 0; e < o.events; ++e) {
    f.received.store(0);
    const int64_t t0 = pub.send_chat();
    if (!wait_until_reached([&] { return f.received.load(std::memory_order_acquire); }, n, 120))
      die("event " + std::to_string(e) + " reached only " + std::to_string(f.received.load()) + " viewers");
    all_delivered.push_back(f.last_us.load() - t0);
    auto l = f.latencies.take();
    single.insert(single.end(), l.begin(), l.end());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  // A burst of events back to back: delivered messages per second.
  f.received.store(0);
  const int64_t b0 = now_us();
  for (int e = 0; e < o.burst; ++e) pub.send_chat();
  const uint64_t burst_total = n * static_cast<uint64_t>(o.burst);
  const bool burst_done = wait_until_reached([&] { return f.received.load(std::memory_order_acquire); }, burst_total, 120);
  const int64_t b_end = f.last_us.load();
  const uint64_t burst_got = f.received.load();
  auto burst_lat = f.latencies.take();
  const double server_cpu = servers_cpu() - server0;
  const double delivered = static_cast<double>(n) * o.events + static_cast<double>(burst_got);

  // Optionally: a sustained rate of events (e.g. 20/s), latency under steady load.
  std::vector<int64_t> rate_lat;
  uint64_t rate_sent = 0;
  uint64_t rate_got = 0;
  if (o.rate > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    f.latencies.take();
    f.received.store(0);
    const int64_t period = static_cast<int64_t>(1e6 / o.rate);
    const int64_t r0 = now_us();
    for (int64_t next = r0; next < r0 + static_cast<int64_t>(o.rate_seconds * 1e6); next += period) {
      while (now_us() < next) std::this_thread::sleep_for(std::chrono::microseconds(200));
      pub.send_chat();
      rate_sent++;
    }
    wait_until_reached([&] { return f.received.load(); }, rate_sent * n, 120);
    rate_got = f.received.load();
    rate_lat = f.latencies.take();
  }
  const double cpu = cpu_seconds() - cpu0;
  for (auto& w : workers) w->stop();

  const double burst_s = static_cast<double>(b_end - b0) / 1e6;
  std::printf("mode=fanout viewers=%zu threads=%d tls=%d gather_us=%d socket_time=%d connect_s=%.2f "
              "server_cpu_us_per_connect=%.0f events=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f "
              "all_delivered_p50_ms=%.1f all_delivered_max_ms=%.1f single_msgs_per_s=%.0f "
              "burst=%d burst_done=%d burst_delivered=%llu burst_msgs_per_s=%.0f burst_p50_ms=%.1f burst_p99_ms=%.1f",
              o.viewers, o.threads, o.tls ? 1 : 0, o.gather_us, o.socket_time ? 1 : 0, connect_s,
              1e6 * connect_server_cpu / static_cast<double>(std::max<size_t>(1, o.viewers)), o.events, percentile_ms(single, 50), percentile_ms(single, 99),
              percentile_ms(single, 100), percentile_ms(all_delivered, 50), percentile_ms(all_delivered, 100),
              static_cast<double>(n) / (percentile_ms(all_delivered, 50) / 1000.0), o.burst, burst_done ? 1 : 0,
              static_cast<unsigned long long>(burst_got), static_cast<double>(burst_got) / burst_s,
              percentile_ms(burst_lat, 50), percentile_ms(burst_lat, 99));
  if (o.rate > 0)
    std::printf(" rate=%.0f rate_events=%llu rate_delivered_pct=%.2f rate_p50_ms=%.1f rate_p99_ms=%.1f", o.rate,
                static_cast<unsigned long long>(rate_sent),
                100.0 * static_cast<double>(rate_got) / static_cast<double>(rate_sent * n), percentile_ms(rate_lat, 50),
                percentile_ms(rate_lat, 99));
  std::printf(" stamps_after_read=%llu client_cpu_s=%.2f server_cpu_s=%.2f server_cpu_us_per_msg=%.2f\n",
              static_cast<unsigned long long>(f.stamps_after_read.load()), cpu, server_cpu,
              1e6 * server_cpu / delivered);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // sends use MSG_NOSIGNAL already; this covers anything else
  const Options o = parse_options(argc, argv);
  if (o.mode == "buys") return run_buys(o);
  if (o.mode == "fanout") return run_fanout(o);
  die("unknown mode " + o.mode + " (buys or fanout)");
}
