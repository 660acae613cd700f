// x86-64 backend (asmjit). rbx holds the Cpu*; guest state lives in it
// ([rbx + offset]) between blocks, and within a block guest GPRs are
// cached in eleven host registers (kHostRegIds; see the cache's invariant
// in Emitter); a self loop keeps them there across iterations. Each guest
// instruction is either emitted inline or calls the interpreter's handler.
//
// Invariants of generated code:
// - s.cycles is brought up to date before every handler call (handlers
//   read Count/Random) and at every exit; s.pc is set before every
//   handler call and on every way back to the dispatcher (a chained jump
//   into another block does not need it); s.gpr is current (the cache
//   written back) at the same points.
// - A handler that leaves c.events non-zero ends the block at once (the
//   dispatcher services interrupts, mode changes and exceptions).
// - Inline loads/stores take the soft-TLB hit path only; a miss calls the
//   handler, which fills the soft TLB or raises the guest exception.
// - With the memory model's sampler on (Cpu::sampler.on when the block is
//   translated), inline RAM accesses offer their host address to
//   it and the block reports its sampled code lines on entry (see
//   sample_data, emit_fetch_samples); with it off, nothing is emitted.
#include <asmjit/x86.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <functional>
#include <cstdlib>
#include <cstdio>
#include <optional>
#include <array>
#include <cassert>

#include "interp/interpreter.h"
#include "jit/backend.h"
#include "jit/cpu_area.h"

#if !defined(__x86_64__)
#error "jit/x64_backend.cpp targets x86-64 hosts"
#endif

namespace disco::jit {
namespace {

namespace x = asmjit::x86;
using asmjit::Label;

struct Offsets {
  int32_t gpr, hi, lo, pc, branch_target, branch_pending, in_delay_slot, cycles, events, mode_key, stlb_load,
      stlb_store, stlb_fetch, stop_at, chain_limit, chain_slot, status, llbit, ll_vaddr, ll_value, lladdr,
      sampler, sampler_queue, sampler_queued, sampler_filter, sampler_last_data, sampler_last_fetch,
      sampler_invalidations, sampler_last_invalidations;
};

Offsets offsets_of(const Cpu& c) {
  auto off = [&](const void* p) {
    return static_cast<int32_t>(static_cast<const char*>(p) - reinterpret_cast<const char*>(&c));
  };
  return Offsets{off(&c.s.gpr[0]),        off(&c.s.hi),           off(&c.s.lo),
                 off(&c.s.pc),            off(&c.s.branch_target), off(&c.s.branch_pending),
                 off(&c.s.in_delay_slot), off(&c.s.cycles),       off(&c.events),
                 off(&c.mode_key),        off(&c.stlb_load[0]),   off(&c.stlb_store[0]),
                 off(&c.stlb_fetch[0]),   off(&area(c).stop_at), off(&area(c).chain_limit), off(&area(c).chain_slot),
                 off(&c.s.cp0.status),    off(&c.s.llbit),        off(&c.s.ll_vaddr),
                 off(&c.s.ll_value),      off(&c.s.cp0.lladdr),
                 off(&c.sampler),         off(&c.sampler.queue[0]), off(&c.sampler.queued),
                 off(&c.sampler.filter),  off(&c.sampler.last_data), off(&c.sampler.last_fetch),
                 off(&c.sampler.invalidations), off(&c.sampler.last_invalidations)};
}

// Code shared by all blocks of a backend (generated once, never freed):
// the jump-cache lookup. (Soft-TLB loads and stores were shared thunks in
// kernel-mode blocks too, once; inline they boot Linux about 15% faster,
// for about 15% more host code.)
struct Thunks {
  // Called; they return only if the block may go on, and the caller jumps
  // itself (one indirect jump per exit predicts far better than a shared one).
  uint64_t lookup = 0;  // rax = s.pc (stored, as are the cycles) -> rax = the block's entry; then jmp rax
  // The memory model's sampler, MemSampler::push_data(rcx, store) and
  // push(rcx) (a fetch sample, filtered by the caller), flushing the queue
  // when it is full; every register but rcx and the flags is kept, so that
  // a block calls them from anywhere. Used only by blocks translated with
  // the sampler on.
  uint64_t sample_load = 0, sample_store = 0, sample_push = 0;
};
void flush_sampler(MemSampler* s) { s->flush(); }

constexpr const char* kThunkNames[] = {"jit_lookup", "jit_sample_store", "jit_sample_load", "jit_sample_push"};  // emit_thunks order

class RecordingErrorHandler : public asmjit::ErrorHandler {
 public:
  void handleError(asmjit::Error, const char* message, asmjit::BaseEmitter*) override {
    if (error.empty()) error = message;
  }
  std::string error;
};

// The JIT's cache of guest registers lives in these host registers:
// r8..r11, rsi, rdi, and r12..r15, rbp (callee-saved: pushed in the block
// frame). rax, rcx and rdx are the scratch registers of generated code.
constexpr unsigned kCacheRegs = 11;
constexpr std::array<uint8_t, kCacheRegs> kHostRegIds = {8, 9, 10, 11, 6, 7, 12, 13, 14, 15, 5};
constexpr bool callee_saved(unsigned k) { return kHostRegIds[k] >= 12 || kHostRegIds[k] == 5; }
constexpr unsigned count_callee_saved() {
  unsigned n = 0;
  for (unsigned k = 0; k < kCacheRegs; ++k) n += callee_saved(k);
  return n;
}
// rbx and the saved cache registers, then padding so that rsp stays
// 16-byte aligned for calls (the return address makes one more slot).
constexpr bool kFramePad = (1 + count_callee_saved()) % 2 == 0;

class Emitter {
 public:
  Emitter(x::Assembler& a, const Cpu& c, const BlockIR& ir, const JitClasses& cls, FallbackCounters& counters,
          FallbackSite* args, ChainSlot* slots, const JumpCacheEntry* jump_cache, const Thunks& thunks)
      : a_(a), c_(c), o_(offsets_of(c)), ir_(ir), cls_(cls), counters_(counters), args_(args), slots_(slots),
        jump_cache_(jump_cache), thunks_(thunks) {
    // (A block may hold one more than kMaxBlockInsns: a branch and its slot go together.)
    names_.reserve(ir_.insns.size());
    for (const GuestInsn& g : ir_.insns)
      names_.push_back((1u << field::rs(g.raw) | 1u << field::rt(g.raw) | 1u << field::rd(g.raw)) & ~1u);
  }

  // The shared code (see Thunks), into `t` as offsets from the code's base.
  void emit_thunks(Thunks& t, std::vector<std::pair<uint64_t*, Label>>& at) {
    epilogue_ = a_.newLabel();
    auto start = [&](uint64_t* slot) {
      Label l = a_.newLabel();
      a_.align(asmjit::AlignMode::kCode, 16);
      a_.bind(l);
      at.emplace_back(slot, l);
    };
    // Called from a block; "no" leaves for the dispatcher from here.
    Label no = a_.newLabel();
    start(&t.lookup);
    lookup_body(no);
    a_.bind(no);
    a_.add(x::rsp, 8);  // the call into the thunk
    pop_frame();
    a_.ret();
    Label push = a_.newLabel();
    start(&t.sample_store);
    sampler_store_body(push);
    start(&t.sample_load);
    sampler_load_body(push);
    start(&t.sample_push);
    a_.bind(push);
    sampler_push_body();
  }

  unsigned inlined = 0;
  unsigned slot_count = 0;
  // Two-pass emission of self loops (see emit): the probe pass records the
  // cache state at the back edge; the real pass starts its loop head there.
  void set_probe() { probe_ = true; }
  bool back_edge_seen() const { return back_edge_seen_; }
  bool is_loop() const { return loop_; }
  void use_loop_state(const Emitter& probe) {
    loop_ = true;
    loop_state_ = probe.back_edge_state_;
    loop_state_.sext = 0;
    loop_state_.dirty = 0;
    for (unsigned k = 0; k < kCacheRegs; ++k)
      if (loop_state_.reg[k]) loop_state_.dirty |= 1u << k;
    loop_ages_ = probe.back_edge_ages_;
  }
  Label epilogue_label() const { return epilogue_; }
  Label slot_exit_label(unsigned k) const { return slot_exit_[k]; }
  Label slot_patch_label(unsigned k) const { return slot_patch_[k]; }
  Label chain_entry_label() const { return chain_entry_; }

  void emit() {
    epilogue_ = a_.newLabel();
    chain_entry_ = a_.newLabel();
    // The frame: rbx (the Cpu*) and the callee-saved cache registers; an
    // odd number of pushes keeps rsp 16-byte aligned for calls.
    a_.push(x::rbx);
    for (unsigned k = 0; k < kCacheRegs; ++k)
      if (callee_saved(k)) a_.push(host_reg(k));
    if (kFramePad) a_.sub(x::rsp, 8);
    a_.mov(x::rbx, x::rdi);
    // Chained jumps from other blocks enter here, with rbx already set.
    // (the area's chain_slot is null: the dispatcher clears it, and only an
    // exit slot's own exit sets it, on its way out.)
    a_.bind(chain_entry_);
    if (loop_) {
      // A block that branches back to its own start keeps guest registers
      // in host registers across iterations: the loop head's cache state
      // is loop_state_ (the state the probe pass ended an iteration with),
      // every mapping dirty, no pending sign extension. Entering, they are
      // loaded; the back edge rearranges into it (reconcile_to_loop).
      for (unsigned k = 0; k < kCacheRegs; ++k)
        if (loop_state_.reg[k]) a_.mov(host_reg(k), G(loop_state_.reg[k]));
      cached_ = loop_state_;
      age_ = loop_ages_;
      clock_ = 0;
      for (uint32_t t : age_) clock_ = std::max(clock_, t);
      loop_head_ = a_.newLabel();
      a_.bind(loop_head_);
    }
    emit_fetch_samples();  // at the entry, or at a self loop's head
    const unsigned n = static_cast<unsigned>(ir_.insns.size());
    bool ended = false;
    for (unsigned i = 0; i < n && !ended; ++i) {
      if (skip_slot_ == i) continue;  // emitted with its followed branch
      ended = emit_insn(i);
    }
    if (!ended) exit_to_imm(ir_.insns[n - 1].pc + 4, n);
    // Out-of-line code; a stub may queue further stubs (a slow path's
    // handler call queues its event exit), so take them one at a time.
    while (!stubs_.empty()) {
      auto stub = std::move(stubs_.back());
      stubs_.pop_back();
      forget_all();
      stub();
    }
    a_.bind(epilogue_);
    pop_frame();
    a_.ret();
  }

 private:
  x::Mem G(unsigned r) const { return x::qword_ptr(x::rbx, o_.gpr + 8 * static_cast<int32_t>(r)); }
  x::Mem G32(unsigned r) const { return x::dword_ptr(x::rbx, o_.gpr + 8 * static_cast<int32_t>(r)); }

