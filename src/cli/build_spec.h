// From the command line to what the monitor runs: the VmSpec of the one VM,
// or the MachineSpec of several (from --vms copies or a --config file, with
// the machine options laid over). Fills in what the user left out: the
// default Debian image, the KASLR seed, the engine this host can run.
#pragma once

#include "cli/options.h"
#include "monitor/machine_config.h"
#include "monitor/vm_spec.h"

namespace disco {

// Both return 0, or an exit status after a one-line "disco: ..." error
// (2: bad input; 1: the default image could not be built).
int build_vm_spec(const RunOptions& opt, VmSpec& out);
int build_machine_spec(const RunOptions& opt, MachineSpec& out);

}  // namespace disco
