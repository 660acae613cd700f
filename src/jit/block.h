// The JIT's front half: guest basic blocks as data, independent of the
// host. A block runs from its first instruction through a block-ending
// instruction and its delay slot, within one guest page. An unconditional
// direct branch without link (B, J) to a later-unvisited instruction on the
// same page does not end it: the block goes on, after the delay slot, at
// the target ("followed"), so short loops such as a round of a hash and the
// moves that close it become one block.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "frontend/insn.h"
#include "cpu/cpu.h"

namespace disco::jit {

constexpr unsigned kMaxBlockInsns = 48;

struct GuestInsn {
  uint64_t pc;
  uint32_t raw;
  Op op;
  uint32_t flags;     // InsnFlag of the op
  bool delay_slot;    // executes in the delay slot of the previous instruction
  bool followed = false;  // a branch the block follows: after its slot comes its target
};

struct BlockIR {
  uint64_t vpc = 0;    // virtual address of the first instruction
  uint64_t paddr = 0;  // its physical address
  std::vector<GuestInsn> insns;
};

// Builds the block starting at c.s.pc from the current fetch page (the
// caller made it current with interp::fetch). An empty block means "let
// the interpreter run this instruction" (a branch whose delay slot is on
// the next page, or an instruction at a debugger breakpoint). A block never
// holds a breakpoint address (Cpu::breakpoints): it ends before one.
BlockIR form_block(const Cpu& c);

// Which instruction classes the backend may inline (--jit-disable).
// `loop`: a block that branches back to its start keeps guest registers
// in host registers from one iteration to the next.
struct JitClasses {
  bool alu = true, mem = true, branch = true, loop = true;
};

}  // namespace disco::jit
