// JIT edge cases. Each test runs the same guest code on two CPUs: the
// reference on the interpreter and the device under test on the JIT, and
// checks both the expected architectural result and that the two agree.
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "frontend/disasm.h"
#include "jit/jit.h"
#include "debug/state_diff.h"
#include "cpu/cp0.h"
#include "tests/support/encode.h"
#include "tests/support/test_cpu.h"

namespace disco::test {
namespace {

using namespace enc;
using namespace cp0;

enum : unsigned { ZERO = 0, V0 = 2, V1 = 3, A0 = 4, T0 = 12, T1 = 13, T2 = 14, T3 = 15, T4 = 16, RA = 31 };

constexpr uint64_t kKseg1 = 0xffffffffa0000000ull;
constexpr uint64_t kVDG = EntryLo_V | EntryLo_D | EntryLo_G | (3u << EntryLo_C_SHIFT);

uint32_t exccode(const Cpu& c) { return (c.s.cp0.cause & Cause_ExcCode) >> Cause_ExcCode_SHIFT; }
bool exl(const Cpu& c) { return c.s.cp0.status & Status_EXL; }

// J/JAL target field for a virtual address (same 256 MiB region).
uint32_t jidx(uint64_t vaddr) { return static_cast<uint32_t>(vaddr >> 2) & 0x03ffffff; }

// Maps the 4 KiB page at `vaddr` (even page of the pair) to `paddr` in TLB entry `index`.
void map_page(Cpu& c, unsigned index, uint64_t vaddr, uint64_t paddr) {
  c.s.cp0.tlb[index] = TlbEntry{vaddr & EntryHi_VPN2, 0, ((paddr >> 12) << EntryLo_PFN_SHIFT) | kVDG, EntryLo_G, true};
  c.translation_changed();
}

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "%016" PRIx64, v);
  return b;
}

// The differences between two CPUs' architectural state ("" if none).
std::string differences(const Cpu& d, const Cpu& r) { return state_differences(d.s, r.s); }

// The reference (interpreter) and the device under test (JIT), with
// identical memory and state.
struct Twin {
  explicit Twin(CpuConfig cfg = {}, jit::JitClasses cls = {}) : ref(cfg), dut(cfg), jit(dut.cpu, cls) {}
  TestCpu ref;
  TestCpu dut;
  jit::Jit jit;

  Cpu& r() { return ref.cpu; }
  Cpu& d() { return dut.cpu; }
  template <class F>
  void both(F f) {
    f(ref.cpu);
    f(dut.cpu);
  }
  void load(std::initializer_list<uint32_t> words, uint64_t paddr = kCodePhys) {
    ref.load(words, paddr);
    dut.load(words, paddr);
  }
  void pc(uint64_t v) { both([&](Cpu& c) { c.s.pc = v; }); }
  void gpr(unsigned n, uint64_t v) { both([&](Cpu& c) { c.s.gpr[n] = v; }); }

  // The JIT one block at a time, the reference brought to its cycle count,
  // compared after every block; until an exception is taken or
  // `max_cycles`. Returns the number of blocks.
  unsigned lockstep_until_exception(uint64_t max_cycles = 10000) {
    unsigned blocks = 0;
    const uint64_t exceptions = d().stat_exceptions;
    while (d().stat_exceptions == exceptions && d().s.cycles < max_cycles) {
      const uint64_t block_pc = d().s.pc;
      jit.run(max_cycles, 1);
      ++blocks;
      while (r().s.cycles < d().s.cycles)
        if (interp::run(r(), d().s.cycles) != StopReason::Budget) break;
      d().update_timer();
      r().update_timer();
      const std::string diff = differences(d(), r());
      EXPECT_EQ(diff, "") << "after the block at " << hex(block_pc);
      if (!diff.empty()) break;
    }
    return blocks;
  }
  // Both engines free-running to `limit` cycles.
  void run_both(uint64_t limit) {
    while (r().s.cycles < limit)
      if (interp::run(r(), limit) != StopReason::Budget) break;
    while (d().s.cycles < limit)
      if (jit.run(limit) != StopReason::Budget) break;
  }
  void expect_same() { EXPECT_EQ(differences(d(), r()), ""); }
};

const jit::JitClasses kAll{true, true, true};
const jit::JitClasses kNoBranch{true, true, false};
const jit::JitClasses kNoMem{true, false, true};

// ---- exceptions in delay slots ---------------------------------------------

class DelaySlotException : public ::testing::TestWithParam<jit::JitClasses> {};

// An inline load in a taken branch's delay slot misses the soft TLB and the
// guest TLB: the refill exception reports the branch (EPC) with Cause.BD.
TEST_P(DelaySlotException, InlineLoadTlbMiss) {
  Twin t({}, GetParam());
  t.load({ADDIU(T0, ZERO, 5), BEQ(ZERO, ZERO, 3), LW(V0, T1, 8), NOP, NOP, BREAK});
  t.pc(kCodeVirt);
  t.gpr(T1, 0x40000000);  // xuseg, no TLB entry
  t.lockstep_until_exception();
  EXPECT_EQ(exccode(t.d()), EXC_TLBL);
  EXPECT_EQ(t.d().s.cp0.epc, kCodeVirt + 4);
  EXPECT_TRUE(t.d().s.cp0.cause & Cause_BD);
  EXPECT_EQ(t.d().s.cp0.badvaddr, 0x40000008u);
  EXPECT_EQ(t.d().s.gpr[T0], 5u);
  t.expect_same();
}

// The same load, mapped by the guest TLB but not yet in the soft TLB: the
// slow path fills it, the load completes and the branch is taken.
TEST_P(DelaySlotException, InlineLoadSoftTlbFill) {
  Twin t({}, GetParam());
  t.load({BEQ(ZERO, ZERO, 3), LW(V0, T1, 8), ADDIU(V1, ZERO, 1), NOP, BREAK});
  t.both([](Cpu& c) { map_page(c, 5, 0x40000000, 0x30000); });
  t.ref.bus.write32(0x30008, 0x12345678);
  t.dut.bus.write32(0x30008, 0x12345678);
  t.pc(kCodeVirt);
  t.gpr(T1, 0x40000000);
  t.lockstep_until_exception();
  EXPECT_EQ(exccode(t.d()), EXC_Bp);
  EXPECT_EQ(t.d().s.cp0.epc, kCodeVirt + 16);
  EXPECT_EQ(t.d().s.gpr[V0], 0x12345678u);
  EXPECT_EQ(t.d().s.gpr[V1], 0u);  // skipped by the branch
  t.expect_same();
}

