// Declarations of every instruction handler, generated from the table: a
// missing handler is a link error, never a silent skip.
#pragma once

#include "cpu/cpu.h"

namespace disco::interp {

#define INSN(name, pattern, operands, flags) void op_##name(Cpu& c, const DecodedInsn& d);
#include "frontend/insn_table.inc"
#undef INSN
void op_RESERVED(Cpu& c, const DecodedInsn& d);

// Handler for each Op, indexed by Op.
extern const InsnHandler kHandlers[];

}  // namespace disco::interp
