// One processor as the monitor sees it: architectural state, the soft TLB
// the engines use for memory access, the decoded-code cache hooks, and the
// pending-event word that lets instruction handlers stay branch-light.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "frontend/cp0_bits.h"
#include "frontend/cpu_state.h"
#include "cpu/concurrency.h"
#include "cpu/mem_sampler.h"
#include "cpu/phys_bus.h"

namespace disco {

class Cpu;
class CodePageRegistry;
struct DecodedInsn;
using InsnHandler = void (*)(Cpu&, const DecodedInsn&);

struct DecodedInsn {
  InsnHandler fn;  // starts as the interpreter's lazy decoder
  uint32_t raw;
  uint16_t op;     // Op, once decoded
};

constexpr unsigned kInsnsPerPage = kPageSize / 4;

struct DecodedPage {
  uint64_t paddr;  // page-aligned guest-physical address
  DecodedInsn insn[kInsnsPerPage];
};

// Why the run loop must look beyond the straight-line epilogue.
enum CpuEvent : uint32_t {
  EV_PC_SET = 1u << 0,     // the handler set pc itself (exception, ERET)
  EV_IRQ_CHECK = 1u << 1,  // interrupt state may have changed
  EV_WAIT = 1u << 2,       // WAIT executed: idle until an interrupt
  EV_STOP = 1u << 3,       // leave the run loop (power-off, host request)
  EV_CODE_WRITTEN = 1u << 4,  // a store hit translated code: end the running block
  EV_REQUEST = 1u << 5,       // another thread posted to the mailbox: serve_requests()
};

enum class Access : uint8_t { Load, Store, Fetch };

struct CpuConfig {
  bool big_endian = false;
  bool has_fpu = false;  // Config1.FP; without it CP1 instructions raise CpU
  // MIPS Technologies 5KEc (company 1, implementation 0x89): a MIPS64r2 core
  // Linux knows. An R10000's legacy PRId (0x0900) makes Debian's MIPS64r2
  // kernel hit a BUG() in cpu_probe, so the R10000 class is presented with
  // a Release 2 identity.
  uint32_t prid = 0x00018900;
  uint64_t ebase_default = 0xffffffff80000000ull;
  // EBase.CPUNum: this processor's index in its VM (0 = the boot CPU). The
  // CM's core-local GCRs and the GIC's VP-local block use the same number.
  unsigned cpu_num = 0;
  // Physical base of the Coherence Manager's GCRs (32 KiB aligned), or 0
  // for none. With a CM, Config3.CMGCR = 1 and CMGCRBase (CP0 15, 3) reads
  // cm_gcr_base >> 4, which is how Linux finds the CM (mips-cm.c).
  uint64_t cm_gcr_base = 0;
};

// Soft-TLB entry: a guest virtual page that maps RAM, as host = vaddr + addend.
// tag = page address | mode key (bits 4..6); misaligned addresses never
// match because the compare keeps the low alignment bits (see mmu.h).
struct SoftTlbEntry {
  uint64_t tag = 0;
  uintptr_t addend = 0;
};
constexpr unsigned kSoftTlbSize = 1024;

class Cpu {
 public:
  Cpu(PhysBus& bus, const CpuConfig& cfg);

  // Architectural reset: Status.ERL = BEV = 1, pc = reset_base.
  void reset();
  // Where this processor starts after reset, and the base of its boot-time
  // exception vectors (reset_base + 0x200.. while Status.BEV = 1). 0xbfc00000
  // normally; a CM core released from reset starts at its GCR_Cx_RESET_BASE
  // (set before reset()).
  uint64_t reset_base = 0xffffffffbfc00000ull;

  CpuState s;
  PhysBus* bus;
  CpuConfig cfg;
  // Why the run loop must look beyond the straight-line epilogue (CpuEvent).
  // Atomic: other host threads raise bits (EV_IRQ_CHECK from a device line,
  // EV_STOP); the owner clears only the bits it has handled.
  std::atomic<uint32_t> events{0};

  // Current address-translation mode, (1 + KSU-mode | ERL << 2) << 4.
  uint64_t mode_key = 0;
  SoftTlbEntry stlb_load[kSoftTlbSize];
  SoftTlbEntry stlb_store[kSoftTlbSize];
  // Instruction side: virtual page | mode key -> its decoded page, so
  // changing fetch page skips the segment/TLB walk and the page lookup.
  struct FetchTlbEntry {
    uint64_t tag = 0;
    DecodedPage* page = nullptr;
  };
  FetchTlbEntry stlb_fetch[kSoftTlbSize];

