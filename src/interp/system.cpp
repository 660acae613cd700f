// Exceptions by instruction, traps, synchronisation, cache maintenance,
// hardware registers and the CP0 (privileged) instructions.
#include "interp/common.h"
#include "interp/handlers.h"
#include "cpu/cp0.h"

namespace disco::interp {

DISCO_HANDLER(SYSCALL) { raise_exception(c, EXC_Sys); }
DISCO_HANDLER(BREAK) { raise_exception(c, EXC_Bp); }
// No EJTAG unit: SDBBP and DERET are reserved instructions.
DISCO_HANDLER(SDBBP) { raise_exception(c, EXC_RI); }
DISCO_HANDLER(RESERVED) { raise_exception(c, EXC_RI); }

// ---- conditional traps -----------------------------------------------------
static void trap_if(Cpu& c, bool cond) {
  if (cond) raise_exception(c, EXC_Tr);
}
static int64_t srs(const Cpu& c, const DecodedInsn& d) { return static_cast<int64_t>(rs(c, d)); }
static int64_t srt(const Cpu& c, const DecodedInsn& d) { return static_cast<int64_t>(rt(c, d)); }
DISCO_HANDLER(TGE) { trap_if(c, srs(c, d) >= srt(c, d)); }
DISCO_HANDLER(TGEU) { trap_if(c, rs(c, d) >= rt(c, d)); }
DISCO_HANDLER(TLT) { trap_if(c, srs(c, d) < srt(c, d)); }
DISCO_HANDLER(TLTU) { trap_if(c, rs(c, d) < rt(c, d)); }
DISCO_HANDLER(TEQ) { trap_if(c, rs(c, d) == rt(c, d)); }
DISCO_HANDLER(TNE) { trap_if(c, rs(c, d) != rt(c, d)); }
DISCO_HANDLER(TGEI) { trap_if(c, srs(c, d) >= f::simm(d.raw)); }
DISCO_HANDLER(TGEIU) { trap_if(c, rs(c, d) >= static_cast<uint64_t>(f::simm(d.raw))); }
DISCO_HANDLER(TLTI) { trap_if(c, srs(c, d) < f::simm(d.raw)); }
DISCO_HANDLER(TLTIU) { trap_if(c, rs(c, d) < static_cast<uint64_t>(f::simm(d.raw))); }
DISCO_HANDLER(TEQI) { trap_if(c, srs(c, d) == f::simm(d.raw)); }
DISCO_HANDLER(TNEI) { trap_if(c, srs(c, d) != f::simm(d.raw)); }

// ---- ordering and caches ---------------------------------------------------
// Coherent caches; SYNC orders this processor's accesses against other
// host threads' (a full host barrier).
DISCO_HANDLER(SYNC) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
// synci offset(base) — makes new code visible. Our decoded-code cache
// follows stores already, so this only checks the address is accessible
// as a load would be (it may raise TLB/AdE exceptions like a load).
DISCO_HANDLER(SYNCI) {
  uint64_t paddr;
  mem::translate(c, effective_address(c, d), Access::Load, paddr);
}
// cache op, offset(base) — privileged; caches are not modelled.
DISCO_HANDLER(CACHE) { require_cp0(c); }

// rdhwr rt, rd — user access needs the HWREna bit (kernel always allowed).
DISCO_HANDLER(RDHWR) {
  const unsigned hw = f::rd(d.raw);
  uint64_t v;
  switch (hw) {
    case 0: v = c.s.cp0.ebase & 0x3ff; break;  // CPUNum
    case 1: v = 32; break;                     // SYNCI_Step: cache line bytes
    case 2: v = sext32(c.count()); break;      // CC
    case 3: v = 2; break;                      // CCRes: cycles per Count tick
    case 29: v = c.s.cp0.userlocal; break;     // ULR
    default: return raise_exception(c, EXC_RI);
  }
  if (!c.kernel_mode() && !(c.s.cp0.status & Status_CU0) && !((c.s.cp0.hwrena >> hw) & 1))
    return raise_exception(c, EXC_RI);
  set_gpr(c, f::rt(d.raw), v);
}

// ---- CP0 moves ---------------------------------------------------------------
static unsigned cp0_regsel(const DecodedInsn& d) { return cp0::reg(f::rd(d.raw), f::sel(d.raw)); }
DISCO_HANDLER(MFC0) {
  if (require_cp0(c)) set_gpr(c, f::rt(d.raw), sext32(cp0_read(c, cp0_regsel(d))));
}
DISCO_HANDLER(DMFC0) {
  if (require_cp0(c) && require_64(c)) set_gpr(c, f::rt(d.raw), cp0_read(c, cp0_regsel(d)));
}
// MTC0 of a 64-bit register writes the sign-extended low word.
DISCO_HANDLER(MTC0) {
  if (require_cp0(c)) cp0_write(c, cp0_regsel(d), sext32(rt(c, d)));
}
DISCO_HANDLER(DMTC0) {
  if (require_cp0(c) && require_64(c)) cp0_write(c, cp0_regsel(d), rt(c, d));
}
// Shadow register sets: SRSCtl.HSS = 0, so the previous set is the current one.
DISCO_HANDLER(RDPGPR) {
  if (require_cp0(c)) set_gpr(c, f::rd(d.raw), rt(c, d));
}
DISCO_HANDLER(WRPGPR) {
  if (require_cp0(c)) set_gpr(c, f::rd(d.raw), rt(c, d));
}
// di rt / ei rt — rt receives Status before the change.
DISCO_HANDLER(DI) {
  if (!require_cp0(c)) return;
  set_gpr(c, f::rt(d.raw), sext32(c.s.cp0.status));
  c.s.cp0.status &= ~Status_IE;
}
DISCO_HANDLER(EI) {
  if (!require_cp0(c)) return;
  set_gpr(c, f::rt(d.raw), sext32(c.s.cp0.status));
  c.s.cp0.status |= Status_IE;
  c.events |= EV_IRQ_CHECK;
}

// ---- TLB and exception return ----------------------------------------------
DISCO_HANDLER(TLBR) {
  if (require_cp0(c)) tlb_read(c);
}
DISCO_HANDLER(TLBWI) {
  if (require_cp0(c)) tlb_write(c, static_cast<unsigned>(c.s.cp0.index));
}
DISCO_HANDLER(TLBWR) {
  if (require_cp0(c)) tlb_write(c, cp0_random(c));
}
DISCO_HANDLER(TLBP) {
  if (require_cp0(c)) tlb_probe_insn(c);
}
DISCO_HANDLER(ERET) {
  if (require_cp0(c)) do_eret(c);
}
DISCO_HANDLER(DERET) {
  if (require_cp0(c)) raise_exception(c, EXC_RI);
}
// wait — idles until an interrupt is pending (the run loop's job).
DISCO_HANDLER(WAIT) {
  if (require_cp0(c)) c.events |= EV_WAIT;
}

}  // namespace disco::interp
