// Loads and stores (MIPS64 Vol. II): extension of narrow loads, alignment
// exceptions, the unaligned LWL/LWR/LDL/LDR/SWL/SWR/SDL/SDR pairs in both
// byte orders, LL/SC, and stores into code that already ran.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "tests/interp/interp_test_util.h"

namespace disco::test {
namespace {

using namespace enc;

// ---- narrow loads: sign vs zero extension ------------------------------------

TEST(Load, NarrowLoadsSignOrZeroExtend) {
  const uint8_t bytes[8] = {0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87};
  struct C {
    const char* name;
    uint32_t insn;
    uint64_t le, be;
  };
  const C cases[] = {
      {"LB", LB(V0, A0, 0), 0xffffffffffffff80ull, 0xffffffffffffff80ull},
      {"LBU", LBU(V0, A0, 0), 0x80, 0x80},
      {"LH", LH(V0, A0, 0), 0xffffffffffff8180ull, 0xffffffffffff8081ull},
      {"LHU", LHU(V0, A0, 0), 0x8180, 0x8081},
      {"LW", LW(V0, A0, 0), 0xffffffff83828180ull, 0xffffffff80818283ull},
      {"LWU", LWU(V0, A0, 0), 0x83828180ull, 0x80818283ull},
      {"LD", LD(V0, A0, 0), 0x8786858483828180ull, 0x8081828384858687ull},
      {"LB offset 7", LB(V0, A0, 7), 0xffffffffffffff87ull, 0xffffffffffffff87ull},
      {"LHU offset 6", LHU(V0, A0, 6), 0x8786, 0x8687},
      {"LWU offset 4", LWU(V0, A0, 4), 0x87868584ull, 0x84858687ull},
  };
  for (bool be : {false, true}) {
    for (const C& k : cases) {
      Runner x(CpuConfig{.big_endian = be});
      x.t.bus.write_bytes(kDataPhys, bytes, 8);
      x.r(A0) = kDataVirt;
      x.exec(k.insn);
      EXPECT_EQ(x.r(V0), be ? k.be : k.le) << k.name << (be ? " BE" : " LE");
    }
  }
}

TEST(Load, PositiveValuesZeroFillTheUpperBits) {
  Runner x;
  const uint8_t bytes[8] = {0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x00, 0x00, 0x00};
  x.t.bus.write_bytes(kDataPhys, bytes, 8);
  x.r(A0) = kDataVirt;
  x.r(V0) = ~0ull;
  x.exec(LW(V0, A0, 0));
  EXPECT_EQ(x.r(V0), 0x7f7f7f7fu);
  x.exec(LB(V0, A0, 0));
  EXPECT_EQ(x.r(V0), 0x7fu);
}

TEST(Store, NarrowStoresWriteOnlyTheirBytesInGuestOrder) {
  for (bool be : {false, true}) {
    Runner x(CpuConfig{.big_endian = be});
    const uint8_t fill[16] = {0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee,
                              0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee};
    x.t.bus.write_bytes(kDataPhys, fill, 16);
    x.r(A0) = kDataVirt;
    x.r(A1) = 0x0102030405060708ull;
    x.run({SB(A1, A0, 1), SH(A1, A0, 2), SW(A1, A0, 4), SD(A1, A0, 8)}, 4);
    uint8_t got[16];
    x.t.bus.read_bytes(kDataPhys, got, 16);
    const uint8_t le[16] = {0xee, 0x08, 0x08, 0x07, 0x08, 0x07, 0x06, 0x05, 8, 7, 6, 5, 4, 3, 2, 1};
    const uint8_t bee[16] = {0xee, 0x08, 0x07, 0x08, 0x05, 0x06, 0x07, 0x08, 1, 2, 3, 4, 5, 6, 7, 8};
    EXPECT_EQ(std::memcmp(got, be ? bee : le, 16), 0) << (be ? "BE" : "LE");
  }
}

// ---- alignment ------------------------------------------------------------------

TEST(Alignment, MisalignedLoadsRaiseAdELWithBadVAddr) {
  struct C {
    const char* name;
    uint32_t insn;
    int off;
  };
  const C cases[] = {
      {"LH +1", LH(V0, A0, 1), 1},   {"LHU +3", LHU(V0, A0, 3), 3}, {"LW +2", LW(V0, A0, 2), 2},
      {"LW +1", LW(V0, A0, 1), 1},   {"LWU +3", LWU(V0, A0, 3), 3}, {"LD +4", LD(V0, A0, 4), 4},
      {"LD +1", LD(V0, A0, 1), 1},   {"LL +2", LL(V0, A0, 2), 2},   {"LLD +4", LLD(V0, A0, 4), 4},
  };
  for (const C& k : cases) {
    Runner x;
    x.r(A0) = kDataVirt;
    x.r(V0) = 0x77;
    const uint64_t pc = x.exec(k.insn);
    SCOPED_TRACE(k.name);
    x.expect_exception(cp0::EXC_AdEL, pc);
    EXPECT_EQ(x.cpu().s.cp0.badvaddr, kDataVirt + k.off);
    EXPECT_EQ(x.r(V0), 0x77u);
  }
}

TEST(Alignment, MisalignedStoresRaiseAdESAndDoNotWrite) {
  struct C {
    const char* name;
    uint32_t insn;
    int off;
  };
  const C cases[] = {
      {"SH +1", SH(A1, A0, 1), 1}, {"SW +2", SW(A1, A0, 2), 2}, {"SW +3", SW(A1, A0, 3), 3},
      {"SD +4", SD(A1, A0, 4), 4}, {"SD +6", SD(A1, A0, 6), 6}, {"SC +1", SC(A1, A0, 1), 1},
  };
  for (const C& k : cases) {
    Runner x;
    x.r(A0) = kDataVirt;
    x.r(A1) = ~0ull;
    const uint64_t pc = x.exec(k.insn);
    SCOPED_TRACE(k.name);
    x.expect_exception(cp0::EXC_AdES, pc);
    EXPECT_EQ(x.cpu().s.cp0.badvaddr, kDataVirt + k.off);
    EXPECT_EQ(x.t.bus.read64(kDataPhys), 0u);
  }
}

TEST(Alignment, AlignedAccessAfterAMisalignedOneStillWorks) {
  // A misaligned access must not poison the soft TLB for the page.
  Runner x;
  x.t.bus.write32(kDataPhys + 4, 0x11223344);
  x.r(A0) = kDataVirt;
  x.exec(LW(V0, A0, 4));
  x.exec(LW(V0, A0, 6));
  EXPECT_EQ(x.exccode(), cp0::EXC_AdEL);
  x.cpu().s.cp0.status &= ~cp0::Status_EXL;
  x.cpu().mode_changed();
  x.exec(LW(V1, A0, 4));
  EXPECT_EQ(x.r(V1), 0x11223344u);
}

// ---- unaligned pairs ---------------------------------------------------------------
//
// Reference model, from the manual's byte-string description: LWL/LDL take
// the bytes from the addressed byte to the end of the aligned unit that is
// "more significant" first in memory order (towards higher addresses in big
// endian, lower in little endian) and put them in the register from its most
// significant byte down; LWR/LDR take the bytes in the other direction and
// put them from the least significant byte up. Stores are the inverse.

// Memory offsets (relative to the aligned unit) touched by a left/right
// access at offset o, in the order they map onto register bytes.
std::vector<unsigned> lr_offsets(unsigned n, unsigned o, bool left, bool be) {
  std::vector<unsigned> v;
  const bool upward = left == be;  // BE left and LE right walk up
  if (upward)
    for (unsigned i = o; i < n; ++i) v.push_back(i);
  else
    for (int i = static_cast<int>(o); i >= 0; --i) v.push_back(static_cast<unsigned>(i));
  return v;
}

// Register byte index (0 = least significant) for the k-th byte taken.
unsigned reg_byte(unsigned n, unsigned k, bool left) { return left ? n - 1 - k : k; }

uint64_t ref_load(const uint8_t* unit, unsigned n, unsigned o, bool left, bool be, uint64_t old) {
  const auto offs = lr_offsets(n, o, left, be);
  uint64_t r = old;
  for (unsigned k = 0; k < offs.size(); ++k) {
    const unsigned b = reg_byte(n, k, left);
    r = (r & ~(0xffull << (8 * b))) | (static_cast<uint64_t>(unit[offs[k]]) << (8 * b));
  }
  return r;
}

void ref_store(uint8_t* unit, unsigned n, unsigned o, bool left, bool be, uint64_t reg) {
  const auto offs = lr_offsets(n, o, left, be);
  for (unsigned k = 0; k < offs.size(); ++k) unit[offs[k]] = static_cast<uint8_t>(reg >> (8 * reg_byte(n, k, left)));
}

uint64_t sext32v(uint64_t v) { return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v))); }

