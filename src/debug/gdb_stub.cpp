#include "debug/gdb_stub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "cpu/cp0.h"
#include "cpu/mmu.h"

namespace disco::debug {

namespace {

constexpr int kSigInt = 2;
constexpr int kSigTrap = 5;
constexpr int kPollMs = 100;         // while stopped: how often limits are checked
constexpr int kSendTimeoutMs = 5000;  // a client that reads nothing for this long is dropped
constexpr unsigned kMaxResends = 8;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string hex2(unsigned v) {
  char b[4];
  std::snprintf(b, sizeof b, "%02x", v & 0xff);
  return b;
}

// Register bytes in the guest's byte order (as gdb expects for the target).
void put_reg(std::string& out, uint64_t v, bool big_endian) {
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[big_endian ? 7 - i : i] = static_cast<uint8_t>(v >> (8 * i));
  out += to_hex(b, 8);
}

uint64_t get_reg(const uint8_t* b, bool big_endian) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(b[big_endian ? 7 - i : i]) << (8 * i);
  return v;
}

// "ADDR,LEN" (hex both).
bool parse_addr_len(std::string_view s, uint64_t& addr, uint64_t& len) {
  std::string_view a, l;
  return split_at(s, ',', a, l) && parse_hex_u64(a, addr) && parse_hex_u64(l, len);
}

}  // namespace

bool read_register(const Cpu& c, int n, uint64_t& v) {
  const CpuState& s = c.s;
  if (n >= kRegGpr0 && n < kRegGpr0 + 32) v = s.gpr[n - kRegGpr0];
  else if (n >= kRegFpr0 && n < kRegFpr0 + 32) v = s.fpr[n - kRegFpr0];
  else switch (n) {
    case kRegStatus: v = s.cp0.status; break;
    case kRegLo: v = s.lo; break;
    case kRegHi: v = s.hi; break;
    case kRegBadVAddr: v = s.cp0.badvaddr; break;
    case kRegCause: v = s.cp0.cause; break;
    case kRegPc: v = s.pc; break;
    case kRegFcsr: v = s.fcsr; break;
    case kRegFir: v = s.fir; break;
    case kRegEpc: v = s.cp0.epc; break;
    default: return false;
  }
  return true;
}

bool write_register(Cpu& c, int n, uint64_t v) {
  CpuState& s = c.s;
  if (n == kRegGpr0) return true;  // $zero stays zero
  if (n > kRegGpr0 && n < kRegGpr0 + 32) s.gpr[n - kRegGpr0] = v;
  else if (n >= kRegFpr0 && n < kRegFpr0 + 32) s.fpr[n - kRegFpr0] = v;
  else switch (n) {
    // Status and Cause as MTC0 writes them (writable bits, mode and
    // interrupt bookkeeping).
    case kRegStatus: cp0_write(c, cp0::Status, v); break;
    case kRegCause: cp0_write(c, cp0::Cause, v); break;
    case kRegLo: s.lo = v; break;
    case kRegHi: s.hi = v; break;
    case kRegBadVAddr: s.cp0.badvaddr = v; break;
    case kRegPc:
      if (v != s.pc) {
        // A new pc leaves any delay slot behind.
        s.pc = v;
        s.branch_pending = false;
        s.in_delay_slot = false;
      }
      break;
    case kRegFcsr: s.fcsr = static_cast<uint32_t>(v); break;
    case kRegFir: break;  // read-only
    case kRegEpc: s.cp0.epc = v; break;
    default: return false;
  }
  return true;
}