  // Cache of guest GPRs in host registers (kHostRegIds), written back lazily. Invariant, for
  // every guest register r at the point being emitted, on every path that
  // reaches it: if r is mapped to host register k and dirty, k holds its
  // value and s.gpr[r] may be stale; mapped and clean, both hold it; not
  // mapped, s.gpr[r] holds it. So:
  // - mappings are made only on the main path (code every path runs);
  // - everything dirty is written back before a handler call (handlers
  //   read and write s.gpr; the cache is empty after it) and before every
  //   exit from the block (flush_all; chain_to and lookup_exit check it);
  // - a stub (out-of-line code) starts by writing back what was dirty
  //   where its path branched off (`from`), runs with the cache empty, and
  //   if it jumps back into the main path reloads what the main path holds
  //   there (`to`) from s.gpr, which is then current.
  // A 32-bit result may be left with its upper half stale ("sext" bit k:
  // host_reg(k) holds the value's low 32 bits; the value is their sign
  // extension). Only 32-bit reads (S32) take it as it is; every other use
  // (S, src_reg, a write-back) sign-extends it in place first, so chains
  // of 32-bit ops skip the movsxd after each. sext is a subset of dirty.
  // (kCacheRegs host registers: see kHostRegIds.)
  void pop_frame() {
    if (kFramePad) a_.add(x::rsp, 8);
    for (unsigned k = kCacheRegs; k-- > 0;)
      if (callee_saved(k)) a_.pop(host_reg(k));
    a_.pop(x::rbx);
  }
  struct Snapshot {
    std::array<uint8_t, kCacheRegs> reg{};  // guest register in host_reg(k); 0 = none
    uint32_t dirty = 0;                      // bit k: host_reg(k) is newer than s.gpr
    uint32_t sext = 0;                       // bit k: only its low half is current
  };
  static x::Gp host_reg(unsigned k) { return x::gpq(kHostRegIds[k]); }
  static x::Gp host_reg32(unsigned k) { return x::gpd(kHostRegIds[k]); }
  // The cache slot of host register d.
  static unsigned slot_of_host(const x::Gp& d) {
    for (unsigned k = 0; k < kCacheRegs; ++k)
      if (kHostRegIds[k] == d.id()) return k;
    assert(false && "not a cache register");
    return 0;
  }
  int slot_of(unsigned r) const {
    for (unsigned k = 0; r && k < kCacheRegs; ++k)
      if (cached_.reg[k] == r) return static_cast<int>(k);
    return -1;
  }
  void touch(unsigned k) { age_[k] = ++clock_; }
  // How many instructions from the current one until guest register r is
  // next named by one (rs, rt or rd: a superset of what it reads), wrapping
  // into the next iteration of a self loop; 4 * kMaxBlockInsns if never.
  unsigned next_use(unsigned r) const {
    const unsigned n = static_cast<unsigned>(ir_.insns.size());
    for (unsigned j = cur_; j < n; ++j)
      if (names_[j] >> r & 1) return j - cur_;
    if (loop_ || probe_)
      for (unsigned j = 0; j < cur_ && j < n; ++j)
        if (names_[j] >> r & 1) return n - cur_ + j;
    return 4 * kMaxBlockInsns;
  }
  // A source operand for guest register r: its host register if cached.
  asmjit::Operand S(unsigned r) {
    const int k = slot_of(r);
    if (k < 0) return G(r);
    touch(static_cast<unsigned>(k));
    materialize(static_cast<unsigned>(k));
    return host_reg(static_cast<unsigned>(k));
  }
  // Host register k's full 64-bit value (sign-extends a pending 32-bit result).
  void materialize(unsigned k) {
    if (!(cached_.sext >> k & 1)) return;
    a_.movsxd(host_reg(k), host_reg32(k));
    cached_.sext &= ~(1u << k);
  }
  // Host register d (a cache register) has just received a 32-bit result in its low half.
  void mark_sext(const x::Gp& d) { cached_.sext |= 1u << slot_of_host(d); }
  // Guest register r is cached as a pending 32-bit result.
  bool pending32(unsigned r) const {
    const int k = slot_of(r);
    return k >= 0 && (cached_.sext >> k & 1);
  }
  // ... or a full 64-bit result.
  void mark_full(const x::Gp& d) { cached_.sext &= ~(1u << slot_of_host(d)); }
  asmjit::Operand S32(unsigned r) {
    const int k = slot_of(r);
    if (k < 0) return G32(r);
    touch(static_cast<unsigned>(k));
    return host_reg32(static_cast<unsigned>(k));
  }
  // (A pending sign extension is done in place: the register then holds
  // the same guest value in full, which every path may assume.)
  void write_back(const Snapshot& snap) {
    for (unsigned k = 0; k < kCacheRegs; ++k) {
      if (!(snap.dirty >> k & 1)) continue;
      if (snap.sext >> k & 1) a_.movsxd(host_reg(k), host_reg32(k));
      a_.mov(G(snap.reg[k]), host_reg(k));
    }
  }
  // Everything dirty to s.gpr (the mappings stay, clean).
  void flush_all() {
    write_back(cached_);
    cached_.dirty = 0;
    cached_.sext = 0;
  }
  void forget_all() { cached_ = {}; }
  // Guest register r only in s.gpr from here on.
  void evict(unsigned r) {
    const int k = slot_of(r);
    if (k >= 0) evict_slot(static_cast<unsigned>(k));
  }
  void evict_slot(unsigned k) {
    materialize(k);
    if (cached_.dirty >> k & 1) a_.mov(G(cached_.reg[k]), host_reg(k));
    cached_.reg[k] = 0;
    cached_.dirty &= ~(1u << k);
  }
  // Host register k is about to be used as scratch.
  void clobber(unsigned k) { evict_slot(k); }
  // r8, rsi and rdi about to be used as scratch (by the rarer memory
  // instructions, which need more than rax, rcx and rdx).
  void clobber_scratch() {
    for (unsigned k = 0; k < kCacheRegs; ++k)
      if (kHostRegIds[k] == 8 || kHostRegIds[k] == 6 || kHostRegIds[k] == 7) evict_slot(k);
  }
  void reload(const Snapshot& snap) {
    for (unsigned k = 0; k < kCacheRegs; ++k)
      if (snap.reg[k]) a_.mov(host_reg(k), G(snap.reg[k]));
  }
  // The generic two-operand form, for a source that may be a register or memory.
  void emit2(x::Inst::Id id, const asmjit::Operand_& d, const asmjit::Operand_& s) { a_.emit(id, d, s); }
  // d = s, nothing if s is d (for 32-bit d, the op that follows writes d
  // and so clears its upper half anyway).
  void move(const x::Gp& d, const asmjit::Operand_& s) {
    if (!(s.isReg() && s.id() == d.id())) a_.emit(x::Inst::kIdMov, d, s);
  }
  x::Mem Q(int32_t off) const { return x::qword_ptr(x::rbx, off); }
  x::Mem B(int32_t off) const { return x::byte_ptr(x::rbx, off); }
  // Guest register r = v (a 64-bit register not a cache register), in the
  // cache, dirty.
  void store_gpr(unsigned r, const x::Gp& v) {
    if (!r) return;
    a_.mov(dest(r), v.r64());
  }
  // The host register that is to hold guest register r's new value
  // (r != 0): mapped, dirty. Read the sources after this call: making room
  // may evict one of them (to s.gpr, where S then finds it). `read_too`:
  // r is also a source, so a newly mapped register gets its old value.
  x::Gp dest(unsigned r, bool read_too = false) {
    const bool mapped = slot_of(r) >= 0;
    const unsigned k = claim(r);
    const uint32_t pending = cached_.sext & (1u << k);
    if (!mapped && read_too) a_.mov(host_reg(k), G(r));
    map_dirty(r, k);
    // The old value is read yet: still pending for the reads (S then
    // sign-extends it, S32 need not). The caller says what its result is
    // (mark_sext or mark_full).
    if (read_too) cached_.sext |= pending;
    return host_reg(k);
  }
  // The host register for a new value of guest register r (r != 0): its
  // own if mapped, else an empty one or the least recently used (evicted
  // now). The mapping is made by map_dirty once the value is there.
  unsigned claim(unsigned r) {
    assert(r != 0);
    const int found = slot_of(r);
    if (found >= 0) return static_cast<unsigned>(found);
    // An empty one, else the one whose next use in the block is farthest
    // (a self loop's next iteration counts), clean before dirty, then the
    // least recently used.
    unsigned k = kCacheRegs;
    unsigned best_dist = 0;
    for (unsigned j = 0; j < kCacheRegs; ++j) {
      if (!cached_.reg[j]) {
        k = j;
        break;
      }
      const unsigned dist = 2 * next_use(cached_.reg[j]) + ((cached_.dirty >> j & 1) ? 0 : 1);
      if (k == kCacheRegs || dist > best_dist || (dist == best_dist && age_[j] < age_[k])) {
        k = j;
        best_dist = dist;
      }
    }
    if (cached_.reg[k]) evict_slot(k);
    return k;
  }
  // Guest register r in a host register, loaded (clean) if not cached:
  // for a value read several times, such as a base address. Main path only.
  x::Gp src_reg(unsigned r) {
    const int found = slot_of(r);
    if (found >= 0) {
      touch(static_cast<unsigned>(found));
      materialize(static_cast<unsigned>(found));
      return host_reg(static_cast<unsigned>(found));
    }
    const unsigned k = claim(r);
    a_.mov(host_reg(k), G(r));
    cached_.reg[k] = static_cast<uint8_t>(r);
    touch(k);
    return host_reg(k);
  }
  void map_dirty(unsigned r, unsigned k) {
    cached_.reg[k] = static_cast<uint8_t>(r);
    cached_.dirty |= 1u << k;
    cached_.sext &= ~(1u << k);
    touch(k);
  }
  // For a write on one of several paths that merge: s.gpr only (r was
  // evicted before the paths split).
  void store_gpr_uncached(unsigned r, const x::Gp& v) {
    assert(slot_of(r) < 0);
    if (r) a_.mov(G(r), v);
  }
  void add_cycles(int64_t k) {
    if (k) a_.add(Q(o_.cycles), static_cast<int32_t>(k));
  }
  // Main-path exit to a known pc after `count` instructions of the block.
  void exit_to_imm(uint64_t pc, unsigned count, bool chain = true) {
    flush_all();
    add_cycles(static_cast<int64_t>(count) - synced_);
    if (chain) chain_to(pc);
    else lookup_exit(pc);
  }
  // Leaves for `target` (cycles stored; s.pc is stored on the ways to the
  // dispatcher, a chained block does not need it): through a chain
  // slot when the target's translation cannot differ from the one the slot
  // gets linked with — on this block's page (same translation), or in
  // kseg0/1 (fixed by the mode, which the link requires to be the same) —
  // and nothing needs the dispatcher — no events, and room before stop_at
  // for a whole block; else through the jump cache.
  void chain_to(uint64_t target) {
    assert(cached_.dirty == 0);  // exits write back first (every path through here)
    const bool fixed = ((target ^ ir_.vpc) & ~kPageMask) == 0 || in_kseg01(target);
    if (!fixed || no_chain_ || slot_count == kMaxChainSlots) {
      lookup_exit(target);
      return;
    }
    // Through the slot (to the linked block, else to `out`), if there are
    // no events and room for a whole block before stop_at. `out` hands the
    // slot to the dispatcher, which links it to the block it runs next.
    const unsigned k = slot_count++;
    ChainSlot& slot = slots_[k];
    slot.target_pc = target;
    Label out = slot_exit_[k] = a_.newLabel();
    a_.mov(x::rcx, Q(o_.cycles));
    a_.cmp(x::rcx, Q(o_.chain_limit));
    a_.jg(out);
    a_.cmp(x::dword_ptr(x::rbx, o_.events), 0);
    a_.jne(out);
    a_.long_().jmp(out);  // rel32, patched when linked
    slot_patch_[k] = a_.newLabel();
    a_.bind(slot_patch_[k]);
    stubs_.push_back([this, out, &slot, target] {
      a_.bind(out);
      a_.mov(x::rax, target);
      a_.mov(Q(o_.pc), x::rax);
      a_.mov(x::rax, reinterpret_cast<uint64_t>(&slot));
      a_.mov(Q(o_.chain_slot), x::rax);
      a_.jmp(epilogue_);
    });
  }

  // Leaves for `target` from a point where the cache may be dirty. The
  // back edge of a self loop (target = the block's start) rearranges the
  // cache into the loop head's state and, if the dispatcher is not needed
  // (the checks chain_to makes), jumps to the loop head; anything else
  // writes back and chains.
  void flush_and_chain(uint64_t target) {
    const bool back_edge = target == ir_.vpc && !no_chain_;
    if (back_edge && probe_ && !back_edge_seen_) {
      back_edge_seen_ = true;
      back_edge_state_ = cached_;
      back_edge_ages_ = age_;
    }
    if (!back_edge || !loop_) {
      flush_all();
      chain_to(target);
      return;
    }
    reconcile_to_loop();
    Label out = a_.newLabel();
    a_.mov(x::rcx, Q(o_.cycles));
    a_.cmp(x::rcx, Q(o_.chain_limit));
    a_.jg(out);
    a_.cmp(x::dword_ptr(x::rbx, o_.events), 0);
    a_.jne(out);
    a_.jmp(loop_head_);
    a_.bind(out);
    cached_ = loop_state_;
    flush_all();
    chain_to(target);
  }

  // Cache state -> loop_state_ (registers moved, loaded or written back),
  // so that the loop head's invariant holds on the back edge too.
  void reconcile_to_loop() {
    const Snapshot& h = loop_state_;
    auto in_h = [&](unsigned r) {
      for (unsigned k = 0; k < kCacheRegs; ++k)
        if (h.reg[k] == r) return true;
      return false;
    };
    // Registers the loop head does not hold go to s.gpr.
    for (unsigned j = 0; j < kCacheRegs; ++j)
      if (cached_.reg[j] && !in_h(cached_.reg[j])) evict_slot(j);
    // Moves: src[k] = the slot holding what slot k must hold (-1: none).
    std::array<int, kCacheRegs> src;
    std::array<bool, kCacheRegs> absent{};
    for (unsigned k = 0; k < kCacheRegs; ++k) {
      src[k] = h.reg[k] ? slot_of(h.reg[k]) : -1;
      absent[k] = h.reg[k] && src[k] < 0;
      if (src[k] >= 0) materialize(static_cast<unsigned>(src[k]));
      if (src[k] == static_cast<int>(k)) src[k] = -1;  // in place
    }
    // Parallel moves: a move whose destination no other pending move reads
    // goes first. What is left are cycles (rare: the two passes usually
    // end alike): through s.gpr, all stored before any is loaded.
    for (bool progress = true; progress;) {
      progress = false;
      for (unsigned k = 0; k < kCacheRegs; ++k) {
        if (src[k] < 0) continue;
        bool read = false;
        for (unsigned m = 0; m < kCacheRegs; ++m) read |= src[m] == static_cast<int>(k);
        if (read) continue;
        a_.mov(host_reg(k), host_reg(static_cast<unsigned>(src[k])));
        src[k] = -1;
        progress = true;
      }
    }
    for (unsigned k = 0; k < kCacheRegs; ++k) {
      if (src[k] < 0) continue;
      a_.mov(G(h.reg[k]), host_reg(static_cast<unsigned>(src[k])));
      absent[k] = true;  // loaded back below, after every store
    }
    // What the head holds and the cache did not: from s.gpr.
    for (unsigned k = 0; k < kCacheRegs; ++k)
      if (absent[k]) a_.mov(host_reg(k), G(h.reg[k]));
    cached_ = h;
  }

