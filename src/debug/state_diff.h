// Comparing two processors' architectural state: the one definition used
// by lockstep (Vm), the JIT's lockstep test and its edge-case tests.
#pragma once

#include <string>

#include "frontend/cpu_state.h"

namespace disco {

// One line per differing field ("  name  jit X  interp Y"); empty when the
// states agree. Compared: GPRs, HI/LO, pc, cycles, the delay-slot state,
// the LL link, Status/Cause/EPC/BadVAddr/EntryHi/Context/XContext/Compare,
// FCSR and the FPRs.
std::string state_differences(const CpuState& jit, const CpuState& interp);

}  // namespace disco
