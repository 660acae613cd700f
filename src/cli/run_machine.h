// `disco run` with several VMs on one modelled machine (--config, --vms,
// --nodes, ...): builds the machine description, boots every VM, runs them
// with their consoles, and reports statistics.
#pragma once

#include <cstdint>
#include <string>

#include "monitor/machine_config.h"
#include "monitor/vm.h"

namespace disco {

struct MachineRunOptions {
  std::string config;          // TOML file ("" = none)
  unsigned vms = 0;            // --vms: copies of the command-line guest
  unsigned nodes = 0, cpus_per_node = 0;
  uint64_t mem_per_node = 0;
  bool overcommit = false, no_sharing = false, no_patching = false;
  uint64_t scan_rate = 0;      // 0: the description's
  std::string console = "";    // "" = default, a VM name, "all" or "none"
  std::string console_dir = "disco-consoles";
  std::string stats;           // "", "text" or "json"
  std::string stats_file;      // JSON written here at exit and on SIGUSR1
  bool settle = false;         // let sharing settle before exit statistics
  // Linux KASLR mixes the boot-time Count into the kernel's placement, so
  // every VM would relocate its kernel differently and share none of its
  // text. Unless --kaslr, the VMs get "nokaslr" (with sharing on or off,
  // so that both boot the same guest).
  bool kaslr = false;
  double timeout = 0;
  std::string until, input_file;
  // The guest for --vms copies (empty kernel: the default image).
  std::string kernel, initrd, append;
  uint64_t mem_bytes = 512ull << 20;
  VmConfig vm;                 // engine, time, FPU, byte order
  // --gdb: serve gdb for the VM named gdb_vm (may be empty with one VM).
  std::string gdb_listen, gdb_vm;
  bool gdb_wait = false;
};

// Returns the process exit status. `default_image` builds/finds the default
// Debian image and returns its folder ("" on failure).
int run_machine(MachineRunOptions opt, std::string (*default_image)());

}  // namespace disco