  // rax = a virtual address. In ckseg0/1: dst = its physical address, on to
  // `done`; anything else falls through. Clobbers `scratch` (may be dst).
  void kseg01_phys(const x::Gp& dst, const x::Gp& scratch, const Label& done) {
    Label other = a_.newLabel();
    a_.mov(scratch, x::rax);
    a_.sar(scratch, 30);
    a_.cmp(scratch, -2);
    a_.jne(other);
    a_.mov(dst.r32(), x::eax);
    a_.and_(dst.r32(), static_cast<int32_t>(kKseg01PhysMask));
    a_.jmp(done);
    a_.bind(other);
  }

  // Leaves through the jump cache for `known` (stored into s.pc), else for
  // the pc in s.pc and rax; cycles stored.
  void lookup_exit(std::optional<uint64_t> known = std::nullopt) {
    assert(cached_.dirty == 0);
    if (known) {
      a_.mov(x::rax, *known);
      a_.mov(Q(o_.pc), x::rax);
    }
    a_.call(asmjit::Imm(thunks_.lookup));
    a_.jmp(x::rax);
  }

  // The lookup thunk, rax = pc: the dispatcher's own checks. No events,
  // not inside a branch, room for a whole block before stop_at; the fetch
  // soft-TLB maps the pc's page in the current mode (so an aligned pc, and
  // the physical page the dispatcher would fetch from), or the pc is in
  // kseg0/1; and the cache entry for that virtual pc holds the block keyed
  // by that physical address and the current mode bits. Anything else goes
  // back to the dispatcher, which sorts it out.
  void lookup_body(Label no) {
    a_.cmp(x::dword_ptr(x::rbx, o_.events), 0);
    a_.jne(no);
    a_.cmp(B(o_.branch_pending), 0);
    a_.jne(no);
    a_.mov(x::rcx, Q(o_.cycles));
    a_.cmp(x::rcx, Q(o_.chain_limit));
    a_.jg(no);
    static_assert(sizeof(Cpu::FetchTlbEntry) == 16 && offsetof(DecodedPage, paddr) == 0);
    // rdx = physical address | page offset | mode bits (the block key).
    Label have_phys = a_.newLabel();
    kseg01_phys(x::rdx, x::rcx, have_phys);
    a_.mov(x::rcx, x::rax);
    a_.shr(x::rcx, 12);
    a_.and_(x::ecx, kSoftTlbSize - 1);
    a_.shl(x::ecx, 4);
    a_.mov(x::rdx, x::rax);
    a_.and_(x::rdx, static_cast<int32_t>(~(kPageMask & ~3ull)));  // keeps pc bits 1..0: misaligned misses
    a_.or_(x::rdx, Q(o_.mode_key));
    a_.cmp(x::rdx, x::qword_ptr(x::rbx, x::rcx, 0, o_.stlb_fetch));
    a_.jne(no);
    a_.mov(x::rdx, x::qword_ptr(x::rbx, x::rcx, 0, o_.stlb_fetch + 8));
    a_.mov(x::rdx, x::qword_ptr(x::rdx));
    a_.mov(x::ecx, x::eax);
    a_.and_(x::ecx, static_cast<int32_t>(kPageMask));
    a_.or_(x::rdx, x::rcx);
    a_.bind(have_phys);
    a_.mov(x::ecx, x::dword_ptr(x::rbx, o_.status));
    a_.and_(x::ecx, static_cast<int32_t>(kModeStatusBits));
    a_.shl(x::rcx, kModeShift);
    a_.or_(x::rdx, x::rcx);
    // rsi = the cache entry for this virtual pc.
    a_.mov(x::rcx, x::rax);
    a_.shr(x::rcx, 2);
    a_.mov(x::rsi, x::rax);
    a_.shr(x::rsi, 15);
    a_.xor_(x::rcx, x::rsi);
    a_.and_(x::ecx, (1u << kJumpCacheBits) - 1);
    a_.shl(x::ecx, 5);
    a_.mov(x::rsi, reinterpret_cast<uint64_t>(jump_cache_));
    a_.add(x::rsi, x::rcx);
    static_assert(offsetof(JumpCacheEntry, vpc) == 0 && offsetof(JumpCacheEntry, phys_mode) == 8 &&
                  offsetof(JumpCacheEntry, entry) == 16);
    a_.cmp(x::rax, x::qword_ptr(x::rsi));
    a_.jne(no);
    a_.cmp(x::rdx, x::qword_ptr(x::rsi, 8));
    a_.jne(no);
    a_.mov(B(o_.in_delay_slot), 0);
    a_.mov(x::rax, x::qword_ptr(x::rsi, 16));
    a_.ret();
  }

  // MemSampler::push_data(rcx, true) up to the push: the repeat filter
  // remembers the line (stores are never dropped).
  void sampler_store_body(Label push) {
    Label go = a_.newLabel();
    a_.push(x::rax);
    a_.cmp(B(o_.sampler_filter), 0);
    a_.je(go);
    a_.mov(x::rax, x::rcx);
    a_.shr(x::rax, kLineShift);
    a_.lea(x::rax, x::ptr(x::rax, x::rax, 0, 1));  // line << 1 | store
    a_.mov(Q(o_.sampler_last_data), x::rax);
    a_.mov(x::rax, Q(o_.sampler_invalidations));
    a_.mov(x::rax, x::qword_ptr(x::rax));
    a_.mov(Q(o_.sampler_last_invalidations), x::rax);
    a_.bind(go);
    a_.pop(x::rax);
    a_.bts(x::rcx, 63);  // kSampleWrite
    a_.jmp(push);
  }

  // MemSampler::push_data(rcx, false) up to the push: a load from the last
  // data sample's line returns here, unless this processor's cache lost a
  // line since.
  void sampler_load_body(Label push) {
    Label go = a_.newLabel(), take = a_.newLabel(), seen = a_.newLabel();
    a_.push(x::rax);
    a_.cmp(B(o_.sampler_filter), 0);
    a_.je(go);
    a_.push(x::rdx);
    a_.mov(x::rax, x::rcx);
    a_.shr(x::rax, kLineShift);
    a_.mov(x::rdx, Q(o_.sampler_last_data));
    a_.shr(x::rdx, 1);
    a_.cmp(x::rax, x::rdx);
    a_.jne(take);
    a_.mov(x::rdx, Q(o_.sampler_invalidations));
    a_.mov(x::rdx, x::qword_ptr(x::rdx));
    a_.cmp(x::rdx, Q(o_.sampler_last_invalidations));
    a_.jne(seen);
    a_.pop(x::rdx);  // a repeat: dropped
    a_.pop(x::rax);
    a_.ret();
    a_.bind(take);
    a_.mov(x::rdx, Q(o_.sampler_invalidations));
    a_.mov(x::rdx, x::qword_ptr(x::rdx));
    a_.bind(seen);
    a_.mov(Q(o_.sampler_last_invalidations), x::rdx);
    a_.add(x::rax, x::rax);  // line << 1 | load
    a_.mov(Q(o_.sampler_last_data), x::rax);
    a_.pop(x::rdx);
    a_.bind(go);
    a_.pop(x::rax);
    a_.jmp(push);
  }

  // The sampler thunks' body: MemSampler::push(rcx) in a dozen
  // instructions; a full queue is flushed through a call that keeps every
  // caller-saved register. Called from block code, where rsp is 16-byte
  // aligned: the return address and eight pushes leave it 8 off.
  void sampler_push_body() {
    static_assert(MemSampler::kQueue < (1u << 31));
    Label full = a_.newLabel();
    a_.push(x::rax);
    a_.mov(x::eax, x::dword_ptr(x::rbx, o_.sampler_queued));
    a_.mov(x::qword_ptr(x::rbx, x::rax, 3, o_.sampler_queue), x::rcx);
    a_.inc(x::eax);
    a_.mov(x::dword_ptr(x::rbx, o_.sampler_queued), x::eax);
    a_.cmp(x::eax, static_cast<int32_t>(MemSampler::kQueue));
    a_.pop(x::rax);  // keeps the flags
    a_.je(full);
    a_.ret();
    a_.bind(full);
    static const x::Gp saved[] = {x::rax, x::rdx, x::rsi, x::rdi, x::r8, x::r9, x::r10, x::r11};
    for (const x::Gp& r : saved) a_.push(r);
    a_.sub(x::rsp, 8);
    a_.lea(x::rdi, x::ptr(x::rbx, o_.sampler));
    a_.mov(x::rax, asmjit::Imm(reinterpret_cast<uint64_t>(&flush_sampler)));
    a_.call(x::rax);
    a_.add(x::rsp, 8);
    for (size_t k = std::size(saved); k-- > 0;) a_.pop(saved[k]);
    a_.ret();
  }

  // The memory model's sample of an inline access to RAM (mem_sampler.h),
  // after the soft-TLB hit and before the access: host address h = base +
  // index (index invalid: base); `vaddr` is a register whose bits 7..11
  // are h's (the guest virtual address of the same line, or h itself).
  // Decided at translation time; nothing at all with the sampler off.
  // With a partial rate (mask != 0), inline (one fused uop):
  //     test vaddr32, mask
  //     jz sample                 ; out of line: lea rcx, h; call thunk; jmp back
  // and with every line sampled (mask 0) lea + call thunk. rcx is dead at
  // every caller (the soft-TLB slot index is used up); the thunk keeps the
  // rest, so the cache and rax/rdx survive.
  void sample_data(const x::Gp& base, const x::Gp& index, const x::Gp& vaddr, bool write) {
    if (!c_.sampler.on) return;
    const uint32_t mask = c_.sampler.mask;
    const uint64_t thunk = write ? thunks_.sample_store : thunks_.sample_load;
    auto host_to_rcx = [this, base, index] {
      if (index.isValid()) a_.lea(x::rcx, x::ptr(base, index));
      else a_.mov(x::rcx, base);
    };
    if (mask == 0) {  // every line
      host_to_rcx();
      a_.call(asmjit::Imm(thunk));
      return;
    }
    Label sample = a_.newLabel(), back = a_.newLabel();
    a_.test(vaddr.r32(), static_cast<int32_t>(mask));
    a_.jz(sample);
    a_.bind(back);
    stubs_.push_back([this, sample, back, host_to_rcx, thunk] {
      a_.bind(sample);
      host_to_rcx();
      a_.call(asmjit::Imm(thunk));
      a_.jmp(back);
    });
  }

  // The memory model's fetch samples (mem_sampler.h) where execution
  // enters the block (and a self loop's head, once per iteration): one
  // call per sampled guest-physical line the block's instructions occupy,
  // decided now (a block stays within one page, whose physical address is
  // the block's): mov rcx, line | kSampleFetch; the repeat filter, if on
  // (decided now: the sampler is set before the first run); call the
  // queueing thunk.
  void emit_fetch_samples() {
    if (!c_.sampler.on) return;
    std::vector<uint64_t> lines;
    for (const GuestInsn& g : ir_.insns) {
      const uint64_t line = ((ir_.paddr & ~kPageMask) | (g.pc & kPageMask)) & ~(kLineBytes - 1);
      if (c_.sampler.sampled_fetch(line) && std::find(lines.begin(), lines.end(), line) == lines.end())
        lines.push_back(line);
    }
    for (uint64_t line : lines) {
      // MemSampler::push_fetch: with the filter, a repeat is dropped here.
      Label skip = a_.newLabel();
      a_.mov(x::rcx, line | kSampleFetch);
      if (c_.sampler.filter) {
        a_.cmp(x::rcx, Q(o_.sampler_last_fetch));
        a_.je(skip);
        a_.mov(Q(o_.sampler_last_fetch), x::rcx);
      }
      a_.call(asmjit::Imm(thunks_.sample_push));
      a_.bind(skip);
    }
  }

  // Calls the interpreter's handler for instruction i. `synced` is how
  // many cycles this code path has already added. Leaves the block on
  // events; otherwise falls through with cycles = base + i.
  void call_handler(unsigned i, unsigned synced) {
    const GuestInsn& g = ir_.insns[i];
    flush_all();  // handlers read and write s.gpr
    add_cycles(static_cast<int64_t>(i) - synced);
    args_[i] = FallbackSite{DecodedInsn{interp::handler(g.op), g.raw, static_cast<uint16_t>(g.op)}, g.pc,
                            &counters_.by_op[static_cast<size_t>(g.op)], g.delay_slot};
    a_.mov(x::rdi, x::rbx);
    a_.mov(x::rsi, reinterpret_cast<uint64_t>(&args_[i]));
    a_.mov(x::rax, reinterpret_cast<uint64_t>(&run_fallback));
    a_.call(x::rax);
    a_.test(x::eax, x::eax);
    a_.jnz(leave());
  }

