// `disco run` with one VM: boots it with the terminal as its console, runs
// it (with the lockstep checker, exception tracing, --reboot restart), and
// reports how it ended.
#pragma once

#include "cli/options.h"
#include "monitor/vm_spec.h"

namespace disco {

// Returns the process exit status. `spec` comes from build_vm_spec().
int run_vm(const RunOptions& opt, const VmSpec& spec);

}  // namespace disco
