#include "monitor/machine.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

namespace disco {

namespace {

std::vector<uint64_t> node_sizes(const MachineSpec& s) { return std::vector<uint64_t>(s.nodes, s.mem_per_node); }

}  // namespace

uint64_t host_rss_bytes() {
  std::ifstream f("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  if (!(f >> size >> resident)) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

const char* vm_exit_name(VmExit e) {
  switch (e) {
    case VmExit::Running: return "running";
    case VmExit::PowerOff: return "powered-off";
    case VmExit::Reboot: return "rebooted";
    case VmExit::Halted: return "halted";
    case VmExit::Timeout: return "timeout";
    case VmExit::InsnLimit: return "instruction-limit";
    case VmExit::Stopped: return "stopped";
    case VmExit::Diverged: return "diverged";
    case VmExit::OutOfMemory: return "out-of-memory";
    case VmExit::Breakpoint: return "breakpoint";
  }
  return "?";
}

Machine::Machine(const MachineSpec& spec)
    : spec_(spec),
      mm_(std::make_unique<MachineMemory>(node_sizes(spec))),
      images_(std::make_unique<BootImageCache>(*mm_)),
      sharing_(*mm_) {
  sharing_.set_patching(spec_.patching);
  model_ = std::make_unique<MemoryModel>(spec_.numa, *mm_, std::max(1u, spec_.cpus_per_node));
  if (spec_.numa.model && spec_.numa.policy != NumaPolicyKind::Off && spec_.nodes > 1)
    policy_ = std::make_unique<NumaPolicy>(spec_.numa, *mm_, [this](uint32_t id) -> GuestMemory* {
      return id < vms_.size() && vms_[id] ? &vms_[id]->memory() : nullptr;
    });
}

Machine::~Machine() {
  vms_.clear();  // before the pools and images they map
}

bool Machine::add_vm(std::function<void(uint8_t)> console_out, std::string& error) {
  const size_t i = vms_.size();
  if (i >= spec_.vms.size()) {
    error = "more VMs than the machine description lists";
    return false;
  }
  const VmSpec& vs = spec_.vms[i];
  VmWiring where;
  where.memory = mm_.get();
  where.id = static_cast<uint32_t>(i);
  where.home_node = vs.home_node < 0 ? 0 : static_cast<unsigned>(vs.home_node);
  where.images = spec_.sharing ? images_.get() : nullptr;
  where.console_out = std::move(console_out);
  // An IPI or a device interrupt for a vCPU the scheduler holds as idle,
  // or its release from reset: run it now (machine_run.cpp).
  where.on_vcpu_ready = [this, i](unsigned k) { vcpu_ready(i, k); };
  where.model = model_.get();
  where.numa = spec_.numa;
  try {
    vms_.push_back(std::make_unique<Vm>(vs, std::move(where)));
  } catch (const std::exception& e) {
    error = vs.name + ": " + e.what();
    return false;
  }
  exits_.push_back(VmExit::Running);
  if (!vms_.back()->boot(error)) {
    error = vs.name + ": " + error;
    vms_.pop_back();
    exits_.pop_back();
    return false;
  }
  marks_.emplace_back();
  unit_base_.push_back(units());
  unit_vm_.insert(unit_vm_.end(), vms_.back()->vcpus(), i);
  for (unsigned k = 0; k < vms_.back()->vcpus(); ++k) unit_home_.push_back(vcpu_home_node(i, k));
  if (spec_.sharing) sharing_.add(&vms_.back()->memory());
  return true;
}

void Machine::settle_sharing(unsigned max_passes) {
  if (!spec_.sharing) return;
  images_->trim();
  const uint64_t start = sharing_.stats().passes;
  while (sharing_.stats().passes < start + max_passes) {
    const uint64_t before = sharing_.stats().passes;
    // The guests do not run here: no new access epochs.
    while (sharing_.stats().passes == before) sharing_.scan(1 << 16, false);
    if (sharing_.stats().passes > start + 1 && sharing_.stats().merges_last_pass == 0) break;
  }
}

VcpuStats vcpu_stats(Vm& vm, unsigned k) {
  VcpuStats c;
  c.index = k;
  c.started = vm.vcpu_started(k);
  c.instructions = vm.instructions(k);
  c.idle_cycles = vm.idle_cycles(k);
  c.run_seconds = vm.run_seconds(k);
  c.host_tid = vm.host_tid(k);
  return c;
}

MachineStats Machine::stats() {
  // While the processors run on host threads, every VM's memory is read
  // with the world paused (stats() is called on the coordinator's thread).
  const bool paused = sched_.load() != nullptr;
  if (paused) pause_world();
  MachineStats m;
  for (size_t i = 0; i < vms_.size(); ++i) {
    VmStats v;
    v.name = spec_.vms[i].name;
    v.home_node = vms_[i]->memory().home_node();
    v.mem_bytes = vms_[i]->mem_bytes();
    v.state = exits_[i];
    v.instructions = vms_[i]->instructions();
    v.idle_cycles = vms_[i]->idle_cycles();
    v.run_seconds = i < vm_run_seconds_.size() ? vm_run_seconds_[i] : 0;
    v.memory = vms_[i]->memory().stats();
    v.pages_scanned = sharing_.scanned_of(static_cast<uint32_t>(i));
    Vm& vm = *vms_[i];
    for (unsigned k = 0; k < vm.vcpus(); ++k) {
      VcpuStats c = vcpu_stats(vm, k);
      c.host_tid = 0;  // the processor's, below
      const size_t u = unit_base_[i] + k;
      if (u < unit_slices_.size()) {
        c.slices = unit_slices_[u];
        c.processor = unit_processor_[u];
        c.host_tid = unit_tid_[u];
      }
      v.vcpus.push_back(c);
    }
    v.numa = vm.numa_counts(v.memory);
    if (policy_) v.numa.policy_us = policy_->cost_us(static_cast<uint32_t>(i));
    if (i < marks_.size() && marks_[i]) {
      v.marked = true;
      v.numa_at_mark = *marks_[i];
    }
    m.numa += v.numa;
    m.guest_pages_touched += v.memory.touched;
    m.cow_breaks += v.memory.cow_breaks;
    m.patched_pages += v.memory.patched;
    m.patch_faults += v.memory.patch_faults;
    m.vms.push_back(std::move(v));
  }
  m.nodes = spec_.nodes;
  m.cpus_per_node = spec_.cpus_per_node;
  m.mem_per_node_bytes = spec_.mem_per_node;
  m.local_latency_ns = spec_.numa.local_latency_ns;
  m.remote_latency_ns = spec_.numa.remote_latency_ns;
  m.page_bytes = kPageSize;
  m.machine_pages_total = mm_->total_pages();
  m.machine_pages_used = mm_->used_pages();
  m.patch_bytes = mm_->patch_bytes();
  m.machine_bytes_used = mm_->used_pages() * kPageSize + mm_->patch_bytes();
  for (unsigned n = 0; n < mm_->nodes(); ++n) m.node_pages_used.push_back(mm_->used_pages_on(n));
  m.shared_pages = mm_->shared_pages();
  m.zero_page_mappings = mm_->zero_page_refs();
  m.image_pages = images_->pinned_pages();
  m.image_cache_hits = images_->hits();
  const PageSharing::Stats& sh = sharing_.stats();
  m.pages_scanned = sh.pages_scanned;
  m.merges = sh.merges;
  m.zero_merges = sh.zero_merges;
  m.scan_passes = sh.passes;
  m.host_rss_bytes = host_rss_bytes();
  m.host_threads = last_host_threads_;
  m.processors = processors_;
  m.numa_params = spec_.numa;
  if (policy_) m.policy = policy_->stats();
  m.replica_pages = mm_->replica_pages();
  if (paused) resume_world();
  return m;
}

void Machine::mark(size_t i) {
  if (i >= marks_.size() || marks_[i]) return;
  const bool paused = sched_.load() != nullptr;
  if (paused) pause_world();
  NumaCounts n = vms_[i]->numa_counts();
  if (policy_) n.policy_us = policy_->cost_us(static_cast<uint32_t>(i));
  marks_[i] = n;
  if (paused) resume_world();
}

uint64_t Machine::machine_instructions() const {
  uint64_t n = 0;
  for (const auto& v : vms_) n += v->instructions_published();
  return n;
}

bool Machine::numa_due() const {
  if (!policy_) return false;
  return model_->counters().has_hot() || mm_->has_collapses() || machine_instructions() >= next_reset_insns_;
}

// Disco's policy at a safe point: the hot pages the counters queued, and at
// the end of each interval (reset_interval_ms of instructions at insn_ns
// on each running processor) the counters start again.
void Machine::numa_step() {
  if (!policy_) return;
  MissCounters& mc = model_->counters();
  policy_->run_batch(mc.take_hot(), counts_of(mc));
  const uint64_t now = machine_instructions();
  if (now >= next_reset_insns_) {
    if (next_reset_insns_ != 0) {
      mc.reset();
      policy_->end_interval();
    }
    const uint64_t procs = std::max<uint64_t>(
        1, std::min<uint64_t>(units(), static_cast<uint64_t>(spec_.nodes) * spec_.cpus_per_node));
    const double per_proc = spec_.numa.reset_interval_ms * 1e6 / spec_.numa.insn_ns;
    next_reset_insns_ = now + std::max<uint64_t>(1, static_cast<uint64_t>(per_proc * static_cast<double>(procs)));
  }
}

}  // namespace disco
