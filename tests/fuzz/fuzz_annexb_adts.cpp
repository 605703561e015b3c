// libFuzzer: SRT's elementary streams on their way into the LL-HLS rendition (straight from a
// publisher's MPEG-TS through tsdemux and the parsers): H.264 Annex B -> AVCC + avcC
// (media/ingest/annexb.h) and ADTS -> raw AAC + AudioSpecificConfig (media/ingest/adts.h).
// Round-trip invariants:
//   - the AVCC output walks back into exactly its NAL units (lengths fit, none empty, no AUD),
//     and they are the input's NAL units minus the delimiters; the NAL units joined again with
//     start codes convert to the same AVCC;
//   - an avcC built from the remembered SPS/PPS is accepted by TsMuxer::set_avc_config (the
//     RTMP path's reader) and holds that SPS and PPS;
//   - every ADTS frame found lies inside the input, in order, without overlap; written back
//     with TsMuxer::adts_header from the ASC, they split into the same frames, and RTMP's ASC
//     reader reads the ASC back with the header's rate.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "media/hls/ts_muxer.h"
#include "media/ingest/adts.h"
#include "media/ingest/annexb.h"
#include "media/rtmp/flv.h"

using namespace harvest::media;

namespace {

size_t be32(std::string_view s, size_t at) {
  return (size_t{static_cast<uint8_t>(s[at])} << 24) | (size_t{static_cast<uint8_t>(s[at + 1])} << 16) |
         (size_t{static_cast<uint8_t>(s[at + 2])} << 8) | size_t{static_cast<uint8_t>(s[at + 3])};
}

void check_annexb(std::string_view input) {
  H264ParameterSets sets;
  std::string avcc;
  const size_t written = annexb_to_avcc(input, avcc, &sets);
  size_t at = 0, count = 0;
  const auto nals = split_annexb(input);
  size_t next = 0;  // the input NAL unit to compare with
  while (at < avcc.size()) {
    if (at + 4 > avcc.size()) __builtin_trap();
    const size_t len = be32(avcc, at);
    if (len == 0 || at + 4 + len > avcc.size()) __builtin_trap();
    const std::string_view nal(avcc.data() + at + 4, len);
    if ((static_cast<uint8_t>(nal[0]) & 0x1f) == 9) __builtin_trap();
    while (next < nals.size() && (static_cast<uint8_t>(nals[next][0]) & 0x1f) == 9) ++next;
    if (next >= nals.size() || nals[next] != nal) __builtin_trap();
    ++next;
    at += 4 + len;
    ++count;
  }
  if (count != written) __builtin_trap();
  while (next < nals.size() && (static_cast<uint8_t>(nals[next][0]) & 0x1f) == 9) ++next;
  if (next != nals.size()) __builtin_trap();  // nothing left out but delimiters

  std::string joined;
  for (std::string_view nal : nals) joined.append("\0\0\0\1", 4).append(nal);
  std::string again;
  annexb_to_avcc(joined, again);
  if (again != avcc) __builtin_trap();

  if (sets.complete()) {
    const std::string config = make_avc_config(sets.sps, sets.pps);
    if (!config.empty()) {
      hls::TsMuxer ts(true, false);
      if (!ts.set_avc_config(config)) __builtin_trap();
      if (config.compare(8, sets.sps.size(), sets.sps) != 0 || config.find(sets.pps) == std::string::npos)
        __builtin_trap();
    }
  }
}

void check_adts(std::string_view input) {
  const auto split = split_adts(input);
  if (!split) return;
  if (split->frames.empty()) __builtin_trap();
  const char* end_of_last = input.data();
  std::string rewritten;
  for (std::string_view frame : split->frames) {
    if (frame.empty() || frame.data() < end_of_last ||
        frame.data() + frame.size() > input.data() + input.size())
      __builtin_trap();
    end_of_last = frame.data() + frame.size();
    rewritten += hls::TsMuxer::adts_header(split->header.object_type, split->header.frequency_index,
                                           split->header.channel_config, frame.size());
    rewritten.append(frame);
  }
  const auto again = split_adts(rewritten);
  if (!again || again->frames.size() != split->frames.size()) __builtin_trap();
  for (size_t i = 0; i < again->frames.size(); ++i)
    if (again->frames[i] != split->frames[i]) __builtin_trap();
  const auto cfg = rtmp::parse_audio_specific_config(audio_specific_config(split->header));
  if (!cfg || cfg->sample_rate != split->header.sample_rate || cfg->object_type != split->header.object_type)
    __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  check_annexb(bytes);
  check_adts(bytes);
  return 0;
}
