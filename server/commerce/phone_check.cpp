#include "commerce/phone_check.h"

namespace harvest::commerce {

std::string normalise_phone(std::string_view phone) {
  std::string out;
  for (char c : phone)
    if (c != ' ' && c != '-') out.push_back(c);
  for (std::string_view prefix : {"+86", "0086"})
    if (out.size() > prefix.size() && out.compare(0, prefix.size(), prefix) == 0) out.erase(0, prefix.size());
  return out;
}

bool is_mainland_mobile(std::string_view phone) {
  if (phone.size() != 11 || phone[0] != '1' || phone[1] < '3' || phone[1] > '9') return false;
  for (char c : phone)
    if (c < '0' || c > '9') return false;
  return true;
}

std::optional<std::string> MobileNumberFormat::problem(std::string_view /*buyer_id*/, std::string_view phone) const {
  if (!is_mainland_mobile(phone)) return "a mobile number has 11 digits and starts with 13-19";
  return std::nullopt;
}

}  // namespace harvest::commerce
