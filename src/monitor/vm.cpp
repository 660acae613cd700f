#include "monitor/vm.h"

#include <sys/mman.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "board/fdt_builder.h"
#include "interp/interpreter.h"
#include "jit/jit.h"
#include "board/elf_loader.h"
#include "cpu/mmu.h"

namespace disco {

thread_local Cpu* Vm::current_vcpu = nullptr;

// vCPU k's view of the physical address space: RAM is the VM's; MMIO
// carries k, so the CM and the GIC find the core-local registers.
class Vm::VcpuBus final : public PhysBus {
 public:
  VcpuBus(Vm& vm, unsigned k) : vm_(vm), k_(k) {}
  // A read finds the replica on the node of the processor running vCPU k.
  uint8_t* ram_page(uint64_t paddr, bool for_write) override {
    return vm_.mem_->page(paddr, for_write, vm_.vcpus_[k_]->numa.node);
  }
  bool mmio_read(uint64_t paddr, unsigned size, uint64_t& value) override {
    return vm_.mmio_read_by(k_, paddr, size, value);
  }
  bool mmio_write(uint64_t paddr, unsigned size, uint64_t value) override {
    return vm_.mmio_write_by(k_, paddr, size, value);
  }

 private:
  Vm& vm_;
  unsigned k_;
};

Vm::Vm(const VmSpec& spec, VmWiring wiring)
    : spec_(spec),
      where_(std::move(wiring)),
      uart_([this](uint8_t ch) { if (where_.console_out) where_.console_out(ch); },
            [this](bool level) {
              if (gic_) gic_->set_irq(board::kGicUartIrq, level);
              else vcpus_[0]->cpu->set_irq_line(board::kUartIrqLine, level);
            }),
      power_([this](PowerDevice::Request req, int status) {
        exit_status_ = status;
        pending_exit_ = req == PowerDevice::Request::Reboot ? VmExit::Reboot : VmExit::PowerOff;
        stop_all_vcpus();
      }),
      rtc_([this] { return guest_time_ns(); }) {
  const uint64_t mem = spec_.mem_bytes;
  if (mem < board::kMinMem || mem > board::kMaxMem || (mem & kPageMask))
    throw std::invalid_argument("guest memory size must be a multiple of 4 KiB between 16 MiB and 64 GiB");
  if (spec_.vcpus < 1 || spec_.vcpus > board::kMaxVcpus)
    throw std::invalid_argument("a VM has 1 to " + std::to_string(board::kMaxVcpus) + " vCPUs");
  low_bytes_ = std::min(mem, board::kLowRamLimit);
  high_bytes_ = mem - low_bytes_;
  if (!where_.memory) {
    own_memory_ = std::make_unique<MachineMemory>(std::vector<uint64_t>{mem});
    where_.memory = own_memory_.get();
    where_.id = 0;
    where_.home_node = 0;
  }
  mem_ = std::make_unique<GuestMemory>(*where_.memory, where_.id, where_.home_node, low_bytes_, high_bytes_,
                                       board::kHighRamBase, where_.numa.placement);
  model_ = where_.model;
  if (!model_) {
    // A VM on its own: a processor per vCPU, all on its home node.
    own_model_ = std::make_unique<MemoryModel>(where_.numa, *where_.memory, spec_.vcpus);
    model_ = own_model_.get();
  }
  mem_->invalidate = [this](const uint8_t* host_page) { invalidate_host_page(host_page); };
  mem_->flush_tlb = [this] {
    // Only while no vCPU runs (the sharing scan pauses the world).
    for (auto& v : vcpus_) v->cpu->post_and_wait({CpuRequest::FlushSoftTlb, 0}, nullptr);
  };
  mem_->on_out_of_memory = [this] {
    pending_exit_ = VmExit::OutOfMemory;
    stop_all_vcpus();
  };
  mmio_.add(board::kPowerBase, 0x1000, &power_);
  mmio_.add(board::kUartBase, 0x1000, &uart_);
  mmio_.add(board::kRtcBase, 0x1000, &rtc_);
  const unsigned n = spec_.vcpus;
  for (unsigned k = 0; k < n; ++k) {
    auto v = std::make_unique<Vcpu>();
    v->bus = std::make_unique<VcpuBus>(*this, k);
    CpuConfig cc;
    cc.big_endian = spec_.big_endian;
    cc.has_fpu = spec_.has_fpu;
    cc.cpu_num = k;
    // With one vCPU the board has no CM (and Linux stays uniprocessor).
    cc.cm_gcr_base = n > 1 ? board::kCmGcrBase : 0;
    v->cpu = std::make_unique<Cpu>(*v->bus, cc);
    vcpus_.push_back(std::move(v));
  }
  if (n > 1) {
    registry_ = std::make_unique<CodePageRegistry>();
    for (auto& v : vcpus_) {
      registry_->attach(*v->cpu);
      v->cpu->shared_count = &count_;
    }
    MipsGic::Config gc;
    gc.ncpus = n;
    gc.shared_irqs = board::kGicSharedIrqs;
    gic_ = std::make_unique<MipsGic>(gc, [this](unsigned cpu, unsigned pin, bool level) {
      if (cpu >= vcpus_.size()) return;
      vcpus_[cpu]->cpu->set_irq_line(pin, level);
      // A scheduler holding the vCPU as idle runs it now (an IPI, a device).
      if (level && where_.on_vcpu_ready) where_.on_vcpu_ready(cpu);
    });
    cm_ = std::make_unique<MipsCm>(MipsCm::Config{n, board::kCmGcrBase, true},
                                   [this](unsigned core, uint64_t base) { release_vcpu(core, base); });
    mmio_.add(board::kGicBase, MipsGic::kWindowSize, gic_.get());
    mmio_.add(board::kCmGcrBase, MipsCm::kWindowSize, cm_.get());
  }
  for (unsigned k = 0; k < n; ++k) {
    VcpuModel& m = vcpus_[k]->numa;
    m.model = model_;
    m.vm = where_.id;
    m.resolve = [](void* gm, uint64_t paddr, unsigned node) {
      return static_cast<GuestMemory*>(gm)->backing(paddr, node);
    };
    m.resolve_ctx = mem_.get();
    const unsigned first = where_.model ? 0 : where_.home_node * spec_.vcpus;
    place_vcpu(k, std::min(first + k, model_->processors() - 1));
    attach(*vcpus_[k]->cpu, m);
  }
  // The boot vCPU runs from power-on (at the reset vector until boot()).
  vcpus_[0]->released = true;
  vcpus_[0]->started = true;
  for (auto& v : vcpus_) {
    attach_engine(*v);
    if (!spec_.deterministic) v->cpu->use_host_time(board::kCpuClockHz / 2);
  }
}

void Vm::place_vcpu(unsigned k, unsigned processor) {
  VcpuModel& m = vcpus_[k]->numa;
  const unsigned node = model_->node_of_processor(processor);
  // Moving to another node: drop the soft TLB, so that reads refill to
  // that node's replicas (the old entries would still be right, only
  // remote).
  if (node != m.node && vcpus_[k]->started) mem::flush_soft_tlb(*vcpus_[k]->cpu);
  m.processor = processor;
  m.node = node;
  place(vcpus_[k]->cpu->sampler, m);
}

NumaCounts Vm::numa_counts(unsigned k) const {
  const Vcpu& v = *vcpus_[k];
  const Cpu& c = *v.cpu;
  NumaCounts n;
  n.user_insns = c.user_insns();
  const uint64_t all = c.s.cycles - v.idle_cycles;
  n.kernel_insns = all > n.user_insns ? all - n.user_insns : 0;
  n.idle_cycles = v.idle_cycles;
  n.local_misses = v.numa.local_misses;
  n.remote_misses = v.numa.remote_misses;
  n.write_misses = v.numa.write_misses;
  n.fetch_misses = v.numa.fetch_misses;
  n.data_samples = v.numa.data_samples;
  n.fetch_samples = v.numa.fetch_samples;
  return n;
}

NumaCounts Vm::numa_counts(const GuestMemory::Stats& s) const {
  NumaCounts n;
  for (unsigned k = 0; k < vcpus_.size(); ++k) n += numa_counts(k);
  n.migrations = s.migrations;
  n.replications = s.replications;
  n.collapses = s.collapses;
  return n;
}

void Vm::attach_engine(Vcpu& v) {
  v.jit.reset();
  interp::attach(*v.cpu);
  if (spec_.engine == Engine::Jit) v.jit = std::make_unique<jit::Jit>(*v.cpu, spec_.jit_classes);
}

// Any thread (the one whose vCPU wrote GCR_Cx_RESET_RELEASE): the owner of
// vCPU `core` resets it at `reset_base` before it runs (start_if_released).
void Vm::release_vcpu(unsigned core, uint64_t reset_base) {
  if (core >= vcpus_.size() || core == 0) return;
  Vcpu& v = *vcpus_[core];
  if (v.released.load(std::memory_order_acquire)) return;  // running: a second release is not a reset
  v.release_pc.store(reset_base, std::memory_order_relaxed);
  v.released.store(true, std::memory_order_release);
  v.cpu->events.fetch_or(EV_IRQ_CHECK);
  v.cpu->gate.wake();
  if (where_.on_vcpu_ready) where_.on_vcpu_ready(core);
}

bool Vm::start_if_released(Vcpu& v) {
  if (v.started) return true;
  if (!v.released.load(std::memory_order_acquire)) return false;
  Cpu& c = *v.cpu;
  c.reset_base = v.release_pc.load(std::memory_order_relaxed);
  c.reset();
  // With host time the VM's one Count goes on (use_host_time is kept
  // across reset); deterministic, run_vcpu sets the vCPU on the VM's clock.
  v.started = true;
  return true;
}

// A machine page of this VM is being replaced or write-protected: every
// vCPU drops its soft-TLB entries into it before the page is reused. The
// calling vCPU (if it is one of ours) does so itself; the others through
// their mailboxes, acknowledged at their next safe point (docs/smp.md).
void Vm::invalidate_host_page(const uint8_t* host_page) {
  if (!smp()) {
    mem::invalidate_host_page(*vcpus_[0]->cpu, host_page);
    return;
  }
  Cpu* self = nullptr;
  for (auto& v : vcpus_)
    if (v->cpu.get() == current_vcpu) self = current_vcpu;
  uint64_t tickets[board::kMaxVcpus] = {};
  for (size_t k = 0; k < vcpus_.size(); ++k) {
    Cpu& c = *vcpus_[k]->cpu;
    if (&c == self) mem::invalidate_host_page(c, host_page);
    else tickets[k] = c.post({CpuRequest::DropHostPage, reinterpret_cast<uint64_t>(host_page)});
  }
  for (size_t k = 0; k < vcpus_.size(); ++k)
    if (tickets[k]) vcpus_[k]->cpu->wait_ack(tickets[k], self);
}

void Vm::stop_all_vcpus() {
  for (auto& v : vcpus_) v->cpu->request_stop();
}

uint64_t Vm::guest_time_ns() const {
  if (!spec_.deterministic) {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
  }
  // Deterministic: 2026-01-01T00:00:00Z plus the time the boot CPU has run.
  constexpr uint64_t kEpoch = 1767225600ull * 1'000'000'000ull;
  const Cpu& c = *vcpus_[0]->cpu;
  const unsigned __int128 ns = static_cast<unsigned __int128>(c.s.cycles + c.cycle_offset) * 1'000'000'000u;
  return kEpoch + static_cast<uint64_t>(ns / board::kCpuClockHz);
}

Vm::~Vm() {
  for (auto& v : vcpus_) v->jit.reset();
  mem_.reset();  // before the machine memory it maps
}

uint8_t* Vm::ram_page(uint64_t paddr, bool for_write) { return mem_->page(paddr, for_write); }

bool Vm::mmio_read(uint64_t paddr, unsigned size, uint64_t& value) { return mmio_read_by(0, paddr, size, value); }
bool Vm::mmio_write(uint64_t paddr, unsigned size, uint64_t value) { return mmio_write_by(0, paddr, size, value); }

namespace {
// The CM and the GIC take their own locks (and the CM calls back into the
// VM to release a core, which must not hold the device lock).
bool self_locking(uint64_t paddr) {
  return (paddr >= board::kGicBase && paddr < board::kGicBase + MipsGic::kWindowSize) ||
         (paddr >= board::kCmGcrBase && paddr < board::kCmGcrBase + MipsCm::kWindowSize);
}
}  // namespace

bool Vm::mmio_read_by(unsigned k, uint64_t paddr, unsigned size, uint64_t& value) {
  if (!smp() || self_locking(paddr)) return mmio_.read_by(k, paddr, size, value);
  std::lock_guard<std::mutex> g(dev_mu_);
  return mmio_.read_by(k, paddr, size, value);
}

bool Vm::mmio_write_by(unsigned k, uint64_t paddr, unsigned size, uint64_t value) {
  if (!smp() || self_locking(paddr)) return mmio_.write_by(k, paddr, size, value);
  std::lock_guard<std::mutex> g(dev_mu_);
  return mmio_.write_by(k, paddr, size, value);
}

bool Vm::place_boot_data(uint64_t kernel_lo, uint64_t kernel_hi, size_t initrd_size, std::string& error) {
  // Everything goes at the top of low RAM (below 256 MiB, reachable
  // through kseg0): the DTB in the last 64 KiB, the initrd just below.
  // A Linux kernel relocates itself (KASLR) up to 16 MiB above its load
  // address, so with an initrd we keep clear of kKaslrReserve above it.
  constexpr uint64_t kDtbSpace = 64 * 1024;
  const uint64_t top = low_bytes_;
  dtb_paddr_ = top - kDtbSpace;
  const uint64_t initrd_pages = (initrd_size + kPageMask) & ~kPageMask;
  initrd_paddr_ = dtb_paddr_ - initrd_pages;
  const uint64_t reserve_end = initrd_size ? std::max(kernel_hi, kernel_lo + board::kKaslrReserve) : kernel_hi;
  if (dtb_paddr_ < initrd_pages || initrd_paddr_ < reserve_end) {
    error = "guest memory (" + std::to_string(spec_.mem_bytes >> 20) + " MiB) is too small for the kernel" +
            (initrd_size ? " and an initrd of " + std::to_string(initrd_size >> 10) + " KiB" : std::string()) +
            "; use a larger --mem";
    return false;
  }
  return true;
}

bool Vm::load_kernel(ElfImage& img, std::string& error) {
  const VmSpec& spec = spec_;
  BootImageCache::Key key;
  const bool cacheable =
      where_.images && BootImageCache::key_for(spec.kernel, "kernel", 0, spec_.big_endian, key);
  if (cacheable) {
    if (const BootImageCache::Entry* e = where_.images->map_into(key, *mem_)) {
      img = e->elf;
      return true;
    }
  }
  std::vector<uint8_t> kernel;
  if (!read_file(spec.kernel, kernel, error)) return false;
  if (!load_elf(kernel, [this](uint64_t pa) { return ram_page(pa, true); }, spec_.big_endian, img, error)) {
    error = spec.kernel + ": " + error;
    return false;
  }
  if (cacheable) {
    BootImageCache::Entry meta;
    meta.elf = img;
    where_.images->publish(key, *mem_, img.lowest_paddr, img.highest_paddr, meta);
  }
  return true;
}

bool Vm::load_initrd(size_t& size, std::string& error) {
  const VmSpec& spec = spec_;
  // The size decides the placement, which is part of the cache key.
  BootImageCache::Key key;
  std::vector<uint8_t> initrd;
  const bool cacheable =
      where_.images && BootImageCache::key_for(spec.initrd, "initrd", 0, spec_.big_endian, key);
  if (cacheable) {
    size = key.size;
  } else {
    if (!read_file(spec.initrd, initrd, error)) return false;
    size = initrd.size();
  }
  if (!place_boot_data(kernel_lo_, kernel_hi_, size, error)) return false;
  if (cacheable) {
    key.paddr = initrd_paddr_;
    if (where_.images->map_into(key, *mem_)) return true;
    if (!read_file(spec.initrd, initrd, error)) return false;
    if (initrd.size() != size) {
      error = spec.initrd + ": the file changed while it was being loaded";
      return false;
    }
  }
  for (size_t off = 0; off < size; off += kPageSize) {
    uint8_t* page = ram_page(initrd_paddr_ + off, true);
    std::memcpy(page, initrd.data() + off, std::min<size_t>(kPageSize, size - off));
  }
  if (cacheable) {
    BootImageCache::Entry meta;
    meta.bytes = size;
    where_.images->publish(key, *mem_, initrd_paddr_, initrd_paddr_ + size, meta);
  }
  return true;
}

bool Vm::boot(std::string& error) {
  ElfImage img;
  if (!load_kernel(img, error)) return false;
  kernel_lo_ = img.lowest_paddr;
  kernel_hi_ = img.highest_paddr;
  size_t initrd_size = 0;
  if (spec_.initrd.empty()) {
    if (!place_boot_data(kernel_lo_, kernel_hi_, 0, error)) return false;
  } else if (!load_initrd(initrd_size, error)) {
    return false;
  }

  BoardDescription b;
  b.memory.push_back({0, low_bytes_});
  if (high_bytes_) b.memory.push_back({board::kHighRamBase, high_bytes_});
  b.cpu_clock_hz = board::kCpuClockHz;
  b.uart_base = board::kUartBase;
  b.uart_irq = 2 + board::kUartIrqLine;
  b.power_base = board::kPowerBase;
  b.rtc_base = board::kRtcBase;
  b.rtc_irq = 2 + board::kRtcIrqLine;
  b.cpus = vcpus();
  if (smp()) {
    b.gic_base = board::kGicBase;
    b.gic_size = MipsGic::kWindowSize;
    b.uart_gic_irq = board::kGicUartIrq;
    b.rtc_gic_irq = board::kGicRtcIrq;
  }
  b.bootargs = kernel_cmdline(spec_);
  if (initrd_size) {
    b.initrd_start = initrd_paddr_;
    b.initrd_end = initrd_paddr_ + initrd_size;
  }
  b.kaslr_seed = spec_.kaslr_seed;
  const std::vector<uint8_t> dtb = build_board_fdt(b, error);
  if (dtb.empty()) return false;
  if (dtb.size() > 64 * 1024) {
    error = "device tree larger than its 64 KiB slot";
    return false;
  }
  for (size_t off = 0; off < dtb.size(); off += kPageSize)
    std::memcpy(ram_page(dtb_paddr_ + off, true), dtb.data() + off, std::min<size_t>(kPageSize, dtb.size() - off));

  for (auto& v : vcpus_) {
    v->cpu->reset();
    attach_engine(*v);
    if (!spec_.deterministic) v->cpu->use_host_time(board::kCpuClockHz / 2);
  }
  Cpu& c = *vcpus_[0]->cpu;
  vcpus_[0]->started = true;
  c.s.pc = img.entry;
  // UHI: a0 = -2, a1 = the DTB through kseg0 (the kernel dereferences it).
  c.s.gpr[4] = ~1ull;
  c.s.gpr[5] = 0xffffffff80000000ull + dtb_paddr_;
  c.s.gpr[6] = c.s.gpr[7] = 0;
  return true;
}

std::string kernel_cmdline(const VmSpec& spec) {
  std::string s = board::kBaseCmdline;
  if (!spec.append.empty()) s += " " + spec.append;
  if (!spec.kaslr) s += " nokaslr";
  return s;
}

const char* engine_name(Engine e) { return e == Engine::Jit ? "jit" : "interp"; }

bool parse_size(const std::string& t, uint64_t& bytes) {
  if (t.empty()) return false;
  size_t i = 0;
  uint64_t v = 0;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
    if (v > (~0ull - 9) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(t[i++] - '0');
  }
  if (i == 0) return false;
  unsigned shift = 0;
  if (i < t.size()) {
    switch (t[i]) {
      case 'k': case 'K': shift = 10; break;
      case 'm': case 'M': shift = 20; break;
      case 'g': case 'G': shift = 30; break;
      default: return false;
    }
    ++i;
    if (i < t.size() && (t[i] == 'i' || t[i] == 'B')) ++i;  // "MiB", "MB"
    if (i < t.size() && t[i] == 'B') ++i;
  }
  if (i != t.size()) return false;
  if (shift && v > (~0ull >> shift)) return false;
  bytes = v << shift;
  return true;
}

}  // namespace disco