size_t read_memory(Vm& vm, uint64_t vaddr, uint8_t* out, size_t n) {
  const Cpu& c = vm.cpu();
  GuestMemory& mem = vm.memory();
  size_t done = 0;
  while (done < n) {
    const uint64_t va = vaddr + done;
    uint64_t pa;
    if (!mem::debug_translate(c, va, pa)) break;
    const int64_t gpn = mem.index_of(pa & ~kPageMask);
    if (gpn < 0) break;  // not RAM: devices are not read (reads have side effects)
    const size_t off = pa & kPageMask;
    const size_t chunk = std::min<size_t>(n - done, kPageSize - off);
    std::memcpy(out + done, mem.peek(static_cast<uint64_t>(gpn)) + off, chunk);  // maps nothing
    done += chunk;
  }
  return done;
}

size_t write_memory(Vm& vm, uint64_t vaddr, const uint8_t* data, size_t n) {
  Cpu& c = vm.cpu();
  size_t done = 0;
  while (done < n) {
    const uint64_t va = vaddr + done;
    uint64_t pa;
    if (!mem::debug_translate(c, va, pa)) break;
    const uint64_t ppage = pa & ~kPageMask;
    if (vm.memory().index_of(ppage) < 0) break;
    uint8_t* page = vm.ram_page(ppage, true);  // copy-on-write as for a guest store
    if (!page) break;
    const size_t off = pa & kPageMask;
    const size_t chunk = std::min<size_t>(n - done, kPageSize - off);
    std::memcpy(page + off, data + done, chunk);
    c.code_written(ppage);  // drops decoded and translated code of the page, if any
    done += chunk;
  }
  return done;
}

const std::string& target_xml() {
  static const std::string xml = [] {
    std::string x =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
        "<target version=\"1.0\">\n"
        "  <architecture>mips:isa64</architecture>\n"
        "  <feature name=\"org.gnu.gdb.mips.cpu\">\n";
    auto reg = [&x](const std::string& name, int num, const char* extra) {
      x += "    <reg name=\"" + name + "\" bitsize=\"64\" regnum=\"" + std::to_string(num) + "\"" + extra + "/>\n";
    };
    for (int i = 0; i < 32; ++i) reg("r" + std::to_string(i), kRegGpr0 + i, "");
    reg("lo", kRegLo, "");
    reg("hi", kRegHi, "");
    reg("pc", kRegPc, "");
    x += "  </feature>\n  <feature name=\"org.gnu.gdb.mips.cp0\">\n";
    reg("status", kRegStatus, "");
    reg("badvaddr", kRegBadVAddr, "");
    reg("cause", kRegCause, "");
    reg("epc", kRegEpc, " group=\"system\"");
    x += "  </feature>\n  <feature name=\"org.gnu.gdb.mips.fpu\">\n";
    for (int i = 0; i < 32; ++i) reg("f" + std::to_string(i), kRegFpr0 + i, " type=\"ieee_double\"");
    reg("fcsr", kRegFcsr, " group=\"float\"");
    reg("fir", kRegFir, " group=\"float\"");
    x += "  </feature>\n</target>\n";
    return x;
  }();
  return xml;
}

// ---------------------------------------------------------------------------
// Packets

