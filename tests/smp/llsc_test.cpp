// The concurrency contract of the processor core (issue 14), on both
// engines: LL/SC is atomic against other host threads (processors on one
// physical memory, each on its own host thread, increment one counter with
// an LL/SC loop; every increment must count), and a device line raised
// from another thread reaches a running processor.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "cpu/cpu.h"
#include "interp/interpreter.h"
#include "jit/jit.h"
#include "tests/support/encode.h"

namespace disco::test {
namespace {

using namespace enc;

enum : unsigned { ZERO = 0, A0 = 4, A1 = 5, T0 = 12 };
constexpr uint64_t kKseg0 = 0xffffffff80000000ull;
constexpr uint64_t kCode = 0x10000, kCounter = 0x20000;

// Flat RAM allocated up front: no allocation while the threads run.
class SharedRam : public PhysBus {
 public:
  explicit SharedRam(uint64_t bytes) : ram_(bytes, 0) {}
  uint8_t* ram_page(uint64_t paddr, bool) override {
    return paddr < ram_.size() ? ram_.data() + (paddr & ~kPageMask) : nullptr;
  }
  bool mmio_read(uint64_t, unsigned, uint64_t&) override { return false; }
  bool mmio_write(uint64_t, unsigned, uint64_t) override { return false; }
  void put32(uint64_t paddr, uint32_t v) { std::memcpy(ram_.data() + paddr, &v, 4); }
  uint32_t get32(uint64_t paddr) const {
    uint32_t v;
    std::memcpy(&v, ram_.data() + paddr, 4);
    return v;
  }

 private:
  std::vector<uint8_t> ram_;
};

// loop: ll t0,0(a0); addiu t0,t0,1; sc t0,0(a0); beq t0,zero,loop; nop;
//       addiu a1,a1,-1; bne a1,zero,loop; nop; break
// The general exception vector (BEV = 0) holds WAIT: with interrupts off
// the run loop returns StopReason::Wait there.
void load_program(SharedRam& ram) {
  const uint32_t prog[] = {LL(T0, A0, 0), ADDIU(T0, T0, 1), SC(T0, A0, 0), BEQ(T0, ZERO, -4), NOP,
                           ADDIU(A1, A1, -1), BNE(A1, ZERO, -7), NOP, BREAK};
  for (size_t k = 0; k < sizeof prog / sizeof prog[0]; ++k) ram.put32(kCode + 4 * k, prog[k]);
  ram.put32(0x180, WAIT);
  ram.put32(0x184, NOP);
}

std::unique_ptr<Cpu> make_cpu(SharedRam& ram, uint64_t iterations) {
  auto c = std::make_unique<Cpu>(ram, CpuConfig{});
  interp::attach(*c);
  c->s.cp0.status = cp0::Status_KX | cp0::Status_SX | cp0::Status_UX;  // kernel, BEV = 0, IE = 0
  c->mode_changed();
  c->translation_changed();
  c->s.pc = kKseg0 + kCode;
  c->s.gpr[A0] = kKseg0 + kCounter;
  c->s.gpr[A1] = iterations;
  return c;
}

void count_together(bool use_jit, unsigned threads, uint64_t iterations) {
  SharedRam ram(1 << 20);
  load_program(ram);
  std::vector<std::unique_ptr<Cpu>> cpus;
  std::vector<std::unique_ptr<jit::Jit>> jits;
  for (unsigned t = 0; t < threads; ++t) {
    cpus.push_back(make_cpu(ram, iterations));
    if (use_jit) jits.push_back(std::make_unique<jit::Jit>(*cpus.back()));
  }
  std::atomic<unsigned> ready{0};
  std::vector<StopReason> why(threads, StopReason::Budget);
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < threads) {
      }
      const uint64_t limit = 1ull << 40;
      why[t] = use_jit ? jits[t]->run(limit) : interp::run(*cpus[t], limit);
    });
  }
  for (auto& th : pool) th.join();
  for (unsigned t = 0; t < threads; ++t) {
    EXPECT_EQ(why[t], StopReason::Wait) << "thread " << t;
    EXPECT_EQ(cpus[t]->s.gpr[A1], 0u) << "thread " << t;
  }
  EXPECT_EQ(ram.get32(kCounter), threads * iterations);
}

// A device line raised from another host thread reaches a processor that
// spins with interrupts enabled: it takes the interrupt (ExcCode Int,
// Cause.IP2) and stops in the handler's WAIT.
void interrupt_from_another_thread(bool use_jit) {
  SharedRam ram(1 << 20);
  ram.put32(kCode, BEQ(ZERO, ZERO, -1));  // b . (spins)
  ram.put32(kCode + 4, NOP);
  // The handler masks every interrupt (Status = 0: IM = 0, EXL = 0, IE = 0,
  // kernel mode), so its WAIT idles although the line stays high.
  ram.put32(0x180, MTC0(ZERO, 12));
  ram.put32(0x184, WAIT);
  ram.put32(0x188, NOP);
  std::unique_ptr<Cpu> c = make_cpu(ram, 0);
  c->s.cp0.status |= cp0::Status_IE | (1u << (cp0::Status_IM_SHIFT + 2));
  std::unique_ptr<jit::Jit> j;
  if (use_jit) j = std::make_unique<jit::Jit>(*c);
  std::atomic<bool> running{false};
  StopReason why = StopReason::Budget;
  std::thread runner([&] {
    running = true;
    // Budgets of 1M cycles, as the VM's run loop gives them; at most a few seconds.
    for (int k = 0; k < 500 && why == StopReason::Budget; ++k)
      why = use_jit ? j->run(c->s.cycles + (1 << 20)) : interp::run(*c, c->s.cycles + (1 << 20));
  });
  while (!running) {
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  c->set_irq_line(0, true);
  runner.join();
  EXPECT_EQ(why, StopReason::Wait);
  EXPECT_EQ((c->s.cp0.cause & cp0::Cause_ExcCode) >> cp0::Cause_ExcCode_SHIFT, 0u);  // Int
  EXPECT_NE(c->s.cp0.cause & (1u << (cp0::Cause_IP_SHIFT + 2)), 0u);
  EXPECT_EQ(c->s.cp0.epc & ~7ull, kKseg0 + kCode);
}

TEST(RemoteInterrupt, InterpreterTakesIt) { interrupt_from_another_thread(false); }
TEST(RemoteInterrupt, JitTakesIt) { interrupt_from_another_thread(true); }

TEST(LlScContention, InterpreterCountsEveryIncrement) { count_together(false, 2, 200000); }
TEST(LlScContention, JitCountsEveryIncrement) { count_together(true, 2, 2000000); }
TEST(LlScContention, JitFourThreads) { count_together(true, 4, 500000); }

}  // namespace
}  // namespace disco::test