  // Out of line, shared: run_fallback said 1 (dispatcher) or 2 (s.pc).
  Label leave() {
    if (!leave_used_) {
      leave_used_ = true;
      leave_ = a_.newLabel();
      Label at_pc = lookup_at_pc();
      stubs_.insert(stubs_.begin(), [this, at_pc] {
        a_.bind(leave_);
        a_.cmp(x::eax, 2);
        a_.je(at_pc);
        a_.jmp(epilogue_);
      });
    }
    return leave_;
  }

  // After instruction i set or may have set events (cycles = base + i on
  // this path): resume_after_events decides between going on here, going
  // on at the pc an exception or ERET set, and the dispatcher.
  void check_events(unsigned i) {
    Label on_events = a_.newLabel(), resume = a_.newLabel();
    a_.test(x::dword_ptr(x::rbx, o_.events), -1);
    a_.jnz(on_events);
    a_.bind(resume);
    stubs_.push_back([this, on_events, resume, i, snap = cached_] {
      const GuestInsn& gi = ir_.insns[i];
      Label not_here = a_.newLabel();
      a_.bind(on_events);
      write_back(snap);
      add_cycles(1);  // the instruction itself: cycles = base + i + 1
      a_.mov(x::rdi, x::rbx);
      a_.mov(x::rax, reinterpret_cast<uint64_t>(&resume_after_events));
      a_.call(x::rax);
      a_.cmp(x::eax, 1);
      a_.jne(not_here);
      add_cycles(-1);
      reload(snap);
      a_.jmp(resume);
      a_.bind(not_here);
      a_.test(x::eax, x::eax);
      a_.jnz(lookup_at_pc());
      a_.test(x::dword_ptr(x::rbx, o_.events), EV_PC_SET);
      a_.jnz(epilogue_);
      if (gi.delay_slot) {
        a_.mov(x::rax, Q(o_.branch_target));
      } else {
        a_.mov(x::rax, gi.pc + 4);  // a branch handler left branch_pending for the dispatcher
      }
      a_.mov(Q(o_.pc), x::rax);
      a_.jmp(epilogue_);
    });
  }

  // Out of line, shared by the block's exits: lookup_exit for s.pc.
  Label lookup_at_pc() {
    if (!lookup_at_pc_used_) {
      lookup_at_pc_used_ = true;
      lookup_at_pc_ = a_.newLabel();
      stubs_.insert(stubs_.begin(), [this] {
        a_.bind(lookup_at_pc_);
        a_.mov(x::rax, Q(o_.pc));
        lookup_exit();
      });
    }
    return lookup_at_pc_;
  }

  // A main-path fallback.
  void fallback(unsigned i) {
    call_handler(i, synced_);
    synced_ = i;
    forget_all();
  }

  bool ops64() const { return c_.ops64_enabled(); }

  // Returns true if the instruction ended the block (emitted its exits).
  bool emit_insn(unsigned i) {
    const GuestInsn& g = ir_.insns[i];
    const uint32_t w = g.raw;
    const unsigned rs = field::rs(w), rt = field::rt(w), rd = field::rd(w), sa = field::sa(w);
    const int32_t simm = static_cast<int32_t>(field::simm(w));
    cur_ = i;
    if (g.followed) {
      // B or J that the block follows (form_block): the slot comes next,
      // then the target. The branch does nothing itself, but a slot that
      // runs its handler and raises an event leaves for branch_target.
      const uint64_t target = g.op == Op::J
          ? ((g.pc + 4) & ~0x0fffffffull) | (static_cast<uint64_t>(field::target(w)) << 2)
          : g.pc + 4 + (static_cast<uint64_t>(field::simm(w)) << 2);
      ++inlined;
      // A slot of plain ALU code never calls a handler (which is the only
      // reader of branch_target): emitted here, it needs no store.
      const GuestInsn& slot = ir_.insns[i + 1];
      cur_ = i + 1;
      if (plain_alu_slot(slot) && emit_alu_insn(slot)) {
        ++inlined;
        skip_slot_ = i + 1;
        return false;
      }
      a_.mov(x::rax, target);
      a_.mov(Q(o_.branch_target), x::rax);
      return false;
    }
    if (g.flags & (F_BRANCH | F_JUMP)) {
      if (g.op != Op::ERET) return emit_branch(i);
    }
    bool done = cls_.alu && emit_alu(g.op, rs, rt, rd, sa, simm, w);
    if (!done && cls_.alu) done = emit_kernel_op(i, rt);
    if (!done && cls_.alu && (g.op == Op::TEQ || g.op == Op::TNE)) done = emit_trap_eq(i, rs, rt);
    if (!done && cls_.mem && (g.flags & (F_LOAD | F_STORE)) && !(g.flags & (F_FPU | F_UNALIGNED)))
      done = emit_mem(i, rs, rt, simm);
    if (!done && cls_.mem) done = emit_llsc(i, rs, rt, simm) || emit_load_lr(i, rs, rt, simm);
    if (done) {
      ++inlined;
    } else {
      fallback(i);
    }
    if ((g.flags & F_ENDS_BLOCK) && !g.delay_slot) {
      // After a privileged instruction (TLB write, CP0 move, cache op) the
      // translation of this very page may have changed: no chaining, but
      // the jump cache (which checks the translation) is fine.
      exit_to_imm(g.pc + 4, i + 1, !(g.flags & F_PRIV));
      return true;
    }
    return false;
  }

  // The commonest ALU ops computed in the destination's host register.
  bool emit_alu_in_place(Op op, unsigned rs, unsigned rt, unsigned rd, unsigned sa, int32_t simm, int32_t uimm) {
    namespace I = x::Inst;
    // rd = rs op rt, then inverted for NOR.
    auto rr = [&](I::Id id, bool word, bool invert = false) {
      if (rd == 0) return false;
      const bool commutes = id != I::kIdSub;
      // Bitwise ops on two sign-extended 32-bit values give one: when both
      // are pending 32-bit results, a 32-bit op will do.
      if (id == I::kIdAnd || id == I::kIdOr || id == I::kIdXor) word = pending32(rs) && (rt == 0 || pending32(rt));
      const x::Gp d = dest(rd, rd == rs || rd == rt);
      const x::Gp dw = word ? d.r32() : d;
      auto src = [&](unsigned r) { return word ? S32(r) : S(r); };
      if (rt == 0 && id != I::kIdAnd) {
        // x op $zero is x (OR, XOR, ADDU, SUBU and their 64-bit forms;
        // `move` is `or rd, rs, $zero`): a copy.
        move(dw, src(rs));
      } else if (rd == rt && rd != rs) {
        // The destination holds the second source: op it with the first
        // (for SUBU: rs - rt = -rt + rs).
        (void)src(rt);  // brings a pending value to full width for a 64-bit op
        if (!commutes) a_.neg(dw);
        emit2(commutes ? id : I::kIdAdd, dw, src(rs));
      } else {
        move(dw, src(rs));
        emit2(id, dw, src(rt));
      }
      if (invert) a_.not_(dw);  // NOT keeps a sign extension
      if (word) mark_sext(d); else mark_full(d);
      return true;
    };
    auto ri = [&](I::Id id, int32_t imm, bool word) {
      if (rt == 0) return false;
      const x::Gp d = dest(rt, rt == rs);
      if (word) {
        move(d.r32(), S32(rs));
        if (imm) a_.emit(id, d.r32(), asmjit::Imm(imm));
        mark_sext(d);
      } else {
        move(d, S(rs));
        if (imm || id != I::kIdAdd) a_.emit(id, d, asmjit::Imm(imm));
        mark_full(d);
      }
      return true;
    };
    auto shift = [&](I::Id id, unsigned n, bool word) {
      if (rd == 0) return false;
      const x::Gp d = dest(rd, rd == rt);
      if (word) {
        move(d.r32(), S32(rt));
        if (n) a_.emit(id, d.r32(), asmjit::Imm(n));
        mark_sext(d);
      } else {
        move(d, S(rt));
        if (n) a_.emit(id, d, asmjit::Imm(n));
        mark_full(d);
      }
      return true;
    };
    switch (op) {
      case Op::ADDU: return rr(I::kIdAdd, true);
      case Op::SUBU: return rr(I::kIdSub, true);
      case Op::AND: return rr(I::kIdAnd, false);
      case Op::OR: return rr(I::kIdOr, false);
      case Op::XOR: return rr(I::kIdXor, false);
      case Op::NOR: return rr(I::kIdOr, false, true);
      case Op::DADDU: return ops64() && rr(I::kIdAdd, false);
      case Op::DSUBU: return ops64() && rr(I::kIdSub, false);
      case Op::ADDIU: return ri(I::kIdAdd, simm, true);
      case Op::DADDIU: return ops64() && ri(I::kIdAdd, simm, false);
      case Op::ANDI: return ri(I::kIdAnd, uimm, false);
      case Op::ORI: return ri(I::kIdOr, uimm, false);
      case Op::XORI: return ri(I::kIdXor, uimm, false);
      case Op::SLL: return shift(I::kIdShl, sa, true);
      case Op::SRL: return shift(I::kIdShr, sa, true);
      case Op::SRA: return shift(I::kIdSar, sa, true);
      case Op::ROTR: return shift(I::kIdRor, sa, true);
      case Op::DSLL: return ops64() && shift(I::kIdShl, sa, false);
      case Op::DSRL: return ops64() && shift(I::kIdShr, sa, false);
      case Op::DSRA: return ops64() && shift(I::kIdSar, sa, false);
      case Op::DSLL32: return ops64() && shift(I::kIdShl, sa + 32, false);
      case Op::DSRL32: return ops64() && shift(I::kIdShr, sa + 32, false);
      case Op::DSRA32: return ops64() && shift(I::kIdSar, sa + 32, false);
      default: return false;
    }
  }