const uint8_t kMem[16] = {0x81, 0x12, 0x93, 0x24, 0xa5, 0x36, 0xb7, 0x48,
                          0xc9, 0x5a, 0xdb, 0x6c, 0xed, 0x7e, 0xff, 0x00};
constexpr uint64_t kOld = 0x0123456789abcdefull;

TEST(UnalignedLoad, LwlLwrEveryAlignmentBothEndians) {
  for (bool be : {false, true}) {
    for (bool left : {true, false}) {
      for (unsigned o = 0; o < 4; ++o) {
        Runner x(CpuConfig{.big_endian = be});
        x.t.bus.write_bytes(kDataPhys, kMem, 16);
        x.r(A0) = kDataVirt + 4;  // second word, so o indexes kMem + 4
        x.r(V0) = kOld;
        x.exec(left ? LWL(V0, A0, static_cast<int>(o)) : LWR(V0, A0, static_cast<int>(o)));
        const uint64_t word = ref_load(kMem + 4, 4, o, left, be, kOld) & 0xffffffffull;
        SCOPED_TRACE(testing::Message() << (be ? "BE " : "LE ") << (left ? "LWL" : "LWR") << " offset " << o);
        EXPECT_FALSE(x.cpu().s.cp0.status & cp0::Status_EXL);
        // The loaded word's sign bit reaches bits 63..32 whenever the
        // register's byte 3 came from memory (always for LWL; for LWR only
        // when the full word is loaded — otherwise the manual lets the upper
        // half be either unchanged or sign-extended, so only the word is checked).
        const bool full_sign = left || (be ? o == 3 : o == 0);
        if (full_sign) {
          EXPECT_EQ(x.r(V0), sext32v(word)) << std::hex << x.r(V0);
        } else {
          EXPECT_EQ(x.r(V0) & 0xffffffffull, word) << std::hex << x.r(V0);
        }
      }
    }
  }
}

