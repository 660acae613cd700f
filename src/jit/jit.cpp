#include "jit/jit.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "jit/cpu_area.h"

namespace disco::jit {

Jit::Jit(Cpu& c, JitClasses classes)
    : c_(c), classes_(classes), backend_(make_host_backend()), fast_(size_t{1} << kJumpCacheBits) {
  if (!backend_) std::fprintf(stderr, "disco: no JIT backend for this host yet; using the interpreter\n");
  init_area(c_);
  c_.code_write_hook = &Jit::on_code_written;
  c_.code_write_hook_ctx = this;
  c_.breakpoint_hook = &Jit::on_breakpoint;
  c_.breakpoint_hook_ctx = this;
  if (std::getenv("DISCO_JIT_PERF_MAP")) {
    // For `perf report`: symbols for generated code (perf's /tmp/perf-PID.map).
    const std::string path = "/tmp/perf-" + std::to_string(getpid()) + ".map";
    perf_map_ = std::fopen(path.c_str(), "w");
  }
}

Jit::~Jit() {
  if (perf_map_) std::fclose(perf_map_);
  c_.code_write_hook = nullptr;
  c_.code_write_hook_ctx = nullptr;
  c_.breakpoint_hook = nullptr;
  c_.breakpoint_hook_ctx = nullptr;
  if (!backend_) return;
  for (auto& [k, b] : blocks_) backend_->release(b->code.fn);
  for (auto& b : retired_) backend_->release(b->code.fn);
}

uint64_t Jit::mode_bits() const { return c_.s.cp0.status & kModeStatusBits; }

int resume_after_events(Cpu& c) {
  const uint32_t ev = c.events;
  if (ev & ~(EV_PC_SET | EV_IRQ_CHECK)) return 0;
  if (ev & EV_IRQ_CHECK) c.sync_irq_lines();
  // service_events would update the timer; a timer moved before stop_at
  // (a Compare or Count write) needs a new stop_at.
  if (c.s.cycles >= c.next_timer_cycle || c.next_timer_cycle < area(c).stop_at) return 0;
  if ((ev & EV_IRQ_CHECK) && (c.s.branch_pending || c.interrupt_pending())) return 0;
  c.events &= ~ev;  // bits another thread raised meanwhile stay
  return (ev & EV_PC_SET) ? 2 : 1;
}

int run_fallback(Cpu& c, const FallbackSite& f) {
  c.s.pc = f.pc;
  c.s.in_delay_slot = f.delay_slot;
  if (f.delay_slot) c.s.branch_pending = false;
  f.insn.fn(c, f.insn);
  ++*f.counter;
  if (__builtin_expect(c.events == 0, 1)) return 0;
  ++c.s.cycles;  // the instruction itself
  const int r = resume_after_events(c);
  if (r == 1) {
    --c.s.cycles;
    return 0;
  }
  if (r == 2) return 2;
  // A branch handler left branch_pending for the dispatcher.
  if (!(c.events & EV_PC_SET)) c.s.pc = f.delay_slot ? c.s.branch_target : f.pc + 4;
  return 1;
}

void Jit::on_code_written(void* self, uint64_t ppage) { static_cast<Jit*>(self)->invalidate_page(ppage); }

void Jit::on_breakpoint(void* self, uint64_t vaddr) { static_cast<Jit*>(self)->invalidate_vpage(vaddr & ~kPageMask); }

// Drops every block whose code comes from virtual page `vpage` (a block
// stays within one page), whatever physical page it was translated from.
void Jit::invalidate_vpage(uint64_t vpage) {
  std::vector<Key> doomed;
  for (const auto& [key, b] : blocks_)
    if ((key.vpc & ~kPageMask) == vpage) doomed.push_back(key);
  for (const Key& key : doomed) {
    auto b = blocks_.find(key);
    auto pb = page_blocks_.find(b->second->ppage);
    if (pb != page_blocks_.end()) {
      auto& keys = pb->second;
      keys.erase(std::remove(keys.begin(), keys.end(), key), keys.end());
      if (keys.empty()) page_blocks_.erase(pb);
    }
    drop(b);
  }
  pending_link_ = nullptr;
}

// Removes a block from the table and the jump cache and retires it (it may
// be running); the caller keeps page_blocks_ right.
void Jit::drop(BlockMap::iterator b) {
  const size_t idx = jump_cache_index(b->first.vpc);
  for (size_t k : {idx, idx ^ 1})
    if (fast_[k].block == b->second.get()) fast_[k] = JumpCacheEntry{};
  retire(std::move(b->second));
  blocks_.erase(b);
  stats_.invalidations++;
}

// Detaches a block from the chain graph: exits linked to it go back to the
// dispatcher, and its own exits are unlinked (it may still be running).
void Jit::unlink(Block& b) {
  for (ChainSlot* s : b.incoming) {
    set_jump(*s, s->epilogue);
    s->linked = nullptr;
  }
  b.incoming.clear();
  for (unsigned k = 0; k < b.code.slot_count; ++k) {
    ChainSlot& s = b.code.slots[k];
    if (auto* target = static_cast<Block*>(s.linked)) {
      auto& in = target->incoming;
      in.erase(std::remove(in.begin(), in.end(), &s), in.end());
    }
    set_jump(s, s.epilogue);
    s.linked = nullptr;
  }
}

void Jit::retire(std::unique_ptr<Block> b) {
  unlink(*b);
  b->retired = true;
  retired_.push_back(std::move(b));  // freed at the next safe point
}

void Jit::invalidate_page(uint64_t ppage) {
  auto it = page_blocks_.find(ppage);
  if (it == page_blocks_.end()) return;
  for (const Key& key : it->second) {
    auto b = blocks_.find(key);
    if (b != blocks_.end()) drop(b);  // the running block may be one of them
  }
  page_blocks_.erase(it);
}

void Jit::flush() {
  for (auto& [k, b] : blocks_) {
    b->retired = true;
    b->incoming.clear();
    retired_.push_back(std::move(b));
  }
  blocks_.clear();
  page_blocks_.clear();
  std::fill(fast_.begin(), fast_.end(), JumpCacheEntry{});
  stats_.code_bytes = 0;
  stats_.flushes++;
}

Jit::Block* Jit::lookup_or_compile() {
  // The caller made s.pc's page the fetch page.
  const uint64_t paddr = c_.fetch_page->paddr | (c_.s.pc & kPageMask);
  const Key key{c_.s.pc, paddr | (mode_bits() << kModeShift)};
  JumpCacheEntry* e = probe(key);
  if (__builtin_expect(e != nullptr, 1)) return static_cast<Block*>(e->block);
  // The new entry goes first; the one it displaces becomes the second way.
  const size_t idx = jump_cache_index(key.vpc);
  fast_[idx ^ 1] = fast_[idx];
  return lookup_slow(key, fast_[idx]);
}

// The fast cache is two-way in the dispatcher: an entry's own slot (the
// one generated code reads) and its neighbour (same host cache line); a
// hit in the neighbour swaps the two.
JumpCacheEntry* Jit::probe(const Key& key) {
  const size_t idx = jump_cache_index(key.vpc);
  JumpCacheEntry& e = fast_[idx];
  if (e.vpc == key.vpc && e.phys_mode == key.phys_mode) return &e;
  JumpCacheEntry& o = fast_[idx ^ 1];
  if (o.vpc == key.vpc && o.phys_mode == key.phys_mode) {
    std::swap(e, o);
    return &e;
  }
  return nullptr;
}

// A kseg0/1 pc whose block is in the fast cache: no fetch needed (see
// in_kseg01). Null if it is not there.
Jit::Block* Jit::lookup_kseg01() {
  const uint64_t pc = c_.s.pc;
  const JumpCacheEntry* e = probe(Key{pc, (pc & kKseg01PhysMask) | (mode_bits() << kModeShift)});
  return e ? static_cast<Block*>(e->block) : nullptr;
}

Jit::Block* Jit::lookup_slow(const Key& key, JumpCacheEntry& e) {
  auto it = blocks_.find(key);
  if (it == blocks_.end()) {
    const BlockIR ir = form_block(c_);
    if (ir.insns.empty()) return nullptr;
    CompiledBlock code = backend_->compile(ir, c_, classes_, fallbacks_, fast_.data(), last_error_);
    if (!code.fn) {
      // Never silently: say so once, and let the interpreter run this code.
      static bool warned = false;
      if (!warned) std::fprintf(stderr, "disco: JIT: %s (interpreting this block)\n", last_error_.c_str());
      warned = true;
      return nullptr;
    }
    stats_.blocks_compiled++;
    if (code.self_loop) stats_.loops_compiled++;
    if (perf_map_ && !perf_map_shared_) {
      perf_map_shared_ = true;
      for (const auto& s : backend_->shared_code())
        std::fprintf(perf_map_, "%llx %zx %s\n", static_cast<unsigned long long>(s.addr), s.size, s.name.c_str());
    }
    if (perf_map_)
      std::fprintf(perf_map_, "%llx %zx jit_%llx\n", static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(code.fn)),
                   code.code_bytes, static_cast<unsigned long long>(key.vpc));
    stats_.code_bytes += code.code_bytes;
    auto b = std::make_unique<Block>();
    b->code = std::move(code);
    for (unsigned k = 0; k < b->code.slot_count; ++k) b->code.slots[k].owner = b.get();
    b->key = key;
    b->ppage = c_.fetch_page->paddr;
    page_blocks_[b->ppage].push_back(key);
    it = blocks_.emplace(key, std::move(b)).first;
    if (stats_.code_bytes > kCodeCacheLimit) flush_requested_ = true;
  }
  Block* b = it->second.get();
  e = JumpCacheEntry{key.vpc, key.phys_mode, b->code.chain_entry, b};
  return b;
}

