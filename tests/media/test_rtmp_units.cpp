// Pure parts of RTMP ingest: chunk stream parser/writer, AMF0, FLV tags, handshake, SRT stream ids,
// timestamp repair.
#include <catch2/catch.hpp>

#include "media/rtmp/amf0.h"
#include "media/rtmp/chunk.h"
#include "media/rtmp/flv.h"
#include "media/srt/stream_id.h"
#include "media/ingest/timestamp_repair.h"

using namespace harvest::media;
using namespace harvest::media::rtmp;

namespace {
std::span<const uint8_t> bytes(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }
std::string u8s(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(static_cast<char>(b));
  return s;
}
}  // namespace

TEST_CASE("chunk parser reassembles messages split into chunks, fed one byte at a time", "[unit][rtmp]") {
  std::string wire;
  const std::string big(1000, 'v');
  write_message(wire, 6, kVideo, 1, 40, big, 128);
  write_message(wire, 4, kAudio, 1, 45, "aac", 128);
  ChunkParser parser;
  std::vector<RtmpMessage> out;
  for (char c : wire) REQUIRE(parser.feed(bytes(std::string(1, c)), out) == ChunkParser::Error::none);
  REQUIRE(out.size() == 2);
  CHECK(out[0].type == kVideo);
  CHECK(out[0].stream_id == 1);
  CHECK(out[0].timestamp == 40);
  CHECK(out[0].payload == big);
  CHECK(out[1].chunk_stream == 4);
  CHECK(out[1].payload == "aac");
}

TEST_CASE("chunk parser shows the head of a message still arriving", "[unit][rtmp]") {
  std::string wire;
  const std::string keyframe = std::string("\x17\x01\x00\x00\x21", 5) + std::string(9000, 'k');
  write_message(wire, 6, kVideo, 1, 2000, keyframe, 128);
  ChunkParser parser;
  std::vector<RtmpMessage> out;
  CHECK_FALSE(parser.partial(kVideo, 5).has_value());
  REQUIRE(parser.feed(bytes(wire.substr(0, 12 + 3)), out) == ChunkParser::Error::none);
  CHECK_FALSE(parser.partial(kVideo, 5).has_value());  // 3 payload bytes: not enough yet
  REQUIRE(parser.feed(bytes(wire.substr(15, 100)), out) == ChunkParser::Error::none);
  auto part = parser.partial(kVideo, 5);
  REQUIRE(part.has_value());
  CHECK(part->timestamp == 2000);
  CHECK(part->length == keyframe.size());
  CHECK(part->head.substr(0, 5) == keyframe.substr(0, 5));
  CHECK_FALSE(parser.partial(kAudio, 1).has_value());
  REQUIRE(parser.feed(bytes(wire.substr(115)), out) == ChunkParser::Error::none);
  REQUIRE(out.size() == 1);  // complete: no longer partial
  CHECK(out[0].payload == keyframe);
  CHECK_FALSE(parser.partial(kVideo, 5).has_value());
}

TEST_CASE("chunk parser handles fmt 1, 2 and 3 headers with timestamp deltas", "[unit][rtmp]") {
  // fmt0 csid 4: ts 1000, len 2, type 8, stream 1
  std::string w = u8s({0x04, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x02, 0x08, 0x01, 0x00, 0x00, 0x00}) + "a1";
  // fmt1: delta 23, len 3, type 8
  w += u8s({0x44, 0x00, 0x00, 0x17, 0x00, 0x00, 0x03, 0x08}) + "a22";
  // fmt2: delta 20 (same length/type)
  w += u8s({0x84, 0x00, 0x00, 0x14}) + "a33";
  // fmt3: a new message with the previous delta
  w += u8s({0xc4}) + "a44";
  ChunkParser parser;
  std::vector<RtmpMessage> out;
  REQUIRE(parser.feed(bytes(w), out) == ChunkParser::Error::none);
  REQUIRE(out.size() == 4);
  CHECK(out[0].timestamp == 1000);
  CHECK(out[1].timestamp == 1023);
  CHECK(out[2].timestamp == 1043);
  CHECK(out[3].timestamp == 1063);
  CHECK(out[3].payload == "a44");
  CHECK(out[3].stream_id == 1);
}

