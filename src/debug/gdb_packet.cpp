#include "debug/gdb_packet.h"

namespace disco::debug {

namespace {
const char kHex[] = "0123456789abcdef";

bool needs_escape(uint8_t b) { return b == '#' || b == '$' || b == '}' || b == '*'; }
}  // namespace

uint8_t checksum(std::string_view payload) {
  uint8_t sum = 0;
  for (char ch : payload) sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(ch));
  return sum;
}

std::string frame_packet(std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 4);
  out += '$';
  out += payload;
  const uint8_t sum = checksum(payload);
  out += '#';
  out += kHex[sum >> 4];
  out += kHex[sum & 15];
  return out;
}

std::string escape_binary(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (char ch : raw) {
    const auto b = static_cast<uint8_t>(ch);
    if (needs_escape(b)) {
      out += '}';
      out += static_cast<char>(b ^ 0x20);
    } else {
      out += ch;
    }
  }
  return out;
}

bool unescape_binary(std::string_view in, std::string& raw) {
  raw.clear();
  raw.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '}') {
      raw += in[i];
      continue;
    }
    if (++i >= in.size()) return false;
    raw += static_cast<char>(static_cast<uint8_t>(in[i]) ^ 0x20);
  }
  return true;
}

int hex_digit(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

std::string to_hex(const uint8_t* data, size_t n) {
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 15];
  }
  return out;
}

bool from_hex(std::string_view hex, std::vector<uint8_t>& out) {
  out.clear();
  if (hex.size() % 2) return false;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return true;
}

bool parse_hex_u64(std::string_view hex, uint64_t& out) {
  if (hex.empty() || hex.size() > 16) return false;
  uint64_t v = 0;
  for (char ch : hex) {
    const int d = hex_digit(ch);
    if (d < 0) return false;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  out = v;
  return true;
}

bool split_at(std::string_view s, char sep, std::string_view& head, std::string_view& tail) {
  const size_t at = s.find(sep);
  if (at == std::string_view::npos) return false;
  head = s.substr(0, at);
  tail = s.substr(at + 1);
  return true;
}

void PacketDecoder::reset() {
  state_ = State::Idle;
  body_.clear();
  overflow_ = false;
  sum_ = 0;
}

void PacketDecoder::feed(const uint8_t* data, size_t n, std::vector<Event>& out) {
  for (size_t i = 0; i < n; ++i) {
    const uint8_t b = data[i];
    switch (state_) {
      case State::Idle:
        if (b == '$') {
          reset();
          state_ = State::Body;
        } else if (b == '+') {
          out.push_back({Kind::Ack, {}});
        } else if (b == '-') {
          out.push_back({Kind::Nack, {}});
        } else if (b == 0x03) {
          out.push_back({Kind::Interrupt, {}});
        }
        // Anything else between packets is noise.
        break;
      case State::Body:
        if (b == '#') {
          state_ = State::Check1;
        } else if (b == '$') {
          reset();  // a lost '#': what came before is dropped
          state_ = State::Body;
        } else {
          sum_ = static_cast<uint8_t>(sum_ + b);
          if (body_.size() < max_) body_ += static_cast<char>(b);
          else overflow_ = true;
        }
        break;
      case State::Check1:
        check_hi_ = hex_digit(static_cast<char>(b));
        state_ = State::Check2;
        break;
      case State::Check2: {
        const int lo = hex_digit(static_cast<char>(b));
        const bool good = check_hi_ >= 0 && lo >= 0 && static_cast<uint8_t>(check_hi_ << 4 | lo) == sum_;
        if (overflow_) out.push_back({Kind::TooLong, {}});
        else if (!good) out.push_back({Kind::BadChecksum, {}});
        else out.push_back({Kind::Packet, std::move(body_)});
        reset();
        break;
      }
    }
  }
}

}  // namespace disco::debug
