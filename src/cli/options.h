// The `disco` command line: what `disco run` is told, as the CLI11 parser
// (options.cpp) binds it. `disco run --help` is generated from the same
// parser; README.md quotes it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "monitor/machine_config.h"
#include "monitor/vm_spec.h"
#include "numa-model/numa_params.h"

namespace disco {

// --numa-model, --numa-policy, --numa-sample and --placement, each set only
// when given.
struct NumaOptions {
  std::optional<bool> model;
  std::optional<NumaPolicyKind> policy;
  std::optional<unsigned> sample_rate;
  std::optional<Placement> placement;
  // Lays the given ones over `p`.
  void apply(NumaParams& p) const;
};

struct RunOptions {
  // Guest and engine: the one VM, or every VM of a machine (--vms copies
  // it; with --config the file names the images and sizes, and the engine,
  // time and CPU options here apply to each of its VMs).
  VmSpec vm;

  // Several VMs on one modelled machine. Any option of this group (and
  // --console, --console-dir, --stats-file, --settle, --dump-pages) runs
  // the machine path, even for one VM.
  bool machine_mode = false;
  std::string config;          // --config FILE ("" = none)
  unsigned vms = 0;            // --vms N (0: not given)
  // --nodes, --cpus-per-node, --mem-per-node (0: the file's, or sized to
  // fit), --overcommit, --no-sharing, --no-patching: laid over the file's.
  MachineSpec machine;
  uint64_t scan_rate = 0;      // --scan-rate (0: the file's or the default)
  // Linux KASLR mixes the boot-time Count into the kernel's placement, so
  // every VM would relocate its kernel differently and share none of its
  // text. Unless --kaslr, the VMs of a machine get "nokaslr".
  bool kaslr = false;

  // The memory-system model and the NUMA policy (docs/numa.md). The options
  // as given: build_machine_spec lays them over the machine file's [numa]
  // (MachineSpec::numa) ...
  NumaOptions numa_options;
  // ... and laid over the defaults: the parameters of the one VM when there
  // is no machine (not machine_mode; the --numa-* options do not make one).
  NumaParams numa;

  // Time and limits.
  double timeout = 0;          // seconds; 0: none
  uint64_t max_insns = 0;      // 0: none
  std::string reboot = "exit"; // exit | restart

  // Console.
  std::string until;           // ERE; stop once a console line matches
  std::string input_file;      // typed into the console, a line per prompt
  std::string console;         // "" = default, a VM name, "all" or "none"
  std::string console_dir;     // "" = default_console_dir()

  // Statistics.
  std::string stats;           // "", "text" or "json"
  std::string stats_file;      // JSON written here at exit and on SIGUSR1
  std::string stats_mark;      // a VM whose console prints this is marked (Machine::mark)
  bool settle = false;         // let sharing settle before exit statistics

  // Debugging.
  bool lockstep = false;       // JIT against the interpreter, step by step
  uint64_t trace_exceptions = 0;
  int trace_back = -1;         // instructions before the pc in dumps; -1: not given (4)
  std::string dump_pages;      // folder for the machine's pages (--dump-pages)
  bool dump_continue = false;  // after the dump, go on running
  // The gdb stub (docs/gdb.md): where it listens ("" = no stub), whether
  // the guest waits for gdb before its first instruction, and which VM of
  // a machine it serves.
  std::string gdb_listen;
  bool gdb_wait = false;
  std::string gdb_vm;
};

// Parses `disco ...`. Returns -1 when `opt` holds a `disco run` to carry
// out; otherwise the exit status (0 after --help; 2 after a one-line
// "disco: ..." error on stderr).
int parse_command_line(int argc, char** argv, RunOptions& opt);

// Where per-VM console logs go without --console-dir: under
// $XDG_RUNTIME_DIR/disco/, else /tmp/disco-<uid>/, one folder per run.
std::string default_console_dir();

}  // namespace disco
