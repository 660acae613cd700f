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


// ---- more encoders (interp/monitor/frontend tests) -------------------------
constexpr uint32_t i16(unsigned op, unsigned rs, unsigned rt, int imm) {
  return i(op, rs, rt, static_cast<uint16_t>(imm));
}
// SPECIAL: three-register, shift-immediate, shift-variable.
constexpr uint32_t SUBU(unsigned rd, unsigned rs, unsigned rt) { return r(0x23, rs, rt, rd); }
constexpr uint32_t SUB(unsigned rd, unsigned rs, unsigned rt) { return r(0x22, rs, rt, rd); }
constexpr uint32_t DADD(unsigned rd, unsigned rs, unsigned rt) { return r(0x2c, rs, rt, rd); }
constexpr uint32_t DSUB(unsigned rd, unsigned rs, unsigned rt) { return r(0x2e, rs, rt, rd); }
constexpr uint32_t DSUBU(unsigned rd, unsigned rs, unsigned rt) { return r(0x2f, rs, rt, rd); }
constexpr uint32_t OR(unsigned rd, unsigned rs, unsigned rt) { return r(0x25, rs, rt, rd); }
constexpr uint32_t SLL(unsigned rd, unsigned rt, unsigned sa) { return r(0x00, 0, rt, rd, sa); }
constexpr uint32_t SRL(unsigned rd, unsigned rt, unsigned sa) { return r(0x02, 0, rt, rd, sa); }
constexpr uint32_t ROTR(unsigned rd, unsigned rt, unsigned sa) { return r(0x02, 1, rt, rd, sa); }
constexpr uint32_t SRA(unsigned rd, unsigned rt, unsigned sa) { return r(0x03, 0, rt, rd, sa); }
constexpr uint32_t SLLV(unsigned rd, unsigned rt, unsigned rs) { return r(0x04, rs, rt, rd); }
constexpr uint32_t SRLV(unsigned rd, unsigned rt, unsigned rs) { return r(0x06, rs, rt, rd); }
constexpr uint32_t ROTRV(unsigned rd, unsigned rt, unsigned rs) { return r(0x06, rs, rt, rd, 1); }
constexpr uint32_t SRAV(unsigned rd, unsigned rt, unsigned rs) { return r(0x07, rs, rt, rd); }
constexpr uint32_t DSLLV(unsigned rd, unsigned rt, unsigned rs) { return r(0x14, rs, rt, rd); }
constexpr uint32_t DSRLV(unsigned rd, unsigned rt, unsigned rs) { return r(0x16, rs, rt, rd); }
constexpr uint32_t DROTRV(unsigned rd, unsigned rt, unsigned rs) { return r(0x16, rs, rt, rd, 1); }
constexpr uint32_t DSRAV(unsigned rd, unsigned rt, unsigned rs) { return r(0x17, rs, rt, rd); }
constexpr uint32_t DSLL(unsigned rd, unsigned rt, unsigned sa) { return r(0x38, 0, rt, rd, sa); }
constexpr uint32_t DSRL(unsigned rd, unsigned rt, unsigned sa) { return r(0x3a, 0, rt, rd, sa); }
constexpr uint32_t DROTR(unsigned rd, unsigned rt, unsigned sa) { return r(0x3a, 1, rt, rd, sa); }
constexpr uint32_t DSRA(unsigned rd, unsigned rt, unsigned sa) { return r(0x3b, 0, rt, rd, sa); }
constexpr uint32_t DSLL32(unsigned rd, unsigned rt, unsigned sa) { return r(0x3c, 0, rt, rd, sa); }
constexpr uint32_t DSRL32(unsigned rd, unsigned rt, unsigned sa) { return r(0x3e, 0, rt, rd, sa); }
constexpr uint32_t DROTR32(unsigned rd, unsigned rt, unsigned sa) { return r(0x3e, 1, rt, rd, sa); }
constexpr uint32_t DSRA32(unsigned rd, unsigned rt, unsigned sa) { return r(0x3f, 0, rt, rd, sa); }
constexpr uint32_t JALR(unsigned rd, unsigned rs) { return r(0x09, rs, 0, rd); }
constexpr uint32_t MFHI(unsigned rd) { return r(0x10, 0, 0, rd); }
constexpr uint32_t MTHI(unsigned rs) { return r(0x11, rs, 0, 0); }
constexpr uint32_t MFLO(unsigned rd) { return r(0x12, 0, 0, rd); }
constexpr uint32_t MTLO(unsigned rs) { return r(0x13, rs, 0, 0); }
constexpr uint32_t MULT(unsigned rs, unsigned rt) { return r(0x18, rs, rt, 0); }
constexpr uint32_t MULTU(unsigned rs, unsigned rt) { return r(0x19, rs, rt, 0); }
constexpr uint32_t DIV(unsigned rs, unsigned rt) { return r(0x1a, rs, rt, 0); }
constexpr uint32_t DIVU(unsigned rs, unsigned rt) { return r(0x1b, rs, rt, 0); }
constexpr uint32_t DMULT(unsigned rs, unsigned rt) { return r(0x1c, rs, rt, 0); }
constexpr uint32_t DMULTU(unsigned rs, unsigned rt) { return r(0x1d, rs, rt, 0); }
constexpr uint32_t DDIV(unsigned rs, unsigned rt) { return r(0x1e, rs, rt, 0); }
constexpr uint32_t DDIVU(unsigned rs, unsigned rt) { return r(0x1f, rs, rt, 0); }
constexpr uint32_t TEQ(unsigned rs, unsigned rt, unsigned code = 0) { return r(0x34, rs, rt, code >> 5, code & 31); }
constexpr uint32_t SYSCALL_CODE(uint32_t code20) { return ((code20 & 0xfffff) << 6) | 0x0c; }
constexpr uint32_t BREAK_CODE(uint32_t code20) { return ((code20 & 0xfffff) << 6) | 0x0d; }
// REGIMM and branches.
constexpr uint32_t BLTZ(unsigned rs, int off) { return regimm(0x00, rs, static_cast<uint16_t>(off)); }
constexpr uint32_t BGEZ(unsigned rs, int off) { return regimm(0x01, rs, static_cast<uint16_t>(off)); }
constexpr uint32_t BLTZL(unsigned rs, int off) { return regimm(0x02, rs, static_cast<uint16_t>(off)); }
constexpr uint32_t BGEZL(unsigned rs, int off) { return regimm(0x03, rs, static_cast<uint16_t>(off)); }
constexpr uint32_t TEQI(unsigned rs, int imm) { return regimm(0x0c, rs, static_cast<uint16_t>(imm)); }
constexpr uint32_t BLTZAL(unsigned rs, int off) { return regimm(0x10, rs, static_cast<uint16_t>(off)); }
constexpr uint32_t BGEZAL(unsigned rs, int off) { return regimm(0x11, rs, static_cast<uint16_t>(off)); }
constexpr uint32_t BLTZALL(unsigned rs, int off) { return regimm(0x12, rs, static_cast<uint16_t>(off)); }
constexpr uint32_t BGEZALL(unsigned rs, int off) { return regimm(0x13, rs, static_cast<uint16_t>(off)); }
constexpr uint32_t J(uint32_t target_word_index) { return j(0x02, target_word_index); }
constexpr uint32_t JAL(uint32_t target_word_index) { return j(0x03, target_word_index); }
constexpr uint32_t BNEL(unsigned rs, unsigned rt, int off) { return i16(0x15, rs, rt, off); }
constexpr uint32_t BLEZ(unsigned rs, int off) { return i16(0x06, rs, 0, off); }
constexpr uint32_t BGTZ(unsigned rs, int off) { return i16(0x07, rs, 0, off); }
constexpr uint32_t BLEZL(unsigned rs, int off) { return i16(0x16, rs, 0, off); }
constexpr uint32_t BGTZL(unsigned rs, int off) { return i16(0x17, rs, 0, off); }
// Immediate ALU.
constexpr uint32_t ADDI(unsigned rt, unsigned rs, int imm) { return i16(0x08, rs, rt, imm); }
constexpr uint32_t DADDI(unsigned rt, unsigned rs, int imm) { return i16(0x18, rs, rt, imm); }
// SPECIAL2.
constexpr uint32_t MADD(unsigned rs, unsigned rt) { return special2(0x00, rs, rt, 0); }
constexpr uint32_t MADDU(unsigned rs, unsigned rt) { return special2(0x01, rs, rt, 0); }
constexpr uint32_t MUL(unsigned rd, unsigned rs, unsigned rt) { return special2(0x02, rs, rt, rd); }
constexpr uint32_t MSUB(unsigned rs, unsigned rt) { return special2(0x04, rs, rt, 0); }
constexpr uint32_t MSUBU(unsigned rs, unsigned rt) { return special2(0x05, rs, rt, 0); }
// CLZ/CLO/DCLZ/DCLO: the rt field must equal rd.
constexpr uint32_t CLZ(unsigned rd, unsigned rs) { return special2(0x20, rs, rd, rd); }
constexpr uint32_t CLO(unsigned rd, unsigned rs) { return special2(0x21, rs, rd, rd); }
constexpr uint32_t DCLZ(unsigned rd, unsigned rs) { return special2(0x24, rs, rd, rd); }
constexpr uint32_t DCLO(unsigned rd, unsigned rs) { return special2(0x25, rs, rd, rd); }
// SPECIAL3 bit fields, in assembler terms (pos, size) and converted to fields.
constexpr uint32_t EXT(unsigned rt, unsigned rs, unsigned pos, unsigned size) { return special3(0x00, rs, rt, size - 1, pos); }
constexpr uint32_t DEXTM(unsigned rt, unsigned rs, unsigned pos, unsigned size) { return special3(0x01, rs, rt, size - 33, pos); }
constexpr uint32_t DEXTU(unsigned rt, unsigned rs, unsigned pos, unsigned size) { return special3(0x02, rs, rt, size - 1, pos - 32); }
constexpr uint32_t DEXT(unsigned rt, unsigned rs, unsigned pos, unsigned size) { return special3(0x03, rs, rt, size - 1, pos); }
constexpr uint32_t INS(unsigned rt, unsigned rs, unsigned pos, unsigned size) { return special3(0x04, rs, rt, pos + size - 1, pos); }
constexpr uint32_t DINSM(unsigned rt, unsigned rs, unsigned pos, unsigned size) { return special3(0x05, rs, rt, pos + size - 33, pos); }
constexpr uint32_t DINSU(unsigned rt, unsigned rs, unsigned pos, unsigned size) { return special3(0x06, rs, rt, pos + size - 33, pos - 32); }
constexpr uint32_t DINS(unsigned rt, unsigned rs, unsigned pos, unsigned size) { return special3(0x07, rs, rt, pos + size - 1, pos); }
constexpr uint32_t WSBH(unsigned rd, unsigned rt) { return special3(0x20, 0, rt, rd, 0x02); }
constexpr uint32_t SEB(unsigned rd, unsigned rt) { return special3(0x20, 0, rt, rd, 0x10); }
constexpr uint32_t SEH(unsigned rd, unsigned rt) { return special3(0x20, 0, rt, rd, 0x18); }
constexpr uint32_t DSBH(unsigned rd, unsigned rt) { return special3(0x24, 0, rt, rd, 0x02); }
constexpr uint32_t DSHD(unsigned rd, unsigned rt) { return special3(0x24, 0, rt, rd, 0x05); }
constexpr uint32_t RDHWR(unsigned rt, unsigned hwr) { return special3(0x3b, 0, rt, hwr, 0); }
// Loads and stores.
constexpr uint32_t LB(unsigned rt, unsigned base, int off) { return i16(0x20, base, rt, off); }
constexpr uint32_t LH(unsigned rt, unsigned base, int off) { return i16(0x21, base, rt, off); }
constexpr uint32_t LWL(unsigned rt, unsigned base, int off) { return i16(0x22, base, rt, off); }
constexpr uint32_t LBU(unsigned rt, unsigned base, int off) { return i16(0x24, base, rt, off); }
constexpr uint32_t LHU(unsigned rt, unsigned base, int off) { return i16(0x25, base, rt, off); }
constexpr uint32_t LWR(unsigned rt, unsigned base, int off) { return i16(0x26, base, rt, off); }
constexpr uint32_t LWU(unsigned rt, unsigned base, int off) { return i16(0x27, base, rt, off); }
constexpr uint32_t SB(unsigned rt, unsigned base, int off) { return i16(0x28, base, rt, off); }
constexpr uint32_t SH(unsigned rt, unsigned base, int off) { return i16(0x29, base, rt, off); }
constexpr uint32_t SWL(unsigned rt, unsigned base, int off) { return i16(0x2a, base, rt, off); }
constexpr uint32_t SDL(unsigned rt, unsigned base, int off) { return i16(0x2c, base, rt, off); }
constexpr uint32_t SDR(unsigned rt, unsigned base, int off) { return i16(0x2d, base, rt, off); }
constexpr uint32_t SWR(unsigned rt, unsigned base, int off) { return i16(0x2e, base, rt, off); }
constexpr uint32_t CACHE(unsigned op, unsigned base, int off) { return i16(0x2f, base, op, off); }
constexpr uint32_t LL(unsigned rt, unsigned base, int off) { return i16(0x30, base, rt, off); }
constexpr uint32_t LLD(unsigned rt, unsigned base, int off) { return i16(0x34, base, rt, off); }
constexpr uint32_t LDL(unsigned rt, unsigned base, int off) { return i16(0x1a, base, rt, off); }
constexpr uint32_t LDR(unsigned rt, unsigned base, int off) { return i16(0x1b, base, rt, off); }
constexpr uint32_t SC(unsigned rt, unsigned base, int off) { return i16(0x38, base, rt, off); }
constexpr uint32_t SCD(unsigned rt, unsigned base, int off) { return i16(0x3c, base, rt, off); }
constexpr uint32_t LWC2(unsigned rt, unsigned base, int off) { return i16(0x32, base, rt, off); }
// COP0 / COP2.
constexpr uint32_t TLBWR = cop0_co(0x06);
constexpr uint32_t WAIT = cop0_co(0x20);
constexpr uint32_t DI(unsigned rt) { return cop0(0x0b, rt, 12, 0); }
constexpr uint32_t EI(unsigned rt) { return cop0(0x0b, rt, 12, 0) | 0x20; }
constexpr uint32_t COP2(uint32_t cofun) { return (0x12u << 26) | (cofun & 0x03ffffff); }

}  // namespace disco::test::enc
