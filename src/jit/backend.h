// The host-specific half of the JIT: turns a BlockIR into host code.
// x86-64 is implemented (x64_backend.cpp); an AArch64 backend implements
// the same interface without touching the front half.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "jit/block.h"

namespace disco::jit {

using BlockFn = void (*)(Cpu*);

// Per-op counts of instructions that ran through interpreter handlers
// instead of inline code (visible with --stats).
struct FallbackCounters {
  uint64_t by_op[kOpCount] = {};
};

// A patchable exit: generated code jumps through `jump_to`, which is the
// block's own epilogue (back to the dispatcher) until the dispatcher links
// it to the entry of the block at `target_pc`.
struct ChainSlot {
  uint64_t jump_to = 0;
  uint64_t epilogue = 0;
  uint64_t target_pc = 0;
  void* linked = nullptr;  // the block it is linked to (owned by the JIT)
  void* owner = nullptr;   // the block whose exit this is
};
constexpr unsigned kMaxChainSlots = 4;

struct CompiledBlock {
  BlockFn fn = nullptr;
  size_t code_bytes = 0;
  unsigned guest_insns = 0;
  unsigned inlined = 0;  // instructions emitted inline (the rest call handlers)
  // Handler arguments for the fallbacks; the code points into this array.
  std::unique_ptr<DecodedInsn[]> fallback_args;
  // Chainable exits (the code points into this array) and the entry that
  // chained jumps use (past the prologue).
  std::unique_ptr<ChainSlot[]> slots;
  unsigned slot_count = 0;
  uint64_t chain_entry = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Returns a block with fn == nullptr and `error` set if emission failed.
  virtual CompiledBlock compile(const BlockIR& ir, const Cpu& c, const JitClasses& classes,
                                FallbackCounters& counters, std::string& error) = 0;
  virtual void release(BlockFn fn) = 0;
};

std::unique_ptr<Backend> make_host_backend();

}  // namespace disco::jit
