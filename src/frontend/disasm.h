// Disassembly from the instruction table (no separate opcode knowledge).
#pragma once

#include <cstdint>
#include <string>

namespace disco {

// "addiu   sp, sp, -32"; `pc` resolves branch and jump targets.
std::string disassemble(uint32_t word, uint64_t pc);

// n64 ABI name of a GPR ("zero", "at", "v0", ...).
const char* gpr_name(unsigned r);

}  // namespace disco
