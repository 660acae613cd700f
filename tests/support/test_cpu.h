// A CPU on a TestBus with the interpreter attached, and helpers to place
// code in kseg0 and run it. Kernel mode, ERL/BEV cleared, KX/SX/UX set.
#pragma once

#include <initializer_list>

#include "frontend/cp0_bits.h"
#include "interp/interpreter.h"
#include "cpu/cpu.h"
#include "tests/support/test_bus.h"

namespace disco::test {

constexpr uint64_t kKseg0 = 0xffffffff80000000ull;
constexpr uint64_t kCodePhys = 0x10000;  // where load() puts code
constexpr uint64_t kCodeVirt = kKseg0 + kCodePhys;

struct TestCpu {
  explicit TestCpu(CpuConfig cfg = {}) : cpu(bus, cfg) {
    interp::attach(cpu);
    cpu.s.cp0.status = cp0::Status_KX | cp0::Status_SX | cp0::Status_UX;
    cpu.mode_changed();
    cpu.translation_changed();
    cpu.s.pc = kCodeVirt;
  }
  // Writes instructions at physical `paddr` (kseg0 alias runs them).
  void load(std::initializer_list<uint32_t> words, uint64_t paddr = kCodePhys) {
    for (uint32_t w : words) {
      if (cpu.cfg.big_endian) w = __builtin_bswap32(w);
      bus.write32(paddr, w);
      paddr += 4;
    }
  }
  // Executes `n` instructions (exceptions count as one step each).
  void steps(unsigned n) {
    for (unsigned k = 0; k < n; ++k) interp::step(cpu);
  }
  uint64_t& gpr(unsigned r) { return cpu.s.gpr[r]; }
  uint32_t exccode() const { return (cpu.s.cp0.cause & cp0::Cause_ExcCode) >> cp0::Cause_ExcCode_SHIFT; }

  TestBus bus;
  Cpu cpu;
};

}  // namespace disco::test
