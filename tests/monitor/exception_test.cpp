// Exception and interrupt delivery (MIPS64 PRA, "Interrupts and
// Exceptions"): the Count/Compare timer, interrupt conditions and vectors,
// EPC for interrupts and around delay slots, WAIT, ERET, nested exceptions,
// reset state and CP0 write masks.
#include <gtest/gtest.h>

#include "interp/interpreter.h"
#include "cpu/exception.h"
#include "tests/interp/interp_test_util.h"

namespace disco::test {
namespace {

using namespace enc;
using namespace cp0;

constexpr uint32_t kIM0 = 1u << (Status_IM_SHIFT + 0);
constexpr uint32_t kIM2 = 1u << (Status_IM_SHIFT + 2);
constexpr uint32_t kIM7 = 1u << (Status_IM_SHIFT + 7);
constexpr uint32_t kIP0 = 1u << (Cause_IP_SHIFT + 0);
constexpr uint32_t kIP2 = 1u << (Cause_IP_SHIFT + 2);
constexpr uint32_t kIP7 = 1u << (Cause_IP_SHIFT + 7);

void set_status(Runner& x, uint32_t st) { cp0_write(x.cpu(), Status, st); }

// Self-loops at the general and interrupt vectors, so a run that takes an
// exception stays there.
void install_handler_loops(Runner& x) {
  x.t.load({BEQ(ZERO, ZERO, -1), NOP}, 0x180);
  x.t.load({BEQ(ZERO, ZERO, -1), NOP}, 0x200);
  x.cpu().code_written(0);
}
// An idle loop: beq zero, zero, self; nop.
uint64_t idle_loop(Runner& x) { return x.place({BEQ(ZERO, ZERO, -1), NOP}); }

StopReason run_for(Runner& x, uint64_t cycles) { return interp::run(x.cpu(), x.cpu().s.cycles + cycles); }

bool in_loop(uint64_t pc, uint64_t loop) { return pc == loop || pc == loop + 4; }

// ---- Count / Compare ------------------------------------------------------------------

TEST(Timer, CountAdvancesAtHalfTheInstructionRate) {
  Runner x;
  idle_loop(x);
  cp0_write(x.cpu(), Count, 1000);
  run_for(x, 200);
  const uint64_t c = cp0_read(x.cpu(), Count);
  EXPECT_GE(c, 1099u);
  EXPECT_LE(c, 1101u);
}

TEST(Timer, CountWrapsAt32Bits) {
  Runner x;
  idle_loop(x);
  cp0_write(x.cpu(), Count, 0xfffffffe);
  run_for(x, 10);
  EXPECT_LT(cp0_read(x.cpu(), Count), 10u);
}

TEST(Timer, RaisesTiAndIp7WhenCountReachesCompare) {
  Runner x;
  set_status(x, 0);
  idle_loop(x);
  cp0_write(x.cpu(), Count, 0);
  cp0_write(x.cpu(), Compare, 50);
  run_for(x, 98);  // Count = 49 at most
  EXPECT_LE(cp0_read(x.cpu(), Count), 49u);
  EXPECT_FALSE(x.cpu().s.cp0.cause & Cause_TI);
  EXPECT_FALSE(x.cpu().s.cp0.cause & kIP7);
  run_for(x, 10);
  EXPECT_GE(cp0_read(x.cpu(), Count), 50u);
  EXPECT_TRUE(x.cpu().s.cp0.cause & Cause_TI);
  EXPECT_TRUE(x.cpu().s.cp0.cause & kIP7);
  // Still pending after Count moves past Compare.
  run_for(x, 100);
  EXPECT_TRUE(x.cpu().s.cp0.cause & Cause_TI);
}

TEST(Timer, WritingCompareAcknowledgesTheInterrupt) {
  Runner x;
  idle_loop(x);
  cp0_write(x.cpu(), Count, 0);
  cp0_write(x.cpu(), Compare, 5);
  run_for(x, 20);
  ASSERT_TRUE(x.cpu().s.cp0.cause & Cause_TI);
  x.r(T0) = 1000;
  x.exec(MTC0(T0, 11));
  EXPECT_FALSE(x.cpu().s.cp0.cause & Cause_TI);
  EXPECT_FALSE(x.cpu().s.cp0.cause & kIP7);
}

TEST(Timer, WritingCountDoesNotAcknowledge) {
  Runner x;
  idle_loop(x);
  cp0_write(x.cpu(), Count, 0);
  cp0_write(x.cpu(), Compare, 5);
  run_for(x, 20);
  ASSERT_TRUE(x.cpu().s.cp0.cause & Cause_TI);
  cp0_write(x.cpu(), Count, 0);
  EXPECT_TRUE(x.cpu().s.cp0.cause & Cause_TI);
}

TEST(Timer, FiresAgainAfterNewCompare) {
  Runner x;
  idle_loop(x);
  cp0_write(x.cpu(), Count, 0);
  cp0_write(x.cpu(), Compare, 5);
  run_for(x, 20);
  ASSERT_TRUE(x.cpu().s.cp0.cause & Cause_TI);
  const uint32_t now = static_cast<uint32_t>(cp0_read(x.cpu(), Count));
  cp0_write(x.cpu(), Compare, now + 20);
  run_for(x, 30);
  EXPECT_FALSE(x.cpu().s.cp0.cause & Cause_TI);
  run_for(x, 20);
  EXPECT_TRUE(x.cpu().s.cp0.cause & Cause_TI);
}

TEST(Timer, InterruptDeliveredWhenEnabled) {
  Runner x;
  install_handler_loops(x);
  set_status(x, Status_IE | kIM7);
  const uint64_t loop = idle_loop(x);
  cp0_write(x.cpu(), Count, 0);
  cp0_write(x.cpu(), Compare, 30);
  run_for(x, 100);
  EXPECT_EQ(x.exccode(), EXC_Int);
  EXPECT_TRUE(x.cpu().s.cp0.status & Status_EXL);
  EXPECT_EQ(x.cpu().s.cp0.epc, loop);
  EXPECT_FALSE(x.cpu().s.cp0.cause & Cause_BD);
  EXPECT_TRUE(in_loop(x.cpu().s.pc, kGeneralVector));
}

TEST(Timer, InterruptNotDeliveredWhenMaskedOrInExceptionLevel) {
  const struct {
    const char* name;
    uint32_t status;
  } cases[] = {
      {"IE=0", kIM7},
      {"IM7=0", Status_IE | kIM0 | kIM2},
      {"EXL=1", Status_IE | kIM7 | Status_EXL},
      {"ERL=1", Status_IE | kIM7 | Status_ERL},
  };
  for (const auto& k : cases) {
    Runner x;
    install_handler_loops(x);
    set_status(x, k.status);
    x.cpu().s.cp0.epc = 0x5151;
    const uint64_t loop = idle_loop(x);
    cp0_write(x.cpu(), Count, 0);
    cp0_write(x.cpu(), Compare, 30);
    run_for(x, 100);
    EXPECT_TRUE(x.cpu().s.cp0.cause & Cause_TI) << k.name;
    EXPECT_TRUE(in_loop(x.cpu().s.pc, loop)) << k.name;
    EXPECT_EQ(x.cpu().s.cp0.epc, 0x5151u) << k.name;
    // Enabling it afterwards delivers it at once.
    set_status(x, Status_IE | kIM7);
    run_for(x, 1);
    EXPECT_EQ(x.exccode(), EXC_Int) << k.name;
    EXPECT_TRUE(in_loop(x.cpu().s.cp0.epc, loop)) << k.name;
  }
}

TEST(Timer, InterruptIsNeverTakenBetweenABranchAndItsDelaySlot) {
  for (uint32_t when = 1; when <= 12; ++when) {
    Runner x;
    install_handler_loops(x);
    set_status(x, Status_IE | kIM7);
    const uint64_t loop = idle_loop(x);
    cp0_write(x.cpu(), Count, 0);
    cp0_write(x.cpu(), Compare, when);
    run_for(x, 2 * when + 10);
    ASSERT_EQ(x.exccode(), EXC_Int) << when;
    EXPECT_EQ(x.cpu().s.cp0.epc, loop) << "Compare " << when;
    EXPECT_FALSE(x.cpu().s.cp0.cause & Cause_BD) << "Compare " << when;
  }
}

TEST(Timer, InterruptEpcIsTheNextInstructionToExecute) {
  for (uint32_t when = 3; when <= 9; ++when) {
    Runner x;
    install_handler_loops(x);
    set_status(x, Status_IE | kIM7);
    const uint64_t pc = x.place({NOP});
    for (unsigned i = 0; i < 64; ++i) x.t.bus.write32(kCodePhys + (pc - kCodeVirt) + 4 * i, ADDIU(V0, V0, 1));
    x.cpu().code_written(kCodePhys & ~kPageMask);
    cp0_write(x.cpu(), Count, 0);
    cp0_write(x.cpu(), Compare, when);
    run_for(x, 60);
    ASSERT_EQ(x.exccode(), EXC_Int);
    EXPECT_EQ(x.cpu().s.cp0.epc, pc + 4 * x.r(V0)) << "Compare " << when;
    EXPECT_GE(x.r(V0), 2u * when - 2);
    EXPECT_LE(x.r(V0), 2u * when + 2);
  }
}

// ---- software and hardware interrupts, vectors --------------------------------------------

TEST(Interrupt, SoftwareInterruptTakenRightAfterTheCauseWrite) {
  Runner x;
  install_handler_loops(x);
  set_status(x, Status_IE | kIM0);
  x.r(T0) = kIP0;
  const uint64_t pc = x.place({MTC0(T0, 13), ADDIU(V0, ZERO, 1)});
  x.t.steps(2);
  EXPECT_EQ(x.exccode(), EXC_Int);
  EXPECT_EQ(x.cpu().s.cp0.epc, pc + 4);
  EXPECT_EQ(x.r(V0), 0u);
  EXPECT_TRUE(x.cpu().s.cp0.cause & kIP0);  // level stays until software clears it
}

TEST(Interrupt, CauseIvSelectsTheSpecialInterruptVector) {
  for (bool iv : {false, true}) {
    Runner x;
    install_handler_loops(x);
    set_status(x, Status_IE | kIM0);
    x.r(T0) = kIP0 | (iv ? Cause_IV : 0);
    x.run({MTC0(T0, 13), NOP}, 2);
    EXPECT_EQ(x.exccode(), EXC_Int);
    EXPECT_TRUE(in_loop(x.cpu().s.pc, iv ? 0xffffffff80000200ull : kGeneralVector)) << std::hex << x.cpu().s.pc;
  }
}

TEST(Interrupt, IvOffsetAppliesToBevAndEbaseVectors) {
  Runner x;
  x.cpu().s.cp0.status = Status_BEV | Status_IE | kIM0;
  x.cpu().s.cp0.cause = kIP0 | Cause_IV;
  x.cpu().s.pc = 0x1000;
  deliver_interrupt(x.cpu());
  EXPECT_EQ(x.cpu().s.pc, 0xffffffffbfc00400ull);
  EXPECT_EQ(x.cpu().s.cp0.epc, 0x1000u);

  Runner y;
  cp0_write(y.cpu(), EBase, 0x80040000);
  y.cpu().s.cp0.status = Status_IE | kIM0;
  y.cpu().s.cp0.cause = kIP0 | Cause_IV;
  deliver_interrupt(y.cpu());
  EXPECT_EQ(y.cpu().s.pc, 0xffffffff80040200ull);
}

TEST(Interrupt, HardwareLinesDriveIp2ToIp7) {
  Runner x;
  install_handler_loops(x);
  set_status(x, Status_IE | kIM2);
  const uint64_t loop = idle_loop(x);
  x.cpu().set_irq_line(5, true);  // IP7: masked
  run_for(x, 10);
  EXPECT_TRUE(x.cpu().s.cp0.cause & kIP7);
  EXPECT_TRUE(in_loop(x.cpu().s.pc, loop));
  x.cpu().set_irq_line(5, false);
  EXPECT_FALSE(cp0_read(x.cpu(), Cause) & kIP7);  // the line's level shows in Cause
  x.cpu().set_irq_line(0, true);  // IP2: enabled
  run_for(x, 10);
  EXPECT_TRUE(x.cpu().s.cp0.cause & kIP2);
  EXPECT_EQ(x.exccode(), EXC_Int);
  EXPECT_EQ(x.cpu().s.cp0.epc, loop);
}

TEST(Interrupt, EiDeliversAPendingInterruptAfterIt) {
  Runner x;
  install_handler_loops(x);
  set_status(x, kIM0);
  x.cpu().s.cp0.cause |= kIP0;
  const uint64_t pc = x.place({NOP, EI(V0), ADDIU(V1, ZERO, 1)});
  x.t.steps(2);
  EXPECT_FALSE(x.cpu().s.cp0.status & Status_EXL);
  EXPECT_EQ(x.r(V0), kIM0);  // Status before EI
  x.t.steps(1);
  EXPECT_EQ(x.exccode(), EXC_Int);
  EXPECT_EQ(x.cpu().s.cp0.epc, pc + 8);
  EXPECT_EQ(x.r(V1), 0u);
}

TEST(Interrupt, DiReturnsOldStatusAndMasks) {
  Runner x;
  set_status(x, Status_IE | kIM7);
  x.exec(DI(V0));
  EXPECT_EQ(x.r(V0), static_cast<uint64_t>(Status_IE | kIM7));
  EXPECT_FALSE(x.cpu().s.cp0.status & Status_IE);
}

// ---- WAIT ----------------------------------------------------------------------------------

TEST(Wait, ReturnsWaitWhenNothingIsPending) {
  Runner x;
  install_handler_loops(x);
  set_status(x, Status_IE | kIM2);
  const uint64_t pc = x.place({WAIT, NOP});
  EXPECT_EQ(run_for(x, 1000), StopReason::Wait);
  EXPECT_EQ(x.cpu().s.pc, pc + 4);
  EXPECT_LT(x.cpu().s.cycles, 10u);
  // Still idle when run again.
  EXPECT_EQ(run_for(x, 1000), StopReason::Wait);
  // An interrupt wakes it; EPC is the instruction after WAIT.
  x.cpu().set_irq_line(0, true);
  run_for(x, 5);
  EXPECT_EQ(x.exccode(), EXC_Int);
  EXPECT_EQ(x.cpu().s.cp0.epc, pc + 4);
}

TEST(Wait, BudgetWhenAnInterruptIsAlreadyPending) {
  Runner x;
  install_handler_loops(x);
  set_status(x, Status_IE | kIM2);
  x.cpu().set_irq_line(0, true);
  x.place({WAIT, NOP});
  EXPECT_EQ(run_for(x, 100), StopReason::Budget);
  EXPECT_EQ(x.exccode(), EXC_Int);
}

// ---- ERET and nested exceptions -----------------------------------------------------------

TEST(Eret, FromErrorLevelUsesErrorEpcAndClearsOnlyErl) {
  Runner x;
  set_status(x, Status_ERL | Status_EXL);
  x.r(T0) = kCodeVirt + 0x400;
  x.r(T1) = kCodeVirt + 0x800;
  x.run({DMTC0(T0, 30), DMTC0(T1, 14), ERET}, 3);
  EXPECT_EQ(x.cpu().s.pc, kCodeVirt + 0x400);
  EXPECT_FALSE(x.cpu().s.cp0.status & Status_ERL);
  EXPECT_TRUE(x.cpu().s.cp0.status & Status_EXL);
  x.exec(ERET);
  EXPECT_EQ(x.cpu().s.pc, kCodeVirt + 0x800);
  EXPECT_FALSE(x.cpu().s.cp0.status & Status_EXL);
}

TEST(Eret, HasNoDelaySlot) {
  Runner x;
  set_status(x, Status_EXL);
  x.r(T1) = kCodeVirt + 0x800;
  x.run({DMTC0(T1, 14), ERET, ADDIU(V0, ZERO, 1)}, 3);
  EXPECT_EQ(x.r(V0), 0u);
  EXPECT_EQ(x.cpu().s.pc, kCodeVirt + 0x804);
}

TEST(Eret, ReturnsToUserMode) {
  Runner x;
  x.enter_user();
  set_status(x, Status_EXL | (2u << Status_KSU_SHIFT));
  x.user = false;
  x.r(T1) = kUserCode + 0x100;
  x.run({DMTC0(T1, 14), ERET}, 2);
  EXPECT_EQ(x.cpu().s.pc, kUserCode + 0x100);
  EXPECT_FALSE(x.cpu().kernel_mode());
}

TEST(Exception, WhileExlSetKeepsEpcAndBd) {
  Runner x;
  set_status(x, Status_EXL);
  x.cpu().s.cp0.epc = 0x1234;
  x.run({BEQ(ZERO, ZERO, 4), SYSCALL}, 2);
  EXPECT_EQ(x.exccode(), EXC_Sys);
  EXPECT_EQ(x.cpu().s.pc, kGeneralVector);
  EXPECT_EQ(x.cpu().s.cp0.epc, 0x1234u);
  EXPECT_FALSE(x.cpu().s.cp0.cause & Cause_BD);
}

TEST(Exception, ExcCodeIsReplacedAndOtherCauseBitsKept) {
  Runner x;
  x.cpu().s.cp0.cause = (EXC_Ov << Cause_ExcCode_SHIFT) | kIP0 | Cause_IV;
  x.exec(BREAK);
  EXPECT_EQ(x.exccode(), EXC_Bp);
  EXPECT_TRUE(x.cpu().s.cp0.cause & kIP0);
  EXPECT_TRUE(x.cpu().s.cp0.cause & Cause_IV);
}

// ---- reset state and CP0 write masks -------------------------------------------------------

TEST(Reset, StartsAtTheResetVectorWithErlAndBev) {
  for (bool be : {false, true}) {
    TestBus bus;
    Cpu c(bus, CpuConfig{.big_endian = be});
    EXPECT_EQ(c.s.pc, 0xffffffffbfc00000ull);
    EXPECT_TRUE(c.s.cp0.status & Status_ERL);
    EXPECT_TRUE(c.s.cp0.status & Status_BEV);
    EXPECT_TRUE(c.kernel_mode());
    EXPECT_EQ(cp0_read(c, Wired), 0u);
    EXPECT_EQ(cp0_read(c, Random), 63u);
    EXPECT_EQ((cp0_read(c, Config) >> 15) & 1, be ? 1u : 0u);  // Config.BE
    EXPECT_EQ((cp0_read(c, Config) >> 13) & 3, 2u);            // AT: MIPS64, all segments
    EXPECT_EQ((cp0_read(c, Config) >> 10) & 7, 1u);            // AR: Release 2
    EXPECT_EQ((cp0_read(c, Config1) >> 25) & 63, 63u);         // 64 TLB entries
    EXPECT_EQ(cp0_read(c, EBase), 0xffffffff80000000ull);
    EXPECT_EQ(cp0_read(c, PRId), 0x00018900u);
  }
}

TEST(Cp0Write, StatusIgnoresCu1WithoutFpuAndKeepsReadOnlyBits) {
  Runner x;
  cp0_write(x.cpu(), Status, 0xffffffffffffffffull);
  const uint32_t st = x.cpu().s.cp0.status;
  EXPECT_FALSE(st & Status_CU1);
  EXPECT_FALSE(st & Status_CU2);
  EXPECT_FALSE(st & Status_CU3);
  EXPECT_TRUE(st & Status_CU0);
  EXPECT_TRUE(st & Status_BEV);
  EXPECT_EQ(st & Status_IM, Status_IM);
}

TEST(Cp0Write, CauseOnlySoftwareBitsAndIvAreWritable) {
  Runner x;
  cp0_write(x.cpu(), Cause, 0xffffffffull);
  const uint32_t cause = x.cpu().s.cp0.cause;
  EXPECT_EQ(cause & Cause_IP_SW, Cause_IP_SW);
  EXPECT_TRUE(cause & Cause_IV);
  EXPECT_EQ(cause & (Cause_IP & ~Cause_IP_SW), 0u);
  EXPECT_EQ(cause & (Cause_BD | Cause_TI | Cause_CE | Cause_ExcCode), 0u);
}

TEST(Cp0Write, EntryHiKeepsVpn2RAndAsidOnly) {
  Runner x;
  cp0_write(x.cpu(), EntryHi, 0xffffffffffffffffull);
  EXPECT_EQ(cp0_read(x.cpu(), EntryHi), 0xc00000ffffffe0ffull);
}

TEST(Cp0Write, PageMaskKeepsSupportedBits) {
  Runner x;
  cp0_write(x.cpu(), PageMask, 0xffffffffull);
  EXPECT_EQ(cp0_read(x.cpu(), PageMask), 0x01ffe000u);
}

}  // namespace
}  // namespace disco::test