  bool emit_alu(Op op, unsigned rs, unsigned rt, unsigned rd, unsigned sa, int32_t simm, uint32_t w) {
    const int32_t uimm = static_cast<int32_t>(w & 0xffff);
    auto rr32 = [&](auto&& f) {
      emit2(x::Inst::kIdMov, x::eax, S32(rs));
      f();
      a_.movsxd(x::rax, x::eax);
      store_gpr(rd, x::rax);
    };
    // Only writing a register, and that is $zero (nop is sll $0, $0, 0):
    // nothing to do. (None of these can trap; 64-bit ops are left out, as
    // they raise Reserved Instruction when 64-bit ops are disabled.)
    switch (op) {
      case Op::SLL: case Op::SRL: case Op::SRA: case Op::ADDU: case Op::SUBU: case Op::AND: case Op::OR:
      case Op::XOR: case Op::NOR: case Op::SLT: case Op::SLTU: case Op::MOVZ: case Op::MOVN: case Op::MFHI:
      case Op::MFLO: case Op::MUL:
        if (rd == 0) return true;
        break;
      case Op::ADDIU: case Op::SLTI: case Op::SLTIU: case Op::ANDI: case Op::ORI: case Op::XORI: case Op::LUI:
        if (rt == 0) return true;
        break;
      default: break;
    }
    if (emit_alu_in_place(op, rs, rt, rd, sa, simm, uimm)) return true;
    switch (op) {
      case Op::ADDU: rr32([&] { emit2(x::Inst::kIdAdd, x::eax, S32(rt)); }); return true;
      case Op::SUBU: rr32([&] { emit2(x::Inst::kIdSub, x::eax, S32(rt)); }); return true;
      case Op::AND: emit2(x::Inst::kIdMov, x::rax, S(rs)); emit2(x::Inst::kIdAnd, x::rax, S(rt)); store_gpr(rd, x::rax); return true;
      case Op::OR: emit2(x::Inst::kIdMov, x::rax, S(rs)); emit2(x::Inst::kIdOr, x::rax, S(rt)); store_gpr(rd, x::rax); return true;
      case Op::XOR: emit2(x::Inst::kIdMov, x::rax, S(rs)); emit2(x::Inst::kIdXor, x::rax, S(rt)); store_gpr(rd, x::rax); return true;
      case Op::NOR:
        emit2(x::Inst::kIdMov, x::rax, S(rs));
        emit2(x::Inst::kIdOr, x::rax, S(rt));
        a_.not_(x::rax);
        store_gpr(rd, x::rax);
        return true;
      case Op::SLT: case Op::SLTU:
        emit2(x::Inst::kIdMov, x::rcx, S(rs));
        a_.xor_(x::eax, x::eax);
        emit2(x::Inst::kIdCmp, x::rcx, S(rt));
        if (op == Op::SLT) a_.setl(x::al); else a_.setb(x::al);
        store_gpr(rd, x::rax);
        return true;
      case Op::DADDU: case Op::DSUBU:
        if (!ops64()) return false;
        emit2(x::Inst::kIdMov, x::rax, S(rs));
        if (op == Op::DADDU) emit2(x::Inst::kIdAdd, x::rax, S(rt)); else emit2(x::Inst::kIdSub, x::rax, S(rt));
        store_gpr(rd, x::rax);
        return true;
      case Op::ADDIU:
        emit2(x::Inst::kIdMov, x::eax, S32(rs));
        a_.add(x::eax, simm);
        a_.movsxd(x::rax, x::eax);
        store_gpr(rt, x::rax);
        return true;
      case Op::DADDIU:
        if (!ops64()) return false;
        emit2(x::Inst::kIdMov, x::rax, S(rs));
        a_.add(x::rax, simm);
        store_gpr(rt, x::rax);
        return true;
      case Op::SLTI: case Op::SLTIU:
        emit2(x::Inst::kIdMov, x::rcx, S(rs));
        a_.xor_(x::eax, x::eax);
        a_.cmp(x::rcx, simm);  // imm32 sign-extends to 64 bits, as MIPS does
        if (op == Op::SLTI) a_.setl(x::al); else a_.setb(x::al);
        store_gpr(rt, x::rax);
        return true;
      case Op::ANDI: emit2(x::Inst::kIdMov, x::rax, S(rs)); a_.and_(x::rax, uimm); store_gpr(rt, x::rax); return true;
      case Op::ORI: emit2(x::Inst::kIdMov, x::rax, S(rs)); a_.or_(x::rax, uimm); store_gpr(rt, x::rax); return true;
      case Op::XORI: emit2(x::Inst::kIdMov, x::rax, S(rs)); a_.xor_(x::rax, uimm); store_gpr(rt, x::rax); return true;
      case Op::LUI:
        a_.mov(x::rax, static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(uimm) << 16)));
        store_gpr(rt, x::rax);
        return true;
      // x86 masks 32-bit shift counts by 31 and 64-bit ones by 63, as MIPS does.
      case Op::SLL: case Op::SRL: case Op::SRA: case Op::ROTR:
        emit2(x::Inst::kIdMov, x::eax, S32(rt));
        if (sa) {
          if (op == Op::SLL) a_.shl(x::eax, sa);
          else if (op == Op::SRL) a_.shr(x::eax, sa);
          else if (op == Op::SRA) a_.sar(x::eax, sa);
          else a_.ror(x::eax, sa);
        }
        a_.movsxd(x::rax, x::eax);
        store_gpr(rd, x::rax);
        return true;
      case Op::SLLV: case Op::SRLV: case Op::SRAV: case Op::ROTRV:
        emit2(x::Inst::kIdMov, x::ecx, S32(rs));
        emit2(x::Inst::kIdMov, x::eax, S32(rt));
        if (op == Op::SLLV) a_.shl(x::eax, x::cl);
        else if (op == Op::SRLV) a_.shr(x::eax, x::cl);
        else if (op == Op::SRAV) a_.sar(x::eax, x::cl);
        else a_.ror(x::eax, x::cl);
        a_.movsxd(x::rax, x::eax);
        store_gpr(rd, x::rax);
        return true;
      case Op::DSLL: case Op::DSRL: case Op::DSRA: case Op::DROTR:
      case Op::DSLL32: case Op::DSRL32: case Op::DSRA32: case Op::DROTR32: {
        if (!ops64()) return false;
        const bool hi = op == Op::DSLL32 || op == Op::DSRL32 || op == Op::DSRA32 || op == Op::DROTR32;
        const unsigned n = sa + (hi ? 32 : 0);
        emit2(x::Inst::kIdMov, x::rax, S(rt));
        if (n) {
          if (op == Op::DSLL || op == Op::DSLL32) a_.shl(x::rax, n);
          else if (op == Op::DSRL || op == Op::DSRL32) a_.shr(x::rax, n);
          else if (op == Op::DSRA || op == Op::DSRA32) a_.sar(x::rax, n);
          else a_.ror(x::rax, n);
        }
        store_gpr(rd, x::rax);
        return true;
      }
      case Op::DSLLV: case Op::DSRLV: case Op::DSRAV: case Op::DROTRV:
        if (!ops64()) return false;
        emit2(x::Inst::kIdMov, x::rcx, S(rs));
        emit2(x::Inst::kIdMov, x::rax, S(rt));
        if (op == Op::DSLLV) a_.shl(x::rax, x::cl);
        else if (op == Op::DSRLV) a_.shr(x::rax, x::cl);
        else if (op == Op::DSRAV) a_.sar(x::rax, x::cl);
        else a_.ror(x::rax, x::cl);
        store_gpr(rd, x::rax);
        return true;
      case Op::MOVZ: case Op::MOVN:  // branch-free, so rd's cached copy stays valid
        emit2(x::Inst::kIdMov, x::rax, S(rd));
        emit2(x::Inst::kIdMov, x::rcx, S(rs));
        emit2(x::Inst::kIdCmp, S(rt), asmjit::Imm(0));
        if (op == Op::MOVZ) a_.cmove(x::rax, x::rcx); else a_.cmovne(x::rax, x::rcx);
        store_gpr(rd, x::rax);
        return true;
      case Op::MFHI: a_.mov(x::rax, Q(o_.hi)); store_gpr(rd, x::rax); return true;
      case Op::MFLO: a_.mov(x::rax, Q(o_.lo)); store_gpr(rd, x::rax); return true;
      case Op::MTHI: emit2(x::Inst::kIdMov, x::rax, S(rs)); a_.mov(Q(o_.hi), x::rax); return true;
      case Op::MTLO: emit2(x::Inst::kIdMov, x::rax, S(rs)); a_.mov(Q(o_.lo), x::rax); return true;
      case Op::MULT: case Op::MULTU:
        if (op == Op::MULT) {
          emit2(x::Inst::kIdMovsxd, x::rax, S32(rs));
          emit2(x::Inst::kIdMovsxd, x::rcx, S32(rt));
        } else {
          emit2(x::Inst::kIdMov, x::eax, S32(rs));
          emit2(x::Inst::kIdMov, x::ecx, S32(rt));
        }
        a_.imul(x::rax, x::rcx);
        a_.mov(x::rdx, x::rax);
        a_.shr(x::rdx, 32);
        a_.movsxd(x::rdx, x::edx);
        a_.movsxd(x::rax, x::eax);
        a_.mov(Q(o_.lo), x::rax);
        a_.mov(Q(o_.hi), x::rdx);
        return true;
      case Op::MUL:
        emit2(x::Inst::kIdMov, x::eax, S32(rs));
        emit2(x::Inst::kIdImul, x::eax, S32(rt));
        a_.movsxd(x::rax, x::eax);
        store_gpr(rd, x::rax);
        return true;
      case Op::SEB: case Op::SEH: {
        const int k = slot_of(rt);
        const unsigned size = op == Op::SEB ? 1 : 2;
        if (k >= 0) a_.movsx(x::rax, size == 1 ? x::Gp(x::gpb(kHostRegIds[k])) : x::Gp(x::gpw(kHostRegIds[k])));
        else a_.movsx(x::rax, x::ptr(x::rbx, o_.gpr + 8 * static_cast<int32_t>(rt), size));
        store_gpr(rd, x::rax);
        return true;
      }
      case Op::DMULT: case Op::DMULTU:
        if (!ops64()) return false;
        emit2(x::Inst::kIdMov, x::rax, S(rs));
        a_.emit(op == Op::DMULT ? x::Inst::kIdImul : x::Inst::kIdMul, S(rt));  // rdx:rax = rax * rt
        a_.mov(Q(o_.lo), x::rax);
        a_.mov(Q(o_.hi), x::rdx);
        return true;
      // Bit fields (msbd/msb in rd, lsb in sa). Out-of-range encodings are
      // UNPREDICTABLE; they stay with the interpreter's handler.
      case Op::EXT: case Op::DEXT: case Op::DEXTM: case Op::DEXTU: {
        const bool word = op == Op::EXT;
        if (!word && !ops64()) return false;
        const unsigned pos = sa + (op == Op::DEXTU ? 32 : 0);
        const unsigned size = rd + 1 + (op == Op::DEXTM ? 32 : 0);
        if (pos + size > (word ? 32u : 64u)) return false;
        emit2(x::Inst::kIdMov, x::rax, S(rs));
        if (pos) a_.shr(x::rax, pos);
        if (size < 32) {
          a_.and_(x::rax, static_cast<int32_t>((1u << size) - 1));
        } else if (size == 32) {
          a_.mov(x::eax, x::eax);
        } else if (size < 64) {
          a_.mov(x::rcx, (1ull << size) - 1);
          a_.and_(x::rax, x::rcx);
        }
        if (word) a_.movsxd(x::rax, x::eax);
        store_gpr(rt, x::rax);
        return true;
      }
      case Op::INS: case Op::DINS: case Op::DINSM: case Op::DINSU: {
        const bool word = op == Op::INS;
        if (!word && !ops64()) return false;
        const unsigned pos = sa + (op == Op::DINSU ? 32 : 0);
        const unsigned msb = rd + (op == Op::DINSM || op == Op::DINSU ? 32 : 0);
        if (msb < pos || msb >= (word ? 32u : 64u)) return false;
        const unsigned size = msb - pos + 1;
        const uint64_t mask = (size >= 64 ? ~0ull : (1ull << size) - 1) << pos;
        emit2(x::Inst::kIdMov, x::rax, S(rs));
        if (pos) a_.shl(x::rax, pos);
        a_.mov(x::rcx, mask);
        a_.and_(x::rax, x::rcx);
        a_.not_(x::rcx);
        emit2(x::Inst::kIdAnd, x::rcx, S(rt));
        a_.or_(x::rax, x::rcx);
        if (word) a_.movsxd(x::rax, x::eax);
        store_gpr(rt, x::rax);
        return true;
      }
      // Division by zero and the one overflowing signed quotient both leave
      // LO = rs and HI = 0 (x86 would trap on them).
      case Op::DIV: case Op::DIVU: case Op::DDIV: case Op::DDIVU: {
        const bool wide = op == Op::DDIV || op == Op::DDIVU, sgn = op == Op::DIV || op == Op::DDIV;
        if (wide && !ops64()) return false;
        const x::Gp ra = wide ? x::Gp(x::rax) : x::Gp(x::eax), rc = wide ? x::Gp(x::rcx) : x::Gp(x::ecx),
                    rdx = wide ? x::Gp(x::rdx) : x::Gp(x::edx);
        Label special = a_.newLabel(), normal = a_.newLabel(), done = a_.newLabel();
        emit2(x::Inst::kIdMov, ra, wide ? S(rs) : S32(rs));
        emit2(x::Inst::kIdMov, rc, wide ? S(rt) : S32(rt));
        a_.test(rc, rc);
        a_.jz(special);
        if (sgn) {
          a_.cmp(rc, -1);
          a_.jne(normal);
          if (wide) {
            a_.mov(x::rdx, INT64_MIN);
            a_.cmp(x::rax, x::rdx);
          } else {
            a_.cmp(x::eax, INT32_MIN);
          }
          a_.je(special);
        }
        a_.bind(normal);
        if (sgn) {
          if (wide) a_.cqo(); else a_.cdq();
          a_.idiv(rc);
        } else {
          a_.xor_(x::edx, x::edx);
          a_.div(rc);
        }
        if (!wide) {
          a_.movsxd(x::rax, x::eax);
          a_.movsxd(x::rdx, x::edx);
        }
        a_.mov(Q(o_.lo), x::rax);
        a_.mov(Q(o_.hi), x::rdx);
        a_.jmp(done);
        a_.bind(special);
        if (!wide) a_.movsxd(x::rax, x::eax);
        a_.mov(Q(o_.lo), x::rax);
        a_.mov(x::qword_ptr(x::rbx, o_.hi), 0);
        a_.bind(done);
        (void)rdx;
        return true;
      }
      case Op::WSBH:
        emit2(x::Inst::kIdMov, x::eax, S32(rt));
        a_.mov(x::ecx, x::eax);
        a_.and_(x::eax, 0x00ff00ff);
        a_.shl(x::eax, 8);
        a_.shr(x::ecx, 8);
        a_.and_(x::ecx, 0x00ff00ff);
        a_.or_(x::eax, x::ecx);
        a_.movsxd(x::rax, x::eax);
        store_gpr(rd, x::rax);
        return true;
      case Op::DSBH: case Op::DSHD:
        if (!ops64()) return false;
        emit2(x::Inst::kIdMov, x::rax, S(rt));
        // DSHD reverses the halfwords: a byte swap, then (as DSBH) the bytes
        // swapped back within each halfword.
        if (op == Op::DSHD) a_.bswap(x::rax);
        a_.mov(x::rcx, x::rax);
        a_.mov(x::rdx, 0x00ff00ff00ff00ffull);
        a_.and_(x::rax, x::rdx);
        a_.shl(x::rax, 8);
        a_.shr(x::rcx, 8);
        a_.and_(x::rcx, x::rdx);
        a_.or_(x::rax, x::rcx);
        store_gpr(rd, x::rax);
        return true;
      case Op::SYNC: a_.mfence(); return true;  // a full host barrier, as the handler
      case Op::PREF: return true;
      default: return false;
    }
  }

