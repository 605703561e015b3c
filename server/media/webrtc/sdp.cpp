#include "media/webrtc/sdp.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace harvest::media::webrtc {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::optional<int> to_int(std::string_view s) {
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Splits at the first `sep`: ("a:b c", ':') -> {"a", "b c"}; no `sep`: {s, ""}.
std::pair<std::string_view, std::string_view> split_once(std::string_view s, char sep) {
  const size_t at = s.find(sep);
  if (at == std::string_view::npos) return {s, {}};
  return {s.substr(0, at), s.substr(at + 1)};
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    s = trim(s);
    const size_t end = s.find(' ');
    out.push_back(s.substr(0, end));
    if (end == std::string_view::npos) break;
    s.remove_prefix(end + 1);
  }
  return out;
}

OfferedCodec* codec_of(MediaSection& m, int payload_type) {
  for (auto& c : m.codecs)
    if (c.payload_type == payload_type) return &c;
  return nullptr;
}

// `m=video 9 UDP/TLS/RTP/SAVPF 96 97 ...`: the payload types become codecs named by rtpmap.
std::variant<MediaSection, std::string> parse_media_line(std::string_view value) {
  const auto w = words(value);
  if (w.size() < 3) return std::string("a media line (m=) needs a type, a port and a protocol");
  MediaSection m;
  m.kind = std::string(w[0]);
  const auto port = to_int(split_once(w[1], '/').first);
  if (!port || *port < 0 || *port > 65535) return std::string("a media line (m=) has no valid port");
  m.rejected = *port == 0;
  m.direction = "sendrecv";
  for (size_t i = 3; i < w.size(); ++i) {
    const auto pt = to_int(w[i]);
    if (pt && *pt >= 0 && *pt <= 127 && codec_of(m, *pt) == nullptr) m.codecs.push_back({*pt, {}, 0, {}});
  }
  return m;
}

// One `a=` attribute, at session level (`m` null) or in a media section.
void apply_attribute(std::string_view attr, SdpOffer& offer, MediaSection* m) {
  const auto [name, value] = split_once(attr, ':');
  if (name == "group" && m == nullptr) {
    const auto w = words(value);
    if (!w.empty() && w[0] == "BUNDLE")
      for (size_t i = 1; i < w.size(); ++i) offer.bundled_mids.emplace_back(w[i]);
  }
  if (name == "ice-ufrag" && offer.ice_ufrag.empty()) offer.ice_ufrag = std::string(trim(value));
  else if (name == "ice-pwd" && offer.ice_pwd.empty()) offer.ice_pwd = std::string(trim(value));
  else if (name == "fingerprint" && offer.fingerprint.empty()) offer.fingerprint = std::string(trim(value));
  if (m == nullptr) return;
  if (name == "mid") {
    m->mid = std::string(trim(value));
  } else if (name == "sendonly" || name == "recvonly" || name == "sendrecv" || name == "inactive") {
    m->direction = std::string(name);
  } else if (name == "rtpmap") {
    // rtpmap:96 H264/90000 (audio adds /channels)
    const auto [pt_text, encoding] = split_once(trim(value), ' ');
    const auto pt = to_int(pt_text);
    OfferedCodec* c = pt ? codec_of(*m, *pt) : nullptr;
    if (c == nullptr) return;
    const auto [codec_name, rest] = split_once(trim(encoding), '/');
    c->name = std::string(codec_name);
    c->clock_rate = to_int(split_once(rest, '/').first).value_or(0);
  } else if (name == "fmtp") {
    const auto [pt_text, params] = split_once(trim(value), ' ');
    const auto pt = to_int(pt_text);
    if (OfferedCodec* c = pt ? codec_of(*m, *pt) : nullptr) c->fmtp = std::string(trim(params));
  } else if (name == "extmap") {
    // extmap:13 urn:3gpp:video-orientation (the id may carry a direction: 13/sendonly)
    const auto [id_text, uri] = split_once(trim(value), ' ');
    const auto id = to_int(split_once(id_text, '/').first);
    if (id && trim(uri) == "urn:3gpp:video-orientation") m->orientation_extension_id = *id;
    if (id && trim(uri) == kTransportCcUri) m->transport_cc_extension_id = *id;
  }
}

bool sends(const MediaSection& m) { return !m.rejected && (m.direction == "sendonly" || m.direction == "sendrecv"); }

// H.264 profile_idc 0x42 is Baseline (constrained or not): what phones' hardware encoders send
// and what every HLS player decodes.
bool is_baseline(const OfferedCodec& c) {
  const std::string id = fmtp_value(c.fmtp, "profile-level-id");
  return id.size() == 6 && (id.compare(0, 2, "42") == 0);
}

bool packetization_mode_1(const OfferedCodec& c) { return fmtp_value(c.fmtp, "packetization-mode") == "1"; }

}  // namespace

bool equal_codec_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string fmtp_value(std::string_view fmtp, std::string_view key) {
  while (!fmtp.empty()) {
    auto [param, rest] = split_once(fmtp, ';');
    const auto [k, v] = split_once(trim(param), '=');
    if (k == key) return std::string(trim(v));
    fmtp = rest;
  }
  return {};
}

