// Modelled execution time (docs/numa.md, "Modelled time"): what a run would
// have taken on the modelled machine, from instruction counts and the
// memory model's (scaled) misses:
//
//   user_s         = user_insns   x insn_ns
//   kernel_s       = kernel_insns x insn_ns
//   idle_s         = idle_cycles  x insn_ns   (a cycle is one instruction time)
//   local_stall_s  = local_misses  x local_latency_ns
//   remote_stall_s = remote_misses x remote_latency_ns
//   policy_s       = policy_us (the policy's modelled actions)
//   total          = the sum
//
// Stalls are added to the instruction time (a blocking processor: no
// overlap of misses with execution or with each other), and summed over
// processors, like the paper's execution-time breakdowns (Fig. 8).
#pragma once

#include <cstdint>

#include "numa-model/numa_params.h"

namespace disco {

struct ModelledTime {
  double user_s = 0, kernel_s = 0, idle_s = 0, local_stall_s = 0, remote_stall_s = 0, policy_s = 0;
  double total() const { return user_s + kernel_s + idle_s + local_stall_s + remote_stall_s + policy_s; }
};

ModelledTime modelled_time(const NumaParams& params, uint64_t user_insns, uint64_t kernel_insns,
                           uint64_t idle_cycles, uint64_t local_misses, uint64_t remote_misses, double policy_us);

}  // namespace disco