std::string GdbStub::handle(Vm& vm, std::string_view p, Action& next) {
  next = Action::None;
  if (p.empty()) return "";
  Cpu& c = vm.cpu();
  const bool be = c.cfg.big_endian;
  const std::string_view args = p.substr(1);
  switch (p[0]) {
    case '?':
      return stop_reply_;
    case 'g': {
      std::string out;
      out.reserve(kNumRegs * 16);
      for (int r = 0; r < kNumRegs; ++r) {
        uint64_t v = 0;
        read_register(c, r, v);
        put_reg(out, v, be);
      }
      return out;
    }
    case 'G': {
      std::vector<uint8_t> bytes;
      if (!from_hex(args, bytes) || bytes.size() != kNumRegs * 8) return "E01";
      for (int r = 0; r < kNumRegs; ++r) write_register(c, r, get_reg(&bytes[static_cast<size_t>(r) * 8], be));
      return "OK";
    }
    case 'p': {
      uint64_t r, v;
      if (!parse_hex_u64(args, r) || r >= kNumRegs || !read_register(c, static_cast<int>(r), v)) return "E01";
      std::string out;
      put_reg(out, v, be);
      return out;
    }
    case 'P': {
      std::string_view rs, vs;
      uint64_t r;
      std::vector<uint8_t> bytes;
      if (!split_at(args, '=', rs, vs) || !parse_hex_u64(rs, r) || r >= kNumRegs || !from_hex(vs, bytes) ||
          bytes.size() != 8)
        return "E01";
      return write_register(c, static_cast<int>(r), get_reg(bytes.data(), be)) ? "OK" : "E01";
    }
    case 'm': {
      uint64_t addr, len;
      if (!parse_addr_len(args, addr, len)) return "E01";
      len = std::min<uint64_t>(len, (kMaxPacketPayload - 8) / 2);
      std::vector<uint8_t> buf(len);
      const size_t n = read_memory(vm, addr, buf.data(), len);
      if (n == 0 && len > 0) return "E01";
      return to_hex(buf.data(), n);
    }
    case 'M':
    case 'X': {
      std::string_view head, data;
      uint64_t addr, len;
      if (!split_at(args, ':', head, data) || !parse_addr_len(head, addr, len)) return "E01";
      std::vector<uint8_t> bytes;
      if (p[0] == 'M') {
        if (!from_hex(data, bytes)) return "E01";
      } else {
        std::string raw;
        if (!unescape_binary(data, raw)) return "E01";
        bytes.assign(raw.begin(), raw.end());
      }
      if (bytes.size() != len) return "E01";
      if (len == 0) return "OK";  // gdb probes X support so
      return write_memory(vm, addr, bytes.data(), bytes.size()) == len ? "OK" : "E01";
    }
    case 'Z':
    case 'z': {
      // Z0/Z1 (software/hardware breakpoint, the same here): "TYPE,ADDR,KIND".
      std::string_view type, rest, a, kind;
      uint64_t addr, k;
      if (!split_at(args, ',', type, rest)) return "E01";
      if (type != "0" && type != "1") return "";  // watchpoints: not supported
      if (!split_at(rest, ',', a, kind) || !parse_hex_u64(a, addr) || !parse_hex_u64(kind.substr(0, kind.find(';')), k))
        return "E01";
      if (p[0] == 'Z') {
        c.add_breakpoint(addr);
        if (std::find(breakpoints_.begin(), breakpoints_.end(), addr) == breakpoints_.end())
          breakpoints_.push_back(addr);
      } else {
        c.remove_breakpoint(addr);
        breakpoints_.erase(std::remove(breakpoints_.begin(), breakpoints_.end(), addr), breakpoints_.end());
      }
      return "OK";
    }
    case 'c':
    case 's':
    case 'C':
    case 'S': {
      // c [ADDR], s [ADDR], C SIG[;ADDR], S SIG[;ADDR]: the signal is not
      // delivered (a bare-metal guest has none).
      std::string_view at = args;
      if (p[0] == 'C' || p[0] == 'S') {
        const size_t semi = args.find(';');
        at = semi == std::string_view::npos ? std::string_view() : args.substr(semi + 1);
      }
      if (!at.empty()) {
        uint64_t addr;
        if (!parse_hex_u64(at, addr)) return "E01";
        write_register(c, kRegPc, addr);
      }
      next = (p[0] == 'c' || p[0] == 'C') ? Action::Continue : Action::Step;
      return "";
    }
    case 'D':
      next = Action::Detach;
      return "OK";
    case 'k':
      next = Action::Kill;
      return "";
    case 'H':  // Hg/Hc: one thread, any selection is it
      return (args.size() >= 2 && (args[0] == 'g' || args[0] == 'c')) ? "OK" : "E01";
    case 'T':  // thread alive
      return (args == "1" || args == "01" || args == "-1" || args == "0") ? "OK" : "E01";
    case 'q':
      return handle_query(vm, p);
    case 'v':
      return handle_vcont(vm, p, next);
    default:
      return "";  // not supported
  }
}

