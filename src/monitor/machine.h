// The modelled multiprocessor with its VMs: machine memory in per-node
// pools, the boot-image cache, the page-sharing scan, and the scheduler that
// runs the VMs' processors. One host thread runs every VM in turn (time
// slices); when all of them idle, the thread sleeps until the first timer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "monitor/boot_images.h"
#include "monitor/machine_config.h"
#include "numa-model/machine_memory.h"
#include "monitor/page_sharing.h"
#include "monitor/vm.h"

namespace disco {

class Machine {
 public:
  // `spec` must have passed validate_machine().
  explicit Machine(const MachineSpec& spec);
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  // Creates VM number size() (its spec is spec.vms[size()]) and boots it.
  // False with an error naming the VM.
  bool add_vm(const VmConfig& cfg, const BootSpec& boot, std::string& error);

  struct RunLimits {
    double timeout_seconds = 0;
    std::function<bool()> should_stop;           // polled between slices
    std::function<void(size_t, Vm&)> poll_input;  // feeds console input
    std::function<bool(uint64_t ns)> wait_input;  // sleeps until input or ns
    std::function<void(size_t, VmExit)> on_exit;  // a VM stopped
    // Runs VM i's slice instead of Vm::run (null: Vm::run), e.g. under a
    // debugger (debug::GdbStub::run_slice).
    std::function<VmExit(size_t, Vm&, const Vm::Limits&)> run_vm;
    uint64_t slice_cycles = 2'000'000;
  };
  enum class End { AllStopped, Stopped, Timeout };
  End run(const RunLimits& lim);

  size_t size() const { return vms_.size(); }
  Vm& vm(size_t i) { return *vms_[i]; }
  const std::string& name(size_t i) const { return spec_.vms[i].name; }
  VmExit exit_of(size_t i) const { return exits_[i]; }
  const MachineSpec& spec() const { return spec_; }
  MachineMemory& memory() { return *mm_; }
  PageSharing& sharing() { return sharing_; }
  // Scans until a whole pass over every VM's memory merged nothing (or
  // `max_passes` passes): for measurements after the guests settled.
  void settle_sharing(unsigned max_passes = 8);

  // Statistics as one JSON object (see docs/memory.md).
  std::string stats_json();
  std::string stats_text();

 private:
  MachineSpec spec_;
  std::unique_ptr<MachineMemory> mm_;
  std::unique_ptr<BootImageCache> images_;
  PageSharing sharing_;
  std::vector<std::unique_ptr<Vm>> vms_;
  std::vector<VmExit> exits_;
};

// Host resident set size of this process, in bytes (0 if unknown).
uint64_t host_rss_bytes();
const char* vm_exit_name(VmExit e);

}  // namespace disco
