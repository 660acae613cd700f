// The framing layer of gdb's remote serial protocol, with no sockets and no
// VM: checksums, hex and binary encodings, and a decoder that turns the
// bytes a client sends into packets, acknowledgements and interrupts.
//
// A packet is "$payload#cc", cc the modulo-256 sum of the payload's bytes
// in two hex digits; the receiver answers '+' (good) or '-' (send again).
// Between packets a client may send a lone 0x03 (Ctrl-C: stop the target).
// In binary data (X packets, qXfer replies) '#', '$', '}' and '*' are sent
// as '}' followed by the byte XOR 0x20.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace disco::debug {

// The largest payload this side accepts and announces (qSupported
// PacketSize; gdb never sends more).
constexpr size_t kMaxPacketPayload = 0x4000;

uint8_t checksum(std::string_view payload);
// "$" payload "#" checksum. The payload is sent as is: binary data must
// already be escaped (escape_binary).
std::string frame_packet(std::string_view payload);

std::string escape_binary(std::string_view raw);
// False on a dangling escape at the end.
bool unescape_binary(std::string_view escaped, std::string& raw);

// -1 if `ch` is not a hex digit.
int hex_digit(char ch);
std::string to_hex(const uint8_t* data, size_t n);
inline std::string to_hex(std::string_view s) {
  return to_hex(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
// Pairs of hex digits to bytes; false on odd length or a non-hex digit.
bool from_hex(std::string_view hex, std::vector<uint8_t>& out);
// 1 to 16 hex digits, nothing else.
bool parse_hex_u64(std::string_view hex, uint64_t& out);
// Splits "a<sep>b" at the first `sep`; false if there is none.
bool split_at(std::string_view s, char sep, std::string_view& head, std::string_view& tail);

class PacketDecoder {
 public:
  enum class Kind {
    Packet,       // a whole packet with a good checksum (answer '+')
    BadChecksum,  // a whole packet whose checksum is wrong or unreadable (answer '-')
    TooLong,      // a packet longer than the limit, dropped (answer '-')
    Interrupt,    // 0x03 between packets
    Ack,          // '+'
    Nack,         // '-': the client wants our last packet again
  };
  struct Event {
    Kind kind;
    std::string payload;  // Packet only (still escaped)
  };

  explicit PacketDecoder(size_t max_payload = kMaxPacketPayload) : max_(max_payload) {}
  // Appends to `out` what the bytes complete. Anything else between
  // packets is ignored; a '$' inside a packet starts a new one.
  void feed(const uint8_t* data, size_t n, std::vector<Event>& out);
  void feed(std::string_view s, std::vector<Event>& out) {
    feed(reinterpret_cast<const uint8_t*>(s.data()), s.size(), out);
  }
  // Forgets a partial packet (new connection).
  void reset();
  // True while in the middle of a packet.
  bool in_packet() const { return state_ != State::Idle; }

 private:
  enum class State { Idle, Body, Check1, Check2 };
  State state_ = State::Idle;
  size_t max_;
  std::string body_;
  bool overflow_ = false;
  uint8_t sum_ = 0;
  int check_hi_ = 0;
};

}  // namespace disco::debug