std::string GdbStub::handle_query(Vm& vm, std::string_view p) {
  (void)vm;
  auto starts = [&p](std::string_view prefix) { return p.substr(0, prefix.size()) == prefix; };
  if (starts("qSupported")) {
    client_swbreak_ = p.find("swbreak+") != std::string_view::npos;
    char b[96];
    std::snprintf(b, sizeof b, "PacketSize=%zx;qXfer:features:read+;swbreak+;vContSupported+", kMaxPacketPayload);
    return b;
  }
  if (starts("qXfer:features:read:")) {
    std::string_view rest = p.substr(std::strlen("qXfer:features:read:")), annex, range;
    uint64_t off, len;
    if (!split_at(rest, ':', annex, range) || !parse_addr_len(range, off, len)) return "E01";
    if (annex != "target.xml") return "E00";
    const std::string& xml = target_xml();
    len = std::min<uint64_t>(len, kMaxPacketPayload / 2);  // room for escapes
    if (off >= xml.size()) return "l";
    const std::string_view chunk = std::string_view(xml).substr(off, len);
    return (off + chunk.size() < xml.size() ? "m" : "l") + escape_binary(chunk);
  }
  if (p == "qAttached" || starts("qAttached:")) return "1";  // attached to a running VM: detach, not kill
  if (p == "qC") return "QC1";
  if (p == "qfThreadInfo") return "m1";
  if (p == "qsThreadInfo") return "l";
  if (starts("qThreadExtraInfo,")) return to_hex(std::string_view("CPU 0"));
  if (starts("qSymbol")) return "OK";
  return "";
}

std::string GdbStub::handle_vcont(Vm& vm, std::string_view p, Action& next) {
  (void)vm;
  if (p == "vCont?") return "vCont;c;C;s;S";
  if (p.substr(0, 6) == "vCont;") {
    // "vCont;ACTION[:THREAD];...": the first action is for our one thread
    // (gdb lists the specific ones first).
    const std::string_view action = p.substr(6, p.find_first_of(":;", 6) - 6);
    if (action.empty()) return "E01";
    switch (action[0]) {
      case 'c':
      case 'C':
        next = Action::Continue;
        return "";
      case 's':
      case 'S':
        next = Action::Step;
        return "";
      default:
        return "E01";
    }
  }
  if (p.substr(0, 5) == "vKill") {
    next = Action::Kill;
    return "OK";
  }
  return "";  // vMustReplyEmpty and everything else
}

// ---------------------------------------------------------------------------
// Sockets

GdbStub::~GdbStub() {
  if (client_fd_ >= 0) ::close(client_fd_);
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

bool GdbStub::listen(const std::string& spec_in, std::string& error) {
  std::string spec = spec_in;
  if (spec.rfind("tcp:", 0) == 0) spec = spec.substr(4);
  std::string host, port_text = spec;
  if (const size_t colon = spec.rfind(':'); colon != std::string::npos) {
    host = spec.substr(0, colon);
    port_text = spec.substr(colon + 1);
  }
  if (host.empty()) host = "127.0.0.1";
  if (port_text.empty() || port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port_text) > 65535) {
    error = "--gdb: '" + spec_in + "' is not tcp::PORT or tcp:HOST:PORT";
    return false;
  }
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res) != 0 || !res) {
    error = "--gdb: cannot resolve '" + host + "'";
    return false;
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || ::bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 1) != 0) {
    error = "--gdb: cannot listen on " + host + ":" + port_text + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    freeaddrinfo(res);
    return false;
  }
  freeaddrinfo(res);
  sockaddr_in bound{};
  socklen_t blen = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen);
  listen_fd_ = fd;
  port_ = ntohs(bound.sin_port);
  std::fprintf(stderr, "disco: gdb: listening on tcp:%s:%u\n", host == "127.0.0.1" ? "" : host.c_str(), port_);
  return true;
}