  // Instruction fetch: the page the run loop is executing from.
  uint64_t fetch_vpage = ~0ull;
  DecodedPage* fetch_page = nullptr;

  // Decoded code, keyed by guest-physical page. Pages written by a store
  // are retired to the graveyard (the running handler may still point into
  // one) and freed by the run loop at a safe point.
  std::unordered_map<uint64_t, std::unique_ptr<DecodedPage>> code_pages;
  std::vector<std::unique_ptr<DecodedPage>> code_graveyard;
  InsnHandler lazy_decoder = nullptr;  // installed by the engine

  // Hardware interrupt lines 0..5 (Cause.IP2..IP7) driven by devices; IP7
  // is also the timer's (Cause.TI). Any host thread may call it: the level
  // goes into `irq_lines`, and the owner folds it into Cause
  // (sync_irq_lines) when it services EV_IRQ_CHECK, reads Cause through
  // cp0_read, or updates the timer.
  void set_irq_line(unsigned line, bool level);
  std::atomic<uint32_t> irq_lines{0};  // bit n = line n
  // Owner only: Cause.IP2..IP7 = the device lines now (IP7 also while TI).
  void sync_irq_lines() {
    constexpr uint32_t mask = 0x3fu << (cp0::Cause_IP_SHIFT + 2);
    uint32_t ip = (irq_lines.load(std::memory_order_acquire) << (cp0::Cause_IP_SHIFT + 2)) & mask;
    if (s.cp0.cause & cp0::Cause_TI) ip |= 1u << (cp0::Cause_IP_SHIFT + cp0::kTimerIrq);
    s.cp0.cause = (s.cp0.cause & ~mask) | ip;
  }

  // Called after anything that changes how addresses translate.
  // KSU/EXL/ERL changed: new mode key, and the privilege accounting
  // (user_insns). `by_insn`: the running instruction changed it (an
  // exception it raised, ERET, MTC0 Status), so that instruction ran in
  // the old mode; false between instructions (an interrupt taken, reset,
  // a test or the debugger setting Status; cp0_write says true, so a
  // debugger's Status write is counted one instruction late).
  void mode_changed(bool by_insn = false);
  void translation_changed();  // TLB write, ASID change, KX/SX/UX change

  // Guest instructions executed in user mode (mode() == 2) since reset,
  // the current stretch included: s.cycles counted while in user mode.
  // Exact in both engines: the mode changes only in an instruction's
  // handler (an exception, ERET, MTC0 Status; generated code never changes
  // it inline) or between instructions (an interrupt delivered by
  // service_events), and s.cycles is up to date at both: the JIT calls
  // every handler with s.cycles = the instructions before this one, as the
  // interpreter does (jit/x64_backend.cpp's invariants), and services
  // events between blocks. Kernel share = s.cycles - user_insns(); it
  // includes the cycles deterministic idle skipping adds while the guest
  // waits in WAIT (kernel mode), which the monitor counts as idle_cycles
  // and should subtract.
  uint64_t user_insns() const {
    if (user_from_ == kNotUser || s.cycles < user_from_) return user_done_;
    return user_done_ + (s.cycles - user_from_);
  }

  // Sampled guest memory accesses for the memory-system model
  // (cpu/mem_sampler.h). Precondition: its settings are set before the
  // processor first runs and never changed after (the JIT decides at
  // translation time what to report and keys nothing on it; only the
  // repeat filter's `invalidations` is repointed, with the processor
  // parked, when the vCPU moves: numa-model's place()); when it is on, `data` and
  // `fetch` (or `batch`) are set, and `ctx` outlives every run. The
  // engines queue samples; the callbacks run on the owner's thread when
  // the queue fills (in the middle of an instruction, under the JIT with
  // guest registers still in host registers) or the engine returns: they
  // must not touch this Cpu.
  MemSampler sampler;
  // The interpreter's fetch sampling: the pc that continues the current
  // run of sequential instructions within one 128-byte line (~0: none, the
  // next instruction starts a line).
  uint64_t fetch_sample_next = ~0ull;

