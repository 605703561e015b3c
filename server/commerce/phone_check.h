#pragma once
// The mobile-number step of checkout, pluggable. Here no SMS can be sent, so the default check
// is the number's form (a mainland mobile number). A deployment with an SMS service plugs in a
// check that also requires the number to have been confirmed with a code: the page asks for a
// code (POST to the verifier's own routes), the verifier remembers (buyer id, number) pairs it
// has confirmed, and problem() refuses other numbers. See docs/orders.md "The phone number".
#include <optional>
#include <string>
#include <string_view>

namespace harvest::commerce {

class PhoneCheck {
public:
  virtual ~PhoneCheck() = default;
  // nullopt: `phone` (already normalised) is acceptable for `buyer_id`; else a sentence.
  virtual std::optional<std::string> problem(std::string_view buyer_id, std::string_view phone) const = 0;
};

// "+86 138-0013-8000" -> "13800138000": spaces, dashes and a +86/0086 prefix dropped.
std::string normalise_phone(std::string_view phone);
// 11 digits starting 13-19: a mainland China mobile number.
bool is_mainland_mobile(std::string_view phone);

// The default: the number's form only.
class MobileNumberFormat final : public PhoneCheck {
public:
  std::optional<std::string> problem(std::string_view buyer_id, std::string_view phone) const override;
};

}  // namespace harvest::commerce
