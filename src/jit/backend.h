// The host-specific half of the JIT: turns a BlockIR into host code.
// x86-64 is implemented (x64_backend.cpp); an AArch64 backend implements
// the same interface without touching the front half.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "jit/block.h"

namespace disco::jit {

using BlockFn = void (*)(Cpu*);

// Per-op counts of instructions that ran through interpreter handlers
// instead of inline code (visible with --stats).
struct FallbackCounters {
  uint64_t by_op[kOpCount] = {};
};

// A patchable exit: generated code jumps to `jump_to`, which is the slot's
// own way out (`epilogue`: it sets CpuArea::chain_slot to the slot and
// returns to the dispatcher) until the dispatcher links it to the entry of
// the block at `target_pc`. The jump is a direct one whose 32-bit
// displacement is at `patch` (all code lives in one area), rewritten by
// set_jump.
struct ChainSlot {
  uint64_t jump_to = 0;
  uint64_t epilogue = 0;
  uint8_t* patch = nullptr;
  uint64_t target_pc = 0;
  void* linked = nullptr;  // the block it is linked to (owned by the JIT)
  void* owner = nullptr;   // the block whose exit this is
};
constexpr unsigned kMaxChainSlots = 4;

inline void set_jump(ChainSlot& s, uint64_t to) {
  s.jump_to = to;
  if (!s.patch) return;
  const auto rel = static_cast<int32_t>(static_cast<int64_t>(to - (reinterpret_cast<uint64_t>(s.patch) + 4)));
  std::memcpy(s.patch, &rel, sizeof rel);
}

// Status bits that change what a block means: privilege (and so which
// segments are legal and whether 64-bit ops are enabled), coprocessor
// usability and the FPU register model. A block's key is its physical
// address | these bits << 36 (bits shifted out of 64 are not part of it).
constexpr uint32_t kModeStatusBits = cp0::Status_KSU | cp0::Status_EXL | cp0::Status_ERL | cp0::Status_UX |
                                     cp0::Status_SX | cp0::Status_KX | cp0::Status_CU0 | cp0::Status_CU1 |
                                     cp0::Status_FR;
constexpr unsigned kModeShift = 36;

// kseg0/kseg1 (ckseg0/ckseg1): unmapped, and only legal in kernel mode,
// which the key's mode bits fix; so for these pcs the key is a function of
// pc and Status alone and needs no fetch translation.
inline bool in_kseg01(uint64_t vpc) { return static_cast<int64_t>(vpc) >> 30 == -2; }
constexpr uint64_t kKseg01PhysMask = 0x1fffffff;

// The dispatcher's block cache, indexed by virtual pc alone so that
// generated code can probe it for a pc known only at run time (JR/JALR)
// or on another page: it recomputes the key the dispatcher would (the
// fetch soft-TLB gives the physical page) and jumps to `entry` on a match.
struct JumpCacheEntry {
  uint64_t vpc = ~0ull;
  uint64_t phys_mode = ~0ull;  // the block's key: paddr | mode bits << kModeShift
  uint64_t entry = 0;          // its chain entry
  void* block = nullptr;       // owned by the JIT
};
static_assert(sizeof(JumpCacheEntry) == 32);
constexpr unsigned kJumpCacheBits = 16;
inline size_t jump_cache_index(uint64_t vpc) {
  return ((vpc >> 2) ^ (vpc >> 15)) & ((1u << kJumpCacheBits) - 1);
}

// One handler call of a block: what run_fallback needs.
struct FallbackSite {
  DecodedInsn insn;   // the interpreter's handler and the instruction
  uint64_t pc = 0;
  uint64_t* counter = nullptr;  // FallbackCounters::by_op of the op
  bool delay_slot = false;
};

struct CompiledBlock {
  BlockFn fn = nullptr;
  size_t code_bytes = 0;
  unsigned guest_insns = 0;
  unsigned inlined = 0;  // instructions emitted inline (the rest call handlers)
  bool self_loop = false;  // branches back to its start keeping registers in host registers
  // The block's handler calls; the code points into this array.
  std::unique_ptr<FallbackSite[]> fallback_args;
  // Chainable exits (the code points into this array) and the entry that
  // chained jumps use (past the prologue).
  std::unique_ptr<ChainSlot[]> slots;
  unsigned slot_count = 0;
  uint64_t chain_entry = 0;
};

// Called by generated code when a handler left events pending. When all
// the dispatcher would do is clear them and go on (no interrupt to
// deliver, no timer, budget, WAIT, stop or code write; the block's stop_at
// still holds), clears them: returns 1 to go on where the block was, 2 to
// go on at s.pc (an exception or ERET set it). 0: leave for the dispatcher.
int resume_after_events(Cpu& c);

// A handler call from generated code, with s.cycles up to date: sets
// s.pc and the delay-slot state, runs the handler, counts it. Returns 0 to
// go on (no events, or resume_after_events cleared them), 2 to go on at
// s.pc, 1 to leave for the dispatcher (s.pc and s.cycles set for it).
int run_fallback(Cpu& c, const FallbackSite& f);

class Backend {
 public:
  virtual ~Backend() = default;
  // Returns a block with fn == nullptr and `error` set if emission failed.
  // `jump_cache` (1 << kJumpCacheBits entries) outlives the code.
  virtual CompiledBlock compile(const BlockIR& ir, const Cpu& c, const JitClasses& classes,
                                FallbackCounters& counters, const JumpCacheEntry* jump_cache,
                                std::string& error) = 0;
  virtual void release(BlockFn fn) = 0;
  // All blocks are released: their memory may be reused.
  virtual void reset() {}
  // Code shared by all blocks (thunks), for perf's symbol map.
  struct SharedCode {
    uint64_t addr;
    size_t size;
    std::string name;
  };
  virtual std::vector<SharedCode> shared_code() const { return {}; }
};

std::unique_ptr<Backend> make_host_backend();
// Whether make_host_backend() makes one on this host (x86-64 now): without
// it the Jit runs everything in the interpreter.
bool host_backend_available();

}  // namespace disco::jit
