// Address-space segments (MIPS64 PRA, "Virtual Address Spaces"): unmapped
// kseg0/kseg1/xkphys, kuseg under ERL, address errors by mode, and the soft
// TLB staying correct across mode and ASID changes.
#include <gtest/gtest.h>

#include "cpu/mmu.h"
#include "tests/interp/interp_test_util.h"

namespace disco::test {
namespace {

using namespace enc;
using namespace cp0;

void set_status(Runner& x, uint32_t st) { cp0_write(x.cpu(), Status, st); }

// ---- unmapped segments ----------------------------------------------------------------

TEST(Segments, Kseg0AndKseg1MapToLowPhysicalMemory) {
  Runner x;
  set_status(x, 0);
  x.t.bus.write32(kDataPhys, 0x600d);
  x.r(A0) = 0xffffffff80000000ull + kDataPhys;
  x.r(A1) = 0xffffffffa0000000ull + kDataPhys;
  x.run({LW(V0, A0, 0), LW(V1, A1, 0)}, 2);
  EXPECT_EQ(x.r(V0), 0x600du);
  EXPECT_EQ(x.r(V1), 0x600du);
}

TEST(Segments, Kseg1TopReachesPhysical1FFFFFFF) {
  Runner x;
  set_status(x, 0);
  x.t.bus.mmio_value = 0x12;
  x.r(A0) = 0xffffffffbfffff00ull;
  x.exec(LBU(V0, A0, 0xf));
  ASSERT_EQ(x.t.bus.log.size(), 1u);
  EXPECT_EQ(x.t.bus.log[0].paddr, 0x1fffff0fu);
  EXPECT_EQ(x.r(V0), 0x12u);
}

TEST(Segments, XkphysWithKxTranslatesToPhysical) {
  Runner x;
  set_status(x, Status_KX);
  x.t.bus.write32(kDataPhys, 0xfeed);
  for (uint64_t base : {0x9000000000000000ull, 0xa800000000000000ull, 0x8000000000000000ull, 0xb800000000000000ull}) {
    x.r(A0) = base + kDataPhys;
    x.r(V0) = 0;
    x.exec(LW(V0, A0, 0));
    EXPECT_EQ(x.r(V0), 0xfeedu) << std::hex << base;
  }
  // The top of the physical address space still translates (to MMIO here).
  x.r(A0) = 0x9000000ffffffff0ull;
  x.exec(LW(V0, A0, 0));
  EXPECT_FALSE(x.cpu().s.cp0.status & Status_EXL);
  ASSERT_FALSE(x.t.bus.log.empty());
  EXPECT_EQ(x.t.bus.log.back().paddr, 0xffffffff0ull);
}

TEST(Segments, XkphysWithoutKxIsAnAddressError) {
  for (bool store : {false, true}) {
    Runner x;
    set_status(x, Status_UX | Status_SX);
    x.r(A0) = 0x9000000000000000ull + kDataPhys;
    const uint64_t pc = x.exec(store ? SW(V0, A0, 0) : LW(V0, A0, 0));
    x.expect_exception(store ? EXC_AdES : EXC_AdEL, pc);
    EXPECT_EQ(x.cpu().s.cp0.badvaddr, 0x9000000000000000ull + kDataPhys);
  }
}

TEST(Segments, XkphysWithAddressBitsAbovePabitsIsAnAddressError) {
  for (uint64_t va : {0x9000001000000000ull, 0x9400000000000000ull, 0x9000800000000000ull}) {
    Runner x;
    set_status(x, Status_KX);
    x.r(A0) = va;
    const uint64_t pc = x.exec(LD(V0, A0, 0));
    x.expect_exception(EXC_AdEL, pc);
    EXPECT_EQ(x.cpu().s.cp0.badvaddr, va);
  }
}

TEST(Segments, XkphysFromUserModeIsAnAddressError) {
  Runner x;
  x.enter_user(Status_UX | Status_KX);
  x.r(A0) = 0x9000000000000000ull + kDataPhys;
  const uint64_t pc = x.exec(LD(V0, A0, 0));
  x.expect_exception(EXC_AdEL, pc);
}

TEST(Segments, KusegIsUnmappedWhileErlIsSet) {
  Runner x;
  set_status(x, Status_ERL);
  x.t.bus.write32(kDataPhys, 0xe71);
  x.r(A0) = kDataPhys;
  x.r(A1) = 0x5e;
  x.run({LW(V0, A0, 0), SW(A1, A0, 4)}, 2);
  EXPECT_EQ(x.r(V0), 0xe71u);
  EXPECT_EQ(x.t.bus.read32(kDataPhys + 4), 0x5eu);
  EXPECT_EQ(x.cpu().s.cp0.status & Status_EXL, 0u);
}

TEST(Segments, KusegIsMappedAgainWhenErlClears) {
  Runner x;
  set_status(x, Status_ERL);
  x.t.bus.write32(kDataPhys, 0xe71);
  x.r(A0) = kDataPhys;
  x.exec(LW(V0, A0, 0));  // caches the unmapped translation
  EXPECT_EQ(x.r(V0), 0xe71u);
  set_status(x, 0);
  const uint64_t pc = x.exec(LW(V1, A0, 0));
  x.expect_exception(EXC_TLBL, pc, 0xffffffff80000000ull);
}

// ---- address errors by mode -------------------------------------------------------------

TEST(Segments, UserAccessToKernelSegmentsIsAnAddressError) {
  struct C {
    uint64_t va;
    bool store;
  };
  const C cases[] = {
      {0xffffffff80000000ull + kDataPhys, false}, {0xffffffff80000000ull + kDataPhys, true},
      {0xffffffffa0000000ull, false},             {0xffffffffc0000000ull, false},
      {0xffffffffe0000000ull, true},              {0xc000000000000000ull, false},
      {0x4000000000000000ull, false},
  };
  for (const C& k : cases) {
    Runner x;
    x.enter_user(Status_UX | Status_SX | Status_KX);
    x.r(A0) = k.va;
    const uint64_t pc = x.exec(k.store ? SW(V0, A0, 0) : LW(V0, A0, 0));
    SCOPED_TRACE(testing::Message() << std::hex << k.va);
    x.expect_exception(k.store ? EXC_AdES : EXC_AdEL, pc);
    EXPECT_EQ(x.cpu().s.cp0.badvaddr, k.va);
  }
}

TEST(Segments, UserFetchFromKseg0IsAnAddressError) {
  Runner x;
  x.enter_user();
  x.r(A0) = kCodeVirt + 0x800;
  x.run({JR(A0), NOP}, 3);
  x.expect_exception(EXC_AdEL, kCodeVirt + 0x800);
  EXPECT_EQ(x.cpu().s.cp0.badvaddr, kCodeVirt + 0x800);
}

TEST(Segments, User64BitAddressWithUxClearIsAnAddressError) {
  Runner x;
  x.enter_user();  // UX = 0: only the 2 GiB useg exists
  x.r(A0) = 0x0000000100000000ull;
  const uint64_t pc = x.exec(LW(V0, A0, 0));
  x.expect_exception(EXC_AdEL, pc);
  EXPECT_EQ(x.cpu().s.cp0.badvaddr, 0x0000000100000000ull);
}

TEST(Segments, XusegBeyondSegbitsIsAnAddressError) {
  Runner x;
  x.enter_user(Status_UX);
  x.r(A0) = 0x0000010000000000ull;  // bit 40
  const uint64_t pc = x.exec(LW(V0, A0, 0));
  x.expect_exception(EXC_AdEL, pc);
}

TEST(Segments, SupervisorModeReachesSsegButNotKseg0) {
  Runner x;
  map_pair(x.cpu(), 0, kUserCode, kCodePhys, kCodePhys + 0x1000, kVDG);
  cp0_write(x.cpu(), Status, 1u << Status_KSU_SHIFT);
  x.user = true;
  x.r(A0) = 0xffffffffc0000000ull;  // sseg: mapped for supervisor
  uint64_t pc = x.exec(LW(V0, A0, 0));
  x.expect_exception(EXC_TLBL, pc, 0xffffffff80000000ull);
  cp0_write(x.cpu(), Status, 1u << Status_KSU_SHIFT);
  x.r(A0) = 0xffffffff80000000ull;
  pc = x.exec(LW(V0, A0, 0));
  x.expect_exception(EXC_AdEL, pc);
}

// ---- the soft TLB across mode and translation changes ---------------------------------------

TEST(SoftTlb, UserModeCannotReuseAKernelTranslation) {
  Runner x;
  set_status(x, Status_UX);
  map_pair(x.cpu(), 0, kUserCode, kCodePhys, kCodePhys + 0x1000, kVDG);
  x.t.bus.write32(kDataPhys, 0x5ec);
  const uint64_t kva = kDataVirt;
  x.r(A0) = kva;
  x.exec(LW(V0, A0, 0));  // kernel: fills the soft TLB for the kseg0 page
  x.exec(SW(V0, A0, 4));
  EXPECT_EQ(x.r(V0), 0x5ecu);
  // Return to user mode through ERET, then touch the same kseg0 address.
  const uint64_t user_phys = x.next;
  const uint64_t user_pc = kUserCode + (user_phys - kCodePhys);
  x.t.load({LW(V1, A0, 0), SW(V1, A0, 8)}, user_phys);
  x.cpu().code_written(user_phys & ~kPageMask);
  x.next += 64;
  x.r(T0) = (2u << Status_KSU_SHIFT) | Status_EXL | Status_UX;
  x.r(T1) = user_pc;
  x.run({MTC0(T0, 12), DMTC0(T1, 14), ERET}, 4);
  x.expect_exception(EXC_AdEL, user_pc);
  EXPECT_EQ(x.r(V1), 0u);
  EXPECT_EQ(x.cpu().s.cp0.badvaddr, kva);
}

TEST(SoftTlb, UserModeStoreCannotReuseAKernelStoreTranslation) {
  Runner x;
  set_status(x, 0);
  x.r(A0) = kDataVirt;
  x.exec(SW(V0, A0, 0));
  x.enter_user();
  x.r(A1) = 0xbad;
  const uint64_t pc = x.exec(SW(A1, A0, 0));
  x.expect_exception(EXC_AdES, pc);
  EXPECT_EQ(x.t.bus.read32(kDataPhys), 0u);
}

TEST(SoftTlb, AsidChangeInvalidatesCachedTranslations) {
  Runner x;
  set_status(x, 0);
  map_pair(x.cpu(), 3, 0x40000000, kDataPhys, kDataPhys + 0x1000, EntryLo_V | EntryLo_D, 1);
  x.t.bus.write32(kDataPhys, 0xa51d);
  x.r(A0) = 0x40000000;
  x.r(T0) = 1;
  x.r(T1) = 2;
  x.run({MTC0(T0, 10), LW(V0, A0, 0), SW(V0, A0, 4)}, 3);
  EXPECT_EQ(x.r(V0), 0xa51du);
  uint64_t pc = x.run({MTC0(T1, 10), LW(V1, A0, 0)}, 2);
  x.expect_exception(EXC_TLBL, pc + 4, 0xffffffff80000000ull);
  EXPECT_EQ(x.r(V1), 0u);
  // Stores too.
  cp0_write(x.cpu(), Status, 0);
  pc = x.exec(SW(V0, A0, 8));
  x.expect_exception(EXC_TLBS, pc, 0xffffffff80000000ull);
  // Back to ASID 1: the entry is reachable again.
  pc = x.run({MTC0(T0, 10), LW(V1, A0, 4)}, 2);
  (void)pc;
  EXPECT_EQ(x.r(V1), 0xa51du);
}

TEST(SoftTlb, ClearingUxRemovesCachedXusegTranslations) {
  Runner x;
  set_status(x, Status_UX);
  map_pair(x.cpu(), 3, 0x0000001000000000ull, kDataPhys, kDataPhys + 0x1000, kVDG);
  x.t.bus.write32(kDataPhys, 0x64);
  x.r(A0) = 0x0000001000000000ull;
  x.exec(LW(V0, A0, 0));
  EXPECT_EQ(x.r(V0), 0x64u);
  set_status(x, 0);
  const uint64_t pc = x.exec(LW(V1, A0, 0));
  x.expect_exception(EXC_AdEL, pc);
}

TEST(SoftTlb, ExceptionEntryAndEretSwitchTheTranslationMode) {
  // User code that faults runs its handler in kernel mode (kseg0 reachable)
  // and ERET goes back to user mode (kseg0 unreachable again).
  Runner x;
  x.enter_user();
  x.t.bus.write32(kDataPhys, 0x77);
  // Handler: read kseg0 data through a0, step EPC, return.
  x.t.load({LW(T2, A1, 0), MFC0(26, 14), ADDIU(26, 26, 4), MTC0(26, 14), ERET}, 0x180);
  x.cpu().code_written(0);
  x.r(A1) = kDataVirt;
  const uint64_t pc = x.place({SYSCALL, LW(V0, A1, 0)});
  x.t.steps(1 + 5 + 1);
  EXPECT_EQ(x.r(T2), 0x77u);      // kernel read worked
  EXPECT_EQ(x.exccode(), EXC_AdEL);  // the user read did not
  EXPECT_EQ(x.cpu().s.cp0.epc, pc + 4);
}

}  // namespace
}  // namespace disco::test
