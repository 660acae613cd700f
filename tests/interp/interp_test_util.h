// Helpers shared by the interpreter tests: run instructions at fresh code
// addresses, map pages through the guest TLB, enter user mode.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>

#include "cpu/cp0.h"
#include "tests/support/encode.h"
#include "tests/support/test_cpu.h"

namespace disco::test {

constexpr uint64_t kGeneralVector = 0xffffffff80000180ull;
constexpr uint64_t kDataPhys = 0x20000;
constexpr uint64_t kDataVirt = kKseg0 + kDataPhys;
// User-mode layout: code and data identity-mapped through TLB entries 0, 1.
constexpr uint64_t kUserCode = 0x10000;
constexpr uint64_t kUserData = 0x20000;

// GPR numbers (n64 names).
enum : unsigned { ZERO = 0, AT = 1, V0 = 2, V1 = 3, A0 = 4, A1 = 5, A2 = 6, A3 = 7, T0 = 12, T1 = 13, T2 = 14, RA = 31 };

inline void map_pair(Cpu& c, unsigned index, uint64_t vaddr, uint64_t pa_even, uint64_t pa_odd, uint64_t lo_flags,
                     uint64_t asid = 0, uint64_t pagemask = 0) {
  cp0_write(c, cp0::PageMask, pagemask);
  cp0_write(c, cp0::EntryHi, (vaddr & ~0x1fffull) | asid);
  cp0_write(c, cp0::EntryLo0, ((pa_even >> 12) << 6) | lo_flags);
  cp0_write(c, cp0::EntryLo1, ((pa_odd >> 12) << 6) | lo_flags);
  tlb_write(c, index);
}

constexpr uint64_t kVDG = cp0::EntryLo_V | cp0::EntryLo_D | cp0::EntryLo_G;

// A TestCpu that runs each snippet at a fresh address (so the decoded-code
// cache never sees stale words) in kernel or user mode.
struct Runner {
  explicit Runner(CpuConfig cfg = {}) : t(cfg) {}
  TestCpu t;
  uint64_t next = kCodePhys;
  bool user = false;

  Cpu& cpu() { return t.cpu; }
  uint64_t& r(unsigned n) { return t.gpr(n); }
  uint32_t exccode() const { return t.exccode(); }
  uint64_t virt(uint64_t phys) const { return (user ? 0 : kKseg0) + phys; }

  // Places `code` at a fresh address, points pc at it and returns that pc.
  uint64_t place(std::initializer_list<uint32_t> code) {
    const uint64_t at = next;
    t.load(code, at);
    t.cpu.code_written(at & ~kPageMask);
    next += 4 * code.size() + 32;
    t.cpu.s.pc = virt(at);
    return t.cpu.s.pc;
  }
  // Runs `n` steps of `code`; returns the address of its first instruction.
  uint64_t run(std::initializer_list<uint32_t> code, unsigned n) {
    const uint64_t pc = place(code);
    t.steps(n);
    return pc;
  }
  uint64_t exec(uint32_t insn) { return run({insn}, 1); }

  // User mode (KSU = 2) with TLB entries for code and data; `status` adds
  // bits such as UX or CU0.
  void enter_user(uint32_t status = 0) {
    map_pair(t.cpu, 0, kUserCode, kCodePhys, kCodePhys + 0x1000, kVDG);
    map_pair(t.cpu, 1, kUserData, kDataPhys, kDataPhys + 0x1000, kVDG);
    cp0_write(t.cpu, cp0::Status, (2u << cp0::Status_KSU_SHIFT) | status);
    user = true;
  }

  // After an exception: the general vector, with EPC and the ExcCode.
  void expect_exception(uint32_t code, uint64_t epc, uint64_t vector = kGeneralVector) {
    EXPECT_EQ(exccode(), code);
    EXPECT_EQ(t.cpu.s.cp0.epc, epc);
    EXPECT_EQ(t.cpu.s.pc, vector);
    EXPECT_TRUE(t.cpu.s.cp0.status & cp0::Status_EXL);
  }
};

}  // namespace disco::test
