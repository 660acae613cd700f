// `disco run` with several VMs on one modelled machine (--config, --vms,
// --nodes, ...): boots every VM of the machine description, runs them with
// their consoles, and reports statistics.
#pragma once

#include "cli/options.h"
#include "monitor/machine_config.h"

namespace disco {

// Returns the process exit status. `spec` comes from build_machine_spec().
int run_machine(const RunOptions& opt, const MachineSpec& spec);

}  // namespace disco
