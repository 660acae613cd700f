// A vCPU's side of the memory-system model: the context the engines'
// sampler calls with (cpu/mem_sampler.h), and what a sampled access does.
//
//  - sample_data: the line of a host address in the pools. A miss in the
//    processor's data cache costs a local or a remote miss (the machine
//    page's node against the vCPU's node) and adds `rate` misses from the
//    vCPU's node to the page's counter. A write, hit or miss, takes the
//    line out of the other processors' data caches.
//  - sample_fetch: a guest-physical line. A miss in the instruction cache
//    asks the monitor's resolver which machine page a read by this node
//    uses now (a replica, maybe), then counts as above.
//  - Misses outside machine memory (kNoPage, or a fetch without resolver)
//    are not counted; a miss on the zero page is local (every node reads
//    it alike) and has no counter.
//  - Counts are scaled: each sampled miss stands for `rate` misses.
#pragma once

#include <cstdint>

#include "cpu/mem_sampler.h"
#include "numa-model/memory_model.h"

namespace disco {

// Owned by the thread running the vCPU (plain fields, no atomics); the
// statistics read the counters with the world paused.
struct VcpuModel {
  MemoryModel* model = nullptr;
  // Where the vCPU runs this slice: set by the scheduler before each one.
  unsigned processor = 0, node = 0;
  uint32_t vm = 0;
  // The machine page a read of guest-physical `paddr` by `node` uses now
  // (kNoPage: none). Supplied by the monitor.
  MPage (*resolve)(void* ctx, uint64_t paddr, unsigned node) = nullptr;
  void* resolve_ctx = nullptr;

  // Counted misses, scaled by the sampling rate. Write and fetch misses
  // are among the local and remote ones.
  uint64_t local_misses = 0, remote_misses = 0;
  uint64_t write_misses = 0;  // data writes that missed
  uint64_t fetch_misses = 0;  // instruction-cache misses
  // Samples seen, unscaled.
  uint64_t data_samples = 0, fetch_samples = 0;
};

// MemSampler's hooks; `vcpu_model` is a VcpuModel*.
void sample_data(void* vcpu_model, uintptr_t host, bool write);
void sample_fetch(void* vcpu_model, uint64_t paddr_line);
// Both, for a queue of samples (MemSampler::batch).
void sample_batch(void* vcpu_model, const uint64_t* samples, uint32_t n);

// The fetch cache's key: the guest-physical line tagged with the VM (above
// any set index bit, so the set and the sampling follow the paddr).
inline uint64_t fetch_key(uint64_t paddr, uint32_t vm) {
  return (paddr & ((1ull << 48) - 1) & ~(kLineBytes - 1)) | uint64_t{vm} << 48;
}

// Points `sampler` at `v` with the model's sampling mask; with no model or
// the model off, turns sampling off.
void attach(MemSampler& sampler, VcpuModel& v);
// Before each slice, the vCPU parked, with v.processor where it runs now:
// points the sampler's repeat filter at that processor's data cache and
// empties it (another vCPU may have used that processor's caches since).
void place(MemSampler& sampler, const VcpuModel& v);
// The same for a processor: fills c.sampler (Cpu::sampler).
template <typename Processor>
  requires requires(Processor& c) { c.sampler; }
void attach(Processor& c, VcpuModel& v) {
  attach(c.sampler, v);
}

}  // namespace disco
