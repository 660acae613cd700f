// The instruction table, the decoder derived from it, and the disassembler.
//
// The table is the single source of truth for encodings, so the tests here
// prove its internal consistency (every pattern decodes to itself, no two
// patterns overlap) and pin a set of reserved encodings that must stay
// reserved (they raise RI on real MIPS64r2 hardware).
#include <gtest/gtest.h>

#include <cctype>
#include <random>
#include <string>
#include <vector>

#include "frontend/decoder.h"
#include "frontend/disasm.h"
#include "frontend/insn.h"
#include "tests/support/encode.h"
#include "tests/support/test_cpu.h"

namespace disco::test {
namespace {

std::string op_name(Op op) { return std::string(info(op).name); }

// All table entries (RESERVED excluded).
std::vector<Op> table_ops() {
  std::vector<Op> v;
  for (size_t k = 0; k < kOpCount; ++k) {
    const Op op = static_cast<Op>(k);
    if (op != Op::RESERVED) v.push_back(op);
  }
  return v;
}

// ---- table shape ------------------------------------------------------------

TEST(InsnTable, EveryEntryHasNameAndPatternOf32Bits) {
  for (Op op : table_ops()) {
    const InsnInfo& in = info(op);
    ASSERT_FALSE(in.name.empty());
    for (char ch : in.name) EXPECT_TRUE(std::isupper(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)) || ch == '_') << in.name;
    EXPECT_FALSE(in.pattern.empty()) << in.name;
    EXPECT_EQ(in.match & ~in.mask, 0u) << in.name << ": match has bits outside the mask";
  }
  EXPECT_EQ(info(Op::RESERVED).name, "RESERVED");
}

TEST(InsnTable, EveryPatternFixesThePrimaryOpcode) {
  // The decoder indexes candidates by bits 31..26.
  for (Op op : table_ops()) EXPECT_EQ(info(op).mask >> 26, 0x3fu) << op_name(op);
}

TEST(InsnTable, NamesAreUnique) {
  const auto ops = table_ops();
  for (size_t a = 0; a < ops.size(); ++a)
    for (size_t b = a + 1; b < ops.size(); ++b) EXPECT_NE(info(ops[a]).name, info(ops[b]).name);
}

// ---- decode: each pattern decodes to its own entry ---------------------------

TEST(Decoder, MatchValueDecodesToItsEntry) {
  for (Op op : table_ops()) EXPECT_EQ(decode(info(op).match), op) << op_name(op);
}

TEST(Decoder, EachFreeBitAloneDecodesToTheEntry) {
  for (Op op : table_ops()) {
    const InsnInfo& in = info(op);
    for (unsigned b = 0; b < 32; ++b) {
      if (in.mask & (1u << b)) continue;
      const uint32_t w = in.match | (1u << b);
      EXPECT_EQ(decode(w), op) << op_name(op) << " with free bit " << b << " set: 0x" << std::hex << w;
    }
    // All free bits set at once.
    EXPECT_EQ(decode(in.match | ~in.mask), op) << op_name(op);
  }
}

TEST(Decoder, RandomFillingsOfFreeBitsDecodeToTheEntry) {
  std::mt19937 rng(12345);
  for (Op op : table_ops()) {
    const InsnInfo& in = info(op);
    for (int k = 0; k < 300; ++k) {
      const uint32_t w = in.match | (static_cast<uint32_t>(rng()) & ~in.mask);
      ASSERT_EQ(decode(w), op) << op_name(op) << ": 0x" << std::hex << w;
    }
  }
}

TEST(Decoder, FlippingAnyFixedBitLeavesTheEntry) {
  // A word that differs from the pattern in a fixed bit is not that entry.
  for (Op op : table_ops()) {
    const InsnInfo& in = info(op);
    for (unsigned b = 0; b < 32; ++b) {
      if (!(in.mask & (1u << b))) continue;
      EXPECT_NE(decode(in.match ^ (1u << b)), op) << op_name(op) << " bit " << b;
    }
  }
}

TEST(Decoder, NoTwoPatternsOverlap) {
  // Two patterns overlap iff no bit is fixed in both with different values.
  const auto ops = table_ops();
  for (size_t a = 0; a < ops.size(); ++a) {
    const InsnInfo& x = info(ops[a]);
    for (size_t b = a + 1; b < ops.size(); ++b) {
      const InsnInfo& y = info(ops[b]);
      if ((x.match >> 26) != (y.match >> 26)) continue;
      EXPECT_NE(x.mask & y.mask & (x.match ^ y.match), 0u) << x.name << " overlaps " << y.name;
    }
  }
}

// ---- reserved encodings --------------------------------------------------------

struct Reserved {
  const char* what;
  uint32_t word;
};

const Reserved kReserved[] = {
    {"opcode 59 (0x3b)", 0x3bu << 26},
    {"opcode 59 with fields", (0x3bu << 26) | 0x01234567},
    {"MDMX opcode 0x1e", 0x1eu << 26},
    {"JALX opcode 0x1d", (0x1du << 26) | 0x100},
    {"SPECIAL funct 0x05", 0x00000005},
    {"SPECIAL funct 0x0e", 0x0000000e},
    {"SPECIAL funct 0x28", 0x00851028},
    {"SPECIAL funct 0x29", 0x00851029},
    {"SPECIAL funct 0x35", 0x00850035},
    {"SPECIAL funct 0x37", 0x00850037},
    {"SPECIAL funct 0x39", 0x00001039},
    {"SPECIAL funct 0x3d", 0x0000103d},
    {"SLL with rs != 0", enc::r(0x00, 1, 3, 2, 4)},
    {"SLL with rs = 31", enc::r(0x00, 31, 3, 2, 4)},
    {"SRL with rs = 2", enc::r(0x02, 2, 3, 2, 4)},
    {"SRA with rs = 1 (no rotate form)", enc::r(0x03, 1, 3, 2, 4)},
    {"SRLV with sa = 2", enc::r(0x06, 4, 3, 2, 2)},
    {"DSRL32 with rs = 3", enc::r(0x3e, 3, 3, 2, 4)},
    {"ADDU with sa != 0", enc::r(0x21, 4, 5, 2, 1)},
    {"MFHI with rs != 0", enc::r(0x10, 1, 0, 2)},
    {"JR with rd != 0", enc::r(0x08, 31, 0, 2)},
    {"MULT with rd != 0", enc::r(0x18, 4, 5, 2)},
    {"SYNC with rs != 0", enc::r(0x0f, 1, 0, 0)},
    {"REGIMM rt = 0x04", enc::regimm(0x04, 4, 0x10)},
    {"REGIMM rt = 0x07", enc::regimm(0x07, 4, 0x10)},
    {"REGIMM rt = 0x0d", enc::regimm(0x0d, 4, 0x10)},
    {"REGIMM rt = 0x14", enc::regimm(0x14, 4, 0x10)},
    {"REGIMM rt = 0x1e", enc::regimm(0x1e, 4, 0x10)},
    {"BLEZ with rt != 0", enc::i(0x06, 4, 1, 0x10)},
    {"LUI with rs != 0", enc::i(0x0f, 4, 1, 0x10)},
    {"SPECIAL2 funct 0x03", enc::special2(0x03, 4, 5, 2)},
    {"SPECIAL2 funct 0x3e", enc::special2(0x3e, 4, 5, 2)},
    {"SPECIAL3 funct 0x3c", enc::special3(0x3c, 4, 5, 2, 0)},
    {"SPECIAL3 BSHFL op 0x03", enc::special3(0x20, 0, 5, 2, 0x03)},
    {"SPECIAL3 DBSHFL op 0x10", enc::special3(0x24, 0, 5, 2, 0x10)},
    {"RDHWR with rs != 0", enc::special3(0x3b, 1, 5, 29, 0)},
    {"COP0 rs = 0x02", enc::cop0(0x02, 5, 12)},
    {"COP0 rs = 0x0f", enc::cop0(0x0f, 5, 12)},
    {"MFC0 with bits 10..3 set", enc::cop0(0x00, 5, 12) | 0x40},
    {"COP0 CO=1 funct 0x00", enc::cop0_co(0x00)},
    {"COP0 CO=1 funct 0x03", enc::cop0_co(0x03)},
    {"COP0 CO=1 funct 0x10", enc::cop0_co(0x10)},
    {"COP0 CO=1 funct 0x3f", enc::cop0_co(0x3f)},
    {"TLBWI with a non-zero field", enc::cop0_co(0x02) | (1u << 11)},
    {"COP1 fmt PS add.ps", (0x11u << 26) | (0x16u << 21) | (4u << 16) | (2u << 11) | (0u << 6) | 0x00},
    {"COP1 fmt PS mul.ps", (0x11u << 26) | (0x16u << 21) | (4u << 16) | (2u << 11) | (6u << 6) | 0x02},
    {"COP1 fmt PS cvt.s.pu", (0x11u << 26) | (0x16u << 21) | (0u << 16) | (2u << 11) | (6u << 6) | 0x20},
    {"COP1 fmt PS c.eq.ps", (0x11u << 26) | (0x16u << 21) | (4u << 16) | (2u << 11) | 0x32},
    {"COP1 fmt W add", (0x11u << 26) | (0x14u << 21) | (4u << 16) | (2u << 11) | 0x00},
    {"COP1 sqrt.s with ft != 0", (0x11u << 26) | (0x10u << 21) | (1u << 16) | (2u << 11) | 0x04},
    {"COP1 rs = 0x09 (BC1ANY2)", (0x11u << 26) | (0x09u << 21) | 0x10},
    {"COP1X funct 0x02", (0x13u << 26) | 0x02},
    {"MIPS-3D recip1.s (funct 0x1d)", (0x11u << 26) | (0x10u << 21) | (2u << 11) | 0x1d},
};

TEST(Decoder, KnownReservedEncodingsDecodeAsReserved) {
  for (const Reserved& r : kReserved)
    EXPECT_EQ(decode(r.word), Op::RESERVED) << r.what << " decoded as " << op_name(decode(r.word));
}

TEST(Decoder, ExecutingReservedEncodingsRaisesRI) {
  for (const Reserved& r : kReserved) {
    TestCpu t;
    t.cpu.s.gpr[2] = 0x1234;
    t.load({r.word});
    t.steps(1);
    EXPECT_EQ(t.exccode(), cp0::EXC_RI) << r.what;
    EXPECT_EQ(t.cpu.s.cp0.epc, kCodeVirt) << r.what;
    EXPECT_EQ(t.cpu.s.pc, 0xffffffff80000180ull) << r.what;
    EXPECT_EQ(t.gpr(2), 0x1234u) << r.what;
  }
}

TEST(Decoder, WellKnownEncodingsDecodeToTheirEntry) {
  EXPECT_EQ(decode(0x27bdffe0), Op::ADDIU);
  EXPECT_EQ(decode(0x0085102d), Op::DADDU);
  EXPECT_EQ(decode(0x03e00008), Op::JR);
  EXPECT_EQ(decode(0x03e00408), Op::JR_HB);
  EXPECT_EQ(decode(0x0320f809), Op::JALR);
  EXPECT_EQ(decode(0x00000000), Op::SLL);  // nop
  EXPECT_EQ(decode(0x000000c0), Op::SLL);  // ehb
  EXPECT_EQ(decode(0x00221902), Op::ROTR);
  EXPECT_EQ(decode(0x42000018), Op::ERET);
  EXPECT_EQ(decode(0x42000020), Op::WAIT);
  EXPECT_EQ(decode(0x42012340 | 0x20), Op::WAIT);  // implementation-defined code
  EXPECT_EQ(decode(0x416c6000), Op::DI);
  EXPECT_EQ(decode(0x416c6020), Op::EI);
  EXPECT_EQ(decode(0x7c03e83b), Op::RDHWR);
  EXPECT_EQ(decode(0x46030a3c), Op::C_S);
  EXPECT_EQ(decode(0x46241000), Op::ADD_D);
  EXPECT_EQ(decode(0x4c0c2000 | 0x21), Op::MADD_D);
  EXPECT_EQ(decode(0x4a000000), Op::COP2);
  EXPECT_EQ(decode(0xc0820000), Op::LL);
  EXPECT_EQ(decode(0xe0820000), Op::SC);
  EXPECT_EQ(decode(0x7c823901), Op::DEXTM);
  EXPECT_EQ(decode(0x7c827a06), Op::DINSU);
}

// ---- flags --------------------------------------------------------------------

bool has(Op op, uint32_t f) { return (info(op).flags & f) != 0; }
unsigned size_flags(Op op) {
  const uint32_t f = info(op).flags;
  return !!(f & F_SIZE1) + !!(f & F_SIZE2) + !!(f & F_SIZE4) + !!(f & F_SIZE8);
}

TEST(InsnFlags, MemoryAccessesHaveExactlyOneSize) {
  for (Op op : table_ops()) {
    const bool mem = has(op, F_LOAD | F_STORE);
    EXPECT_FALSE(has(op, F_LOAD) && has(op, F_STORE)) << op_name(op);
    EXPECT_EQ(size_flags(op), mem ? 1u : 0u) << op_name(op);
    if (has(op, F_UNALIGNED)) { EXPECT_TRUE(mem) << op_name(op); }
  }
}

TEST(InsnFlags, LoadsAndStoresHaveTheirClassAndSize) {
  struct M { Op op; bool load; unsigned size; };
  const M kMem[] = {
      {Op::LB, true, 1},   {Op::LBU, true, 1},  {Op::LH, true, 2},   {Op::LHU, true, 2},
      {Op::LW, true, 4},   {Op::LWU, true, 4},  {Op::LD, true, 8},   {Op::LWL, true, 4},
      {Op::LWR, true, 4},  {Op::LDL, true, 8},  {Op::LDR, true, 8},  {Op::LL, true, 4},
      {Op::LLD, true, 8},  {Op::LWC1, true, 4}, {Op::LDC1, true, 8}, {Op::LWXC1, true, 4},
      {Op::LDXC1, true, 8}, {Op::LUXC1, true, 8},
      {Op::SB, false, 1},  {Op::SH, false, 2},  {Op::SW, false, 4},  {Op::SD, false, 8},
      {Op::SWL, false, 4}, {Op::SWR, false, 4}, {Op::SDL, false, 8}, {Op::SDR, false, 8},
      {Op::SC, false, 4},  {Op::SCD, false, 8}, {Op::SWC1, false, 4}, {Op::SDC1, false, 8},
      {Op::SWXC1, false, 4}, {Op::SDXC1, false, 8}, {Op::SUXC1, false, 8},
  };
  for (const M& m : kMem) {
    EXPECT_EQ(has(m.op, F_LOAD), m.load) << op_name(m.op);
    EXPECT_EQ(has(m.op, F_STORE), !m.load) << op_name(m.op);
    EXPECT_EQ(access_size(info(m.op).flags), m.size) << op_name(m.op);
  }
  for (Op op : {Op::LWL, Op::LWR, Op::LDL, Op::LDR, Op::SWL, Op::SWR, Op::SDL, Op::SDR})
    EXPECT_TRUE(has(op, F_UNALIGNED)) << op_name(op);
  for (Op op : {Op::LW, Op::LD, Op::SW, Op::SD, Op::LL, Op::SC}) EXPECT_FALSE(has(op, F_UNALIGNED)) << op_name(op);
  // Prefetch and cache maintenance access no data.
  for (Op op : {Op::PREF, Op::PREFX, Op::CACHE, Op::SYNCI}) EXPECT_FALSE(has(op, F_LOAD | F_STORE)) << op_name(op);
}

TEST(InsnFlags, BranchesAndJumpsHaveDelaySlotsAndEndBlocks) {
  for (Op op : table_ops()) {
    if (has(op, F_BRANCH)) {
      EXPECT_TRUE(has(op, F_DELAY)) << op_name(op);
      EXPECT_TRUE(has(op, F_ENDS_BLOCK)) << op_name(op);
      EXPECT_FALSE(has(op, F_JUMP)) << op_name(op);
    }
    if (has(op, F_JUMP)) { EXPECT_TRUE(has(op, F_ENDS_BLOCK)) << op_name(op); }
    if (has(op, F_DELAY)) { EXPECT_TRUE(has(op, F_BRANCH | F_JUMP)) << op_name(op); }
    if (has(op, F_LIKELY)) { EXPECT_TRUE(has(op, F_BRANCH)) << op_name(op); }
    if (has(op, F_LINK)) { EXPECT_TRUE(has(op, F_BRANCH | F_JUMP)) << op_name(op); }
  }
  for (Op op : {Op::BEQ, Op::BNE, Op::BLEZ, Op::BGTZ, Op::BLTZ, Op::BGEZ, Op::BLTZAL, Op::BGEZAL, Op::BC1F, Op::BC1T})
    EXPECT_TRUE(has(op, F_BRANCH) && has(op, F_DELAY) && !has(op, F_LIKELY)) << op_name(op);
  for (Op op : {Op::BEQL, Op::BNEL, Op::BLEZL, Op::BGTZL, Op::BLTZL, Op::BGEZL, Op::BLTZALL, Op::BGEZALL, Op::BC1FL,
                Op::BC1TL})
    EXPECT_TRUE(has(op, F_BRANCH) && has(op, F_DELAY) && has(op, F_LIKELY)) << op_name(op);
  for (Op op : {Op::J, Op::JAL, Op::JR, Op::JR_HB, Op::JALR, Op::JALR_HB})
    EXPECT_TRUE(has(op, F_JUMP) && has(op, F_DELAY)) << op_name(op);
  for (Op op : {Op::JAL, Op::JALR, Op::JALR_HB, Op::BLTZAL, Op::BGEZAL, Op::BLTZALL, Op::BGEZALL})
    EXPECT_TRUE(has(op, F_LINK)) << op_name(op);
  for (Op op : {Op::J, Op::JR, Op::BEQ, Op::BLTZ, Op::BEQL}) EXPECT_FALSE(has(op, F_LINK)) << op_name(op);
  // ERET jumps but has no delay slot.
  EXPECT_TRUE(has(Op::ERET, F_JUMP));
  EXPECT_FALSE(has(Op::ERET, F_DELAY));
}

TEST(InsnFlags, PrivilegedFpuCop2And64BitClasses) {
  for (Op op : {Op::MFC0, Op::MTC0, Op::DMFC0, Op::DMTC0, Op::TLBR, Op::TLBWI, Op::TLBWR, Op::TLBP, Op::ERET,
                Op::WAIT, Op::CACHE, Op::DI, Op::EI, Op::RDPGPR, Op::WRPGPR})
    EXPECT_TRUE(has(op, F_PRIV)) << op_name(op);
  for (Op op : {Op::SYSCALL, Op::BREAK, Op::RDHWR, Op::SYNCI, Op::PREF, Op::SYNC, Op::LW}) EXPECT_FALSE(has(op, F_PRIV)) << op_name(op);
  for (Op op : {Op::COP2, Op::LWC2, Op::LDC2, Op::SWC2, Op::SDC2}) EXPECT_TRUE(has(op, F_COP2)) << op_name(op);
  for (Op op : table_ops()) {
    const InsnInfo& in = info(op);
    const unsigned opc = in.match >> 26;
    // Every COP1 / COP1X / LWC1.. entry needs the FPU; nothing else does except MOVF/MOVT.
    const bool cop1 = opc == 0x11 || opc == 0x13 || opc == 0x31 || opc == 0x35 || opc == 0x39 || opc == 0x3d;
    if (cop1) { EXPECT_TRUE(has(op, F_FPU)) << in.name; }
    if (has(op, F_FPU) && !cop1) { EXPECT_TRUE(op == Op::MOVF || op == Op::MOVT) << in.name; }
    if (opc == 0x10) { EXPECT_TRUE(has(op, F_PRIV)) << in.name; }
    // Names starting with D (doubleword) are 64-bit operations, apart from
    // the ones that only share the letter.
    if (in.name[0] == 'D' && op != Op::DIV && op != Op::DIVU && op != Op::DI && op != Op::DERET && op != Op::DIV_S &&
        op != Op::DIV_D) {
      EXPECT_TRUE(has(op, F_64)) << in.name;
    }
  }
  for (Op op : {Op::LD, Op::SD, Op::LWU, Op::LDL, Op::LDR, Op::SDL, Op::SDR, Op::LLD, Op::SCD, Op::DADDIU})
    EXPECT_TRUE(has(op, F_64)) << op_name(op);
  for (Op op : {Op::LW, Op::ADDU, Op::SLL, Op::MFC0, Op::LDC1, Op::SDC1}) EXPECT_FALSE(has(op, F_64)) << op_name(op);
  for (Op op : {Op::ADD, Op::ADDI, Op::SUB, Op::DADD, Op::DADDI, Op::DSUB, Op::SYSCALL, Op::BREAK, Op::TEQ, Op::TEQI})
    EXPECT_TRUE(has(op, F_EXCEPTION)) << op_name(op);
}

// ---- disassembler -------------------------------------------------------------

struct Dis {
  uint32_t word;
  uint64_t pc;
  const char* text;
};

// Reference: mips64el-linux-gnuabi64-objdump -d -M gpr-names=n64, with our
// conventions: numbers in decimal except immediates of logical ops, codes and
// addresses; CP0 registers by number; "sa" printed as encoded.
const Dis kDis[] = {
    {0x00000000, 0, "nop"},
    {0x00000040, 0, "ssnop"},
    {0x000000c0, 0, "ehb"},
    {0x27bdffe0, 0, "addiu   sp, sp, -32"},
    {0x0085102d, 0, "daddu   v0, a0, a1"},
    {0x8fac0008, 0, "lw      t0, 8(sp)"},
    {0xffbffff8, 0, "sd      ra, -8(sp)"},
    {0x3c018000, 0, "lui     at, 0x8000"},
    {0x3484ffff, 0, "ori     a0, a0, 0xffff"},
    {0x000317c0, 0, "sll     v0, v1, 31"},
    {0x000e697f, 0, "dsra32  t1, t2, 5"},
    {0x10800001, 0x20, "beq     a0, zero, 0x28"},
    {0x5485ffff, 0x28, "bnel    a0, a1, 0x28"},
    {0x0611ffe9, 0x80, "bgezal  s0, 0x28"},
    {0x10800001, 0xffffffff80001000ull, "beq     a0, zero, 0xffffffff80001008"},
    {0x0c100040, 0x2c, "jal     0x400100"},
    {0x0c100040, 0xffffffff8000002cull, "jal     0xffffffff80400100"},
    {0x03e00008, 0, "jr      ra"},
    {0x0320f809, 0, "jalr    ra, t9"},
    {0x0000048c, 0, "syscall 0x12"},
    {0x0007000d, 0, "break   0x1c00"},
    {0x00800034, 0, "teq     a0, zero"},
    {0x400c6000, 0, "mfc0    t0, $12"},
    {0x40ad7000, 0, "dmtc0   t1, $14"},
    {0x408e8001, 0, "mtc0    t2, $16, 1"},
    {0x42000018, 0, "eret"},
    {0x42000002, 0, "tlbwi"},
    {0x42000020, 0, "wait"},
    {0x7c8220c0, 0, "ext     v0, a0, 3, 5"},
    {0x7c827a06, 0, "dinsu   v0, a0, 40, 8"},
    {0x7c823901, 0, "dextm   v0, a0, 4, 40"},
    {0x7c03e83b, 0, "rdhwr   v1, $29"},
    {0x0000000f, 0, "sync    0"},
    {0xbc940000, 0, "cache   0x14, 0(a0)"},
    {0xcca00010, 0, "pref    0x0, 16(a1)"},
    {0x00850018, 0, "mult    a0, a1"},
    {0x00001012, 0, "mflo    v0"},
    {0x46241000, 0, "add.d   $f0, $f2, $f4"},
    {0x46030a3c, 0, "c.lt.s  $fcc2, $f1, $f3"},
    {0xc7a50004, 0, "lwc1    $f5, 4(sp)"},
    {0x416c6000, 0, "di      t0"},
    {0xc0820000, 0, "ll      v0, 0(a0)"},
    {0xe0820000, 0, "sc      v0, 0(a0)"},
    {0x7c031420, 0, "seb     v0, v1"},
    {0x0085100a, 0, "movz    v0, a0, a1"},
    {0xec000000, 0, "reserved 0xec000000"},
};

TEST(Disasm, PrintsExpectedTextForRepresentativeEncodings) {
  for (const Dis& d : kDis) EXPECT_EQ(disassemble(d.word, d.pc), d.text) << std::hex << "0x" << d.word;
}

TEST(Disasm, EveryEntryDisassemblesWithItsMnemonicAndNoUnknownToken) {
  std::mt19937 rng(7);
  for (Op op : table_ops()) {
    const InsnInfo& in = info(op);
    for (int k = 0; k < 8; ++k) {
      const uint32_t w = in.match | (static_cast<uint32_t>(rng()) & ~in.mask);
      if (w == 0 || w == 0x40 || w == 0xc0) continue;
      const std::string text = disassemble(w, 0x1000);
      EXPECT_EQ(text.find('?'), std::string::npos) << in.name << ": " << text;
      std::string mn;
      for (char ch : in.name) mn += ch == '_' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (op == Op::C_S || op == Op::C_D) mn = "c.";
      EXPECT_EQ(text.rfind(mn, 0), 0u) << in.name << ": " << text;
    }
  }
}

TEST(Disasm, GprNamesFollowTheN64Abi) {
  EXPECT_STREQ(gpr_name(0), "zero");
  EXPECT_STREQ(gpr_name(4), "a0");
  EXPECT_STREQ(gpr_name(11), "a7");
  EXPECT_STREQ(gpr_name(12), "t0");
  EXPECT_STREQ(gpr_name(25), "t9");
  EXPECT_STREQ(gpr_name(29), "sp");
  EXPECT_STREQ(gpr_name(31), "ra");
}

}  // namespace
}  // namespace disco::test
