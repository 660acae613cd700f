// The processor-level concurrency contract (docs/smp.md, "Concurrency
// contract"), with bare processors on host threads sharing one physical
// memory, on both engines: requests posted to another processor's mailbox
// and acknowledged at its safe points (or at once while it is parked), a
// soft-TLB shootdown of a page remapped under a running processor,
// decoded code retired in every processor when any of them writes it, and
// the idle gate a WAITing processor sleeps in, woken from another thread.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "cpu/code_registry.h"
#include "cpu/cpu.h"
#include "interp/interpreter.h"
#include "jit/jit.h"
#include "tests/support/encode.h"

namespace disco::test {
namespace {

using namespace enc;
using Clock = std::chrono::steady_clock;

enum : unsigned { ZERO = 0, V0 = 2, A0 = 4, A1 = 5, A2 = 6, A3 = 7, T0 = 8, T1 = 9, T2 = 10, RA = 31 };
constexpr uint64_t kKseg0 = 0xffffffff80000000ull;

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// Guest-physical pages, each on a host page of its own that the test can
// switch (a copy-on-write break, a migration). All host pages, spares
// included, are allocated up front. Guest words are read and written with
// relaxed atomics: the processors access the same words concurrently.
class PagedRam : public PhysBus {
 public:
  PagedRam(unsigned pages, unsigned spares) : map_(pages) {
    for (unsigned k = 0; k < pages + spares; ++k) {
      auto* p = static_cast<uint8_t*>(std::aligned_alloc(kPageSize, kPageSize));
      std::memset(p, 0, kPageSize);
      host_.push_back(p);
    }
    for (unsigned k = 0; k < pages; ++k) map_[k].store(host_[k]);
    next_spare_ = pages;
  }
  ~PagedRam() override {
    for (uint8_t* p : host_) std::free(p);
  }
  uint8_t* ram_page(uint64_t paddr, bool) override {
    const uint64_t k = paddr >> 12;
    return k < map_.size() ? map_[k].load(std::memory_order_acquire) : nullptr;
  }
  bool mmio_read(uint64_t, unsigned, uint64_t&) override { return false; }
  bool mmio_write(uint64_t, unsigned, uint64_t) override { return false; }

  uint8_t* host(uint64_t paddr) { return map_[paddr >> 12].load(); }
  uint8_t* take_spare() { return host_.at(next_spare_++); }
  void remap(uint64_t ppage, uint8_t* page) { map_[ppage >> 12].store(page, std::memory_order_release); }

  static uint32_t get(const uint8_t* page, unsigned off) {
    return __atomic_load_n(reinterpret_cast<const uint32_t*>(page + off), __ATOMIC_RELAXED);
  }
  static void set(uint8_t* page, unsigned off, uint32_t v) {
    __atomic_store_n(reinterpret_cast<uint32_t*>(page + off), v, __ATOMIC_RELAXED);
  }
  uint32_t get32(uint64_t paddr) { return get(host(paddr & ~kPageMask), paddr & kPageMask); }
  void put32(uint64_t paddr, uint32_t v) { set(host(paddr & ~kPageMask), paddr & kPageMask, v); }
  void put(uint64_t paddr, std::initializer_list<uint32_t> words) {
    for (uint32_t w : words) {
      put32(paddr, w);
      paddr += 4;
    }
  }

 private:
  std::vector<std::atomic<uint8_t*>> map_;
  std::vector<uint8_t*> host_;
  unsigned next_spare_;
};

// A processor in kernel mode (BEV = 0, interrupts off) at kseg0 + `code`,
// with its engine.
struct Proc {
  std::unique_ptr<Cpu> cpu;
  std::unique_ptr<jit::Jit> jit;

