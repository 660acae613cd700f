// Instruction encoders for tests (field layout from the MIPS64 manual).
#pragma once

#include <cstdint>

namespace disco::test::enc {

constexpr uint32_t r(unsigned funct, unsigned rs, unsigned rt, unsigned rd, unsigned sa = 0) {
  return (rs << 21) | (rt << 16) | (rd << 11) | (sa << 6) | funct;
}
constexpr uint32_t i(unsigned op, unsigned rs, unsigned rt, uint16_t imm) {
  return (op << 26) | (rs << 21) | (rt << 16) | imm;
}
constexpr uint32_t j(unsigned op, uint32_t target) { return (op << 26) | (target & 0x03ffffff); }
constexpr uint32_t regimm(unsigned rt_op, unsigned rs, uint16_t imm) { return i(1, rs, rt_op, imm); }
constexpr uint32_t special2(unsigned funct, unsigned rs, unsigned rt, unsigned rd, unsigned sa = 0) {
  return (0x1cu << 26) | r(funct, rs, rt, rd, sa);
}
constexpr uint32_t special3(unsigned funct, unsigned rs, unsigned rt, unsigned rd, unsigned sa) {
  return (0x1fu << 26) | r(funct, rs, rt, rd, sa);
}
constexpr uint32_t cop0(unsigned rs_op, unsigned rt, unsigned rd, unsigned sel = 0) {
  return (0x10u << 26) | (rs_op << 21) | (rt << 16) | (rd << 11) | sel;
}
constexpr uint32_t cop0_co(unsigned funct) { return (0x10u << 26) | (1u << 25) | funct; }

// Common ones.
constexpr uint32_t NOP = 0;
constexpr uint32_t ADDU(unsigned rd, unsigned rs, unsigned rt) { return r(0x21, rs, rt, rd); }
constexpr uint32_t ADD(unsigned rd, unsigned rs, unsigned rt) { return r(0x20, rs, rt, rd); }
constexpr uint32_t DADDU(unsigned rd, unsigned rs, unsigned rt) { return r(0x2d, rs, rt, rd); }
constexpr uint32_t ADDIU(unsigned rt, unsigned rs, int16_t imm) { return i(0x09, rs, rt, static_cast<uint16_t>(imm)); }
constexpr uint32_t DADDIU(unsigned rt, unsigned rs, int16_t imm) { return i(0x19, rs, rt, static_cast<uint16_t>(imm)); }
constexpr uint32_t LUI(unsigned rt, uint16_t imm) { return i(0x0f, 0, rt, imm); }
constexpr uint32_t ORI(unsigned rt, unsigned rs, uint16_t imm) { return i(0x0d, rs, rt, imm); }
constexpr uint32_t BEQ(unsigned rs, unsigned rt, int16_t off) { return i(0x04, rs, rt, static_cast<uint16_t>(off)); }
constexpr uint32_t BNE(unsigned rs, unsigned rt, int16_t off) { return i(0x05, rs, rt, static_cast<uint16_t>(off)); }
constexpr uint32_t BEQL(unsigned rs, unsigned rt, int16_t off) { return i(0x14, rs, rt, static_cast<uint16_t>(off)); }
constexpr uint32_t LW(unsigned rt, unsigned base, int16_t off) { return i(0x23, base, rt, static_cast<uint16_t>(off)); }
constexpr uint32_t SW(unsigned rt, unsigned base, int16_t off) { return i(0x2b, base, rt, static_cast<uint16_t>(off)); }
constexpr uint32_t LD(unsigned rt, unsigned base, int16_t off) { return i(0x37, base, rt, static_cast<uint16_t>(off)); }
constexpr uint32_t SD(unsigned rt, unsigned base, int16_t off) { return i(0x3f, base, rt, static_cast<uint16_t>(off)); }
constexpr uint32_t JR(unsigned rs) { return r(0x08, rs, 0, 0); }
constexpr uint32_t SYSCALL = 0x0c;
constexpr uint32_t BREAK = 0x0d;
constexpr uint32_t ERET = cop0_co(0x18);
constexpr uint32_t TLBWI = cop0_co(0x02);
constexpr uint32_t TLBP = cop0_co(0x08);
constexpr uint32_t TLBR = cop0_co(0x01);
constexpr uint32_t MTC0(unsigned rt, unsigned rd, unsigned sel = 0) { return cop0(0x04, rt, rd, sel); }
constexpr uint32_t MFC0(unsigned rt, unsigned rd, unsigned sel = 0) { return cop0(0x00, rt, rd, sel); }
constexpr uint32_t DMTC0(unsigned rt, unsigned rd, unsigned sel = 0) { return cop0(0x05, rt, rd, sel); }
constexpr uint32_t DMFC0(unsigned rt, unsigned rd, unsigned sel = 0) { return cop0(0x01, rt, rd, sel); }

}  // namespace disco::test::enc