TEST(UnalignedLoad, LdlLdrEveryAlignmentBothEndians) {
  for (bool be : {false, true}) {
    for (bool left : {true, false}) {
      for (unsigned o = 0; o < 8; ++o) {
        Runner x(CpuConfig{.big_endian = be});
        x.t.bus.write_bytes(kDataPhys, kMem, 16);
        x.r(A0) = kDataVirt + 8;
        x.r(V0) = kOld;
        x.exec(left ? LDL(V0, A0, static_cast<int>(o)) : LDR(V0, A0, static_cast<int>(o)));
        EXPECT_EQ(x.r(V0), ref_load(kMem + 8, 8, o, left, be, kOld))
            << (be ? "BE " : "LE ") << (left ? "LDL" : "LDR") << " offset " << o << std::hex << " got " << x.r(V0);
      }
    }
  }
}

TEST(UnalignedLoad, LwlLwrPairLoadsAnUnalignedWord) {
  for (bool be : {false, true}) {
    for (unsigned a = 0; a < 8; ++a) {
      Runner x(CpuConfig{.big_endian = be});
      x.t.bus.write_bytes(kDataPhys, kMem, 16);
      x.r(A0) = kDataVirt;
      const int lo = static_cast<int>(a), hi = static_cast<int>(a + 3);
      // Big endian: lwl a / lwr a+3. Little endian: lwr a / lwl a+3.
      if (be)
        x.run({LWL(V0, A0, lo), LWR(V0, A0, hi)}, 2);
      else
        x.run({LWR(V0, A0, lo), LWL(V0, A0, hi)}, 2);
      uint32_t w = 0;
      for (unsigned i = 0; i < 4; ++i) {
        const uint32_t b = kMem[a + i];
        w |= be ? b << (8 * (3 - i)) : b << (8 * i);
      }
      EXPECT_EQ(x.r(V0), sext32v(w)) << (be ? "BE" : "LE") << " address +" << a;
    }
  }
}