bool GdbStub::accept_client() {
  pollfd pf{listen_fd_, POLLIN, 0};
  if (listen_fd_ < 0 || ::poll(&pf, 1, 0) <= 0) return false;
  const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return false;
  if (client_fd_ >= 0) {
    ::close(fd);  // one client at a time
    return false;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  client_fd_ = fd;
  decoder_.reset();
  events_.clear();
  last_sent_.clear();
  client_swbreak_ = false;
  std::fprintf(stderr, "disco: gdb: client attached\n");
  return true;
}

void GdbStub::drop_client(Vm& vm) {
  if (client_fd_ < 0) return;
  ::close(client_fd_);
  client_fd_ = -1;
  // Its breakpoints go with it: the guest runs on freely.
  vm.cpu().clear_breakpoints();
  breakpoints_.clear();
  decoder_.reset();
  events_.clear();
  std::fprintf(stderr, "disco: gdb: client detached\n");
}

void GdbStub::send_raw(std::string_view bytes) {
  size_t off = 0;
  while (client_fd_ >= 0 && off < bytes.size()) {
    const ssize_t n = ::send(client_fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      pollfd pf{client_fd_, POLLOUT, 0};
      if (::poll(&pf, 1, kSendTimeoutMs) > 0) continue;
    }
    // Gone, or reads nothing: the next read sees the closed socket.
    ::shutdown(client_fd_, SHUT_RDWR);
    return;
  }
}

void GdbStub::send_packet(std::string_view payload) {
  last_sent_ = frame_packet(payload);
  resends_ = 0;
  send_raw(last_sent_);
}

void GdbStub::report_stop(int signal, bool swbreak) {
  stop_reply_ = "T" + hex2(static_cast<unsigned>(signal)) + "thread:1;";
  if (swbreak && client_swbreak_) stop_reply_ += "swbreak:;";
  if (client_fd_ >= 0) send_packet(stop_reply_);
}

void GdbStub::report_exit(Vm& vm, VmExit why) {
  if (client_fd_ < 0) return;
  if (why == VmExit::PowerOff) send_packet("W" + hex2(static_cast<unsigned>(vm.exit_status())));
  else if (why == VmExit::Halted || why == VmExit::Reboot) send_packet("W00");
  else send_packet("X09");  // ended by the monitor (timeout, limits, ...)
}

bool GdbStub::past_deadline() const { return has_deadline_ && now_seconds() >= deadline_; }

bool GdbStub::wait_for_client(const Vm::Limits& lim, bool& timed_out) {
  timed_out = false;
  while (client_fd_ < 0) {
    if (past_deadline()) {
      timed_out = true;
      return false;
    }
    if (lim.should_stop && lim.should_stop()) return false;
    pollfd pf{listen_fd_, POLLIN, 0};
    if (::poll(&pf, 1, kPollMs) > 0) accept_client();
  }
  return true;
}

// Reads what the client sent; false when it is gone.
static bool read_client(int fd, PacketDecoder& dec, std::vector<PacketDecoder::Event>& events) {
  uint8_t buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      dec.feed(buf, static_cast<size_t>(n), events);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;  // closed or failed
  }
}

