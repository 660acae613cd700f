// What `disco run --stats` prints: the statistics the monitor collects
// (Machine::stats(), a Vm's counters), rendered as text for people or as
// JSON for scripts (bench/sharing, tests). The JSON keys are documented in
// docs/memory.md (machine) and README.md (one VM).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "jit/jit.h"
#include "monitor/machine.h"

namespace disco {

// One VM's run (the single-VM path).
struct VmRunStats {
  uint64_t instructions = 0;
  double seconds = 0;          // host time of the run
  uint64_t exceptions = 0, tlb_refills = 0;
  Engine engine = Engine::Interp;
  bool has_jit = false;        // the JIT ran: the fields below are set
  jit::JitStats jit;
  uint64_t jit_fallbacks = 0;  // instructions run through interpreter handlers in blocks
  std::vector<std::pair<std::string, uint64_t>> top_fallbacks;  // by op, most first
  std::vector<VcpuStats> vcpus;  // vCPU k at index k
  NumaParams numa_params;
  NumaCounts numa;               // the VM's, all vCPUs
  std::vector<NumaCounts> vcpu_numa;
};

VmRunStats collect_run_stats(Vm& vm, double seconds);

// Several lines, each starting "disco: " or "JIT: ", ending in a newline.
std::string stats_text(const VmRunStats& s);
std::string stats_text(const MachineStats& s);
// One line of JSON, no newline.
std::string stats_json(const VmRunStats& s);
std::string stats_json(const MachineStats& s);

}  // namespace disco
