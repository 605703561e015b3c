#include "realtime/protocol.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "commerce/product_validation.h"
#include "commerce/types.h"
#include "core/text.h"

namespace harvest::realtime {
namespace {

using nlohmann::json;

struct Invalid {
  std::string message;
};

const json* field(const json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

int64_t int_field(const json& obj, const char* name, int64_t min, int64_t max, bool required,
                  std::optional<int64_t>* optional_out = nullptr) {
  const json* v = field(obj, name);
  const std::string range = std::to_string(min) + "-" + std::to_string(max);
  if (v == nullptr) {
    if (required) throw Invalid{std::string("'") + name + "' is required (an integer " + range + ")"};
    return 0;
  }
  // Only JSON integers: 1.5, 1e3 and numbers past int64 (parsed as floats) are refused, so a
  // price can never overflow.
  int64_t n = 0;
  if (v->is_number_unsigned()) {
    const auto u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(max)) throw Invalid{std::string("'") + name + "' must be " + range};
    n = static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    n = v->get<int64_t>();
  } else {
    throw Invalid{std::string("'") + name + "' must be an integer " + range};
  }
  if (n < min || n > max) throw Invalid{std::string("'") + name + "' must be " + range};
  if (optional_out != nullptr) *optional_out = n;
  return n;
}

std::string id_field(const json& obj, const char* name, size_t max_len, bool required) {
  const json* v = field(obj, name);
  if (v == nullptr) {
    if (required) throw Invalid{std::string("'") + name + "' is required"};
    return {};
  }
  if (!v->is_string() || !is_token_chars(v->get_ref<const std::string&>(), 1, max_len))
    throw Invalid{std::string("'") + name + "' must be 1-" + std::to_string(max_len) + " characters [A-Za-z0-9_-]"};
  return v->get<std::string>();
}

// Also bidi overrides and C1 controls: the one rule for text people see (core/text.h).
bool has_control_chars(std::string_view s) { return !text::is_display_text(s); }

std::string text_field(const json& obj, const char* name, size_t max_chars, bool required) {
  const json* v = field(obj, name);
  if (v == nullptr) {
    if (required) throw Invalid{std::string("'") + name + "' is required"};
    return {};
  }
  if (!v->is_string()) throw Invalid{std::string("'") + name + "' must be a string"};
  const auto& s = v->get_ref<const std::string&>();
  const size_t n = utf8_length(s);
  if (n < 1 || n > max_chars || has_control_chars(s))
    throw Invalid{std::string("'") + name + "' must be 1-" + std::to_string(max_chars) +
                  " characters without control characters"};
  return s;
}

ClientType type_from(std::string_view t, bool& known) {
  known = true;
  if (t == "card.show") return ClientType::card_show;
  if (t == "card.hide") return ClientType::card_hide;
  if (t == "product.update") return ClientType::product_update;
  if (t == "sale.start") return ClientType::sale_start;
  if (t == "sale.stop") return ClientType::sale_stop;
  if (t == "buy") return ClientType::buy;
  if (t == "chat.send") return ClientType::chat_send;
  if (t == "ping") return ClientType::ping;
  if (t == "chat.delete") return ClientType::chat_delete;
  if (t == "viewer.mute") return ClientType::viewer_mute;
  known = false;
  return ClientType::ping;
}

// --- fast path for the hot frame: a well-formed `buy` ---------------------------------------
//
// A scanner for flat objects whose values are plain ASCII strings (no escapes), canonical
// integers, true, false or null. It answers only a valid buy, and gives up (returns false) on
// anything else: another type, a missing, null, duplicate or out-of-range field, a fraction or
// exponent, nesting, escapes, non-ASCII, trailing bytes. Those frames take the nlohmann path,
// so every error keeps its exact wording; the fuzz target checks both paths agree.
struct FlatValue {
  enum class Kind { string, integer, other } kind = Kind::other;
  std::string_view text;  // string contents, or the integer's digits
  int64_t integer = 0;
};

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool fast_parse_buy(std::string_view t, ClientMessage& m) {
  size_t i = 0;
  auto skip = [&] {
    while (i < t.size() && is_json_space(t[i])) ++i;
  };
  auto read_string = [&](std::string_view& out) {
    if (i >= t.size() || t[i] != '"') return false;
    const size_t start = ++i;
    for (; i < t.size(); ++i) {
      const auto c = static_cast<unsigned char>(t[i]);
      if (c == '"') break;
      if (c == '\\' || c < 0x20 || c >= 0x7f) return false;
    }
    if (i >= t.size()) return false;
    out = t.substr(start, i - start);
    ++i;
    return true;
  };
  auto read_value = [&](FlatValue& v) {
    if (i >= t.size()) return false;
    const char c = t[i];
    if (c == '"') {
      v.kind = FlatValue::Kind::string;
      return read_string(v.text);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      const size_t start = i;
      if (t[i] == '-') ++i;
      const size_t digits = i;
      while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
      const size_t n = i - digits;
      // Canonical integers only (as nlohmann would print them back), at most 18 digits.
      if (n == 0 || n > 18 || (t[digits] == '0' && (n > 1 || digits > start))) return false;
      if (i < t.size() && (t[i] == '.' || t[i] == 'e' || t[i] == 'E')) return false;
      int64_t value = 0;
      for (size_t k = digits; k < i; ++k) value = value * 10 + (t[k] - '0');
      v.kind = FlatValue::Kind::integer;
      v.text = t.substr(start, i - start);
      v.integer = digits > start ? -value : value;
      return true;
    }
    for (std::string_view word : {"true", "false"}) {
      if (t.substr(i, word.size()) == word) {
        i += word.size();
        v.kind = FlatValue::Kind::other;
        return true;
      }
    }
    return false;  // null, objects, arrays, anything else
  };

  FlatValue id, type, product, qty, key, sale, media;
  bool has_id = false, has_type = false, has_product = false, has_qty = false, has_key = false, has_sale = false,
       has_media = false;
  skip();
  if (i >= t.size() || t[i] != '{') return false;
  ++i;
  skip();
  if (i < t.size() && t[i] == '}') return false;  // {} has no type
  for (;;) {
    std::string_view name;
    skip();
    if (!read_string(name)) return false;
    skip();
    if (i >= t.size() || t[i] != ':') return false;
    ++i;
    skip();
    FlatValue v;
    if (!read_value(v)) return false;
    auto take = [&](bool& seen, FlatValue& slot) {
      if (seen) return false;  // duplicate: leave the choice of value to nlohmann
      seen = true;
      slot = v;
      return true;
    };
    bool ok = true;
    if (name == "id") ok = take(has_id, id);
    else if (name == "type") ok = take(has_type, type);
    else if (name == "product_id") ok = take(has_product, product);
    else if (name == "qty") ok = take(has_qty, qty);
    else if (name == "idempotency_key") ok = take(has_key, key);
    else if (name == "sale_id") ok = take(has_sale, sale);
    else if (name == "media_time") ok = take(has_media, media);
    if (!ok) return false;
    skip();
    if (i < t.size() && t[i] == ',') {
      ++i;
      continue;
    }
    if (i < t.size() && t[i] == '}') {
      ++i;
      break;
    }
    return false;
  }
  skip();
  if (i != t.size()) return false;

  using Kind = FlatValue::Kind;
  if (!has_type || type.kind != Kind::string || type.text != "buy") return false;
  if (has_id) {
    if (id.kind == Kind::string && id.text.size() <= 64) m.id_json = "\"" + std::string(id.text) + "\"";
    else if (id.kind == Kind::integer) m.id_json = std::string(id.text);
    else return false;
  }
  if (!has_product || product.kind != Kind::string || !is_token_chars(product.text, 1, 64)) return false;
  if (!has_qty || qty.kind != Kind::integer || qty.integer < 1 || qty.integer > commerce::kMaxQtyPerOrder) return false;
  if (!has_key || key.kind != Kind::string || key.text.empty() || key.text.size() > 64) return false;
  if (has_sale && (sale.kind != Kind::string || !is_token_chars(sale.text, 1, 64))) return false;
  if (has_media && (media.kind != Kind::integer || media.integer < 0 || media.integer > 1000000000)) return false;
  m.type = ClientType::buy;
  m.product_id = product.text;
  m.qty = qty.integer;
  m.idempotency_key = key.text;
  if (has_sale) m.sale_id = sale.text;
  if (has_media) m.media_time = static_cast<double>(media.integer);
  return true;
}

}  // namespace

bool is_token_chars(std::string_view s, size_t min_len, size_t max_len) {
  if (s.size() < min_len || s.size() > max_len) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

size_t utf8_length(std::string_view s) { return text::code_points(s); }

const char* client_type_name(ClientType t) {
  switch (t) {
    case ClientType::card_show: return "card.show";
    case ClientType::card_hide: return "card.hide";
    case ClientType::product_update: return "product.update";
    case ClientType::sale_start: return "sale.start";
    case ClientType::sale_stop: return "sale.stop";
    case ClientType::buy: return "buy";
    case ClientType::chat_send: return "chat.send";
    case ClientType::ping: return "ping";
    case ClientType::chat_delete: return "chat.delete";
    case ClientType::viewer_mute: return "viewer.mute";
  }
  return "ping";
}

bool is_host_command(ClientType t) {
  return t == ClientType::card_show || t == ClientType::card_hide || t == ClientType::product_update ||
         t == ClientType::sale_start || t == ClientType::sale_stop || t == ClientType::chat_delete ||
         t == ClientType::viewer_mute;
}

ParseResult parse_client_message(std::string_view text) {
  ClientMessage m;
  if (fast_parse_buy(text, m)) {
    ParseResult result;
    result.message = std::move(m);
    return result;
  }
  return parse_client_message_json(text);
}

ParseResult parse_client_message_json(std::string_view text) {
  ParseResult result;
  const json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    result.error = {"bad_json", doc.is_discarded() ? "not valid JSON" : "a frame must be a JSON object", "", ""};
    return result;
  }
  // The id is echoed back as "re": accept short strings and integers only.
  std::string id_json;
  if (const json* id = field(doc, "id")) {
    if ((id->is_string() && id->get_ref<const std::string&>().size() <= 64) || id->is_number_integer())
      id_json = id->dump();
  }
  const json* type = field(doc, "type");
  if (type == nullptr || !type->is_string()) {
    result.error = {"invalid", "'type' must be a string", id_json, ""};
    return result;
  }
  const auto& type_name = type->get_ref<const std::string&>();
  bool known = false;
  const ClientType t = type_from(type_name, known);
  if (!known) {
    result.error = {"unknown_type", "unknown type", id_json, ""};
    return result;
  }

  ClientMessage m;
  m.type = t;
  m.id_json = id_json;
  try {
    if (const json* id = field(doc, "id"); id != nullptr && id_json.empty())
      throw Invalid{"'id' must be an integer or a string of at most 64 bytes"};
    switch (t) {
      case ClientType::card_show: {
        m.product_id = id_field(doc, "product_id", 64, true);
        if (const json* slot = field(doc, "slot")) {
          const bool ok = slot->is_string() && (*slot == "bottom" || *slot == "top" || *slot == "left" || *slot == "right");
          if (!ok) throw Invalid{"'slot' must be \"bottom\", \"top\", \"left\" or \"right\""};
          m.slot = slot->get<std::string>();
        }
        break;
      }
      case ClientType::card_hide:
        m.product_id = id_field(doc, "product_id", 64, false);
        break;
      case ClientType::product_update:
        m.product_id = id_field(doc, "product_id", 64, true);
        int_field(doc, "price", 0, commerce::kMaxPriceFen, false, &m.price);
        int_field(doc, "stock", 0, commerce::kMaxStock, false, &m.stock);
        // The catalog's rule for a title (commerce/product_validation.h), checked here as text.
        if (field(doc, "title") != nullptr) m.title = text_field(doc, "title", commerce::kMaxTitleChars, true);
        if (!m.price && !m.stock && !m.title) throw Invalid{"nothing to update: give price, stock or title"};
        break;
      case ClientType::sale_start:
        m.product_id = id_field(doc, "product_id", 64, true);
        int_field(doc, "price", 0, commerce::kMaxPriceFen, true, &m.price);
        m.quantity = int_field(doc, "quantity", 1, commerce::kMaxStock, true);
        m.per_buyer_limit = int_field(doc, "per_buyer_limit", 1, commerce::kMaxQtyPerOrder, true);
        m.duration_s = int_field(doc, "duration_s", 1, commerce::kMaxSaleDurationS, true);
        break;
      case ClientType::sale_stop:
        m.sale_id = id_field(doc, "sale_id", 64, true);
        break;
      case ClientType::buy: {
        m.product_id = id_field(doc, "product_id", 64, true);
        m.qty = int_field(doc, "qty", 1, commerce::kMaxQtyPerOrder, true);
        const json* key = field(doc, "idempotency_key");
        if (key == nullptr || !key->is_string() || key->get_ref<const std::string&>().empty() ||
            utf8_length(key->get_ref<const std::string&>()) > 64 || has_control_chars(key->get_ref<const std::string&>()))
          throw Invalid{"'idempotency_key' must be a string of 1-64 characters"};
        m.idempotency_key = key->get<std::string>();
        m.sale_id = id_field(doc, "sale_id", 64, false);
        if (const json* mt = field(doc, "media_time")) {
          if (!mt->is_number() || !std::isfinite(mt->get<double>()) || mt->get<double>() < 0 ||
              mt->get<double>() > 1e9)
            throw Invalid{"'media_time' must be a number of seconds >= 0"};
          m.media_time = mt->get<double>();
        }
        break;
      }
      case ClientType::chat_send:
        m.text = text_field(doc, "text", 200, true);
        break;
      case ClientType::ping:
        break;
      case ClientType::chat_delete:
        m.message_id = int_field(doc, "message_id", 1, kMaxChatMessageId, true);
        break;
      case ClientType::viewer_mute: {
        m.viewer_id = id_field(doc, "viewer_id", 64, true);
        if (!is_token_chars(m.viewer_id, 8, 64)) throw Invalid{"'viewer_id' must be 8-64 characters [A-Za-z0-9_-]"};
        std::optional<int64_t> duration;
        int_field(doc, "duration_s", 1, kMaxMuteS, false, &duration);
        m.duration_s = duration.value_or(kDefaultMuteS);
        break;
      }
    }
  } catch (const Invalid& e) {
    result.error = {"invalid", e.message, id_json, type_name};
    return result;
  }
  result.message = std::move(m);
  return result;
}

bool is_replay_session_id(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-')) return false;
  }
  return true;
}

}  // namespace harvest::realtime
