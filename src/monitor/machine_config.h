// The machine description: the modelled ccNUMA multiprocessor (nodes,
// processors and memory per node, memory latencies) and the VMs to run on
// it. Comes from a TOML file (docs/machine-config.md, examples/machine.toml;
// read by cli/machine_file.h) and/or the CLI shorthands (--vms, --nodes,
// --cpus-per-node, --mem-per-node), and is validated here before anything
// is allocated.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "monitor/vm_spec.h"
#include "numa-model/numa_params.h"

namespace disco {

struct MachineSpec {
  // 0 in nodes/cpus_per_node/mem_per_node means "size it to fit the VMs"
  // (validate_machine fills them in): 1 node, as many processors as vCPUs,
  // as much memory as the VMs are given.
  unsigned nodes = 0;
  unsigned cpus_per_node = 0;
  uint64_t mem_per_node = 0;
  // Allow the VMs' memory to exceed the machine's, relying on sharing.
  bool overcommit = false;
  // Content-based page sharing (background scan).
  bool sharing = true;
  uint64_t scan_pages_per_sec = 50'000;
  // Sub-page sharing of cold, nearly equal pages (reference page + patch).
  bool patching = true;
  // The memory-system model and the NUMA policy ([numa], --numa-*;
  // docs/numa.md), the memory latencies among them ([machine] may give
  // those too).
  NumaParams numa;
  // Where a [numa] value was given, by key ("sample_rate"), for the errors
  // of checks that need the whole machine: "machine.toml:7:
  // numa.sample_rate" from a file, "--numa-sample" from the command line.
  // A key not in it is named "numa.<key>" (numa_where).
  std::map<std::string, std::string> numa_origin;
  std::vector<VmSpec> vms;
};

// Limits of a description (the TOML reader checks them too).
constexpr int64_t kMaxNodes = 64;
constexpr int64_t kMaxVcpus = board::kMaxVcpus;

// Fills in defaults (names, home nodes, machine size when 0) and checks the
// whole: memory over-commit (unless allowed), vCPUs against processors (a
// VM's may span nodes, up to the machine's processors),
// home nodes in range, unique names, per-VM memory within the board's
// limits (16 MiB .. 64 GiB, a multiple of 4 KiB), the [numa] values (alone,
// and the replication budget against the machine's memory), readable image
// files. Errors name the VM and the field, or where a [numa] value was given.
bool validate_machine(MachineSpec& spec, std::string& error);

// Empty, or what is wrong with a VM memory size ("... is outside 16 MiB ..
// 64 GiB", "... is not a multiple of 4 KiB").
std::string mem_size_problem(uint64_t bytes);
// Where [numa] value `key` came from: spec.numa_origin's entry, or "numa.<key>".
std::string numa_where(const MachineSpec& spec, const std::string& key);
// The home node of vCPU k of VM `vm` of a validated spec: the VM's home
// node for its first cpus_per_node vCPUs, the next node for the next ones,
// and so on, wrapping around (with overcommit a VM may be wider than the
// machine). The scheduler runs a vCPU on its home node's processors first.
unsigned vcpu_home_node(const MachineSpec& spec, size_t vm, unsigned k);
// Letters, digits, '_' and '-'.
bool valid_vm_name(const std::string& name);
// "512 MiB", or "0.5 MiB" when not a whole number of MiB.
std::string mib_text(uint64_t bytes);

}  // namespace disco
