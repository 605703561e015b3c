#include "media/rtmp/client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "media/rtmp/amf0.h"

namespace harvest::media::rtmp {
namespace {

int connect_to(const std::string& host, int port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || res == nullptr) return -1;
  const int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
      ::close(fd);
      freeaddrinfo(res);
      return -1;
    }
  }
  freeaddrinfo(res);
  return fd;
}

const Amf0Value* info_object(const std::vector<Amf0Value>& v) {
  for (size_t i = 2; i < v.size(); ++i)
    if (v[i].is_object_like() && v[i].get("code") != nullptr) return &v[i];
  return nullptr;
}

}  // namespace

RtmpPublisher::~RtmpPublisher() { close(); }

void RtmpPublisher::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void RtmpPublisher::interrupt() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

bool RtmpPublisher::write_all(std::string_view bytes) {
  while (!bytes.empty() && fd_ >= 0) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return fd_ >= 0;
}

bool RtmpPublisher::send_raw(std::string_view bytes) { return write_all(bytes); }

bool RtmpPublisher::read_messages(std::chrono::milliseconds wait, std::vector<RtmpMessage>& out) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  uint8_t buf[16384];
  while (fd_ >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0))) <= 0) return true;
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      peer_closed_ = true;
      return false;
    }
    if (parser_.feed({buf, static_cast<size_t>(n)}, out) != ChunkParser::Error::none) return false;
    if (!out.empty()) return true;
  }
  return false;
}

RtmpPublisher::Result RtmpPublisher::publish(const std::string& host, int port, const std::string& app,
                                             const std::string& key, std::chrono::milliseconds timeout) {
  Result r;
  close();
  parser_ = ChunkParser();
  peer_closed_ = false;
  fd_ = connect_to(host, port, timeout);
  if (fd_ < 0) {
    r.error = "cannot connect to " + host + ":" + std::to_string(port);
    return r;
  }
  // Handshake.
  if (!write_all(client_handshake_c0c1())) {
    r.error = "handshake write failed";
    return r;
  }
  std::string s;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (s.size() < kServerHandshakeBytes) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      r.error = "handshake timed out";
      return r;
    }
    const ssize_t n = ::recv(fd_, buf, std::min(sizeof buf, kServerHandshakeBytes - s.size()), 0);
    if (n <= 0) {
      r.error = "server closed during the handshake";
      return r;
    }
    s.append(buf, static_cast<size_t>(n));
  }
  std::string out = client_handshake_c2(s);
  // Our chunk size, then connect.
  std::string size_body("\0\0\x10\0", 4);  // 4096
  write_message(out, 2, kSetChunkSize, 0, 0, size_body, 128);
  const std::string tc_url = "rtmp://" + host + ":" + std::to_string(port) + "/" + app;
  write_message(out, 3, kCommandAmf0, 0, 0,
                amf0_encode_all({Amf0Value::string("connect"), Amf0Value::number(1),
                                 Amf0Value::object({{"app", Amf0Value::string(app)},
                                                    {"type", Amf0Value::string("nonprivate")},
                                                    {"flashVer", Amf0Value::string("FMLE/3.0 (compatible; harvest)")},
                                                    {"tcUrl", Amf0Value::string(tc_url)}})}),
                out_chunk_size_);
  if (!write_all(out)) {
    r.error = "connect write failed";
    return r;
  }
  // Wait for each answer in turn: connect (1), createStream (4), then publish's onStatus.
  auto await = [&](const char* want_name, double txn, std::vector<Amf0Value>& answer) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      std::vector<RtmpMessage> msgs;
      const bool alive = read_messages(
          std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()), msgs);
      for (auto& m : msgs) {
        if (m.type != kCommandAmf0) continue;
        auto v = amf0_decode_all({reinterpret_cast<const uint8_t*>(m.payload.data()), m.payload.size()});
        if (!v || v->empty() || !(*v)[0].is_string()) continue;
        const std::string& name = (*v)[0].as_string();
        if ((name == "_result" || name == "_error") && v->size() > 1 && (*v)[1].as_number() == txn) {
          answer = std::move(*v);
          return true;
        }
        if (name == "onStatus" && std::string(want_name) == "onStatus") {
          answer = std::move(*v);
          return true;
        }
      }
      if (!alive) return false;
    }
    return false;
  };
  std::vector<Amf0Value> answer;
  if (!await("_result", 1, answer)) {
    r.error = peer_closed_ ? "server closed after connect" : "no answer to connect";
    return r;
  }
  if (answer[0].as_string() == "_error") {
    if (const Amf0Value* info = info_object(answer)) {
      r.code = info->get("code")->as_string();
      if (const auto* d = info->get("description")) r.description = d->as_string();
    }
    return r;
  }
  out.clear();
  write_message(out, 3, kCommandAmf0, 0, 0,
                amf0_encode_all({Amf0Value::string("releaseStream"), Amf0Value::number(2), Amf0Value::null(),
                                 Amf0Value::string(key)}),
                out_chunk_size_);
  write_message(out, 3, kCommandAmf0, 0, 0,
                amf0_encode_all({Amf0Value::string("FCPublish"), Amf0Value::number(3), Amf0Value::null(),
                                 Amf0Value::string(key)}),
                out_chunk_size_);
  write_message(out, 3, kCommandAmf0, 0, 0,
                amf0_encode_all({Amf0Value::string("createStream"), Amf0Value::number(4), Amf0Value::null()}),
                out_chunk_size_);
  if (!write_all(out) || !await("_result", 4, answer)) {
    r.error = "no answer to createStream";
    return r;
  }
  if (answer.size() > 3 && answer[3].is_number()) stream_id_ = static_cast<uint32_t>(answer[3].as_number());
  out.clear();
  write_message(out, 8, kCommandAmf0, stream_id_, 0,
                amf0_encode_all({Amf0Value::string("publish"), Amf0Value::number(5), Amf0Value::null(),
                                 Amf0Value::string(key), Amf0Value::string("live")}),
                out_chunk_size_);
  if (!write_all(out) || !await("onStatus", 0, answer)) {
    r.error = peer_closed_ ? "server closed after publish" : "no answer to publish";
    return r;
  }
  if (const Amf0Value* info = info_object(answer)) {
    r.code = info->get("code")->as_string();
    if (const auto* d = info->get("description"); d != nullptr && d->is_string()) r.description = d->as_string();
  }
  r.ok = r.code == "NetStream.Publish.Start";
  return r;
}

