#include "interp/interpreter.h"

#include <algorithm>

#include "frontend/decoder.h"
#include "interp/common.h"
#include "interp/handlers.h"

namespace disco::interp {

const InsnHandler kHandlers[] = {
#define INSN(name, pattern, operands, flags) &op_##name,
#include "frontend/insn_table.inc"
#undef INSN
    &op_RESERVED,
};
static_assert(sizeof(kHandlers) / sizeof(kHandlers[0]) == kOpCount);

InsnHandler handler(Op op) { return kHandlers[static_cast<size_t>(op)]; }

namespace {

// First execution of a decoded-page slot: decode, patch the slot, run.
void lazy_decode(Cpu& c, const DecodedInsn& d) {
  DecodedInsn& slot = const_cast<DecodedInsn&>(d);
  const Op op = decode(slot.raw);
  slot.op = static_cast<uint16_t>(op);
  slot.fn = kHandlers[static_cast<size_t>(op)];
  slot.fn(c, slot);
}

// Makes the page holding s.pc the current fetch page, or delivers the
// fetch exception (AdEL, TLB refill/invalid, IBE) and returns false.
bool refill_fetch(Cpu& c) {
  const uint64_t pc = c.s.pc;
  if (pc & 3) {
    raise_address_error(c, pc, Access::Fetch);
    return false;
  }
  Cpu::FetchTlbEntry& e = c.stlb_fetch[mem::stlb_index(pc)];
  const uint64_t tag = (pc & ~kPageMask) | c.mode_key;
  if (e.tag == tag) {
    c.fetch_page = e.page;
    c.fetch_vpage = pc & ~kPageMask;
    return true;
  }
  uint64_t paddr;
  if (!mem::translate(c, pc, Access::Fetch, paddr)) return false;
  const uint64_t ppage = paddr & ~kPageMask;
  const uint8_t* host = c.bus->ram_page(ppage, false);
  if (!host) {
    raise_bus_error(c, Access::Fetch);
    return false;
  }
  c.fetch_page = c.decoded_page(ppage, host);
  c.fetch_vpage = pc & ~kPageMask;
  e = Cpu::FetchTlbEntry{tag, c.fetch_page};
  return true;
}

bool wake_condition(const Cpu& c) { return (c.s.cp0.cause & c.s.cp0.status & Status_IM) != 0; }

}  // namespace

void attach(Cpu& c) {
  c.lazy_decoder = &lazy_decode;
  c.forget_code();
}

bool service_events(Cpu& c, uint64_t limit, uint64_t& stop_at, StopReason& why) {
  if (c.s.cycles >= c.next_timer_cycle) c.update_timer();
  if (c.s.cycles >= limit) {
    why = StopReason::Budget;
    return false;
  }
  stop_at = std::min(limit, c.next_timer_cycle);
  if (c.events & EV_STOP) {
    c.events &= ~EV_STOP;
    why = StopReason::Stop;
    return false;
  }
  // An interrupt is never taken between a branch and its delay slot.
  if ((c.events & EV_IRQ_CHECK) && !c.s.branch_pending) {
    c.events &= ~EV_IRQ_CHECK;
    c.sync_irq_lines();
    if (c.interrupt_pending()) deliver_interrupt(c);
  }
  // Requests from other threads (soft-TLB shootdowns, code retired by
  // another processor's store): this is the safe point they wait for.
  if (c.events & EV_REQUEST) c.serve_requests();
  c.events &= ~(EV_PC_SET | EV_CODE_WRITTEN);
  if (c.events & EV_WAIT) {
    if (!wake_condition(c)) {
      why = StopReason::Wait;  // EV_WAIT stays set until woken
      return false;
    }
    c.events &= ~EV_WAIT;
  }
  return true;
}

bool fetch(Cpu& c) {
  // The compare keeps pc bits 1..0, so a misaligned pc takes the refill path.
  if (__builtin_expect((c.s.pc & ~(kPageMask & ~3ull)) == c.fetch_vpage, 1)) return true;
  return refill_fetch(c);
}

// The memory model's instruction-fetch sample (cpu/mem_sampler.h) for the
// instruction at pc, on the fetch page: its guest-physical line, if that
// is sampled, when the instruction starts a line or was not reached from
// the one before it (a taken branch's target, an exception vector, an
// ERET's target, a skipped delay slot). Sequential execution within a line
// reports nothing.
static inline void sample_fetch(Cpu& c, uint64_t pc) {
  if (pc != c.fetch_sample_next) {
    const uint64_t line = (c.fetch_page->paddr | (pc & kPageMask)) & ~(kLineBytes - 1);
    if (c.sampler.sampled_fetch(line)) c.sampler.push_fetch(line);
  }
  const uint64_t next = pc + 4;
  c.fetch_sample_next = (next & (kLineBytes - 1)) ? next : ~0ull;
}

// One instruction: the delay-slot machine around one handler.
// kSampleFetch: the sampler is on (Cpu::sampler.on).
template <bool kSampleFetch>
static inline void execute(Cpu& c) {
  const uint64_t pc = c.s.pc;
  c.s.in_delay_slot = c.s.branch_pending;
  if (__builtin_expect((pc & ~(kPageMask & ~3ull)) != c.fetch_vpage, 0)) {
    if (!refill_fetch(c)) {
      ++c.s.cycles;
      return;
    }
  }
  if constexpr (kSampleFetch) sample_fetch(c, pc);
  const DecodedInsn& d = c.fetch_page->insn[(pc & kPageMask) >> 2];
  const uint64_t target = c.s.branch_target;
  c.s.branch_pending = false;
  d.fn(c, d);
  ++c.s.cycles;
  // Epilogue: a handler that set pc itself (exception, ERET) raised
  // EV_PC_SET instead.
  if (__builtin_expect(!(c.events & EV_PC_SET), 1)) c.s.pc = c.s.in_delay_slot ? target : c.s.pc + 4;
}

void execute_one(Cpu& c) {
  if (__builtin_expect(c.sampler.on, 0)) execute<true>(c);
  else execute<false>(c);
}

// The run loop while debugger breakpoints are set: s.pc is checked before
// every instruction (after interrupts are delivered, so a breakpoint on an
// exception vector stops too).
static StopReason run_checking(Cpu& c, uint64_t limit) {
  uint64_t stop_at = 0;
  StopReason why;
  for (;;) {
    if (c.events != 0 || c.s.cycles >= stop_at) {
      if (!service_events(c, limit, stop_at, why)) return why;
    }
    if (c.breakpoint_at(c.s.pc) && c.s.pc != c.break_skip) {
      c.break_skip = ~0ull;
      return StopReason::Breakpoint;
    }
    c.break_skip = ~0ull;
    execute_one(c);
  }
}

// The run loop; kSampleFetch: with the sampler on (a loop of its own, so
// that the loop without it is unchanged).
template <bool kSampleFetch>
static StopReason run_loop(Cpu& c, uint64_t limit) {
  uint64_t stop_at = 0;      // forces the slow path first
  StopReason why;
  for (;;) {
    if (__builtin_expect(c.events != 0 || c.s.cycles >= stop_at, 0)) {
      if (!service_events(c, limit, stop_at, why)) return why;
    }
    execute<kSampleFetch>(c);
  }
}

StopReason run(Cpu& c, uint64_t limit) {
  GuestSection guest(c);     // unparked (mailbox served) until it returns
  c.code_graveyard.clear();  // no handler is running now
  if (__builtin_expect(!c.breakpoints.empty(), 0)) return run_checking(c, limit);
  if (__builtin_expect(c.sampler.on, 0)) return run_loop<true>(c, limit);
  return run_loop<false>(c, limit);
}

StopReason step(Cpu& c) { return run(c, c.s.cycles + 1); }

}  // namespace disco::interp
