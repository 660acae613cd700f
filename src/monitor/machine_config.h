// The machine description: the modelled ccNUMA multiprocessor (nodes,
// processors and memory per node, memory latencies) and the VMs to run on
// it. Comes from a TOML file (docs/machine-config.md, examples/machine.toml)
// and/or the CLI shorthands (--vms, --nodes, --cpus-per-node,
// --mem-per-node), and is validated before anything is allocated.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace disco {

struct VmSpec {
  std::string name;      // unique; "vm0", "vm1", ... when not given
  std::string kernel;    // empty: the default Debian image
  std::string initrd;    // empty with an empty kernel: the default image's
  std::string append;    // extra kernel command line
  uint64_t mem_bytes = 512ull << 20;
  unsigned vcpus = 1;
  int home_node = -1;    // -1: assigned round robin by validate_machine()
};

struct MachineSpec {
  // 0 in nodes/cpus_per_node/mem_per_node means "size it to fit the VMs"
  // (validate_machine fills them in): 1 node, as many processors as vCPUs,
  // as much memory as the VMs are given.
  unsigned nodes = 0;
  unsigned cpus_per_node = 0;
  uint64_t mem_per_node = 0;
  unsigned local_latency_ns = 300;   // FLASH
  unsigned remote_latency_ns = 900;
  // Allow the VMs' memory to exceed the machine's, relying on sharing.
  bool overcommit = false;
  // Content-based page sharing (background scan).
  bool sharing = true;
  uint64_t scan_pages_per_sec = 50'000;
  // Sub-page sharing of cold, nearly equal pages (reference page + patch).
  bool patching = true;
  std::vector<VmSpec> vms;
};

// Reads a TOML machine description. Relative image paths are taken from
// the file's folder. Errors name the file, and the line where known:
// "machine.toml:12: vm[1].mem: expected a size such as \"512M\"".
bool load_machine_toml(const std::string& path, MachineSpec& out, std::string& error);

// Fills in defaults (names, home nodes, machine size when 0) and checks the
// whole: memory over-commit (unless allowed), vCPUs against processors,
// home nodes in range, unique names, per-VM memory within the board's
// limits (16 MiB .. 64 GiB, a multiple of 4 KiB), readable image files.
// Errors name the VM and the field.
bool validate_machine(MachineSpec& spec, std::string& error);

}  // namespace disco