TEST_CASE("chunk parser reads extended timestamps, also on fmt 3 continuation chunks", "[unit][rtmp]") {
  std::string wire;
  write_message(wire, 6, kVideo, 1, 0x01000000, std::string(300, 'x'), 128);
  ChunkParser parser;
  std::vector<RtmpMessage> out;
  REQUIRE(parser.feed(bytes(wire), out) == ChunkParser::Error::none);
  REQUIRE(out.size() == 1);
  CHECK(out[0].timestamp == 0x01000000);
  CHECK(out[0].payload.size() == 300);
}

TEST_CASE("chunk parser applies Set Chunk Size and interleaved chunk streams", "[unit][rtmp]") {
  std::string wire;
  write_message(wire, 2, kSetChunkSize, 0, 0, u8s({0, 0, 0x10, 0}), 128);
  // Two messages interleaved chunk by chunk at 4096.
  std::string a, b;
  write_message(a, 6, kVideo, 1, 0, std::string(5000, 'V'), 4096);
  write_message(b, 4, kAudio, 1, 0, std::string(5000, 'A'), 4096);
  const size_t first = 12 + 4096;
  wire += a.substr(0, first) + b.substr(0, first) + a.substr(first) + b.substr(first);
  ChunkParser parser;
  std::vector<RtmpMessage> out;
  REQUIRE(parser.feed(bytes(wire), out) == ChunkParser::Error::none);
  CHECK(parser.chunk_size() == 4096);
  REQUIRE(out.size() == 3);
  CHECK(out[1].payload == std::string(5000, 'V'));
  CHECK(out[2].payload == std::string(5000, 'A'));
}

TEST_CASE("chunk parser refuses bad chunk sizes, oversized messages and headerless chunks", "[unit][rtmp]") {
  std::vector<RtmpMessage> out;
  {
    std::string w;
    write_message(w, 2, kSetChunkSize, 0, 0, u8s({0x7f, 0xff, 0xff, 0xff}), 128);
    ChunkParser p;
    CHECK(p.feed(bytes(w), out) == ChunkParser::Error::bad_chunk_size);
    CHECK(p.feed(bytes(w), out) == ChunkParser::Error::bad_chunk_size);  // sticky
  }
  {
    std::string w;
    write_message(w, 2, kSetChunkSize, 0, 0, u8s({0, 0, 0, 0}), 128);
    ChunkParser p;
    CHECK(p.feed(bytes(w), out) == ChunkParser::Error::bad_chunk_size);
  }
  {
    ChunkParser p(ChunkLimits{.max_message_bytes = 1000});
    std::string w = u8s({0x06, 0, 0, 0, 0, 0x10, 0x00, 0x09, 1, 0, 0, 0});  // 4096-byte message
    CHECK(p.feed(bytes(w), out) == ChunkParser::Error::message_too_large);
  }
  {
    ChunkParser p;
    CHECK(p.feed(bytes(u8s({0xc7, 1, 2, 3})), out) == ChunkParser::Error::no_previous_header);
  }
  {
    ChunkParser p(ChunkLimits{.max_chunk_streams = 2});
    std::string w;
    for (uint32_t cs = 3; cs < 6; ++cs) write_message(w, cs, kAudio, 1, 0, "x", 128);
    CHECK(p.feed(bytes(w), out) == ChunkParser::Error::too_many_chunk_streams);
  }
  {
    // Partial messages on many chunk streams cannot hold more than the buffer limit.
    ChunkParser p(ChunkLimits{.max_message_bytes = 1000, .max_buffered_bytes = 1500});
    std::string w;
    for (uint32_t cs = 3; cs < 6; ++cs) w += std::string(1, static_cast<char>(cs)) + u8s({0, 0, 0, 0, 0x03, 0xe8, 8, 1, 0, 0, 0}) + std::string(128, 'x');
    for (uint32_t cs = 3; cs < 6; ++cs) for (int i = 0; i < 4; ++i) w += std::string(1, static_cast<char>(0xc0 | cs)) + std::string(128, 'x');
    CHECK(p.feed(bytes(w), out) == ChunkParser::Error::buffer_limit);
  }
}

TEST_CASE("chunk stream ids of 1, 2 and 3 bytes round-trip", "[unit][rtmp]") {
  for (uint32_t cs : {3u, 63u, 64u, 319u, 320u, 65599u}) {
    std::string w;
    write_message(w, cs, kDataAmf0, 1, 5, "hello", 128);
    ChunkParser p;
    std::vector<RtmpMessage> out;
    REQUIRE(p.feed(bytes(w), out) == ChunkParser::Error::none);
    REQUIRE(out.size() == 1);
    CHECK(out[0].chunk_stream == cs);
  }
}

