// The modelled multiprocessor with its VMs: machine memory in per-node
// pools, the boot-image cache, the page-sharing scan, and the scheduler that
// runs the VMs' virtual CPUs on the modelled processors (machine_run.cpp;
// docs/architecture.md, "Scheduling virtual CPUs").
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "monitor/boot_images.h"
#include "monitor/machine_config.h"
#include "numa-model/machine_memory.h"
#include "monitor/numa_counts.h"
#include "monitor/numa_policy.h"
#include "monitor/page_sharing.h"
#include "numa-model/memory_model.h"
#include "monitor/vm.h"

namespace disco {

// What Machine::stats() reports: numbers only. The command renders them as
// JSON or text (cli/stats.h; the JSON keys are documented in docs/memory.md).

// One virtual CPU of a VM.
// One vCPU of the last or current run (a single VM's --stats, or a VM of a
// machine; slices and processor only on a machine).
struct VcpuStats {
  unsigned index = 0;
  bool started = false;         // released from reset (vCPU 0: always)
  uint64_t instructions = 0;
  uint64_t idle_cycles = 0;     // cycles it idled in WAIT (deterministic time)
  double run_seconds = 0;       // host time it ran guest code (Vm::run_seconds)
  uint64_t slices = 0;          // time slices the scheduler gave it
  int processor = -1;           // the modelled processor of its last slice (-1: none yet)
  long host_tid = 0;            // the host thread that ran it (on a machine: its last processor's)
};
// What the VM itself knows of vCPU k (everything but slices and processor).
VcpuStats vcpu_stats(Vm& vm, unsigned k);

struct VmStats {
  std::string name;
  unsigned home_node = 0;
  uint64_t mem_bytes = 0;
  VmExit state = VmExit::Running;
  uint64_t instructions = 0;
  uint64_t idle_cycles = 0;     // cycles the processor idled in WAIT (deterministic time)
  double run_seconds = 0;       // host time in its slices (on any processor, all vCPUs)
  GuestMemory::Stats memory;
  uint64_t pages_scanned = 0;   // by the sharing scan, in this VM
  std::vector<VcpuStats> vcpus;
  NumaCounts numa;              // the NUMA model's counts (docs/numa.md)
  bool marked = false;          // Machine::mark() was called for it ...
  NumaCounts numa_at_mark;      // ... and these were the counts then
};

// One modelled processor of the last or current run(): the host thread it
// ran on (Linux thread id) and how much it ran.
struct ProcessorStats {
  unsigned index = 0, node = 0;
  long host_tid = 0;
  uint64_t slices = 0;
  double busy_seconds = 0;  // in VM slices
};

struct MachineStats {
  unsigned nodes = 0, cpus_per_node = 0;
  uint64_t mem_per_node_bytes = 0;
  unsigned local_latency_ns = 0, remote_latency_ns = 0;
  uint64_t page_bytes = 0;
  uint64_t machine_pages_total = 0, machine_pages_used = 0;
  uint64_t patch_bytes = 0;           // host memory of the sub-page patches
  uint64_t machine_bytes_used = 0;    // pages in use plus patches
  std::vector<uint64_t> node_pages_used;
  uint64_t guest_pages_touched = 0;   // sums over the VMs ...
  uint64_t cow_breaks = 0, patched_pages = 0, patch_faults = 0;
  uint64_t shared_pages = 0, zero_page_mappings = 0;
  uint64_t image_pages = 0, image_cache_hits = 0;
  uint64_t pages_scanned = 0, merges = 0, zero_merges = 0, scan_passes = 0;
  uint64_t host_rss_bytes = 0;
  unsigned host_threads = 0;          // of the last run(): 1 = all VMs on the calling thread
  std::vector<ProcessorStats> processors;
  std::vector<VmStats> vms;
  NumaParams numa_params;
  NumaCounts numa;                    // the VMs' counts summed
  NumaPolicy::Stats policy;           // zeros without a policy
  uint64_t replica_pages = 0;
};

class Machine {
 public:
  // `spec` must have passed validate_machine().
  explicit Machine(const MachineSpec& spec);
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  // Creates VM number size() from spec.vms[size()] and boots it, its
  // console going to `console_out`. False with an error naming the VM.
  bool add_vm(std::function<void(uint8_t)> console_out, std::string& error);

  struct RunLimits {
    double timeout_seconds = 0;
    std::function<bool()> should_stop;           // polled between slices
    std::function<void(size_t, Vm&)> poll_input;  // feeds console input
    std::function<bool(uint64_t ns)> wait_input;  // sleeps until input or ns
    std::function<void(size_t, VmExit)> on_exit;  // a VM stopped (once per VM)
    // Runs the slice of VM i, a one-vCPU VM, instead of Vm::run (null:
    // Vm::run), e.g. under a debugger (debug::GdbStub::run_slice). VMs with
    // several vCPUs never go through it.
    std::function<VmExit(size_t, Vm&, const Vm::Limits&)> run_vm;
    uint64_t slice_cycles = 2'000'000;
  };
  enum class End { AllStopped, Stopped, Timeout };
  // Runs the VMs until they all stop, should_stop, or the timeout. The unit
  // of scheduling is one vCPU of one VM. Every modelled processor, up to
  // the number of vCPUs (those of the vCPUs' home nodes first), gets a host
  // thread (monitor/machine_run.cpp); with one processor, deterministic
  // time or a debugger (run_vm), everything runs on the calling thread in
  // turn.
  End run(const RunLimits& lim);
  // Host threads the last run() used.
  unsigned host_threads() const { return last_host_threads_; }

