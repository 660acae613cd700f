// Integer arithmetic, logic, shifts, multiply/divide, bit manipulation.
#include "interp/common.h"
#include "interp/handlers.h"

namespace disco::interp {

// ---- add/subtract ------------------------------------------------------
// add rd, rs, rt — traps on signed 32-bit overflow, rd unchanged.
DISCO_HANDLER(ADD) {
  int32_t r;
  if (__builtin_add_overflow(static_cast<int32_t>(rs(c, d)), static_cast<int32_t>(rt(c, d)), &r))
    return raise_exception(c, EXC_Ov);
  set_gpr(c, f::rd(d.raw), sext32(static_cast<uint32_t>(r)));
}
DISCO_HANDLER(ADDU) { set_gpr(c, f::rd(d.raw), sext32(rs(c, d) + rt(c, d))); }
DISCO_HANDLER(SUB) {
  int32_t r;
  if (__builtin_sub_overflow(static_cast<int32_t>(rs(c, d)), static_cast<int32_t>(rt(c, d)), &r))
    return raise_exception(c, EXC_Ov);
  set_gpr(c, f::rd(d.raw), sext32(static_cast<uint32_t>(r)));
}
DISCO_HANDLER(SUBU) { set_gpr(c, f::rd(d.raw), sext32(rs(c, d) - rt(c, d))); }
DISCO_HANDLER(DADD) {
  if (!require_64(c)) return;
  int64_t r;
  if (__builtin_add_overflow(static_cast<int64_t>(rs(c, d)), static_cast<int64_t>(rt(c, d)), &r))
    return raise_exception(c, EXC_Ov);
  set_gpr(c, f::rd(d.raw), static_cast<uint64_t>(r));
}
DISCO_HANDLER(DADDU) {
  if (!require_64(c)) return;
  set_gpr(c, f::rd(d.raw), rs(c, d) + rt(c, d));
}
DISCO_HANDLER(DSUB) {
  if (!require_64(c)) return;
  int64_t r;
  if (__builtin_sub_overflow(static_cast<int64_t>(rs(c, d)), static_cast<int64_t>(rt(c, d)), &r))
    return raise_exception(c, EXC_Ov);
  set_gpr(c, f::rd(d.raw), static_cast<uint64_t>(r));
}
DISCO_HANDLER(DSUBU) {
  if (!require_64(c)) return;
  set_gpr(c, f::rd(d.raw), rs(c, d) - rt(c, d));
}
DISCO_HANDLER(ADDI) {
  int32_t r;
  if (__builtin_add_overflow(static_cast<int32_t>(rs(c, d)), static_cast<int32_t>(f::simm(d.raw)), &r))
    return raise_exception(c, EXC_Ov);
  set_gpr(c, f::rt(d.raw), sext32(static_cast<uint32_t>(r)));
}
DISCO_HANDLER(ADDIU) { set_gpr(c, f::rt(d.raw), sext32(rs(c, d) + f::simm(d.raw))); }
DISCO_HANDLER(DADDI) {
  if (!require_64(c)) return;
  int64_t r;
  if (__builtin_add_overflow(static_cast<int64_t>(rs(c, d)), f::simm(d.raw), &r))
    return raise_exception(c, EXC_Ov);
  set_gpr(c, f::rt(d.raw), static_cast<uint64_t>(r));
}
DISCO_HANDLER(DADDIU) {
  if (!require_64(c)) return;
  set_gpr(c, f::rt(d.raw), rs(c, d) + f::simm(d.raw));
}

// ---- compare and logic ---------------------------------------------------
DISCO_HANDLER(SLT) { set_gpr(c, f::rd(d.raw), static_cast<int64_t>(rs(c, d)) < static_cast<int64_t>(rt(c, d))); }
DISCO_HANDLER(SLTU) { set_gpr(c, f::rd(d.raw), rs(c, d) < rt(c, d)); }
DISCO_HANDLER(SLTI) { set_gpr(c, f::rt(d.raw), static_cast<int64_t>(rs(c, d)) < f::simm(d.raw)); }
DISCO_HANDLER(SLTIU) { set_gpr(c, f::rt(d.raw), rs(c, d) < static_cast<uint64_t>(f::simm(d.raw))); }
DISCO_HANDLER(AND) { set_gpr(c, f::rd(d.raw), rs(c, d) & rt(c, d)); }
DISCO_HANDLER(OR) { set_gpr(c, f::rd(d.raw), rs(c, d) | rt(c, d)); }
DISCO_HANDLER(XOR) { set_gpr(c, f::rd(d.raw), rs(c, d) ^ rt(c, d)); }
DISCO_HANDLER(NOR) { set_gpr(c, f::rd(d.raw), ~(rs(c, d) | rt(c, d))); }
DISCO_HANDLER(ANDI) { set_gpr(c, f::rt(d.raw), rs(c, d) & f::uimm(d.raw)); }
DISCO_HANDLER(ORI) { set_gpr(c, f::rt(d.raw), rs(c, d) | f::uimm(d.raw)); }
DISCO_HANDLER(XORI) { set_gpr(c, f::rt(d.raw), rs(c, d) ^ f::uimm(d.raw)); }
DISCO_HANDLER(LUI) { set_gpr(c, f::rt(d.raw), sext32(f::uimm(d.raw) << 16)); }
DISCO_HANDLER(MOVZ) {
  if (rt(c, d) == 0) set_gpr(c, f::rd(d.raw), rs(c, d));
}
DISCO_HANDLER(MOVN) {
  if (rt(c, d) != 0) set_gpr(c, f::rd(d.raw), rs(c, d));
}

// ---- shifts (32-bit forms operate on the low word, sign-extend) ---------
DISCO_HANDLER(SLL) { set_gpr(c, f::rd(d.raw), sext32(static_cast<uint32_t>(rt(c, d)) << f::sa(d.raw))); }
DISCO_HANDLER(SRL) { set_gpr(c, f::rd(d.raw), sext32(static_cast<uint32_t>(rt(c, d)) >> f::sa(d.raw))); }
DISCO_HANDLER(SRA) { set_gpr(c, f::rd(d.raw), sext32(static_cast<uint32_t>(static_cast<int32_t>(rt(c, d)) >> f::sa(d.raw)))); }
static uint32_t rotr32(uint32_t v, unsigned n) { return n ? (v >> n) | (v << (32 - n)) : v; }
static uint64_t rotr64(uint64_t v, unsigned n) { return n ? (v >> n) | (v << (64 - n)) : v; }
DISCO_HANDLER(ROTR) { set_gpr(c, f::rd(d.raw), sext32(rotr32(static_cast<uint32_t>(rt(c, d)), f::sa(d.raw)))); }
DISCO_HANDLER(SLLV) { set_gpr(c, f::rd(d.raw), sext32(static_cast<uint32_t>(rt(c, d)) << (rs(c, d) & 31))); }
DISCO_HANDLER(SRLV) { set_gpr(c, f::rd(d.raw), sext32(static_cast<uint32_t>(rt(c, d)) >> (rs(c, d) & 31))); }
DISCO_HANDLER(SRAV) { set_gpr(c, f::rd(d.raw), sext32(static_cast<uint32_t>(static_cast<int32_t>(rt(c, d)) >> (rs(c, d) & 31)))); }
DISCO_HANDLER(ROTRV) { set_gpr(c, f::rd(d.raw), sext32(rotr32(static_cast<uint32_t>(rt(c, d)), rs(c, d) & 31))); }
#define SHIFT64(NAME, EXPR)          \
  DISCO_HANDLER(NAME) {              \
    if (!require_64(c)) return;      \
    const uint64_t v = rt(c, d);     \
    set_gpr(c, f::rd(d.raw), EXPR);  \
  }
SHIFT64(DSLL, v << f::sa(d.raw))
SHIFT64(DSRL, v >> f::sa(d.raw))
SHIFT64(DSRA, static_cast<uint64_t>(static_cast<int64_t>(v) >> f::sa(d.raw)))
SHIFT64(DROTR, rotr64(v, f::sa(d.raw)))
SHIFT64(DSLL32, v << (f::sa(d.raw) + 32))
SHIFT64(DSRL32, v >> (f::sa(d.raw) + 32))
SHIFT64(DSRA32, static_cast<uint64_t>(static_cast<int64_t>(v) >> (f::sa(d.raw) + 32)))
SHIFT64(DROTR32, rotr64(v, f::sa(d.raw) + 32))
SHIFT64(DSLLV, v << (rs(c, d) & 63))
SHIFT64(DSRLV, v >> (rs(c, d) & 63))
SHIFT64(DSRAV, static_cast<uint64_t>(static_cast<int64_t>(v) >> (rs(c, d) & 63)))
SHIFT64(DROTRV, rotr64(v, rs(c, d) & 63))
#undef SHIFT64

// ---- HI/LO ---------------------------------------------------------------
DISCO_HANDLER(MFHI) { set_gpr(c, f::rd(d.raw), c.s.hi); }
DISCO_HANDLER(MFLO) { set_gpr(c, f::rd(d.raw), c.s.lo); }
DISCO_HANDLER(MTHI) { c.s.hi = rs(c, d); }
DISCO_HANDLER(MTLO) { c.s.lo = rs(c, d); }

// 32-bit products put the sign-extended low/high words in LO/HI.
static void set_hilo32(Cpu& c, uint64_t product) {
  c.s.lo = sext32(product);
  c.s.hi = sext32(product >> 32);
}
DISCO_HANDLER(MULT) {
  set_hilo32(c, static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(rs(c, d))) *
                                      static_cast<int32_t>(rt(c, d))));
}
DISCO_HANDLER(MULTU) {
  set_hilo32(c, static_cast<uint64_t>(static_cast<uint32_t>(rs(c, d))) * static_cast<uint32_t>(rt(c, d)));
}
static uint64_t hilo_word(const Cpu& c) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(c.s.hi)) << 32) | static_cast<uint32_t>(c.s.lo);
}
DISCO_HANDLER(MADD) {
  int64_t p = static_cast<int64_t>(static_cast<int32_t>(rs(c, d))) * static_cast<int32_t>(rt(c, d));
  set_hilo32(c, hilo_word(c) + static_cast<uint64_t>(p));
}
DISCO_HANDLER(MADDU) {
  uint64_t p = static_cast<uint64_t>(static_cast<uint32_t>(rs(c, d))) * static_cast<uint32_t>(rt(c, d));
  set_hilo32(c, hilo_word(c) + p);
}
DISCO_HANDLER(MSUB) {
  int64_t p = static_cast<int64_t>(static_cast<int32_t>(rs(c, d))) * static_cast<int32_t>(rt(c, d));
  set_hilo32(c, hilo_word(c) - static_cast<uint64_t>(p));
}
DISCO_HANDLER(MSUBU) {
  uint64_t p = static_cast<uint64_t>(static_cast<uint32_t>(rs(c, d))) * static_cast<uint32_t>(rt(c, d));
  set_hilo32(c, hilo_word(c) - p);
}
// mul rd, rs, rt — low word of the product; HI/LO unpredictable, left alone.
DISCO_HANDLER(MUL) {
  set_gpr(c, f::rd(d.raw), sext32(static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(rs(c, d))) *
                                                         static_cast<int32_t>(rt(c, d)))));
}
DISCO_HANDLER(DMULT) {
  if (!require_64(c)) return;
  __int128 p = static_cast<__int128>(static_cast<int64_t>(rs(c, d))) * static_cast<int64_t>(rt(c, d));
  c.s.lo = static_cast<uint64_t>(p);
  c.s.hi = static_cast<uint64_t>(p >> 64);
}
DISCO_HANDLER(DMULTU) {
  if (!require_64(c)) return;
  unsigned __int128 p = static_cast<unsigned __int128>(rs(c, d)) * rt(c, d);
  c.s.lo = static_cast<uint64_t>(p);
  c.s.hi = static_cast<uint64_t>(p >> 64);
}