  // Privileged ops that are simple in kernel mode (the key's mode bits fix
  // the mode for the whole block, so require_cp0 passes): CACHE is a no-op,
  // DI/EI read and change Status.IE; after EI, the interrupt check.
  bool emit_kernel_op(unsigned i, unsigned rt) {
    const Op op = ir_.insns[i].op;
    if (!c_.kernel_mode()) return false;
    if (op == Op::MFC0 || op == Op::DMFC0) return emit_mfc0(i, rt);
    if (op != Op::CACHE && op != Op::DI && op != Op::EI) return false;
    if (op == Op::CACHE) return true;
    if (op == Op::EI) {
      add_cycles(static_cast<int64_t>(i) - synced_);
      synced_ = i;
    }
    a_.movsxd(x::rax, x::dword_ptr(x::rbx, o_.status));
    store_gpr(rt, x::rax);
    if (op == Op::DI) {
      a_.and_(x::dword_ptr(x::rbx, o_.status), static_cast<int32_t>(~cp0::Status_IE));
      return true;
    }
    a_.or_(x::dword_ptr(x::rbx, o_.status), static_cast<int32_t>(cp0::Status_IE));
    a_.lock().or_(x::dword_ptr(x::rbx, o_.events), static_cast<int32_t>(EV_IRQ_CHECK));  // other threads write it too
    check_events(i);
    return true;
  }

  // MFC0/DMFC0 of CP0 registers that are plain fields (cp0_read returns
  // them as stored, Status and the Configs sign-extended); the rest (Count,
  // Random, Cause, ...) run the handler.
  bool emit_mfc0(unsigned i, unsigned rt) {
    const uint32_t w = ir_.insns[i].raw;
    const Cp0State& cp = c_.s.cp0;
    const void* src = nullptr;
    bool sext = false;
    switch (cp0::reg(field::rd(w), w & 7)) {
      case cp0::Index: src = &cp.index; break;
      case cp0::EntryLo0: src = &cp.entrylo0; break;
      case cp0::EntryLo1: src = &cp.entrylo1; break;
      case cp0::Context: src = &cp.context; break;
      case cp0::UserLocal: src = &cp.userlocal; break;
      case cp0::PageMask: src = &cp.pagemask; break;
      case cp0::Wired: src = &cp.wired; break;
      case cp0::BadVAddr: src = &cp.badvaddr; break;
      case cp0::EntryHi: src = &cp.entryhi; break;
      case cp0::EPC: src = &cp.epc; break;
      case cp0::XContext: src = &cp.xcontext; break;
      case cp0::ErrorEPC: src = &cp.errorepc; break;
      case cp0::LLAddr: src = &cp.lladdr; break;
      case cp0::Compare: src = &cp.compare; break;
      case cp0::Status: src = &cp.status; sext = true; break;
      default: return false;
    }
    const int32_t off = static_cast<int32_t>(static_cast<const char*>(src) - reinterpret_cast<const char*>(&c_));
    static_assert(sizeof(cp.compare) == 4 && sizeof(cp.status) == 4 && sizeof(cp.epc) == 8);
    if (src == &cp.compare) a_.mov(x::eax, x::dword_ptr(x::rbx, off));
    else if (sext) a_.movsxd(x::rax, x::dword_ptr(x::rbx, off));
    else a_.mov(x::rax, Q(off));
    if (ir_.insns[i].op == Op::MFC0) a_.movsxd(x::rax, x::eax);
    store_gpr(rt, x::rax);
    return true;
  }

  // TEQ/TNE (compilers put `teq rt, zero` after every divide): the compare
  // inline; when it traps, the handler raises the exception.
  bool emit_trap_eq(unsigned i, unsigned rs, unsigned rt) {
    Label trap = a_.newLabel(), cont = a_.newLabel();
    emit2(x::Inst::kIdMov, x::rax, S(rs));
    emit2(x::Inst::kIdCmp, x::rax, S(rt));
    if (ir_.insns[i].op == Op::TEQ) a_.je(trap); else a_.jne(trap);
    a_.bind(cont);
    const unsigned synced = synced_;
    stubs_.push_back([this, trap, cont, i, synced, snap = cached_] {
      a_.bind(trap);
      write_back(snap);
      call_handler(i, synced);
      add_cycles(static_cast<int64_t>(synced) - i);
      reload(snap);
      a_.jmp(cont);
    });
    return true;
  }

  // Loads and stores: the soft-TLB hit path inline, the handler on a miss.
  bool emit_mem(unsigned i, unsigned rs, unsigned rt, int32_t simm) {
    const GuestInsn& g = ir_.insns[i];
    bool is_signed = false;
    unsigned lg = 0;
    switch (g.op) {
      case Op::LB: is_signed = true; break;
      case Op::LBU: break;
      case Op::LH: lg = 1; is_signed = true; break;
      case Op::LHU: lg = 1; break;
      case Op::LW: lg = 2; is_signed = true; break;
      case Op::LWU: if (!ops64()) return false; lg = 2; break;
      case Op::LD: if (!ops64()) return false; lg = 3; break;
      case Op::SB: break;
      case Op::SH: lg = 1; break;
      case Op::SW: lg = 2; break;
      case Op::SD: if (!ops64()) return false; lg = 3; break;
      default: return false;
    }
    const bool load = (g.flags & F_LOAD) != 0;
    const unsigned size = 1u << lg;
    Label miss = a_.newLabel(), cont = a_.newLabel();
    // Inline loads go straight into rt's cache register (on a miss it
    // keeps rt's old value, which `from` describes).
    const bool direct = load && rt != 0;
    const x::Gp base = rs ? src_reg(rs) : x::Gp(x::rax);  // before rt's claim, which then cannot evict it
    const unsigned k = direct ? claim(rt) : 0;
    // A store's value: straight from rt's cache register if it has one (a
    // pending 32-bit value will do for up to 4 bytes).
    const int vk = load ? -1 : slot_of(rt);
    if (vk >= 0) {
      touch(static_cast<unsigned>(vk));
      if (size == 8) materialize(static_cast<unsigned>(vk));
    }
    const Snapshot from = cached_;
    if (!rs) a_.mov(x::rax, static_cast<int64_t>(simm));
    else if (simm) a_.lea(x::rax, x::ptr(base, simm));
    else a_.mov(x::rax, base);
    slot_and_tag(size, x::rdx);
    a_.cmp(x::rdx, stlb(x::rcx, load, 0));
    a_.jne(miss);
    a_.mov(x::rdx, stlb(x::rcx, load, 8));  // addend: host = vaddr + addend
    sample_data(x::rdx, x::rax, x::rax, !load);
    if (load) {
      const x::Gp v = direct ? host_reg(k) : x::Gp(x::rax);
      load_body(size, is_signed, v);
      if (direct) map_dirty(rt, k);
    } else {
      store_body(size, rt, vk);
    }
    a_.bind(cont);
    miss_stub(miss, cont, i, from);
    return true;
  }

  // [rdx + rax] (a host address) in guest byte order -> v, extended.
  void load_body(unsigned size, bool is_signed, const x::Gp& v) {
    const bool be = c_.cfg.big_endian;
    switch (size) {
      case 1:
        if (is_signed) a_.movsx(v, x::byte_ptr(x::rdx, x::rax));
        else a_.movzx(v.r32(), x::byte_ptr(x::rdx, x::rax));
        break;
      case 2:
        if (be) {
          a_.movzx(v.r32(), x::word_ptr(x::rdx, x::rax));
          a_.rol(v.r16(), 8);
          if (is_signed) a_.movsx(v, v.r16()); else a_.movzx(v.r32(), v.r16());
        } else if (is_signed) {
          a_.movsx(v, x::word_ptr(x::rdx, x::rax));
        } else {
          a_.movzx(v.r32(), x::word_ptr(x::rdx, x::rax));
        }
        break;
      case 4:
        if (be) {
          a_.mov(v.r32(), x::dword_ptr(x::rdx, x::rax));
          a_.bswap(v.r32());
          if (is_signed) a_.movsxd(v, v.r32());
        } else if (is_signed) {
          a_.movsxd(v, x::dword_ptr(x::rdx, x::rax));
        } else {
          a_.mov(v.r32(), x::dword_ptr(x::rdx, x::rax));
        }
        break;
      default:
        a_.mov(v, x::qword_ptr(x::rdx, x::rax));
        if (be) a_.bswap(v);
        break;
    }
  }

  // Guest register rt (in cache slot vk, or -1: in s.gpr) -> [rdx + rax],
  // in guest byte order. rcx is free here.
  void store_body(unsigned size, unsigned rt, int vk) {
    const bool be = c_.cfg.big_endian;
    x::Gp v = x::rcx;
    if (vk >= 0 && (!be || size == 1)) {
      v = host_reg(static_cast<unsigned>(vk));
    } else if (vk >= 0) {
      a_.mov(x::rcx, host_reg(static_cast<unsigned>(vk)));
    } else if (rt == 0) {
      a_.xor_(x::ecx, x::ecx);
    } else {
      a_.mov(x::rcx, G(rt));
    }
    switch (size) {
      case 1: a_.mov(x::byte_ptr(x::rdx, x::rax), x::gpb(v.id())); break;
      case 2:
        if (be) a_.rol(x::cx, 8);
        a_.mov(x::word_ptr(x::rdx, x::rax), x::gpw(v.id()));
        break;
      case 4:
        if (be) a_.bswap(x::ecx);
        a_.mov(x::dword_ptr(x::rdx, x::rax), v.r32());
        break;
      default:
        if (be) a_.bswap(x::rcx);
        a_.mov(x::qword_ptr(x::rdx, x::rax), v);
        break;
    }
  }

  // rax = a virtual address: rcx = its soft-TLB slot offset (index * 16);
  // `tag` = the tag an access of `size` bytes must match. In a block the
  // mode part of the tag is a constant (mode_key is a function of the
  // Status bits the block's key fixes).
  void slot_and_tag(unsigned size, const x::Gp& tag) {
    static_assert(sizeof(SoftTlbEntry) == 16 && ((kSoftTlbSize - 1) << 16) <= 0x7fffffff);
    a_.mov(x::ecx, x::eax);
    a_.shr(x::ecx, 12 - 4);
    a_.and_(x::ecx, static_cast<int32_t>((kSoftTlbSize - 1) << 4));
    a_.mov(tag, x::rax);
    a_.and_(tag, static_cast<int32_t>(~(kPageMask ^ (size - 1))));
    static_assert(static_cast<int32_t>(kPageMask) == kPageMask);
    a_.or_(tag, static_cast<int32_t>(c_.mode_key));  // the block's key fixes the mode
  }
  // rax = rs + simm, then slot_and_tag into rsi (whose cache slot the
  // caller has emptied).
  void vaddr_and_tag(unsigned rs, int32_t simm, unsigned size) {
    emit2(x::Inst::kIdMov, x::rax, S(rs));
    if (simm) a_.add(x::rax, simm);
    slot_and_tag(size, x::rsi);
  }
  x::Mem stlb(const x::Gp& idx, bool load, int32_t field) const {
    return x::qword_ptr(x::rbx, idx, 0, (load ? o_.stlb_load : o_.stlb_store) + field);
  }
  // A handler call at `miss` for instruction i, then back to `cont`
  // (bound just now); `from`: the cache where the miss branched off.
  void miss_stub(Label miss, Label cont, unsigned i, const Snapshot& from) {
    const unsigned synced = synced_;
    stubs_.push_back([this, miss, cont, i, synced, from, to = cached_] {
      a_.bind(miss);
      write_back(from);
      call_handler(i, synced);
      add_cycles(static_cast<int64_t>(synced) - i);  // back to this path's count
      reload(to);
      a_.jmp(cont);
    });
  }
  // Value in `v` (a register of the access width) from/to guest order.
  void swap_guest(const x::Gp& v) {
    if (c_.cfg.big_endian) a_.bswap(v);
  }

