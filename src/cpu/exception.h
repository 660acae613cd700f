// Exception delivery: EPC/BD, EXL, ExcCode, vector selection (BEV, EBase,
// refill vs XTLB refill vs general vs interrupt), and ERET.
#pragma once

#include <cstdint>

#include "cpu/cpu.h"

namespace disco {

// Delivers exception `code` for the instruction at s.pc (through the
// general vector, offset 0x180). Sets EV_PC_SET.
void raise_exception(Cpu& c, uint32_t code);
// Coprocessor Unusable for coprocessor `unit` (Cause.CE).
void raise_cpu_unusable(Cpu& c, unsigned unit);
// Address error (AdEL for loads/fetches, AdES for stores), BadVAddr = vaddr.
void raise_address_error(Cpu& c, uint64_t vaddr, Access acc);
// TLB exceptions; set BadVAddr, Context/XContext.BadVPN2, EntryHi.VPN2/R.
void raise_tlb_refill(Cpu& c, uint64_t vaddr, Access acc);
void raise_tlb_invalid(Cpu& c, uint64_t vaddr, Access acc);
void raise_tlb_modified(Cpu& c, uint64_t vaddr);
// Bus error on a fetch (IBE) or data access (DBE).
void raise_bus_error(Cpu& c, Access acc);
// Interrupt between instructions: EPC = s.pc (the next instruction).
void deliver_interrupt(Cpu& c);
// ERET: return from ErrorEPC (ERL) or EPC (EXL), clear LLbit.
void do_eret(Cpu& c);

}  // namespace disco
