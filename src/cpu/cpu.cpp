#include "cpu/cpu.h"

#include <time.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "cpu/code_registry.h"
#include "cpu/mmu.h"

namespace disco {

using namespace cp0;

Cpu::Cpu(PhysBus& b, const CpuConfig& c) : bus(&b), cfg(c) { reset(); }

void Cpu::reset() {
  s = CpuState{};
  Cp0State& cp = s.cp0;
  cp.status = Status_ERL | Status_BEV;
  cp.prid = cfg.prid;
  cp.ebase = (cfg.ebase_default & 0xfffff000ull) | (cfg.cpu_num & EBase_CPUNum);
  // Config0: M, BE per endianness, AT = 2 (MIPS64 with all segments), AR = 1
  // (Release 2), MT = 1 (standard TLB), K0 = 3 (cacheable).
  cp.config0 = (1u << 31) | (cfg.big_endian ? 1u << 15 : 0) | (2u << 13) | (1u << 10) | (1u << 7) | 3u;
  // Config1: M, MMUSize-1 = 63, 64-set 4-way 32-byte-line I/D caches (a
  // plausible shape for Linux's cache probing), FP per configuration.
  cp.config1 = (1u << 31) | (63u << 25) | (1u << 22) | (4u << 19) | (3u << 16) | (1u << 13) |
               (4u << 10) | (3u << 7) | (cfg.has_fpu ? 1u : 0u);
  cp.config2 = 1u << 31;
  // Config3: ULRI (UserLocal implemented), CMGCR with a Coherence Manager.
  // No M bit: no Config4.
  cp.config3 = (1u << 13) | (cfg.cm_gcr_base ? Config3_CMGCR : 0u);
  cp.wired = 0;
  // FIR: F64, L, W, D, S; implementation/revision as an R10000-ish FPU.
  s.fir = cfg.has_fpu ? ((1u << 22) | (1u << 21) | (1u << 20) | (1u << 17) | (1u << 16) | 0x0900u) : 0;
  s.pc = reset_base;
  // A request posted while held in reset is still queued: keep its bit.
  events.fetch_and(EV_REQUEST);
  events.fetch_or(EV_IRQ_CHECK);
  mem::flush_soft_tlb(*this);
  // s.cycles restarted from 0: so does the accounting (kernel mode now).
  user_done_ = 0;
  user_from_ = kNotUser;
  fetch_sample_next = ~0ull;
  mode_changed();
  next_timer_cycle = ~0ull;
  set_compare(0);
}

void Cpu::mode_changed(bool by_insn) {
  // The new mode begins with the next instruction when the running one
  // (index s.cycles, counted after its handler returns) changed it, or
  // with this one when nothing is running.
  const uint64_t at = s.cycles + (by_insn ? 1 : 0);
  if (user_from_ != kNotUser && at > user_from_) user_done_ += at - user_from_;
  user_from_ = mode() == 2 ? at : kNotUser;
  const uint64_t erl = (s.cp0.status & Status_ERL) ? 1 : 0;
  mode_key = ((1 + mode()) | (erl << 2)) << 4;
  fetch_vpage = ~0ull;
}

void Cpu::translation_changed() {
  mem::flush_soft_tlb(*this);
  fetch_vpage = ~0ull;
}

void Cpu::set_irq_line(unsigned line, bool level) {
  if (line > 5) return;
  const uint32_t bit = 1u << line;
  if (level) irq_lines.fetch_or(bit, std::memory_order_release);
  else irq_lines.fetch_and(~bit, std::memory_order_release);
  events.fetch_or(EV_IRQ_CHECK);
  gate.wake();
}

uint64_t Cpu::post(const CpuRequest& r) {
  const uint64_t ticket = mailbox.push(r);
  // Before `parked` is read (acked): see enter_guest.
  events.fetch_or(EV_REQUEST);
  gate.wake();
  return ticket;
}

void Cpu::wait_ack(uint64_t ticket, Cpu* self) {
  for (unsigned spins = 0; !acked(ticket); ++spins) {
    if (self && (self->events.load(std::memory_order_relaxed) & EV_REQUEST)) self->serve_requests();
    if (spins < 64) {
#if defined(__x86_64__)
      __builtin_ia32_pause();
#endif
    } else {
      std::this_thread::yield();
    }
  }
}

void Cpu::serve_requests() {
  // Cleared first: a request posted from now on raises it again.
  events.fetch_and(~EV_REQUEST);
  const uint64_t last = mailbox.take(request_batch_);
  for (const CpuRequest& r : request_batch_) {
    switch (r.kind) {
      case CpuRequest::DropHostPage:
        mem::invalidate_host_page(*this, reinterpret_cast<const uint8_t*>(r.arg));
        break;
      case CpuRequest::FlushSoftTlb:
        mem::flush_soft_tlb(*this);
        fetch_vpage = ~0ull;
        break;
      case CpuRequest::DropStoreEntries:
        mem::flush_store_entries(*this);
        break;
      case CpuRequest::RetireCode:
        retire_code(r.arg);
        break;
    }
  }
  mailbox.done.store(last, std::memory_order_release);
}

void Cpu::enter_guest() {
  // Sequentially consistent against post(): either the poster sees this
  // store (and waits for a real acknowledgement) or this load sees its
  // EV_REQUEST (and the request is served before any guest code runs).
  mailbox.parked.store(false);
  if (events.load() & EV_REQUEST) serve_requests();
}

bool Cpu::idle_sleep(uint64_t timeout_ns) {
  return gate.sleep(timeout_ns, [this] { return (events.load() & (EV_IRQ_CHECK | EV_REQUEST | EV_STOP)) != 0; });
}

void Cpu::request_stop() {
  events.fetch_or(EV_STOP);
  gate.wake();
}

namespace {
uint64_t host_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}
}  // namespace

