// Per-page, per-node cache-miss counters: the analogue of FLASH's hardware
// counters that Disco's policy reads (docs/numa.md). The memory model adds
// the (scaled) misses of sampled accesses; a page whose count from one node
// it does not live on reaches the trigger within the current interval
// becomes hot and is queued once for the policy, which runs with the world
// paused.
//
// Thread-safe: add() from any processor's thread (relaxed atomics and a
// short lock for the hot queue); reset(), clear_page() and take_hot() by
// the policy.
//
// Invariants:
//  - A page is in the hot queue at most once: the thread whose fetch_add
//    carried a node's count from below the trigger to at least it sets the
//    page's queued mark, and only the one that set it pushes the page.
//  - Within an interval a node's count crosses the trigger at most once, so
//    a page taken by take_hot() comes back in that interval only when
//    another node's count crosses (news for the policy), or after reset()
//    or clear_page() (or a count wrapping past 2^32 misses, which an
//    interval never sees).
//  - Every page with a nonzero count or mark since the last reset() is in
//    the touched list, once, so reset() costs the pages missed on
//    in the interval, not the whole machine.
//  - A trigger of 0 makes no page hot.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "numa-model/machine_memory.h"

namespace disco {

struct HotPage {
  MPage page;
  unsigned node;  // the node whose misses crossed the trigger
};

class MissCounters {
 public:
  MissCounters(uint64_t pages, unsigned nodes, uint32_t trigger);
  unsigned nodes() const { return nodes_; }
  uint32_t trigger() const { return trigger_; }
  // `n` misses from `node` to page p (a write miss when `write`). Only
  // `remote` misses (the page lives on another node) make a page hot: a
  // page missed on by its own node needs nothing, and its counter
  // interrupts would only cost the policy's time (hot_page_us).
  void add(MPage p, unsigned node, uint32_t n, bool write, bool remote = true);
  uint32_t count(MPage p, unsigned node) const;
  uint32_t total(MPage p) const;
  bool written(MPage p) const;
  // The pages that became hot since the last call, each once.
  std::vector<HotPage> take_hot();
  // Whether take_hot() would return something (any thread).
  bool has_hot() {
    std::lock_guard<std::mutex> lk(mu_);
    return !hot_.empty();
  }
  // A new interval: every count and write mark back to zero; pages queued
  // but not taken are dropped (their hotness belonged to the old interval).
  void reset();
  // Page p was moved or freed: its counts and marks go, and it leaves the
  // hot queue.
  void clear_page(MPage p);

 private:
  uint64_t pages_;
  unsigned nodes_;
  uint32_t trigger_;
  std::unique_ptr<std::atomic<uint32_t>[]> counts_;  // pages_ x nodes_
  // Per page: bit 0 written, bit 1 queued, bit 2 touched (in touched_).
  std::unique_ptr<std::atomic<uint8_t>[]> flags_;
  std::mutex mu_;
  std::vector<HotPage> hot_;   // mu_
  std::vector<MPage> touched_;  // mu_
};

}  // namespace disco