// A misaligned inline load in a delay slot: AdEL, EPC = branch, BD.
TEST_P(DelaySlotException, InlineLoadMisaligned) {
  Twin t({}, GetParam());
  t.load({BNE(T0, ZERO, 3), LW(V0, T1, 2), NOP, NOP, BREAK});
  t.pc(kCodeVirt);
  t.gpr(T0, 1);
  t.gpr(T1, kKseg0 + 0x20000);
  t.lockstep_until_exception();
  EXPECT_EQ(exccode(t.d()), EXC_AdEL);
  EXPECT_EQ(t.d().s.cp0.epc, kCodeVirt);
  EXPECT_TRUE(t.d().s.cp0.cause & Cause_BD);
  EXPECT_EQ(t.d().s.cp0.badvaddr, kKseg0 + 0x20002);
  t.expect_same();
}

// A fallback instruction (TEQ: a handler call) traps in a delay slot.
TEST_P(DelaySlotException, FallbackTrap) {
  Twin t({}, GetParam());
  t.load({ADDIU(T0, ZERO, 7), J(jidx(kCodeVirt + 20)), TEQ(ZERO, ZERO), NOP, NOP, BREAK});
  t.pc(kCodeVirt);
  t.lockstep_until_exception();
  EXPECT_EQ(exccode(t.d()), EXC_Tr);
  EXPECT_EQ(t.d().s.cp0.epc, kCodeVirt + 4);
  EXPECT_TRUE(t.d().s.cp0.cause & Cause_BD);
  EXPECT_EQ(t.d().s.gpr[T0], 7u);
  t.expect_same();
}

// ADD overflow (a fallback) in the delay slot of a JAL: the link is written,
// the destination is not.
TEST_P(DelaySlotException, FallbackOverflowAfterLink) {
  Twin t({}, GetParam());
  t.load({JAL(jidx(kCodeVirt + 16)), ADD(V0, T0, T0), NOP, NOP, BREAK});
  t.pc(kCodeVirt);
  t.gpr(T0, 0x40000000);
  t.gpr(V0, 99);
  t.lockstep_until_exception();
  EXPECT_EQ(exccode(t.d()), EXC_Ov);
  EXPECT_EQ(t.d().s.cp0.epc, kCodeVirt);
  EXPECT_TRUE(t.d().s.cp0.cause & Cause_BD);
  EXPECT_EQ(t.d().s.gpr[RA], kCodeVirt + 8);
  EXPECT_EQ(t.d().s.gpr[V0], 99u);
  t.expect_same();
}

INSTANTIATE_TEST_SUITE_P(Classes, DelaySlotException, ::testing::Values(kAll, kNoBranch, kNoMem),
                         [](const auto& info) {
                           return std::string(!info.param.branch ? "NoBranch" : !info.param.mem ? "NoMem" : "All");
                         });

// ---- branch-likely ---------------------------------------------------------

class BranchLikely : public ::testing::TestWithParam<jit::JitClasses> {};

// Not taken: the delay slot is nullified, execution continues at branch + 8.
TEST_P(BranchLikely, InlineNotTakenNullifiesSlot) {
  Twin t({}, GetParam());
  t.load({BEQL(T0, T1, 3), ADDIU(V0, V0, 1), ADDIU(V1, V1, 1), NOP, BREAK});
  t.pc(kCodeVirt);
  t.gpr(T0, 1);
  t.gpr(T1, 2);
  t.lockstep_until_exception();
  EXPECT_EQ(t.d().s.gpr[V0], 0u);
  EXPECT_EQ(t.d().s.gpr[V1], 1u);
  EXPECT_EQ(t.d().s.cp0.epc, kCodeVirt + 16);
  EXPECT_EQ(t.d().s.cycles, 4u);  // beql, (no slot), addiu, nop, break
  t.expect_same();
}

TEST_P(BranchLikely, InlineTakenRunsSlot) {
  Twin t({}, GetParam());
  t.load({BNEL(T0, T1, 3), ADDIU(V0, V0, 1), ADDIU(V1, V1, 1), NOP, BREAK});
  t.pc(kCodeVirt);
  t.gpr(T0, 1);
  t.gpr(T1, 2);
  t.lockstep_until_exception();
  EXPECT_EQ(t.d().s.gpr[V0], 1u);
  EXPECT_EQ(t.d().s.gpr[V1], 0u);
  EXPECT_EQ(t.d().s.cp0.epc, kCodeVirt + 16);
  t.expect_same();
}

// BGEZALL (always a handler call): links either way; not taken nullifies.
TEST_P(BranchLikely, FallbackBgezallNotTaken) {
  Twin t({}, GetParam());
  t.load({BGEZALL(T0, 3), ADDIU(V0, V0, 1), ADDIU(V1, V1, 1), NOP, BREAK});
  t.pc(kCodeVirt);
  t.gpr(T0, ~0ull);  // negative: not taken
  t.lockstep_until_exception();
  EXPECT_EQ(t.d().s.gpr[V0], 0u);
  EXPECT_EQ(t.d().s.gpr[V1], 1u);
  EXPECT_EQ(t.d().s.gpr[RA], kCodeVirt + 8);
  EXPECT_EQ(t.d().s.cp0.epc, kCodeVirt + 16);
  t.expect_same();
}

TEST_P(BranchLikely, FallbackBgezallTaken) {
  Twin t({}, GetParam());
  t.load({BGEZALL(T0, 3), ADDIU(V0, V0, 1), ADDIU(V1, V1, 1), NOP, BREAK});
  t.pc(kCodeVirt);
  t.gpr(T0, 5);
  t.lockstep_until_exception();
  EXPECT_EQ(t.d().s.gpr[V0], 1u);
  EXPECT_EQ(t.d().s.gpr[V1], 0u);
  EXPECT_EQ(t.d().s.gpr[RA], kCodeVirt + 8);
  t.expect_same();
}

