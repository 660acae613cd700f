#include "tests/difftest/generator.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "frontend/decoder.h"

namespace disco::difftest {
namespace {

using namespace field;

// ---- the exclusion list ------------------------------------------------------
bool is_op(uint32_t w, Op op) { return decode(w) == op; }
bool bad_rdhwr_cc(uint32_t w) { return is_op(w, Op::RDHWR) && rd(w) == 2; }
bool bad_rdhwr_ulr(uint32_t w) { return is_op(w, Op::RDHWR) && rd(w) == 29; }
bool bad_never_taken(uint32_t w) {
  const Op op = decode(w);
  return (op == Op::BNE && rs(w) == rt(w)) || ((op == Op::BLTZ || op == Op::BGTZ) && rs(w) == 0);
}
bool bad_link_rs31(uint32_t w) {
  const Op op = decode(w);
  return (op == Op::BLTZAL || op == Op::BGEZAL || op == Op::BLTZALL || op == Op::BGEZALL) && rs(w) == 31;
}
bool bad_jalr_rd_rs(uint32_t w) {
  const Op op = decode(w);
  return (op == Op::JALR || op == Op::JALR_HB) && rd(w) == rs(w);
}
bool bad_clz_rt(uint32_t w) {
  const Op op = decode(w);
  return (op == Op::CLZ || op == Op::CLO || op == Op::DCLZ || op == Op::DCLO) && rt(w) != rd(w);
}
bool bad_bitfield(uint32_t w) {
  const unsigned pos = sa(w), f = rd(w);
  switch (decode(w)) {
    case Op::EXT: return pos + f + 1 > 32;
    case Op::DEXTM: return pos + f + 33 > 64;
    case Op::DEXTU: return pos + 32 + f + 1 > 64;
    case Op::INS:
    case Op::DINS:
    case Op::DINSU: return f < pos;
    default: return false;
  }
}
bool bad_sc(uint32_t w) {
  const Op op = decode(w);
  if (op != Op::SC && op != Op::SCD) return false;
  const unsigned size = op == Op::SC ? 4 : 8;
  return rs(w) != kBaseReg || (simm(w) & (size - 1)) != 0;
}
bool bad_cfc1_fir(uint32_t w) { return is_op(w, Op::CFC1) && fs(w) == 0; }
bool bad_synci(uint32_t w) { return is_op(w, Op::SYNCI) && rs(w) != kBaseReg; }
bool bad_random_base_store(uint32_t w) {
  const Op op = decode(w);
  return (info(op).flags & F_STORE) && uses_mem_operand(op) && !(info(op).flags & (F_PRIV | F_COP2)) &&
         rs(w) != kBaseReg;
}
bool writes_reserved(uint32_t w);

constexpr Exclusion kExclusions[] = {
    {"SYSCALL", "runs a real host syscall under QEMU with a random v0 (it could exit, unmap or write)",
     Op::SYSCALL, nullptr},
    {"SDBBP", "aborts qemu-mips64el 7.2 (\"unhandled CPU exception 0x10\"): the run dies", Op::SDBBP, nullptr},
    {"RESERVED words", "QEMU ignores many reserved fields (runner quirk 6) and runs opcode 0x1e and "
     "SPECIAL funct 0x05 as NOPs (quirk 3); only table encodings are generated", Op::RESERVED, nullptr},
    {"RDHWR $2 (CC)", "the cycle counter: QEMU's value is not stable", Op::RESERVED, &bad_rdhwr_cc},
    {"RDHWR $29 (UserLocal)", "QEMU returns the runner's TLS pointer", Op::RESERVED, &bad_rdhwr_ulr},
    {"BNE rs,rs / BLTZ $0 / BGTZ $0", "never taken: QEMU translates them as NOPs and the next instruction "
     "loses its delay-slot status, so a fault there reports the slot's pc (quirk 4)", Op::RESERVED,
     &bad_never_taken},
    {"BLTZAL/BGEZAL/BLTZALL/BGEZALL with rs = ra", "UNPREDICTABLE (the link overwrites the operand)",
     Op::RESERVED, &bad_link_rs31},
    {"JALR rd = rs", "UNPREDICTABLE (not restartable)", Op::RESERVED, &bad_jalr_rd_rs},
    {"CLZ/CLO/DCLZ/DCLO with rt != rd", "the manual requires rt = rd; other encodings are UNPREDICTABLE",
     Op::RESERVED, &bad_clz_rt},
    {"EXT/DEXTM/DEXTU pos+size out of range, INS/DINS/DINSU msb < lsb", "UNPREDICTABLE field "
     "combinations (QEMU raises RI for some)", Op::RESERVED, &bad_bitfield},
    {"SC/SCD misaligned or outside the data window", "QEMU compares the address with the LL address "
     "first and fails the SC without checking alignment; the architecture raises AdES", Op::RESERVED,
     &bad_sc},
    {"CFC1 rt, $0 (FIR)", "implementation-specific: QEMU's MIPS64R2-generic reports 3D/PS and another "
     "implementation number", Op::RESERVED, &bad_cfc1_fir},
    {"SYNCI with a base other than s7", "QEMU runs SYNCI as a NOP and never faults; the architecture "
     "faults like a load", Op::RESERVED, &bad_synci},
    {"stores through a random base register", "with guest_base = 0 a random address could land in "
     "QEMU's or the runner's own memory; stores always use s7 (loads may use any base)", Op::RESERVED,
     &bad_random_base_store},
    {"32-bit operations on non-sign-extended registers", "UNPREDICTABLE (NotWordValue); QEMU's results "
     "are artefacts of its 64-bit code (ADD checks overflow on bit 63, SRA shifts the 64-bit value). "
     "Enforced by the generator's word-value tracking, not per word", Op::COUNT, nullptr},
    {"SC/SCD without a fresh LL of the same width on every path", "QEMU keeps its LL address across "
     "records and never clears it on an SC (a stale link can succeed there); LLD+SC and LL+SCD are "
     "UNPREDICTABLE and QEMU stores while reporting failure. Such an SC is turned into an LL by the "
     "generator (path analysis), not per word", Op::COUNT, nullptr},
    {"writes to s6/s7", "s7 is the data-window base and s6 the JR/JALR target register; only the "
     "LUI/ORI pair before a JR/JALR writes s6", Op::RESERVED, &writes_reserved},
};

// ---- per-op facts derived from the table -------------------------------------
struct OpFacts {
  char letter[32];  // pattern letter of bit b (letter[b]); '0'/'1' for fixed bits
  bool rt_dest;     // rt may be written (restricted to non-reserved registers)
  bool rd_dest;
  bool mem;
};

std::array<OpFacts, kOpCount> make_facts() {
  std::array<OpFacts, kOpCount> facts{};
  for (size_t i = 0; i < kOpCount; ++i) {
    const InsnInfo& in = kInsnTable[i];
    OpFacts& f = facts[i];
    std::memset(f.letter, '0', sizeof f.letter);
    int bit = 31;
    for (char ch : in.pattern) {
      if (ch == ' ') continue;
      if (bit >= 0) f.letter[bit] = ch;
      --bit;
    }
    f.mem = in.operands.find("mem") != std::string_view::npos;
    // The destination is the first operand, if it is rd or rt (stores,
    // except SC/SCD, and moves to coprocessors read rt instead).
    const std::string_view first = in.operands.substr(0, in.operands.find(','));
    const bool rt_source = ((in.flags & F_STORE) && in.name != "SC" && in.name != "SCD") || in.name == "MTC1" ||
                           in.name == "DMTC1" || in.name == "CTC1" || in.name == "MTHC1" || in.name == "MTC0" ||
                           in.name == "DMTC0";
    f.rt_dest = first == "rt" && f.letter[16] == 't' && !rt_source;
    f.rd_dest = first == "rd" && f.letter[11] == 'd';
  }
  return facts;
}
const std::array<OpFacts, kOpCount>& facts() {
  static const std::array<OpFacts, kOpCount> f = make_facts();
  return f;
}
const OpFacts& facts(Op op) { return facts()[static_cast<size_t>(op)]; }

bool writes_reserved(uint32_t w) {
  const Op op = decode(w);
  const OpFacts& f = facts(op);
  if (info(op).flags & (F_PRIV | F_COP2)) return false;  // never executes
  auto reserved = [](unsigned r) { return r == kBaseReg || r == kJumpReg; };
  if (f.rt_dest && reserved(rt(w))) {
    // The LUI/ORI pair before a register jump is the only writer of s6.
    if (!((op == Op::LUI || op == Op::ORI) && rt(w) == kJumpReg && (op == Op::LUI || rs(w) == kJumpReg)))
      return true;
  }
  if (f.rd_dest && reserved(rd(w))) return true;
  return false;
}

// ---- NotWordValue tracking -----------------------------------------------------
// 32-bit operations on a register that does not hold a sign-extended 32-bit
// value are UNPREDICTABLE (MIPS64 manual: "if NotWordValue(GPR[rt]) then
// UNPREDICTABLE"), and QEMU's choices there are artefacts of its 64-bit TCG
// code (ADD checks overflow on bit 63, SRA shifts the 64-bit value...). The
// generator tracks, along the (forward-only) control flow, which registers
// surely hold word values, and gives such operations only those.
// State: bits 0..31 GPRs, bit 32 HI, bit 33 LO.
constexpr uint64_t kHiOk = 1ull << 32, kLoOk = 1ull << 33;
enum : unsigned { kFieldRs = 1, kFieldRt = 2 };

unsigned word_inputs(Op op) {
  switch (op) {
    case Op::ADD: case Op::ADDU: case Op::SUB: case Op::SUBU:
    case Op::MULT: case Op::MULTU: case Op::DIV: case Op::DIVU:
    case Op::MADD: case Op::MADDU: case Op::MSUB: case Op::MSUBU: case Op::MUL:
      return kFieldRs | kFieldRt;
    case Op::ADDI: case Op::ADDIU: case Op::CLZ: case Op::CLO:
      return kFieldRs;
    case Op::SRA: case Op::SRL: case Op::ROTR: case Op::SRAV: case Op::SRLV: case Op::ROTRV:
    case Op::INS: case Op::WSBH:
      return kFieldRt;
    default:
      return 0;
  }
}

int dest_of(uint32_t w) {
  const Op op = decode(w);
  const OpFacts& f = facts(op);
  if (f.rd_dest) return static_cast<int>(rd(w));
  if (f.rt_dest) return static_cast<int>(rt(w));
  return -1;
}

uint64_t transfer(uint64_t st, uint32_t w) {
  const Op op = decode(w);
  const InsnInfo& in = info(op);
  if (in.flags & (F_PRIV | F_COP2)) return st;  // never completes
  auto ok = [&](unsigned r) { return ((st >> r) & 1) != 0; };
  switch (op) {
    case Op::MULT: case Op::MULTU: case Op::DIV: case Op::DIVU:
    case Op::MADD: case Op::MADDU: case Op::MSUB: case Op::MSUBU:
      st |= kHiOk | kLoOk;
      break;
    case Op::DMULT: case Op::DMULTU: case Op::DDIV: case Op::DDIVU:
      st &= ~(kHiOk | kLoOk);
      break;
    case Op::MTHI: st = ok(rs(w)) ? st | kHiOk : st & ~kHiOk; break;
    case Op::MTLO: st = ok(rs(w)) ? st | kLoOk : st & ~kLoOk; break;
    default: break;
  }
  if ((in.flags & F_LINK) && op != Op::JALR && op != Op::JALR_HB) st |= 1ull << 31;
  const int d = dest_of(w);
  if (d > 0) {
    bool word;
    switch (op) {
      case Op::MFHI: word = st & kHiOk; break;
      case Op::MFLO: word = st & kLoOk; break;
      case Op::AND: case Op::OR: case Op::XOR: case Op::NOR: word = ok(rs(w)) && ok(rt(w)); break;
      case Op::ORI: case Op::XORI: word = ok(rs(w)); break;
      case Op::MOVZ: case Op::MOVN: case Op::MOVF: case Op::MOVT: word = ok(rd(w)) && ok(rs(w)); break;
      case Op::DCLZ: case Op::DCLO: word = true; break;
      case Op::DMFC1: word = false; break;
      default: word = !(in.flags & F_64); break;
    }
    st = word ? st | (1ull << d) : st & ~(1ull << d);
  }
  return st | 1;  // zero is always a word
}

// ---- random numbers -------------------------------------------------------------
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) { return static_cast<uint32_t>((next() >> 32) * n >> 32); }
  bool chance(unsigned percent) { return below(100) < percent; }
};

