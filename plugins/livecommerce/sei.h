#pragma once
// Card cues in H.264: an SEI NAL unit with one user_data_unregistered message
// (payloadType 5, ITU-T H.264 D.1.7) whose UUID is the project's and whose body is
// a small JSON object. Builders and parsers are pure functions over bytes so they
// can be unit tested and fuzzed without GStreamer.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace harvest::livecommerce {

// 568debb8-653d-4648-af65-ce50b4bdca36: fixed for the project, never change it;
// players look for exactly these 16 bytes.
inline constexpr std::array<std::uint8_t, 16> kCueUuid = {0x56, 0x8d, 0xeb, 0xb8, 0x65, 0x3d, 0x46, 0x48,
                                                          0xaf, 0x65, 0xce, 0x50, 0xb4, 0xbd, 0xca, 0x36};
inline constexpr std::string_view kCueUuidText = "568debb8-653d-4648-af65-ce50b4bdca36";

// What a cue says: {"product_id":"pear-yulu","action":"shown"}.
struct Cue {
  std::string product_id;
  std::string action;  // "shown", "hidden" or "updated"
  bool operator==(const Cue&) const = default;
};

std::string cue_to_json(const Cue& cue);
std::optional<Cue> cue_from_json(std::string_view json);

enum class H264Framing { kByteStream, kAvc };

struct AccessUnitFormat {
  H264Framing framing = H264Framing::kByteStream;
  int nal_length_size = 4;  // avc only: from the avcC codec_data
};

// lengthSizeMinusOne + 1 from an avcC record (the caps' codec_data), if well formed.
std::optional<int> avcc_nal_length_size(std::span<const std::uint8_t> codec_data);

// One NAL unit inside an access unit.
struct NalUnit {
  std::size_t prefix_offset = 0;  // where its start code or length field begins
  std::size_t offset = 0;         // its header byte
  std::size_t size = 0;
  std::span<const std::uint8_t> bytes(std::span<const std::uint8_t> au) const {
    return au.subspan(offset, size);
  }
};

// Splits an access unit into NAL units; stops at the first malformed length.
std::vector<NalUnit> split_nal_units(std::span<const std::uint8_t> au, AccessUnitFormat format);

// RBSP <-> NAL payload: adds / removes emulation_prevention_three_byte.
std::vector<std::uint8_t> escape_rbsp(std::span<const std::uint8_t> rbsp);
std::vector<std::uint8_t> unescape_rbsp(std::span<const std::uint8_t> payload);

// A complete SEI NAL unit (header byte included, no start code or length).
std::vector<std::uint8_t> build_cue_sei_nal(const Cue& cue);

// The cues carried by one SEI NAL unit (header byte included).
std::vector<Cue> parse_cue_sei_nal(std::span<const std::uint8_t> nal);

// The access unit with `sei_nal` framed and inserted just before the first VCL NAL
// unit (after AUD, SPS, PPS and any other SEI, as H.264 7.4.1.2.3 requires); at the
// end if the unit has no slice. nullopt if the avc length size cannot hold it.
std::optional<std::vector<std::uint8_t>> insert_sei(std::span<const std::uint8_t> au, AccessUnitFormat format,
                                                    std::span<const std::uint8_t> sei_nal);

// Every cue in an access unit.
std::vector<Cue> find_cues(std::span<const std::uint8_t> au, AccessUnitFormat format);

}  // namespace harvest::livecommerce
