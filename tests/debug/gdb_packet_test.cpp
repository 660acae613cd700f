// The gdb remote protocol's framing layer: checksums, hex, binary escapes,
// and the decoder on good, bad and hostile input.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "debug/gdb_packet.h"

namespace disco::debug {
namespace {

using Kind = PacketDecoder::Kind;

std::vector<PacketDecoder::Event> decode(PacketDecoder& d, const std::string& bytes) {
  std::vector<PacketDecoder::Event> out;
  d.feed(bytes, out);
  return out;
}

TEST(GdbPacket, ChecksumAndFraming) {
  EXPECT_EQ(checksum(""), 0);
  EXPECT_EQ(checksum("g"), 0x67);
  EXPECT_EQ(checksum("OK"), 0x9a);
  EXPECT_EQ(frame_packet("OK"), "$OK#9a");
  EXPECT_EQ(frame_packet(""), "$#00");
  // The sum wraps modulo 256.
  EXPECT_EQ(checksum(std::string(3, '\xff')), 0xfd);
}

TEST(GdbPacket, Hex) {
  const uint8_t bytes[] = {0x00, 0x7f, 0x80, 0xff, 0x3c};
  EXPECT_EQ(to_hex(bytes, sizeof bytes), "007f80ff3c");
  std::vector<uint8_t> back;
  ASSERT_TRUE(from_hex("007F80fF3c", back));
  EXPECT_EQ(back, std::vector<uint8_t>(bytes, bytes + sizeof bytes));
  EXPECT_FALSE(from_hex("abc", back));  // odd length
  EXPECT_FALSE(from_hex("zz", back));
  EXPECT_TRUE(from_hex("", back));
  EXPECT_TRUE(back.empty());

  uint64_t v;
  ASSERT_TRUE(parse_hex_u64("ffffffff80100000", v));
  EXPECT_EQ(v, 0xffffffff80100000ull);
  ASSERT_TRUE(parse_hex_u64("A", v));
  EXPECT_EQ(v, 10u);
  EXPECT_FALSE(parse_hex_u64("", v));
  EXPECT_FALSE(parse_hex_u64("1ffffffff80100000", v));  // 17 digits
  EXPECT_FALSE(parse_hex_u64("12g", v));
  EXPECT_FALSE(parse_hex_u64("-1", v));
  EXPECT_EQ(hex_digit('f'), 15);
  EXPECT_EQ(hex_digit('G'), -1);
}

TEST(GdbPacket, BinaryEscapesRoundTrip) {
  EXPECT_EQ(escape_binary("a#b$c}d*e"), "a}\x03" "b}\x04" "c}]d}\x0a" "e");
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  std::string back;
  ASSERT_TRUE(unescape_binary(escape_binary(all), back));
  EXPECT_EQ(back, all);
  // No special byte survives escaping.
  for (char ch : escape_binary(all))
    if (ch == '}') continue;
    else EXPECT_TRUE(ch != '#' && ch != '$' && ch != '*');
  EXPECT_FALSE(unescape_binary("abc}", back));  // dangling escape
}

TEST(GdbPacket, DecodesPacketsAcksAndInterrupts) {
  PacketDecoder d;
  auto ev = decode(d, "+$g#67-\x03$m0,4#fd");
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_EQ(ev[0].kind, Kind::Ack);
  EXPECT_EQ(ev[1].kind, Kind::Packet);
  EXPECT_EQ(ev[1].payload, "g");
  EXPECT_EQ(ev[2].kind, Kind::Nack);
  EXPECT_EQ(ev[3].kind, Kind::Interrupt);
  EXPECT_EQ(ev[4].kind, Kind::Packet);
  EXPECT_EQ(ev[4].payload, "m0,4");
  EXPECT_FALSE(d.in_packet());
}

TEST(GdbPacket, UppercaseChecksumDigitsAreAccepted) {
  PacketDecoder d;
  auto ev = decode(d, frame_packet("OK").substr(0, 4) + "9A");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Kind::Packet);
}

TEST(GdbPacket, ByteByByteIsTheSame) {
  PacketDecoder d;
  const std::string wire = frame_packet("qSupported:swbreak+;hwbreak+") + "+" + frame_packet("vCont;c");
  std::vector<PacketDecoder::Event> ev;
  for (char ch : wire) d.feed(std::string(1, ch), ev);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].payload, "qSupported:swbreak+;hwbreak+");
  EXPECT_EQ(ev[1].kind, Kind::Ack);
  EXPECT_EQ(ev[2].payload, "vCont;c");
}