TEST(UnalignedLoad, LdlLdrPairLoadsAnUnalignedDoubleword) {
  for (bool be : {false, true}) {
    for (unsigned a = 0; a < 8; ++a) {
      Runner x(CpuConfig{.big_endian = be});
      x.t.bus.write_bytes(kDataPhys, kMem, 16);
      x.r(A0) = kDataVirt;
      const int lo = static_cast<int>(a), hi = static_cast<int>(a + 7);
      if (be)
        x.run({LDL(V0, A0, lo), LDR(V0, A0, hi)}, 2);
      else
        x.run({LDR(V0, A0, lo), LDL(V0, A0, hi)}, 2);
      uint64_t d = 0;
      for (unsigned i = 0; i < 8; ++i) {
        const uint64_t b = kMem[a + i];
        d |= be ? b << (8 * (7 - i)) : b << (8 * i);
      }
      EXPECT_EQ(x.r(V0), d) << (be ? "BE" : "LE") << " address +" << a;
    }
  }
}

TEST(UnalignedStore, SwlSwrSdlSdrEveryAlignmentBothEndians) {
  constexpr uint64_t kReg = 0x8182838485868788ull;
  for (bool be : {false, true}) {
    for (unsigned n : {4u, 8u}) {
      for (bool left : {true, false}) {
        for (unsigned o = 0; o < n; ++o) {
          Runner x(CpuConfig{.big_endian = be});
          x.t.bus.write_bytes(kDataPhys, kMem, 16);
          x.r(A0) = kDataVirt + 8;
          x.r(A1) = kReg;
          const int off = static_cast<int>(o);
          const uint32_t insn = n == 4 ? (left ? SWL(A1, A0, off) : SWR(A1, A0, off))
                                       : (left ? SDL(A1, A0, off) : SDR(A1, A0, off));
          x.exec(insn);
          uint8_t want[16];
          std::memcpy(want, kMem, 16);
          ref_store(want + 8, n, o, left, be, kReg);
          uint8_t got[16];
          x.t.bus.read_bytes(kDataPhys, got, 16);
          for (unsigned i = 0; i < 16; ++i)
            EXPECT_EQ(got[i], want[i]) << (be ? "BE " : "LE ") << (n == 4 ? (left ? "SWL" : "SWR") : (left ? "SDL" : "SDR"))
                                       << " offset " << o << " byte " << i;
        }
      }
    }
  }
}

