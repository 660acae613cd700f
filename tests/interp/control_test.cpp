// Branches, jumps, delay slots, exceptions raised by instructions, and the
// privilege checks of the ISA (64-bit operations, CP0, CP2, RDHWR).
#include <gtest/gtest.h>

#include "tests/interp/interp_test_util.h"

namespace disco::test {
namespace {

using namespace enc;

// ---- branch likely: the delay slot is nullified when not taken --------------------

struct LikelyCase {
  const char* name;
  uint32_t (*make)(int off);  // branch to +off words, testing A0 (and A1)
  uint64_t taken_a0, not_taken_a0;
  bool links;
};

TEST(BranchLikely, DelaySlotRunsOnlyWhenTaken) {
  const LikelyCase cases[] = {
      {"BEQL", [](int o) { return BEQL(A0, A1, static_cast<int16_t>(o)); }, 3, 4, false},
      {"BNEL", [](int o) { return BNEL(A0, A1, o); }, 4, 3, false},
      {"BLEZL zero", [](int o) { return BLEZL(A0, o); }, 0, 1, false},
      {"BLEZL negative", [](int o) { return BLEZL(A0, o); }, ~0ull, 1, false},
      {"BGTZL", [](int o) { return BGTZL(A0, o); }, 1, 0, false},
      {"BLTZL", [](int o) { return BLTZL(A0, o); }, 1ull << 63, 0, false},
      {"BGEZL", [](int o) { return BGEZL(A0, o); }, 0, ~0ull, false},
      {"BLTZALL", [](int o) { return BLTZALL(A0, o); }, ~0ull, 0, true},
      {"BGEZALL", [](int o) { return BGEZALL(A0, o); }, 5, 1ull << 63, true},
  };
  for (const LikelyCase& k : cases) {
    for (bool taken : {true, false}) {
      Runner x;
      x.r(A0) = taken ? k.taken_a0 : k.not_taken_a0;
      x.r(A1) = 3;
      // 0: branch to 3   1: delay slot   2: fall-through   3: target
      const uint64_t pc =
          x.run({k.make(2), ADDIU(V0, V0, 1), ADDIU(V1, V1, 1), ADDIU(T0, T0, 1), ADDIU(T1, T1, 1)}, 3);
      SCOPED_TRACE(testing::Message() << k.name << (taken ? " taken" : " not taken"));
      if (taken) {
        EXPECT_EQ(x.r(V0), 1u);  // delay slot ran
        EXPECT_EQ(x.r(V1), 0u);  // fall-through skipped
        EXPECT_EQ(x.r(T0), 1u);  // target
      } else {
        EXPECT_EQ(x.r(V0), 0u);  // nullified
        EXPECT_EQ(x.r(V1), 1u);
        EXPECT_EQ(x.r(T0), 1u);
      }
      EXPECT_EQ(x.cpu().s.pc, pc + 16);
      if (k.links) {
        EXPECT_EQ(x.r(RA), pc + 8);  // linked even when not taken
      }
    }
  }
}

TEST(Branch, OrdinaryBranchesRunTheDelaySlotEitherWay) {
  for (bool taken : {true, false}) {
    Runner x;
    x.r(A0) = taken ? 0 : 1;
    const uint64_t pc = x.run({BEQ(A0, ZERO, 2), ADDIU(V0, V0, 1), ADDIU(V1, V1, 1), ADDIU(T0, T0, 1)}, 3);
    EXPECT_EQ(x.r(V0), 1u);
    EXPECT_EQ(x.r(V1), taken ? 0u : 1u);
    EXPECT_EQ(x.cpu().s.pc, taken ? pc + 16 : pc + 12);
  }
}

TEST(Branch, SignedConditionsCompareAll64Bits) {
  struct C {
    const char* name;
    uint32_t insn;
    uint64_t a0;
    bool taken;
  };
  const C cases[] = {
      {"BLTZ -1", BLTZ(A0, 4), ~0ull, true},
      {"BLTZ 2^63 (negative)", BLTZ(A0, 4), 1ull << 63, true},
      {"BLTZ 0x80000000 (positive 64-bit)", BLTZ(A0, 4), 0x80000000ull, false},
      {"BGEZ 0", BGEZ(A0, 4), 0, true},
      {"BGTZ 0", BGTZ(A0, 4), 0, false},
      {"BLEZ 0", BLEZ(A0, 4), 0, true},
      {"BGTZ 2^32", BGTZ(A0, 4), 1ull << 32, true},
      {"BNE differs in high word", BNE(A0, ZERO, 4), 1ull << 40, true},
  };
  for (const C& k : cases) {
    Runner x;
    x.r(A0) = k.a0;
    const uint64_t pc = x.run({k.insn, NOP}, 2);
    EXPECT_EQ(x.cpu().s.pc, k.taken ? pc + 4 + 16 : pc + 8) << k.name;
  }
}

TEST(Branch, BackwardBranchReachesEarlierCode) {
  Runner x;
  x.r(A0) = ~0ull;
  const uint64_t pc = x.place({NOP, NOP, BLTZ(A0, -3), NOP});
  x.cpu().s.pc = pc + 8;
  x.t.steps(2);
  EXPECT_EQ(x.cpu().s.pc, pc);
}

// ---- links -----------------------------------------------------------------------------

TEST(Link, JalWritesPcPlus8AndJumpsWithinThe256MRegion) {
  Runner x;
  const uint64_t target = kCodeVirt + 0x400;
  const uint64_t pc = x.place({JAL(static_cast<uint32_t>(target >> 2)), NOP});
  x.t.steps(2);
  EXPECT_EQ(x.r(RA), pc + 8);
  EXPECT_EQ(x.cpu().s.pc, target);
}

TEST(Link, JalrWritesRdAndJumpsToRs) {
  Runner x;
  x.r(25) = kCodeVirt + 0x800;
  const uint64_t pc = x.run({JALR(T2, 25), ADDIU(V0, ZERO, 1)}, 2);
  EXPECT_EQ(x.r(T2), pc + 8);
  EXPECT_EQ(x.r(V0), 1u);
  EXPECT_EQ(x.cpu().s.pc, kCodeVirt + 0x800);
}

TEST(Link, JalrWithRdEqualRsJumpsToTheOldValue) {
  // The manual makes rd == rs UNPREDICTABLE only for re-execution after an
  // exception in the slot; plain execution jumps to the value read first.
  Runner x;
  x.r(RA) = kCodeVirt + 0x900;
  const uint64_t pc = x.run({JALR(T0, RA), NOP}, 2);
  EXPECT_EQ(x.cpu().s.pc, kCodeVirt + 0x900);
  EXPECT_EQ(x.r(T0), pc + 8);
}

TEST(Link, BgezalAndBltzalLinkEvenWhenNotTaken) {
  for (bool ge : {true, false}) {
    Runner x;
    x.r(A0) = ge ? ~0ull : 0;  // condition false in both cases
    const uint64_t pc = x.run({ge ? BGEZAL(A0, 8) : BLTZAL(A0, 8), NOP}, 2);
    EXPECT_EQ(x.r(RA), pc + 8);
    EXPECT_EQ(x.cpu().s.pc, pc + 8);
  }
  Runner x;
  const uint64_t pc = x.run({BGEZAL(ZERO, 8), NOP}, 2);  // "bal"
  EXPECT_EQ(x.r(RA), pc + 8);
  EXPECT_EQ(x.cpu().s.pc, pc + 4 + 32);
}

// ---- exceptions and delay slots ----------------------------------------------------------

TEST(DelaySlot, ExceptionInDelaySlotOfNotTakenBranchSetsBd) {
  Runner x;
  x.r(A0) = 1;
  const uint64_t pc = x.run({BEQ(A0, ZERO, 4), BREAK}, 2);
  x.expect_exception(cp0::EXC_Bp, pc);
  EXPECT_TRUE(x.cpu().s.cp0.cause & cp0::Cause_BD);
}

TEST(DelaySlot, ExceptionInDelaySlotOfJumpSetsBdAndEpcOfJump) {
  Runner x;
  x.r(A0) = kCodeVirt + 0x700;
  x.r(A1) = 0x7fffffff;
  const uint64_t pc = x.run({JR(A0), ADD(V0, A1, A1)}, 2);
  x.expect_exception(cp0::EXC_Ov, pc);
  EXPECT_TRUE(x.cpu().s.cp0.cause & cp0::Cause_BD);
}

TEST(DelaySlot, ExceptionOutsideDelaySlotClearsBd) {
  Runner x;
  x.cpu().s.cp0.cause |= cp0::Cause_BD;  // left over from an earlier exception
  const uint64_t pc = x.exec(SYSCALL);
  x.expect_exception(cp0::EXC_Sys, pc);
  EXPECT_FALSE(x.cpu().s.cp0.cause & cp0::Cause_BD);
}

TEST(DelaySlot, ExceptionRightAfterTakenBranchTargetHasNoBd) {
  Runner x;
  const uint64_t pc = x.run({BEQ(ZERO, ZERO, 2), NOP, NOP, SYSCALL}, 3);
  x.expect_exception(cp0::EXC_Sys, pc + 12);
  EXPECT_FALSE(x.cpu().s.cp0.cause & cp0::Cause_BD);
}

TEST(DelaySlot, EretToBranchReexecutesBranchAndSlot) {
  Runner x;
  // Handler at the general vector returns to EPC unchanged after counting.
  x.t.load({ADDIU(T2, T2, 1), ERET}, 0x180);
  x.cpu().code_written(0);
  x.r(A1) = 1;
  const uint64_t pc = x.place({BEQ(ZERO, ZERO, 3), TEQ(A1, ZERO), NOP, NOP, ADDIU(V0, ZERO, 9)});
  x.t.steps(2);  // branch, trap in slot (A1 != 0: no trap)
  EXPECT_FALSE(x.cpu().s.cp0.status & cp0::Status_EXL);
  x.cpu().s.pc = pc;
  x.r(A1) = 0;
  x.t.steps(2);  // trap taken in the slot
  x.expect_exception(cp0::EXC_Tr, pc);
  EXPECT_TRUE(x.cpu().s.cp0.cause & cp0::Cause_BD);
  x.r(A1) = 1;    // make the slot succeed on re-execution
  x.t.steps(2);   // handler
  EXPECT_EQ(x.cpu().s.pc, pc);
  x.t.steps(3);   // branch, slot, target
  EXPECT_EQ(x.r(V0), 9u);
}

TEST(DelaySlot, ExceptionInDelaySlotOfTakenBranchLikelySetsBd) {
  Runner x;
  const uint64_t pc = x.run({BEQL(ZERO, ZERO, 4), SYSCALL}, 2);
  x.expect_exception(cp0::EXC_Sys, pc);
  EXPECT_TRUE(x.cpu().s.cp0.cause & cp0::Cause_BD);
}

TEST(Jump, JrToMisalignedAddressRaisesAdELOnFetch) {
  Runner x;
  x.r(A0) = kCodeVirt + 0x702;
  const uint64_t pc = x.run({JR(A0), ADDIU(V0, ZERO, 1)}, 3);
  EXPECT_EQ(x.r(V0), 1u);  // the delay slot ran
  x.expect_exception(cp0::EXC_AdEL, kCodeVirt + 0x702);
  EXPECT_EQ(x.cpu().s.cp0.badvaddr, kCodeVirt + 0x702);
  EXPECT_FALSE(x.cpu().s.cp0.cause & cp0::Cause_BD);
  (void)pc;
}

// ---- instruction exceptions: codes -------------------------------------------------------

TEST(Exceptions, SyscallBreakAndTrapCodes) {
  struct C {
    const char* name;
    uint32_t insn;
    uint32_t code;
  };
  const C cases[] = {
      {"SYSCALL", SYSCALL, cp0::EXC_Sys},
      {"SYSCALL with code", SYSCALL_CODE(0xabcde), cp0::EXC_Sys},
      {"BREAK", BREAK, cp0::EXC_Bp},
      {"BREAK with code", BREAK_CODE(0x12345), cp0::EXC_Bp},
      {"TEQ equal", TEQ(A0, A0, 0x3ff), cp0::EXC_Tr},
      {"TEQI equal", TEQI(A1, -1), cp0::EXC_Tr},
  };
  for (const C& k : cases) {
    Runner x;
    x.r(A1) = ~0ull;
    const uint64_t pc = x.exec(k.insn);
    SCOPED_TRACE(k.name);
    x.expect_exception(k.code, pc);
  }
}

TEST(Exceptions, TrapNotTakenContinues) {
  Runner x;
  x.r(A0) = 1;
  x.r(A1) = 1ull << 32 | 1;  // differs only in the high word
  const uint64_t pc = x.run({TEQ(A0, A1), TEQI(A0, 2)}, 2);
  EXPECT_EQ(x.cpu().s.pc, pc + 8);
  EXPECT_FALSE(x.cpu().s.cp0.status & cp0::Status_EXL);
}

TEST(Exceptions, EveryExceptionGoesToTheGeneralVectorAndSetsExl) {
  Runner x;
  const uint64_t pc = x.exec(SYSCALL);
  x.expect_exception(cp0::EXC_Sys, pc);
  EXPECT_TRUE(x.cpu().kernel_mode());
}

// ---- 64-bit operations in user mode --------------------------------------------------------

TEST(Ops64, UserModeWithUxClearRaisesRI) {
  const uint32_t ops[] = {DADDU(V0, A0, A0), DSLL(V0, A0, 1), LD(V0, A1, 0), SD(A0, A1, 0), DMULT(A0, A0),
                          DSRA32(V0, A0, 1), LWU(V0, A1, 0), DADDIU(V0, A0, 1), DEXT(V0, A0, 0, 8), DSBH(V0, A0)};
  for (uint32_t op : ops) {
    Runner x;
    x.enter_user();
    x.r(A1) = kUserData;
    x.r(V0) = 0x99;
    const uint64_t pc = x.exec(op);
    SCOPED_TRACE(testing::Message() << std::hex << "insn 0x" << op);
    x.expect_exception(cp0::EXC_RI, pc);
    EXPECT_EQ(x.r(V0), 0x99u);
  }
}

TEST(Ops64, UserModeWithUxSetAllowsThem) {
  Runner x;
  x.enter_user(cp0::Status_UX);
  x.r(A0) = 0x100000000ull;
  x.r(A1) = kUserData;
  const uint64_t pc = x.run({DADDU(V0, A0, A0), SD(V0, A1, 0), LD(V1, A1, 0), DSLL32(T0, A0, 0)}, 4);
  EXPECT_EQ(x.cpu().s.pc, pc + 16);
  EXPECT_EQ(x.r(V1), 0x200000000ull);
  EXPECT_EQ(x.r(T0), 0u);
  EXPECT_FALSE(x.cpu().s.cp0.status & cp0::Status_EXL);
}

TEST(Ops64, KernelModeAlwaysAllowsThem) {
  Runner x;
  cp0_write(x.cpu(), cp0::Status, 0);  // KX = SX = UX = 0
  x.r(A0) = 0x100000000ull;
  x.r(A1) = kDataVirt;
  const uint64_t pc = x.run({DADDU(V0, A0, A0), SD(V0, A1, 0), LD(V1, A1, 0)}, 3);
  EXPECT_EQ(x.cpu().s.pc, pc + 12);
  EXPECT_EQ(x.r(V1), 0x200000000ull);
}

TEST(Ops64, ThirtyTwoBitOpsWorkInUserModeWithUxClear) {
  Runner x;
  x.enter_user();
  x.r(A1) = kUserData;
  x.r(A0) = 5;
  const uint64_t pc = x.run({ADDU(V0, A0, A0), SW(V0, A1, 0), LW(V1, A1, 0)}, 3);
  EXPECT_EQ(x.cpu().s.pc, pc + 12);
  EXPECT_EQ(x.r(V1), 10u);
}

// ---- privileged instructions --------------------------------------------------------------

TEST(Privilege, Cp0InstructionsInUserModeRaiseCpUWithCe0) {
  const uint32_t ops[] = {MFC0(V0, 12), MTC0(V0, 12), DMFC0(V0, 14), TLBWI, TLBR, TLBP, TLBWR, ERET, WAIT,
                          CACHE(0x14, A1, 0), DI(V0), EI(V0)};
  for (uint32_t op : ops) {
    Runner x;
    x.enter_user(cp0::Status_UX);
    x.r(A1) = kUserData;
    x.cpu().s.cp0.cause |= 3u << cp0::Cause_CE_SHIFT;  // stale CE must be replaced
    const uint64_t pc = x.exec(op);
    SCOPED_TRACE(testing::Message() << std::hex << "insn 0x" << op);
    x.expect_exception(cp0::EXC_CpU, pc);
    EXPECT_EQ((x.cpu().s.cp0.cause & cp0::Cause_CE) >> cp0::Cause_CE_SHIFT, 0u);
  }
}

TEST(Privilege, Cu0AllowsCp0InstructionsInUserMode) {
  Runner x;
  x.enter_user(cp0::Status_CU0);
  x.r(A1) = kUserData;
  const uint64_t pc = x.run({MFC0(V0, 12), CACHE(0x14, A1, 0), MFC0(V1, 15, 1)}, 3);
  EXPECT_EQ(x.cpu().s.pc, pc + 12);
  EXPECT_FALSE(x.cpu().s.cp0.status & cp0::Status_EXL);
  EXPECT_TRUE(x.r(V0) & cp0::Status_CU0);
  EXPECT_EQ(x.r(V0) & cp0::Status_KSU, 2u << cp0::Status_KSU_SHIFT);
  EXPECT_EQ(x.r(V1), 0xffffffff80000000ull);  // EBase
}

TEST(Privilege, Cu0AllowsTlbWriteFromUserMode) {
  Runner x;
  x.enter_user(cp0::Status_CU0);
  cp0_write(x.cpu(), cp0::Index, 5);
  cp0_write(x.cpu(), cp0::EntryHi, 0x40000000);
  const uint64_t pc = x.exec(TLBWI);
  EXPECT_EQ(x.cpu().s.pc, pc + 4);
  EXPECT_EQ(x.cpu().s.cp0.tlb[5].entryhi, 0x40000000u);
}

TEST(Privilege, Cop2InstructionsRaiseCpUWithCe2EvenInKernelMode) {
  for (uint32_t op : {COP2(0x123), LWC2(1, A0, 0)}) {
    Runner x;
    x.r(A0) = kDataVirt;
    const uint64_t pc = x.exec(op);
    x.expect_exception(cp0::EXC_CpU, pc);
    EXPECT_EQ((x.cpu().s.cp0.cause & cp0::Cause_CE) >> cp0::Cause_CE_SHIFT, 2u);
  }
}

TEST(Privilege, Cp1WithoutFpuRaisesCpUWithCe1) {
  Runner x;
  const uint64_t pc = x.exec(0x46241000);  // add.d
  x.expect_exception(cp0::EXC_CpU, pc);
  EXPECT_EQ((x.cpu().s.cp0.cause & cp0::Cause_CE) >> cp0::Cause_CE_SHIFT, 1u);
}

// ---- RDHWR ---------------------------------------------------------------------------------

TEST(Rdhwr, UserModeNeedsTheHwrenaBit) {
  Runner x;
  x.enter_user();
  x.cpu().s.cp0.userlocal = 0x1122334455667788ull;
  const uint64_t pc = x.exec(RDHWR(V1, 29));
  x.expect_exception(cp0::EXC_RI, pc);
}

TEST(Rdhwr, UserLocalReadableWhenEnabled) {
  Runner x;
  x.enter_user();
  x.cpu().s.cp0.userlocal = 0x1122334455667788ull;
  cp0_write(x.cpu(), cp0::HWREna, 1u << 29);
  const uint64_t pc = x.exec(RDHWR(V1, 29));
  EXPECT_EQ(x.cpu().s.pc, pc + 4);
  EXPECT_EQ(x.r(V1), 0x1122334455667788ull);
  // Bit 29 does not enable the others.
  x.exec(RDHWR(V0, 2));
  EXPECT_EQ(x.exccode(), cp0::EXC_RI);
}

TEST(Rdhwr, KernelModeReadsWithoutHwrena) {
  Runner x;
  x.cpu().s.cp0.userlocal = 42;
  x.run({RDHWR(V1, 29), RDHWR(V0, 1), RDHWR(T0, 3)}, 3);
  EXPECT_FALSE(x.cpu().s.cp0.status & cp0::Status_EXL);
  EXPECT_EQ(x.r(V1), 42u);
  EXPECT_GT(x.r(V0), 0u);  // SYNCI_Step: non-zero (caches present)
  EXPECT_GT(x.r(T0), 0u);  // CCRes
}

TEST(Rdhwr, UnimplementedRegisterIsReservedEvenInKernelMode) {
  Runner x;
  const uint64_t pc = x.exec(RDHWR(V1, 4));
  x.expect_exception(cp0::EXC_RI, pc);
}

TEST(Rdhwr, UserLocalIsWrittenThroughCp0Register4Select2) {
  Runner x;
  x.r(A0) = 0x0123456789abcdefull;
  x.run({DMTC0(A0, 4, 2), RDHWR(V1, 29)}, 2);
  EXPECT_EQ(x.r(V1), 0x0123456789abcdefull);
}

}  // namespace
}  // namespace disco::test
