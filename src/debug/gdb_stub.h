// A gdb remote-serial-protocol server for one VM (`disco run --gdb`).
//
// The stub listens on a TCP port and runs the VM itself: run() takes the
// place of Vm::run. While a client is attached and the guest runs, the
// socket is polled between run chunks (Vm::Limits::should_stop), so Ctrl-C
// in gdb stops the guest within a chunk. Breakpoints are the processor's
// (Cpu::breakpoints): nothing is written into guest memory; both engines
// stop before an instruction at one (the JIT ends its blocks before them).
// Memory goes through the guest's own address translation without side
// effects (mem::debug_translate) and the pmap (GuestMemory), so gdb sees
// and writes what the guest sees; writes to code drop its decoded and
// translated copies.
//
// One client at a time. When it disconnects or detaches, its breakpoints
// go away and the guest runs on; a new client may attach later (it stops
// the guest on connecting, as with QEMU). See docs/gdb.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "debug/gdb_packet.h"
#include "monitor/vm.h"

namespace disco::debug {

// Register numbers of the target description (gdb's MIPS numbering).
enum GdbReg : int {
  kRegGpr0 = 0,
  kRegStatus = 32,
  kRegLo = 33,
  kRegHi = 34,
  kRegBadVAddr = 35,
  kRegCause = 36,
  kRegPc = 37,
  kRegFpr0 = 38,
  kRegFcsr = 70,
  kRegFir = 71,
  kRegEpc = 72,
  kNumRegs = 73,
};

// The register values as gdb sees them (all 64 bits wide).
bool read_register(const Cpu& c, int regno, uint64_t& value);
// False for an unknown register; writes to r0 and FIR are ignored.
bool write_register(Cpu& c, int regno, uint64_t value);

// Guest virtual memory through the guest's current translation, with no
// side effect on the guest. Return the number of bytes done before the
// first unmapped or non-RAM byte.
size_t read_memory(Vm& vm, uint64_t vaddr, uint8_t* out, size_t n);
size_t write_memory(Vm& vm, uint64_t vaddr, const uint8_t* data, size_t n);

// The target description (qXfer:features:read:target.xml).
const std::string& target_xml();

class GdbStub {
 public:
  GdbStub() = default;
  ~GdbStub();
  GdbStub(const GdbStub&) = delete;
  GdbStub& operator=(const GdbStub&) = delete;

  // `spec`: "tcp::PORT" (127.0.0.1), "tcp:HOST:PORT", ":PORT" or "PORT";
  // PORT 0 picks a free one. Prints "disco: gdb: listening on tcp::PORT"
  // on stderr. False with a one-line error.
  bool listen(const std::string& spec, std::string& error);
  uint16_t port() const { return port_; }

  // Runs `vm` under the debugger until the guest ends (power-off, halt,
  // reboot, timeout ...: what Vm::run would return), the limits' own
  // should_stop says so (Stopped), or gdb kills it (Stopped, killed()).
  // `wait`: stop before the first instruction until a client attaches and
  // resumes; while no client is attached the guest waits for one.
  // limits.timeout_seconds bounds the whole call, stopped time included.
  VmExit run(Vm& vm, const Vm::Limits& limits, bool wait);
  bool killed() const { return killed_; }

  // Several VMs on one thread (Machine): the debugged VM's slices go
  // through run_slice() (Machine::RunLimits::run_vm), which returns
  // Running at the end of a slice, and poll() is called between slices
  // (from the machine's should_stop) so that Ctrl-C or a client attaching
  // is noticed while that VM idles. While gdb has the VM stopped, the
  // whole machine waits (all-stop). The first run_slice() takes `wait` and
  // the timeout (the whole session's). poll() returns true when the
  // machine must stop (gdb killed it, `user_stop`, the timeout).
  VmExit run_slice(Vm& vm, const Vm::Limits& limits, bool wait, double timeout_seconds);
  bool poll(const std::function<bool()>& user_stop);

  // What a packet asks of the run loop (handle()).
  enum class Action { None, Continue, Step, Detach, Kill };
  // One packet's payload in, the reply payload out (empty: "not
  // supported"), and what to do next. Public for the tests.
  std::string handle(Vm& vm, std::string_view payload, Action& next);
  // The stop reply for the last stop ('?').
  const std::string& stop_reply() const { return stop_reply_; }

 private:
  enum class Served { Resume, Detached, Disconnected, Killed, Timeout, UserStop };
  void begin(Vm& vm, double timeout_seconds, bool wait);
  VmExit drive(Vm& vm, const Vm::Limits& limits, bool slice);
  // While stopped_: serves the client until it resumes the guest; false
  // when the run must end instead (`end` says how).
  bool serve_stopped(Vm& vm, const Vm::Limits& limits, VmExit& end);
  void stopped_by_interrupt();
  VmExit finish(Vm& vm, VmExit why);
  Served serve(Vm& vm, const Vm::Limits& lim, Action& resume);
  bool wait_for_client(const Vm::Limits& lim, bool& timed_out);
  bool accept_client();
  void drop_client(Vm& vm);
  bool poll_while_running();
  void send_packet(std::string_view payload);
  void send_raw(std::string_view bytes);
  void report_stop(int signal, bool swbreak);
  void report_exit(Vm& vm, VmExit why);
  bool past_deadline() const;
  std::string handle_query(Vm& vm, std::string_view p);
  std::string handle_vcont(Vm& vm, std::string_view p, Action& next);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  int client_fd_ = -1;
  PacketDecoder decoder_;
  std::vector<PacketDecoder::Event> events_;
  std::string last_sent_;
  unsigned resends_ = 0;
  bool client_swbreak_ = false;
  std::string stop_reply_ = "S05";
  Vm* vm_ = nullptr;          // the VM run() drives
  bool started_ = false, finished_ = false;
  bool busy_ = false;         // in run(), run_slice() or poll(): poll() does nothing
  bool wait_ = false;         // --gdb-wait: a stopped guest waits for a client
  bool stopped_ = false;      // gdb has the guest stopped
  Action resume_ = Action::Continue;
  bool interrupted_ = false;  // Ctrl-C or a new client while running
  bool fresh_client_ = false;  // attached while the guest ran: it asks '?' itself
  bool user_stop_ = false;
  bool killed_ = false;
  bool has_deadline_ = false;
  double deadline_ = 0;  // steady-clock seconds
  // gdb's breakpoints, kept here too so that a rebooted VM gets them.
  std::vector<uint64_t> breakpoints_;
};

}  // namespace disco::debug