  // LL/LLD and SC/SCD, as the handlers do them, when every access hits the
  // soft TLB; anything else (a miss, a fault, a mapped LL whose LLAddr
  // needs the TLB) runs the handler, which starts from scratch: nothing is
  // written before the inline path is sure to finish.
  bool emit_llsc(unsigned i, unsigned rs, unsigned rt, int32_t simm) {
    const Op op = ir_.insns[i].op;
    if (op != Op::LL && op != Op::LLD && op != Op::SC && op != Op::SCD) return false;
    const bool wide = op == Op::LLD || op == Op::SCD;
    if (wide && !ops64()) return false;
    const unsigned size = wide ? 8 : 4;
    const x::Gp v = wide ? x::Gp(x::rdi) : x::Gp(x::edi);
    Label miss = a_.newLabel(), cont = a_.newLabel();
    clobber_scratch();  // r8, rsi, rdi are scratch here
    if (op == Op::SC || op == Op::SCD) evict(rt);  // written on three paths
    const Snapshot from = cached_;
    vaddr_and_tag(rs, simm, size);
    if (op == Op::LL || op == Op::LLD) {
      // LLAddr = paddr >> 4: for kseg0/1 and xkphys a function of vaddr.
      Label have = a_.newLabel();
      kseg01_phys(x::r8, x::r8, have);
      a_.mov(x::r8, x::rax);
      a_.shr(x::r8, 62);
      a_.cmp(x::r8d, 2);
      a_.jne(miss);
      a_.mov(x::r8, (1ull << cp0::kPaBits) - 1);
      a_.and_(x::r8, x::rax);
      a_.bind(have);
      a_.cmp(x::rsi, stlb(x::rcx, true, 0));
      a_.jne(miss);
      a_.mov(x::rdx, stlb(x::rcx, true, 8));
      sample_data(x::rdx, x::rax, x::rax, false);
      a_.mov(v, x::ptr(x::rdx, x::rax, 0, 0, size));
      swap_guest(v);
      a_.shr(x::r8, 4);
      a_.mov(Q(o_.lladdr), x::r8);
      a_.mov(B(o_.llbit), 1);
      a_.mov(Q(o_.ll_vaddr), x::rax);
      a_.mov(Q(o_.ll_value), x::rdi);  // zero-extended for LL
      if (!wide) a_.movsxd(x::rdi, x::edi);
      store_gpr(rt, x::rdi);
    } else {
      Label fail = a_.newLabel(), differs = a_.newLabel();
      a_.cmp(B(o_.llbit), 0);
      a_.je(fail);
      a_.cmp(x::rax, Q(o_.ll_vaddr));
      a_.jne(fail);
      // A store entry implies a readable, writable RAM page without code.
      a_.cmp(x::rsi, stlb(x::rcx, false, 0));
      a_.jne(miss);
      a_.add(x::rax, stlb(x::rcx, false, 8));  // host address
      sample_data(x::rax, x::Gp(), x::rax, true);  // whether or not it swaps, as the handler
      emit2(x::Inst::kIdMov, x::rdi, S(rt));
      swap_guest(v);                           // desired, guest order
      a_.mov(x::rdx, x::rax);
      if (wide) a_.mov(x::rax, Q(o_.ll_value));
      else a_.mov(x::eax, x::dword_ptr(x::rbx, o_.ll_value));
      swap_guest(wide ? x::Gp(x::rax) : x::Gp(x::eax));  // expected, guest order
      // Atomic against other host threads (the handler does the same).
      a_.lock().cmpxchg(x::ptr(x::rdx, 0, size), v);
      a_.jne(differs);
      a_.mov(B(o_.llbit), 0);
      a_.mov(x::eax, 1);
      store_gpr_uncached(rt, x::rax);
      a_.jmp(cont);
      a_.bind(differs);
      a_.mov(B(o_.llbit), 0);
      a_.xor_(x::eax, x::eax);
      store_gpr_uncached(rt, x::rax);
      a_.jmp(cont);
      // No link for this address: fails, or raises AdES if misaligned.
      a_.bind(fail);
      a_.test(x::al, static_cast<int32_t>(size - 1));
      a_.jnz(miss);
      a_.xor_(x::eax, x::eax);
      store_gpr_uncached(rt, x::rax);
    }
    a_.bind(cont);
    miss_stub(miss, cont, i, from);
    return true;
  }

  // LWL/LWR/LDL/LDR: the aligned word through the soft TLB, merged into rt
  // by a shift that depends on the low address bits; a miss runs the handler.
  bool emit_load_lr(unsigned i, unsigned rs, unsigned rt, int32_t simm) {
    const Op op = ir_.insns[i].op;
    if (op != Op::LWL && op != Op::LWR && op != Op::LDL && op != Op::LDR) return false;
    const bool wide = op == Op::LDL || op == Op::LDR, left = op == Op::LWL || op == Op::LDL;
    if (wide && !ops64()) return false;
    const unsigned n = wide ? 8 : 4;
    const x::Gp v = wide ? x::Gp(x::rdi) : x::Gp(x::edi), m = wide ? x::Gp(x::rdx) : x::Gp(x::edx);
    Label miss = a_.newLabel(), cont = a_.newLabel();
    clobber_scratch();  // r8, rsi, rdi are scratch here
    const Snapshot from = cached_;
    vaddr_and_tag(rs, simm, 1);  // the aligned word is on the same page
    a_.cmp(x::rsi, stlb(x::rcx, true, 0));
    a_.jne(miss);
    a_.mov(x::rdx, stlb(x::rcx, true, 8));
    a_.mov(x::r8, x::rax);
    a_.and_(x::r8, static_cast<int32_t>(~(n - 1)));
    sample_data(x::rdx, x::r8, x::rax, false);  // the aligned word, as the handler
    a_.mov(v, x::ptr(x::rdx, x::r8, 0, 0, n));
    swap_guest(v);
    // cl = shift: left (N-1-lane)*8, right lane*8; the lane mirrors for big-endian.
    a_.mov(x::ecx, x::eax);
    a_.and_(x::ecx, static_cast<int32_t>(n - 1));
    if (left != c_.cfg.big_endian) a_.xor_(x::ecx, static_cast<int32_t>(n - 1));
    a_.shl(x::ecx, 3);
    if (left) {
      a_.shl(v, x::cl);
      a_.mov(m, 1);
      a_.shl(m, x::cl);
      a_.dec(m);  // rt's bytes below the loaded ones stay
    } else {
      a_.shr(v, x::cl);
      a_.mov(m, -1);
      a_.shr(m, x::cl);
      a_.not_(m);  // rt's bytes above the loaded ones stay
    }
    emit2(x::Inst::kIdAnd, m, wide ? S(rt) : S32(rt));
    a_.or_(v, m);
    if (!wide) a_.movsxd(x::rdi, x::edi);
    store_gpr(rt, x::rdi);
    a_.bind(cont);
    miss_stub(miss, cont, i, from);
    return true;
  }

  // Out of line at `at`: the branch-likely at i was not taken, so its delay
  // slot is nullified; leave for the instruction after it.
  void skip_delay_slot_at(Label at, unsigned i) {
    const unsigned synced = synced_;
    stubs_.push_back([this, at, i, synced, pc = ir_.insns[i].pc, from = cached_] {
      a_.bind(at);
      write_back(from);
      add_cycles(static_cast<int64_t>(i) + 1 - synced);
      chain_to(pc + 8);
    });
  }

  // A delay slot that can only be plain ALU code (no branch, privileged or
  // memory instruction): such code never calls a handler, so nothing it
  // does reads s.branch_target.
  bool plain_alu_slot(const GuestInsn& slot) const {
    return cls_.alu && !(slot.flags & (F_BRANCH | F_JUMP | F_PRIV | F_LOAD | F_STORE));
  }
  // emit_alu for a decoded instruction (false, nothing emitted, if it declines).
  bool emit_alu_insn(const GuestInsn& g) {
    return emit_alu(g.op, field::rs(g.raw), field::rt(g.raw), field::rd(g.raw), field::sa(g.raw),
                    static_cast<int32_t>(field::simm(g.raw)), g.raw);
  }

  // Flags for a branch: rs against rt (rt = 0: against zero), both signed
  // 64-bit. From the cache registers where they are; rax is scratch.
  void compare_branch_operands(unsigned rs, unsigned rt) {
    const asmjit::Operand a = S(rs);
    x::Gp lhs = x::rax;
    if (a.isReg()) lhs = a.as<x::Gp>();
    else emit2(x::Inst::kIdMov, x::rax, a);
    if (rt == 0) a_.test(lhs, lhs);
    else emit2(x::Inst::kIdCmp, lhs, S(rt));
  }

  // A branch whose delay slot is inline ALU code that writes none of the
  // branch's operands: the slot first, then the compare, straight into the
  // exits. The target never goes through s.branch_target (only a slot that
  // can call a handler needs it there). Not for BLTZAL/BGEZAL/JALR, whose
  // operands must be read before the link is written; false if the slot
  // is not such code (then nothing was emitted).
  bool emit_branch_after_slot(unsigned i, bool conditional, uint64_t taken, uint64_t jtarget) {
    const GuestInsn& g = ir_.insns[i];
    const GuestInsn& slot = ir_.insns[i + 1];
    const Op op = g.op;
    const unsigned rs = field::rs(g.raw), rt = field::rt(g.raw);
    if (!plain_alu_slot(slot)) return false;
    if (op == Op::BLTZAL || op == Op::BGEZAL || op == Op::JALR || op == Op::JALR_HB) return false;
    const unsigned srd = field::rd(slot.raw), srt = field::rt(slot.raw);
    auto slot_may_write = [&](unsigned r) { return r != 0 && (srd == r || srt == r); };
    const bool reads_rs = conditional || op == Op::JR || op == Op::JR_HB;
    const bool reads_rt = conditional && (op == Op::BEQ || op == Op::BNE);
    if ((reads_rs && slot_may_write(rs)) || (reads_rt && slot_may_write(rt))) return false;
    // Try the slot first: emit_alu emits nothing when it declines. The
    // link (JAL) is written before the slot runs, as the slot may read it.
    if (op == Op::JAL) {
      a_.mov(x::rax, g.pc + 8);
      store_gpr(31, x::rax);
    }
    if (!emit_alu_insn(slot)) {
      // (the general path repeats JAL's link store)
      return false;
    }
    inlined += 2;
    add_cycles(static_cast<int64_t>(i) + 2 - synced_);
    if (conditional) {
      Label go = a_.newLabel();
      compare_branch_operands(rs, op == Op::BEQ || op == Op::BNE ? rt : 0);
      const Snapshot at = cached_;
      const auto ages = age_;
      switch (op) {
        case Op::BEQ: a_.je(go); break;
        case Op::BNE: a_.jne(go); break;
        case Op::BLEZ: a_.jle(go); break;
        case Op::BGTZ: a_.jg(go); break;
        case Op::BLTZ: a_.jl(go); break;
        default: a_.jge(go); break;  // BGEZ
      }
      flush_and_chain(g.pc + 8);
      a_.bind(go);
      cached_ = at;
      age_ = ages;
      flush_and_chain(taken);
    } else if (op == Op::J || op == Op::JAL) {
      flush_and_chain(jtarget);
    } else {  // JR
      emit2(x::Inst::kIdMov, x::rax, S(rs));
      flush_all();
      a_.mov(Q(o_.pc), x::rax);
      lookup_exit();
    }
    return true;
  }

