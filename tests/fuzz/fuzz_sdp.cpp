// libFuzzer: the WHIP offer checks (media/webrtc/sdp.h) run on untrusted POST bodies before
// webrtcbin sees them. They must never crash, and what they choose must come from the offer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "media/webrtc/sdp.h"

using namespace harvest::media::webrtc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_offer(text);
  if (const auto* offer = std::get_if<SdpOffer>(&parsed)) {
    if (offer->media.empty() || offer->ice_ufrag.empty() || offer->fingerprint.empty()) __builtin_trap();
    const IngestCodecs chosen = choose_ingest_codecs(*offer);
    if (chosen.video && chosen.video->payload_type < 0) __builtin_trap();
    // WHEP: a chosen codec is one the offer lists, with the clock rate it must have.
    const PlaybackCodecs play = choose_playback_codecs(*offer);
    if (play.video && (play.video->payload_type < 0 || play.video->clock_rate != 90000)) __builtin_trap();
    if (play.audio && play.audio->clock_rate != 48000) __builtin_trap();
  }
  // Rewriting candidates keeps every line that is not a host candidate byte for byte.
  const std::string out = advertise_address(text, "203.0.113.9");
  if (text.find("a=candidate:") == std::string_view::npos && out != text) __builtin_trap();
  return 0;
}