TEST_CASE("server handshake answers C0+C1 with S0+S1+S2 and completes on C2", "[unit][rtmp]") {
  ServerHandshake h;
  std::string reply;
  const std::string c0c1 = client_handshake_c0c1();
  CHECK(h.feed(bytes(c0c1.substr(0, 100)), reply) == 100);
  CHECK(reply.empty());
  CHECK(h.feed(bytes(c0c1.substr(100)), reply) == c0c1.size() - 100);
  REQUIRE(reply.size() == kServerHandshakeBytes);
  CHECK(reply[0] == 3);
  CHECK(reply.substr(1 + 1536) == c0c1.substr(1));  // S2 echoes C1
  const std::string c2 = client_handshake_c2(reply) + "extra";
  CHECK(h.feed(bytes(c2), reply) == 1536);
  CHECK(h.state() == ServerHandshake::State::done);

  ServerHandshake bad;
  std::string r2;
  bad.feed(bytes("GET / HTTP/1.1"), r2);
  CHECK(bad.state() == ServerHandshake::State::failed);
}

TEST_CASE("AMF0 encodes and decodes commands and metadata", "[unit][amf0]") {
  const std::vector<Amf0Value> in = {
      Amf0Value::string("connect"), Amf0Value::number(1),
      Amf0Value::object({{"app", Amf0Value::string("live")},
                         {"flag", Amf0Value::boolean(true)},
                         {"nested", Amf0Value::ecma_array({{"w", Amf0Value::number(720)}})},
                         {"list", Amf0Value::strict_array({Amf0Value::null(), Amf0Value::undefined()})},
                         {"when", Amf0Value::date(1.5e12)}}),
      Amf0Value::string(std::string(70000, 'L'))};  // long string
  const std::string wire = amf0_encode_all(in);
  auto out = amf0_decode_all(bytes(wire));
  REQUIRE(out);
  REQUIRE(out->size() == 4);
  CHECK((*out)[0].as_string() == "connect");
  CHECK((*out)[1].as_number() == 1);
  const Amf0Value& obj = (*out)[2];
  CHECK(obj.get("app")->as_string() == "live");
  CHECK(obj.get("flag")->as_bool());
  CHECK(obj.get("nested")->get("w")->as_number() == 720);
  CHECK(obj.get("list")->items().size() == 2);
  CHECK(obj.get("when")->as_number() == 1.5e12);
  CHECK(obj.get("missing") == nullptr);
  CHECK((*out)[3].as_string().size() == 70000);
  CHECK(amf0_encode_all(*out) == wire);
}

TEST_CASE("AMF0 refuses truncated, unknown and too deeply nested input", "[unit][amf0]") {
  const std::string wire = amf0_encode_all({Amf0Value::object({{"a", Amf0Value::string("bcd")}})});
  for (size_t n = 1; n < wire.size(); ++n) CHECK_FALSE(amf0_decode_all(bytes(wire.substr(0, n))));
  CHECK_FALSE(amf0_decode_all(bytes(u8s({0x42}))));                   // unknown marker
  CHECK_FALSE(amf0_decode_all(bytes(u8s({0x0a, 0xff, 0xff, 0xff, 0xff}))));  // strict array count beyond input
  std::string deep;
  for (int i = 0; i < 20; ++i) deep += u8s({0x03, 0x00, 0x01}) + "k";
  CHECK_FALSE(amf0_decode_all(bytes(deep)));
  CHECK(amf0_decode_all(bytes(""))->empty());
}

