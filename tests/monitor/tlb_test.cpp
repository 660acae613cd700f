// The guest TLB (MIPS64 PRA, "Memory Management"): refill vectors in 32-
// and 64-bit address spaces, invalid/modified exceptions, the state the
// exceptions load (BadVAddr, Context, XContext, EntryHi), page sizes, the
// global bit, ASIDs, and the TLBP/TLBR/TLBWI/TLBWR instructions.
#include <gtest/gtest.h>

#include <set>

#include "cpu/mmu.h"
#include "tests/interp/interp_test_util.h"

namespace disco::test {
namespace {

using namespace enc;
using namespace cp0;

constexpr uint64_t kVecBase = 0xffffffff80000000ull;
constexpr uint64_t kRefill32 = kVecBase + 0x000;
constexpr uint64_t kRefill64 = kVecBase + 0x080;

void set_status(Runner& x, uint32_t st) { cp0_write(x.cpu(), Status, st); }

// ---- refill vector selection ------------------------------------------------------

struct RefillCase {
  const char* name;
  uint64_t vaddr;
  uint32_t status;
  uint64_t vector;
};

TEST(TlbRefill, VectorDependsOnTheAddressSpaceOfTheReference) {
  const RefillCase cases[] = {
      {"kuseg, UX=0", 0x00400000, 0, kRefill32},
      {"kuseg, UX=1 (xuseg)", 0x00400000, Status_UX, kRefill64},
      {"kuseg, only KX=1", 0x00400000, Status_KX, kRefill32},
      {"xuseg above 4G, UX=1", 0x0000001000000000ull, Status_UX, kRefill64},
      {"xuseg top, UX=1", 0x000000fffffff000ull, Status_UX, kRefill64},
      {"kseg2, KX=0", 0xffffffffc0000000ull, 0, kRefill32},
      {"kseg3, KX=0", 0xffffffffe0001000ull, Status_UX | Status_SX, kRefill32},
      {"kseg2, KX=1 (ckseg2)", 0xffffffffc0000000ull, Status_KX, kRefill64},
      {"kseg3, KX=1 (ckseg3)", 0xffffffffe0001000ull, Status_KX, kRefill64},
      {"xkseg, KX=1", 0xc000000000002000ull, Status_KX, kRefill64},
      {"xkseg top, KX=1", 0xc00000ff7fffe000ull, Status_KX, kRefill64},
      {"xsseg, SX=1", 0x4000000000001000ull, Status_SX, kRefill64},
  };
  for (const RefillCase& k : cases) {
    for (bool store : {false, true}) {
      Runner x;
      set_status(x, k.status);
      x.r(A0) = k.vaddr;
      const uint64_t pc = x.exec(store ? SW(V0, A0, 0) : LW(V0, A0, 0));
      SCOPED_TRACE(testing::Message() << k.name << (store ? " store" : " load"));
      x.expect_exception(store ? EXC_TLBS : EXC_TLBL, pc, k.vector);
      EXPECT_EQ(x.cpu().s.cp0.badvaddr, k.vaddr);
    }
  }
}

TEST(TlbRefill, InstructionFetchMissUsesTargetAsEpcAndBadVAddr) {
  Runner x;
  set_status(x, 0);
  x.r(A0) = 0x00500000;
  x.run({JR(A0), NOP}, 3);
  x.expect_exception(EXC_TLBL, 0x00500000, kRefill32);
  EXPECT_EQ(x.cpu().s.cp0.badvaddr, 0x00500000u);
  EXPECT_FALSE(x.cpu().s.cp0.cause & Cause_BD);
}

TEST(TlbRefill, MissInDelaySlotHasBdAndEpcOfBranch) {
  Runner x;
  set_status(x, 0);
  x.r(A0) = 0x00500000;
  const uint64_t pc = x.run({BEQ(ZERO, ZERO, 4), LW(V0, A0, 0)}, 2);
  x.expect_exception(EXC_TLBL, pc, kRefill32);
  EXPECT_TRUE(x.cpu().s.cp0.cause & Cause_BD);
}

TEST(TlbRefill, WithExlSetUsesGeneralVectorAndKeepsEpc) {
  Runner x;
  set_status(x, Status_EXL | Status_UX);
  x.cpu().s.cp0.epc = 0x1234;
  x.r(A0) = 0x00400000;
  x.exec(LW(V0, A0, 0));
  EXPECT_EQ(x.exccode(), EXC_TLBL);
  EXPECT_EQ(x.cpu().s.pc, kGeneralVector);
  EXPECT_EQ(x.cpu().s.cp0.epc, 0x1234u);
  EXPECT_EQ(x.cpu().s.cp0.badvaddr, 0x00400000u);
}

TEST(TlbRefill, BevVectorsAreInTheBootRom) {
  for (uint32_t ux : {0u, Status_UX}) {
    Runner x;
    set_status(x, Status_BEV | ux);
    x.r(A0) = 0x00400000;
    const uint64_t pc = x.exec(LW(V0, A0, 0));
    x.expect_exception(EXC_TLBL, pc, 0xffffffffbfc00200ull + (ux ? 0x80 : 0));
  }
  Runner x;
  set_status(x, Status_BEV);
  const uint64_t pc = x.exec(SYSCALL);
  x.expect_exception(EXC_Sys, pc, 0xffffffffbfc00380ull);
}

TEST(TlbRefill, EbaseRelocatesAllVectors) {
  Runner x;
  x.r(T0) = 0x80100000;
  x.exec(MTC0(T0, 15, 1));
  EXPECT_EQ(cp0_read(x.cpu(), EBase), 0xffffffff80100000ull);
  set_status(x, 0);
  x.r(A0) = 0x00400000;
  uint64_t pc = x.exec(LW(V0, A0, 0));
  x.expect_exception(EXC_TLBL, pc, 0xffffffff80100000ull);
  set_status(x, Status_UX);
  pc = x.exec(LW(V0, A0, 0));
  x.expect_exception(EXC_TLBL, pc, 0xffffffff80100080ull);
  set_status(x, 0);
  pc = x.exec(SYSCALL);
  x.expect_exception(EXC_Sys, pc, 0xffffffff80100180ull);
}

TEST(TlbRefill, EbaseBits31To30AreFixedAt10AndCpuNumIsReadOnly) {
  Runner x;
  cp0_write(x.cpu(), EBase, 0x000003ffull | 0x00200000ull);
  EXPECT_EQ(cp0_read(x.cpu(), EBase), 0xffffffff80200000ull);
}

// ---- state loaded by TLB exceptions -------------------------------------------------------

TEST(TlbException, ContextGetsBadVPN2AndKeepsPteBase) {
  Runner x;
  set_status(x, 0);
  cp0_write(x.cpu(), Context, 0xffffffffc0000000ull);
  x.r(A0) = 0x00412345;
  x.exec(LB(V0, A0, 0));
  EXPECT_EQ(x.cpu().s.cp0.context, 0xffffffffc0002090ull);
  EXPECT_EQ(cp0_read(x.cpu(), BadVAddr), 0x00412345u);
}

TEST(TlbException, XContextGetsRegionAndBadVPN2) {
  struct C {
    uint64_t vaddr;
    uint32_t status;
    uint64_t xcontext_low;
  };
  const C cases[] = {
      {0x000000abcdef2000ull, Status_UX, 0x55e6f790},
      {0xc000000012346000ull, Status_KX, 0x180091a30ull},
      {0x4000001234568000ull, Status_SX, 0x891a2b40},
      {0xffffffffc0004000ull, Status_KX, 0x1ffe00020ull},
  };
  for (const C& k : cases) {
    Runner x;
    set_status(x, k.status);
    cp0_write(x.cpu(), XContext, 0xfffffffe00000000ull);
    x.r(A0) = k.vaddr;
    x.exec(LB(V0, A0, 0));
    EXPECT_EQ(x.exccode(), EXC_TLBL);
    EXPECT_EQ(x.cpu().s.cp0.xcontext, 0xfffffffe00000000ull | k.xcontext_low) << std::hex << k.vaddr;
  }
}

TEST(TlbException, EntryHiGetsVPN2AndRAndKeepsTheAsid) {
  Runner x;
  set_status(x, Status_KX);
  cp0_write(x.cpu(), EntryHi, 0x42);
  x.r(A0) = 0x00412344;
  x.exec(LW(V0, A0, 0x10));
  EXPECT_EQ(x.exccode(), EXC_TLBL);
  EXPECT_EQ(x.cpu().s.cp0.entryhi, 0x00412000u | 0x42);
  x.cpu().s.cp0.status &= ~Status_EXL;
  x.cpu().mode_changed();
  x.r(A0) = 0xc000001234567000ull;
  x.exec(SW(V0, A0, 0));
  EXPECT_EQ(x.cpu().s.cp0.entryhi, 0xc000001234566000ull | 0x42);
}

TEST(TlbException, InvalidEntryRaisesTlblOrTlbsThroughGeneralVector) {
  for (bool store : {false, true}) {
    Runner x;
    set_status(x, Status_UX);
    // Even page invalid, odd page valid.
    cp0_write(x.cpu(), PageMask, 0);
    cp0_write(x.cpu(), EntryHi, 0x40000000);
    cp0_write(x.cpu(), EntryLo0, ((kDataPhys >> 12) << 6) | EntryLo_D);
    cp0_write(x.cpu(), EntryLo1, (((kDataPhys + 0x1000) >> 12) << 6) | EntryLo_D | EntryLo_V);
    tlb_write(x.cpu(), 3);
    x.t.bus.write32(kDataPhys + 0x1000 + 8, 0xabcd);
    x.r(A0) = 0x40000000;
    x.r(V0) = 0;
    uint64_t pc = x.exec(LW(V0, A0, 0x1008));
    EXPECT_EQ(x.r(V0), 0xabcdu);
    pc = x.exec(store ? SW(V0, A0, 8) : LW(V0, A0, 8));
    SCOPED_TRACE(store ? "store" : "load");
    x.expect_exception(store ? EXC_TLBS : EXC_TLBL, pc, kGeneralVector);
    EXPECT_EQ(x.cpu().s.cp0.badvaddr, 0x40000008u);
    EXPECT_EQ(x.cpu().s.cp0.entryhi & EntryHi_VPN2, 0x40000000u);
  }
}

TEST(TlbException, CleanPageStoreRaisesModified) {
  Runner x;
  set_status(x, 0);
  map_pair(x.cpu(), 4, 0x40000000, kDataPhys, kDataPhys + 0x1000, EntryLo_V | EntryLo_G);
  x.t.bus.write32(kDataPhys, 0x55);
  x.r(A0) = 0x40000000;
  x.r(A1) = 0x66;
  x.exec(LW(V0, A0, 0));  // loads are fine (and fill the soft TLB)
  EXPECT_EQ(x.r(V0), 0x55u);
  const uint64_t pc = x.exec(SW(A1, A0, 4));
  x.expect_exception(EXC_Mod, pc, kGeneralVector);
  EXPECT_EQ(x.cpu().s.cp0.badvaddr, 0x40000004u);
  EXPECT_EQ(x.t.bus.read32(kDataPhys + 4), 0u);
  EXPECT_EQ(x.cpu().s.cp0.entryhi & EntryHi_VPN2, 0x40000000u);
}

TEST(TlbException, PartialStoresToCleanPageRaiseModified) {
  for (uint32_t op : {SB(A1, A0, 1), SWL(A1, A0, 2), SDR(A1, A0, 3), SC(A1, A0, 0)}) {
    Runner x;
    set_status(x, 0);
    map_pair(x.cpu(), 4, 0x40000000, kDataPhys, kDataPhys + 0x1000, EntryLo_V | EntryLo_G);
    x.r(A0) = 0x40000000;
    x.r(A1) = ~0ull;
    if (op == SC(A1, A0, 0)) x.exec(LL(V0, A0, 0));
    const uint64_t pc = x.exec(op);
    SCOPED_TRACE(testing::Message() << std::hex << op);
    x.expect_exception(EXC_Mod, pc, kGeneralVector);
    EXPECT_EQ(x.t.bus.read64(kDataPhys), 0u);
  }
}

// ---- page sizes, even/odd pages -----------------------------------------------------------

TEST(TlbMapping, EveryPageSizeSelectsEvenOddPageAndPhysicalAddress) {
  struct Size {
    uint64_t mask, bytes;
  };
  const Size sizes[] = {{0x0, 4096},          {0x6000, 16384},       {0x1e000, 65536},      {0x7e000, 262144},
                        {0x1fe000, 1u << 20}, {0x7fe000, 4u << 20}, {0x1ffe000, 16u << 20}};
  constexpr uint64_t kEven = 0x2000000, kOdd = 0x3000000;  // 16 MiB aligned, inside RAM
  for (const Size& s : sizes) {
    Runner x;
    set_status(x, 0);
    const uint64_t va = 0x40000000;
    map_pair(x.cpu(), 7, va, kEven, kOdd, kVDG, 0, s.mask);
    for (uint64_t off : {uint64_t{0}, s.bytes / 2 + 8, s.bytes - 8}) {
      x.t.bus.write64(kEven + off, 0xe0000000 + off);
      x.t.bus.write64(kOdd + off, 0xd0000000 + off);
      x.r(A0) = va + off;
      x.exec(LD(V0, A0, 0));
      EXPECT_EQ(x.r(V0), 0xe0000000 + off) << "even page, size " << s.bytes << " offset " << off;
      x.r(A0) = va + s.bytes + off;
      x.exec(LD(V1, A0, 0));
      EXPECT_EQ(x.r(V1), 0xd0000000 + off) << "odd page, size " << s.bytes << " offset " << off;
    }
    EXPECT_FALSE(x.cpu().s.cp0.status & Status_EXL);
    // One byte past the pair misses.
    x.r(A0) = va + 2 * s.bytes;
    x.exec(LB(V0, A0, 0));
    EXPECT_EQ(x.exccode(), EXC_TLBL) << s.bytes;
    EXPECT_EQ(x.cpu().s.pc, kRefill32) << s.bytes;
  }
}

TEST(TlbMapping, LargePageIgnoresPfnBitsBelowThePageSize) {
  Runner x;
  set_status(x, 0);
  // 16 KiB pages; PFN low bits (below 16 KiB) set: they do not take part.
  map_pair(x.cpu(), 2, 0x40000000, kDataPhys + 0x1000, kDataPhys + 0x5000, kVDG, 0, 0x6000);
  x.t.bus.write32(kDataPhys + 0x10, 0x5a5a);
  x.r(A0) = 0x40000010;
  x.exec(LW(V0, A0, 0));
  EXPECT_EQ(x.r(V0), 0x5a5au);
}

TEST(TlbMapping, StoresGoThroughTheMappingToPhysicalMemory) {
  Runner x;
  set_status(x, 0);
  map_pair(x.cpu(), 1, 0x7fff0000, kDataPhys, kDataPhys + 0x1000, kVDG);
  x.r(A0) = 0x7fff1000;
  x.r(A1) = 0x0102030405060708ull;
  x.exec(SD(A1, A0, 0x18));
  EXPECT_EQ(x.t.bus.read64(kDataPhys + 0x1018), 0x0102030405060708ull);
}

TEST(TlbMapping, MappedSegmentsOfEveryRegionTranslate) {
  struct C {
    const char* name;
    uint64_t va;
  };
  const C cases[] = {
      {"kuseg", 0x00400000},
      {"xuseg", 0x000000fffffe0000ull},
      {"xsseg", 0x4000000000100000ull},
      {"ckseg2 (kseg2)", 0xffffffffc0100000ull},
      {"ckseg3 (kseg3)", 0xfffffffff0000000ull},
      {"xkseg", 0xc000000000200000ull},
  };
  for (const C& k : cases) {
    Runner x;
    set_status(x, Status_UX | Status_SX | Status_KX);
    map_pair(x.cpu(), 11, k.va, kDataPhys, kDataPhys + 0x1000, kVDG);
    x.t.bus.write32(kDataPhys + 0x1004, 0x1234abcd);
    x.r(A0) = k.va + 0x1000;
    x.exec(LW(V0, A0, 4));
    EXPECT_FALSE(x.cpu().s.cp0.status & Status_EXL) << k.name;
    EXPECT_EQ(x.r(V0), 0x1234abcdu) << k.name;
    // TLBP finds it from the address as EntryHi would hold it.
    cp0_write(x.cpu(), EntryHi, k.va);
    x.exec(TLBP);
    EXPECT_EQ(x.cpu().s.cp0.index, 11u) << k.name;
  }
}

TEST(TlbRefill, DelaySlotOnAnUnmappedPageFaultsWithBdAndEpcOfBranch) {
  Runner x;
  set_status(x, 0);
  // Code page pair at 0x40000000; the next page pair is unmapped.
  map_pair(x.cpu(), 6, 0x40000000, kCodePhys + 0x4000, kCodePhys + 0x5000, kVDG);
  x.t.bus.write32(kCodePhys + 0x5ffc, BEQ(ZERO, ZERO, 8));
  x.cpu().code_written(kCodePhys + 0x5000);
  x.cpu().s.pc = 0x40001ffc;
  x.t.steps(2);
  x.expect_exception(EXC_TLBL, 0x40001ffc, kRefill32);
  EXPECT_TRUE(x.cpu().s.cp0.cause & Cause_BD);
  EXPECT_EQ(x.cpu().s.cp0.badvaddr, 0x40002000u);
}

// ---- ASID and global --------------------------------------------------------------------

TEST(TlbMapping, AsidMismatchMissesAndMatchHits) {
  Runner x;
  set_status(x, 0);
  map_pair(x.cpu(), 9, 0x40000000, kDataPhys, kDataPhys + 0x1000, EntryLo_V | EntryLo_D, 5);
  x.t.bus.write32(kDataPhys, 77);
  x.r(A0) = 0x40000000;
  cp0_write(x.cpu(), EntryHi, 5);
  x.exec(LW(V0, A0, 0));
  EXPECT_EQ(x.r(V0), 77u);
  cp0_write(x.cpu(), EntryHi, 6);
  const uint64_t pc = x.exec(LW(V1, A0, 0));
  x.expect_exception(EXC_TLBL, pc, kRefill32);
  EXPECT_EQ(x.cpu().s.cp0.entryhi & EntryHi_ASID, 6u);
}

TEST(TlbMapping, GlobalOnlyWhenBothEntryLoGBitsAreSet) {
  for (int g : {0, 1, 2, 3}) {
    Runner x;
    set_status(x, 0);
    cp0_write(x.cpu(), PageMask, 0);
    cp0_write(x.cpu(), EntryHi, 0x40000000 | 5);
    cp0_write(x.cpu(), EntryLo0, ((kDataPhys >> 12) << 6) | EntryLo_V | ((g & 1) ? EntryLo_G : 0));
    cp0_write(x.cpu(), EntryLo1, (((kDataPhys + 0x1000) >> 12) << 6) | EntryLo_V | ((g & 2) ? EntryLo_G : 0));
    tlb_write(x.cpu(), 0);
    cp0_write(x.cpu(), EntryHi, 6);  // another address space
    x.r(A0) = 0x40000000;
    x.exec(LW(V0, A0, 0));
    if (g == 3) {
      EXPECT_FALSE(x.cpu().s.cp0.status & Status_EXL) << "global entry matches any ASID";
    } else {
      EXPECT_EQ(x.exccode(), EXC_TLBL) << "G=" << g;
      EXPECT_EQ(x.cpu().s.pc, kRefill32) << "G=" << g;
    }
    // TLBR reports G in both EntryLo registers as the AND.
    cp0_write(x.cpu(), Index, 0);
    tlb_read(x.cpu());
    EXPECT_EQ(x.cpu().s.cp0.entrylo0 & EntryLo_G, g == 3 ? EntryLo_G : 0u);
    EXPECT_EQ(x.cpu().s.cp0.entrylo1 & EntryLo_G, g == 3 ? EntryLo_G : 0u);
  }
}

// ---- TLB instructions ------------------------------------------------------------------

TEST(TlbInstructions, TlbpFindsMatchingEntryOrSetsProbeFailure) {
  Runner x;
  map_pair(x.cpu(), 17, 0x40000000, kDataPhys, kDataPhys, EntryLo_V, 3);
  map_pair(x.cpu(), 30, 0x50000000, kDataPhys, kDataPhys, EntryLo_V | EntryLo_G, 9);
  map_pair(x.cpu(), 40, 0x60000000, kDataPhys, kDataPhys, EntryLo_V, 3, 0x1fe000);  // 1 MiB
  struct C {
    uint64_t entryhi;
    int64_t index;
  };
  const C cases[] = {
      {0x40000000 | 3, 17},  {0x40000000 | 4, -1},  {0x40002000 | 3, -1}, {0x50000000 | 0, 30},
      {0x50000000 | 200, 30}, {0x60000000 | 3, 40}, {0x601fe000 | 3, 40}, {0x60200000 | 3, -1},
  };
  for (const C& k : cases) {
    cp0_write(x.cpu(), EntryHi, k.entryhi);
    x.exec(TLBP);
    const uint64_t idx = x.cpu().s.cp0.index;
    if (k.index < 0) {
      EXPECT_TRUE(idx & 0x80000000u) << std::hex << k.entryhi;
    } else {
      EXPECT_EQ(idx, static_cast<uint64_t>(k.index)) << std::hex << k.entryhi;
    }
  }
  // Index.P reads as the sign bit of MFC0.
  cp0_write(x.cpu(), EntryHi, 0x70000000);
  x.run({TLBP, MFC0(V0, 0)}, 2);
  EXPECT_EQ(x.r(V0) >> 31, 0x1ffffffffull);
}

TEST(TlbInstructions, TlbrReturnsWhatTlbwiWrote) {
  Runner x;
  const uint64_t hi = 0xc000001234560000ull | 0x7e;
  const uint64_t lo0 = (0x123456ull << 6) | (3 << 3) | EntryLo_D | EntryLo_V;
  const uint64_t lo1 = (0x0abcdeull << 6) | (2 << 3) | EntryLo_V;
  cp0_write(x.cpu(), Index, 23);
  cp0_write(x.cpu(), PageMask, 0x6000);
  cp0_write(x.cpu(), EntryHi, hi);
  cp0_write(x.cpu(), EntryLo0, lo0);
  cp0_write(x.cpu(), EntryLo1, lo1);
  x.exec(TLBWI);
  cp0_write(x.cpu(), PageMask, 0);
  cp0_write(x.cpu(), EntryHi, 0x7e);
  cp0_write(x.cpu(), EntryLo0, 0);
  cp0_write(x.cpu(), EntryLo1, 0);
  x.exec(TLBR);
  EXPECT_EQ(cp0_read(x.cpu(), EntryHi), hi);
  EXPECT_EQ(cp0_read(x.cpu(), PageMask), 0x6000u);
  EXPECT_EQ(cp0_read(x.cpu(), EntryLo0), lo0);
  EXPECT_EQ(cp0_read(x.cpu(), EntryLo1), lo1);
}

TEST(TlbInstructions, TlbwrWritesARandomEntryBetweenWiredAnd63) {
  Runner x;
  cp0_write(x.cpu(), Wired, 60);
  cp0_write(x.cpu(), EntryLo0, EntryLo_V);
  cp0_write(x.cpu(), EntryLo1, EntryLo_V);
  const uint64_t pc = x.place({TLBWR, NOP, NOP});
  std::set<unsigned> used;
  for (unsigned k = 0; k < 200; ++k) {
    for (auto& e : x.cpu().s.cp0.tlb) e.entryhi = 0;
    cp0_write(x.cpu(), EntryHi, 0x40000000 + (k << 13));
    x.cpu().s.cycles += k % 5;  // vary the cycle count between writes
    x.cpu().s.pc = pc;
    x.t.steps(1);
    int found = -1;
    for (unsigned i = 0; i < kTlbEntries; ++i)
      if (x.cpu().s.cp0.tlb[i].entryhi == 0x40000000 + (k << 13)) found = static_cast<int>(i);
    ASSERT_GE(found, 60);
    ASSERT_LE(found, 63);
    used.insert(static_cast<unsigned>(found));
    const uint64_t rnd = cp0_read(x.cpu(), Random);
    EXPECT_GE(rnd, 60u);
    EXPECT_LE(rnd, 63u);
  }
  EXPECT_GT(used.size(), 1u) << "Random never changed";
}

TEST(TlbInstructions, RandomStaysInRangeWithWiredZeroAndIs63WithWired63) {
  Runner x;
  for (unsigned k = 0; k < 100; ++k) {
    x.cpu().s.cycles += 7;
    EXPECT_LE(cp0_read(x.cpu(), Random), 63u);
  }
  cp0_write(x.cpu(), Wired, 63);
  EXPECT_EQ(cp0_read(x.cpu(), Random), 63u);
}

TEST(TlbInstructions, TlbwiReplacesCachedTranslations) {
  Runner x;
  set_status(x, 0);
  x.t.bus.write32(kDataPhys, 1);
  x.t.bus.write32(kDataPhys + 0x2000, 2);
  map_pair(x.cpu(), 5, 0x40000000, kDataPhys, kDataPhys + 0x1000, kVDG);
  x.r(A0) = 0x40000000;
  x.r(A1) = 0x33;
  x.run({LW(V0, A0, 0), SW(A1, A0, 4)}, 2);  // fills the load and store soft TLBs
  EXPECT_EQ(x.r(V0), 1u);
  map_pair(x.cpu(), 5, 0x40000000, kDataPhys + 0x2000, kDataPhys + 0x3000, kVDG);
  x.r(A1) = 0x44;
  x.run({LW(V1, A0, 0), SW(A1, A0, 4)}, 2);
  EXPECT_EQ(x.r(V1), 2u);
  EXPECT_EQ(x.t.bus.read32(kDataPhys + 4), 0x33u);
  EXPECT_EQ(x.t.bus.read32(kDataPhys + 0x2004), 0x44u);
}

TEST(TlbInstructions, ClearingDirtyRemovesCachedWriteAccess) {
  Runner x;
  set_status(x, 0);
  map_pair(x.cpu(), 5, 0x40000000, kDataPhys, kDataPhys + 0x1000, kVDG);
  x.r(A0) = 0x40000000;
  x.exec(SW(A1, A0, 0));
  map_pair(x.cpu(), 5, 0x40000000, kDataPhys, kDataPhys + 0x1000, EntryLo_V | EntryLo_G);
  const uint64_t pc = x.exec(SW(A1, A0, 0));
  x.expect_exception(EXC_Mod, pc);
}

}  // namespace
}  // namespace disco::test
