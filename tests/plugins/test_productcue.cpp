// productcue element tests: real H.264 from x264enc, checked by our parser and by
// ffprobe / ffmpeg, which never load the plugin.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "plugins/element_support.h"
#include "sei.h"
#include "support/temp_dir.h"

using namespace harvest::test;
using harvest::livecommerce::AccessUnitFormat;
using harvest::livecommerce::Cue;
using harvest::livecommerce::find_cues;
using harvest::livecommerce::H264Framing;
using harvest::livecommerce::kCueUuid;

namespace {

using ElementRef = std::unique_ptr<GstElement, void (*)(gpointer)>;

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> chunk{};
  while (std::size_t n = std::fread(chunk.data(), 1, chunk.size(), pipe))
    result.output.append(chunk.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

struct AccessUnit {
  GstClockTime pts;
  std::vector<std::uint8_t> bytes;
};

std::vector<AccessUnit> pull_all(Harness& h) {
  std::vector<AccessUnit> units;
  while (GstBuffer* b = gst_harness_try_pull(h.get())) {
    GstMapInfo map;
    gst_buffer_map(b, &map, GST_MAP_READ);
    units.push_back(AccessUnit{GST_BUFFER_PTS(b), std::vector<std::uint8_t>(map.data, map.data + map.size)});
    gst_buffer_unmap(b, &map);
    gst_buffer_unref(b);
  }
  return units;
}

// Emits productcue's add-cue for each productoverlay-card message, in the
// streaming thread that posts it: how a server wires the two for the burned-in
// rendition.
GstBusSyncReply forward_to_cue(GstBus*, GstMessage* message, gpointer cue) {
  const GstStructure* s = gst_message_get_structure(message);
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ELEMENT && s &&
      gst_structure_has_name(s, "productoverlay-card")) {
    gboolean ok = FALSE;
    g_signal_emit_by_name(cue, "add-cue", gst_structure_get_string(s, "product-id"),
                          gst_structure_get_string(s, "action"), uint64_field(s, "running-time"), &ok);
  }
  return GST_BUS_PASS;
}

// ffprobe's hex dump ("00000000: 0000 0001 0910 ...  ascii") back to bytes.
std::vector<std::uint8_t> parse_hex_dump(const std::string& dump) {
  std::vector<std::uint8_t> bytes;
  std::size_t pos = 0;
  while (pos < dump.size()) {
    std::size_t end = dump.find('\n', pos);
    if (end == std::string::npos) end = dump.size();
    const std::string line = dump.substr(pos, end - pos);
    pos = end + 1;
    const std::size_t colon = line.find(": ");
    if (colon == std::string::npos) continue;
    const std::string hex = line.substr(colon + 2, 40);  // 8 groups of 4 hex digits with spaces
    std::string digits;
    for (char c : hex) {
      if (std::isxdigit(static_cast<unsigned char>(c))) digits += c;
    }
    for (std::size_t i = 0; i + 1 < digits.size(); i += 2) {
      bytes.push_back(static_cast<std::uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
    }
  }
  return bytes;
}

bool contains_uuid(const std::vector<std::uint8_t>& bytes) {
  return std::search(bytes.begin(), bytes.end(), kCueUuid.begin(), kCueUuid.end()) != bytes.end();
}

constexpr const char* kEncoder =
    "x264enc tune=zerolatency speed-preset=ultrafast bframes=0 key-int-max=30 bitrate=500 ! h264parse ! ";

}  // namespace

TEST_CASE("productcue puts the SEI exactly once into the access unit where the card becomes visible",
          "[productcue][ffmpeg]") {
  TempDir dir;
  Harness h((std::string("productoverlay name=overlay fade-duration=0 ! ") + kEncoder +
             "video/x-h264,stream-format=byte-stream,alignment=au ! productcue name=cue")
                .c_str(),
            /*parse=*/true);
  ElementRef overlay_ref(gst_bin_get_by_name(GST_BIN(h.element()), "overlay"), gst_object_unref);
  ElementRef cue_ref(gst_bin_get_by_name(GST_BIN(h.element()), "cue"), gst_object_unref);
  GstElement* overlay = overlay_ref.get();
  gst_bus_set_sync_handler(h.bus(), forward_to_cue, cue_ref.get(), nullptr);
  const GstVideoInfo info = h.set_video_caps("I420", 320, 240);

  constexpr int kFrames = 20;
  constexpr int kShowAt = 7;
  std::vector<AccessUnit> units;
  for (int i = 0; i < kFrames; ++i) {
    if (i == kShowAt) {
      g_object_set(overlay, "scene",
                   R"({"cards":[{"product_id":"pear-yulu","title":"玉露香梨","price":3990}]})", nullptr);
    }
    auto frame = make_frame(info, static_cast<GstClockTime>(i) * kFrame, static_cast<std::uint8_t>(i));
    REQUIRE(gst_harness_push(h.get(), gst_buffer_copy_deep(frame.get())) == GST_FLOW_OK);
    for (auto& u : pull_all(h)) units.push_back(std::move(u));
  }
  gst_harness_push_event(h.get(), gst_event_new_eos());
  for (auto& u : pull_all(h)) units.push_back(std::move(u));
  gst_bus_set_sync_handler(h.bus(), nullptr, nullptr, nullptr);

  REQUIRE(units.size() == kFrames);
  auto shown = h.take_element_messages("productoverlay-card");
  REQUIRE(shown.size() == 1);
  const GstClockTime shown_pts = uint64_field(shown[0].get(), "pts");
  CHECK(shown_pts == static_cast<GstClockTime>(kShowAt) * kFrame);
  auto inserted = h.take_element_messages("productcue-inserted");
  REQUIRE(inserted.size() == 1);
  CHECK(uint64_field(inserted[0].get(), "running-time") == uint64_field(shown[0].get(), "running-time"));
  // x264enc moves timestamps by a constant (its DTS offset); frame 0 had PTS 0.
  const GstClockTime offset = units[0].pts;
  CHECK(uint64_field(inserted[0].get(), "pts") - offset == shown_pts);

  // Our parser: one cue, in the access unit with the shown frame's PTS.
  int with_cue = 0;
  for (std::size_t i = 0; i < units.size(); ++i) {
    const auto& u = units[i];
    const auto cues = find_cues(u.bytes, AccessUnitFormat{H264Framing::kByteStream});
    if (cues.empty()) continue;
    ++with_cue;
    CHECK(i == kShowAt);
    CHECK(u.pts - offset == shown_pts);
    REQUIRE(cues.size() == 1);
    CHECK(cues[0] == Cue{"pear-yulu", "shown"});
  }
  CHECK(with_cue == 1);

  const std::string path = dir.path() + "/cued.h264";
  {
    std::ofstream out(path, std::ios::binary);
    for (const auto& u : units)
      out.write(reinterpret_cast<const char*>(u.bytes.data()), static_cast<std::streamsize>(u.bytes.size()));
  }
  // ffprobe sees the UUID in exactly one packet: the kShowAt-th access unit.
  const CommandResult probe = run("ffprobe -v error -show_packets -show_data -of json " + path);
  REQUIRE(probe.exit_code == 0);
  const auto packets = nlohmann::json::parse(probe.output.substr(probe.output.find('{')))["packets"];
  REQUIRE(packets.size() == kFrames);
  std::vector<std::size_t> packets_with_uuid;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    if (contains_uuid(parse_hex_dump(packets[i].value("data", "")))) packets_with_uuid.push_back(i);
  }
  CHECK(packets_with_uuid == std::vector<std::size_t>{kShowAt});

