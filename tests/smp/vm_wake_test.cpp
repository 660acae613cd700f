// A VM idling in WAIT on host time wakes as soon as another host thread
// raises one of its interrupt lines (the processor's WAIT gate), rather
// than at the run loop's next check; on both engines.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "frontend/cp0_bits.h"
#include "monitor/vm.h"
#include "tests/support/encode.h"

namespace disco::test {
namespace {

using namespace enc;
using clock = std::chrono::steady_clock;

enum : unsigned { ZERO = 0, T0 = 8, T1 = 9 };
constexpr uint64_t kKseg0 = 0xffffffff80000000ull;
constexpr uint64_t kCodePa = 0x1000;

void put(Vm& vm, uint64_t pa, std::initializer_list<uint32_t> words) {
  for (uint32_t w : words) {
    std::memcpy(vm.ram_page(pa, true) + (pa & kPageMask), &w, 4);
    pa += 4;
  }
}

void wakes_promptly(Engine engine) {
  VmSpec spec;
  spec.mem_bytes = 16ull << 20;
  spec.engine = engine;  // host time (not deterministic)
  Vm vm(spec);
  // loop: wait; b loop; nop — IE and IM2 on, the timer (IM7) off.
  put(vm, kCodePa, {WAIT, BEQ(ZERO, ZERO, -2), NOP});
  // The general exception vector powers the VM off (power device +0 = 0x5555).
  put(vm, 0x180, {LUI(T0, 0xbfd0), ORI(T1, ZERO, 0x5555), SW(T1, T0, 0), NOP});
  Cpu& c = vm.cpu();
  c.s.cp0.status = cp0::Status_IE | (1u << (cp0::Status_IM_SHIFT + 2));
  c.mode_changed();
  c.translation_changed();
  c.s.pc = kKseg0 + kCodePa;

  Vm::Limits lim;
  lim.timeout_seconds = 10;
  lim.poll_input = [](Vm&) {};  // IP2 (the UART's line) can wake it: not halted
  clock::time_point raised;
  std::thread device([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the guest is in WAIT by then
    raised = clock::now();
    c.set_irq_line(0, true);
  });
  const VmExit why = vm.run(lim);
  const clock::time_point woke = clock::now();
  device.join();
  const double latency = std::chrono::duration<double>(woke - raised).count();
  EXPECT_EQ(why, VmExit::PowerOff);
  EXPECT_EQ((c.s.cp0.cause & cp0::Cause_ExcCode) >> cp0::Cause_ExcCode_SHIFT, 0u);  // Int
  // The run loop checks its limits every 500 ms while idle; the gate opens at once.
  EXPECT_LT(latency, 0.1);
}

TEST(VmWake, InterpreterWakesOnALineFromAnotherThread) { wakes_promptly(Engine::Interp); }
TEST(VmWake, JitWakesOnALineFromAnotherThread) { wakes_promptly(Engine::Jit); }

}  // namespace
}  // namespace disco::test