uint64_t Cpu::ticks() const {
  if (!host_time) return (s.cycles + cycle_offset) / 2;
  const uint64_t t0 = shared_count ? shared_count->host_t0_ns : host_t0_ns_;
  const unsigned __int128 ns = host_ns() - t0;
  return static_cast<uint64_t>(ns * count_hz / 1'000'000'000u);
}

void Cpu::use_host_time(uint64_t hz) {
  const uint32_t c = count();
  host_time = true;
  count_hz = hz;
  if (shared_count) {
    // One epoch for all; the shared Count goes on from where it is.
    if (!shared_count->host_t0_ns) {
      shared_count->host_t0_ns = host_ns();
      set_count(c);
    }
    schedule_timer();
    return;
  }
  host_t0_ns_ = host_ns();
  set_count(c);
}

void Cpu::set_cycle_offset(uint64_t offset) {
  cycle_offset = offset;
  if (host_time) return;
  // The next match stays where it is on the clock; the timer may have
  // fired while the others ran.
  if (next_timer_tick != ~0ull) next_timer_cycle = next_timer_tick * 2 - cycle_offset;
  update_timer();
}

uint32_t Cpu::count() const {
  const uint64_t bias = shared_count ? shared_count->bias.load(std::memory_order_relaxed) : s.cp0.count_bias;
  return static_cast<uint32_t>(bias + ticks());
}

void Cpu::set_count(uint32_t v) {
  s.cp0.count_bias = static_cast<uint64_t>(v) - ticks();
  if (shared_count) shared_count->bias.store(s.cp0.count_bias, std::memory_order_relaxed);
  // A write to Count moves the next match but does not acknowledge a
  // pending timer interrupt (only a Compare write does).
  schedule_timer();
}

void Cpu::set_compare(uint32_t v) {
  s.cp0.compare = v;
  s.cp0.cause &= ~(Cause_TI | (1u << (Cause_IP_SHIFT + kTimerIrq)));
  schedule_timer();
}

void Cpu::schedule_timer() {
  // Count reaches Compare after `delta` more ticks (2^32 if equal now).
  const uint64_t now = ticks();
  const uint64_t bias = shared_count ? shared_count->bias.load(std::memory_order_relaxed) : s.cp0.count_bias;
  uint64_t delta = static_cast<uint32_t>(s.cp0.compare - static_cast<uint32_t>(bias + now));
  if (delta == 0) delta = 1ull << 32;
  next_timer_tick = now + delta;
  // Deterministic: ticks happen on even cycles (of the clock).
  next_timer_cycle = host_time ? ~0ull : next_timer_tick * 2 - cycle_offset;
  events |= EV_IRQ_CHECK;
}

void Cpu::update_timer() {
  sync_irq_lines();
  if (ticks() < next_timer_tick) return;
  s.cp0.cause |= Cause_TI | (1u << (Cause_IP_SHIFT + kTimerIrq));
  next_timer_tick += 1ull << 32;  // next match after a full wrap
  next_timer_cycle = host_time ? ~0ull : next_timer_tick * 2 - cycle_offset;
  events |= EV_IRQ_CHECK;
}

uint64_t Cpu::ns_until_timer() const {
  const uint64_t now = ticks();
  if (now >= next_timer_tick) return 0;
  const unsigned __int128 ns = static_cast<unsigned __int128>(next_timer_tick - now) * 1'000'000'000u;
  return static_cast<uint64_t>(ns / count_hz) + 1;
}

bool Cpu::interrupt_pending() const {
  const uint32_t st = s.cp0.status;
  if ((st & (Status_IE | Status_EXL | Status_ERL)) != Status_IE) return false;
  return (s.cp0.cause & st & Status_IM) != 0;
}

DecodedPage* Cpu::decoded_page(uint64_t ppage, const uint8_t* host) {
  auto it = code_pages.find(ppage);
  if (it != code_pages.end()) return it->second.get();
  if (code_registry) {
    // Registered before it is read: every store from now on is seen.
    // Waiting for the others may have served a remap of the page: read
    // it where it is now.
    code_registry->add(*this, ppage);
    if (const uint8_t* now = bus->ram_page(ppage, false)) host = now;
  }
  auto page = std::make_unique<DecodedPage>();
  page->paddr = ppage;
  for (unsigned i = 0; i < kInsnsPerPage; ++i) {
    // Another processor may be storing to the page (the registry will
    // retire this copy then): one relaxed atomic read per word.
    uint32_t w = __atomic_load_n(reinterpret_cast<const uint32_t*>(host + i * 4), __ATOMIC_RELAXED);
    if (cfg.big_endian) w = __builtin_bswap32(w);
    page->insn[i] = DecodedInsn{lazy_decoder, w, 0};
  }
  // Stores to this page must now take the slow path to see it is code.
  mem::flush_store_entries(*this);
  DecodedPage* p = page.get();
  code_pages.emplace(ppage, std::move(page));
  return p;
}

void Cpu::forget_code() {
  code_pages.clear();
  code_graveyard.clear();
  for (auto& f : stlb_fetch) f.tag = 0;
  fetch_page = nullptr;
  fetch_vpage = ~0ull;
}

void Cpu::code_written(uint64_t ppage) {
  if (code_registry) code_registry->written(*this, ppage);
  retire_code(ppage);
}

void Cpu::retire_code(uint64_t ppage) {
  auto it = code_pages.find(ppage);
  if (it == code_pages.end()) return;
  if (code_write_hook) code_write_hook(code_write_hook_ctx, ppage);
  events |= EV_CODE_WRITTEN;
  if (fetch_page == it->second.get()) fetch_vpage = ~0ull;
  for (auto& f : stlb_fetch)
    if (f.page == it->second.get()) f.tag = 0;
  code_graveyard.push_back(std::move(it->second));
  code_pages.erase(it);
}

bool Cpu::breakpoint_at(uint64_t pc) const {
  // Usually one or a handful: a linear scan beats a binary search.
  for (uint64_t b : breakpoints)
    if (b == pc) return true;
  return false;
}

bool Cpu::add_breakpoint(uint64_t vaddr) {
  auto it = std::lower_bound(breakpoints.begin(), breakpoints.end(), vaddr);
  if (it != breakpoints.end() && *it == vaddr) return false;
  breakpoints.insert(it, vaddr);
  if (breakpoint_hook) breakpoint_hook(breakpoint_hook_ctx, vaddr);
  return true;
}

bool Cpu::remove_breakpoint(uint64_t vaddr) {
  auto it = std::lower_bound(breakpoints.begin(), breakpoints.end(), vaddr);
  if (it == breakpoints.end() || *it != vaddr) return false;
  breakpoints.erase(it);
  if (breakpoint_hook) breakpoint_hook(breakpoint_hook_ctx, vaddr);
  return true;
}

void Cpu::clear_breakpoints() {
  while (!breakpoints.empty()) remove_breakpoint(breakpoints.back());
  break_skip = ~0ull;
}

}  // namespace disco