// A nullified slot that would have faulted: no exception.
TEST_P(BranchLikely, NullifiedSlotDoesNotFault) {
  Twin t({}, GetParam());
  t.load({BEQL(T0, ZERO, 3), LW(V0, T1, 0), NOP, NOP, BREAK});
  t.pc(kCodeVirt);
  t.gpr(T0, 1);
  t.gpr(T1, 0x40000000);  // unmapped
  t.lockstep_until_exception();
  EXPECT_EQ(exccode(t.d()), EXC_Bp);
  EXPECT_EQ(t.d().s.cp0.epc, kCodeVirt + 16);
  t.expect_same();
}

INSTANTIATE_TEST_SUITE_P(Classes, BranchLikely, ::testing::Values(kAll, kNoBranch),
                         [](const auto& info) { return std::string(info.param.branch ? "All" : "NoBranch"); });

// ---- jumps to bad addresses ------------------------------------------------

class BadJump : public ::testing::TestWithParam<jit::JitClasses> {};

// JR to a misaligned address: the jump and its slot complete, the fetch
// raises AdEL with EPC = BadVAddr = the target.
TEST_P(BadJump, JrMisaligned) {
  Twin t({}, GetParam());
  t.load({JR(T0), ADDIU(V0, ZERO, 3), NOP, NOP, BREAK});
  t.pc(kCodeVirt);
  t.gpr(T0, kCodeVirt + 14);
  t.lockstep_until_exception();
  EXPECT_EQ(exccode(t.d()), EXC_AdEL);
  EXPECT_EQ(t.d().s.cp0.epc, kCodeVirt + 14);
  EXPECT_EQ(t.d().s.cp0.badvaddr, kCodeVirt + 14);
  EXPECT_FALSE(t.d().s.cp0.cause & Cause_BD);
  EXPECT_EQ(t.d().s.gpr[V0], 3u);
  t.expect_same();
}

// JALR to a misaligned address: the link is written first.
TEST_P(BadJump, JalrMisaligned) {
  Twin t({}, GetParam());
  t.load({JALR(RA, T0), NOP, NOP, BREAK});
  t.pc(kCodeVirt);
  t.gpr(T0, kCodeVirt + 1);
  t.lockstep_until_exception();
  EXPECT_EQ(exccode(t.d()), EXC_AdEL);
  EXPECT_EQ(t.d().s.cp0.epc, kCodeVirt + 1);
  EXPECT_EQ(t.d().s.gpr[RA], kCodeVirt + 8);
  t.expect_same();
}

// JR to an unmapped address: TLB refill on fetch.
TEST_P(BadJump, JrUnmapped) {
  Twin t({}, GetParam());
  t.load({JR(T0), NOP, BREAK});
  t.pc(kCodeVirt);
  t.gpr(T0, 0x40000000);
  t.lockstep_until_exception();
  EXPECT_EQ(exccode(t.d()), EXC_TLBL);
  EXPECT_EQ(t.d().s.cp0.epc, 0x40000000u);
  EXPECT_EQ(t.d().s.cp0.badvaddr, 0x40000000u);
  t.expect_same();
}

INSTANTIATE_TEST_SUITE_P(Classes, BadJump, ::testing::Values(kAll, kNoBranch),
                         [](const auto& info) { return std::string(info.param.branch ? "All" : "NoBranch"); });

// ---- self-modifying code -----------------------------------------------------

// A store overwrites the first instruction of a block that has already run;
// jumping back runs the new instruction. `store_page` is where the storing
// code lives: the same page as the modified block or another one.
void self_modifying(uint64_t store_phys) {
  Twin t;
  const uint64_t store_virt = kKseg0 + store_phys;
  t.load({ADDIU(V0, V0, 1),                       // 0: overwritten with addiu v0, v0, 100
          BNE(T3, ZERO, 2), NOP,                  // 1: while t3 != 0: to 4
          BREAK,                                  // 3
          J(jidx(store_virt)), NOP});             // 4: to the storing code
  t.load({SW(T1, T2, 0), ADDIU(T3, T3, -1), J(jidx(kCodeVirt)), NOP}, store_phys);
  t.pc(kCodeVirt);
  t.gpr(T1, ADDIU(V0, V0, 100));
  t.gpr(T2, kCodeVirt);
  t.gpr(T3, 1);
  t.lockstep_until_exception();
  EXPECT_EQ(exccode(t.d()), EXC_Bp);
  EXPECT_EQ(t.d().s.cp0.epc, kCodeVirt + 12);
  EXPECT_EQ(t.d().s.gpr[V0], 101u);
  EXPECT_GE(t.jit.stats().invalidations, 1u);
  t.expect_same();
}

TEST(SelfModifyingCode, StoreFromAnotherPage) { self_modifying(kCodePhys + 0x1000); }
TEST(SelfModifyingCode, StoreFromTheSamePage) { self_modifying(kCodePhys + 0x100); }

// The same, free-running (no lockstep), so translations are reused from the
// fast cache: the loop runs the old block, is patched, runs the new one.
TEST(SelfModifyingCode, PatchedLoopBodyFreeRunning) {
  Twin t;
  // 0: addiu v0, v0, 1   (patched to addiu v0, v0, 16 after 3 rounds)
  // 1: addiu t3, t3, -1
  // 2: bne t3, t4, 0     (loop while t3 != t4)
  // 3: nop
  // 4: sw t1, 0(t2)      patch
  // 5: bne t3, zero, -6  (to 0) while t3 != 0
  // 6: addiu t4, zero, 0 (slot: next exit at 0)
  // 7: break
  t.load({ADDIU(V0, V0, 1), ADDIU(T3, T3, -1), BNE(T3, T4, -3), NOP, SW(T1, T2, 0), BNE(T3, ZERO, -6),
          ADDIU(T4, ZERO, 0), BREAK});
  t.pc(kCodeVirt);
  t.gpr(T1, ADDIU(V0, V0, 16));
  t.gpr(T2, kCodeVirt);
  t.gpr(T3, 6);
  t.gpr(T4, 3);
  t.run_both(200);
  EXPECT_TRUE(exl(t.d()));
  EXPECT_EQ(exccode(t.d()), EXC_Bp);
  EXPECT_EQ(t.d().s.gpr[V0], 3u + 3u * 16u);
  t.expect_same();
}