uint64_t sext32v(uint32_t v) { return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v))); }

constexpr uint64_t kBoundary[] = {
    0, 1, ~0ull, 2, 0xffffffff80000000ull, 0x7fffffff, 0x80000000ull, 0xffffffffull,
    0x8000000000000000ull, 0x7fffffffffffffffull, 0x100000000ull, 0xffffffff00000000ull, 0x7fff, 0x8000,
    0xffff, 0xffffffffffff8000ull, 31, 32, 63, 64, 0xfffffffffffffffeull, 0x7ffffffe, 0xffffffff7fffffffull,
};

// A register value: small, boundary, sign-extended 32-bit, non-sign-extended
// 32-bit, or any 64-bit value.
uint64_t value64(Rng& r) {
  const unsigned k = r.below(100);
  if (k < 18) return static_cast<uint64_t>(static_cast<int64_t>(r.below(33)) - 16);
  if (k < 38) return kBoundary[r.below(sizeof kBoundary / sizeof kBoundary[0])];
  if (k < 63) return sext32v(static_cast<uint32_t>(r.next()));
  if (k < 75) {  // a 32-bit value that is not properly sign-extended
    const uint32_t lo = static_cast<uint32_t>(r.next());
    return r.chance(50) ? static_cast<uint64_t>(lo | 0x80000000u) : (sext32v(lo) ^ (1ull << (32 + r.below(32))));
  }
  return r.next();
}