bool RtmpPublisher::send_tag(uint8_t type, uint32_t timestamp_ms, std::string_view body) {
  std::string out;
  if (type == kDataAmf0) {
    std::string framed = amf0_encode_all({Amf0Value::string("@setDataFrame")});
    framed.append(body);
    write_message(out, 5, kDataAmf0, stream_id_, timestamp_ms, framed, out_chunk_size_);
  } else {
    write_message(out, type == kAudio ? 4 : 6, type, stream_id_, timestamp_ms, body, out_chunk_size_);
  }
  return write_all(out);
}

std::string RtmpPublisher::read_status(std::chrono::milliseconds wait, std::string* description) {
  std::string code;
  const auto until = std::chrono::steady_clock::now() + wait;
  while (fd_ >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    std::vector<RtmpMessage> msgs;
    const bool alive = read_messages(left, msgs);
    for (auto& m : msgs) {
      if (m.type != kCommandAmf0) continue;
      auto v = amf0_decode_all({reinterpret_cast<const uint8_t*>(m.payload.data()), m.payload.size()});
      if (!v || v->empty() || !(*v)[0].is_string() || (*v)[0].as_string() != "onStatus") continue;
      if (const Amf0Value* info = info_object(*v)) {
        code = info->get("code")->as_string();
        if (const auto* d = info->get("description"); description != nullptr && d != nullptr && d->is_string())
          *description = d->as_string();
      }
    }
    if (!alive || !code.empty()) break;
  }
  return code;
}

}  // namespace harvest::media::rtmp