std::variant<SdpOffer, std::string> parse_offer(std::string_view text) {
  if (text.size() > kMaxOfferBytes) return std::string("the offer is larger than 64 KiB");
  if (text.find('\0') != std::string_view::npos) return std::string("the offer is not text");
  SdpOffer offer;
  bool first = true;
  while (!text.empty()) {
    auto [raw, rest] = split_once(text, '\n');
    text = rest;
    const std::string_view line = trim(raw);
    if (line.empty()) continue;
    if (line.size() < 2 || line[1] != '=') return std::string("a line is not of the form x=value: not SDP");
    const char type = line[0];
    const std::string_view value = line.substr(2);
    if (first) {
      if (type != 'v' || trim(value) != "0") return std::string("an offer starts with v=0: not SDP");
      first = false;
      continue;
    }
    if (type == 'm') {
      auto m = parse_media_line(value);
      if (auto* err = std::get_if<std::string>(&m)) return *err;
      offer.media.push_back(std::move(std::get<MediaSection>(m)));
    } else if (type == 'a') {
      apply_attribute(value, offer, offer.media.empty() ? nullptr : &offer.media.back());
    }
  }
  if (first) return std::string("the offer is empty");
  // Port 0 rejects a section, except one bundled with others (RFC 8843 §7.2: GStreamer's and
  // some browsers' offers give every bundled section but the first port 0).
  for (auto& m : offer.media)
    if (m.rejected && !m.mid.empty() &&
        std::find(offer.bundled_mids.begin(), offer.bundled_mids.end(), m.mid) != offer.bundled_mids.end())
      m.rejected = false;
  if (offer.media.empty()) return std::string("the offer has no media section (m=)");
  if (offer.ice_ufrag.empty() || offer.ice_pwd.empty()) return std::string("the offer has no ICE credentials");
  if (offer.fingerprint.empty()) return std::string("the offer has no DTLS fingerprint");
  return offer;
}

bool IngestCodecs::video_is_h264() const { return video && equal_codec_name(video->name, "H264"); }

IngestCodecs choose_ingest_codecs(const SdpOffer& offer) {
  IngestCodecs out;
  for (const auto& m : offer.media) {
    if (!sends(m)) continue;
    if (m.kind == "video" && !out.video) {
      const OfferedCodec* best = nullptr;
      int best_rank = 0;
      for (const auto& c : m.codecs) {
        int rank = 0;
        if (equal_codec_name(c.name, "H264") && packetization_mode_1(c)) rank = is_baseline(c) ? 3 : 2;
        else if (equal_codec_name(c.name, "VP8")) rank = 1;
        if (rank > best_rank) best = &c, best_rank = rank;
      }
      if (best != nullptr) out.video = *best;
    } else if (m.kind == "audio" && !out.audio) {
      for (const auto& c : m.codecs)
        if (equal_codec_name(c.name, "opus")) {
          out.audio = c;
          break;
        }
    }
  }
  return out;
}

PlaybackCodecs choose_playback_codecs(const SdpOffer& offer) {
  PlaybackCodecs out;
  for (const auto& m : offer.media) {
    if (m.rejected || !(m.direction == "recvonly" || m.direction == "sendrecv")) continue;
    if (m.kind == "video" && !out.video) {
      const OfferedCodec* best = nullptr;
      int best_rank = 0;
      for (const auto& c : m.codecs) {
        if (!equal_codec_name(c.name, "H264") || !packetization_mode_1(c) || c.clock_rate != 90000) continue;
        const std::string id = fmtp_value(c.fmtp, "profile-level-id");
        const int rank = id.size() == 6 && id.compare(0, 4, "42e0") == 0 ? 3 : is_baseline(c) ? 2 : 1;
        if (rank > best_rank) best = &c, best_rank = rank;
      }
      if (best != nullptr) out.video = *best, out.video_mid = m.mid;
    } else if (m.kind == "audio" && !out.audio) {
      for (const auto& c : m.codecs)
        if (equal_codec_name(c.name, "opus") && c.clock_rate == 48000) {
          out.audio = c;
          out.audio_mid = m.mid;
          break;
        }
    }
  }
  return out;
}

std::string accept_transport_cc(std::string_view answer, const SdpOffer& offer) {
  std::string out;
  out.reserve(answer.size() + 256);
  while (!answer.empty()) {
    auto [raw, rest] = split_once(answer, '\n');
    const bool had_newline = raw.size() < answer.size();
    answer = rest;
    out += raw;
    if (had_newline) out += '\n';
    const std::string_view line = trim(raw);
    if (line.rfind("a=mid:", 0) != 0) continue;
    const std::string_view mid = trim(line.substr(6));
    for (const auto& m : offer.media) {
      // Video only: congestion control is about the video's rate (Chromium leaves audio out of
      // its transport-wide estimate unless a field trial says otherwise).
      if (m.mid != mid || m.kind != "video" || !m.transport_cc_extension_id) continue;
      const std::string eol = !raw.empty() && raw.back() == '\r' ? "\r\n" : "\n";
      if (!had_newline) out += eol;
      out += "a=extmap:" + std::to_string(*m.transport_cc_extension_id) + " " + std::string(kTransportCcUri) + eol;
      break;
    }
  }
  return out;
}

std::string advertise_address(std::string_view sdp, std::string_view public_address) {
  std::string out;
  out.reserve(sdp.size() + 64);
  while (!sdp.empty()) {
    auto [raw, rest] = split_once(sdp, '\n');
    const bool had_newline = raw.size() < sdp.size();
    sdp = rest;
    const std::string_view line = trim(raw);
    // a=candidate:<foundation> <component> <transport> <priority> <address> <port> typ host ...
    auto w = words(line);
    if (line.rfind("a=candidate:", 0) == 0 && w.size() >= 8 && w[6] == "typ" && w[7] == "host") {
      for (size_t i = 0; i < w.size(); ++i) {
        if (i > 0) out += ' ';
        out += i == 4 ? public_address : w[i];
      }
      if (raw.size() > line.size() && raw.back() == '\r') out += '\r';
    } else {
      out += raw;
    }
    if (had_newline) out += '\n';
  }
  return out;
}

}  // namespace harvest::media::webrtc
