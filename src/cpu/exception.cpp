#include "cpu/exception.h"

namespace disco {
namespace {

using namespace cp0;

uint64_t vector_base(const Cpu& c) {
  if (c.s.cp0.status & Status_BEV) return c.reset_base + 0x200;
  // EBase bits 31..12 (bits 31..30 fixed at 10): a ckseg0/ckseg1 address.
  return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(c.s.cp0.ebase & 0xfffff000u)));
}

// Common entry. `offset` is the vector offset for EXL = 0; with EXL already
// set, EPC/BD are left alone and every exception uses the general vector.
// `by_insn`: raised by the running instruction (or its fetch), which then
// counts as executed in the old mode; false for an interrupt, taken
// between instructions.
void enter(Cpu& c, uint32_t code, uint32_t offset, bool by_insn = true) {
  Cp0State& cp = c.s.cp0;
  if (!(cp.status & Status_EXL)) {
    if (c.s.in_delay_slot) {
      cp.epc = c.s.pc - 4;
      cp.cause |= Cause_BD;
    } else {
      cp.epc = c.s.pc;
      cp.cause &= ~Cause_BD;
    }
  } else {
    offset = 0x180;
  }
  cp.cause = (cp.cause & ~Cause_ExcCode) | (code << Cause_ExcCode_SHIFT);
  cp.status |= Status_EXL;
  c.s.pc = vector_base(c) + offset;
  c.s.branch_pending = false;
  c.s.in_delay_slot = false;
  c.events |= EV_PC_SET;
  c.stat_exceptions++;
  c.mode_changed(by_insn);
  if (c.exception_hook) c.exception_hook(c, code, c.exception_hook_ctx);
}

// Context/XContext BadVPN2 and EntryHi VPN2/R from a faulting address.
void set_tlb_context(Cpu& c, uint64_t vaddr) {
  Cp0State& cp = c.s.cp0;
  cp.badvaddr = vaddr;
  // Context: PTEBase 63..23, BadVPN2 (vaddr 31..13) at 22..4.
  cp.context = (cp.context & ~0x7fffffull) | (((vaddr >> 13) & 0x7ffff) << 4);
  // XContext: PTEBase above R, R (vaddr 63..62), BadVPN2 (vaddr SEGBITS-1..13) at 4.
  constexpr unsigned vpn_bits = kSegBits - 13;
  constexpr uint64_t low_mask = (1ull << (vpn_bits + 4 + 2)) - 1;
  cp.xcontext = (cp.xcontext & ~low_mask) | ((vaddr >> 62) << (vpn_bits + 4)) |
                (((vaddr >> 13) & ((1ull << vpn_bits) - 1)) << 4);
  // Only VPN2/R change; the ASID (and so the soft TLB) stays valid.
  cp.entryhi = (vaddr & ((3ull << 62) | EntryHi_VPN2)) | (cp.entryhi & EntryHi_ASID);
}

}  // namespace

void raise_exception(Cpu& c, uint32_t code) { enter(c, code, 0x180); }

void raise_cpu_unusable(Cpu& c, unsigned unit) {
  c.s.cp0.cause = (c.s.cp0.cause & ~Cause_CE) | (unit << Cause_CE_SHIFT);
  enter(c, EXC_CpU, 0x180);
}

void raise_address_error(Cpu& c, uint64_t vaddr, Access acc) {
  c.s.cp0.badvaddr = vaddr;
  enter(c, acc == Access::Store ? EXC_AdES : EXC_AdEL, 0x180);
}

void raise_tlb_refill(Cpu& c, uint64_t vaddr, Access acc) {
  set_tlb_context(c, vaddr);
  const uint32_t st = c.s.cp0.status;
  const unsigned r = vaddr >> 62;
  const bool xtlb = (r == 0 && (st & Status_UX)) || (r == 1 && (st & Status_SX)) ||
                    (r == 3 && (st & Status_KX));
  c.stat_tlb_refills++;
  enter(c, acc == Access::Store ? EXC_TLBS : EXC_TLBL, xtlb ? 0x080 : 0x000);
}

void raise_tlb_invalid(Cpu& c, uint64_t vaddr, Access acc) {
  set_tlb_context(c, vaddr);
  enter(c, acc == Access::Store ? EXC_TLBS : EXC_TLBL, 0x180);
}

void raise_tlb_modified(Cpu& c, uint64_t vaddr) {
  set_tlb_context(c, vaddr);
  enter(c, EXC_Mod, 0x180);
}

void raise_bus_error(Cpu& c, Access acc) { enter(c, acc == Access::Fetch ? EXC_IBE : EXC_DBE, 0x180); }

void deliver_interrupt(Cpu& c) {
  c.s.in_delay_slot = false;
  enter(c, EXC_Int, (c.s.cp0.cause & Cause_IV) ? 0x200 : 0x180, false);
}

void do_eret(Cpu& c) {
  Cp0State& cp = c.s.cp0;
  if (cp.status & Status_ERL) {
    c.s.pc = cp.errorepc;
    cp.status &= ~Status_ERL;
  } else {
    c.s.pc = cp.epc;
    cp.status &= ~Status_EXL;
  }
  c.s.llbit = false;
  c.s.branch_pending = false;
  c.events |= EV_PC_SET | EV_IRQ_CHECK;
  c.mode_changed(true);  // ERET itself ran in kernel mode
}

}  // namespace disco