uint64_t fpr_value(Rng& r) {
  static constexpr uint64_t kFp[] = {
      0, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull, 0x7ff0000000000000ull,
      0xfff0000000000000ull, 0x7ff8000000000000ull, 0x7ff4000000000000ull, 0x0000000000000001ull,
      0x000fffffffffffffull, 0x7fefffffffffffffull, 0x3f800000ull, 0xbf800000ull, 0x7f800000ull,
      0x7fc00000ull, 0x7fa00000ull, 0x00000001ull, 0x007fffffull, 0x7f7fffffull, 0x4f000000ull,
      0x43e0000000000000ull, 0x41e0000000000000ull,
  };
  const unsigned k = r.below(100);
  if (k < 30) return kFp[r.below(sizeof kFp / sizeof kFp[0])];
  if (k < 50) {  // a "normal" double near 1
    return (0x3f0ull + r.below(32)) << 52 | (r.next() >> 12) | (r.chance(50) ? 1ull << 63 : 0);
  }
  if (k < 70) {  // a single in the low word, random upper word
    const uint32_t s = ((0x70u + r.below(32)) << 23) | (static_cast<uint32_t>(r.next()) >> 9) |
                       (r.chance(50) ? 0x80000000u : 0);
    return (r.chance(50) ? 0 : r.next() << 32) | s;
  }
  return value64(r);
}

