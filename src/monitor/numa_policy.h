// Disco's dynamic page placement (SOSP '97, section 4.4; docs/numa.md): the
// policy looks at the machine pages the miss counters found hot and
//  - migrates a page used mostly by one node to that node;
//  - replicates a page read by several nodes onto each of them (one copy
//    per node, shared copy-on-write pages included);
//  - leaves write-shared pages where they are;
//  - backs off from a page that keeps moving: after max_moves moves
//    (migrations, replication rounds, collapses) it is frozen for 2, then
//    4, 8, ... intervals.
// Moves go through the pmaps and the memmap (GuestMemory::migrate_page,
// replicate_page). It runs with the world paused (no vCPU runs guest code);
// collapses, which vCPUs cause when they write replicated pages, reach it
// through MachineMemory::take_collapses().
//
// Each action has a modelled cost (NumaParams: migrate_us, replicate_us,
// collapse_us, hot_page_us), charged to the VMs that map the page (split
// evenly between them) and readable per VM id, for the lead's time model.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "monitor/guest_memory.h"
#include "numa-model/machine_memory.h"
#include "numa-model/miss_counters.h"
#include "numa-model/numa_params.h"

namespace disco {

// What the policy reads of the miss counters in the current interval (the
// MissCounters adapter is counts_of() below; tests give their own).
struct PageCounts {
  std::function<uint32_t(MPage, unsigned node)> count;  // misses from `node`
  std::function<bool(MPage)> written;                  // a write miss in the interval
  std::function<void(MPage)> clear;                    // optional: forget a page that moved
};

inline PageCounts counts_of(MissCounters& mc) {
  return {[&mc](MPage p, unsigned n) { return mc.count(p, n); }, [&mc](MPage p) { return mc.written(p); },
          [&mc](MPage p) { mc.clear_page(p); }};
}

class NumaPolicy {
 public:
  NumaPolicy(const NumaParams& params, MachineMemory& mm, GuestMemory::VmLookup vms);

  // Decides on each hot page (world paused). A hot replica stands for its
  // master; the zero page, free pages and pages no VM maps are ignored.
  void run_batch(const std::vector<HotPage>& hot, const PageCounts& counts);
  // The end of a counter interval: frozen pages age by one interval.
  void end_interval();

  struct Stats {
    uint64_t hot_pages = 0;     // hot pages handled (mapped by VMs)
    uint64_t migrations = 0;
    uint64_t replications = 0;  // replicas made
    uint64_t collapses = 0;     // replicated pages collapsed by writes
    uint64_t write_shared = 0;  // left alone: written and shared
    uint64_t skipped_frozen = 0, skipped_budget = 0, skipped_node_full = 0;
    uint64_t replica_pages = 0;  // replicas in the machine now
    double cost_us = 0;          // modelled policy time, all VMs
  };
  Stats stats() const;
  // Modelled policy time charged to VM `vm` so far (µs).
  double cost_us(uint32_t vm) const;
  // The most replica pages allowed at once.
  uint64_t budget_pages() const { return budget_pages_; }
  // Whether page `m` is frozen now (back-off), for tests and statistics.
  bool frozen(MPage m) const;

 private:
  struct History {
    unsigned moves = 0;     // since the page last thawed
    unsigned freezes = 0;   // times frozen so far
    uint64_t frozen_left = 0;  // intervals until it may move again
  };
  void handle(const HotPage& hot, const PageCounts& counts);
  void take_collapses();
  // Counts a move of `m`; freezes it after max_moves.
  void moved(MPage m);
  // Charges `us` to the VMs mapping `m` (evenly).
  void charge(MPage m, double us);
  bool replicate_onto(MPage m, const std::vector<unsigned>& nodes);
  bool can_replicate() const;
  bool can_migrate() const;

  NumaParams params_;
  MachineMemory& mm_;
  GuestMemory::VmLookup vms_;
  uint64_t budget_pages_;
  Stats stats_;
  std::unordered_map<MPage, History> history_;
  std::unordered_map<uint32_t, double> cost_;  // by VM id
};

}  // namespace disco
