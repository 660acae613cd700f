#include "frontend/decoder.h"
#include "jit/block.h"

namespace disco::jit {

BlockIR form_block(const Cpu& c) {
  BlockIR b;
  b.vpc = c.s.pc;
  b.paddr = c.fetch_page->paddr | (c.s.pc & kPageMask);
  unsigned idx = static_cast<unsigned>((c.s.pc & kPageMask) >> 2);
  uint64_t pc = c.s.pc;
  while (idx < kInsnsPerPage && b.insns.size() < kMaxBlockInsns) {
    const uint32_t raw = c.fetch_page->insn[idx].raw;
    const Op op = decode(raw);
    const uint32_t flags = info(op).flags;
    if (flags & F_DELAY) {
      // The branch and its delay slot go together, on this page.
      if (idx + 1 >= kInsnsPerPage) break;
      b.insns.push_back({pc, raw, op, flags, false});
      const uint32_t slot_raw = c.fetch_page->insn[idx + 1].raw;
      const Op slot_op = decode(slot_raw);
      b.insns.push_back({pc + 4, slot_raw, slot_op, info(slot_op).flags, true});
      return b;
    }
    b.insns.push_back({pc, raw, op, flags, false});
    if (flags & F_ENDS_BLOCK) return b;
    ++idx;
    pc += 4;
  }
  return b;
}

}  // namespace disco::jit