// ---- instruction construction ------------------------------------------------
enum Category { kAlu, kMem, kLlsc, kControl, kExc, kPriv, kFpu, kCategories };

struct Tables {
  std::vector<Op> by_cat[kCategories];
};

Category category(Op op) {
  const InsnInfo& in = info(op);
  if (in.flags & (F_PRIV | F_COP2)) return kPriv;
  if (in.flags & F_FPU) return kFpu;
  if (in.flags & F_DELAY) return kControl;
  if (op == Op::LL || op == Op::LLD || op == Op::SC || op == Op::SCD) return kLlsc;
  if (facts(op).mem) return kMem;
  if (op == Op::BREAK || ((in.flags & F_EXCEPTION) && in.name[0] == 'T')) return kExc;
  return kAlu;
}

const Tables& tables(bool fpu) {
  static const auto make = [](bool with_fpu) {
    Tables t;
    for (size_t i = 0; i < kOpCount; ++i) {
      const Op op = static_cast<Op>(i);
      if (op_generated(op, GenOptions{with_fpu})) t.by_cat[category(op)].push_back(op);
    }
    return t;
  };
  static const Tables without = make(false), with = make(true);
  return fpu ? with : without;
}

bool is_register_jump(Op op) { return op == Op::JR || op == Op::JR_HB || op == Op::JALR || op == Op::JALR_HB; }

uint32_t set_bits(uint32_t w, unsigned lsb, unsigned width, uint32_t v) {
  const uint32_t m = ((1u << width) - 1) << lsb;
  return (w & ~m) | ((v << lsb) & m);
}

struct SeqGen {
  Rng& r;
  const GenOptions& opt;
  unsigned n;
  std::array<unsigned, 6> hot{};

  uint64_t ok = ~0ull;  // NotWordValue state at the instruction being made

  unsigned any_reg() { return r.chance(60) ? hot[r.below(hot.size())] : r.below(32); }
  // A register surely holding a word value (zero always does).
  unsigned word_reg(bool as_dest) {
    for (unsigned k = 0; k < 64; ++k) {
      const unsigned x = any_reg();
      if (((ok >> x) & 1) && !(as_dest && (x == kBaseReg || x == kJumpReg))) return x;
    }
    return 0;
  }
  unsigned dest_reg() {
    for (;;) {
      const unsigned x = any_reg();
      if (x != kBaseReg && x != kJumpReg) return x;
    }
  }

