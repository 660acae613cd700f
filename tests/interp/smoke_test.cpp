// The smallest end-to-end checks of the run loop: straight-line code, a
// taken branch with its delay slot, and an exception's EPC.
#include <gtest/gtest.h>

#include "tests/support/encode.h"
#include "tests/support/test_cpu.h"

namespace disco::test {
namespace {

TEST(RunLoop, ExecutesStraightLineCode) {
  TestCpu t;
  t.load({enc::ADDIU(2, 0, 5), enc::ADDIU(3, 2, -7), enc::DADDU(4, 2, 3)});
  t.steps(3);
  EXPECT_EQ(t.gpr(2), 5u);
  EXPECT_EQ(t.gpr(3), ~1ull);  // -2
  EXPECT_EQ(t.gpr(4), 3u);
  EXPECT_EQ(t.cpu.s.pc, kCodeVirt + 12);
}

TEST(RunLoop, TakenBranchExecutesDelaySlotThenTarget) {
  TestCpu t;
  t.load({enc::BEQ(0, 0, 2), enc::ADDIU(2, 0, 1), enc::ADDIU(3, 0, 1), enc::ADDIU(4, 0, 1)});
  t.steps(3);
  EXPECT_EQ(t.gpr(2), 1u);  // delay slot ran
  EXPECT_EQ(t.gpr(3), 0u);  // skipped
  EXPECT_EQ(t.gpr(4), 1u);  // target
}

TEST(RunLoop, ExceptionInDelaySlotSetsBdAndEpcOfBranch) {
  TestCpu t;
  t.load({enc::BEQ(0, 0, 2), enc::SYSCALL});
  t.steps(2);
  EXPECT_EQ(t.exccode(), cp0::EXC_Sys);
  EXPECT_EQ(t.cpu.s.cp0.epc, kCodeVirt);
  EXPECT_TRUE(t.cpu.s.cp0.cause & cp0::Cause_BD);
  EXPECT_EQ(t.cpu.s.pc, 0xffffffff80000180ull);
}

}  // namespace
}  // namespace disco::test
