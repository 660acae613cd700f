// The memory-system model of one machine (docs/numa.md, "The memory-system
// model"): nodes x cpus_per_node processors, each with a data cache and an
// instruction cache (cache_model.h), and the per-page per-node miss
// counters the NUMA policy reads. The vCPU side (what a sampled access
// does) is vcpu_model.h.
//
// Caches. Data lines are keyed by their host address, which is a function
// of the machine address (the pools are one mapping), so two processors
// touching one machine page share lines and coherence works; a replica is
// another machine page, hence other lines. Fetch lines are keyed by the
// guest-physical line tagged with the VM: key = paddr_line | vm << 48.
// Divergence: the R10000's secondary cache is unified. The model gives
// data the whole `cache_bytes` and instructions a second cache of the same
// geometry, so code and data never evict each other: fetch samples carry a
// guest-physical address (the JIT samples them at translation time) and
// keying them by machine address would cost a pmap lookup on every sampled
// fetch. Also because of the guest-physical key, two VMs running one
// shared code page on one processor miss on it separately.
//
// Coherence: a write (hit or miss) takes the line out of every other
// processor's data cache (invalidation protocol, no ownership state: a
// write always invalidates, which costs a few tag probes).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "numa-model/cache_model.h"
#include "numa-model/machine_memory.h"
#include "numa-model/miss_counters.h"
#include "numa-model/numa_params.h"

namespace disco {

class MemoryModel {
 public:
  // Throws std::invalid_argument (check()'s message) when params.model is
  // on and the cache geometry does not fit the sample rate. With the model
  // off there are no caches and no counters.
  MemoryModel(const NumaParams& params, MachineMemory& memory, unsigned cpus_per_node);
  MemoryModel(const MemoryModel&) = delete;
  MemoryModel& operator=(const MemoryModel&) = delete;
  // Empty when `params` make a model (always with the model off), else the
  // reason, for the machine description's validation.
  static std::string check(const NumaParams& params);

  const NumaParams& params() const { return params_; }
  bool enabled() const { return params_.model; }
  MachineMemory& memory() const { return memory_; }
  unsigned processors() const { return processors_; }
  unsigned cpus_per_node() const { return cpus_per_node_; }
  unsigned node_of_processor(unsigned p) const { return p / cpus_per_node_; }
  // The sampling rate (1 in rate lines; misses count `rate` each) and the
  // engines' mask for it (MemSampler::mask).
  unsigned rate() const { return rate_; }
  uint32_t mask() const { return sample_mask_for_rate(rate_); }

  MissCounters& counters() { return counters_; }
  const MissCounters& counters() const { return counters_; }
  CacheModel& data_cache(unsigned p) { return *data_[p]; }
  CacheModel& fetch_cache(unsigned p) { return *fetch_[p]; }

  // Processor p wrote the line at `s`: it leaves every other data cache.
  void invalidate_others(unsigned p, CacheModel::Slot s) {
    for (unsigned q = 0; q < processors_; ++q)
      if (q != p) data_[q]->invalidate(s);
  }

 private:
  NumaParams params_;
  MachineMemory& memory_;
  unsigned cpus_per_node_, processors_;
  unsigned rate_;
  MissCounters counters_;
  std::vector<std::unique_ptr<CacheModel>> data_, fetch_;
};

}  // namespace disco