  // A data-window address (offset from DSEQ_DATA_ADDR) for an access of `size`.
  unsigned window_addr(unsigned size, bool any_alignment, bool allow_misaligned) {
    if (any_alignment || size <= 1) return r.below(DSEQ_DATA_SIZE);
    if (allow_misaligned && r.chance(6)) {
      for (;;) {
        const unsigned a = r.below(DSEQ_DATA_SIZE - size + 1);
        if (a % size) return a;
      }
    }
    return r.below(DSEQ_DATA_SIZE / size) * size;
  }

  // One instruction of `op` at index i (not a branch target fix-up: see below).
  uint32_t make(Op op, unsigned i) {
    const InsnInfo& in = info(op);
    const OpFacts& f = facts(op);
    uint32_t w = in.match | (static_cast<uint32_t>(r.next()) & ~in.mask);
    if (in.flags & (F_PRIV | F_COP2)) return w;  // SIGILL whatever the fields
    // Register fields.
    if (f.letter[21] == 's') w = set_bits(w, 21, 5, any_reg());
    if (f.letter[16] == 't') w = set_bits(w, 16, 5, f.rt_dest ? dest_reg() : any_reg());
    if (f.letter[11] == 'd' && op != Op::RDHWR) w = set_bits(w, 11, 5, f.rd_dest ? dest_reg() : any_reg());
    const unsigned need_word = word_inputs(op);
    if ((need_word & kFieldRs) && !((ok >> rs(w)) & 1)) w = set_bits(w, 21, 5, word_reg(false));
    if ((need_word & kFieldRt) && !((ok >> rt(w)) & 1)) w = set_bits(w, 16, 5, word_reg(f.rt_dest));
    // Immediates: bias towards small and boundary values.
    if (f.letter[0] == 'i' && f.letter[15] == 'i') {
      static constexpr uint16_t kImm[] = {0, 1, 0xffff, 0x7fff, 0x8000, 2, 0xfffe, 0x10, 0xff, 0x100};
      const unsigned k = r.below(100);
      uint16_t imm = k < 30 ? kImm[r.below(sizeof kImm / sizeof kImm[0])]
                   : k < 60 ? static_cast<uint16_t>(static_cast<int>(r.below(64)) - 32)
                            : static_cast<uint16_t>(r.next());
      w = set_bits(w, 0, 16, imm);
    }
    // Memory operands: base s7 and an in-window offset, or (loads only) any base.
    if (f.mem) {
      const unsigned size = std::max(1u, access_size(in.flags));
      const bool store = in.flags & F_STORE;
      const bool llsc = category(op) == kLlsc;
      if (!store && !llsc && op != Op::SYNCI && r.chance(3)) {
        unsigned base = r.below(31);
        if (base >= kBaseReg) ++base;  // any register but s7
        w = set_bits(w, 21, 5, base);  // random base: usually a SIGSEGV
      } else {
        const bool unaligned_ok = (in.flags & F_UNALIGNED) || op == Op::PREF || op == Op::SYNCI;
        const unsigned a = window_addr(size, unaligned_ok, !(op == Op::SC || op == Op::SCD));
        w = set_bits(w, 21, 5, kBaseReg);
        w = set_bits(w, 0, 16, static_cast<uint16_t>(static_cast<int>(a) - static_cast<int>(kBaseOffset)));
      }
    }
    // COP1X indexed: base s7 + index zero.
    if (in.operands.find("index") != std::string_view::npos) {
      w = set_bits(w, 21, 5, kBaseReg);
      w = set_bits(w, 16, 5, 0);
    }
    switch (op) {
      case Op::RDHWR: {
        static constexpr unsigned kOk[] = {0, 1, 3};
        unsigned hw = r.chance(85) ? kOk[r.below(3)] : 4 + r.below(28);
        if (hw == 29) hw = 30;
        w = set_bits(w, 11, 5, hw);
        break;
      }
      case Op::CLZ: case Op::CLO: case Op::DCLZ: case Op::DCLO:
        w = set_bits(w, 16, 5, rd(w));
        break;
      case Op::EXT: {
        const unsigned pos = r.below(32);
        w = set_bits(set_bits(w, 6, 5, pos), 11, 5, r.below(32 - pos));
        break;
      }
      case Op::DEXTM: {
        const unsigned pos = r.below(32);
        w = set_bits(set_bits(w, 6, 5, pos), 11, 5, r.below(32 - pos));
        break;
      }
      case Op::DEXTU: {
        const unsigned pos = r.below(32);
        w = set_bits(set_bits(w, 6, 5, pos), 11, 5, r.below(32 - pos));
        break;
      }
      case Op::INS: case Op::DINS: case Op::DINSU: {
        const unsigned pos = r.below(32);
        w = set_bits(set_bits(w, 6, 5, pos), 11, 5, pos + r.below(32 - pos));
        break;
      }
      case Op::BLTZAL: case Op::BGEZAL: case Op::BLTZALL: case Op::BGEZALL:
        if (rs(w) == 31) w = set_bits(w, 21, 5, r.below(31));
        break;
      case Op::BNE:
        if (rs(w) == rt(w)) w = set_bits(w, 16, 5, (rt(w) + 1 + r.below(31)) & 31);
        break;
      case Op::BLTZ: case Op::BGTZ:
        if (rs(w) == 0) w = set_bits(w, 21, 5, 1 + r.below(31));
        break;
      default:
        break;
    }
    // Branch and jump targets: forward, inside the sequence or the end BREAK.
    if (in.flags & F_DELAY) {
      const unsigned k = i + 2 + r.below(n - (i + 2) + 1);  // i+2 .. n
      if (in.flags & F_BRANCH) {
        w = set_bits(w, 0, 16, static_cast<uint16_t>(static_cast<int>(k) - static_cast<int>(i) - 1));
      } else if (op == Op::J || op == Op::JAL) {
        w = set_bits(w, 0, 26, static_cast<uint32_t>((DSEQ_CODE_ADDR + 4ull * k) >> 2));
      }
    }
    return w;
  }
};