  size_t size() const { return vms_.size(); }
  Vm& vm(size_t i) { return *vms_[i]; }
  const std::string& name(size_t i) const { return spec_.vms[i].name; }
  VmExit exit_of(size_t i) const { return exits_[i]; }
  const MachineSpec& spec() const { return spec_; }
  // The node whose processors run vCPU k of VM `vm` when they can: the VM's
  // home node, or for a VM wider than a node the next ones
  // (disco::vcpu_home_node, monitor/machine_config.h).
  unsigned vcpu_home_node(size_t vm, unsigned k) const { return disco::vcpu_home_node(spec_, vm, k); }
  MachineMemory& memory() { return *mm_; }
  PageSharing& sharing() { return sharing_; }
  // Scans until a whole pass over every VM's memory merged nothing (or
  // `max_passes` passes): for measurements after the guests settled.
  void settle_sharing(unsigned max_passes = 8);

  // Memory statistics of the machine and every VM (see docs/memory.md).
  MachineStats stats();
  // Keeps VM i's NUMA counts now (once: later calls do nothing), so that
  // the statistics can report a phase of its run (the counts since).
  // Coordinator's thread, like stats().
  void mark(size_t i);
  MemoryModel& memory_model() { return *model_; }

 private:
  MachineSpec spec_;
  std::unique_ptr<MachineMemory> mm_;
  std::unique_ptr<BootImageCache> images_;
  PageSharing sharing_;
  std::vector<std::unique_ptr<Vm>> vms_;
  std::vector<VmExit> exits_;
  // The NUMA model and Disco's policy (null without one: model off, policy
  // off, or one node). The policy runs with the world paused (numa_step).
  std::unique_ptr<MemoryModel> model_;
  std::unique_ptr<NumaPolicy> policy_;
  uint64_t next_reset_insns_ = 0;  // machine instructions at the next interval's end
  std::vector<std::optional<NumaCounts>> marks_;
  // Whether the policy has work: hot pages or an interval ended (any thread).
  bool numa_due() const;
  // Handles the hot pages and ends the interval when due; world paused.
  void numa_step();
  uint64_t machine_instructions() const;
  // The modelled processor of unit u when everything runs on one thread.
  unsigned one_thread_processor(size_t u) const;

  // machine_run.cpp
  struct Sched;
  // run_threads()'s, while it runs (read by vcpu_ready on any thread).
  std::atomic<Sched*> sched_{nullptr};
  unsigned last_host_threads_ = 0;
  // The units of scheduling: vCPU k of VM i is unit unit_base_[i] + k.
  // Built by add_vm; fixed while the machine runs.
  std::vector<size_t> unit_base_;
  std::vector<size_t> unit_vm_;  // unit -> VM
  std::vector<unsigned> unit_home_;  // unit -> vcpu_home_node
  size_t units() const { return unit_vm_.size(); }
  size_t unit_vm(size_t u) const { return unit_vm_[u]; }
  // Written under the scheduler's mutex when threaded (by the processor
  // that ran the slice); read by stats().
  std::vector<ProcessorStats> processors_;
  std::vector<double> vm_run_seconds_;
  std::vector<uint64_t> unit_slices_;
  std::vector<int> unit_processor_;  // of its last slice ...
  std::vector<long> unit_tid_;       // ... and that processor's host thread
  // `t`: the host thread (processors_[t]) that ran the slice.
  void account_slice(unsigned t, size_t vm, size_t unit, double seconds);
  unsigned host_threads_for(const RunLimits& lim) const;
  // The modelled processors the `n` host threads of a run stand for.
  std::vector<unsigned> processors_to_run(unsigned n) const;
  // VmWiring::on_vcpu_ready of VM i (any thread, the GIC's lock held).
  void vcpu_ready(size_t i, unsigned k);
  uint64_t scan_budget(std::chrono::steady_clock::time_point now, std::chrono::steady_clock::time_point last) const;
  End run_one_thread(const RunLimits& lim);
  End run_threads(const RunLimits& lim, unsigned nthreads);
  void processor_loop(unsigned t, const RunLimits& lim, unsigned nthreads);
  // No processor runs a slice between these (the coordinator's thread only).
  void pause_world();
  void resume_world();
};

// Host resident set size of this process, in bytes (0 if unknown).
uint64_t host_rss_bytes();
const char* vm_exit_name(VmExit e);

}  // namespace disco