// Division by zero leaves HI/LO UNPREDICTABLE; we give what QEMU gives
// (the quotient by 1: LO = dividend, HI = 0) so the two can be compared.
// INT_MIN / -1 gives LO = INT_MIN, HI = 0 (MIPS never traps on divide).
DISCO_HANDLER(DIV) {
  const int32_t a = static_cast<int32_t>(rs(c, d)), b = static_cast<int32_t>(rt(c, d));
  if (b == 0) {
    c.s.lo = sext32(static_cast<uint32_t>(a));
    c.s.hi = 0;
    return;
  }
  if (a == INT32_MIN && b == -1) {
    c.s.lo = sext32(static_cast<uint32_t>(INT32_MIN));
    c.s.hi = 0;
    return;
  }
  c.s.lo = sext32(static_cast<uint32_t>(a / b));
  c.s.hi = sext32(static_cast<uint32_t>(a % b));
}
DISCO_HANDLER(DIVU) {
  const uint32_t a = static_cast<uint32_t>(rs(c, d)), b = static_cast<uint32_t>(rt(c, d));
  if (b == 0) {
    c.s.lo = sext32(a);
    c.s.hi = 0;
    return;
  }
  c.s.lo = sext32(a / b);
  c.s.hi = sext32(a % b);
}
DISCO_HANDLER(DDIV) {
  if (!require_64(c)) return;
  const int64_t a = static_cast<int64_t>(rs(c, d)), b = static_cast<int64_t>(rt(c, d));
  if (b == 0) {
    c.s.lo = static_cast<uint64_t>(a);
    c.s.hi = 0;
    return;
  }
  if (a == INT64_MIN && b == -1) {
    c.s.lo = static_cast<uint64_t>(INT64_MIN);
    c.s.hi = 0;
    return;
  }
  c.s.lo = static_cast<uint64_t>(a / b);
  c.s.hi = static_cast<uint64_t>(a % b);
}
DISCO_HANDLER(DDIVU) {
  if (!require_64(c)) return;
  const uint64_t a = rs(c, d), b = rt(c, d);
  if (b == 0) {
    c.s.lo = a;
    c.s.hi = 0;
    return;
  }
  c.s.lo = a / b;
  c.s.hi = a % b;
}

