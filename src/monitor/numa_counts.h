// What the NUMA model counted for a vCPU, a VM or the machine (summed), and
// the modelled time it makes (docs/numa.md, "Modelled time"). The
// statistics report these; a mark (Machine::mark) keeps a copy so that a
// run's phase can be reported on its own (counts since the mark).
#pragma once

#include <cstdint>

#include "numa-model/modelled_time.h"
#include "numa-model/numa_params.h"

namespace disco {

struct NumaCounts {
  uint64_t user_insns = 0, kernel_insns = 0, idle_cycles = 0;
  // Scaled by the sampling rate; write and fetch misses are among the
  // local and remote ones.
  uint64_t local_misses = 0, remote_misses = 0, write_misses = 0, fetch_misses = 0;
  uint64_t data_samples = 0, fetch_samples = 0;  // unscaled
  // The policy's actions on the VM's pages and their modelled cost.
  uint64_t migrations = 0, replications = 0, collapses = 0;
  double policy_us = 0;

  NumaCounts& operator+=(const NumaCounts& o);
  // Counts since `earlier` (a mark).
  NumaCounts operator-(const NumaCounts& earlier) const;
  ModelledTime time(const NumaParams& p) const {
    return modelled_time(p, user_insns, kernel_insns, idle_cycles, local_misses, remote_misses, policy_us);
  }
  double local_share() const {
    const uint64_t n = local_misses + remote_misses;
    return n ? static_cast<double>(local_misses) / static_cast<double>(n) : 0.0;
  }
};

}  // namespace disco
