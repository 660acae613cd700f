// Helpers shared by the interpreter's instruction handlers.
#pragma once

#include <cstdint>

#include "frontend/insn.h"
#include "cpu/cpu.h"
#include "cpu/exception.h"
#include "cpu/mmu.h"

namespace disco::interp {

using namespace cp0;
namespace f = field;

// Every handler has this shape; the name is the table's mnemonic.
#define DISCO_HANDLER(NAME) void op_##NAME([[maybe_unused]] Cpu& c, [[maybe_unused]] const DecodedInsn& d)

inline uint64_t sext32(uint64_t v) { return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v))); }

// Register writes: write, then keep r0 zero (cheaper than a branch).
inline void set_gpr(Cpu& c, unsigned r, uint64_t v) {
  c.s.gpr[r] = v;
  c.s.gpr[0] = 0;
}
inline uint64_t rs(const Cpu& c, const DecodedInsn& d) { return c.s.gpr[f::rs(d.raw)]; }
inline uint64_t rt(const Cpu& c, const DecodedInsn& d) { return c.s.gpr[f::rt(d.raw)]; }

// Architectural preconditions. Each returns false after raising the exception.
inline bool require_64(Cpu& c) {
  if (__builtin_expect(c.ops64_enabled(), 1)) return true;
  raise_exception(c, EXC_RI);
  return false;
}
inline bool require_cp0(Cpu& c) {
  if (c.kernel_mode() || (c.s.cp0.status & Status_CU0)) return true;
  raise_cpu_unusable(c, 0);
  return false;
}
inline bool require_cp1(Cpu& c) {
  if (__builtin_expect((c.s.cp0.status & Status_CU1) != 0, 1)) return true;
  raise_cpu_unusable(c, 1);
  return false;
}

// Delay-slot machine (see interp/interpreter.cpp for the epilogue).
inline void branch(Cpu& c, bool taken, uint64_t target) {
  c.s.branch_pending = true;
  c.s.branch_target = taken ? target : c.s.pc + 8;
}
// Branch likely: not taken nullifies the delay slot (skip it).
inline void branch_likely(Cpu& c, bool taken, uint64_t target) {
  if (taken) {
    c.s.branch_pending = true;
    c.s.branch_target = target;
  } else {
    c.s.pc += 4;
  }
}
inline uint64_t branch_target(const Cpu& c, const DecodedInsn& d) {
  return c.s.pc + 4 + (static_cast<uint64_t>(f::simm(d.raw)) << 2);
}
inline uint64_t effective_address(const Cpu& c, const DecodedInsn& d) {
  return c.s.gpr[f::rs(d.raw)] + static_cast<uint64_t>(f::simm(d.raw));
}

}  // namespace disco::interp
