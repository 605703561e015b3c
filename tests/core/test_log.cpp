// Log values: whatever a client sends (an RTMP app name, a tcUrl, a user agent) reaches the log
// as one short line with no raw control bytes, and plain values stay as they were.
#include <catch2/catch.hpp>

#include <string>

#include "core/log.h"
#include "core/text.h"

using harvest::log::format_value;
using harvest::log::kMaxValueBytes;

namespace {
bool has_raw_control(const std::string& s) {
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) return true;
  }
  // C1 controls and bidi overrides as UTF-8 (U+0080-U+009F: C2 80-9F; U+202A-E: E2 80 AA-AE).
  return s.find("\xc2\x9b") != std::string::npos || s.find("\xe2\x80\xae") != std::string::npos;
}
}  // namespace

TEST_CASE("plain log values are written as they are, spaces quoted", "[log]") {
  CHECK(format_value("live") == "live");
  CHECK(format_value("127.0.0.1:4000") == "127.0.0.1:4000");
  CHECK(format_value("隰县玉露香梨") == "隰县玉露香梨");
  CHECK(format_value("peer closed the connection") == "\"peer closed the connection\"");
  CHECK(format_value("") == "\"\"");
  CHECK(format_value("a=b") == "\"a=b\"");
  CHECK(format_value("say \"hi\" \\ bye") == "\"say \\\"hi\\\" \\\\ bye\"");
}

TEST_CASE("control bytes in log values are escaped, never written raw", "[log]") {
  // An ANSI sequence that would clear a terminal showing the log, and a forged second line.
  const std::string app = "live\x1b[2J\x1b[31mEVIL\r\nts=x level=error event=forged";
  const std::string out = format_value(app);
  CHECK_FALSE(has_raw_control(out));
  CHECK(out == "\"live\\x1b[2J\\x1b[31mEVIL\\r\\nts=x level=error event=forged\"");
  CHECK(format_value(std::string("a\0b", 3)) == "\"a\\x00b\"");
  CHECK(format_value("tab\there") == "\"tab\\there\"");
  CHECK(format_value("del\x7f") == "\"del\\x7f\"");
  // C1 CSI (U+009B) and a right-to-left override (U+202E) as UTF-8.
  CHECK(format_value("a\xc2\x9b" "2Jb") == "\"a\\u{009b}2Jb\"");
  CHECK(format_value("abc\xe2\x80\xae" "gpj.exe") == "\"abc\\u{202e}gpj.exe\"");
  // Bytes that are not UTF-8 (a lone 0x9b is CSI on an 8-bit terminal).
  CHECK(format_value("x\x9b\xff") == "\"x\\x9b\\xff\"");
  CHECK(format_value("\xe2\x80") == "\"\\xe2\\x80\"");  // truncated sequence
}

TEST_CASE("long log values are cut at a code point and say how much was cut", "[log]") {
  const std::string flash(10'000, 'A');
  const std::string out = format_value(flash);
  CHECK(out.size() < kMaxValueBytes + 40);
  CHECK(out == "\"" + std::string(kMaxValueBytes, 'A') + "...(" + std::to_string(10'000 - kMaxValueBytes) +
                   " more bytes)\"");
  // Three-byte code points: the cut never splits one.
  std::string pears;
  for (int i = 0; i < 400; ++i) pears += "梨";
  const std::string cut = format_value(pears);
  CHECK(harvest::text::is_display_text(cut));
  CHECK(cut.find("\\x") == std::string::npos);
  CHECK(cut.find("...(" + std::to_string(1200 - kMaxValueBytes / 3 * 3) + " more bytes)") != std::string::npos);
}

TEST_CASE("display text refuses controls, bidi overrides and broken UTF-8, keeps RTL marks", "[text]") {
  using harvest::text::is_display_text;
  CHECK(is_display_text("隰县玉露香梨 5斤装"));
  CHECK(is_display_text("שלום \xe2\x80\x8f"));  // RLM is ordinary RTL text
  CHECK_FALSE(is_display_text("pear\n"));
  CHECK_FALSE(is_display_text("pear\x1b[31m"));
  CHECK_FALSE(is_display_text("pear\x7f"));
  CHECK_FALSE(is_display_text("pear\xc2\x85"));           // NEL, a C1 control
  CHECK_FALSE(is_display_text("pear\xe2\x80\xae" "gnp"));  // RLO
  CHECK_FALSE(is_display_text("pear\xe2\x81\xa6"));        // LRI
  CHECK_FALSE(is_display_text("\xc0\xaf"));                // overlong '/'
  CHECK_FALSE(is_display_text("\xed\xa0\x80"));            // a surrogate
}