// A store that overwrites a LATER instruction of the block it is in. The
// interpreter runs the new word (it refetches after the decoded page is
// retired); the JIT must not run the stale translation of the rest of the
// block.
//
// This test found a JIT bug: a store that overwrote a later instruction of
// the running block did not end the block, so the stale translation ran
// (v0 = 1 where the interpreter runs the new word, v0 = 100). Fixed: a store
// to a code page raises EV_CODE_WRITTEN, which ends the block.
TEST(SelfModifyingCode, StoreIntoTheRunningBlock) {
  Twin t;
  t.load({SW(T1, T2, 8), NOP, ADDIU(V0, V0, 1), NOP, BREAK});
  t.pc(kCodeVirt);
  t.gpr(T1, ADDIU(V0, V0, 100));
  t.gpr(T2, kCodeVirt);
  t.lockstep_until_exception();
  EXPECT_EQ(t.r().s.gpr[V0], 100u);  // the interpreter ran the new instruction
  EXPECT_EQ(t.d().s.gpr[V0], t.r().s.gpr[V0]);
  t.expect_same();
}

// ---- page boundaries ----------------------------------------------------------

// A branch in the last word of a page with its delay slot on the next page
// (the JIT leaves it to the interpreter), and a straight run across the
// boundary.
TEST(PageBoundary, BranchWithSlotOnTheNextPage) {
  Twin t;
  const uint64_t p = kCodePhys + 0x1000 - 12;
  t.load({ADDIU(V0, V0, 1), ADDIU(V0, V0, 1), BGEZAL(ZERO, 3), ADDIU(V1, V1, 7), NOP, NOP, BREAK}, p);
  t.pc(kKseg0 + p);
  t.lockstep_until_exception();
  EXPECT_EQ(exccode(t.d()), EXC_Bp);
  EXPECT_EQ(t.d().s.gpr[V0], 2u);
  EXPECT_EQ(t.d().s.gpr[V1], 7u);
  EXPECT_EQ(t.d().s.gpr[RA], kKseg0 + p + 16);
  EXPECT_EQ(t.d().s.cp0.epc, kKseg0 + p + 24);
  t.expect_same();
}

// The same through the TLB, with the next page unmapped: the slot's fetch
// misses, EPC = the branch, BD set.
TEST(PageBoundary, SlotFetchOnUnmappedPage) {
  Twin t;
  constexpr uint64_t kVirt = 0x00600000;  // even page mapped, odd page invalid
  const uint64_t p = 0x30000 + 0x1000 - 8;
  t.load({ADDIU(V0, V0, 1), BEQ(ZERO, ZERO, 5)}, p);
  t.both([](Cpu& c) { map_page(c, 4, kVirt, 0x30000); });
  t.pc(kVirt + 0x1000 - 8);
  t.lockstep_until_exception();
  EXPECT_EQ(exccode(t.d()), EXC_TLBL);
  EXPECT_EQ(t.d().s.cp0.epc, kVirt + 0x1000 - 4);
  EXPECT_EQ(t.d().s.cp0.badvaddr, kVirt + 0x1000);
  EXPECT_TRUE(t.d().s.cp0.cause & Cause_BD);
  EXPECT_EQ(t.d().s.gpr[V0], 1u);
  t.expect_same();
}

// ---- one physical page at two virtual addresses ----------------------------

// kseg0 and kseg1 (different 256 MiB regions, so J targets differ too) and a
// TLB mapping in xuseg, all of one physical page: link values, J targets
// and EPC follow the virtual pc.
TEST(Aliases, SamePhysicalPageAtThreeVirtualAddresses) {
  Twin t;
  t.load({JAL(0), NOP, NOP, NOP, ADDIU(V0, V0, 1), BREAK});
  t.both([](Cpu& c) { map_page(c, 3, 0x50000000, kCodePhys); });
  const uint64_t bases[] = {kCodeVirt, kKseg1 + kCodePhys, 0x50000000, kCodeVirt};
  for (uint64_t base : bases) {
    SCOPED_TRACE("alias " + hex(base));
    // The JAL's target field: index 4 in this alias's region.
    const uint32_t jal = JAL(jidx(base + 16));
    t.ref.bus.write32(kCodePhys, jal);
    t.dut.bus.write32(kCodePhys, jal);
    t.both([&](Cpu& c) {
      c.code_written(kCodePhys);
      c.s.cp0.status &= ~Status_EXL;
      c.mode_changed();
      c.s.pc = base;
    });
    t.lockstep_until_exception(t.d().s.cycles + 100);
    EXPECT_EQ(exccode(t.d()), EXC_Bp);
    EXPECT_EQ(t.d().s.gpr[RA], base + 8);
    EXPECT_EQ(t.d().s.cp0.epc, base + 20);
    t.expect_same();
  }
  EXPECT_EQ(t.d().s.gpr[V0], 4u);
}

// Without rewriting the code: a J within the page and a link, at two
// aliases, with the translations of the first still cached.
TEST(Aliases, CachedTranslationsPerVirtualPc) {
  Twin t;
  t.load({BGEZAL(ZERO, 3), NOP, NOP, NOP, TEQ(ZERO, ZERO)});
  t.both([](Cpu& c) { map_page(c, 3, 0x50000000, kCodePhys); });
  for (int round = 0; round < 2; ++round) {
    for (uint64_t base : {kCodeVirt, uint64_t{0x50000000}, kKseg1 + kCodePhys}) {
      SCOPED_TRACE("alias " + hex(base));
      t.both([&](Cpu& c) {
        c.s.cp0.status &= ~Status_EXL;
        c.mode_changed();
        c.s.pc = base;
      });
      t.lockstep_until_exception(t.d().s.cycles + 100);
      EXPECT_EQ(exccode(t.d()), EXC_Tr);
      EXPECT_EQ(t.d().s.gpr[RA], base + 8);
      EXPECT_EQ(t.d().s.cp0.epc, base + 16);
      t.expect_same();
    }
  }
}

// ---- time --------------------------------------------------------------------

