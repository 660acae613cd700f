// Branches and jumps. All of them (except ERET) have a delay slot; the
// delay-slot machine lives in common.h and the run loop's epilogue.
#include "interp/common.h"
#include "interp/handlers.h"

namespace disco::interp {

static int64_t srs(const Cpu& c, const DecodedInsn& d) { return static_cast<int64_t>(rs(c, d)); }

DISCO_HANDLER(BEQ) { branch(c, rs(c, d) == rt(c, d), branch_target(c, d)); }
DISCO_HANDLER(BNE) { branch(c, rs(c, d) != rt(c, d), branch_target(c, d)); }
DISCO_HANDLER(BLEZ) { branch(c, srs(c, d) <= 0, branch_target(c, d)); }
DISCO_HANDLER(BGTZ) { branch(c, srs(c, d) > 0, branch_target(c, d)); }
DISCO_HANDLER(BLTZ) { branch(c, srs(c, d) < 0, branch_target(c, d)); }
DISCO_HANDLER(BGEZ) { branch(c, srs(c, d) >= 0, branch_target(c, d)); }
DISCO_HANDLER(BEQL) { branch_likely(c, rs(c, d) == rt(c, d), branch_target(c, d)); }
DISCO_HANDLER(BNEL) { branch_likely(c, rs(c, d) != rt(c, d), branch_target(c, d)); }
DISCO_HANDLER(BLEZL) { branch_likely(c, srs(c, d) <= 0, branch_target(c, d)); }
DISCO_HANDLER(BGTZL) { branch_likely(c, srs(c, d) > 0, branch_target(c, d)); }
DISCO_HANDLER(BLTZL) { branch_likely(c, srs(c, d) < 0, branch_target(c, d)); }
DISCO_HANDLER(BGEZL) { branch_likely(c, srs(c, d) >= 0, branch_target(c, d)); }
// The link register is written even when the branch is not taken; the
// condition reads rs before the link is written (rs = 31 is UNPREDICTABLE).
DISCO_HANDLER(BLTZAL) {
  const bool t = srs(c, d) < 0;
  set_gpr(c, 31, c.s.pc + 8);
  branch(c, t, branch_target(c, d));
}
DISCO_HANDLER(BGEZAL) {
  const bool t = srs(c, d) >= 0;
  set_gpr(c, 31, c.s.pc + 8);
  branch(c, t, branch_target(c, d));
}
DISCO_HANDLER(BLTZALL) {
  const bool t = srs(c, d) < 0;
  set_gpr(c, 31, c.s.pc + 8);
  branch_likely(c, t, branch_target(c, d));
}
DISCO_HANDLER(BGEZALL) {
  const bool t = srs(c, d) >= 0;
  set_gpr(c, 31, c.s.pc + 8);
  branch_likely(c, t, branch_target(c, d));
}

static uint64_t jump_target(const Cpu& c, const DecodedInsn& d) {
  return ((c.s.pc + 4) & ~0x0fffffffull) | (static_cast<uint64_t>(f::target(d.raw)) << 2);
}
DISCO_HANDLER(J) { branch(c, true, jump_target(c, d)); }
DISCO_HANDLER(JAL) {
  set_gpr(c, 31, c.s.pc + 8);
  branch(c, true, jump_target(c, d));
}
// jr rs — a misaligned target raises AdEL when it is fetched.
DISCO_HANDLER(JR) { branch(c, true, rs(c, d)); }
DISCO_HANDLER(JR_HB) { branch(c, true, rs(c, d)); }
DISCO_HANDLER(JALR) {
  const uint64_t t = rs(c, d);
  set_gpr(c, f::rd(d.raw), c.s.pc + 8);
  branch(c, true, t);
}
DISCO_HANDLER(JALR_HB) { op_JALR(c, d); }

}  // namespace disco::interp