TEST(UnalignedStore, SwlSwrAndSdlSdrPairsStoreUnalignedValues) {
  for (bool be : {false, true}) {
    for (unsigned a = 0; a < 8; ++a) {
      Runner x(CpuConfig{.big_endian = be});
      x.r(A0) = kDataVirt;
      x.r(A1) = 0xffffffff80c1d2e3ull;
      x.r(A2) = 0x0102030405060708ull;
      const int lo = static_cast<int>(a);
      if (be)
        x.run({SWL(A1, A0, lo), SWR(A1, A0, lo + 3), SDL(A2, A0, lo + 16), SDR(A2, A0, lo + 23)}, 4);
      else
        x.run({SWR(A1, A0, lo), SWL(A1, A0, lo + 3), SDR(A2, A0, lo + 16), SDL(A2, A0, lo + 23)}, 4);
      uint8_t got[32];
      x.t.bus.read_bytes(kDataPhys, got, 32);
      for (unsigned i = 0; i < 4; ++i) {
        const uint8_t wb = static_cast<uint8_t>(0x80c1d2e3u >> (8 * (be ? 3 - i : i)));
        EXPECT_EQ(got[a + i], wb) << (be ? "BE" : "LE") << " word at +" << a << " byte " << i;
      }
      for (unsigned i = 0; i < 8; ++i) {
        const uint8_t db = static_cast<uint8_t>(0x0102030405060708ull >> (8 * (be ? 7 - i : i)));
        EXPECT_EQ(got[16 + a + i], db) << (be ? "BE" : "LE") << " doubleword at +" << a << " byte " << i;
      }
      // Nothing outside the stored ranges changed.
      for (unsigned i = 0; i < 16; ++i)
        if (i < a || i >= a + 4) {
          EXPECT_EQ(got[i], 0) << "byte " << i;
        }
    }
  }
}

// ---- LL / SC ----------------------------------------------------------------------

TEST(LoadLinked, ScSucceedsWithoutInterveningStore) {
  Runner x;
  x.t.bus.write32(kDataPhys, 41);
  x.r(A0) = kDataVirt;
  x.run({LL(V0, A0, 0), ADDIU(V1, V0, 1), SC(V1, A0, 0)}, 3);
  EXPECT_EQ(x.r(V0), 41u);
  EXPECT_EQ(x.r(V1), 1u);  // success flag
  EXPECT_EQ(x.t.bus.read32(kDataPhys), 42u);
}

TEST(LoadLinked, LlSignExtendsAndLldLoadsDoubleword) {
  Runner x;
  x.t.bus.write64(kDataPhys, 0x11223344f0000000ull);
  x.r(A0) = kDataVirt;
  x.run({LL(V0, A0, 0), LLD(V1, A0, 0)}, 2);
  EXPECT_EQ(x.r(V0), 0xfffffffff0000000ull);
  EXPECT_EQ(x.r(V1), 0x11223344f0000000ull);
}

TEST(LoadLinked, ScFailsAfterAnInterveningStoreThatChangesTheValue) {
  // Our defined behaviour (as QEMU): SC fails when memory no longer holds
  // the value LL read.
  Runner x;
  x.t.bus.write32(kDataPhys, 7);
  x.r(A0) = kDataVirt;
  x.r(A1) = 99;
  x.run({LL(V0, A0, 0), SW(A1, A0, 0), ADDIU(V1, ZERO, 5), SC(V1, A0, 0)}, 4);
  EXPECT_EQ(x.r(V1), 0u);
  EXPECT_EQ(x.t.bus.read32(kDataPhys), 99u);
}

TEST(LoadLinked, ScFailsAfterExceptionAndEret) {
  Runner x;
  x.t.bus.write32(kDataPhys, 7);
  // General exception handler: skip the faulting instruction and return.
  x.t.load({MFC0(26, 14), ADDIU(26, 26, 4), MTC0(26, 14), ERET}, 0x180);
  x.cpu().code_written(0);
  x.r(A0) = kDataVirt;
  x.run({LL(V0, A0, 0), SYSCALL, ADDIU(V1, ZERO, 5), SC(V1, A0, 0)}, 1 + 1 + 4 + 2);
  EXPECT_EQ(x.exccode(), cp0::EXC_Sys);
  EXPECT_FALSE(x.cpu().s.cp0.status & cp0::Status_EXL);
  EXPECT_EQ(x.r(V1), 0u);  // ERET cleared LLbit
  EXPECT_EQ(x.t.bus.read32(kDataPhys), 7u);
}