struct IrqRecord {
  bool taken = false;
  uint64_t cycles = 0, epc = 0;
  uint32_t cause = 0;
  bool bd = false;
};
void record_irq(Cpu& c, uint32_t code, void* ctx) {
  auto* r = static_cast<IrqRecord*>(ctx);
  if (code != EXC_Int || r->taken) return;
  *r = IrqRecord{true, c.s.cycles, c.s.cp0.epc, c.s.cp0.cause, (c.s.cp0.cause & Cause_BD) != 0};
}

// Deterministic time: the timer interrupt is taken at the same cycle and
// the same EPC by both engines, for Compare a range of ticks ahead (so the
// match falls at every position of the loop's block).
void timer_interrupt(bool lockstep) {
  for (uint32_t ahead = 150; ahead < 170; ++ahead) {
    SCOPED_TRACE("Compare = Count + " + std::to_string(ahead));
    Twin t;
    // Loop: three instructions and a slot; the vector spins.
    t.load({ADDIU(T0, T0, 1), ADDIU(T2, T2, 3), BNE(T0, T1, -3), NOP, BREAK});
    t.load({BEQ(ZERO, ZERO, -1), NOP}, 0x180);
    t.gpr(T1, 1u << 30);
    IrqRecord ir, id;
    t.r().exception_hook = &record_irq;
    t.r().exception_hook_ctx = &ir;
    t.d().exception_hook = &record_irq;
    t.d().exception_hook_ctx = &id;
    t.both([&](Cpu& c) {
      c.s.cycles = 7;  // an odd start
      c.s.cp0.status = Status_KX | Status_SX | Status_UX | Status_IE | (1u << (Status_IM_SHIFT + 7));
      c.mode_changed();
      c.set_compare(c.count() + ahead);
      c.s.pc = kCodeVirt;
    });
    if (lockstep) t.lockstep_until_exception(2000);
    else t.run_both(2000);
    ASSERT_TRUE(ir.taken);
    ASSERT_TRUE(id.taken);
    EXPECT_EQ(id.cycles, ir.cycles);
    EXPECT_EQ(id.epc, ir.epc);
    EXPECT_EQ(id.cause, ir.cause);
    EXPECT_FALSE(id.bd);  // never between a branch and its slot
    EXPECT_GE(ir.cycles, 7u + 2u * ahead - 2u);
    EXPECT_LE(ir.cycles, 7u + 2u * ahead + 2u);
    if (!lockstep) {
      EXPECT_EQ(t.d().s.cycles, 2000u);
      t.expect_same();
    }
  }
}

TEST(Time, TimerInterruptSameCycleAndEpcFreeRunning) { timer_interrupt(false); }
TEST(Time, TimerInterruptSameCycleAndEpcLockstep) { timer_interrupt(true); }

// MFC0 Count in the middle of a block reads the value the interpreter reads
// (the block brings s.cycles up to date before the handler call).
TEST(Time, Mfc0CountInsideBlock) {
  for (uint64_t start : {0u, 1u, 1000u, 1001u}) {
    SCOPED_TRACE("start cycle " + std::to_string(start));
    Twin t;
    t.load({ADDIU(T0, T0, 1), ADDIU(T0, T0, 1), ADDIU(T0, T0, 1), MFC0(V0, 9), ADDIU(T0, T0, 1),
            ADDIU(T0, T0, 1), ADDIU(T0, T0, 1), ADDIU(T0, T0, 1), ADDIU(T0, T0, 1), MFC0(V1, 9),
            DMFC0(A0, 9), BREAK});
    t.both([&](Cpu& c) {
      c.s.cycles = start;
      c.set_compare(c.count() + 100000);
    });
    t.pc(kCodeVirt);
    t.run_both(start + 12);
    EXPECT_EQ(exccode(t.d()), EXC_Bp);
    EXPECT_EQ(t.d().s.gpr[V0], (start + 3) / 2);
    EXPECT_EQ(t.d().s.gpr[V1], (start + 9) / 2);
    EXPECT_GE(t.jit.stats().blocks_executed, 1u);
    t.expect_same();
  }
}

// An interrupt already pending when EI enables it is taken right after the
// EI, in the middle of what would be one block.
TEST(Time, PendingInterruptTakenAfterEi) {
  for (bool lockstep : {false, true}) {
    SCOPED_TRACE(lockstep ? "lockstep" : "free-running");
    Twin t;
    t.load({ADDIU(V0, V0, 1), EI(T0), ADDIU(V0, V0, 1), ADDIU(V0, V0, 1), BREAK});
    t.load({BEQ(ZERO, ZERO, -1), NOP}, 0x180);
    IrqRecord ir, id;
    t.r().exception_hook = &record_irq;
    t.r().exception_hook_ctx = &ir;
    t.d().exception_hook = &record_irq;
    t.d().exception_hook_ctx = &id;
    t.both([](Cpu& c) {
      c.s.cp0.status = Status_KX | Status_SX | Status_UX | (1u << (Status_IM_SHIFT + 7));
      c.mode_changed();
      c.set_compare(c.count() + 1);
      c.s.cycles += 10;  // the match has passed: TI pends, masked by IE = 0
      c.s.pc = kCodeVirt;
    });
    if (lockstep) t.lockstep_until_exception(100);
    else t.run_both(100);
    ASSERT_TRUE(ir.taken);
    ASSERT_TRUE(id.taken);
    EXPECT_EQ(ir.epc, kCodeVirt + 8);
    EXPECT_EQ(id.epc, ir.epc);
    EXPECT_EQ(id.cycles, ir.cycles);
    EXPECT_EQ(t.d().s.gpr[V0], 1u);
    t.expect_same();
  }
}