  Proc(PhysBus& bus, bool use_jit, uint64_t code) {
    cpu = std::make_unique<Cpu>(bus, CpuConfig{});
    interp::attach(*cpu);
    cpu->s.cp0.status = cp0::Status_KX | cp0::Status_SX | cp0::Status_UX;
    cpu->mode_changed();
    cpu->translation_changed();
    cpu->s.pc = kKseg0 + code;
    if (use_jit) jit = std::make_unique<jit::Jit>(*cpu);
  }
  StopReason run_slice() {
    const uint64_t limit = cpu->s.cycles + (1u << 20);  // the VM's budget
    return jit ? jit->run(limit) : interp::run(*cpu, limit);
  }
  // Runs slices until WAIT idles (true) or `seconds` of wall time passed.
  bool run_until_wait(double seconds) {
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < end)
      if (run_slice() == StopReason::Wait) return true;
    return false;
  }
};

// --- The mailbox ---------------------------------------------------------

TEST(Mailbox, ParkedProcessorAcksAtOnceAndServesBeforeRunning) {
  PagedRam ram(64, 0);
  ram.put(0x10000, {LW(T0, A0, 0), WAIT, NOP});
  ram.put32(0x20000, 5);
  Proc p(ram, false, 0x10000);
  p.cpu->s.gpr[A0] = kKseg0 + 0x20000;
  // Fill a load entry, then park (run returned).
  ASSERT_EQ(p.run_slice(), StopReason::Wait);
  ASSERT_EQ(p.cpu->s.gpr[T0], 5u);
  ASSERT_NE(p.cpu->stlb_load[(0x20000 >> 12) & (kSoftTlbSize - 1)].tag, 0u);
  ASSERT_TRUE(p.cpu->mailbox.parked.load());

  const uint64_t t = p.cpu->post({CpuRequest::DropHostPage, reinterpret_cast<uint64_t>(ram.host(0x20000))});
  EXPECT_TRUE(p.cpu->acked(t));  // parked: nothing of it is used before it is served
  EXPECT_NE(p.cpu->events.load() & EV_REQUEST, 0u);
  EXPECT_LT(p.cpu->mailbox.done.load(), t);
  // The next run serves it first.
  p.cpu->enter_guest();
  EXPECT_EQ(p.cpu->mailbox.done.load(), t);
  EXPECT_EQ(p.cpu->events.load() & EV_REQUEST, 0u);
  EXPECT_EQ(p.cpu->stlb_load[(0x20000 >> 12) & (kSoftTlbSize - 1)].tag, 0u);
  p.cpu->leave_guest();
}

// A secondary held in reset is parked; a request posted then survives
// its reset at release and is served when it first runs.
TEST(Mailbox, RequestSurvivesReset) {
  PagedRam ram(64, 0);
  ram.put(0x10000, {WAIT, NOP});
  Proc p(ram, false, 0x10000);
  const uint64_t t = p.cpu->post({CpuRequest::FlushSoftTlb, 0});
  EXPECT_TRUE(p.cpu->acked(t));
  p.cpu->reset();
  p.cpu->s.pc = kKseg0 + 0x10000;
  p.cpu->enter_guest();
  EXPECT_EQ(p.cpu->mailbox.done.load(), t);
  p.cpu->leave_guest();
}

TEST(Mailbox, RunningProcessorAcksAtItsSafePoint) {
  for (bool use_jit : {false, true}) {
    PagedRam ram(64, 0);
    ram.put(0x10000, {BEQ(ZERO, ZERO, -1), NOP});  // b .
    Proc p(ram, use_jit, 0x10000);
    std::atomic<bool> stop{false}, started{false};
    std::thread runner([&] {
      p.cpu->enter_guest();  // unparked before the requester looks
      started = true;
      while (!stop) p.run_slice();
      p.cpu->enter_guest();
      p.cpu->serve_requests();
      p.cpu->leave_guest();
    });
    while (!started) std::this_thread::yield();
    for (int k = 0; k < 100; ++k) p.cpu->post_and_wait({CpuRequest::FlushSoftTlb, 0}, nullptr);
    stop = true;
    runner.join();
    EXPECT_EQ(p.cpu->mailbox.done.load(), 100u) << (use_jit ? "jit" : "interp");
  }
}

// Two processors shoot each other down at the same moment, each from
// inside its own run (not parked): each serves its own mailbox while it
// waits for the other's acknowledgement, so both finish.
TEST(Mailbox, MutualShootdownDoesNotDeadlock) {
  PagedRam ram(64, 0);
  Proc a(ram, false, 0x10000), b(ram, false, 0x10000);
  std::atomic<int> ready{0};
  auto side = [&](Cpu& self, Cpu& other) {
    self.enter_guest();
    ready.fetch_add(1);
    while (ready.load() < 2) {
    }
    for (int k = 0; k < 2000; ++k) other.post_and_wait({CpuRequest::FlushSoftTlb, 0}, &self);
    ready.fetch_add(1);
    while (ready.load() < 4) self.serve_requests();  // the other may still wait for us
    self.leave_guest();
  };
  std::thread ta(side, std::ref(*a.cpu), std::ref(*b.cpu));
  std::thread tb(side, std::ref(*b.cpu), std::ref(*a.cpu));
  ta.join();
  tb.join();
  EXPECT_EQ(a.cpu->mailbox.done.load(), 2000u);
  EXPECT_EQ(b.cpu->mailbox.done.load(), 2000u);
}

// --- Shootdown of a remapped page -----------------------------------------

// B loops reading a marker from the data page and writing its iteration
// count next to it, until the marker reads 2. The main thread moves the
// guest page to a new host page (copy, switch the bus, shoot down B's
// entries, wait for the acknowledgement) and only then writes 2 into the
// new page: B must see it, and must not write the old page after the ack.
void remap_under_running_processor(bool use_jit) {
  constexpr uint64_t kCode = 0x10000, kData = 0x20000;
  PagedRam ram(64, 1);
  ram.put(kCode, {LW(T0, A0, 0), ADDIU(T1, T1, 1), SW(T1, A0, 4), BNE(T0, A1, -4), NOP, WAIT, NOP});
  ram.put32(kData, 1);
  Proc b(ram, use_jit, kCode);
  b.cpu->s.gpr[A0] = kKseg0 + kData;
  b.cpu->s.gpr[A1] = 2;

  bool waited = false;
  std::thread runner([&] { waited = b.run_until_wait(20.0); });
  uint8_t* old_page = ram.host(kData);
  // B is going round: its count moves.
  while (PagedRam::get(old_page, 4) < 1000) std::this_thread::yield();

  uint8_t* new_page = ram.take_spare();
  PagedRam::set(new_page, 0, PagedRam::get(old_page, 0));  // the marker (1); the count is B's
  ram.remap(kData, new_page);
  b.cpu->post_and_wait({CpuRequest::DropHostPage, reinterpret_cast<uint64_t>(old_page)}, nullptr);
  const uint32_t frozen = PagedRam::get(old_page, 4);
  const auto t0 = Clock::now();
  PagedRam::set(new_page, 0, 2);
  runner.join();
  const double ms = ms_between(t0, Clock::now());

  ASSERT_TRUE(waited) << "B never saw the new page";
  EXPECT_LT(ms, 2000.0);
  EXPECT_EQ(b.cpu->s.gpr[T0], 2u);
  EXPECT_EQ(PagedRam::get(old_page, 4), frozen) << "B wrote the old page after acknowledging";
  EXPECT_EQ(PagedRam::get(new_page, 4), static_cast<uint32_t>(b.cpu->s.gpr[T1]));
  EXPECT_GT(static_cast<uint32_t>(b.cpu->s.gpr[T1]), frozen);
}

TEST(Shootdown, InterpreterSeesRemappedPage) { remap_under_running_processor(false); }
TEST(Shootdown, JitSeesRemappedPage) { remap_under_running_processor(true); }

// --- Cross-processor code invalidation ------------------------------------

constexpr uint64_t kRoutine = 0x30000;
constexpr uint32_t jal_to(uint64_t paddr) { return JAL(static_cast<uint32_t>((kKseg0 + paddr) >> 2)); }

// A calls a routine on page X (v0 = 1) over and over, recording v0, until
// it returns 2. B first stores a data word into X (a store entry, maybe
// taken before X holds code), waits until A recorded a 1, then overwrites
// the routine's first instruction with `addiu v0, zero, 2`.
void cross_modify(bool use_jit) {
  constexpr uint64_t kCodeA = 0x10000, kCodeB = 0x40000, kData = 0x20000;
  PagedRam ram(128, 0);
  ram.put(kRoutine, {ADDIU(V0, ZERO, 1), JR(RA), NOP});
  ram.put(kCodeA, {jal_to(kRoutine), NOP, SW(V0, A0, 0), BNE(V0, A1, -4), NOP, WAIT, NOP});
  ram.put(kCodeB, {SW(ZERO, A3, 0x800), LW(T0, A0, 0), BEQ(T0, ZERO, -2), NOP, SW(A2, A3, 0), WAIT, NOP});
  CodePageRegistry registry;
  Proc a(ram, use_jit, kCodeA), b(ram, use_jit, kCodeB);
  registry.attach(*a.cpu);
  registry.attach(*b.cpu);
  a.cpu->s.gpr[A0] = b.cpu->s.gpr[A0] = kKseg0 + kData;
  a.cpu->s.gpr[A1] = 2;
  b.cpu->s.gpr[A2] = ADDIU(V0, ZERO, 2);
  b.cpu->s.gpr[A3] = kKseg0 + kRoutine;

  bool a_done = false, b_done = false;
  Clock::time_point a_end;
  std::thread ta([&] {
    a_done = a.run_until_wait(20.0);
    a_end = Clock::now();
  });
  std::thread tb([&] { b_done = b.run_until_wait(20.0); });
  tb.join();
  const auto written = Clock::now();
  ta.join();
  ASSERT_TRUE(b_done);
  ASSERT_TRUE(a_done) << "A kept running the old routine";
  EXPECT_EQ(a.cpu->s.gpr[V0], 2u);
  EXPECT_EQ(ram.get32(kData), 2u);
  EXPECT_EQ(ram.get32(kRoutine), ADDIU(V0, ZERO, 2));
  EXPECT_GT(a.cpu->mailbox.done.load(), 0u);  // its copy was retired through the mailbox
  EXPECT_LT(ms_between(written, a_end), 2000.0);
}

TEST(CrossModify, InterpreterSeesOtherProcessorsStore) { cross_modify(false); }
TEST(CrossModify, JitSeesOtherProcessorsStore) { cross_modify(true); }

// Both processors keep rewriting the routine the other one calls (with
// the same word): every store retires the other's copy, every re-decode
// shoots down the other's store entries while the other does the same.
void rewrite_each_other(bool use_jit) {
  constexpr uint64_t kCodeA = 0x10000, kCodeB = 0x40000, kRoutineA = 0x30000, kRoutineB = 0x50000;
  PagedRam ram(128, 0);
  for (uint64_t r : {kRoutineA, kRoutineB}) ram.put(r, {ADDIU(V0, ZERO, 1), JR(RA), NOP});
  for (auto [code, routine] : {std::pair{kCodeA, kRoutineA}, std::pair{kCodeB, kRoutineB}})
    ram.put(code, {jal_to(routine), NOP, SW(T2, A3, 0), ADDIU(A1, A1, -1), BNE(A1, ZERO, -5), NOP, WAIT, NOP});
  CodePageRegistry registry;
  Proc a(ram, use_jit, kCodeA), b(ram, use_jit, kCodeB);
  registry.attach(*a.cpu);
  registry.attach(*b.cpu);
  for (Proc* p : {&a, &b}) {
    p->cpu->s.gpr[A1] = 100000;
    p->cpu->s.gpr[T2] = ADDIU(V0, ZERO, 1);
  }
  a.cpu->s.gpr[A3] = kKseg0 + kRoutineB;
  b.cpu->s.gpr[A3] = kKseg0 + kRoutineA;
  bool a_done = false, b_done = false;
  std::atomic<int> ready{0};
  auto go = [&](Proc& p, bool& done) {
    ready.fetch_add(1);
    while (ready.load() < 2) {
    }
    done = p.run_until_wait(30.0);
  };
  std::thread ta(go, std::ref(a), std::ref(a_done));
  std::thread tb(go, std::ref(b), std::ref(b_done));
  ta.join();
  tb.join();
  EXPECT_TRUE(a_done);
  EXPECT_TRUE(b_done);
  for (Proc* p : {&a, &b}) {
    EXPECT_EQ(p->cpu->s.gpr[A1], 0u);
    EXPECT_EQ(p->cpu->s.gpr[V0], 1u);
  }
  // They overlapped: requests were served (one that finished first stays
  // parked with the other's last requests unserved).
  EXPECT_GT(a.cpu->mailbox.done.load() + b.cpu->mailbox.done.load(), 0u);
}

TEST(CrossModify, InterpreterRewriteEachOther) { rewrite_each_other(false); }
TEST(CrossModify, JitRewriteEachOther) { rewrite_each_other(true); }

// Without a registry a processor keeps to itself: another processor's
// decoded copy is not retired (today's single-processor behaviour).
TEST(CrossModify, NoRegistryNoBroadcast) {
  PagedRam ram(128, 0);
  ram.put(kRoutine, {ADDIU(V0, ZERO, 1), JR(RA), NOP});
  ram.put(0x10000, {jal_to(kRoutine), NOP, WAIT, NOP});
  ram.put(0x40000, {SW(A2, A3, 0), WAIT, NOP});
  Proc a(ram, false, 0x10000), b(ram, false, 0x40000);
  ASSERT_EQ(a.run_slice(), StopReason::Wait);
  b.cpu->s.gpr[A2] = ADDIU(V0, ZERO, 2);
  b.cpu->s.gpr[A3] = kKseg0 + kRoutine;
  ASSERT_EQ(b.run_slice(), StopReason::Wait);
  EXPECT_EQ(a.cpu->events.load() & EV_REQUEST, 0u);
  EXPECT_EQ(a.cpu->code_pages.count(kRoutine), 1u);
}

// --- The idle gate ---------------------------------------------------------

// The guest WAITs with IP2 enabled; its thread drives the run loop the way
// the VM's will: run, and on Wait sleep in the gate until the next timer
// match (far away here). Another thread raises line 0 while it sleeps:
// it must wake at once and take the interrupt.
void wake_from_wait(bool use_jit) {
  PagedRam ram(64, 0);
  ram.put(0x10000, {WAIT, NOP, BEQ(ZERO, ZERO, -1), NOP});
  ram.put(0x180, {MTC0(ZERO, 12), WAIT, NOP});  // the handler masks everything and idles
  Proc p(ram, use_jit, 0x10000);
  p.cpu->s.cp0.status |= cp0::Status_IE | (1u << (cp0::Status_IM_SHIFT + 2));
  constexpr uint64_t kSleepNs = 10'000'000'000ull;
  std::atomic<int> sleeps{0};
  Clock::time_point woke_at;
  bool in_handler = false;
  std::thread runner([&] {
    for (int k = 0; k < 100; ++k) {
      if (p.run_slice() != StopReason::Wait) continue;
      const uint64_t pc = p.cpu->s.pc & 0xffffffffull;
      if (pc >= 0x80000180u && pc < 0x80000190u) {
        in_handler = true;
        return;
      }
      sleeps.fetch_add(1);
      p.cpu->idle_sleep(kSleepNs);
      woke_at = Clock::now();
    }
  });
  while (!p.cpu->gate.sleeping()) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const auto raised = Clock::now();
  p.cpu->set_irq_line(0, true);
  runner.join();
  ASSERT_TRUE(in_handler);
  EXPECT_EQ(sleeps.load(), 1);
  EXPECT_LT(ms_between(raised, woke_at), 1000.0);
  EXPECT_EQ((p.cpu->s.cp0.cause & cp0::Cause_ExcCode) >> cp0::Cause_ExcCode_SHIFT, 0u);  // Int
  EXPECT_NE(p.cpu->s.cp0.cause & (1u << (cp0::Cause_IP_SHIFT + 2)), 0u);
}

TEST(WaitGate, InterpreterWakesOnRemoteInterrupt) { wake_from_wait(false); }
TEST(WaitGate, JitWakesOnRemoteInterrupt) { wake_from_wait(true); }

TEST(WaitGate, PostAndStopWakeTheSleeper) {
  PagedRam ram(64, 0);
  Proc p(ram, false, 0x10000);
  p.cpu->events.store(0);
  for (int which = 0; which < 2; ++which) {
    std::atomic<bool> woke{false};
    Clock::time_point end;
    std::thread sleeper([&] {
      woke = p.cpu->idle_sleep(10'000'000'000ull);
      end = Clock::now();
    });
    while (!p.cpu->gate.sleeping()) std::this_thread::yield();
    const auto t0 = Clock::now();
    if (which == 0) EXPECT_TRUE(p.cpu->acked(p.cpu->post({CpuRequest::FlushSoftTlb, 0})));  // parked
    else p.cpu->request_stop();
    sleeper.join();
    EXPECT_TRUE(woke);
    EXPECT_LT(ms_between(t0, end), 1000.0);
    p.cpu->enter_guest();  // serves the request
    p.cpu->leave_guest();
    p.cpu->events.store(0);
  }
  // Nothing pending: the timeout ends it.
  EXPECT_FALSE(p.cpu->idle_sleep(1'000'000));
}

}  // namespace
}  // namespace disco::test
