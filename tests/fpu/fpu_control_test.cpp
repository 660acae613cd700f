// FPU control: moves, FR = 0/1 register views, CFC1/CTC1, the FPE
// exception, branches on condition codes, conditional moves, loads and
// stores (including COP1X indexed forms), Coprocessor Unusable.
#include "tests/fpu/fpu_fixture.h"

namespace disco::test {
namespace {

using namespace fenc;
constexpr uint64_t kData = kKseg0 + 0x20000;  // physical 0x20000

TEST(FpuMoves, Fr1MovesBetweenRegisterFiles) {
  FpuCpu t;
  t.gpr(2) = 0xfffffffff0000001ull;
  t.gpr(3) = 0x0123456789abcdefull;
  t.gpr(4) = 0xabcdef01u;
  t.run({MTC1(2, 5), DMTC1(3, 6), MTHC1(4, 7), MFC1(8, 6), DMFC1(9, 6), MFHC1(10, 6), MFC1(11, 5)});
  EXPECT_EQ(t.f(5), 0x11112222f0000001ull);  // QEMU: upper word kept
  EXPECT_EQ(t.f(6), 0x0123456789abcdefull);
  EXPECT_EQ(t.f(7), 0xabcdef0133334444ull);
  EXPECT_EQ(t.gpr(8), 0xffffffff89abcdefull);  // sign-extended
  EXPECT_EQ(t.gpr(9), 0x0123456789abcdefull);
  EXPECT_EQ(t.gpr(10), 0x0000000001234567ull);
  EXPECT_EQ(t.gpr(11), 0xfffffffff0000001ull);
}

TEST(FpuMoves, Fr0PairsRegisters) {
  FpuCpu t(false);
  t.gpr(2) = 0x3ff0000000000000ull;  // 1.0 as a double
  t.gpr(3) = 0x40000000u;
  t.run({DMTC1(2, 4), MTC1(3, 7), MTC1(0, 6), DMFC1(8, 6), MFHC1(9, 4), MFC1(10, 5)});
  EXPECT_EQ(t.f(4), 0x1111222200000000ull);  // low half in the even register
  EXPECT_EQ(t.f(5), 0x111122223ff00000ull);  // high half in the odd one
  EXPECT_EQ(t.gpr(8), 0x4000000000000000ull);  // 2.0: pair (6, 7)
  EXPECT_EQ(t.gpr(9), 0x000000003ff00000ull);
  EXPECT_EQ(t.gpr(10), 0x000000003ff00000ull);
  // MTHC1 writes the odd register.
  t.gpr(11) = 0x40080000u;
  t.run({MTHC1(11, 4), DMFC1(12, 4)});
  EXPECT_EQ(t.gpr(12), 0x4008000000000000ull);  // 3.0
}

TEST(FpuMoves, Fr0DoubleArithmeticUsesPairsAndOddIsReserved) {
  FpuCpu t(false);
  // 1.5 in pair (2,3), 2.25 in pair (4,5).
  t.f(2) = 0x00000000u;
  t.f(3) = 0x3ff80000u;
  t.f(4) = 0x00000000u;
  t.f(5) = 0x40020000u;
  t.run({ADD(D, 6, 2, 4)});
  EXPECT_EQ(t.lo(6), 0u);
  EXPECT_EQ(t.lo(7), 0x400e0000u);  // 3.75
  t.run({ADD(D, 6, 3, 4)});
  EXPECT_EQ(t.exccode(), cp0::EXC_RI);
  // Singles use every register, odd ones included.
  t.cpu.s.cp0.status &= ~cp0::Status_EXL;
  t.setf(9, 2.0f);
  t.setf(11, 3.0f);
  t.run({ADD(S, 13, 9, 11)});
  EXPECT_EQ(t.getf(13), 5.0f);
}

TEST(FpuMoves, Fr0LFormatIsReserved) {
  FpuCpu t(false);
  t.run({U1(37, D, 2, 4)});  // cvt.l.d
  EXPECT_EQ(t.exccode(), cp0::EXC_RI);
}

TEST(FpuMoves, Fr0LoadStoreDoublePair) {
  FpuCpu t(false);
  t.bus.write64(0x20000, 0x400921fb54442d18ull);  // pi
  t.gpr(2) = kData;
  t.run({LDC1(4, 2, 0), SDC1(4, 2, 8), LDC1(7, 2, 0)});
  EXPECT_EQ(t.lo(4), 0x54442d18u);
  EXPECT_EQ(t.lo(5), 0x400921fbu);
  EXPECT_EQ(t.bus.read64(0x20008), 0x400921fb54442d18ull);
  EXPECT_EQ(t.lo(6), 0x54442d18u);  // odd register: the pair (6, 7), as QEMU
}

TEST(FpuLoadStore, WordAndDouble) {
  FpuCpu t;
  t.bus.write32(0x20000, 0x40000000u);
  t.bus.write64(0x20008, 0x400921fb54442d18ull);
  t.gpr(2) = kData;
  t.run({LWC1(1, 2, 0), LDC1(3, 2, 8), SWC1(3, 2, 16), SDC1(1, 2, 24)});
  EXPECT_EQ(t.f(1), 0x1111222240000000ull);  // QEMU: upper word kept
  EXPECT_EQ(t.f(3), 0x400921fb54442d18ull);
  EXPECT_EQ(t.bus.read32(0x20010), 0x54442d18u);
  EXPECT_EQ(t.bus.read64(0x20018), 0x1111222240000000ull);
}

TEST(FpuLoadStore, Indexed) {
  FpuCpu t;
  t.bus.write32(0x20004, 0x3f800000u);
  t.bus.write64(0x20010, 0x4000000000000000ull);
  t.gpr(2) = kData;
  t.gpr(3) = 4;
  t.gpr(4) = 0x10;
  t.gpr(5) = 0x13;  // LUXC1/SUXC1 ignore the low 3 bits
  t.gpr(6) = 0x20;
  t.gpr(7) = 0x28;
  t.gpr(8) = 0x33;
  t.run({LWXC1(1, 3, 2), LDXC1(2, 4, 2), LUXC1(3, 5, 2), SWXC1(1, 6, 2), SDXC1(2, 7, 2), SUXC1(3, 8, 2),
         PREFX(0, 3, 2)});
  EXPECT_EQ(t.lo(1), 0x3f800000u);
  EXPECT_EQ(t.f(2), 0x4000000000000000ull);
  EXPECT_EQ(t.f(3), 0x4000000000000000ull);
  EXPECT_EQ(t.bus.read32(0x20020), 0x3f800000u);
  EXPECT_EQ(t.bus.read64(0x20028), 0x4000000000000000ull);
  EXPECT_EQ(t.bus.read64(0x20030), 0x4000000000000000ull);
  EXPECT_EQ(t.cpu.s.pc, kCodeVirt + 28);
}

TEST(FpuLoadStore, MisalignedDoubleIsAddressError) {
  FpuCpu t;
  t.gpr(2) = kData + 4;
  t.run({LDC1(4, 2, 0)});
  EXPECT_EQ(t.exccode(), cp0::EXC_AdEL);
  EXPECT_EQ(t.f(4), kJunk);
}

TEST(FpuControl, CfcCtcRegisters) {
  FpuCpu t;
  t.gpr(2) = 0xffffffffu;
  t.gpr(3) = 0xfffc0fffu;  // everything but Cause
  t.run({CTC1(3, 31), CFC1(4, 31), CFC1(5, 0)});
  EXPECT_EQ(t.fcsr(), 0xff800fffu);  // QEMU: bits 22..18 read as zero
  EXPECT_EQ(t.gpr(4), 0xffffffffff800fffull);
  EXPECT_EQ(t.gpr(5), t.cpu.s.fir);
  t.fcsr() = 0xfe80007cu | (1u << 24);
  t.run({CFC1(6, 25), CFC1(7, 26), CFC1(8, 28), CFC1(9, 2)});
  EXPECT_EQ(t.gpr(6), 0xffu);  // QEMU
  EXPECT_EQ(t.gpr(7), 0x7cu);
  EXPECT_EQ(t.gpr(8), 0x4u);
  EXPECT_EQ(t.gpr(9), 0xfffffffffe80007cull | (1u << 24));  // reserved number reads FCSR (QEMU)
  t.fcsr() = 0;
  t.gpr(10) = 0xa5;
  t.run({CTC1(10, 25)});
  EXPECT_EQ(t.fcsr(), 0xa4800000u);  // QEMU
  t.gpr(11) = 0x0001f07c;
  t.run({CTC1(11, 26)});
  EXPECT_EQ(t.fcsr(), 0xa481f07cu);  // QEMU
  t.fcsr() = 0;
  t.gpr(12) = 0xf87;
  t.run({CTC1(12, 28)});
  EXPECT_EQ(t.fcsr(), 0x01000f83u);  // QEMU
  t.fcsr() = 0;
  t.gpr(13) = 0x00040000;
  t.run({CTC1(13, 26), CTC1(2, 3)});  // ignored: bit 18; reserved register
  EXPECT_EQ(t.fcsr(), 0u);
}

TEST(FpuControl, CtcRaisesFpeForEnabledCause) {
  FpuCpu t;
  t.gpr(2) = cause(XI) | enables(XI);
  t.run({CTC1(2, 31)});
  EXPECT_EQ(t.exccode(), cp0::EXC_FPE);
  EXPECT_EQ(t.cpu.s.cp0.epc, kCodeVirt);
  EXPECT_EQ(t.fcsr(), cause(XI) | enables(XI));  // written before the trap
  // E always traps.
  FpuCpu u;
  u.gpr(2) = cause(XE);
  u.run({CTC1(2, 31)});
  EXPECT_EQ(u.exccode(), cp0::EXC_FPE);
  // A cause without its enable does not.
  FpuCpu v;
  v.gpr(2) = cause(XI | XV) | enables(XO);
  v.run({CTC1(2, 31)});
  EXPECT_EQ(v.cpu.s.pc, kCodeVirt + 4);
}

TEST(FpuControl, EnabledExceptionTrapsAndLeavesDestination) {
  FpuCpu t;
  t.fcsr() = enables(XI) | flags(XU);
  t.setf(2, 1.0f);
  t.setf(4, 3.0f);
  t.run({DIV(S, 6, 2, 4)});
  EXPECT_EQ(t.exccode(), cp0::EXC_FPE);
  EXPECT_EQ(t.cpu.s.cp0.epc, kCodeVirt);
  EXPECT_EQ(t.cpu.s.pc, kGeneralVector);
  EXPECT_EQ(t.f(6), kJunk);  // destination unwritten
  EXPECT_EQ(t.fcsr(), enables(XI) | flags(XU) | cause(XI));  // flags not updated
}

TEST(FpuControl, EnabledExceptionInDelaySlot) {
  FpuCpu t;
  t.fcsr() = enables(XZ);
  t.setd(2, 1.0);
  t.setd(4, 0.0);
  t.run({enc::BEQ(0, 0, 4), DIV(D, 6, 2, 4)});
  EXPECT_EQ(t.exccode(), cp0::EXC_FPE);
  EXPECT_EQ(t.cpu.s.cp0.epc, kCodeVirt);
  EXPECT_TRUE(t.cpu.s.cp0.cause & cp0::Cause_BD);
  EXPECT_EQ(t.f(6), kJunk);
}

TEST(FpuControl, CompareTrapLeavesConditionCode) {
  FpuCpu t;
  t.fcsr() = enables(XV) | (1u << 23);
  t.f(2) = kQNaN32;
  t.run({C(S, 12, 0, 2, 2)});  // c.lt.s: signalling predicate
  EXPECT_EQ(t.exccode(), cp0::EXC_FPE);
  EXPECT_EQ(t.fcsr(), enables(XV) | (1u << 23) | cause(XV));
}

TEST(FpuControl, CauseReplacedFlagsSticky) {
  FpuCpu t;
  t.fcsr() = cause(XV | XZ) | flags(XO);
  t.setf(2, 1.0f);
  t.run({ADD(S, 3, 2, 2)});  // exact
  EXPECT_EQ(t.fcsr(), flags(XO));
}

TEST(FpuBranch, Bc1TrueFalseAllCcs) {
  for (unsigned cc = 0; cc < 8; ++cc) {
    for (bool set : {false, true}) {
      for (bool tf : {false, true}) {
        FpuCpu t;
        t.fcsr() = set ? (cc ? 1u << (24 + cc) : 1u << 23) : 0;
        t.run({BC1(cc, false, tf, 2), enc::ADDIU(2, 0, 1), enc::ADDIU(3, 0, 1), enc::ADDIU(4, 0, 1)});
        const bool taken = set == tf;
        EXPECT_EQ(t.gpr(2), 1u);  // delay slot always runs
        EXPECT_EQ(t.gpr(3), taken ? 0u : 1u) << cc << set << tf;
      }
    }
  }
}

TEST(FpuBranch, LikelyNullifiesWhenNotTaken) {
  FpuCpu t;
  t.fcsr() = 1u << 27;  // cc3
  t.run({BC1(3, true, false, 2), enc::ADDIU(2, 0, 1), enc::ADDIU(3, 0, 1)});  // bc1fl: not taken
  EXPECT_EQ(t.gpr(2), 0u);  // nullified
  EXPECT_EQ(t.gpr(3), 1u);
  FpuCpu u;
  u.fcsr() = 1u << 27;
  u.run({BC1(3, true, true, 2), enc::ADDIU(2, 0, 1), enc::ADDIU(3, 0, 1), enc::ADDIU(4, 0, 1)});  // taken
  EXPECT_EQ(u.gpr(2), 1u);
  EXPECT_EQ(u.gpr(3), 0u);
  EXPECT_EQ(u.gpr(4), 1u);
}

TEST(FpuBranch, CompareThenBranch) {
  FpuCpu t;
  t.setf(2, 1.0f);
  t.setf(4, 2.0f);
  t.run({C(S, 4, 6, 2, 4), BC1(6, false, true, 2), enc::NOP, enc::ADDIU(2, 0, 1), enc::ADDIU(3, 0, 1)});
  EXPECT_EQ(t.gpr(2), 0u);
  EXPECT_EQ(t.gpr(3), 1u);
}

TEST(FpuMovesCond, IntegerMovfMovt) {
  FpuCpu t;
  t.fcsr() = 1u << 26;  // cc2
  t.gpr(2) = 42;
  t.run({MOVCI(true, 3, 2, 2), MOVCI(false, 4, 2, 2), MOVCI(false, 5, 2, 1), MOVCI(true, 6, 2, 1)});
  EXPECT_EQ(t.gpr(3), 42u);
  EXPECT_EQ(t.gpr(4), 0u);
  EXPECT_EQ(t.gpr(5), 42u);
  EXPECT_EQ(t.gpr(6), 0u);
}

TEST(FpuMovesCond, FormatMoves) {
  FpuCpu t;
  t.fcsr() = 1u << 23;  // cc0
  t.f(2) = 0x5555666677778888ull;
  t.gpr(3) = 0;
  t.gpr(4) = 1;
  t.run({MOVCF(S, true, 0, 10, 2), MOVCF(S, false, 0, 11, 2), MOVCF(D, true, 0, 12, 2), MOVCF(D, false, 1, 13, 2),
         MOVZ(S, 14, 2, 3), MOVN(S, 15, 2, 3), MOVZ(D, 16, 2, 4), MOVN(D, 17, 2, 4)});
  EXPECT_EQ(t.f(10), 0x1111222277778888ull);  // QEMU: 32-bit move keeps upper
  EXPECT_EQ(t.f(11), kJunk);
  EXPECT_EQ(t.f(12), 0x5555666677778888ull);
  EXPECT_EQ(t.f(13), 0x5555666677778888ull);  // cc1 false
  EXPECT_EQ(t.f(14), 0x1111222277778888ull);
  EXPECT_EQ(t.f(15), kJunk);
  EXPECT_EQ(t.f(16), kJunk);
  EXPECT_EQ(t.f(17), 0x5555666677778888ull);
}

TEST(FpuUnusable, Cu1ClearRaisesCpU) {
  const uint32_t insns[] = {ADD(S, 0, 2, 4), MTC1(2, 0), CFC1(2, 31), BC1(0, false, true, 2), LWC1(0, 0, 0),
                            SDC1(0, 0, 0), LWXC1(0, 0, 0), PREFX(0, 0, 0), MADDX(4, 0, 0, 0, 0, 0),
                            MOVCI(true, 2, 3, 0), C(D, 0, 0, 0, 0)};
  for (uint32_t w : insns) {
    FpuCpu t;
    t.cpu.s.cp0.status &= ~cp0::Status_CU1;
    t.run({w});
    EXPECT_EQ(t.exccode(), cp0::EXC_CpU) << std::hex << w;
    EXPECT_EQ((t.cpu.s.cp0.cause & cp0::Cause_CE) >> cp0::Cause_CE_SHIFT, 1u);
  }
}

TEST(FpuUnusable, NoFpuCannotSetCu1) {
  TestCpu t;  // has_fpu = false
  t.gpr(2) = cp0::Status_CU1 | cp0::Status_FR | cp0::Status_KX;
  t.load({enc::MTC0(2, 12), MTC1(0, 0)});
  t.steps(2);
  EXPECT_EQ(t.cpu.s.cp0.status & (cp0::Status_CU1 | cp0::Status_FR), 0u);
  EXPECT_EQ(t.exccode(), cp0::EXC_CpU);
}

}  // namespace
}  // namespace disco::test
