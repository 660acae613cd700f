// The `disco` command. Thin: parses the command line (cli/options.h),
// builds what to run (cli/build_spec.h), runs one VM or a machine.
#include "cli/build_spec.h"
#include "cli/options.h"
#include "cli/run_machine.h"
#include "cli/run_vm.h"

int main(int argc, char** argv) {
  disco::RunOptions opt;
  if (const int status = disco::parse_command_line(argc, argv, opt); status >= 0) return status;
  if (opt.machine_mode) {
    disco::MachineSpec spec;
    if (const int status = disco::build_machine_spec(opt, spec)) return status;
    return disco::run_machine(opt, spec);
  }
  disco::VmSpec spec;
  if (const int status = disco::build_vm_spec(opt, spec)) return status;
  return disco::run_vm(opt, spec);
}
