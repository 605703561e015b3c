#include "commerce/origin_json.h"

#include "commerce/origin_validation.h"

namespace harvest::commerce {

using nlohmann::json;

namespace {

// The string at `key`, "" when absent or null; false when it is another type.
bool read_text(const json& obj, const char* key, std::string& out) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

}  // namespace

json origin_json(const Origin& o) {
  return {
      {"farm", o.farm},
      {"place", {{"county", o.place.county}, {"township", o.place.township}, {"village", o.place.village}}},
      {"harvest_date", o.harvest_date},
      {"method", o.method},
      {"certificates", o.certificates},
      {"trace_code", o.trace_code}};
}

std::string origin_from_json(const json& j, Origin& out) {
  out = Origin{};
  if (j.is_null()) return {};
  if (!j.is_object()) return "'origin' must be an object";
  struct Field {
    const char* key;
    std::string Origin::*member;
  };
  for (const Field f : {Field{"farm", &Origin::farm}, Field{"harvest_date", &Origin::harvest_date},
                        Field{"method", &Origin::method}, Field{"trace_code", &Origin::trace_code}})
    if (!read_text(j, f.key, out.*f.member)) return std::string("origin '") + f.key + "' must be a string";
  if (const auto place = j.find("place"); place != j.end() && !place->is_null()) {
    if (!place->is_object()) return "origin 'place' must be an object {county, township, village}";
    if (!read_text(*place, "county", out.place.county)) return "origin 'place.county' must be a string";
    if (!read_text(*place, "township", out.place.township)) return "origin 'place.township' must be a string";
    if (!read_text(*place, "village", out.place.village)) return "origin 'place.village' must be a string";
  }
  if (const auto certs = j.find("certificates"); certs != j.end() && !certs->is_null()) {
    if (!certs->is_array()) return "origin 'certificates' must be an array of strings";
    // Counted before copying, so a huge array is refused without building it.
    if (certs->size() > 64) return "origin 'certificates' has too many entries";
    for (const auto& c : *certs) {
      if (!c.is_string()) return "origin 'certificates' must be an array of strings";
      out.certificates.push_back(c.get<std::string>());
    }
  }
  return {};
}

std::string parse_origin(const json& j, std::chrono::sys_days today, Origin& out) {
  if (auto err = origin_from_json(j, out); !err.empty()) return err;
  return validate_origin(out, today);
}

}  // namespace harvest::commerce
