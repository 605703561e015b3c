#pragma once
// A hand-written writer for the server's hot outgoing JSON objects (order answers, chat,
// stock, purchase, viewer counts): appends to one string, no DOM, no per-field allocation.
// Output is the same JSON nlohmann::json::dump() would give for the same values (strings
// escaped the same way: '"', '\\' and control characters; UTF-8 passed through), except that
// fields keep the order they were written in.
//
//   std::string s = JsonObject().str("type", "pong").num("server_time", t).take();
#include <cstdint>
#include <string>
#include <string_view>

namespace harvest {

// Appends `s` as a JSON string literal (quotes included). `s` must be valid UTF-8.
void append_json_string(std::string& out, std::string_view s);
void append_json_int(std::string& out, int64_t v);

class JsonObject {
public:
  JsonObject() {
    out_.reserve(192);
    out_ += '{';
  }
  JsonObject& str(std::string_view key, std::string_view value) {
    append_key(key);
    append_json_string(out_, value);
    return *this;
  }
  JsonObject& num(std::string_view key, int64_t value) {
    append_key(key);
    append_json_int(out_, value);
    return *this;
  }
  JsonObject& boolean(std::string_view key, bool value) {
    append_key(key);
    out_ += value ? "true" : "false";
    return *this;
  }
  JsonObject& null(std::string_view key) {
    append_key(key);
    out_ += "null";
    return *this;
  }
  // `json` must already be valid JSON text (e.g. an echoed request id); empty writes null.
  JsonObject& raw(std::string_view key, std::string_view json) {
    append_key(key);
    out_ += json.empty() ? std::string_view("null") : json;
    return *this;
  }
  // The finished object (the writer is left empty).
  std::string take() {
    out_ += '}';
    return std::move(out_);
  }

private:
  void append_key(std::string_view key) {
    if (out_.size() > 1) out_ += ',';
    out_ += '"';
    out_ += key;  // keys are the server's own literals: nothing to escape
    out_ += "\":";
  }
  std::string out_;
};

}  // namespace harvest