  // One Count for several processors (the vCPUs of an SMP VM): their
  // Counts are kept in step by construction, as a CM system's are after
  // Linux's synchronisation (sync-r4k.c), so a task that moves to another
  // vCPU never reads an earlier Count (the 32-bit clocksource would see a
  // wrap: 43 s). A Count write by any of them sets it for all. With host
  // time the ticks come from one epoch; deterministic, from the VM's clock,
  // which the monitor keeps as cycle_offset + this processor's cycles.
  struct SharedCount {
    std::atomic<uint64_t> bias{0};
    uint64_t host_t0_ns = 0;     // 0: not set yet (the first use_host_time sets it)
  };
  SharedCount* shared_count = nullptr;
  // Deterministic time: ticks() = (s.cycles + cycle_offset) / 2. 0 for a
  // lone processor; the monitor moves it between slices of an SMP VM's
  // vCPUs run on one thread (set_cycle_offset), so their clock is one.
  uint64_t cycle_offset = 0;
  void set_cycle_offset(uint64_t offset);

  // Time. Count = count_bias + ticks(). Ticks come from the cycle counter
  // (deterministic: one tick per two cycles) or from the host's monotonic
  // clock at count_hz (host_time), so a guest `sleep 5` takes five seconds.
  bool host_time = false;
  uint64_t count_hz = 100'000'000;
  uint64_t ticks() const;
  void use_host_time(uint64_t hz);
  uint64_t next_timer_tick = ~0ull;   // absolute ticks() of the next Count == Compare
  uint64_t next_timer_cycle = ~0ull;  // deterministic: the cycle it happens at; host time: never
  uint32_t count() const;
  void set_count(uint32_t v);
  void set_compare(uint32_t v);
  void schedule_timer();  // recompute the next match from Count and Compare
  // Raises Cause.TI/IP7 if the timer has fired by now; schedules the next.
  void update_timer();
  // Host time: nanoseconds until the next match (0 if due).
  uint64_t ns_until_timer() const;

  // Interrupt delivery condition: IE && !EXL && !ERL && (IP & IM) != 0.
  bool interrupt_pending() const;

  // Guest privilege: 0 kernel, 1 supervisor, 2 user (EXL/ERL force kernel).
  unsigned mode() const {
    uint32_t st = s.cp0.status;
    if (st & (cp0::Status_EXL | cp0::Status_ERL)) return 0;
    return (st & cp0::Status_KSU) >> cp0::Status_KSU_SHIFT;
  }
  bool kernel_mode() const { return mode() == 0; }
  // 64-bit operations are enabled in kernel mode, or with UX/SX in user/supervisor.
  bool ops64_enabled() const {
    unsigned m = mode();
    uint32_t st = s.cp0.status;
    return m == 0 || (m == 1 && (st & cp0::Status_SX)) || (m >= 2 && (st & cp0::Status_UX));
  }

  // Code cache.
  DecodedPage* decoded_page(uint64_t ppage, const uint8_t* host);
  // Drops all decoded code (memory changed behind the CPU's back); safe
  // only when no handler is running.
  void forget_code();
  // A store (by this processor, or the debugger) wrote guest-physical page
  // `ppage`: retires this processor's decoded code and translations of it
  // and, with a registry, every other holder's (through its mailbox).
  void code_written(uint64_t ppage);
  // Only this processor's copy (what RetireCode does).
  void retire_code(uint64_t ppage);

  // Called after every exception is delivered (tracing, debugging); null by default.
  void (*exception_hook)(Cpu& c, uint32_t code, void* ctx) = nullptr;
  void* exception_hook_ctx = nullptr;

  // Called when guest code in `ppage` was overwritten (the JIT drops its
  // translations); null when no JIT is attached.
  void (*code_write_hook)(void* ctx, uint64_t ppage) = nullptr;
  void* code_write_hook_ctx = nullptr;

