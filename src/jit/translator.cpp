#include <bitset>

#include "frontend/decoder.h"
#include "jit/block.h"

namespace disco::jit {

namespace {

// The target of B (beq $0, $0) or J at `pc` if the block may follow it:
// on the block's page, not yet in the block, with room after it; the delay
// slot must be an instruction that neither branches nor ends a block.
bool follow_target(const BlockIR& b, uint64_t pc, uint32_t raw, Op op, uint32_t slot_flags,
                   const std::bitset<kInsnsPerPage>& seen, uint64_t& target) {
  if (op == Op::BEQ && field::rs(raw) == 0 && field::rt(raw) == 0)
    target = pc + 4 + (static_cast<uint64_t>(field::simm(raw)) << 2);
  else if (op == Op::J)
    target = ((pc + 4) & ~0x0fffffffull) | (static_cast<uint64_t>(field::target(raw)) << 2);
  else
    return false;
  if (slot_flags & (F_DELAY | F_BRANCH | F_JUMP | F_PRIV | F_ENDS_BLOCK)) return false;
  if (((target ^ b.vpc) & ~kPageMask) != 0) return false;
  if (seen[(target & kPageMask) >> 2]) return false;  // a loop: the block ends, the exit chains
  return b.insns.size() + 3 <= kMaxBlockInsns;        // the branch, its slot, one at the target
}

}  // namespace

BlockIR form_block(const Cpu& c) {
  BlockIR b;
  b.vpc = c.s.pc;
  b.paddr = c.fetch_page->paddr | (c.s.pc & kPageMask);
  unsigned idx = static_cast<unsigned>((c.s.pc & kPageMask) >> 2);
  uint64_t pc = c.s.pc;
  std::bitset<kInsnsPerPage> seen;
  // Debugger breakpoints: the block ends before one, so that the
  // dispatcher, which checks s.pc between blocks, stops exactly there.
  const bool bps = !c.breakpoints.empty();
  while (idx < kInsnsPerPage && b.insns.size() < kMaxBlockInsns) {
    if (bps && c.breakpoint_at(pc)) return b;  // first instruction: empty, the interpreter runs it
    const uint32_t raw = c.fetch_page->insn[idx].raw;
    const Op op = decode(raw);
    const uint32_t flags = info(op).flags;
    seen[idx] = true;
    if (flags & F_DELAY) {
      // The branch and its delay slot go together, on this page.
      if (idx + 1 >= kInsnsPerPage) break;
      if (bps && c.breakpoint_at(pc + 4)) return b;  // a breakpoint in the slot: end before the branch
      b.insns.push_back({pc, raw, op, flags, false});
      const uint32_t slot_raw = c.fetch_page->insn[idx + 1].raw;
      const Op slot_op = decode(slot_raw);
      const uint32_t slot_flags = info(slot_op).flags;
      b.insns.push_back({pc + 4, slot_raw, slot_op, slot_flags, true});
      seen[idx + 1] = true;
      uint64_t target;
      if (!follow_target(b, pc, raw, op, slot_flags, seen, target)) return b;
      if (bps && c.breakpoint_at(target)) return b;  // not followed: the block exits to it
      b.insns[b.insns.size() - 2].followed = true;
      pc = target;
      idx = static_cast<unsigned>((target & kPageMask) >> 2);
      continue;
    }
    b.insns.push_back({pc, raw, op, flags, false});
    if (flags & F_ENDS_BLOCK) return b;
    ++idx;
    pc += 4;
  }
  return b;
}

}  // namespace disco::jit
