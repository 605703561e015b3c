#pragma once
// AMF0 (Action Message Format, version 0): the encoding of RTMP command and data messages.
// Pure functions over bytes: decode never reads past the input, bounds nesting depth and
// element counts, and reports malformed input as an error value instead of throwing.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace harvest::media::rtmp {

class Amf0Value {
public:
  enum class Type { number, boolean, string, object, null, undefined, ecma_array, strict_array, date };
  using Properties = std::vector<std::pair<std::string, Amf0Value>>;  // in wire order

  Amf0Value() : type_(Type::null) {}
  static Amf0Value number(double v) { Amf0Value a(Type::number); a.number_ = v; return a; }
  static Amf0Value boolean(bool v) { Amf0Value a(Type::boolean); a.boolean_ = v; return a; }
  static Amf0Value string(std::string v) { Amf0Value a(Type::string); a.string_ = std::move(v); return a; }
  static Amf0Value null() { return Amf0Value(Type::null); }
  static Amf0Value undefined() { return Amf0Value(Type::undefined); }
  static Amf0Value object(Properties props = {}) { Amf0Value a(Type::object); a.props_ = std::move(props); return a; }
  static Amf0Value ecma_array(Properties props = {}) { Amf0Value a(Type::ecma_array); a.props_ = std::move(props); return a; }
  static Amf0Value strict_array(std::vector<Amf0Value> items) { Amf0Value a(Type::strict_array); a.items_ = std::move(items); return a; }
  static Amf0Value date(double ms) { Amf0Value a(Type::date); a.number_ = ms; return a; }

  Type type() const { return type_; }
  bool is_number() const { return type_ == Type::number; }
  bool is_string() const { return type_ == Type::string; }
  bool is_object_like() const { return type_ == Type::object || type_ == Type::ecma_array; }
  double as_number(double fallback = 0) const { return type_ == Type::number || type_ == Type::date ? number_ : fallback; }
  bool as_bool(bool fallback = false) const { return type_ == Type::boolean ? boolean_ : fallback; }
  const std::string& as_string() const { return string_; }
  const Properties& properties() const { return props_; }
  const std::vector<Amf0Value>& items() const { return items_; }

  // Object/ECMA array member by name; nullptr when absent or not an object.
  const Amf0Value* get(std::string_view key) const;
  // Adds or replaces a member (object/ECMA array only).
  Amf0Value& set(std::string key, Amf0Value value);

private:
  explicit Amf0Value(Type t) : type_(t) {}
  Type type_;
  double number_ = 0;
  bool boolean_ = false;
  std::string string_;
  Properties props_;
  std::vector<Amf0Value> items_;
};

struct Amf0Limits {
  int max_depth = 8;             // nested objects/arrays
  size_t max_elements = 4096;    // properties + array items in one decode
};

// Decodes consecutive AMF0 values until the input ends. nullopt on malformed input
// (truncated value, unknown marker, too deep, too many elements).
std::optional<std::vector<Amf0Value>> amf0_decode_all(std::span<const uint8_t> bytes, Amf0Limits limits = {});

// Appends the encoding of `value` to `out`.
void amf0_encode(const Amf0Value& value, std::string& out);
std::string amf0_encode_all(const std::vector<Amf0Value>& values);

}  // namespace harvest::media::rtmp