  // Debugger breakpoints: virtual addresses, sorted. While there are any,
  // the engines run a checking loop (interp::run, Jit::run) that stops
  // with StopReason::Breakpoint before executing an instruction at one;
  // with none, the fast loops run unchanged. The JIT never translates a
  // breakpoint address into a block (blocks end before one). Change them
  // only between runs, through add_breakpoint/remove_breakpoint.
  std::vector<uint64_t> breakpoints;
  bool breakpoint_at(uint64_t pc) const;
  bool add_breakpoint(uint64_t vaddr);     // false if it was there already
  bool remove_breakpoint(uint64_t vaddr);  // false if it was not there
  void clear_breakpoints();
  // The debugger resumes from a breakpoint: the first instruction, if it is
  // at this address, runs without stopping (~0: none). Reset by the loops.
  uint64_t break_skip = ~0ull;
  // Called after a breakpoint at `vaddr` was added or removed (the JIT drops
  // its blocks of that virtual page); null when no JIT is attached.
  void (*breakpoint_hook)(void* ctx, uint64_t vaddr) = nullptr;
  void* breakpoint_hook_ctx = nullptr;

  // Scratch owned by the attached engine, inside the processor so that
  // generated code reaches it from the same base register as the state
  // (the JIT keeps its run window and chain slot here: jit/cpu_area.h).
  alignas(16) unsigned char engine_area[64] = {};

  // Statistics.
  uint64_t stat_exceptions = 0;
  uint64_t stat_tlb_refills = 0;

  // --- Processors on host threads (docs/smp.md, "Concurrency contract") ---
  //
  // The owner is the host thread running this processor's engine. Other
  // threads post requests; the owner carries them out at its next safe
  // point (service_events; generated code leaves its block when events
  // != 0) and acknowledges them. While it is parked (outside its engine:
  // before the first run, between runs, asleep in idle_sleep) a request
  // counts as acknowledged at once: the owner serves its mailbox in
  // enter_guest, before it runs guest code again.

  // Any thread: queues `r`, raises EV_REQUEST, wakes idle_sleep. Returns
  // the ticket to wait for.
  uint64_t post(const CpuRequest& r);
  // Any thread: `ticket` was carried out, or the owner is parked.
  bool acked(uint64_t ticket) const {
    return mailbox.done.load(std::memory_order_acquire) >= ticket || mailbox.parked.load();
  }
  // Any thread: waits until acked(ticket). `self` is the caller's own
  // processor when the caller is one (it serves its own mailbox while it
  // waits, so two processors shooting each other down both go on), else null.
  void wait_ack(uint64_t ticket, Cpu* self);
  void post_and_wait(const CpuRequest& r, Cpu* self) { wait_ack(post(r), self); }
  // Owner: carries out every queued request and acknowledges them.
  void serve_requests();
  // Owner: entering the engine (unpark; serve what was queued meanwhile)
  // and leaving it (park). interp::run and Jit::run do both.
  void enter_guest();
  void leave_guest() { mailbox.parked.store(true, std::memory_order_release); }

  // Owner, parked (the run loop's idle sleep while the guest waits in
  // WAIT): blocks until another thread raises or lowers an interrupt line
  // (set_irq_line), posts a request or calls request_stop, or until
  // `timeout_ns` passed (the next timer match). True when woken.
  bool idle_sleep(uint64_t timeout_ns);
  // Any thread: EV_STOP, and wakes idle_sleep.
  void request_stop();

  RequestMailbox mailbox;
  WaitGate gate;
  // The registry of decoded-code pages shared with the other processors
  // of this physical memory (CodePageRegistry::attach), or null.
  CodePageRegistry* code_registry = nullptr;
  unsigned registry_index = 0;

 private:
  uint64_t host_t0_ns_ = 0;
  std::vector<CpuRequest> request_batch_;  // serve_requests' scratch
  // Privilege accounting (user_insns): user-mode cycles of the stretches
  // that ended, and the cycle the current one began (kNotUser: not in one).
  static constexpr uint64_t kNotUser = ~0ull;
  uint64_t user_done_ = 0;
  uint64_t user_from_ = kNotUser;
};

// Owner: the engine's run loop, parked outside it (see Cpu::enter_guest).
class GuestSection {
 public:
  explicit GuestSection(Cpu& c) : c_(c) { c_.enter_guest(); }
  ~GuestSection() {
    if (c_.sampler.queued) c_.sampler.flush();  // the model sees it all before we park
    c_.leave_guest();
  }
  GuestSection(const GuestSection&) = delete;
  GuestSection& operator=(const GuestSection&) = delete;

 private:
  Cpu& c_;
};

}  // namespace disco
