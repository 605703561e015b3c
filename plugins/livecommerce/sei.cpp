#include "sei.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace harvest::livecommerce {
namespace {

constexpr int kNalSei = 6;
constexpr std::uint8_t kSeiHeader = 0x06;  // forbidden_zero_bit 0, nal_ref_idc 0, type 6
constexpr unsigned kUserDataUnregistered = 5;
constexpr std::size_t kMaxCueJson = 1024;

bool is_vcl(int type) { return type >= 1 && type <= 5; }

// ff-coded payloadType / payloadSize (H.264 7.3.2.3.1).
void put_sei_number(std::vector<std::uint8_t>& out, std::size_t value) {
  while (value >= 255) {
    out.push_back(0xff);
    value -= 255;
  }
  out.push_back(static_cast<std::uint8_t>(value));
}

std::optional<std::size_t> get_sei_number(std::span<const std::uint8_t> rbsp, std::size_t& pos) {
  std::size_t value = 0;
  while (pos < rbsp.size()) {
    const std::uint8_t byte = rbsp[pos++];
    value += byte;
    if (byte != 0xff) return value;
  }
  return std::nullopt;
}

std::optional<std::size_t> start_code_at(std::span<const std::uint8_t> au, std::size_t from) {
  for (std::size_t i = from; i + 3 <= au.size(); ++i) {
    if (au[i + 2] > 1) {
      i += 2;  // neither of the next two positions can start a start code ending here
      continue;
    }
    if (au[i] == 0 && au[i + 1] == 0 && au[i + 2] == 1) return i;
  }
  return std::nullopt;
}

std::vector<NalUnit> split_byte_stream(std::span<const std::uint8_t> au) {
  std::vector<NalUnit> units;
  auto code = start_code_at(au, 0);
  while (code) {
    const std::size_t begin = *code + 3;
    auto next = start_code_at(au, begin);
    std::size_t end = next ? *next : au.size();
    // Zero bytes before the next start code are trailing_zero_8bits / a 4-byte code.
    std::size_t payload_end = end;
    while (payload_end > begin && au[payload_end - 1] == 0) --payload_end;
    const std::size_t prefix = (*code > 0 && au[*code - 1] == 0) ? *code - 1 : *code;
    if (payload_end > begin) units.push_back(NalUnit{prefix, begin, payload_end - begin});
    code = next;
  }
  return units;
}

std::vector<NalUnit> split_avc(std::span<const std::uint8_t> au, int length_size) {
  std::vector<NalUnit> units;
  const auto n = static_cast<std::size_t>(length_size);
  std::size_t pos = 0;
  while (pos + n <= au.size()) {
    std::size_t len = 0;
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | au[pos + i];
    if (len == 0 || len > au.size() - pos - n) break;
    units.push_back(NalUnit{pos, pos + n, len});
    pos += n + len;
  }
  return units;
}

}  // namespace

