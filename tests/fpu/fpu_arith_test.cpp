// FPU arithmetic: every operation in S and D, rounding modes, NaNs,
// conversions, MADD rounding, FS flushing. Expected values marked "QEMU"
// were observed with qemu-mips64el -cpu MIPS64R2-generic.
#include <cmath>

#include "tests/fpu/fpu_fixture.h"

namespace disco::test {
namespace {

using namespace fenc;

TEST(FpuArith, SingleOpsKeepUpperHalf) {
  FpuCpu t;
  t.setf(2, 1.0f);
  t.setf(4, 3.0f);
  t.run({ADD(S, 0, 2, 4)});
  EXPECT_EQ(t.f(0), 0x1111222240800000ull);  // QEMU: upper word kept
  EXPECT_EQ(t.fcsr(), 0u);
}

TEST(FpuArith, BasicOpsBothFormats) {
  FpuCpu t;
  t.setf(2, 6.0f);
  t.setf(4, 1.5f);
  t.setd(6, 6.0);
  t.setd(8, 1.5);
  t.run({ADD(S, 10, 2, 4), SUB(S, 11, 2, 4), MUL(S, 12, 2, 4), DIV(S, 13, 2, 4), U1(4, S, 14, 4),
         ADD(D, 16, 6, 8), SUB(D, 17, 6, 8), MUL(D, 18, 6, 8), DIV(D, 19, 6, 8), U1(4, D, 20, 8)});
  EXPECT_EQ(t.getf(10), 7.5f);
  EXPECT_EQ(t.getf(11), 4.5f);
  EXPECT_EQ(t.getf(12), 9.0f);
  EXPECT_EQ(t.getf(13), 4.0f);
  EXPECT_EQ(t.getf(14), std::sqrt(1.5f));
  EXPECT_EQ(t.getd(16), 7.5);
  EXPECT_EQ(t.getd(17), 4.5);
  EXPECT_EQ(t.getd(18), 9.0);
  EXPECT_EQ(t.getd(19), 4.0);
  EXPECT_EQ(t.getd(20), std::sqrt(1.5));
  EXPECT_EQ(t.fcsr() & flags(XV | XZ | XO | XU), 0u);
}

TEST(FpuArith, AbsNegMovAreBitOpsWithoutCause) {
  FpuCpu t;
  t.fcsr() = cause(XI) | flags(XI);
  t.f(2) = 0xaaaabbbb3f800000ull;
  t.f(3) = kQNaN32;
  t.f(4) = 0xffc00000u;  // negative signalling NaN
  t.setd(6, -2.5);
  t.run({U1(7, S, 10, 2), U1(7, S, 11, 3), U1(5, S, 12, 4), U1(6, S, 13, 2), U1(5, D, 14, 6), U1(7, D, 15, 6),
         U1(6, D, 16, 6)});
  EXPECT_EQ(t.f(10), 0x11112222bf800000ull);
  EXPECT_EQ(t.f(11), 0x11112222ff800001ull);  // QEMU: sign flipped, no Invalid
  EXPECT_EQ(t.f(12), 0x111122227fc00000ull);
  EXPECT_EQ(t.f(13), 0x111122223f800000ull);
  EXPECT_EQ(t.getd(14), 2.5);
  EXPECT_EQ(t.getd(15), 2.5);
  EXPECT_EQ(t.getd(16), -2.5);
  EXPECT_EQ(t.fcsr(), cause(XI) | flags(XI));  // untouched
}

TEST(FpuArith, RoundingModesOnDivision) {
  // 1/3 in each mode (QEMU: RN ...ab, RZ/RM ...aa, RP ...ab).
  const uint32_t expect_s[4] = {0x3eaaaaab, 0x3eaaaaaa, 0x3eaaaaab, 0x3eaaaaaa};
  for (uint32_t rm = 0; rm < 4; ++rm) {
    FpuCpu t;
    t.fcsr() = rm;
    t.setf(2, 1.0f);
    t.setf(4, 3.0f);
    t.setf(6, -1.0f);
    t.setd(8, 1.0);
    t.setd(10, 3.0);
    t.run({DIV(S, 0, 2, 4), DIV(S, 1, 6, 4), DIV(D, 12, 8, 10)});
    EXPECT_EQ(t.lo(0), expect_s[rm]) << rm;
    // -1/3: RP rounds toward zero, RM away from it.
    const uint32_t expect_neg[4] = {0xbeaaaaab, 0xbeaaaaaa, 0xbeaaaaaa, 0xbeaaaaab};
    EXPECT_EQ(t.lo(1), expect_neg[rm]) << rm;
    const uint64_t expect_d[4] = {0x3fd5555555555555ull, 0x3fd5555555555555ull, 0x3fd5555555555556ull,
                                  0x3fd5555555555555ull};
    EXPECT_EQ(t.f(12), expect_d[rm]) << rm;
    EXPECT_EQ(t.fcsr(), rm | cause(XI) | flags(XI)) << rm;
  }
}

TEST(FpuArith, RoundingModesOnAddAndSqrt) {
  // 1 + 2^-24 is a tie in single precision.
  const uint32_t expect_add[4] = {0x3f800000, 0x3f800000, 0x3f800001, 0x3f800000};
  const uint32_t expect_sqrt2[4] = {0x3fb504f3, 0x3fb504f3, 0x3fb504f4, 0x3fb504f3};
  for (uint32_t rm = 0; rm < 4; ++rm) {
    FpuCpu t;
    t.fcsr() = rm;
    t.setf(2, 1.0f);
    t.setf(4, 0x1p-24f);
    t.setf(6, 2.0f);
    t.run({ADD(S, 0, 2, 4), U1(4, S, 1, 6)});
    EXPECT_EQ(t.lo(0), expect_add[rm]) << rm;
    EXPECT_EQ(t.lo(1), expect_sqrt2[rm]) << rm;
  }
}

TEST(FpuArith, NaNsGiveDefaultNaN) {
  FpuCpu t;
  t.f(2) = kQNaN32;
  t.setf(3, 1.0f);
  t.f(4) = kSNaN32;
  t.f(5) = 0xff812345u;
  t.run({ADD(S, 10, 2, 3)});
  EXPECT_EQ(t.f(10), (kJunk & ~0xffffffffull) | kDefNaN32);  // QEMU
  EXPECT_EQ(t.fcsr(), 0u);  // quiet NaN: nothing raised
  t.run({ADD(S, 10, 3, 5)});
  EXPECT_EQ(t.lo(10), kDefNaN32);
  EXPECT_EQ(t.fcsr(), 0u);
  t.run({MUL(S, 11, 4, 3)});
  EXPECT_EQ(t.lo(11), kDefNaN32);
  EXPECT_EQ(t.fcsr(), cause(XV) | flags(XV));  // signalling NaN: Invalid
  t.fcsr() = 0;
  t.f(6) = kQNaN64;
  t.f(7) = kSNaN64;
  t.setd(8, 1.0);
  t.run({ADD(D, 12, 6, 8)});
  EXPECT_EQ(t.f(12), kDefNaN64);
  EXPECT_EQ(t.fcsr(), 0u);
  t.run({DIV(D, 12, 8, 7)});
  EXPECT_EQ(t.f(12), kDefNaN64);
  EXPECT_EQ(t.fcsr(), cause(XV) | flags(XV));
}

TEST(FpuArith, InvalidOperations) {
  FpuCpu t;
  t.f(2) = 0x7f800000u;  // +inf
  t.f(3) = 0xff800000u;  // -inf
  t.setf(4, -1.0f);
  t.setf(5, 0.0f);
  t.run({ADD(S, 10, 2, 3)});
  EXPECT_EQ(t.lo(10), kDefNaN32);
  EXPECT_EQ(t.fcsr(), cause(XV) | flags(XV));
  t.fcsr() = 0;
  t.run({U1(4, S, 11, 4)});  // sqrt(-1)
  EXPECT_EQ(t.lo(11), kDefNaN32);
  EXPECT_EQ(t.fcsr(), cause(XV) | flags(XV));
  t.fcsr() = 0;
  t.run({DIV(S, 12, 5, 5)});  // 0/0
  EXPECT_EQ(t.lo(12), kDefNaN32);
  EXPECT_EQ(t.fcsr(), cause(XV) | flags(XV));
  t.fcsr() = 0;
  t.setd(6, 0.0);
  t.f(8) = 0x7ff0000000000000ull;
  t.run({MUL(D, 14, 6, 8)});  // 0*inf
  EXPECT_EQ(t.f(14), kDefNaN64);
  EXPECT_EQ(t.fcsr(), cause(XV) | flags(XV));
}

TEST(FpuArith, DivideByZeroOverflowUnderflow) {
  FpuCpu t;
  t.setf(2, 1.0f);
  t.setf(3, 0.0f);
  t.run({DIV(S, 10, 2, 3)});
  EXPECT_EQ(t.lo(10), 0x7f800000u);
  EXPECT_EQ(t.fcsr(), cause(XZ) | flags(XZ));  // QEMU 0x8020
  t.fcsr() = 0;
  t.f(4) = 0x7f000000u;
  t.run({MUL(S, 11, 4, 4)});
  EXPECT_EQ(t.lo(11), 0x7f800000u);
  EXPECT_EQ(t.fcsr(), cause(XO | XI) | flags(XO | XI));  // QEMU 0x5014
  t.fcsr() = 0;
  t.f(5) = 0x00800001u;
  t.setf(6, 0.5f);
  t.run({MUL(S, 12, 5, 6)});
  EXPECT_EQ(t.lo(12), 0x00400000u);
  EXPECT_EQ(t.fcsr(), cause(XU | XI) | flags(XU | XI));  // QEMU 0x300c
  t.fcsr() = 0;
  t.f(5) = 0x00800000u;
  t.run({MUL(S, 12, 5, 6)});  // exact subnormal: no Underflow
  EXPECT_EQ(t.lo(12), 0x00400000u);
  EXPECT_EQ(t.fcsr(), 0u);
  // Overflow in RZ gives the largest finite number.
  t.fcsr() = 1;
  t.run({MUL(S, 11, 4, 4)});
  EXPECT_EQ(t.lo(11), 0x7f7fffffu);
  EXPECT_EQ(t.fcsr(), 1u | cause(XO | XI) | flags(XO | XI));
}

TEST(FpuArith, RecipAndRsqrt) {
  FpuCpu t;
  t.setf(2, 4.0f);
  t.setf(3, 0.0f);
  t.setd(4, 4.0);
  t.setf(6, 2.0f);
  t.run({U1(21, S, 10, 2), U1(22, S, 11, 2), U1(21, D, 12, 4), U1(22, D, 14, 4)});
  EXPECT_EQ(t.getf(10), 0.25f);
  EXPECT_EQ(t.getf(11), 0.5f);
  EXPECT_EQ(t.getd(12), 0.25);
  EXPECT_EQ(t.getd(14), 0.5);
  EXPECT_EQ(t.fcsr(), 0u);
  t.run({U1(21, S, 10, 3)});
  EXPECT_EQ(t.lo(10), 0x7f800000u);
  EXPECT_EQ(t.fcsr(), cause(XZ) | flags(XZ));
  t.fcsr() = 0;
  t.run({U1(22, S, 10, 6)});  // rsqrt(2): sqrt rounded, then divided
  EXPECT_EQ(t.lo(10), 0x3f3504f3u);  // QEMU
  EXPECT_EQ(t.fcsr(), cause(XI) | flags(XI));
}

TEST(FpuArith, MaddRoundsTwice) {
  FpuCpu t;
  t.f(2) = 0xbf800000u;  // fr = -1
  t.f(3) = 0x3f800001u;  // fs = 1 + 2^-23
  t.f(4) = 0x3f7ffffeu;  // ft = 1 - 2^-23
  t.run({MADDX(4, 0, 10, 2, 3, 4)});
  EXPECT_EQ(t.f(10), kJunk & ~0xffffffffull);  // QEMU: +0 (fused would be -2^-46)
  EXPECT_EQ(t.fcsr(), cause(XI) | flags(XI));
  t.fcsr() = 0;
  t.f(12) = 0xbff0000000000000ull;
  t.f(13) = 0x3ff0000000000001ull;
  t.f(14) = 0x3feffffffffffffeull;
  t.run({MADDX(4, 1, 16, 12, 13, 14)});
  EXPECT_EQ(t.f(16), 0u);
  EXPECT_EQ(t.fcsr(), cause(XI) | flags(XI));
}

TEST(FpuArith, MaddFamily) {
  FpuCpu t;
  t.setf(2, 1.0f);   // fr
  t.setf(3, 2.0f);   // fs
  t.setf(4, 3.0f);   // ft
  t.setd(6, 1.0);
  t.setd(8, 2.0);
  t.setd(10, 3.0);
  t.run({MADDX(4, 0, 20, 2, 3, 4), MADDX(5, 0, 21, 2, 3, 4), MADDX(6, 0, 22, 2, 3, 4), MADDX(7, 0, 23, 2, 3, 4),
         MADDX(4, 1, 24, 6, 8, 10), MADDX(5, 1, 26, 6, 8, 10), MADDX(6, 1, 28, 6, 8, 10),
         MADDX(7, 1, 30, 6, 8, 10)});
  EXPECT_EQ(t.getf(20), 7.0f);
  EXPECT_EQ(t.getf(21), 5.0f);
  EXPECT_EQ(t.getf(22), -7.0f);
  EXPECT_EQ(t.getf(23), -5.0f);
  EXPECT_EQ(t.getd(24), 7.0);
  EXPECT_EQ(t.getd(26), 5.0);
  EXPECT_EQ(t.getd(28), -7.0);
  EXPECT_EQ(t.getd(30), -5.0);
  EXPECT_EQ(t.fcsr(), 0u);
}

TEST(FpuArith, NmaddNegatesDefaultNaN) {
  FpuCpu t;
  t.f(2) = kQNaN32;
  t.setf(3, 1.0f);
  t.run({MADDX(6, 0, 10, 2, 3, 3)});
  EXPECT_EQ(t.lo(10), 0xffbfffffu);  // QEMU
  EXPECT_EQ(t.fcsr(), 0u);
  t.f(4) = 0xff800000u;  // -inf + inf*1
  t.f(5) = 0x7f800000u;
  t.run({MADDX(6, 0, 10, 4, 5, 3)});
  EXPECT_EQ(t.lo(10), 0xffbfffffu);
  EXPECT_EQ(t.fcsr(), cause(XV) | flags(XV));
}

TEST(FpuArith, FlushToZero) {
  FpuCpu t;
  t.fcsr() = 1u << 24;
  t.f(2) = 0x00800001u;
  t.setf(3, 0.5f);
  t.run({MUL(S, 10, 2, 3)});
  EXPECT_EQ(t.lo(10), 0u);
  EXPECT_EQ(t.fcsr(), 1u << 24);  // QEMU: no Underflow, no Inexact
  t.f(4) = 0x00ffffffu;  // * 0.5 would round up to the smallest normal
  t.run({MUL(S, 10, 4, 3)});
  EXPECT_EQ(t.lo(10), 0u);
  EXPECT_EQ(t.fcsr(), 1u << 24);
  t.f(5) = 0x80000001u;  // denormal input + 0: flushed output (sign kept)
  t.setf(6, -0.0f);
  t.run({ADD(S, 10, 5, 6)});
  EXPECT_EQ(t.lo(10), 0x80000000u);
  t.f(7) = 0x00800000u;  // smallest normal * 1 stays
  t.setf(8, 1.0f);
  t.run({MUL(S, 10, 7, 8)});
  EXPECT_EQ(t.lo(10), 0x00800000u);
  // Rounds down to the smallest normal from above: kept.
  t.fcsr() = (1u << 24) | 1;  // RZ
  t.f(9) = 0x00800001u;
  t.f(11) = 0x3f7fffffu;
  t.run({MUL(S, 10, 9, 11)});
  EXPECT_EQ(t.lo(10), 0x00800000u);
  EXPECT_EQ(t.fcsr() & cause(XI), cause(XI));
  // Double precision.
  t.fcsr() = 1u << 24;
  t.f(12) = 0x0010000000000001ull;
  t.setd(14, 0.5);
  t.run({MUL(D, 16, 12, 14)});
  EXPECT_EQ(t.f(16), 0u);
  EXPECT_EQ(t.fcsr(), 1u << 24);
}

TEST(FpuConvert, ToWordAllModes) {
  struct Case {
    unsigned funct;
    float in;
    int32_t out;
  } cases[] = {
      {12, 2.5f, 2},  {12, 3.5f, 4},  {12, -2.5f, -2}, {13, 2.7f, 2},   {13, -2.7f, -2},
      {14, 2.1f, 3},  {14, -2.7f, -2}, {15, 2.7f, 2},  {15, -2.1f, -3},
  };
  for (const auto& k : cases) {
    FpuCpu t;
    t.setf(2, k.in);
    t.setd(4, k.in);
    t.run({U1(k.funct, S, 10, 2), U1(k.funct, D, 11, 4)});
    EXPECT_EQ(static_cast<int32_t>(t.lo(10)), k.out) << k.funct << " " << k.in;
    EXPECT_EQ(static_cast<int32_t>(t.lo(11)), k.out) << k.funct << " " << k.in;
    EXPECT_EQ(t.f(10) >> 32, kJunk >> 32);
    EXPECT_EQ(t.fcsr(), cause(XI) | flags(XI));
  }
}

TEST(FpuConvert, CvtUsesFcsrMode) {
  const int32_t expect[4] = {-3, -2, -2, -3};
  for (uint32_t rm = 0; rm < 4; ++rm) {
    FpuCpu t;
    t.fcsr() = rm;
    t.setf(2, -2.7f);
    t.setd(4, -2.7);
    t.run({U1(36, S, 10, 2), U1(37, D, 12, 4), U1(37, S, 13, 2)});
    EXPECT_EQ(static_cast<int32_t>(t.lo(10)), expect[rm]) << rm;
    EXPECT_EQ(static_cast<int64_t>(t.f(12)), expect[rm]) << rm;
    EXPECT_EQ(static_cast<int64_t>(t.f(13)), expect[rm]) << rm;
  }
}

TEST(FpuConvert, InvalidToIntegerGivesMaxPositive) {
  FpuCpu t;
  t.f(2) = 0x501502f9u;  // 1e10f
  t.f(3) = kQNaN32;
  t.setd(4, -3e9);
  t.setd(6, -1e30);
  t.f(8) = kQNaN64;
  t.run({U1(36, S, 10, 2)});
  EXPECT_EQ(t.lo(10), 0x7fffffffu);
  EXPECT_EQ(t.fcsr(), cause(XV) | flags(XV));  // QEMU 0x10040: no Inexact
  t.fcsr() = 0;
  t.run({U1(13, S, 10, 3)});
  EXPECT_EQ(t.lo(10), 0x7fffffffu);
  EXPECT_EQ(t.fcsr(), cause(XV) | flags(XV));
  t.run({U1(36, D, 11, 4), U1(37, D, 12, 6), U1(9, D, 13, 8)});
  EXPECT_EQ(t.lo(11), 0x7fffffffu);
  EXPECT_EQ(t.f(12), 0x7fffffffffffffffull);
  EXPECT_EQ(t.f(13), 0x7fffffffffffffffull);
}

TEST(FpuConvert, FloatFormats) {
  FpuCpu t;
  t.setd(2, 1.0 / 3.0);
  t.setf(4, 0.1f);
  t.f(5) = kSNaN32;
  t.f(6) = kQNaN32;
  t.f(8) = kQNaN64;
  t.run({U1(32, D, 10, 2)});  // cvt.s.d
  EXPECT_EQ(t.f(10), 0x111122223eaaaaabull);
  EXPECT_EQ(t.fcsr(), cause(XI) | flags(XI));
  t.fcsr() = 0;
  t.run({U1(33, S, 12, 4)});  // cvt.d.s exact
  EXPECT_EQ(t.getd(12), static_cast<double>(0.1f));
  EXPECT_EQ(t.fcsr(), 0u);
  t.run({U1(33, S, 12, 6)});
  EXPECT_EQ(t.f(12), kDefNaN64);
  EXPECT_EQ(t.fcsr(), 0u);
  t.run({U1(33, S, 12, 5)});
  EXPECT_EQ(t.f(12), kDefNaN64);
  EXPECT_EQ(t.fcsr(), cause(XV) | flags(XV));
  t.fcsr() = 0;
  t.run({U1(32, D, 10, 8)});
  EXPECT_EQ(t.lo(10), kDefNaN32);
  EXPECT_EQ(t.fcsr(), 0u);
  // Double -> single overflow.
  t.setd(2, 1e300);
  t.run({U1(32, D, 10, 2)});
  EXPECT_EQ(t.lo(10), 0x7f800000u);
  EXPECT_EQ(t.fcsr(), cause(XO | XI) | flags(XO | XI));
}

TEST(FpuConvert, FromIntegers) {
  FpuCpu t;
  t.f(2) = 0x80000000ffffffffull;  // W = -1 (upper half ignored)
  t.f(3) = 0x7fffffffffffffffull;
  t.f(4) = 16777217;  // 2^24 + 1: inexact as single
  t.run({U1(33, W, 10, 2), U1(32, W, 11, 2), U1(32, L, 12, 3)});
  EXPECT_EQ(t.getd(10), -1.0);  // QEMU
  EXPECT_EQ(t.getf(11), -1.0f);
  EXPECT_EQ(t.lo(12), 0x5f000000u);
  EXPECT_EQ(t.fcsr(), cause(XI) | flags(XI));
  t.fcsr() = 2;  // RP
  t.run({U1(32, W, 13, 4), U1(33, L, 14, 3)});
  EXPECT_EQ(t.lo(13), 0x4b800001u);
  EXPECT_EQ(t.f(14), 0x43e0000000000000ull);
}

TEST(FpuCompare, AllConditionsOrderedAndUnordered) {
  // cond bit 0: unordered, 1: equal, 2: less.
  struct Pair {
    uint32_t a, b;
    bool lt, eq, un;
  } pairs[] = {
      {fbits(1.0f), fbits(2.0f), true, false, false},
      {fbits(2.0f), fbits(2.0f), false, true, false},
      {fbits(3.0f), fbits(2.0f), false, false, false},
      {fbits(0.0f), fbits(-0.0f), false, true, false},
      {kQNaN32, fbits(2.0f), false, false, true},
  };
  for (const auto& p : pairs) {
    for (unsigned cond = 0; cond < 16; ++cond) {
      for (unsigned cc : {0u, 5u}) {
        FpuCpu t;
        t.f(2) = p.a;
        t.f(4) = p.b;
        const uint32_t bit = cc ? 1u << (24 + cc) : 1u << 23;
        t.fcsr() = bit;  // preset, so a false result must clear it
        t.run({C(S, cond, cc, 2, 4)});
        const bool expect = ((cond & 1) && p.un) || ((cond & 2) && p.eq) || ((cond & 4) && p.lt);
        EXPECT_EQ((t.fcsr() & bit) != 0, expect) << cond << " " << p.a;
        const bool invalid = p.un && (cond & 8);
        EXPECT_EQ(t.fcsr() & ~bit, invalid ? cause(XV) | flags(XV) : 0u) << cond;
        // D format too.
        FpuCpu u;
        u.setd(2, static_cast<double>(std::bit_cast<float>(p.a)));
        u.setd(4, static_cast<double>(std::bit_cast<float>(p.b)));
        if (p.un) u.f(2) = kQNaN64;
        u.run({C(D, cond, cc, 2, 4)});
        EXPECT_EQ((u.fcsr() & bit) != 0, expect) << "D " << cond;
      }
    }
  }
}

TEST(FpuCompare, SignallingNaNAlwaysInvalid) {
  FpuCpu t;
  t.f(2) = kSNaN32;
  t.setf(4, 1.0f);
  t.run({C(S, 2, 1, 2, 4)});  // c.eq.s
  EXPECT_EQ(t.fcsr(), cause(XV) | flags(XV));  // QEMU 0x10040
}

}  // namespace
}  // namespace disco::test
