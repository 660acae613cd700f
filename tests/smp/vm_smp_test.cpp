// An SMP VM end to end, on bare-metal code: vCPU 0 programs the GIC (one
// shared interrupt to its pin 0), releases vCPU 1 through the CM
// (RESET_BASE, RESET_RELEASE) and waits in WAIT; vCPU 1 starts at its
// RESET_BASE with ERL and BEV set and sends the interrupt through the
// GIC's WEDGE (as Linux sends an IPI); vCPU 0 takes it and powers off.
// On both engines, with host time (a host thread per vCPU) and with
// deterministic time (interleaved on one thread).
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>

#include "frontend/cp0_bits.h"
#include "monitor/vm.h"
#include "tests/support/encode.h"

namespace disco::test {
namespace {

using namespace enc;

enum : unsigned { ZERO = 0, T0 = 8, T1 = 9, T2 = 10 };
constexpr uint64_t kKseg0 = 0xffffffff80000000ull;
constexpr uint64_t kBootPa = 0x1000;
constexpr uint64_t kSecondaryPa = 0x2000;  // vCPU 1's RESET_BASE (through KSEG1)
constexpr unsigned kIrq = 10;              // the GIC shared interrupt used as the IPI

void put(Vm& vm, uint64_t pa, std::initializer_list<uint32_t> words) {
  for (uint32_t w : words) {
    std::memcpy(vm.ram_page(pa, true) + (pa & kPageMask), &w, 4);
    pa += 4;
  }
}

struct Outcome {
  VmExit why;
  double seconds;
};

Outcome run_ipi(Engine engine, bool deterministic) {
  VmSpec spec;
  spec.mem_bytes = 16ull << 20;
  spec.vcpus = 2;
  spec.engine = engine;
  spec.deterministic = deterministic;
  Vm vm(spec);
  EXPECT_EQ(vm.vcpus(), 2u);
  EXPECT_FALSE(vm.vcpu_started(1));
  put(vm, kBootPa, {
      // GIC (0xbfbc0000): kIrq edge-triggered on a rising edge (at reset
      // it is an active-low level, pending while its line is low), unmasked,
      // routed to pin 0 (IP2) of VP 0.
      LUI(T2, 0xbfbc),
      ORI(T1, ZERO, 1u << kIrq), SW(T1, T2, 0x100), SW(T1, T2, 0x180),  // POL, TRIG
      SW(T1, T2, 0x380),                                     // SMASK
      LUI(T1, 0x8000), SW(T1, T2, 0x500 + 4 * kIrq),         // MAP_PIN = MAP_TO_PIN | pin 0
      ORI(T1, ZERO, 1), SW(T1, T2, 0x2000 + 0x20 * kIrq),    // MAP_VP = VP 0
      // CM (0xbfbf8000): core-other = core 1, its RESET_BASE, release it.
      LUI(T0, 0xbfbf), ORI(T0, T0, 0x8000),
      LUI(T1, 1), SW(T1, T0, 0x2018),                        // core-local OTHER.CORENUM = 1
      LUI(T1, 0xa000), ORI(T1, T1, kSecondaryPa), SW(T1, T0, 0x4020),  // RESET_BASE
      SW(ZERO, T0, 0x4000),                                  // RESET_RELEASE = 0: go
      // IE and IM2 on, then wait for the interrupt.
      ORI(T1, ZERO, 0x0401), MTC0(T1, 12, 0),
      WAIT, BEQ(ZERO, ZERO, -2), NOP,
  });
  // vCPU 1: WEDGE = 0x80000000 | kIrq (set pending), then spin.
  put(vm, kSecondaryPa, {LUI(T2, 0xbfbc), LUI(T1, 0x8000), ORI(T1, T1, kIrq), SW(T1, T2, 0x280),
                         BEQ(ZERO, ZERO, -1), NOP});
  // vCPU 0's general exception vector powers the VM off.
  put(vm, 0x180, {LUI(T0, 0xbfd0), ORI(T1, ZERO, 0x5555), SW(T1, T0, 0), NOP});
  Cpu& c = vm.cpu(0);
  c.s.cp0.status = 0;  // kernel mode, ERL/EXL/BEV clear
  c.mode_changed();
  c.translation_changed();
  c.s.pc = kKseg0 + kBootPa;

  Vm::Limits lim;
  lim.timeout_seconds = 20;
  const auto t0 = std::chrono::steady_clock::now();
  const VmExit why = vm.run(lim);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(vm.vcpu_started(1));
  // vCPU 0 took an interrupt (ExcCode 0) with IP2 up; vCPU 1 got past the WEDGE store.
  EXPECT_EQ((c.s.cp0.cause & cp0::Cause_ExcCode) >> cp0::Cause_ExcCode_SHIFT, 0u);
  EXPECT_NE(c.s.cp0.cause & (1u << (cp0::Cause_IP_SHIFT + 2)), 0u);
  const Cpu& s = vm.cpu(1);
  // Spinning in its last branch (or its delay slot) after the store.
  EXPECT_GE(s.s.pc, 0xffffffffa0000000ull + kSecondaryPa + 16);
  EXPECT_LE(s.s.pc, 0xffffffffa0000000ull + kSecondaryPa + 20);
  EXPECT_NE(s.s.cp0.status & cp0::Status_ERL, 0u);  // out of reset as after a hardware reset
  EXPECT_NE(s.s.cp0.status & cp0::Status_BEV, 0u);
  EXPECT_EQ(s.s.cp0.ebase & cp0::EBase_CPUNum, 1u);
  EXPECT_GT(vm.instructions(1), 0u);
  return {why, secs};
}

TEST(VmSmp, InterpreterThreadsReleaseAndIpi) {
  const Outcome o = run_ipi(Engine::Interp, false);
  EXPECT_EQ(o.why, VmExit::PowerOff);
  EXPECT_LT(o.seconds, 2.0);  // the IPI opens vCPU 0's WAIT gate at once (else 0.5 s checks)
}
TEST(VmSmp, JitThreadsReleaseAndIpi) {
  const Outcome o = run_ipi(Engine::Jit, false);
  EXPECT_EQ(o.why, VmExit::PowerOff);
  EXPECT_LT(o.seconds, 2.0);
}
TEST(VmSmp, InterpreterInterleavedReleaseAndIpi) { EXPECT_EQ(run_ipi(Engine::Interp, true).why, VmExit::PowerOff); }
TEST(VmSmp, JitInterleavedReleaseAndIpi) { EXPECT_EQ(run_ipi(Engine::Jit, true).why, VmExit::PowerOff); }

// A VM with more vCPUs than the kernel's NR_CPUS is refused by name.
TEST(VmSmp, RefusesSeventeenVcpus) {
  VmSpec spec;
  spec.mem_bytes = 16ull << 20;
  spec.vcpus = 17;
  EXPECT_THROW(Vm vm(spec), std::invalid_argument);
}

}  // namespace
}  // namespace disco::test