TEST(LoadLinked, ScToADifferentAddressFailsWithoutStoring) {
  Runner x;
  x.t.bus.write32(kDataPhys, 7);
  x.t.bus.write32(kDataPhys + 8, 8);
  x.r(A0) = kDataVirt;
  x.run({LL(V0, A0, 0), ADDIU(V1, ZERO, 5), SC(V1, A0, 8)}, 3);
  EXPECT_EQ(x.r(V1), 0u);
  EXPECT_EQ(x.t.bus.read32(kDataPhys + 8), 8u);
  EXPECT_EQ(x.t.bus.read32(kDataPhys), 7u);
}

TEST(LoadLinked, ScWithoutLlFailsAndSecondScAfterSuccessFails) {
  Runner x;
  x.r(A0) = kDataVirt;
  x.r(V1) = 5;
  x.exec(SC(V1, A0, 0));
  EXPECT_EQ(x.r(V1), 0u);
  EXPECT_EQ(x.t.bus.read32(kDataPhys), 0u);
  x.r(A1) = 6;
  x.r(A2) = 7;
  x.run({LL(V0, A0, 0), SC(A1, A0, 0), SC(A2, A0, 0)}, 3);
  EXPECT_EQ(x.r(A1), 1u);
  EXPECT_EQ(x.r(A2), 0u);
  EXPECT_EQ(x.t.bus.read32(kDataPhys), 6u);
}

TEST(LoadLinked, ScdStoresTheDoubleword) {
  Runner x;
  x.r(A0) = kDataVirt;
  x.r(V1) = 0x0102030405060708ull;
  x.run({LLD(V0, A0, 0), SCD(V1, A0, 0)}, 2);
  EXPECT_EQ(x.r(V1), 1u);
  EXPECT_EQ(x.t.bus.read64(kDataPhys), 0x0102030405060708ull);
}

// ---- self-modifying code --------------------------------------------------------------

TEST(SelfModifyingCode, StoreOverExecutedInstructionRunsTheNewOne) {
  Runner x;
  x.r(A1) = ADDIU(V0, V0, 100);
  // 0: addiu v0, v0, 1   1: sw a1, 0(a0)   2: beq zero, zero, 0   3: nop
  const uint64_t pc = x.place({ADDIU(V0, V0, 1), SW(A1, A0, 0), BEQ(0, 0, -3), NOP});
  x.r(A0) = pc;
  x.t.steps(5);
  EXPECT_EQ(x.r(V0), 101u);
  EXPECT_EQ(x.cpu().s.pc, pc + 4);
}

TEST(SelfModifyingCode, StoreToTheNextInstructionTakesEffect) {
  Runner x;
  x.r(A1) = ADDIU(V1, ZERO, 7);
  const uint64_t pc = x.place({SW(A1, A0, 8), NOP, ADDIU(V1, ZERO, 1)});
  x.r(A0) = pc;
  x.t.steps(3);
  EXPECT_EQ(x.r(V1), 7u);
}

TEST(SelfModifyingCode, RepeatedPatchingOfTheSamePage) {
  Runner x;
  // Patch the loop body twice through the fast store path as well.
  const uint64_t pc = x.place({ADDIU(V0, V0, 1), SW(A1, A0, 0), SW(A2, A0, 0), BEQ(0, 0, -4), NOP});
  x.r(A0) = pc;
  x.r(A1) = ADDIU(V0, V0, 10);
  x.r(A2) = ADDIU(V0, V0, 100);
  x.t.steps(6);
  EXPECT_EQ(x.r(V0), 101u);
}

}  // namespace
}  // namespace disco::test