TEST_CASE("FLV tag headers: H.264, HEVC (legacy id 12 and enhanced hvc1), AAC", "[unit][rtmp]") {
  const std::string avc_body = u8s({0x17, 0x01, 0x00, 0x00, 0x21, 0xaa});
  auto avc = parse_video_tag(avc_body);
  REQUIRE(avc);
  CHECK(avc->codec == VideoCodec::h264);
  CHECK(avc->keyframe);
  CHECK(avc->composition_ms == 0x21);
  CHECK(avc->data == std::string_view("\xaa", 1));
  auto negative_cts = parse_video_tag(u8s({0x27, 0x01, 0xff, 0xff, 0xfe}));
  CHECK(negative_cts->composition_ms == -2);
  CHECK(parse_video_tag(u8s({0x1c, 0, 0, 0, 0}))->codec == VideoCodec::hevc);
  auto enhanced = parse_video_tag(std::string("\x90hvc1", 5));
  REQUIRE(enhanced);
  CHECK(enhanced->codec == VideoCodec::hevc);
  CHECK(enhanced->sequence_header);
  CHECK_FALSE(parse_video_tag(u8s({0x17, 0x01})));
  const std::string aac_body = u8s({0xaf, 0x00, 0x12, 0x10});
  auto aac = parse_audio_tag(aac_body);
  REQUIRE(aac);
  CHECK(aac->codec == AudioCodec::aac);
  CHECK(aac->sequence_header);
  auto cfg = parse_audio_specific_config(aac->data);
  REQUIRE(cfg);
  CHECK(cfg->object_type == 2);
  CHECK(cfg->sample_rate == 44100);
  CHECK(cfg->channels == 2);
  CHECK(parse_audio_tag(u8s({0x2f, 0x00}))->codec == AudioCodec::mp3);
}

TEST_CASE("FLV files round-trip through write and parse", "[unit][rtmp]") {
  std::vector<FlvTag> tags = {{18, 0, "meta"}, {9, 0, "video"}, {8, 0x01020304, "audio"}};
  auto back = parse_flv_file(write_flv_file(tags, true, true));
  REQUIRE(back);
  REQUIRE(back->size() == 3);
  CHECK((*back)[2].timestamp == 0x01020304);
  CHECK((*back)[1].body == "video");
  CHECK_FALSE(parse_flv_file("nope"));
}

TEST_CASE("SRT stream ids: access-control syntax and plain resources", "[unit][srt]") {
  auto id = srt::parse_stream_id("#!::r=live/sk_abc,m=publish,u=farmer");
  REQUIRE(id);
  CHECK(id->resource == "live/sk_abc");
  CHECK(id->mode == "publish");
  CHECK(id->user == "farmer");
  CHECK(srt::publish_key(*id) == "sk_abc");
  auto plain = srt::parse_stream_id("live/sk_x");
  REQUIRE(plain);
  CHECK(plain->mode.empty());
  CHECK(srt::publish_key(*plain) == "sk_x");
  CHECK_FALSE(srt::parse_stream_id(""));
  CHECK_FALSE(srt::parse_stream_id("#!::=x"));
  CHECK_FALSE(srt::parse_stream_id(std::string(600, 'a')));
  CHECK_FALSE(srt::publish_key(*srt::parse_stream_id("#!::r=live/a/b,m=publish")));
  CHECK(srt::parse_stream_id("#!::r=live/k,m=request")->mode == "request");
}

TEST_CASE("timestamp repair passes steady time and re-anchors jumps forwards and backwards", "[unit][media]") {
  TimestampRepair r;
  const int64_t ms = 1'000'000;
  // Starts at 0 whatever the origin.
  CHECK(r.map(TimestampRepair::video, 5000 * ms) == 0);
  CHECK(r.map(TimestampRepair::audio, 5010 * ms) == 10 * ms);
  CHECK(r.map(TimestampRepair::video, 5033 * ms) == 33 * ms);
  CHECK(r.map(TimestampRepair::video, 5066 * ms) == 66 * ms);
  CHECK(r.repairs() == 0);
  // +1 hour: one frame later instead.
  CHECK(r.map(TimestampRepair::video, 3'605'066 * ms) == 99 * ms);
  CHECK(r.map(TimestampRepair::video, 3'605'099 * ms) == 132 * ms);
  CHECK(r.repairs() == 1);
  // Backwards by 10 s: also one frame later.
  CHECK(r.map(TimestampRepair::video, 3'595'099 * ms) == 165 * ms);
  CHECK(r.repairs() == 2);
  // Small reordering is clamped, never backwards.
  const int64_t a = r.map(TimestampRepair::video, 3'595'090 * ms);
  CHECK(a > 165 * ms);
  // 32-bit RTMP timestamps unwrap.
  TimestampUnwrapper u;
  CHECK(u.unwrap(0xFFFFFFF0u) == 0xFFFFFFF0ll);
  CHECK(u.unwrap(0x10u) == 0x100000010ll);
}
