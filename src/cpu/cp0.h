// CP0 register semantics (read/write masks, side effects) and the TLB
// maintenance instructions. Engines call these for MFC0/MTC0/TLB*.
#pragma once

#include <cstdint>

#include "cpu/cpu.h"

namespace disco {

// `regsel` = reg * 8 + sel (cp0::reg()). Unimplemented registers read 0 and
// ignore writes, as the PRA allows for optional registers.
uint64_t cp0_read(Cpu& c, unsigned regsel);
void cp0_write(Cpu& c, unsigned regsel, uint64_t value);
// Random: in [Wired, 63], derived from the cycle counter.
unsigned cp0_random(const Cpu& c);

void tlb_read(Cpu& c);         // TLBR
void tlb_write(Cpu& c, unsigned index);  // TLBWI (Index) / TLBWR (Random)
void tlb_probe_insn(Cpu& c);   // TLBP

}  // namespace disco