// Compare written inside a block, a few ticks ahead, in a long straight
// run: the interrupt comes at the same instruction for both engines.
TEST(Time, CompareWrittenInsideBlock) {
  for (int16_t ahead = 2; ahead < 12; ++ahead) {
    for (bool lockstep : {false, true}) {
      SCOPED_TRACE("ahead " + std::to_string(ahead) + (lockstep ? " lockstep" : " free-running"));
      Twin t;
      std::vector<uint32_t> code = {MFC0(T0, 9), ADDIU(T0, T0, ahead), MTC0(T0, 11)};
      for (int k = 0; k < 40; ++k) code.push_back(ADDIU(V0, V0, 1));
      code.push_back(BREAK);
      for (size_t k = 0; k < code.size(); ++k)
        for (TestCpu* c : {&t.ref, &t.dut}) c->load({code[k]}, kCodePhys + 4 * k);
      t.load({BEQ(ZERO, ZERO, -1), NOP}, 0x180);
      IrqRecord ir, id;
      t.r().exception_hook = &record_irq;
      t.r().exception_hook_ctx = &ir;
      t.d().exception_hook = &record_irq;
      t.d().exception_hook_ctx = &id;
      t.both([](Cpu& c) {
        c.s.cp0.status = Status_KX | Status_SX | Status_UX | Status_IE | (1u << (Status_IM_SHIFT + 7));
        c.mode_changed();
        c.set_compare(c.count() + 100000);
        c.s.pc = kCodeVirt;
      });
      if (lockstep) t.lockstep_until_exception(200);
      else t.run_both(200);
      ASSERT_TRUE(ir.taken);
      ASSERT_TRUE(id.taken);
      EXPECT_EQ(id.epc, ir.epc);
      EXPECT_EQ(id.cycles, ir.cycles);
      if (!lockstep) t.expect_same();
    }
  }
}

// ---- mode changes ------------------------------------------------------------

// A block of one physical page and virtual pc runs first in kernel mode
// (DADDU inline) and then, after MTC0 Status + ERET, in 32-bit user mode,
// where DADDU is reserved: the kernel-mode translation must not be reused.
TEST(ModeChange, UserModeDoesNotReuseKernelBlocks) {
  Twin t;
  constexpr uint64_t kUser = 0x00400000;
  constexpr uint64_t kUserPhys = 0x30000;
  t.load({DADDU(T0, T1, T2), ADDIU(V0, V0, 1), BREAK}, kUserPhys);
  // Kernel stub: Status = user | EXL, EPC = kUser, eret.
  t.load({MTC0(T3, 12), MTC0(T4, 14), NOP, ERET, NOP});
  t.both([](Cpu& c) { map_page(c, 2, kUser, kUserPhys); });
  t.gpr(T1, 0x100000000ull);
  t.gpr(T2, 0x200000000ull);
  // 1: the user page in kernel mode.
  t.pc(kUser);
  t.lockstep_until_exception();
  EXPECT_EQ(exccode(t.d()), EXC_Bp);
  EXPECT_EQ(t.d().s.gpr[T0], 0x300000000ull);
  EXPECT_EQ(t.d().s.gpr[V0], 1u);
  // 2: to user mode (UX = 0) through the kernel stub.
  t.gpr(T0, 0);
  t.gpr(T3, (2u << Status_KSU_SHIFT) | Status_EXL);
  t.gpr(T4, kUser);
  t.both([](Cpu& c) {
    c.s.cp0.status &= ~Status_EXL;
    c.mode_changed();
  });
  t.pc(kCodeVirt);
  t.lockstep_until_exception();
  EXPECT_EQ(exccode(t.d()), EXC_RI);
  EXPECT_EQ(t.d().s.cp0.epc, kUser);
  EXPECT_EQ(t.d().s.gpr[T0], 0u);
  EXPECT_EQ(t.d().s.gpr[V0], 1u);
  t.expect_same();
}

// The other way: a user-mode translation of a load from kseg0 (an address
// error in user mode) is not reused in kernel mode.
TEST(ModeChange, KernelModeDoesNotReuseUserBlocks) {
  Twin t;
  constexpr uint64_t kUser = 0x00400000;
  constexpr uint64_t kUserPhys = 0x30000;
  t.load({LW(V0, T1, 0), ADDIU(V1, V1, 1), BREAK}, kUserPhys);
  t.ref.bus.write32(0x20000, 0xabcd);
  t.dut.bus.write32(0x20000, 0xabcd);
  t.both([](Cpu& c) {
    map_page(c, 2, kUser, kUserPhys);
    c.s.cp0.status = (2u << Status_KSU_SHIFT) | Status_UX;
    c.mode_changed();
  });
  t.gpr(T1, kKseg0 + 0x20000);
  t.pc(kUser);
  t.lockstep_until_exception();
  EXPECT_EQ(exccode(t.d()), EXC_AdEL);
  EXPECT_EQ(t.d().s.gpr[V0], 0u);
  t.expect_same();
  // Kernel mode, same virtual pc.
  t.both([](Cpu& c) {
    c.s.cp0.status = Status_KX | Status_SX | Status_UX;
    c.mode_changed();
  });
  t.pc(kUser);
  t.lockstep_until_exception();
  EXPECT_EQ(exccode(t.d()), EXC_Bp);
  EXPECT_EQ(t.d().s.gpr[V0], 0xabcdu);
  t.expect_same();
}

// ---- inline divides, LL/SC, unaligned loads --------------------------------------

// Divisions inline, including the cases x86 would trap on (zero divisor,
// the overflowing signed quotient): LO/HI as the interpreter leaves them.
TEST(InlineOps, DivideEdgeCases) {
  const uint64_t kMin64 = 1ull << 63, kMin32 = 0xffffffff80000000ull;
  const uint64_t values[][2] = {{1000, 7},        {~999ull, 7},    {1000, ~6ull},       {12345, 0},
                                {kMin64, ~0ull},  {kMin32, ~0ull}, {0xffffffff, 0xffffffff}, {kMin64, 3},
                                {0x7fffffff, 1},  {5, 0x100000000ull}};
  for (const auto& v : values) {
    SCOPED_TRACE(hex(v[0]) + " / " + hex(v[1]));
    Twin t;
    t.load({DIV(T1, T2), MFLO(V0), MFHI(V1), DIVU(T1, T2), MFLO(A0), MFHI(T0), DDIV(T1, T2), MFLO(T3),
            MFHI(T4), DDIVU(T1, T2), MFLO(20), MFHI(21), BREAK});
    t.gpr(T1, v[0]);
    t.gpr(T2, v[1]);
    t.lockstep_until_exception();
    EXPECT_EQ(exccode(t.d()), EXC_Bp);
    t.expect_same();
    EXPECT_EQ(t.jit.fallbacks().by_op[static_cast<size_t>(Op::DDIV)], 0u);
  }
}

