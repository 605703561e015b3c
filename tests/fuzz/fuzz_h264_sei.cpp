// libFuzzer target: splitting access units, finding cues and inserting SEI must
// never crash on arbitrary bytes (byte-stream and avc with every length size),
// and an inserted cue is always found again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "sei.h"

using namespace harvest::livecommerce;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  const AccessUnitFormat formats[] = {
      {H264Framing::kByteStream, 4}, {H264Framing::kAvc, 1}, {H264Framing::kAvc, 2}, {H264Framing::kAvc, 4}};
  (void)avcc_nal_length_size(bytes);
  (void)parse_cue_sei_nal(bytes);
  (void)unescape_rbsp(bytes);
  const Cue cue{"fuzz-product", "shown"};
  const auto nal = build_cue_sei_nal(cue);
  for (const auto& format : formats) {
    const auto before = find_cues(bytes, format);
    auto inserted = insert_sei(bytes, format, nal);
    if (!inserted) continue;
    // When the input is made of whole avc units, inserting keeps every cue and adds ours.
    if (format.framing != H264Framing::kAvc) continue;
    std::size_t parsed_end = 0;
    for (const auto& unit : split_nal_units(bytes, format)) parsed_end = unit.offset + unit.size;
    if (parsed_end != bytes.size()) continue;
    if (find_cues(*inserted, format).size() != before.size() + 1) std::abort();
  }
  const auto round = escape_rbsp(bytes);
  if (unescape_rbsp(round) != std::vector<std::uint8_t>(bytes.begin(), bytes.end())) std::abort();
  return 0;
}