StopReason Jit::run(uint64_t limit, uint64_t max_steps) {
  if (!backend_) return interp::run(c_, limit);  // no backend for this host
  GuestSection guest(c_);  // unparked (mailbox served) until it returns
  c_.code_graveyard.clear();
  if (!retired_.empty()) pending_link_ = nullptr;  // it may point into a retired block
  for (auto& b : retired_) backend_->release(b->code.fn);
  retired_.clear();
  if (flush_requested_) {
    flush_requested_ = false;
    pending_link_ = nullptr;
    flush();
    for (auto& b : retired_) backend_->release(b->code.fn);
    retired_.clear();
  }
  if (blocks_.empty() && stats_.code_bytes == 0) backend_->reset();  // nothing alive: reuse the code memory
  if (__builtin_expect(!c_.breakpoints.empty(), 0)) return dispatch<true>(limit, max_steps);
  return dispatch<false>(limit, max_steps);
}

// The dispatcher loop. kBreakpoints: debugger breakpoints are set, s.pc is
// checked before every block or interpreter step (blocks never hold one,
// and nothing chains into a breakpoint address because no block starts
// there: see form_block and on_breakpoint).
template <bool kBreakpoints>
StopReason Jit::dispatch(uint64_t limit, uint64_t max_steps) {
  uint64_t stop_at = 0;
  StopReason why;
  ChainSlot*& pending_link = pending_link_;
  for (;; --max_steps) {
    // Checked before the events are serviced, so that a step ends right
    // after its instructions (lockstep compares there).
    if (!max_steps) return StopReason::Budget;
    if (__builtin_expect(c_.events != 0 || c_.s.cycles >= stop_at, 0)) {
      if (!interp::service_events(c_, limit, stop_at, why)) return why;
    }
    if constexpr (kBreakpoints) {
      if (c_.breakpoint_at(c_.s.pc)) {
        if (c_.s.pc != c_.break_skip) {
          c_.break_skip = ~0ull;
          pending_link = nullptr;
          return StopReason::Breakpoint;
        }
        // Resuming from it: the instruction runs in the interpreter.
        c_.break_skip = ~0ull;
        interp::execute_one(c_);
        stats_.interp_steps++;
        pending_link = nullptr;
        continue;
      }
      c_.break_skip = ~0ull;
    }
    // A pending delay slot (left by an interpreter step or a handler) runs
    // in the interpreter; so does anything that would overrun the budget.
    if (c_.s.branch_pending) {
      interp::execute_one(c_);
      stats_.interp_steps++;
      pending_link = nullptr;
      continue;
    }
    c_.s.in_delay_slot = false;
    Block* b = in_kseg01(c_.s.pc) ? lookup_kseg01() : nullptr;
    if (!b) {
      // Same page as the last fetch (compare keeps pc bits 1..0): no call.
      if ((c_.s.pc & ~(kPageMask & ~3ull)) != c_.fetch_vpage && !interp::fetch(c_)) {  // fetch exception
        ++c_.s.cycles;
        pending_link = nullptr;
        continue;
      }
      b = lookup_or_compile();
    }
    if (!b || c_.s.cycles + b->code.guest_insns > stop_at) {
      interp::execute_one(c_);
      stats_.interp_steps++;
      pending_link = nullptr;
      continue;
    }
    // Link the previous block's exit straight to this one when that is
    // what it will always mean: same target pc, same mode, both alive.
    if (pending_link && pending_link->target_pc == c_.s.pc && !pending_link->linked) {
      auto* owner = static_cast<Block*>(pending_link->owner);
      if (!owner->retired && !b->retired && owner->key.phys_mode >> 36 == b->key.phys_mode >> 36) {
        set_jump(*pending_link, b->code.chain_entry);
        pending_link->linked = b;
        b->incoming.push_back(pending_link);
        stats_.chains_linked++;
      }
    }
    const uint64_t before = c_.s.cycles;
    area(c_).stop_at = stop_at;
    area(c_).chain_limit = static_cast<int64_t>(stop_at) - kMaxBlockInsns;
    area(c_).chain_slot = nullptr;  // set only by an exit slot's way out
    b->code.fn(&c_);
    pending_link = static_cast<ChainSlot*>(area(c_).chain_slot);
    if (c_.events) stats_.exits_event++;
    else if (pending_link) stats_.exits_slot++;
    else stats_.exits_lookup++;
    stats_.blocks_executed++;
    stats_.guest_insns_in_blocks += c_.s.cycles - before;
  }
}

std::vector<std::pair<std::string, uint64_t>> Jit::top_fallbacks(size_t n) const {
  std::vector<std::pair<uint64_t, size_t>> top;
  for (size_t i = 0; i < kOpCount; ++i)
    if (fallbacks_.by_op[i]) top.emplace_back(fallbacks_.by_op[i], i);
  std::sort(top.rbegin(), top.rend());
  std::vector<std::pair<std::string, uint64_t>> out;
  for (size_t k = 0; k < top.size() && k < n; ++k)
    out.emplace_back(std::string(kInsnTable[top[k].second].name), top[k].first);
  return out;
}

}  // namespace disco::jit