  // A branch or jump at i with its delay slot at i + 1 (the block's end).
  bool emit_branch(unsigned i) {
    const GuestInsn& g = ir_.insns[i];
    const uint32_t w = g.raw;
    const unsigned rs = field::rs(w), rt = field::rt(w), rd = field::rd(w);
    const uint64_t taken = g.pc + 4 + (static_cast<uint64_t>(field::simm(w)) << 2);
    const uint64_t jtarget = ((g.pc + 4) & ~0x0fffffffull) | (static_cast<uint64_t>(field::target(w)) << 2);
    const bool has_slot = i + 1 < ir_.insns.size();
    bool inline_ok = cls_.branch && has_slot;
    // Condition: compare and the x86 condition code for "taken".
    enum Cond { NONE, EQ, NE, LE, GT, LT, GE } cond = NONE;
    bool likely = false, link = false;
    switch (g.op) {
      case Op::BEQ: cond = EQ; break;
      case Op::BNE: cond = NE; break;
      case Op::BLEZ: cond = LE; break;
      case Op::BGTZ: cond = GT; break;
      case Op::BLTZ: cond = LT; break;
      case Op::BGEZ: cond = GE; break;
      case Op::BLTZAL: cond = LT; link = true; break;  // links taken or not
      case Op::BGEZAL: cond = GE; link = true; break;
      case Op::BEQL: cond = EQ; likely = true; break;
      case Op::BNEL: cond = NE; likely = true; break;
      case Op::BLEZL: cond = LE; likely = true; break;
      case Op::BGTZL: cond = GT; likely = true; break;
      case Op::BLTZL: cond = LT; likely = true; break;
      case Op::BGEZL: cond = GE; likely = true; break;
      case Op::J: case Op::JR: case Op::JR_HB: break;
      case Op::JAL: case Op::JALR: case Op::JALR_HB: link = true; break;
      default: inline_ok = false; break;
    }
    if (inline_ok && !likely && emit_branch_after_slot(i, cond != NONE, taken, jtarget)) return true;
    if (!inline_ok) {
      fallback(i);
      if (!has_slot) {
        exit_to_imm(g.pc + 4, i + 1);
        return true;
      }
      // A likely branch that is not taken skipped its delay slot (the
      // handler left branch_pending clear).
      Label nullified = a_.newLabel();
      a_.cmp(B(o_.branch_pending), 0);
      a_.je(nullified);
      a_.mov(B(o_.branch_pending), 0);
      skip_delay_slot_at(nullified, i);
    } else {
      ++inlined;
      if (cond != NONE) {
        compare_branch_operands(rs, cond == EQ || cond == NE ? rt : 0);
        if (!likely) {
          a_.mov(x::rcx, taken);
          a_.mov(x::rdx, g.pc + 8);
          switch (cond) {
            case EQ: a_.cmove(x::rdx, x::rcx); break;
            case NE: a_.cmovne(x::rdx, x::rcx); break;
            case LE: a_.cmovle(x::rdx, x::rcx); break;
            case GT: a_.cmovg(x::rdx, x::rcx); break;
            case LT: a_.cmovl(x::rdx, x::rcx); break;
            default: a_.cmovge(x::rdx, x::rcx); break;
          }
          a_.mov(Q(o_.branch_target), x::rdx);
          if (link) {  // after the compare read rs (rs = 31 is UNPREDICTABLE)
            a_.mov(x::rax, g.pc + 8);
            store_gpr(31, x::rax);
          }
        } else {
          Label not_taken = a_.newLabel();
          switch (cond) {
            case EQ: a_.jne(not_taken); break;
            case NE: a_.je(not_taken); break;
            case LE: a_.jg(not_taken); break;
            case GT: a_.jle(not_taken); break;
            case LT: a_.jge(not_taken); break;
            default: a_.jl(not_taken); break;
          }
          a_.mov(x::rax, taken);
          a_.mov(Q(o_.branch_target), x::rax);
          skip_delay_slot_at(not_taken, i);
        }
      } else if (g.op == Op::J || g.op == Op::JAL) {
        a_.mov(x::rax, jtarget);
        a_.mov(Q(o_.branch_target), x::rax);
        if (link) {
          a_.mov(x::rax, g.pc + 8);
          store_gpr(31, x::rax);
        }
      } else {  // JR/JALR: the target is read before the link is written
        emit2(x::Inst::kIdMov, x::rax, S(rs));
        a_.mov(Q(o_.branch_target), x::rax);
        if (link) {
          a_.mov(x::rax, g.pc + 8);
          store_gpr(rd, x::rax);
        }
      }
    }
    // The delay slot, then on to the target.
    const unsigned s = i + 1;
    cur_ = s;
    const GuestInsn& slot = ir_.insns[s];
    // A privileged slot (say MTC0 Status or EntryHi, whose handler may let
    // the block go on) may change the mode or the translation: no chaining.
    no_chain_ = (slot.flags & F_PRIV) != 0;
    bool done = cls_.alu && !(slot.flags & (F_BRANCH | F_JUMP)) && emit_alu_insn(slot);
    if (!done && cls_.alu && slot.op != Op::EI) done = emit_kernel_op(s, field::rt(slot.raw));
    if (!done && cls_.mem && (slot.flags & (F_LOAD | F_STORE)) && !(slot.flags & (F_FPU | F_UNALIGNED)))
      done = emit_mem(s, field::rs(slot.raw), field::rt(slot.raw), static_cast<int32_t>(field::simm(slot.raw)));
    if (done) ++inlined; else fallback(s);
    const bool direct = inline_ok && (cond != NONE || g.op == Op::J || g.op == Op::JAL);
    if (!direct) flush_all();  // (direct exits write back on each path)
    a_.mov(x::rax, Q(o_.branch_target));
    a_.mov(Q(o_.pc), x::rax);
    add_cycles(static_cast<int64_t>(s) + 1 - synced_);
    // Static targets chain; register jumps (JR/JALR) look up the jump cache.
    if (inline_ok && cond != NONE) {
      Label not_taken = a_.newLabel();
      a_.mov(x::rcx, taken);
      a_.cmp(x::rax, x::rcx);
      const Snapshot at = cached_;
      const auto ages = age_;
      a_.jne(not_taken);
      flush_and_chain(taken);
      a_.bind(not_taken);
      cached_ = at;
      age_ = ages;
      flush_and_chain(g.pc + 8);
    } else if (direct) {
      flush_and_chain(jtarget);
    } else {
      lookup_exit();  // rax = s.pc
    }
    return true;
  }

  x::Assembler& a_;
  const Cpu& c_;
  Offsets o_;
  const BlockIR& ir_;
  const JitClasses& cls_;
  FallbackCounters& counters_;
  FallbackSite* args_;
  ChainSlot* slots_;
  const JumpCacheEntry* jump_cache_;
  const Thunks& thunks_;
  Label epilogue_, chain_entry_;
  std::array<Label, kMaxChainSlots> slot_exit_, slot_patch_;
  Label lookup_at_pc_, leave_;
  bool lookup_at_pc_used_ = false, leave_used_ = false;
  bool no_chain_ = false;
  unsigned synced_ = 0;  // cycles the main path has added so far
  Snapshot cached_{};
  bool probe_ = false, back_edge_seen_ = false;  // probe pass: the state at the back edge
  Snapshot back_edge_state_{};
  std::array<uint32_t, kCacheRegs> back_edge_ages_{};
  unsigned cur_ = 0;                   // the instruction being emitted
  unsigned skip_slot_ = ~0u;           // a slot already emitted
  std::vector<uint32_t> names_;        // bit r: insn j names guest register r
  bool loop_ = false;  // real pass of a self loop: loop_head_ with loop_state_
  Label loop_head_;
  Snapshot loop_state_{};
  std::array<uint32_t, kCacheRegs> loop_ages_{};
  std::array<uint32_t, kCacheRegs> age_{};
  uint32_t clock_ = 0;
  std::vector<std::function<void()>> stubs_;
};

// The block ends with a direct branch or jump whose target is its own start.
bool branches_to_start(const BlockIR& ir) {
  const size_t n = ir.insns.size();
  if (n < 2) return false;
  const GuestInsn& g = ir.insns[n - 2];
  if (!(g.flags & F_BRANCH) && g.op != Op::J) return false;
  const uint64_t taken = g.pc + 4 + (static_cast<uint64_t>(field::simm(g.raw)) << 2);
  const uint64_t jtarget = ((g.pc + 4) & ~0x0fffffffull) | (static_cast<uint64_t>(field::target(g.raw)) << 2);
  return (g.op == Op::J ? jtarget : taken) == ir.vpc;
}

class X64Backend : public Backend {
 public:
  CompiledBlock compile(const BlockIR& ir, const Cpu& c, const JitClasses& classes, FallbackCounters& counters,
                        const JumpCacheEntry* jump_cache, std::string& error) override {
    CompiledBlock out;
    out.fallback_args = std::make_unique<FallbackSite[]>(ir.insns.size());
    out.slots = std::make_unique<ChainSlot[]>(kMaxChainSlots);
    asmjit::CodeHolder code;
    code.init(rt_.environment());
    RecordingErrorHandler eh;
    code.setErrorHandler(&eh);
    // DISCO_JIT_LOG=<hex vpc>: print the host code of the block at that pc.
    asmjit::StringLogger logger;
    static const char* log_env = std::getenv("DISCO_JIT_LOG");
    const bool log = log_env && std::strtoull(log_env, nullptr, 16) == ir.vpc;
    if (log) code.setLogger(&logger);
    x::Assembler a(&code);
    if (!thunks_.lookup && !make_thunks(c, jump_cache, error)) return CompiledBlock{};
    Emitter e(a, c, ir, classes, counters, out.fallback_args.get(), out.slots.get(), jump_cache, thunks_);
    if (classes.loop && classes.branch && branches_to_start(ir)) {
      // A self loop: a probe pass (thrown away) finds the cache state at
      // the back edge, which the real pass's loop head starts from.
      asmjit::CodeHolder probe_code;
      probe_code.init(rt_.environment());
      RecordingErrorHandler probe_eh;
      probe_code.setErrorHandler(&probe_eh);
      x::Assembler pa(&probe_code);
      Emitter probe(pa, c, ir, classes, counters, out.fallback_args.get(), out.slots.get(), jump_cache, thunks_);
      probe.set_probe();
      probe.emit();
      if (probe.back_edge_seen()) e.use_loop_state(probe);
      for (unsigned k = 0; k < kMaxChainSlots; ++k) out.slots[k] = ChainSlot{};
    }
    e.emit();
    if (log) std::fprintf(stderr, "disco: JIT block %llx:\n%s\n", static_cast<unsigned long long>(ir.vpc), logger.data());
    if (!eh.error.empty()) {
      error = "x86-64 emitter: " + eh.error;
      return CompiledBlock{};
    }
    BlockFn fn = reinterpret_cast<BlockFn>(install(code));
    if (!fn) {
      error = "x86-64 emitter: cannot install code (code area full?)";
      return CompiledBlock{};
    }
    out.fn = fn;
    const uint64_t base = reinterpret_cast<uint64_t>(fn);
    out.chain_entry = base + code.labelOffsetFromBase(e.chain_entry_label());
    out.slot_count = e.slot_count;
    const uint64_t epilogue = base + code.labelOffsetFromBase(e.epilogue_label());
    for (unsigned k = 0; k < kMaxChainSlots; ++k) {
      const bool used = k < e.slot_count;
      out.slots[k].jump_to = out.slots[k].epilogue = used ? base + code.labelOffsetFromBase(e.slot_exit_label(k)) : epilogue;
      if (used) out.slots[k].patch = reinterpret_cast<uint8_t*>(base + code.labelOffsetFromBase(e.slot_patch_label(k)) - 4);
    }
    out.code_bytes = code.codeSize();
    out.guest_insns = static_cast<unsigned>(ir.insns.size());
    out.inlined = e.inlined;
    out.self_loop = e.is_loop();
    return out;
  }
  // Code is never freed one block at a time: the JIT flushes everything
  // when it has made kCodeAreaBytes / 4 of code, and then calls reset.
  void release(BlockFn) override {}
  void reset() override { next_ = reset_to_; }

  X64Backend() {
    // One area, on 2 MiB pages where the host allows (fewer iTLB misses:
    // kernel code runs thousands of small blocks a few times each).
    raw_ = static_cast<uint8_t*>(mmap(nullptr, kCodeAreaBytes + kHugePage, PROT_READ | PROT_WRITE | PROT_EXEC,
                                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
    if (raw_ == MAP_FAILED) {
      raw_ = nullptr;
      return;
    }
    area_ = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(raw_) + kHugePage - 1) & ~(kHugePage - 1));
    madvise(area_, kCodeAreaBytes, MADV_HUGEPAGE);
    next_ = reset_to_ = area_;
  }
  ~X64Backend() override {
    if (raw_) munmap(raw_, kCodeAreaBytes + kHugePage);
  }

 private:
  static constexpr size_t kHugePage = 2u << 20;
  static constexpr size_t kCodeAreaBytes = 1u << 30;  // virtual; the JIT flushes at a quarter of it

  // Places finished code in the area (as JitRuntime::add does); null if
  // it does not fit.
  void* install(asmjit::CodeHolder& code) {
    if (!area_ || code.flatten() != asmjit::kErrorOk || code.resolveUnresolvedLinks() != asmjit::kErrorOk)
      return nullptr;
    const size_t estimate = code.codeSize();
    uint8_t* p = next_;
    if (estimate > static_cast<size_t>(area_ + kCodeAreaBytes - p)) return nullptr;
    if (code.relocateToBase(reinterpret_cast<uint64_t>(p)) != asmjit::kErrorOk) return nullptr;
    const size_t size = code.codeSize();  // may shrink (address-table entries not needed)
    if (code.copyFlattenedData(p, size, asmjit::CopySectionFlags::kPadSectionBuffer) != asmjit::kErrorOk)
      return nullptr;
    asmjit::VirtMem::flushInstructionCache(p, size);
    next_ = p + ((size + 63) & ~size_t{63});
    return p;
  }

  bool make_thunks(const Cpu& c, const JumpCacheEntry* jump_cache, std::string& error) {
    asmjit::CodeHolder code;
    code.init(rt_.environment());
    RecordingErrorHandler eh;
    code.setErrorHandler(&eh);
    x::Assembler a(&code);
    const BlockIR none;
    const JitClasses cls;
    FallbackCounters counters;
    Thunks t;
    std::vector<std::pair<uint64_t*, Label>> at;
    Emitter(a, c, none, cls, counters, nullptr, nullptr, jump_cache, t).emit_thunks(t, at);
    void* base = eh.error.empty() ? install(code) : nullptr;
    if (!base) {
      error = "x86-64 emitter: cannot install the shared code" + (eh.error.empty() ? "" : ": " + eh.error);
      return false;
    }
    for (auto& [slot, label] : at) *slot = reinterpret_cast<uint64_t>(base) + code.labelOffsetFromBase(label);
    // Each thunk runs up to the next (the last to the end of the shared code).
    std::vector<uint64_t> starts;
    for (auto& [slot, label] : at) starts.push_back(*slot);
    starts.push_back(reinterpret_cast<uint64_t>(base) + code.codeSize());
    static_assert(std::size(kThunkNames) == 4);
    for (size_t k = 0; k < at.size(); ++k) shared_.push_back({starts[k], starts[k + 1] - starts[k], kThunkNames[k]});
    thunks_ = t;
    reset_to_ = next_;
    return true;
  }

  std::vector<SharedCode> shared_code() const override { return shared_; }

  asmjit::JitRuntime rt_;  // only its environment (the host) is used
  std::vector<SharedCode> shared_;
  uint8_t* raw_ = nullptr;
  uint8_t* area_ = nullptr;
  uint8_t* next_ = nullptr;
  uint8_t* reset_to_ = nullptr;  // past the thunks
  Thunks thunks_;
};

}  // namespace

std::unique_ptr<Backend> make_host_backend() { return std::make_unique<X64Backend>(); }
bool host_backend_available() { return true; }

}  // namespace disco::jit