std::string cue_to_json(const Cue& cue) {
  // ordered_json keeps the documented key order: product_id first.
  nlohmann::ordered_json body;
  body["product_id"] = cue.product_id;
  body["action"] = cue.action;
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::optional<Cue> cue_from_json(std::string_view text) {
  auto doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  auto id = doc.find("product_id");
  auto action = doc.find("action");
  if (id == doc.end() || action == doc.end() || !id->is_string() || !action->is_string()) return std::nullopt;
  return Cue{id->get<std::string>(), action->get<std::string>()};
}

std::optional<int> avcc_nal_length_size(std::span<const std::uint8_t> codec_data) {
  // configurationVersion(1) profile(1) compat(1) level(1) 111111 lengthSizeMinusOne(2)
  if (codec_data.size() < 7 || codec_data[0] != 1) return std::nullopt;
  const int size = (codec_data[4] & 0x03) + 1;
  if (size == 3) return std::nullopt;  // not allowed by ISO/IEC 14496-15
  return size;
}

std::vector<NalUnit> split_nal_units(std::span<const std::uint8_t> au, AccessUnitFormat format) {
  if (format.framing == H264Framing::kAvc) return split_avc(au, format.nal_length_size);
  return split_byte_stream(au);
}

std::vector<std::uint8_t> escape_rbsp(std::span<const std::uint8_t> rbsp) {
  std::vector<std::uint8_t> out;
  out.reserve(rbsp.size() + rbsp.size() / 64 + 4);
  int zeros = 0;
  for (std::uint8_t byte : rbsp) {
    if (zeros >= 2 && byte <= 3) {
      out.push_back(3);
      zeros = 0;
    }
    out.push_back(byte);
    zeros = byte == 0 ? zeros + 1 : 0;
  }
  return out;
}

std::vector<std::uint8_t> unescape_rbsp(std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> out;
  out.reserve(payload.size());
  int zeros = 0;
  for (std::uint8_t byte : payload) {
    if (zeros >= 2 && byte == 3) {
      zeros = 0;
      continue;
    }
    out.push_back(byte);
    zeros = byte == 0 ? zeros + 1 : 0;
  }
  return out;
}

std::vector<std::uint8_t> build_cue_sei_nal(const Cue& cue) {
  const std::string body = cue_to_json(cue);
  std::vector<std::uint8_t> rbsp;
  put_sei_number(rbsp, kUserDataUnregistered);
  put_sei_number(rbsp, kCueUuid.size() + body.size());
  rbsp.insert(rbsp.end(), kCueUuid.begin(), kCueUuid.end());
  rbsp.insert(rbsp.end(), body.begin(), body.end());
  rbsp.push_back(0x80);  // rbsp_trailing_bits
  std::vector<std::uint8_t> nal{kSeiHeader};
  const auto escaped = escape_rbsp(rbsp);
  nal.insert(nal.end(), escaped.begin(), escaped.end());
  return nal;
}

std::vector<Cue> parse_cue_sei_nal(std::span<const std::uint8_t> nal) {
  std::vector<Cue> cues;
  if (nal.empty() || (nal[0] & 0x1f) != kNalSei) return cues;
  const auto rbsp = unescape_rbsp(nal.subspan(1));
  std::size_t pos = 0;
  // more_rbsp_data(): stop at the trailing 0x80 byte.
  while (pos + 1 < rbsp.size()) {
    const auto type = get_sei_number(rbsp, pos);
    const auto size = get_sei_number(rbsp, pos);
    if (!type || !size || *size > rbsp.size() - pos) break;
    const auto payload = std::span<const std::uint8_t>(rbsp).subspan(pos, *size);
    pos += *size;
    if (*type != kUserDataUnregistered || payload.size() < kCueUuid.size()) continue;
    if (!std::equal(kCueUuid.begin(), kCueUuid.end(), payload.begin())) continue;
    const auto body = payload.subspan(kCueUuid.size());
    if (body.size() > kMaxCueJson) continue;
    if (auto cue = cue_from_json(std::string_view(reinterpret_cast<const char*>(body.data()), body.size()))) {
      cues.push_back(std::move(*cue));
    }
  }
  return cues;
}

std::optional<std::vector<std::uint8_t>> insert_sei(std::span<const std::uint8_t> au, AccessUnitFormat format,
                                                    std::span<const std::uint8_t> sei_nal) {
  std::vector<std::uint8_t> framed;
  if (format.framing == H264Framing::kByteStream) {
    framed = {0, 0, 0, 1};
  } else {
    const auto n = static_cast<std::size_t>(format.nal_length_size);
    if (n < 1 || n > 4 || (n < 4 && sei_nal.size() >= (std::size_t{1} << (8 * n)))) return std::nullopt;
    for (std::size_t i = 0; i < n; ++i) {
      framed.push_back(static_cast<std::uint8_t>(sei_nal.size() >> (8 * (n - 1 - i))));
    }
  }
  framed.insert(framed.end(), sei_nal.begin(), sei_nal.end());

  std::size_t at = au.size();
  for (const auto& unit : split_nal_units(au, format)) {
    if (is_vcl(au[unit.offset] & 0x1f)) {
      at = unit.prefix_offset;
      break;
    }
  }
  std::vector<std::uint8_t> out;
  out.reserve(au.size() + framed.size());
  out.insert(out.end(), au.begin(), au.begin() + static_cast<std::ptrdiff_t>(at));
  out.insert(out.end(), framed.begin(), framed.end());
  out.insert(out.end(), au.begin() + static_cast<std::ptrdiff_t>(at), au.end());
  return out;
}

std::vector<Cue> find_cues(std::span<const std::uint8_t> au, AccessUnitFormat format) {
  std::vector<Cue> cues;
  for (const auto& unit : split_nal_units(au, format)) {
    auto found = parse_cue_sei_nal(unit.bytes(au));
    cues.insert(cues.end(), found.begin(), found.end());
  }
  return cues;
}

}  // namespace harvest::livecommerce
