// One processor's cache in the memory-system model (docs/numa.md): set
// associative, LRU, 128-byte lines, write-allocate, no writebacks; sets
// indexed by the line number modulo the number of sets, like hardware.
//
// Set sampling. The engines report only sampled lines (cpu/mem_sampler.h):
// with 1-in-R sampling, line L is sampled iff bits 0..k-1 of L are zero
// (R = 2^k <= 32). When the number of sets is a multiple of 32 R the set
// index keeps those bits, so "sampled" is a property of the set: exactly
// 1 set in R is kept (its lines are all sampled), the others are never
// touched and are not allocated. Kept set s lives at s >> k (its low k
// bits are zero). Every kept set sees every access to it, so it behaves
// exactly like that set of the full cache, and misses x R estimates the
// full cache's misses (docs/numa.md, "Validation").
//
// Threads: the owner (the thread running the processor) calls access();
// any thread may call invalidate() and contains() (coherence), so tags
// are relaxed atomics. LRU state is the owner's. An invalidation racing
// with the owner's fill of the same line may miss it: as if the write
// came first.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "cpu/mem_sampler.h"

namespace disco {

class CacheModel {
 public:
  // Where a line lives: its kept set's index (kNotKept when the line is
  // not sampled at this rate) and its tag (the line number).
  struct Slot {
    uint32_t set;
    uint64_t tag;
  };
  static constexpr uint32_t kNotKept = ~0u;

  // `bytes` of cache in `ways`-way sets of 128-byte lines, sampled 1 in
  // `rate` lines. Throws std::invalid_argument with check()'s message
  // when that makes no cache.
  // `fetch`: the lines are instruction fetches' (fetch_line_sampled picks
  // the kept sets, line_sampled otherwise).
  CacheModel(uint64_t bytes, unsigned ways, unsigned rate, bool fetch = false);
  CacheModel(const CacheModel&) = delete;
  CacheModel& operator=(const CacheModel&) = delete;
  // Empty when the geometry works, else why not: the ways must split the
  // bytes into whole sets, the rate must be a power of two up to
  // kMaxSampleRate, and (rate > 1) the sets a multiple of 32 x rate.
  static std::string check(uint64_t bytes, unsigned ways, unsigned rate);

  unsigned ways() const { return ways_; }
  uint64_t sets() const { return sets_; }            // of the full cache
  uint32_t kept_sets() const { return kept_sets_; }  // sets / rate
  unsigned rate() const { return 1u << rate_shift_; }

  // The line of any byte address `key` (bits 0..6 are ignored).
  Slot slot(uint64_t key) const {
    const uint64_t line = key >> kLineShift;
    const uint64_t set = sets_pow2_ ? line & (sets_ - 1) : line % sets_;
    if ((fetch_ ? set ^ (set >> 5) : set) & rate_mask_) return {kNotKept, line};
    return {static_cast<uint32_t>(set >> rate_shift_), line};
  }
  bool kept(uint64_t key) const { return slot(key).set != kNotKept; }

  // An access by the owner: true on a miss, which fills the line (evicting
  // the least recently used way). A line whose set is not kept is not
  // modelled: false, nothing counted.
  bool access(uint64_t key, bool write) { return access(slot(key), write); }
  bool access(Slot s, bool write);
  // The line leaves this cache (another processor wrote it). Any thread.
  void invalidate(uint64_t key) { invalidate(slot(key)); }
  void invalidate(Slot s);
  // How many lines invalidate() has taken out so far: the engines' repeat
  // filter (MemSampler::invalidations) watches it. Any thread.
  const std::atomic<uint64_t>& invalidations() const { return invalidations_; }
  bool contains(uint64_t key) const;  // any thread
  // Every line out (owner).
  void clear();

  // The owner's tallies of modelled (kept-set) accesses, unscaled.
  uint64_t accesses() const { return accesses_; }
  uint64_t misses() const { return misses_; }
  uint64_t write_misses() const { return write_misses_; }

 private:
  static constexpr uint64_t kEmpty = ~0ull;  // no line number is all ones
  unsigned ways_;
  bool fetch_;
  unsigned rate_shift_;  // k: rate = 2^k
  uint64_t rate_mask_;   // rate - 1
  uint64_t sets_;
  bool sets_pow2_;
  uint32_t kept_sets_;
  std::unique_ptr<std::atomic<uint64_t>[]> tags_;  // kept_sets_ x ways_
  std::unique_ptr<uint64_t[]> used_;                // last use per way (owner)
  uint64_t clock_ = 0;
  uint64_t accesses_ = 0, misses_ = 0, write_misses_ = 0;
  std::atomic<uint64_t> invalidations_{0};
};

}  // namespace disco
