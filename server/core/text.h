#pragma once
// Text from outside (titles, RTMP app names, user agents) that is shown to people, in a page or
// in a log: which code points may pass as they are. One place, so a title check and the log's
// escaping cannot disagree about what a control character is.
#include <cstddef>
#include <string_view>

namespace harvest::text {

// Decodes the UTF-8 code point at s[pos] into `cp`; returns its length in bytes, or 0 if the
// bytes there are not valid UTF-8 (overlong, surrogate, past U+10FFFF, truncated).
size_t decode_utf8(std::string_view s, size_t pos, char32_t& cp);

// Code points that change how the text around them looks without being text themselves:
// C0 and C1 controls and DEL (a raw ESC drives a terminal that shows a log), and the bidi
// embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which make a title read
// differently from what is stored ("Trojan Source"). The marks LRM/RLM/ALM are ordinary
// right-to-left text and pass.
bool is_control(char32_t cp);

// Code points in UTF-8 text (continuation bytes not counted).
size_t code_points(std::string_view s);

// Valid UTF-8 without any is_control() code point. Does not check the length.
bool is_display_text(std::string_view s);

}  // namespace harvest::text