// LL/SC and LLD/SCD on kseg0 and xkphys data (inline, LLAddr from the
// address), an SC after the word changed, an SC with no link, and a
// misaligned SC (AdES).
TEST(InlineOps, LoadLinkedStoreConditional) {
  const uint64_t kData = 0x30000;
  for (const uint64_t base : {kKseg0 + kData, uint64_t{0x9800000000000000ull} + kData}) {
    for (const bool be : {false, true}) {
      SCOPED_TRACE(hex(base) + (be ? " big-endian" : " little-endian"));
      CpuConfig cfg;
      cfg.big_endian = be;
      Twin t(cfg);
      t.load({LL(T0, T1, 4), ADDIU(T0, T0, 1), SC(T0, T1, 4), LLD(V0, T1, 8), DADDIU(V0, V0, 1), SCD(V0, T1, 8),
              LL(V1, T1, 4), SW(ZERO, T1, 4), SC(V1, T1, 4), SC(A0, T1, 4), MFC0(T3, 17), LL(T4, T1, 16),
              SC(T4, T1, 18), BREAK});
      for (TestCpu* c : {&t.ref, &t.dut}) {
        c->bus.write32(kData + 4, be ? __builtin_bswap32(41) : 41);
        c->bus.write64(kData + 8, be ? __builtin_bswap64(0x1234567890ull) : 0x1234567890ull);
      }
      t.gpr(T1, base);
      t.gpr(A0, 9);
      t.lockstep_until_exception();
      EXPECT_EQ(exccode(t.d()), EXC_AdES);  // the last SC
      EXPECT_EQ(t.d().s.gpr[T0], 1u);
      EXPECT_EQ(t.d().s.gpr[V0], 1u);
      EXPECT_EQ(t.d().s.gpr[V1], 0u);  // the word changed
      EXPECT_EQ(t.d().s.gpr[A0], 0u);  // no link
      EXPECT_EQ(t.d().s.gpr[T3], t.r().s.gpr[T3]);
      EXPECT_EQ(t.d().s.cp0.lladdr, t.r().s.cp0.lladdr);
      EXPECT_EQ(t.d().s.cp0.lladdr, (kData + 16) >> 4);
      EXPECT_EQ(t.dut.bus.read64(kData + 8), t.ref.bus.read64(kData + 8));
      EXPECT_EQ(t.dut.bus.read32(kData + 4), 0u);
      EXPECT_EQ(t.jit.fallbacks().by_op[static_cast<size_t>(Op::LLD)], 0u);
      t.expect_same();
    }
  }
}

// LWL/LWR/LDL/LDR at every byte offset, both byte orders.
TEST(InlineOps, UnalignedLoadPairs) {
  const uint64_t kData = 0x30000;
  for (const bool be : {false, true}) {
    for (int off = 0; off < 8; ++off) {
      SCOPED_TRACE(std::to_string(off) + (be ? " big-endian" : " little-endian"));
      CpuConfig cfg;
      cfg.big_endian = be;
      Twin t(cfg);
      t.load({LWL(T0, T1, off), LWR(V0, T1, off), LDL(V1, T1, off), LDR(A0, T1, off), LWL(T3, T1, off + 3),
              LWR(T3, T1, off), LDL(T4, T1, off + 7), LDR(T4, T1, off), BREAK});
      for (TestCpu* c : {&t.ref, &t.dut}) {
        c->bus.write64(kData, 0x8877665544332211ull);
        c->bus.write64(kData + 8, 0xffeeddccbbaa9988ull);
      }
      t.gpr(T1, kKseg0 + kData);
      for (unsigned r : {T0, V0, V1, A0, T3, T4}) t.gpr(r, 0x0123456789abcdefull);
      t.lockstep_until_exception();
      EXPECT_EQ(exccode(t.d()), EXC_Bp);
      EXPECT_EQ(t.jit.fallbacks().by_op[static_cast<size_t>(Op::LDL)], 0u);
      t.expect_same();
    }
  }
}

// BGEZAL/BLTZAL inline: the link is written taken or not; the compare reads
// rs first. Byte swaps and kernel-mode CP0 reads inline too.
TEST(InlineOps, BranchAndLinkSwapsCp0Reads) {
  for (const uint64_t v : {uint64_t{5}, ~uint64_t{4}, uint64_t{0}}) {
    SCOPED_TRACE(hex(v));
    Twin t;
    t.load({BGEZAL(T1, 3), WSBH(V0, T1), NOP, NOP, BLTZAL(T1, 3), DSBH(V1, T1), NOP, NOP, DSHD(A0, T1),
            MFC0(T0, 12), DMFC0(T2, 14), MFC0(T3, 10), DMFC0(T4, 4), MFC0(20, 11), BREAK});
    t.both([](Cpu& c) {
      c.s.cp0.epc = 0x123456789abcdef0ull;
      c.s.cp0.entryhi = 0xc000000012345000ull;
      c.s.cp0.context = 0x8000000000000000ull;
      c.s.cp0.compare = 0x87654321;
    });
    t.gpr(T1, v == 5 ? 0x1122334455667788ull : v);
    t.lockstep_until_exception();
    EXPECT_EQ(exccode(t.d()), EXC_Bp);
    t.expect_same();
    for (Op op : {Op::BGEZAL, Op::BLTZAL, Op::WSBH, Op::DSHD, Op::MFC0, Op::DMFC0})
      EXPECT_EQ(t.jit.fallbacks().by_op[static_cast<size_t>(op)], 0u) << kInsnTable[static_cast<size_t>(op)].name;
  }
}

// ---- statistics ----------------------------------------------------------------

// --stats: CLZ always runs through its handler; each execution counts.
TEST(Stats, FallbackCountersCountEachExecution) {
  constexpr unsigned kN = 37;
  Twin t;
  t.load({CLZ(T1, T2), ADDIU(T0, T0, -1), BNE(T0, ZERO, -3), NOP, BREAK});
  t.pc(kCodeVirt);
  t.gpr(T0, kN);
  t.gpr(T1, 1000);
  t.gpr(T2, 7);
  t.run_both(4 * kN + 1);
  EXPECT_EQ(exccode(t.d()), EXC_Bp);
  t.expect_same();
  EXPECT_EQ(t.jit.fallbacks().by_op[static_cast<size_t>(Op::CLZ)], kN);
  EXPECT_EQ(t.jit.fallbacks().by_op[static_cast<size_t>(Op::ADDIU)], 0u);  // inline
  const auto top = t.jit.top_fallbacks(12);
  ASSERT_FALSE(top.empty());
  EXPECT_EQ(top[0].first, "CLZ");
  EXPECT_EQ(top[0].second, kN);
}

