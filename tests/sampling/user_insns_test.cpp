// Cpu::user_insns: guest instructions executed in user mode, on both
// engines. The instruction that enters the kernel (SYSCALL, BREAK) ran in
// user mode and counts; ERET ran in kernel mode and does not; an interrupt
// taken before the first user instruction leaves the count alone.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "cpu/cp0.h"
#include "jit/jit.h"
#include "tests/support/encode.h"
#include "tests/support/test_cpu.h"

namespace disco::test {
namespace {

using namespace enc;
using namespace cp0;

enum : unsigned { ZERO = 0, V0 = 2, T0 = 12, T1 = 13, T2 = 14, K0 = 26 };
enum CP0 : unsigned { kStatus = 12, kCause = 13, kEPC = 14 };

constexpr uint64_t kUserVirt = 0x00400000;
constexpr uint64_t kUserPhys = 0x30000;
constexpr uint64_t kVectorPhys = 0x180;  // EBase (kseg0 0) + 0x180, Status.BEV = 0
constexpr uint32_t kUserStatus = (2u << Status_KSU_SHIFT) | Status_EXL | Status_UX | Status_SX | Status_KX;

struct Machine {
  explicit Machine(bool use_jit) {
    if (use_jit) jit = std::make_unique<jit::Jit>(t.cpu);
    // The user page, global, valid and dirty (the odd page of the pair unmapped).
    t.cpu.s.cp0.tlb[0] = TlbEntry{kUserVirt & EntryHi_VPN2, 0,
                                  ((kUserPhys >> 12) << EntryLo_PFN_SHIFT) | EntryLo_V | EntryLo_D | EntryLo_G |
                                      (3u << EntryLo_C_SHIFT),
                                  EntryLo_G, true};
    t.cpu.translation_changed();
    t.cpu.s.gpr[T0] = kUserVirt;
  }
  Cpu& cpu() { return t.cpu; }
  void run_until_exceptions(uint64_t n) {
    while (t.cpu.stat_exceptions < n && t.cpu.s.cycles < 10000) {
      if (jit) jit->run(10000, 1);
      else interp::step(t.cpu);
    }
    ASSERT_EQ(t.cpu.stat_exceptions, n);
  }
  void run_to(uint64_t limit) {
    while (t.cpu.s.cycles < limit)
      if ((jit ? jit->run(limit) : interp::run(t.cpu, limit)) != StopReason::Budget) break;
    ASSERT_EQ(t.cpu.s.cycles, limit);
  }

  TestCpu t;
  std::unique_ptr<jit::Jit> jit;
};

class UserInsns : public ::testing::TestWithParam<bool> {};

// Kernel: EPC and Status (user, EXL), ERET; the user program: five
// instructions and a SYSCALL, three and a SYSCALL, then a spin loop; the
// SYSCALL handler steps EPC over the SYSCALL and returns.
TEST_P(UserInsns, CountsUserInstructionsExactly) {
  Machine m(GetParam());
  m.cpu().s.gpr[T1] = kUserStatus;
  m.t.load({MTC0(T0, kEPC), MTC0(T1, kStatus), NOP, ERET});
  m.t.load({MFC0(K0, kEPC), ADDIU(K0, K0, 4), MTC0(K0, kEPC), ERET}, kVectorPhys);
  m.t.load({ADDIU(V0, V0, 1), ADDIU(V0, V0, 1), ADDIU(V0, V0, 1), ADDIU(V0, V0, 1), ADDIU(V0, V0, 1), SYSCALL,
            ADDIU(V0, V0, 1), ADDIU(V0, V0, 1), ADDIU(V0, V0, 1), SYSCALL,
            BEQ(ZERO, ZERO, -1), NOP},
           kUserPhys);
  EXPECT_EQ(m.cpu().user_insns(), 0u);
  // Part way into the first user stretch: the current stretch counts.
  m.run_to(7);  // four kernel instructions, three user ones
  EXPECT_EQ(m.cpu().mode(), 2u);
  EXPECT_EQ(m.cpu().user_insns(), 3u);
  m.run_until_exceptions(1);
  EXPECT_EQ((m.cpu().s.cp0.cause & Cause_ExcCode) >> Cause_ExcCode_SHIFT, EXC_Sys);
  EXPECT_EQ(m.cpu().s.cycles, 10u);
  EXPECT_EQ(m.cpu().user_insns(), 6u);  // five and the SYSCALL
  // Two system calls of four kernel instructions each, the rest in user mode.
  m.run_to(200);
  EXPECT_EQ(m.cpu().stat_exceptions, 2u);
  EXPECT_EQ(m.cpu().s.gpr[V0], 8u);
  EXPECT_EQ(m.cpu().mode(), 2u);
  EXPECT_EQ(m.cpu().user_insns(), 200u - 12u);
}

// An interrupt pending when ERET returns to user mode is taken before the
// first user instruction: no user instruction ran. (Its handler clears it
// and returns to the same place.)
TEST_P(UserInsns, InterruptBeforeTheFirstUserInstruction) {
  Machine m(GetParam());
  m.cpu().s.gpr[T1] = kUserStatus | Status_IE | (1u << Status_IM_SHIFT);
  m.cpu().s.gpr[T2] = 1u << Cause_IP_SHIFT;  // IP0, software
  m.t.load({MTC0(T0, kEPC), MTC0(T1, kStatus), MTC0(T2, kCause), ERET});
  m.t.load({MTC0(ZERO, kCause), ERET}, kVectorPhys);
  m.t.load({ADDIU(V0, V0, 1), ADDIU(V0, V0, 1), ADDIU(V0, V0, 1), ADDIU(V0, V0, 1), ADDIU(V0, V0, 1), BREAK},
           kUserPhys);
  m.run_until_exceptions(1);
  EXPECT_EQ((m.cpu().s.cp0.cause & Cause_ExcCode) >> Cause_ExcCode_SHIFT, EXC_Int);
  EXPECT_EQ(m.cpu().s.cp0.epc, kUserVirt);
  // (The step that delivered it went on with the handler's first instruction.)
  EXPECT_EQ(m.cpu().s.cycles, 5u);
  EXPECT_EQ(m.cpu().user_insns(), 0u);
  m.run_until_exceptions(2);
  EXPECT_EQ((m.cpu().s.cp0.cause & Cause_ExcCode) >> Cause_ExcCode_SHIFT, EXC_Bp);
  EXPECT_EQ(m.cpu().user_insns(), 6u);  // five and the BREAK
  EXPECT_EQ(m.cpu().s.cycles, 4u + 2u + 6u);
}

// Reset starts the count again, as it does s.cycles.
TEST(UserInsnsReset, ResetClearsTheCount) {
  Machine m(false);
  m.cpu().s.gpr[T1] = kUserStatus;
  m.t.load({MTC0(T0, kEPC), MTC0(T1, kStatus), NOP, ERET});
  m.t.load({BEQ(ZERO, ZERO, -1), NOP}, kUserPhys);
  m.run_to(20);
  EXPECT_EQ(m.cpu().user_insns(), 16u);
  m.cpu().reset();
  EXPECT_EQ(m.cpu().user_insns(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Engines, UserInsns, ::testing::Values(false, true),
                         [](const auto& info) { return std::string(info.param ? "Jit" : "Interp"); });

}  // namespace
}  // namespace disco::test