// ---- count leading zeros/ones (rd; the rt field must equal rd) -----------
DISCO_HANDLER(CLZ) {
  uint32_t v = static_cast<uint32_t>(rs(c, d));
  set_gpr(c, f::rd(d.raw), v ? __builtin_clz(v) : 32);
}
DISCO_HANDLER(CLO) {
  uint32_t v = ~static_cast<uint32_t>(rs(c, d));
  set_gpr(c, f::rd(d.raw), v ? __builtin_clz(v) : 32);
}
DISCO_HANDLER(DCLZ) {
  if (!require_64(c)) return;
  uint64_t v = rs(c, d);
  set_gpr(c, f::rd(d.raw), v ? __builtin_clzll(v) : 64);
}
DISCO_HANDLER(DCLO) {
  if (!require_64(c)) return;
  uint64_t v = ~rs(c, d);
  set_gpr(c, f::rd(d.raw), v ? __builtin_clzll(v) : 64);
}

// ---- bit fields ------------------------------------------------------------
// For EXT/DEXT*: msbd = rd field (size-1), lsb = sa field. For INS/DINS*:
// msb = rd field, lsb = sa field. Out-of-range combinations are UNPREDICTABLE;
// we compute with masks so the host never sees an undefined shift.
static uint64_t ones(unsigned n) { return n >= 64 ? ~0ull : (1ull << n) - 1; }
static void ext(Cpu& c, const DecodedInsn& d, unsigned pos, unsigned size, bool word) {
  uint64_t v = pos >= 64 ? 0 : (rs(c, d) >> pos) & ones(size);
  set_gpr(c, f::rt(d.raw), word ? sext32(v) : v);
}
static void ins(Cpu& c, const DecodedInsn& d, unsigned pos, unsigned msb, bool word) {
  if (msb < pos || pos >= 64) return;  // UNPREDICTABLE: leave rt alone
  const unsigned size = msb - pos + 1;
  const uint64_t m = ones(size) << pos;
  uint64_t v = (rt(c, d) & ~m) | ((rs(c, d) << pos) & m);
  set_gpr(c, f::rt(d.raw), word ? sext32(v) : v);
}
DISCO_HANDLER(EXT) { ext(c, d, f::sa(d.raw), f::rd(d.raw) + 1, true); }
DISCO_HANDLER(DEXT) { if (require_64(c)) ext(c, d, f::sa(d.raw), f::rd(d.raw) + 1, false); }
DISCO_HANDLER(DEXTM) { if (require_64(c)) ext(c, d, f::sa(d.raw), f::rd(d.raw) + 33, false); }
DISCO_HANDLER(DEXTU) { if (require_64(c)) ext(c, d, f::sa(d.raw) + 32, f::rd(d.raw) + 1, false); }
DISCO_HANDLER(INS) { ins(c, d, f::sa(d.raw), f::rd(d.raw), true); }
DISCO_HANDLER(DINS) { if (require_64(c)) ins(c, d, f::sa(d.raw), f::rd(d.raw), false); }
DISCO_HANDLER(DINSM) { if (require_64(c)) ins(c, d, f::sa(d.raw), f::rd(d.raw) + 32, false); }
DISCO_HANDLER(DINSU) { if (require_64(c)) ins(c, d, f::sa(d.raw) + 32, f::rd(d.raw) + 32, false); }