uint32_t lui(unsigned rt_, uint16_t imm) { return (0x0fu << 26) | (rt_ << 16) | imm; }
uint32_t ori(unsigned rt_, unsigned rs_, uint16_t imm) { return (0x0du << 26) | (rs_ << 21) | (rt_ << 16) | imm; }

bool is_ll(uint32_t w) {
  const Op op = decode(w);
  return op == Op::LL || op == Op::LLD;
}
bool is_sc(uint32_t w) {
  const Op op = decode(w);
  return op == Op::SC || op == Op::SCD;
}

// QEMU keeps its LL address across records and never clears it on an SC, so
// an SC that can run without a fresh LL of its own record (none yet, or an
// SC since the last one) could succeed there and fail here. An SC after an
// LL of the other width (LLD then SC, LL then SCD) is UNPREDICTABLE, and
// QEMU even stores while reporting failure. Every SC reachable in any of
// these states becomes an LL of its width (same operands: opcode 0x38 ->
// 0x30, 0x3c -> 0x34).
void fix_orphan_sc(uint32_t* insns, unsigned n, const std::vector<int>& jr_target) {
  constexpr uint8_t kStale = 1, kFresh4 = 2, kFresh8 = 4;
  std::vector<uint8_t> state(n + 2, 0);  // union over the paths reaching i
  std::vector<int> extra(n + 2, -1);     // slot -> branch target after it
  state[0] = kStale;
  for (unsigned i = 0; i < n; ++i) {
    if (!state[i]) continue;
    uint32_t w = insns[i];
    if (is_sc(w)) {
      const bool word = decode(w) == Op::SC;
      if (state[i] != (word ? kFresh4 : kFresh8)) insns[i] = w = (w & ~(0x3fu << 26)) | ((word ? 0x30u : 0x34u) << 26);
    }
    const uint8_t out = is_ll(w) ? (decode(w) == Op::LL ? kFresh4 : kFresh8) : is_sc(w) ? kStale : state[i];
    const InsnInfo& in = info(decode(w));
    if ((in.flags & F_DELAY) && !(in.flags & (F_PRIV | F_COP2))) {
      const int t = jr_target[i] >= 0 ? jr_target[i] : static_target(w, i);
      extra[i + 1] = t >= 0 ? t : static_cast<int>(n);
      if (in.flags & F_LIKELY) state[i + 2] |= out;
    }
    state[i + 1] |= out;
    if (extra[i] >= 0) state[extra[i]] |= out;
  }
}

}  // namespace

std::span<const Exclusion> exclusions() { return kExclusions; }

const Exclusion* excluded_by(uint32_t word) {
  const Op op = decode(word);
  for (const Exclusion& e : kExclusions) {
    if (e.applies ? e.applies(word) : e.op == op) return &e;
  }
  return nullptr;
}

bool op_excluded(Op op) {
  for (const Exclusion& e : kExclusions)
    if (!e.applies && e.op == op) return true;
  return false;
}

