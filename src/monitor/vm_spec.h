// One VM as its user describes it: what to boot and on what virtual
// hardware. `disco run` with one VM and every VM of a machine (a [[vm]]
// table, --vms copies) build this same description; a Vm is made from it.
// Where the VM lives on a shared machine and where its console goes are
// wiring, not description (VmWiring in monitor/vm.h).
#pragma once

#include <cstdint>
#include <string>

#include "board/board.h"
#include "jit/block.h"

namespace disco {

enum class Engine { Interp, Jit };

struct VmSpec {
  std::string name;      // unique on a machine; "vm0", "vm1", ... when not given
  // What to boot.
  std::string kernel;    // ELF64 MIPS; empty: the default Debian image
  std::string initrd;    // optional (empty with an empty kernel: the default image's)
  std::string append;    // extra kernel command line, after board::kBaseCmdline
  bool kaslr = true;     // false: "nokaslr" on the command line
  uint64_t kaslr_seed = 0;  // /chosen/kaslr-seed (0: none)
  // The virtual hardware.
  uint64_t mem_bytes = board::kDefaultMem;
  unsigned vcpus = 1;
  int home_node = -1;    // -1: assigned round robin by validate_machine()
  bool big_endian = false;
  bool has_fpu = false;  // Config1.FP = 1
  // Time: host clock by default (a guest `sleep 5` takes five seconds);
  // deterministic derives all time from executed instructions.
  bool deterministic = false;
  // How the processor runs. The JIT is the default; on a host without a
  // JIT backend the command falls back to the interpreter (and says so).
  Engine engine = Engine::Jit;
  jit::JitClasses jit_classes;  // what the JIT translates (--jit-disable)
};

// The kernel command line (bootargs) of `spec`.
std::string kernel_cmdline(const VmSpec& spec);

const char* engine_name(Engine e);

}  // namespace disco
