// The architectural state of one MIPS64r2 processor. Plain data: the
// engines execute on it, the monitor owns the privileged parts' semantics.
#pragma once

#include <cstdint>

namespace disco {

struct TlbEntry {
  uint64_t entryhi = 0;   // VPN2 | ASID as written (R bits 63..62 kept)
  uint64_t pagemask = 0;  // PageMask as written
  uint64_t entrylo0 = 0;  // even page
  uint64_t entrylo1 = 0;  // odd page
  // G is the AND of EntryLo0.G and EntryLo1.G at write time.
  bool global = false;
};

constexpr unsigned kTlbEntries = 64;

struct Cp0State {
  uint64_t index = 0;
  uint64_t entrylo0 = 0, entrylo1 = 0;
  uint64_t context = 0;
  uint64_t userlocal = 0;
  uint64_t pagemask = 0;
  uint64_t wired = 0;
  uint64_t hwrena = 0;
  uint64_t badvaddr = 0;
  uint64_t entryhi = 0;
  uint32_t compare = 0;
  uint32_t status = 0;
  uint32_t intctl = 0;
  uint32_t srsctl = 0;
  uint32_t cause = 0;
  uint64_t epc = 0;
  uint32_t prid = 0;
  uint64_t ebase = 0;
  uint32_t config0 = 0, config1 = 0, config2 = 0, config3 = 0;
  uint64_t lladdr = 0;
  uint64_t xcontext = 0;
  uint64_t errorepc = 0;
  uint64_t taglo = 0, taghi = 0, datalo = 0, datahi = 0;
  uint64_t desave = 0;
  uint32_t errctl = 0;
  // Count is derived from the cycle counter: Count = (count_bias + cycles / 2).
  uint64_t count_bias = 0;
  TlbEntry tlb[kTlbEntries];
};

struct CpuState {
  uint64_t gpr[32] = {};
  uint64_t hi = 0, lo = 0;
  uint64_t pc = 0;
  // Delay-slot machine, shared by both engines (see interp/step.h).
  uint64_t branch_target = 0;  // where to go after the delay slot
  bool branch_pending = false;  // the next instruction is a delay slot
  bool in_delay_slot = false;   // the instruction executing now is one
  // LL/SC: SC succeeds while llbit is set, at the LL's virtual address, and
  // memory still holds the value LL read (as QEMU does; ERET clears llbit).
  bool llbit = false;
  uint64_t ll_vaddr = 0;
  uint64_t ll_value = 0;
  // FPU. fpr[] are the 64-bit registers. A single-precision value lives in
  // the low word of its register. With Status.FR = 0 a double in register 2n
  // is the low word of fpr[2n] (low half) with the low word of fpr[2n+1]
  // (high half), as on hardware with 32-bit FPRs.
  uint64_t fpr[32] = {};
  uint32_t fcsr = 0;
  uint32_t fir = 0;
  // Cycles executed (one per instruction, plus idle time skipped by WAIT).
  uint64_t cycles = 0;
  Cp0State cp0;
};

}  // namespace disco
