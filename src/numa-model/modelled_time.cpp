#include "numa-model/modelled_time.h"

namespace disco {

ModelledTime modelled_time(const NumaParams& params, uint64_t user_insns, uint64_t kernel_insns,
                           uint64_t idle_cycles, uint64_t local_misses, uint64_t remote_misses, double policy_us) {
  constexpr double kNs = 1e-9;
  ModelledTime t;
  t.user_s = static_cast<double>(user_insns) * params.insn_ns * kNs;
  t.kernel_s = static_cast<double>(kernel_insns) * params.insn_ns * kNs;
  t.idle_s = static_cast<double>(idle_cycles) * params.insn_ns * kNs;
  t.local_stall_s = static_cast<double>(local_misses) * params.local_latency_ns * kNs;
  t.remote_stall_s = static_cast<double>(remote_misses) * params.remote_latency_ns * kNs;
  t.policy_s = policy_us * 1e-6;
  return t;
}

}  // namespace disco
