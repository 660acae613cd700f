// FPU test support: CP1 encoders and a CPU with an FPU (CU1 set).
#pragma once

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <initializer_list>

#include "tests/support/encode.h"
#include "tests/support/test_cpu.h"

namespace disco::test {

namespace fenc {
enum Fmt : unsigned { S = 16, D = 17, W = 20, L = 21 };
constexpr uint32_t cop1(unsigned fmt, unsigned ft, unsigned fs, unsigned fd, unsigned funct) {
  return (0x11u << 26) | (fmt << 21) | (ft << 16) | (fs << 11) | (fd << 6) | funct;
}
constexpr uint32_t mv(unsigned op, unsigned rt, unsigned fs) { return (0x11u << 26) | (op << 21) | (rt << 16) | (fs << 11); }
constexpr uint32_t MFC1(unsigned rt, unsigned fs) { return mv(0, rt, fs); }
constexpr uint32_t DMFC1(unsigned rt, unsigned fs) { return mv(1, rt, fs); }
constexpr uint32_t CFC1(unsigned rt, unsigned fs) { return mv(2, rt, fs); }
constexpr uint32_t MFHC1(unsigned rt, unsigned fs) { return mv(3, rt, fs); }
constexpr uint32_t MTC1(unsigned rt, unsigned fs) { return mv(4, rt, fs); }
constexpr uint32_t DMTC1(unsigned rt, unsigned fs) { return mv(5, rt, fs); }
constexpr uint32_t CTC1(unsigned rt, unsigned fs) { return mv(6, rt, fs); }
constexpr uint32_t MTHC1(unsigned rt, unsigned fs) { return mv(7, rt, fs); }
// BC1F/BC1T/BC1FL/BC1TL: nd = likely, tf = true.
constexpr uint32_t BC1(unsigned cc, bool nd, bool tf, int16_t off) {
  return (0x11u << 26) | (8u << 21) | (cc << 18) | (unsigned(nd) << 17) | (unsigned(tf) << 16) |
         static_cast<uint16_t>(off);
}
constexpr uint32_t ADD(unsigned fmt, unsigned fd, unsigned fs, unsigned ft) { return cop1(fmt, ft, fs, fd, 0); }
constexpr uint32_t SUB(unsigned fmt, unsigned fd, unsigned fs, unsigned ft) { return cop1(fmt, ft, fs, fd, 1); }
constexpr uint32_t MUL(unsigned fmt, unsigned fd, unsigned fs, unsigned ft) { return cop1(fmt, ft, fs, fd, 2); }
constexpr uint32_t DIV(unsigned fmt, unsigned fd, unsigned fs, unsigned ft) { return cop1(fmt, ft, fs, fd, 3); }
// Single-source ops by funct: SQRT 4, ABS 5, MOV 6, NEG 7, ROUND.L 8, TRUNC.L 9,
// CEIL.L 10, FLOOR.L 11, ROUND.W 12, TRUNC.W 13, CEIL.W 14, FLOOR.W 15,
// RECIP 21, RSQRT 22, CVT.S 32, CVT.D 33, CVT.W 36, CVT.L 37.
constexpr uint32_t U1(unsigned funct, unsigned fmt, unsigned fd, unsigned fs) { return cop1(fmt, 0, fs, fd, funct); }
constexpr uint32_t C(unsigned fmt, unsigned cond, unsigned cc, unsigned fs, unsigned ft) {
  return cop1(fmt, ft, fs, cc << 2, 0x30 | cond);
}
constexpr uint32_t MOVCF(unsigned fmt, bool tf, unsigned cc, unsigned fd, unsigned fs) {
  return cop1(fmt, (cc << 2) | unsigned(tf), fs, fd, 0x11);
}
constexpr uint32_t MOVZ(unsigned fmt, unsigned fd, unsigned fs, unsigned rt) { return cop1(fmt, rt, fs, fd, 0x12); }
constexpr uint32_t MOVN(unsigned fmt, unsigned fd, unsigned fs, unsigned rt) { return cop1(fmt, rt, fs, fd, 0x13); }
// MOVF/MOVT rd, rs, cc (SPECIAL).
constexpr uint32_t MOVCI(bool tf, unsigned rd, unsigned rs, unsigned cc) {
  return (rs << 21) | (cc << 18) | (unsigned(tf) << 16) | (rd << 11) | 1;
}
// COP1X.
constexpr uint32_t cop1x(unsigned rs, unsigned rt, unsigned fs, unsigned fd, unsigned funct) {
  return (0x13u << 26) | (rs << 21) | (rt << 16) | (fs << 11) | (fd << 6) | funct;
}
constexpr uint32_t LWXC1(unsigned fd, unsigned index, unsigned base) { return cop1x(base, index, 0, fd, 0); }
constexpr uint32_t LDXC1(unsigned fd, unsigned index, unsigned base) { return cop1x(base, index, 0, fd, 1); }
constexpr uint32_t LUXC1(unsigned fd, unsigned index, unsigned base) { return cop1x(base, index, 0, fd, 5); }
constexpr uint32_t SWXC1(unsigned fs, unsigned index, unsigned base) { return cop1x(base, index, fs, 0, 8); }
constexpr uint32_t SDXC1(unsigned fs, unsigned index, unsigned base) { return cop1x(base, index, fs, 0, 9); }
constexpr uint32_t SUXC1(unsigned fs, unsigned index, unsigned base) { return cop1x(base, index, fs, 0, 13); }
constexpr uint32_t PREFX(unsigned hint, unsigned index, unsigned base) { return cop1x(base, index, hint, 0, 15); }
// op: 4 MADD, 5 MSUB, 6 NMADD, 7 NMSUB; fmt3: 0 S, 1 D.
constexpr uint32_t MADDX(unsigned op, unsigned fmt3, unsigned fd, unsigned fr, unsigned fs, unsigned ft) {
  return cop1x(fr, ft, fs, fd, (op << 3) | fmt3);
}
constexpr uint32_t LWC1(unsigned ft, unsigned base, int16_t off) { return enc::i(0x31, base, ft, static_cast<uint16_t>(off)); }
constexpr uint32_t LDC1(unsigned ft, unsigned base, int16_t off) { return enc::i(0x35, base, ft, static_cast<uint16_t>(off)); }
constexpr uint32_t SWC1(unsigned ft, unsigned base, int16_t off) { return enc::i(0x39, base, ft, static_cast<uint16_t>(off)); }
constexpr uint32_t SDC1(unsigned ft, unsigned base, int16_t off) { return enc::i(0x3d, base, ft, static_cast<uint16_t>(off)); }
}  // namespace fenc

inline uint32_t fbits(float f) { return std::bit_cast<uint32_t>(f); }
inline uint64_t dbits(double v) { return std::bit_cast<uint64_t>(v); }

constexpr uint64_t kJunk = 0x1111222233334444ull;  // upper halves that must survive
constexpr uint32_t kDefNaN32 = 0x7fbfffffu;
constexpr uint64_t kDefNaN64 = 0x7ff7ffffffffffffull;
constexpr uint32_t kQNaN32 = 0x7f800001u;  // legacy quiet: quiet bit clear
constexpr uint32_t kSNaN32 = 0x7fc00000u;  // legacy signalling: quiet bit set
constexpr uint64_t kQNaN64 = 0x7ff0000000000001ull;
constexpr uint64_t kSNaN64 = 0x7ff8000000000000ull;
constexpr uint64_t kGeneralVector = 0xffffffff80000180ull;

// FCSR bit groups: I U O Z V (E) at 2 (flags), 7 (enables), 12 (cause).
enum : uint32_t { XI = 1, XU = 2, XO = 4, XZ = 8, XV = 16, XE = 32 };
constexpr uint32_t flags(uint32_t x) { return x << 2; }
constexpr uint32_t enables(uint32_t x) { return x << 7; }
constexpr uint32_t cause(uint32_t x) { return x << 12; }

struct FpuCpu : TestCpu {
  static CpuConfig fpu_cfg() {
    CpuConfig cfg;
    cfg.has_fpu = true;
    return cfg;
  }
  explicit FpuCpu(bool fr = true) : TestCpu(fpu_cfg()) {
    cpu.s.cp0.status |= cp0::Status_CU1 | (fr ? cp0::Status_FR : 0);
    for (auto& r : cpu.s.fpr) r = kJunk;
  }
  // Loads `code` at the start of the code area and runs it to the end.
  void run(std::initializer_list<uint32_t> code) {
    load(code);
    cpu.code_written(kCodePhys & ~kPageMask);  // drop the stale decoded page
    cpu.s.pc = kCodeVirt;
    steps(static_cast<unsigned>(code.size()));
  }
  uint64_t& f(unsigned r) { return cpu.s.fpr[r]; }
  uint32_t& fcsr() { return cpu.s.fcsr; }
  void setf(unsigned r, float v) { f(r) = (f(r) & ~0xffffffffull) | fbits(v); }
  void setd(unsigned r, double v) { f(r) = dbits(v); }
  uint32_t lo(unsigned r) { return static_cast<uint32_t>(f(r)); }
  float getf(unsigned r) { return std::bit_cast<float>(lo(r)); }
  double getd(unsigned r) { return std::bit_cast<double>(f(r)); }
};

}  // namespace disco::test
