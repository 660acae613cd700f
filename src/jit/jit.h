// The JIT engine: code cache keyed by guest-physical address and the mode
// bits that change semantics, invalidation when guest code is written, and
// the dispatcher loop that runs blocks (with the interpreter's own slow
// path between them).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "interp/interpreter.h"
#include "jit/backend.h"

namespace disco::jit {

struct JitStats {
  uint64_t blocks_compiled = 0;
  uint64_t loops_compiled = 0;          // of those, self loops (JitClasses::loop)
  uint64_t blocks_executed = 0;
  uint64_t guest_insns_in_blocks = 0;   // executed inside translated blocks
  uint64_t interp_steps = 0;            // executed by the interpreter (delay slots, budget ends)
  uint64_t invalidations = 0;
  uint64_t flushes = 0;
  uint64_t chains_linked = 0;
  // Why blocks came back to the dispatcher: an event (exception, ERET,
  // interrupt check, ...), an exit slot not linked yet or a timer/budget
  // stop, or a jump-cache exit that missed.
  uint64_t exits_event = 0, exits_slot = 0, exits_lookup = 0;
  uint64_t code_bytes = 0;
};

class Jit {
 public:
  explicit Jit(Cpu& c, JitClasses classes = {});
  ~Jit();
  Jit(const Jit&) = delete;
  Jit& operator=(const Jit&) = delete;

  // Runs until s.cycles reaches `limit`, a WAIT idles, or EV_STOP (the
  // interpreter's contract), or after `max_steps` blocks/interpreter steps
  // (lockstep runs one at a time).
  StopReason run(uint64_t limit, uint64_t max_steps = ~0ull);

  const JitStats& stats() const { return stats_; }
  const FallbackCounters& fallbacks() const { return fallbacks_; }
  // The ops that most often ran through interpreter handlers inside blocks,
  // most frequent first (at most `n`): name and count (for --stats).
  std::vector<std::pair<std::string, uint64_t>> top_fallbacks(size_t n) const;
  // Drops all translations (at a safe point).
  void flush();

  static constexpr size_t kCodeCacheLimit = 256u << 20;  // bytes of host code before a flush

 private:
  // Blocks are keyed by guest-physical address and mode (so they survive
  // guest TLB changes and are invalidated by physical page) and by the
  // virtual pc too: generated code embeds pc-derived constants (EPC, link
  // addresses, jump targets), and one physical page may be mapped at
  // several virtual addresses.
  struct Key {
    uint64_t vpc;
    uint64_t phys_mode;  // physical address | mode bits << 36
    bool operator==(const Key& o) const { return vpc == o.vpc && phys_mode == o.phys_mode; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return std::hash<uint64_t>()(k.vpc * 0x9e3779b97f4a7c15ull ^ k.phys_mode); }
  };
  struct Block {
    CompiledBlock code;
    Key key;
    uint64_t ppage;
    bool retired = false;
    std::vector<ChainSlot*> incoming;  // other blocks' exits linked here
  };
  void unlink(Block& b);
  void retire(std::unique_ptr<Block> b);
  Block* lookup_or_compile();
  Block* lookup_kseg01();
  JumpCacheEntry* probe(const Key& key);
  Block* lookup_slow(const Key& key, JumpCacheEntry& e);
  void invalidate_page(uint64_t ppage);
  void invalidate_vpage(uint64_t vpage);
  static void on_code_written(void* self, uint64_t ppage);
  static void on_breakpoint(void* self, uint64_t vaddr);
  template <bool kBreakpoints>
  StopReason dispatch(uint64_t limit, uint64_t max_steps);
  uint64_t mode_bits() const;

  Cpu& c_;
  JitClasses classes_;
  std::unique_ptr<Backend> backend_;
  using BlockMap = std::unordered_map<Key, std::unique_ptr<Block>, KeyHash>;
  BlockMap blocks_;
  void drop(BlockMap::iterator b);
  std::unordered_map<uint64_t, std::vector<Key>> page_blocks_;  // ppage -> keys
  std::vector<std::unique_ptr<Block>> retired_;  // freed at the next safe point
  std::vector<JumpCacheEntry> fast_;  // 1 << kJumpCacheBits; generated code reads it too
  bool flush_requested_ = false;
  // The exit the last block left through (kept across run() calls so that
  // lockstep, which runs one step at a time, exercises chaining too).
  ChainSlot* pending_link_ = nullptr;
  JitStats stats_;
  FallbackCounters fallbacks_;
  std::string last_error_;
  std::FILE* perf_map_ = nullptr;  // DISCO_JIT_PERF_MAP set: perf's symbol map
  bool perf_map_shared_ = false;   // the backend's shared code is in it
};

}  // namespace disco::jit