bool op_generated(Op op, const GenOptions& opt) {
  if (op_excluded(op)) return false;
  if ((info(op).flags & F_FPU) && !opt.fpu) return false;
  return true;
}

bool is_control(uint32_t word) {
  const InsnInfo& in = info(decode(word));
  return (in.flags & F_DELAY) && !(in.flags & (F_PRIV | F_COP2));
}

bool uses_mem_operand(Op op) { return facts(op).mem; }

int static_target(uint32_t w, unsigned i) {
  const Op op = decode(w);
  const InsnInfo& in = info(op);
  if (!(in.flags & F_DELAY) || (in.flags & (F_PRIV | F_COP2))) return -1;
  if (in.flags & F_BRANCH) return static_cast<int>(i) + 1 + static_cast<int>(simm(w));
  if (op == Op::J || op == Op::JAL) {
    const uint64_t pc = DSEQ_CODE_ADDR + 4ull * i;
    const uint64_t t = ((pc + 4) & ~0x0fffffffull) | (static_cast<uint64_t>(target(w)) << 2);
    return static_cast<int>((t - DSEQ_CODE_ADDR) / 4);
  }
  return -1;
}

void make_record(uint64_t seed, uint64_t index, const GenOptions& opt, dseq_record& rec) {
  std::memset(&rec, 0, sizeof rec);
  // Independent streams per record: hash (seed, index) into the state.
  Rng h{seed};
  Rng r{h.next() ^ Rng{index ^ 0x632be59bd9b4e019ull}.next()};
  const Tables& tab = tables(opt.fpu);

  // Length: 1..24, mostly 4..16.
  const unsigned n = r.chance(15) ? 1 + r.below(kMaxGenInsns) : 4 + r.below(13);
  rec.n_insns = n;
  SeqGen g{r, opt, n, {}};
  for (auto& h : g.hot) h = r.below(32);

  // Register state.
  dseq_state& st = rec.state;
  for (unsigned k = 1; k < 32; ++k) st.gpr[k] = value64(r);
  // Make some registers equal so that BEQ/BNE/traps go both ways.
  for (unsigned k = 0; k < 3; ++k) st.gpr[g.hot[r.below(6)]] = st.gpr[g.hot[r.below(6)]];
  st.gpr[0] = 0;
  st.gpr[kBaseReg] = DSEQ_DATA_ADDR + kBaseOffset;
  st.gpr[kJumpReg] = DSEQ_CODE_ADDR + 4ull * n;
  st.hi = value64(r);
  st.lo = value64(r);
  for (auto& v : st.fpr) v = fpr_value(r);
  if (opt.fpu) {
    // Cause = 0 and bits 22..18 = 0 (runner README); RM, enables, flags,
    // FS and the condition codes random.
    uint32_t fcsr = static_cast<uint32_t>(r.next()) & 0xff83ffffu & ~0x3f000u;
    if (r.chance(70)) fcsr &= ~0xf80u;  // usually no enables
    st.fcsr = fcsr;
  }
  // Data window: values of the same distribution, sometimes zero.
  for (unsigned k = 0; k < DSEQ_DATA_SIZE; k += 8) {
    const uint64_t v = r.chance(15) ? 0 : value64(r);
    std::memcpy(rec.data + k, &v, 8);
  }

  // Word-value state at each instruction: AND over the paths reaching it.
  std::vector<uint64_t> in_ok(n + 2, ~0ull);
  uint64_t init = 0;
  for (unsigned k = 0; k < 32; ++k)
    if (st.gpr[k] == sext32v(static_cast<uint32_t>(st.gpr[k]))) init |= 1ull << k;
  if (st.hi == sext32v(static_cast<uint32_t>(st.hi))) init |= kHiOk;
  if (st.lo == sext32v(static_cast<uint32_t>(st.lo))) init |= kLoOk;
  in_ok[0] = init;
  std::vector<int> slot_target(n + 2, -1);  // delay slot index -> its branch's target
  std::vector<int> jr_target(n + 2, -1);    // register jump index -> target (LUI/ORI pair)

  // Category weights (per mille).
  struct W { Category c; unsigned w; };
  const W weights[] = {{kAlu, 540}, {kMem, 220}, {kLlsc, 30}, {kControl, 130},
                       {kExc, 25},  {kPriv, 10}, {kFpu, opt.fpu ? 300u : 0u}};
  unsigned total = 0;
  for (const W& x : weights) total += x.w;

  std::vector<bool> filled(n, false);
  for (unsigned i = 0; i < n; ++i) {
    g.ok = in_ok[i];
    const bool in_slot = i > 0 && is_control(rec.insns[i - 1]);
    for (unsigned attempt = 0; !filled[i]; ++attempt) {
      if (attempt > 10000) std::abort();
      unsigned pick = r.below(total);
      Category cat = kAlu;
      for (const W& x : weights) {
        if (pick < x.w) { cat = x.c; break; }
        pick -= x.w;
      }
      const auto& list = tab.by_cat[cat];
      if (list.empty()) continue;
      const Op op = list[r.below(static_cast<uint32_t>(list.size()))];
      const InsnInfo& in = info(op);
      const bool control = (in.flags & F_DELAY) && !(in.flags & (F_PRIV | F_COP2));
      if (control && (in_slot || i + 2 > n)) continue;  // never in a slot, never last
      if (is_register_jump(op)) {
        // lui s6; ori s6; jr s6; slot — the pair never sits in a delay slot.
        if (in_slot || i + 4 > n || filled[i + 1] || filled[i + 2]) continue;
        const unsigned k = i + 4 + r.below(n - (i + 4) + 1);
        const uint64_t t = DSEQ_CODE_ADDR + 4ull * k;
        rec.insns[i] = lui(kJumpReg, static_cast<uint16_t>(t >> 16));
        rec.insns[i + 1] = ori(kJumpReg, kJumpReg, static_cast<uint16_t>(t));
        uint32_t w;
        do {
          w = set_bits(g.make(op, i + 2), 21, 5, kJumpReg);
        } while (excluded_by(w));
        rec.insns[i + 2] = w;
        jr_target[i + 2] = static_cast<int>(k);
        filled[i] = filled[i + 1] = filled[i + 2] = true;
        break;
      }
      const uint32_t w = g.make(op, i);
      if (excluded_by(w)) continue;
      rec.insns[i] = w;
      filled[i] = true;
      // LL: usually pair it with an SC a little later at the same address.
      if ((op == Op::LL || op == Op::LLD) && r.chance(70)) {
        const unsigned j = i + 1 + r.below(4);
        if (j < n && !filled[j]) {
          const uint32_t sc = set_bits(g.make(op == Op::LL ? Op::SC : Op::SCD, j), 0, 16, w & 0xffff);
          if (!excluded_by(sc)) {
            rec.insns[j] = sc;
            filled[j] = true;
          }
        }
      }
    }
    // Propagate the word-value state along the forward edges.
    const uint32_t w = rec.insns[i];
    const uint64_t out = transfer(in_ok[i], w);
    in_ok[i + 1] &= out;
    if (is_control(w)) {
      const int t = jr_target[i] >= 0 ? jr_target[i] : static_target(w, i);
      slot_target[i + 1] = t >= 0 ? t : static_cast<int>(n);
      if (info(decode(w)).flags & F_LIKELY) in_ok[i + 2] &= out;
    }
    if (slot_target[i] >= 0) in_ok[slot_target[i]] &= out;
  }
  // A branch that lands on the ORI or the JR of a LUI/ORI/JR group would jump
  // through a stale s6 (possibly backwards: an endless loop). Land on the LUI.
  std::vector<int> group_of(n + 2, -1);
  for (unsigned j = 2; j < n; ++j) {
    if (jr_target[j] >= 0) group_of[j - 1] = group_of[j] = static_cast<int>(j - 2);
  }
  for (unsigned i = 0; i < n; ++i) {
    const uint32_t w = rec.insns[i];
    if (!is_control(w)) continue;
    const int t = jr_target[i] >= 0 ? jr_target[i] : static_target(w, i);
    if (t < 0 || t > static_cast<int>(n) || group_of[t] < 0) continue;
    const int nt = group_of[t];
    if (jr_target[i] >= 0) {
      rec.insns[i - 1] = ori(kJumpReg, kJumpReg, static_cast<uint16_t>(DSEQ_CODE_ADDR + 4ull * nt));
      jr_target[i] = nt;
    } else if (info(decode(w)).flags & F_BRANCH) {
      rec.insns[i] = set_bits(w, 0, 16, static_cast<uint16_t>(nt - static_cast<int>(i) - 1));
    } else {
      rec.insns[i] = set_bits(w, 0, 26, static_cast<uint32_t>((DSEQ_CODE_ADDR + 4ull * nt) >> 2));
    }
  }
  fix_orphan_sc(rec.insns, n, jr_target);
}

}  // namespace disco::difftest
