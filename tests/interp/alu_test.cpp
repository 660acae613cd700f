// Integer ALU edge cases (MIPS64 Vol. II): 32-bit results sign-extended into
// 64-bit registers, overflow traps, divide corner cases, multiply words,
// shift boundaries, count-leading, bit fields and byte shuffles.
#include <gtest/gtest.h>

#include "tests/interp/interp_test_util.h"

namespace disco::test {
namespace {

using namespace enc;
constexpr uint64_t kS32Min = 0xffffffff80000000ull;  // INT32_MIN sign-extended

// ---- sign extension of 32-bit results -----------------------------------------

TEST(SignExtension, AdduResultIsSignExtended) {
  Runner x;
  x.r(A0) = 0x7fffffff;
  x.r(A1) = 1;
  x.exec(ADDU(V0, A0, A1));
  EXPECT_EQ(x.r(V0), kS32Min);
  x.r(A0) = 0xffffffffffffffffull;
  x.exec(ADDU(V0, A0, A1));  // -1 + 1 wraps to 0
  EXPECT_EQ(x.r(V0), 0u);
}

TEST(SignExtension, SubuResultIsSignExtended) {
  Runner x;
  x.r(A0) = 0;
  x.r(A1) = 1;
  x.exec(SUBU(V0, A0, A1));
  EXPECT_EQ(x.r(V0), ~0ull);
  x.r(A0) = kS32Min;
  x.exec(SUBU(V0, A0, A1));  // wraps to 0x7fffffff, positive
  EXPECT_EQ(x.r(V0), 0x7fffffffu);
}

TEST(SignExtension, AddiuResultIsSignExtended) {
  Runner x;
  x.r(A0) = 0x7fffffff;
  x.exec(ADDIU(V0, A0, 1));
  EXPECT_EQ(x.r(V0), kS32Min);
}

TEST(SignExtension, SllUsesLowWordOfAnyInputAndSignExtends) {
  Runner x;
  x.r(A0) = 0x123456789abcdef1ull;  // SLL has no sign-extended-input restriction
  x.exec(SLL(V0, A0, 4));
  EXPECT_EQ(x.r(V0), 0xffffffffabcdef10ull);
  x.r(A0) = 1;
  x.exec(SLL(V0, A0, 31));
  EXPECT_EQ(x.r(V0), kS32Min);
}

TEST(SignExtension, SrlOfNegativeWordIsPositiveWhenShifted) {
  Runner x;
  x.r(A0) = kS32Min;
  x.exec(SRL(V0, A0, 1));
  EXPECT_EQ(x.r(V0), 0x40000000u);
  x.exec(SRL(V0, A0, 0));  // shift by 0 keeps the sign
  EXPECT_EQ(x.r(V0), kS32Min);
}

TEST(SignExtension, SraAndRotrSignExtendTheWord) {
  Runner x;
  x.r(A0) = kS32Min;
  x.exec(SRA(V0, A0, 4));
  EXPECT_EQ(x.r(V0), 0xfffffffff8000000ull);
  x.r(A0) = 1;
  x.exec(ROTR(V0, A0, 1));
  EXPECT_EQ(x.r(V0), kS32Min);
}

TEST(SignExtension, LwSignExtendsTheLoadedWord) {
  Runner x;
  const uint8_t b[4] = {0x00, 0x00, 0x00, 0x80};
  x.t.bus.write_bytes(kDataPhys, b, 4);
  x.r(A0) = kDataVirt;
  x.exec(LW(V0, A0, 0));
  EXPECT_EQ(x.r(V0), kS32Min);
}

TEST(SignExtension, MulLowWordIsSignExtended) {
  Runner x;
  x.r(A0) = 0x10000;
  x.r(A1) = 0x8000;
  x.exec(MUL(V0, A0, A1));
  EXPECT_EQ(x.r(V0), kS32Min);
  x.r(A0) = 0x10001;
  x.r(A1) = 0x10001;  // 0x1_0002_0001: low word only
  x.exec(MUL(V0, A0, A1));
  EXPECT_EQ(x.r(V0), 0x00020001u);
}

TEST(SignExtension, Mfc0SignExtendsA64BitRegisterLowWord) {
  Runner x;
  x.r(A0) = 0x0000000080001000ull;
  x.exec(DMTC0(A0, 14));  // EPC
  x.exec(MFC0(V0, 14));
  EXPECT_EQ(x.r(V0), 0xffffffff80001000ull);
  x.exec(DMFC0(V1, 14));
  EXPECT_EQ(x.r(V1), 0x0000000080001000ull);
}

TEST(SignExtension, LuiSignExtends) {
  Runner x;
  x.exec(LUI(V0, 0x8000));
  EXPECT_EQ(x.r(V0), kS32Min);
  x.exec(LUI(V0, 0x7fff));
  EXPECT_EQ(x.r(V0), 0x7fff0000u);
}

// ---- overflow traps -------------------------------------------------------------

struct OvCase {
  const char* name;
  uint32_t insn;
  uint64_t a, b;
};

TEST(Overflow, TrappingAddSubRaiseOvAndLeaveDestinationUnchanged) {
  const OvCase cases[] = {
      {"ADD max+1", ADD(V0, A0, A1), 0x7fffffff, 1},
      {"ADD min+min", ADD(V0, A0, A1), kS32Min, kS32Min},
      {"ADDI max+1", ADDI(V0, A0, 1), 0x7fffffff, 0},
      {"ADDI min-1", ADDI(V0, A0, -1), kS32Min, 0},
      {"SUB min-1", SUB(V0, A0, A1), kS32Min, 1},
      {"SUB 0-min", SUB(V0, A0, A1), 0, kS32Min},
      {"DADD max+1", DADD(V0, A0, A1), 0x7fffffffffffffffull, 1},
      {"DADDI min-1", DADDI(V0, A0, -1), 0x8000000000000000ull, 0},
      {"DSUB min-1", DSUB(V0, A0, A1), 0x8000000000000000ull, 1},
      {"DSUB 0-min", DSUB(V0, A0, A1), 0, 0x8000000000000000ull},
  };
  for (const OvCase& k : cases) {
    Runner x;
    x.r(A0) = k.a;
    x.r(A1) = k.b;
    x.r(V0) = 0x5555;
    const uint64_t pc = x.exec(k.insn);
    SCOPED_TRACE(k.name);
    x.expect_exception(cp0::EXC_Ov, pc);
    EXPECT_EQ(x.r(V0), 0x5555u);
    EXPECT_FALSE(x.cpu().s.cp0.cause & cp0::Cause_BD);
  }
}

TEST(Overflow, NonOverflowingTrappingFormsWriteTheResult) {
  Runner x;
  x.r(A0) = 0x7ffffffe;
  x.r(A1) = 1;
  x.exec(ADD(V0, A0, A1));
  EXPECT_EQ(x.r(V0), 0x7fffffffu);
  x.r(A0) = kS32Min;
  x.exec(ADDI(V0, A0, 0));
  EXPECT_EQ(x.r(V0), kS32Min);
  x.r(A0) = 0x7fffffff;
  x.exec(DADDI(V0, A0, 1));  // no 32-bit overflow for the doubleword form
  EXPECT_EQ(x.r(V0), 0x80000000u);
  EXPECT_EQ(x.cpu().s.pc, x.virt(x.next - 32));
}

TEST(Overflow, UnsignedFormsNeverTrap) {
  const OvCase cases[] = {
      {"ADDU", ADDU(V0, A0, A1), 0x7fffffff, 1},
      {"ADDIU", ADDIU(V0, A0, 1), 0x7fffffff, 0},
      {"SUBU", SUBU(V0, A0, A1), kS32Min, 1},
      {"DADDU", DADDU(V0, A0, A1), 0x7fffffffffffffffull, 1},
      {"DADDIU", DADDIU(V0, A0, -1), 0x8000000000000000ull, 0},
      {"DSUBU", DSUBU(V0, A0, A1), 0x8000000000000000ull, 1},
  };
  for (const OvCase& k : cases) {
    Runner x;
    x.r(A0) = k.a;
    x.r(A1) = k.b;
    const uint64_t pc = x.exec(k.insn);
    EXPECT_EQ(x.cpu().s.pc, pc + 4) << k.name;
    EXPECT_FALSE(x.cpu().s.cp0.status & cp0::Status_EXL) << k.name;
  }
  Runner x;
  x.r(A0) = 0x7fffffffffffffffull;
  x.r(A1) = 1;
  x.exec(DADDU(V0, A0, A1));
  EXPECT_EQ(x.r(V0), 0x8000000000000000ull);
}

// ---- divide -----------------------------------------------------------------------

struct DivCase {
  const char* name;
  uint32_t insn;
  uint64_t a, b, lo, hi;
};

TEST(Divide, ByZeroGivesDividendInLoAndZeroInHi) {
  const DivCase cases[] = {
      {"DIV", DIV(A0, A1), 0xfffffffffffffff9ull, 0, 0xfffffffffffffff9ull, 0},
      {"DIVU", DIVU(A0, A1), kS32Min, 0, kS32Min, 0},
      {"DDIV", DDIV(A0, A1), 0x8000000000000007ull, 0, 0x8000000000000007ull, 0},
      {"DDIVU", DDIVU(A0, A1), 0xffffffffffffffffull, 0, 0xffffffffffffffffull, 0},
  };
  for (const DivCase& k : cases) {
    Runner x;
    x.r(A0) = k.a;
    x.r(A1) = k.b;
    x.cpu().s.hi = x.cpu().s.lo = 0x1234;
    const uint64_t pc = x.exec(k.insn);
    EXPECT_EQ(x.cpu().s.pc, pc + 4) << k.name << ": divide never traps";
    EXPECT_EQ(x.cpu().s.lo, k.lo) << k.name;
    EXPECT_EQ(x.cpu().s.hi, k.hi) << k.name;
  }
}

TEST(Divide, MinByMinusOneGivesMinAndZeroRemainderWithoutTrap) {
  const DivCase cases[] = {
      {"DIV", DIV(A0, A1), kS32Min, ~0ull, kS32Min, 0},
      {"DDIV", DDIV(A0, A1), 0x8000000000000000ull, ~0ull, 0x8000000000000000ull, 0},
  };
  for (const DivCase& k : cases) {
    Runner x;
    x.r(A0) = k.a;
    x.r(A1) = k.b;
    const uint64_t pc = x.exec(k.insn);
    EXPECT_EQ(x.cpu().s.pc, pc + 4) << k.name;
    EXPECT_EQ(x.cpu().s.lo, k.lo) << k.name;
    EXPECT_EQ(x.cpu().s.hi, k.hi) << k.name;
  }
}

TEST(Divide, SignedQuotientTruncatesTowardZeroAndRemainderTakesDividendSign) {
  const DivCase cases[] = {
      {"DIV -7/2", DIV(A0, A1), static_cast<uint64_t>(-7), 2, static_cast<uint64_t>(-3), static_cast<uint64_t>(-1)},
      {"DIV 7/-2", DIV(A0, A1), 7, static_cast<uint64_t>(-2), static_cast<uint64_t>(-3), 1},
      {"DIVU 0xffffffff/2", DIVU(A0, A1), ~0ull, 2, 0x7fffffff, 1},
      {"DIVU 0x80000000/1", DIVU(A0, A1), kS32Min, 1, kS32Min, 0},  // quotient word sign-extended
      {"DDIV -7/2", DDIV(A0, A1), static_cast<uint64_t>(-7), 2, static_cast<uint64_t>(-3), static_cast<uint64_t>(-1)},
      {"DDIVU max/3", DDIVU(A0, A1), ~0ull, 3, 0x5555555555555555ull, 0},
  };
  for (const DivCase& k : cases) {
    Runner x;
    x.r(A0) = k.a;
    x.r(A1) = k.b;
    x.exec(k.insn);
    EXPECT_EQ(x.cpu().s.lo, k.lo) << k.name;
    EXPECT_EQ(x.cpu().s.hi, k.hi) << k.name;
  }
}

// ---- multiply -------------------------------------------------------------------

TEST(Multiply, HighAndLowWordsAreSignExtended) {
  const DivCase cases[] = {
      {"MULT -1*-1", MULT(A0, A1), ~0ull, ~0ull, 1, 0},
      {"MULT min*min", MULT(A0, A1), kS32Min, kS32Min, 0, 0x40000000},
      {"MULT -1*1", MULT(A0, A1), ~0ull, 1, ~0ull, ~0ull},
      {"MULT 0x40000000*2", MULT(A0, A1), 0x40000000, 2, kS32Min, 0},
      {"MULTU max*max", MULTU(A0, A1), ~0ull, ~0ull, 1, 0xfffffffffffffffeull},
      {"MULTU max*1", MULTU(A0, A1), ~0ull, 1, ~0ull, 0},
      {"DMULT -1*2", DMULT(A0, A1), ~0ull, 2, 0xfffffffffffffffeull, ~0ull},
      {"DMULT min*min", DMULT(A0, A1), 1ull << 63, 1ull << 63, 0, 1ull << 62},
      {"DMULTU max*max", DMULTU(A0, A1), ~0ull, ~0ull, 1, 0xfffffffffffffffeull},
      {"DMULTU 2^32*2^32", DMULTU(A0, A1), 1ull << 32, 1ull << 32, 0, 1},
  };
  for (const DivCase& k : cases) {
    Runner x;
    x.r(A0) = k.a;
    x.r(A1) = k.b;
    x.exec(k.insn);
    EXPECT_EQ(x.cpu().s.lo, k.lo) << k.name;
    EXPECT_EQ(x.cpu().s.hi, k.hi) << k.name;
  }
}

TEST(Multiply, MaddMsubAccumulateIntoTheHiLoPair) {
  struct Acc {
    const char* name;
    uint32_t insn;
    uint64_t hi, lo, a, b, rhi, rlo;
  };
  const Acc cases[] = {
      // HI:LO = 0x1_ffffffff + 2*3 = 0x2_00000005
      {"MADD carry", MADD(A0, A1), 1, ~0ull, 2, 3, 2, 5},
      {"MADD negative", MADD(A0, A1), 0, 0, ~0ull, 1, ~0ull, ~0ull},
      {"MADDU", MADDU(A0, A1), 0, 1, ~0ull, ~0ull, 0xfffffffffffffffeull, 2},
      {"MSUB to -1", MSUB(A0, A1), 0, 0, 1, 1, ~0ull, ~0ull},
      {"MSUB borrow", MSUB(A0, A1), 1, 0, 1, 1, 0, ~0ull},
      {"MSUBU", MSUBU(A0, A1), 0, 0, ~0ull, 1, ~0ull, 1},
      {"MADD word sign", MADD(A0, A1), 0, 0x7fffffff, 1, 1, 0, kS32Min},
  };
  for (const Acc& k : cases) {
    Runner x;
    x.cpu().s.hi = k.hi;
    x.cpu().s.lo = k.lo;
    x.r(A0) = k.a;
    x.r(A1) = k.b;
    x.exec(k.insn);
    EXPECT_EQ(x.cpu().s.hi, k.rhi) << k.name;
    EXPECT_EQ(x.cpu().s.lo, k.rlo) << k.name;
  }
}

TEST(Multiply, MfhiMfloMthiMtloMoveFullRegisters) {
  Runner x;
  x.r(A0) = 0x0123456789abcdefull;
  x.r(A1) = 0xfedcba9876543210ull;
  x.run({MTHI(A0), MTLO(A1), MFHI(V0), MFLO(V1)}, 4);
  EXPECT_EQ(x.r(V0), 0x0123456789abcdefull);
  EXPECT_EQ(x.r(V1), 0xfedcba9876543210ull);
}

// ---- shifts -------------------------------------------------------------------------

struct ShiftCase {
  const char* name;
  uint32_t insn;
  uint64_t in, amount, out;
};

TEST(Shift, ImmediateShiftsAtBoundaryAmounts) {
  const uint64_t P = 0x8000000180000001ull;  // bits 63, 32, 31, 0
  const uint64_t W = 0xffffffff80000001ull;  // sign-extended word 0x80000001
  const ShiftCase cases[] = {
      {"SLL 0", SLL(V0, A0, 0), W, 0, W},
      {"SLL 31", SLL(V0, A0, 31), W, 0, kS32Min},
      {"SLL 1 drops bit 31", SLL(V0, A0, 1), W, 0, 2},
      {"SRL 31", SRL(V0, A0, 31), W, 0, 1},
      {"SRA 31", SRA(V0, A0, 31), W, 0, ~0ull},
      {"SRA 0", SRA(V0, A0, 0), W, 0, W},
      {"ROTR 0", ROTR(V0, A0, 0), W, 0, W},
      {"ROTR 1", ROTR(V0, A0, 1), W, 0, 0xffffffffc0000000ull},
      {"ROTR 31", ROTR(V0, A0, 31), W, 0, 3},
      {"DSLL 0", DSLL(V0, A0, 0), P, 0, P},
      {"DSLL 31", DSLL(V0, A0, 31), P, 0, 0xc000000080000000ull},
      {"DSRL 31", DSRL(V0, A0, 31), P, 0, 0x0000000100000003ull},
      {"DSRA 31", DSRA(V0, A0, 31), P, 0, 0xffffffff00000003ull},
      {"DSLL32 0 (=32)", DSLL32(V0, A0, 0), P, 0, 0x8000000100000000ull},
      {"DSLL32 31 (=63)", DSLL32(V0, A0, 31), P, 0, 0x8000000000000000ull},
      {"DSRL32 0 (=32)", DSRL32(V0, A0, 0), P, 0, 0x80000001ull},
      {"DSRL32 31 (=63)", DSRL32(V0, A0, 31), P, 0, 1},
      {"DSRA32 0 (=32)", DSRA32(V0, A0, 0), P, 0, 0xffffffff80000001ull},
      {"DSRA32 31 (=63)", DSRA32(V0, A0, 31), P, 0, ~0ull},
      {"DSRA32 31 positive", DSRA32(V0, A0, 31), 0x7fffffffffffffffull, 0, 0},
      {"DROTR 0", DROTR(V0, A0, 0), P, 0, P},
      {"DROTR 1", DROTR(V0, A0, 1), P, 0, 0xc0000000c0000000ull},
      {"DROTR 31", DROTR(V0, A0, 31), P, 0, 0x0000000300000003ull},
      {"DROTR32 0 (=32)", DROTR32(V0, A0, 0), P, 0, 0x8000000180000001ull},
      {"DROTR32 31 (=63)", DROTR32(V0, A0, 31), P, 0, 0x0000000300000003ull},
  };
  for (const ShiftCase& k : cases) {
    Runner x;
    x.r(A0) = k.in;
    x.exec(k.insn);
    EXPECT_EQ(x.r(V0), k.out) << k.name << std::hex << " got 0x" << x.r(V0);
  }
}

TEST(Shift, VariableShiftsUseOnlyTheLowBitsOfRs) {
  const uint64_t W = 0xffffffff80000001ull;
  const uint64_t P = 0x8000000180000001ull;
  const ShiftCase cases[] = {
      {"SLLV 0", SLLV(V0, A0, A1), W, 0, W},
      {"SLLV 31", SLLV(V0, A0, A1), W, 31, kS32Min},
      {"SLLV 32 -> 0", SLLV(V0, A0, A1), W, 32, W},
      {"SLLV 33 -> 1", SLLV(V0, A0, A1), W, 33, 2},
      {"SLLV high bits ignored", SLLV(V0, A0, A1), 1, 0xffffffffffffffe4ull, 0x10},
      {"SRLV 31", SRLV(V0, A0, A1), W, 31, 1},
      {"SRLV 63 -> 31", SRLV(V0, A0, A1), W, 63, 1},
      {"SRLV 32 -> 0", SRLV(V0, A0, A1), W, 32, W},
      {"SRAV 31", SRAV(V0, A0, A1), W, 31, ~0ull},
      {"SRAV 0x100 -> 0", SRAV(V0, A0, A1), W, 0x100, W},
      {"ROTRV 33 -> 1", ROTRV(V0, A0, A1), W, 33, 0xffffffffc0000000ull},
      {"DSLLV 0", DSLLV(V0, A0, A1), P, 0, P},
      {"DSLLV 63", DSLLV(V0, A0, A1), P, 63, 0x8000000000000000ull},
      {"DSLLV 64 -> 0", DSLLV(V0, A0, A1), P, 64, P},
      {"DSLLV 32", DSLLV(V0, A0, A1), P, 32, 0x8000000100000000ull},
      {"DSRLV 63", DSRLV(V0, A0, A1), P, 63, 1},
      {"DSRLV 0xffc0 -> 0", DSRLV(V0, A0, A1), P, 0xffc0, P},
      {"DSRLV 32", DSRLV(V0, A0, A1), P, 32, 0x80000001ull},
      {"DSRAV 63", DSRAV(V0, A0, A1), P, 63, ~0ull},
      {"DSRAV 32", DSRAV(V0, A0, A1), P, 32, 0xffffffff80000001ull},
      {"DSRAV -1 -> 63", DSRAV(V0, A0, A1), P, ~0ull, ~0ull},
      {"DROTRV 65 -> 1", DROTRV(V0, A0, A1), P, 65, 0xc0000000c0000000ull},
      {"DROTRV 32", DROTRV(V0, A0, A1), P, 32, 0x8000000180000001ull},
  };
  for (const ShiftCase& k : cases) {
    Runner x;
    x.r(A0) = k.in;
    x.r(A1) = k.amount;
    x.exec(k.insn);
    EXPECT_EQ(x.r(V0), k.out) << k.name << std::hex << " got 0x" << x.r(V0);
  }
}

// ---- count leading zeros / ones -------------------------------------------------------

TEST(CountLeading, ZeroAndAllOnesInputs) {
  const ShiftCase cases[] = {
      {"CLZ 0", CLZ(V0, A0), 0, 0, 32},
      {"CLZ -1", CLZ(V0, A0), ~0ull, 0, 0},
      {"CLZ 1", CLZ(V0, A0), 1, 0, 31},
      {"CLO 0", CLO(V0, A0), 0, 0, 0},
      {"CLO -1", CLO(V0, A0), ~0ull, 0, 32},
      {"CLO 0xfffffffe", CLO(V0, A0), 0xfffffffffffffffeull, 0, 31},
      {"DCLZ 0", DCLZ(V0, A0), 0, 0, 64},
      {"DCLZ -1", DCLZ(V0, A0), ~0ull, 0, 0},
      {"DCLZ 2^32", DCLZ(V0, A0), 1ull << 32, 0, 31},
      {"DCLO 0", DCLO(V0, A0), 0, 0, 0},
      {"DCLO -1", DCLO(V0, A0), ~0ull, 0, 64},
      {"DCLO sign-extended word", DCLO(V0, A0), kS32Min, 0, 33},
  };
  for (const ShiftCase& k : cases) {
    Runner x;
    x.r(A0) = k.in;
    x.exec(k.insn);
    EXPECT_EQ(x.r(V0), k.out) << k.name;
  }
}

// ---- bit fields -------------------------------------------------------------------------

struct FieldCase {
  const char* name;
  uint32_t insn;
  uint64_t rs, rt, out;
};

TEST(BitField, ExtractAtBoundaryPositions) {
  const uint64_t S = 0x123456789abcdef1ull;
  const FieldCase cases[] = {
      {"EXT 0,32 sign-extends", EXT(V0, A0, 0, 32), 0x0000000087654321ull, 0, 0xffffffff87654321ull},
      {"EXT 31,1", EXT(V0, A0, 31, 1), 0xffffffff80000000ull, 0, 1},
      {"EXT 0,1", EXT(V0, A0, 0, 1), S, 0, 1},
      {"EXT 4,8", EXT(V0, A0, 4, 8), S, 0, 0xef},
      {"DEXT 0,32 zero-extends", DEXT(V0, A0, 0, 32), 0xffffffff87654321ull, 0, 0x87654321ull},
      {"DEXT 31,1", DEXT(V0, A0, 31, 1), 0x80000000ull, 0, 1},
      {"DEXT 0,1", DEXT(V0, A0, 0, 1), S, 0, 1},
      {"DEXTM 0,64", DEXTM(V0, A0, 0, 64), S, 0, S},
      {"DEXTM 0,33", DEXTM(V0, A0, 0, 33), S, 0, 0x09abcdef1ull},
      {"DEXTM 31,33", DEXTM(V0, A0, 31, 33), ~0ull, 0, 0x1ffffffffull},
      {"DEXTU 63,1", DEXTU(V0, A0, 63, 1), 0x8000000000000000ull, 0, 1},
      {"DEXTU 32,32", DEXTU(V0, A0, 32, 32), S, 0, 0x12345678},
      {"DEXTU 32,1", DEXTU(V0, A0, 32, 1), 1ull << 32, 0, 1},
  };
  for (const FieldCase& k : cases) {
    Runner x;
    x.r(A0) = k.rs;
    x.r(V0) = k.rt;
    x.exec(k.insn);
    EXPECT_EQ(x.r(V0), k.out) << k.name << std::hex << " got 0x" << x.r(V0);
  }
}

TEST(BitField, InsertAtBoundaryPositions) {
  const FieldCase cases[] = {
      {"INS 0,32 replaces and sign-extends", INS(V0, A0, 0, 32), 0x87654321, 0, 0xffffffff87654321ull},
      {"INS 31,1 sets the sign", INS(V0, A0, 31, 1), 1, 0, kS32Min},
      {"INS 0,1", INS(V0, A0, 0, 1), 1, 0x7ffffff0, 0x7ffffff1},
      {"INS 8,8", INS(V0, A0, 8, 8), 0xab, 0x11223344, 0x1122ab44},
      {"DINS 0,1", DINS(V0, A0, 0, 1), ~0ull, 0xf0f0f0f0f0f0f0f0ull, 0xf0f0f0f0f0f0f0f1ull},
      {"DINS 0,32 keeps high word", DINS(V0, A0, 0, 32), 0xffffffffffffffffull, 0x1234567800000000ull,
       0x12345678ffffffffull},
      {"DINS 31,1", DINS(V0, A0, 31, 1), 1, 0, 0x80000000ull},
      {"DINSM 0,64", DINSM(V0, A0, 0, 64), 0x0123456789abcdefull, ~0ull, 0x0123456789abcdefull},
      {"DINSM 0,33", DINSM(V0, A0, 0, 33), ~0ull, 0, 0x1ffffffffull},
      {"DINSM 31,33", DINSM(V0, A0, 31, 33), ~0ull, 0, 0xffffffff80000000ull},
      {"DINSU 63,1", DINSU(V0, A0, 63, 1), 1, 0, 0x8000000000000000ull},
      {"DINSU 32,32", DINSU(V0, A0, 32, 32), 0x89abcdef, 0x0123456776543210ull, 0x89abcdef76543210ull},
      {"DINSU 32,1", DINSU(V0, A0, 32, 1), 1, 0, 1ull << 32},
  };
  for (const FieldCase& k : cases) {
    Runner x;
    x.r(A0) = k.rs;
    x.r(V0) = k.rt;
    x.exec(k.insn);
    EXPECT_EQ(x.r(V0), k.out) << k.name << std::hex << " got 0x" << x.r(V0);
  }
}

// ---- byte shuffles and sign extension --------------------------------------------------

TEST(ByteShuffle, WsbhDsbhDshdSebSeh) {
  const FieldCase cases[] = {
      {"WSBH", WSBH(V0, A0), 0, 0x11223344, 0x22114433},
      {"WSBH sign-extends", WSBH(V0, A0), 0, 0x11802233, 0xffffffff80113322ull},
      {"DSBH", DSBH(V0, A0), 0, 0x0123456789abcdefull, 0x23016745ab89efcdull},
      {"DSHD", DSHD(V0, A0), 0, 0x0123456789abcdefull, 0xcdef89ab45670123ull},
      {"SEB negative", SEB(V0, A0), 0, 0x1234567890abcd80ull, 0xffffffffffffff80ull},
      {"SEB positive", SEB(V0, A0), 0, 0xffffffffffffff7full, 0x7f},
      {"SEH negative", SEH(V0, A0), 0, 0x8000, 0xffffffffffff8000ull},
      {"SEH positive", SEH(V0, A0), 0, 0xffffffffffff7fffull, 0x7fff},
  };
  for (const FieldCase& k : cases) {
    Runner x;
    x.r(A0) = k.rt;  // the source is rt for these
    x.exec(k.insn);
    EXPECT_EQ(x.r(V0), k.out) << k.name << std::hex << " got 0x" << x.r(V0);
  }
}

TEST(RegisterZero, WritesToR0AreDiscarded) {
  Runner x;
  x.r(A0) = 5;
  x.run({ADDIU(ZERO, A0, 1), LUI(ZERO, 0x1234), DSLL(ZERO, A0, 3)}, 3);
  EXPECT_EQ(x.r(ZERO), 0u);
}

}  // namespace
}  // namespace disco::test