GdbStub::Served GdbStub::serve(Vm& vm, const Vm::Limits& lim, Action& resume) {
  for (;;) {
    while (!events_.empty()) {
      PacketDecoder::Event ev = std::move(events_.front());
      events_.erase(events_.begin());
      switch (ev.kind) {
        case PacketDecoder::Kind::Packet: {
          send_raw("+");
          Action next;
          const std::string reply = handle(vm, ev.payload, next);
          if (next == Action::None) {
            send_packet(reply);
            continue;
          }
          if (next == Action::Continue || next == Action::Step) {
            resume = next;
            return Served::Resume;
          }
          if (!reply.empty()) send_packet(reply);
          return next == Action::Detach ? Served::Detached : Served::Killed;
        }
        case PacketDecoder::Kind::BadChecksum:
        case PacketDecoder::Kind::TooLong:
          send_raw("-");
          break;
        case PacketDecoder::Kind::Nack:
          if (!last_sent_.empty() && resends_++ < kMaxResends) send_raw(last_sent_);
          break;
        case PacketDecoder::Kind::Ack:
        case PacketDecoder::Kind::Interrupt:  // already stopped
          break;
      }
    }
    if (client_fd_ < 0) return Served::Disconnected;
    if (past_deadline()) return Served::Timeout;
    if (lim.should_stop && lim.should_stop()) return Served::UserStop;
    pollfd pf[2] = {{client_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    if (::poll(pf, 2, kPollMs) <= 0) continue;
    if (pf[1].revents) accept_client();  // refuses a second client
    if (pf[0].revents && !read_client(client_fd_, decoder_, events_) && events_.empty()) return Served::Disconnected;
  }
}

bool GdbStub::poll_while_running() {
  if (client_fd_ < 0) {
    // A client attaching stops the guest so that it can look around.
    if (accept_client()) interrupted_ = fresh_client_ = true;
    return interrupted_;
  }
  accept_client();  // refuses a second client
  const bool alive = read_client(client_fd_, decoder_, events_);
  for (size_t i = 0; i < events_.size(); ++i) {
    switch (events_[i].kind) {
      case PacketDecoder::Kind::Interrupt:
        interrupted_ = true;
        break;
      case PacketDecoder::Kind::Nack:
        if (!last_sent_.empty() && resends_++ < kMaxResends) send_raw(last_sent_);
        break;
      case PacketDecoder::Kind::BadChecksum:
      case PacketDecoder::Kind::TooLong:
        send_raw("-");
        break;
      default:
        break;  // all-stop: nothing else is expected while running
    }
  }
  events_.clear();
  if (!alive) {
    drop_client(*vm_);
    return false;
  }
  return interrupted_;
}

void GdbStub::begin(Vm& vm, double timeout_seconds, bool wait) {
  vm_ = &vm;
  started_ = true;
  finished_ = false;
  killed_ = false;
  wait_ = wait;
  for (uint64_t b : breakpoints_) vm.cpu().add_breakpoint(b);  // a VM that was rebooted
  has_deadline_ = timeout_seconds > 0;
  deadline_ = now_seconds() + timeout_seconds;
  stopped_ = wait && client_fd_ < 0;
  if (stopped_) stop_reply_ = "T05thread:1;";
  resume_ = Action::Continue;
}

bool GdbStub::serve_stopped(Vm& vm, const Vm::Limits& limits, VmExit& end) {
  while (stopped_) {
    if (client_fd_ < 0) {
      bool timed_out;
      if (!wait_for_client(limits, timed_out)) {
        end = timed_out ? VmExit::Timeout : VmExit::Stopped;
        return false;
      }
    }
    switch (serve(vm, limits, resume_)) {
      case Served::Resume:
        stopped_ = false;
        break;
      case Served::Detached:
        drop_client(vm);
        resume_ = Action::Continue;
        stopped_ = false;
        break;
      case Served::Disconnected:
        drop_client(vm);
        if (!wait_) {  // with --gdb-wait it stays stopped for the next client
          resume_ = Action::Continue;
          stopped_ = false;
        }
        break;
      case Served::Killed:
        killed_ = true;
        drop_client(vm);
        end = VmExit::Stopped;
        return false;
      case Served::Timeout:
        report_exit(vm, VmExit::Timeout);
        drop_client(vm);
        end = VmExit::Timeout;
        return false;
      case Served::UserStop:
        report_exit(vm, VmExit::Stopped);
        drop_client(vm);
        end = VmExit::Stopped;
        return false;
    }
  }
  return true;
}

void GdbStub::stopped_by_interrupt() {
  if (fresh_client_) {
    // A new client: it starts with '?' (an unasked stop reply would be
    // taken for the answer to its first packet).
    stop_reply_ = "T" + hex2(kSigInt) + "thread:1;";
  } else {
    report_stop(kSigInt, false);
  }
  stopped_ = true;
}

VmExit GdbStub::finish(Vm& vm, VmExit r) {
  report_exit(vm, r);
  drop_client(vm);
  finished_ = true;
  return r;
}

VmExit GdbStub::drive(Vm& vm, const Vm::Limits& limits, bool slice) {
  Cpu& c = vm.cpu();
  for (;;) {
    VmExit end;
    if (!serve_stopped(vm, limits, end)) {
      finished_ = true;
      return end;
    }
    Vm::Limits l = limits;
    if (has_deadline_) {
      l.timeout_seconds = deadline_ - now_seconds();
      if (l.timeout_seconds <= 0) return finish(vm, VmExit::Timeout);
    }
    interrupted_ = fresh_client_ = user_stop_ = false;
    l.should_stop = [this, &limits] {
      if (limits.should_stop && limits.should_stop()) {
        user_stop_ = true;
        return true;
      }
      return poll_while_running();
    };
    const bool stepping = resume_ == Action::Step && client_fd_ >= 0;
    if (stepping) {
      const uint64_t one_more = vm.instructions() + 1;
      l.max_insns = limits.max_insns ? std::min(limits.max_insns, one_more) : one_more;
    }
    // Going on from a breakpoint: its instruction runs first.
    c.break_skip = c.breakpoint_at(c.s.pc) ? c.s.pc : ~0ull;
    VmExit r = vm.run(l);
    if (r == VmExit::Running) {
      if (!slice) continue;
      // The machine's turn for the other VMs; a Ctrl-C first?
      if (!poll_while_running()) return VmExit::Running;
      r = VmExit::Stopped;
    }
    switch (r) {
      case VmExit::Breakpoint:
        if (client_fd_ < 0) {
          c.clear_breakpoints();  // a stale one: nobody to report to
          continue;
        }
        report_stop(kSigTrap, true);
        stopped_ = true;
        continue;
      case VmExit::InsnLimit:
        if (stepping && !(limits.max_insns && vm.instructions() >= limits.max_insns)) {
          report_stop(kSigTrap, false);
          stopped_ = true;
          continue;
        }
        break;
      case VmExit::Stopped:
        if (user_stop_) break;
        stopped_by_interrupt();
        continue;
      default:
        break;
    }
    return finish(vm, r);
  }
}

VmExit GdbStub::run(Vm& vm, const Vm::Limits& limits, bool wait) {
  begin(vm, limits.timeout_seconds, wait);
  busy_ = true;
  const VmExit r = drive(vm, limits, false);
  busy_ = false;
  return r;
}

VmExit GdbStub::run_slice(Vm& vm, const Vm::Limits& limits, bool wait, double timeout_seconds) {
  if (!started_ || vm_ != &vm) begin(vm, timeout_seconds, wait);
  busy_ = true;
  const VmExit r = drive(vm, limits, true);
  busy_ = false;
  return r;
}

bool GdbStub::poll(const std::function<bool()>& user_stop) {
  if (!started_ || finished_ || busy_ || !vm_) return false;
  busy_ = true;
  interrupted_ = fresh_client_ = false;
  bool end_machine = false;
  if (poll_while_running()) {
    stopped_by_interrupt();
    Vm::Limits lim;
    lim.should_stop = user_stop;
    VmExit end;
    if (!serve_stopped(*vm_, lim, end)) {
      finished_ = true;
      end_machine = true;
    }
  }
  busy_ = false;
  return end_machine;
}

}  // namespace disco::debug