// ---- self loops ----------------------------------------------------------------

// A block that branches back to its own start keeps guest registers in host
// registers across iterations (JitClasses::loop). This loop names 20
// registers, more than the cache holds, rotates values through a chain of
// moves (as a hash round does), mixes 32- and 64-bit results, loads in the
// body and stores in the delay slot; `with_handler` adds an instruction
// that calls the interpreter's handler (MFC0 Count) every iteration, which
// empties the cache mid-body. Free-running and block by block, with the
// loop form and without, the result must equal the interpreter's.
struct LoopCase {
  bool with_handler, lockstep, loop;
};
class SelfLoop : public ::testing::TestWithParam<LoopCase> {};

TEST_P(SelfLoop, ManyRegistersAcrossIterations) {
  const LoopCase p = GetParam();
  const uint64_t kData = 0x30000;
  const unsigned kWords = 100;
  jit::JitClasses cls;
  cls.loop = p.loop;
  Twin t({}, cls);
  std::vector<uint32_t> code = {
      LW(5, 4, 0),       ADDU(2, 2, 5),    ROTR(6, 2, 7),    SUBU(7, 6, 3),     ADDU(3, 3, 7),
      OR(8, 3, 16),      ADDU(17, 17, 8),  SLL(9, 17, 3),    ADDU(18, 18, 9),   DADDU(19, 19, 18),
      ADDU(10, 20, 21),  OR(20, 21, 0),    OR(21, 22, 0),    OR(22, 23, 0),     ADDU(23, 10, 2),
      SUBU(11, 11, 23),  DADDU(12, 12, 11), p.with_handler ? MFC0(24, 9) : ADDIU(24, 24, 3), ADDIU(4, 4, 4)};
  code.push_back(BNE(4, 13, static_cast<int16_t>(-static_cast<int>(code.size()) - 1)));
  code.push_back(SW(2, 4, 0x100));  // the slot
  code.push_back(BREAK);
  for (TestCpu* c : {&t.ref, &t.dut})
    for (size_t k = 0; k < code.size(); ++k) c->bus.write32(kCodePhys + 4 * k, code[k]);
  t.load({BEQ(ZERO, ZERO, -1), NOP}, 0x180);  // the exception vector spins
  uint32_t x = 12345;
  for (unsigned k = 0; k < kWords; ++k) {
    x = x * 1103515245u + 12345u;
    for (TestCpu* c : {&t.ref, &t.dut}) c->bus.write32(kData + 4 * k, x);
  }
  t.pc(kCodeVirt);
  for (unsigned r = 2; r < 26; ++r) t.gpr(r, 0x9e3779b97f4a7c15ull * r);
  t.gpr(4, kKseg0 + kData);
  t.gpr(13, kKseg0 + kData + 4 * kWords);
  if (p.lockstep) {
    t.lockstep_until_exception(20000);
  } else {
    // First to a stop in the middle of the loop (the block leaves its loop
    // head for the dispatcher there), then to the end.
    t.run_both(1003);
    EXPECT_EQ(t.d().s.cycles, 1003u);
    t.expect_same();
    t.run_both(20000);
  }
  EXPECT_EQ(exccode(t.d()), EXC_Bp);
  EXPECT_EQ(t.d().s.gpr[4], kKseg0 + kData + 4 * kWords);  // every iteration ran
  EXPECT_EQ(t.jit.stats().loops_compiled != 0, p.loop);
  uint8_t a[4 * kWords + 0x100], b[4 * kWords + 0x100];
  t.dut.bus.read_bytes(kData, a, sizeof a);
  t.ref.bus.read_bytes(kData, b, sizeof b);
  EXPECT_EQ(std::memcmp(a, b, sizeof a), 0);
  t.expect_same();
}

INSTANTIATE_TEST_SUITE_P(Forms, SelfLoop,
                         ::testing::Values(LoopCase{false, false, true}, LoopCase{false, true, true},
                                           LoopCase{true, false, true}, LoopCase{true, true, true},
                                           LoopCase{false, false, false}, LoopCase{true, true, false}));

// ---- big-endian ----------------------------------------------------------------

// Inline loads and stores of every width in big-endian mode.
TEST(BigEndian, InlineLoadsAndStores) {
  CpuConfig cfg;
  cfg.big_endian = true;
  Twin t(cfg);
  t.load({SD(T1, T2, 0), LB(V0, T2, 1), LHU(V1, T2, 2), LW(A0, T2, 4), SH(T1, T2, 8), SB(T1, T2, 11),
          LD(T3, T2, 8), SW(T1, T2, 16), LWU(T4, T2, 16), BREAK});
  t.pc(kCodeVirt);
  t.gpr(T1, 0x0123456789abcdefull);
  t.gpr(T2, kKseg0 + 0x20000);
  t.lockstep_until_exception();
  EXPECT_EQ(exccode(t.d()), EXC_Bp);
  EXPECT_EQ(t.d().s.gpr[V0], 0x23u);
  EXPECT_EQ(t.d().s.gpr[V1], 0x4567u);
  EXPECT_EQ(t.d().s.gpr[A0], 0xffffffff89abcdefull);
  EXPECT_EQ(t.d().s.gpr[T3], 0xcdef00ef00000000ull);
  EXPECT_EQ(t.d().s.gpr[T4], 0x89abcdefull);
  uint8_t a[24], b[24];
  t.dut.bus.read_bytes(0x20000, a, sizeof a);
  t.ref.bus.read_bytes(0x20000, b, sizeof b);
  EXPECT_EQ(std::memcmp(a, b, sizeof a), 0);
  EXPECT_EQ(a[0], 0x01);
  t.expect_same();
}

}  // namespace
}  // namespace disco::test
