// The instruction table as data: opcode identifiers, flags, mask/match.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace disco {

enum InsnFlag : uint32_t {
  F_BRANCH = 1u << 0,      // PC-relative conditional branch
  F_JUMP = 1u << 1,        // J/JAL/JR/JALR/ERET
  F_DELAY = 1u << 2,       // has a delay slot
  F_LIKELY = 1u << 3,      // delay slot nullified when not taken
  F_LINK = 1u << 4,        // writes a return address
  F_ENDS_BLOCK = 1u << 5,  // a translator must end the block after it (and its delay slot)
  F_PRIV = 1u << 6,        // needs kernel mode or Status.CU0 (CpU otherwise)
  F_FPU = 1u << 7,         // needs Status.CU1 (CpU otherwise)
  F_COP2 = 1u << 8,        // coprocessor 2: always CpU here
  F_LOAD = 1u << 9,
  F_STORE = 1u << 10,
  F_SIZE1 = 1u << 11,
  F_SIZE2 = 1u << 12,
  F_SIZE4 = 1u << 13,
  F_SIZE8 = 1u << 14,
  F_UNALIGNED = 1u << 15,  // LWL/LWR/LDL/LDR/SWL/SWR/SDL/SDR
  F_64 = 1u << 16,         // 64-bit operation: RI in 32-bit user/supervisor mode
  F_EXCEPTION = 1u << 17,  // may raise an exception other than a memory fault
};

enum class Op : uint16_t {
#define INSN(name, pattern, operands, flags) name,
#include "frontend/insn_table.inc"
#undef INSN
  RESERVED,  // matches no pattern: Reserved Instruction
  COUNT
};

constexpr size_t kOpCount = static_cast<size_t>(Op::COUNT);

struct InsnInfo {
  std::string_view name;      // manual mnemonic, '_' for '.' (ADD_S is add.s)
  std::string_view pattern;   // as written in the table
  std::string_view operands;  // disassembly template
  uint32_t flags;
  uint32_t mask;   // fixed bits
  uint32_t match;  // their values
};

namespace detail {
constexpr InsnInfo make_info(std::string_view name, std::string_view pattern,
                             std::string_view operands, uint32_t flags) {
  uint32_t mask = 0, match = 0;
  int bit = 31;
  for (char ch : pattern) {
    if (ch == ' ') continue;
    if (bit < 0) throw "instruction pattern longer than 32 bits";
    if (ch == '0' || ch == '1') {
      mask |= 1u << bit;
      if (ch == '1') match |= 1u << bit;
    }
    --bit;
  }
  if (bit != -1) throw "instruction pattern shorter than 32 bits";
  return InsnInfo{name, pattern, operands, flags, mask, match};
}
}  // namespace detail

inline constexpr std::array<InsnInfo, kOpCount> kInsnTable = {{
#define INSN(name, pattern, operands, flags) detail::make_info(#name, pattern, operands, flags),
#include "frontend/insn_table.inc"
#undef INSN
    InsnInfo{"RESERVED", "", "raw", F_EXCEPTION, 0, 0},
}};

constexpr const InsnInfo& info(Op op) { return kInsnTable[static_cast<size_t>(op)]; }

constexpr unsigned access_size(uint32_t flags) {
  return (flags & F_SIZE1) ? 1 : (flags & F_SIZE2) ? 2 : (flags & F_SIZE4) ? 4 : (flags & F_SIZE8) ? 8 : 0;
}

// Instruction fields (MIPS manual names).
namespace field {
constexpr unsigned opcode(uint32_t w) { return w >> 26; }
constexpr unsigned rs(uint32_t w) { return (w >> 21) & 31; }
constexpr unsigned rt(uint32_t w) { return (w >> 16) & 31; }
constexpr unsigned rd(uint32_t w) { return (w >> 11) & 31; }
constexpr unsigned sa(uint32_t w) { return (w >> 6) & 31; }
constexpr unsigned funct(uint32_t w) { return w & 63; }
constexpr int64_t simm(uint32_t w) { return static_cast<int16_t>(w & 0xffff); }
constexpr uint64_t uimm(uint32_t w) { return w & 0xffff; }
constexpr uint32_t target(uint32_t w) { return w & 0x03ffffff; }
constexpr unsigned sel(uint32_t w) { return w & 7; }
// FPU: fmt 25..21, ft 20..16, fs 15..11, fd 10..6; COP1X fr 25..21.
constexpr unsigned ft(uint32_t w) { return (w >> 16) & 31; }
constexpr unsigned fs(uint32_t w) { return (w >> 11) & 31; }
constexpr unsigned fd(uint32_t w) { return (w >> 6) & 31; }
constexpr unsigned fr(uint32_t w) { return (w >> 21) & 31; }
constexpr unsigned cc_branch(uint32_t w) { return (w >> 18) & 7; }  // BC1x, MOVF/MOVT
constexpr unsigned cc_compare(uint32_t w) { return (w >> 8) & 7; }  // C.cond.fmt
constexpr unsigned code20(uint32_t w) { return (w >> 6) & 0xfffff; }
}  // namespace field

}  // namespace disco