  // ffmpeg still decodes every frame without complaint.
  const CommandResult decode = run("ffmpeg -v error -i " + path + " -f null -");
  CHECK(decode.exit_code == 0);
  CHECK(decode.output.empty());
  const CommandResult count = run(
      "ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 " +
      path);
  CHECK(count.exit_code == 0);
  CHECK(std::stoi(count.output) == kFrames);
}

TEST_CASE("productcue cues scene changes in avc streams as shown and hidden", "[productcue]") {
  Harness h(
      (std::string(kEncoder) + "video/x-h264,stream-format=avc,alignment=au ! productcue name=cue").c_str(),
      /*parse=*/true);
  ElementRef cue_ref(gst_bin_get_by_name(GST_BIN(h.element()), "cue"), gst_object_unref);
  GstElement* cue = cue_ref.get();
  const GstVideoInfo info = h.set_video_caps("I420", 320, 240);
  std::vector<AccessUnit> units;
  for (int i = 0; i < 10; ++i) {
    if (i == 3)
      g_object_set(cue, "scene", R"({"cards":[{"product_id":"crab"},{"product_id":"pear"}]})", nullptr);
    if (i == 6) g_object_set(cue, "scene", R"({"cards":[{"product_id":"pear"}]})", nullptr);
    if (i == 8) g_object_set(cue, "scene", "{broken", nullptr);  // ignored with a warning
    auto frame = make_frame(info, static_cast<GstClockTime>(i) * kFrame, static_cast<std::uint8_t>(i));
    REQUIRE(gst_harness_push(h.get(), gst_buffer_copy_deep(frame.get())) == GST_FLOW_OK);
    for (auto& u : pull_all(h)) units.push_back(std::move(u));
  }
  REQUIRE(units.size() == 10);
  CHECK(h.take_warnings().size() == 1);

  // The NAL length size comes from the negotiated avcC.
  GstPad* cue_src = gst_element_get_static_pad(cue, "src");
  GstCaps* caps = gst_pad_get_current_caps(cue_src);
  gst_object_unref(cue_src);
  REQUIRE(caps);
  const GValue* codec_data = gst_structure_get_value(gst_caps_get_structure(caps, 0), "codec_data");
  REQUIRE(codec_data);
  GstMapInfo map;
  GstBuffer* avcc = gst_value_get_buffer(codec_data);
  gst_buffer_map(avcc, &map, GST_MAP_READ);
  AccessUnitFormat format{H264Framing::kAvc, 4};
  format.nal_length_size = harvest::livecommerce::avcc_nal_length_size({map.data, map.size}).value_or(-1);
  gst_buffer_unmap(avcc, &map);
  gst_caps_unref(caps);
  REQUIRE(format.nal_length_size > 0);

  for (std::size_t i = 0; i < units.size(); ++i) {
    const auto cues = find_cues(units[i].bytes, format);
    INFO("access unit " << i);
    if (i == 3) {
      CHECK(cues == std::vector<Cue>{{"crab", "shown"}, {"pear", "shown"}});
    } else if (i == 6) {
      CHECK(cues == std::vector<Cue>{{"crab", "hidden"}});
    } else {
      CHECK(cues.empty());
    }
  }
  gboolean ok = TRUE;
  g_signal_emit_by_name(cue, "add-cue", "pear", "exploded", GST_CLOCK_TIME_NONE, &ok);
  CHECK_FALSE(ok);
}