// ---- byte shuffles ---------------------------------------------------------
DISCO_HANDLER(WSBH) {
  uint32_t v = static_cast<uint32_t>(rt(c, d));
  set_gpr(c, f::rd(d.raw), sext32(((v & 0x00ff00ffu) << 8) | ((v >> 8) & 0x00ff00ffu)));
}
DISCO_HANDLER(SEB) { set_gpr(c, f::rd(d.raw), static_cast<uint64_t>(static_cast<int64_t>(static_cast<int8_t>(rt(c, d))))); }
DISCO_HANDLER(SEH) { set_gpr(c, f::rd(d.raw), static_cast<uint64_t>(static_cast<int64_t>(static_cast<int16_t>(rt(c, d))))); }
DISCO_HANDLER(DSBH) {
  if (!require_64(c)) return;
  uint64_t v = rt(c, d);
  set_gpr(c, f::rd(d.raw), ((v & 0x00ff00ff00ff00ffull) << 8) | ((v >> 8) & 0x00ff00ff00ff00ffull));
}
DISCO_HANDLER(DSHD) {
  if (!require_64(c)) return;
  uint64_t v = rt(c, d);
  v = ((v & 0x0000ffff0000ffffull) << 16) | ((v >> 16) & 0x0000ffff0000ffffull);
  set_gpr(c, f::rd(d.raw), (v << 32) | (v >> 32));
}

}  // namespace disco::interp
