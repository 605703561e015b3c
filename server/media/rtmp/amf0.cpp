#include "media/rtmp/amf0.h"

#include <bit>
#include <cstring>

namespace harvest::media::rtmp {
namespace {

enum Marker : uint8_t {
  kNumber = 0x00,
  kBoolean = 0x01,
  kString = 0x02,
  kObject = 0x03,
  kNull = 0x05,
  kUndefined = 0x06,
  kReference = 0x07,
  kEcmaArray = 0x08,
  kObjectEnd = 0x09,
  kStrictArray = 0x0a,
  kDate = 0x0b,
  kLongString = 0x0c,
  kUnsupported = 0x0d,
  kXmlDocument = 0x0f,
};

class Reader {
public:
  Reader(std::span<const uint8_t> bytes, Amf0Limits limits) : bytes_(bytes), limits_(limits) {}

  bool at_end() const { return pos_ >= bytes_.size(); }

  bool value(Amf0Value& out, int depth) {
    if (depth > limits_.max_depth) return false;
    uint8_t marker = 0;
    if (!u8(marker)) return false;
    switch (marker) {
      case kNumber: {
        double d = 0;
        if (!f64(d)) return false;
        out = Amf0Value::number(d);
        return true;
      }
      case kBoolean: {
        uint8_t b = 0;
        if (!u8(b)) return false;
        out = Amf0Value::boolean(b != 0);
        return true;
      }
      case kString:
      case kXmlDocument: {
        std::string s;
        if (marker == kString ? !short_string(s) : !long_string(s)) return false;
        out = Amf0Value::string(std::move(s));
        return true;
      }
      case kLongString: {
        std::string s;
        if (!long_string(s)) return false;
        out = Amf0Value::string(std::move(s));
        return true;
      }
      case kNull:
        out = Amf0Value::null();
        return true;
      case kUndefined:
      case kUnsupported:
        out = Amf0Value::undefined();
        return true;
      case kReference: {
        // References point at earlier complex values; RTMP peers do not send them. Read and ignore.
        uint16_t ref = 0;
        if (!u16(ref)) return false;
        out = Amf0Value::undefined();
        return true;
      }
      case kObject: {
        Amf0Value::Properties props;
        if (!properties(props, depth)) return false;
        out = Amf0Value::object(std::move(props));
        return true;
      }
      case kEcmaArray: {
        uint32_t count_hint = 0;  // advisory; the list ends with the object-end marker
        if (!u32(count_hint)) return false;
        Amf0Value::Properties props;
        if (!properties(props, depth)) return false;
        out = Amf0Value::ecma_array(std::move(props));
        return true;
      }
      case kStrictArray: {
        uint32_t count = 0;
        if (!u32(count)) return false;
        // Each item takes at least one byte: a count beyond the input is malformed.
        if (count > bytes_.size() - pos_ || count > limits_.max_elements - elements_) return false;
        std::vector<Amf0Value> items;
        items.reserve(count);
        for (uint32_t i = 0; i < count; ++i) {
          ++elements_;
          Amf0Value item;
          if (!value(item, depth + 1)) return false;
          items.push_back(std::move(item));
        }
        out = Amf0Value::strict_array(std::move(items));
        return true;
      }
      case kDate: {
        double ms = 0;
        uint16_t tz = 0;
        if (!f64(ms) || !u16(tz)) return false;
        out = Amf0Value::date(ms);
        return true;
      }
      default:
        return false;
    }
  }

private:
  bool properties(Amf0Value::Properties& props, int depth) {
    while (true) {
      std::string key;
      if (!short_string(key)) return false;
      if (key.empty()) {
        uint8_t end = 0;
        if (!u8(end)) return false;
        if (end == kObjectEnd) return true;
        // An empty key not followed by the end marker: treat as a member with an empty name.
        --pos_;
      }
      if (++elements_ > limits_.max_elements) return false;
      Amf0Value v;
      if (!value(v, depth + 1)) return false;
      props.emplace_back(std::move(key), std::move(v));
    }
  }
  bool u8(uint8_t& v) {
    if (bytes_.size() - pos_ < 1) return false;
    v = bytes_[pos_++];
    return true;
  }
  bool u16(uint16_t& v) {
    if (bytes_.size() - pos_ < 2) return false;
    v = static_cast<uint16_t>((bytes_[pos_] << 8) | bytes_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool u32(uint32_t& v) {
    if (bytes_.size() - pos_ < 4) return false;
    v = (uint32_t{bytes_[pos_]} << 24) | (uint32_t{bytes_[pos_ + 1]} << 16) | (uint32_t{bytes_[pos_ + 2]} << 8) |
        uint32_t{bytes_[pos_ + 3]};
    pos_ += 4;
    return true;
  }
  bool f64(double& d) {
    if (bytes_.size() - pos_ < 8) return false;
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = (bits << 8) | bytes_[pos_ + static_cast<size_t>(i)];
    pos_ += 8;
    d = std::bit_cast<double>(bits);
    return true;
  }
  bool take(size_t n, std::string& s) {
    if (bytes_.size() - pos_ < n) return false;
    s.assign(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return true;
  }
  bool short_string(std::string& s) {
    uint16_t n = 0;
    return u16(n) && take(n, s);
  }
  bool long_string(std::string& s) {
    uint32_t n = 0;
    return u32(n) && take(n, s);
  }

  std::span<const uint8_t> bytes_;
  Amf0Limits limits_;
  size_t pos_ = 0;
  size_t elements_ = 0;
};

void put_u16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}
void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
void put_f64(std::string& out, double d) {
  const auto bits = std::bit_cast<uint64_t>(d);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((bits >> shift) & 0xff));
}
void put_key(std::string& out, const std::string& key) {
  const size_t n = std::min<size_t>(key.size(), 0xffff);
  put_u16(out, static_cast<uint16_t>(n));
  out.append(key, 0, n);
}

}  // namespace

const Amf0Value* Amf0Value::get(std::string_view key) const {
  if (!is_object_like()) return nullptr;
  for (const auto& [k, v] : props_)
    if (k == key) return &v;
  return nullptr;
}

Amf0Value& Amf0Value::set(std::string key, Amf0Value value) {
  for (auto& [k, v] : props_) {
    if (k == key) {
      v = std::move(value);
      return *this;
    }
  }
  props_.emplace_back(std::move(key), std::move(value));
  return *this;
}

std::optional<std::vector<Amf0Value>> amf0_decode_all(std::span<const uint8_t> bytes, Amf0Limits limits) {
  Reader reader(bytes, limits);
  std::vector<Amf0Value> values;
  while (!reader.at_end()) {
    Amf0Value v;
    if (!reader.value(v, 0)) return std::nullopt;
    values.push_back(std::move(v));
  }
  return values;
}

void amf0_encode(const Amf0Value& value, std::string& out) {
  switch (value.type()) {
    case Amf0Value::Type::number:
      out.push_back(static_cast<char>(kNumber));
      put_f64(out, value.as_number());
      return;
    case Amf0Value::Type::boolean:
      out.push_back(static_cast<char>(kBoolean));
      out.push_back(value.as_bool() ? 1 : 0);
      return;
    case Amf0Value::Type::string: {
      const std::string& s = value.as_string();
      if (s.size() <= 0xffff) {
        out.push_back(static_cast<char>(kString));
        put_u16(out, static_cast<uint16_t>(s.size()));
      } else {
        out.push_back(static_cast<char>(kLongString));
        put_u32(out, static_cast<uint32_t>(s.size()));
      }
      out += s;
      return;
    }
    case Amf0Value::Type::null:
      out.push_back(static_cast<char>(kNull));
      return;
    case Amf0Value::Type::undefined:
      out.push_back(static_cast<char>(kUndefined));
      return;
    case Amf0Value::Type::object:
    case Amf0Value::Type::ecma_array:
      if (value.type() == Amf0Value::Type::object) {
        out.push_back(static_cast<char>(kObject));
      } else {
        out.push_back(static_cast<char>(kEcmaArray));
        put_u32(out, static_cast<uint32_t>(value.properties().size()));
      }
      for (const auto& [k, v] : value.properties()) {
        put_key(out, k);
        amf0_encode(v, out);
      }
      put_u16(out, 0);
      out.push_back(static_cast<char>(kObjectEnd));
      return;
    case Amf0Value::Type::strict_array:
      out.push_back(static_cast<char>(kStrictArray));
      put_u32(out, static_cast<uint32_t>(value.items().size()));
      for (const auto& item : value.items()) amf0_encode(item, out);
      return;
    case Amf0Value::Type::date:
      out.push_back(static_cast<char>(kDate));
      put_f64(out, value.as_number());
      put_u16(out, 0);
      return;
  }
}

std::string amf0_encode_all(const std::vector<Amf0Value>& values) {
  std::string out;
  for (const auto& v : values) amf0_encode(v, out);
  return out;
}

}  // namespace harvest::media::rtmp