TEST(GdbPacket, BadChecksums) {
  PacketDecoder d;
  auto ev = decode(d, "$g#00$g#6$g#zz$g#67");
  // "$g#6$" takes '$' as the second digit: bad; then "g#zz" is noise
  // outside a packet; the last one is good.
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].kind, Kind::BadChecksum);
  EXPECT_EQ(ev[1].kind, Kind::BadChecksum);
  EXPECT_EQ(ev[2].kind, Kind::Packet);
  EXPECT_EQ(ev[2].payload, "g");
}

TEST(GdbPacket, GarbageBetweenPacketsIsIgnored) {
  PacketDecoder d;
  std::string junk = "hello\r\n\x00\xff\x7f###}}}";
  junk += frame_packet("?");
  auto ev = decode(d, junk);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Kind::Packet);
  EXPECT_EQ(ev[0].payload, "?");
}

TEST(GdbPacket, DollarRestartsAPacket) {
  PacketDecoder d;
  auto ev = decode(d, "$m1234$g#67");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].payload, "g");
}

TEST(GdbPacket, EscapedBytesStayInThePayload) {
  // An X packet whose data holds '#' (sent as "}\x03"): the packet does not
  // end there, and the payload keeps the escape for the handler.
  const std::string payload = "X100,1:" + escape_binary("#");
  PacketDecoder d;
  auto ev = decode(d, frame_packet(payload));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].payload, payload);
  std::string raw;
  ASSERT_TRUE(unescape_binary(ev[0].payload.substr(7), raw));
  EXPECT_EQ(raw, "#");
}

TEST(GdbPacket, OversizedPacketsAreDroppedNotStored) {
  PacketDecoder d(64);
  auto ev = decode(d, frame_packet(std::string(1000, 'a')) + frame_packet("g"));
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, Kind::TooLong);
  EXPECT_EQ(ev[1].kind, Kind::Packet);
}

TEST(GdbPacket, ResetForgetsAPartialPacket) {
  PacketDecoder d;
  EXPECT_TRUE(decode(d, "$m0,").empty());
  EXPECT_TRUE(d.in_packet());
  d.reset();
  auto ev = decode(d, "4#fd");  // the tail of the old packet: noise now
  EXPECT_TRUE(ev.empty());
  EXPECT_FALSE(d.in_packet());
}

TEST(GdbPacket, RandomBytesNeverBreakTheDecoder) {
  std::mt19937 rng(7);
  PacketDecoder d(256);
  std::vector<PacketDecoder::Event> ev;
  for (int round = 0; round < 2000; ++round) {
    std::string s;
    const int n = static_cast<int>(rng() % 64);
    for (int i = 0; i < n; ++i) {
      // Bias towards the protocol's special bytes.
      static const char special[] = "$#}+-\x03" "0a";
      s += (rng() % 3 == 0) ? special[rng() % 8] : static_cast<char>(rng() & 0xff);
    }
    d.feed(s, ev);
    for (const auto& e : ev) EXPECT_LE(e.payload.size(), 256u);
    ev.clear();
  }
  // It still decodes a good packet afterwards.
  d.reset();
  d.feed(frame_packet("g"), ev);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].payload, "g");
}

TEST(GdbPacket, SplitAt) {
  std::string_view a, b;
  ASSERT_TRUE(split_at("m10,20", ',', a, b));
  EXPECT_EQ(a, "m10");
  EXPECT_EQ(b, "20");
  EXPECT_FALSE(split_at("m10", ',', a, b));
}

}  // namespace
}  // namespace disco::debug
