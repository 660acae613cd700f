// One virtual machine on the disco virt board: guest RAM, the MMIO devices
// (UART, power, RTC; with several vCPUs also the Coherence Manager and the
// GIC), its virtual CPUs, and the loops that run them. The memory map is
// documented in README.md ("The disco virt board"); SMP in docs/smp.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "devices/goldfish_rtc.h"
#include "devices/mips_cm.h"
#include "devices/mips_gic.h"
#include "devices/mmio.h"
#include "devices/power.h"
#include "devices/uart16550.h"
#include "board/board.h"
#include "monitor/boot_images.h"
#include "cpu/code_registry.h"
#include "cpu/cpu.h"
#include "monitor/guest_memory.h"
#include "monitor/numa_counts.h"
#include "numa-model/memory_model.h"
#include "numa-model/vcpu_model.h"
#include "monitor/vm_spec.h"
#include "cpu/phys_bus.h"

namespace disco {

namespace jit {
class Jit;
}
class Vm;

// Something that follows a VM step by step: the lockstep checker and the
// gdb stub (debug/). With an observer attached, Vm::run() runs one engine
// step at a time (a JIT block, or one instruction on the interpreter).
class VmObserver {
 public:
  virtual ~VmObserver() = default;
  // After a step that began at `pc`. False stops the run with
  // VmExit::Diverged (the observer says why).
  virtual bool after_step(Vm& vm, uint64_t pc) = 0;
  // Deterministic time: the guest idled in WAIT and Count jumped to `cycle`.
  virtual void on_idle_skip(Vm& /*vm*/, uint64_t /*cycle*/) {}
  // A byte of console input reached the UART (Vm::console_input).
  virtual void on_console_input(uint8_t /*byte*/) {}
};


// Where a VM lives and what it is connected to: wiring that the command
// (or a Machine) provides, not part of the VM's description. Without a
// memory, the VM gets a one-node machine memory of its own size.
struct VmWiring {
  MachineMemory* memory = nullptr;
  uint32_t id = 0;          // index of the VM on its machine
  unsigned home_node = 0;   // where its pages are allocated first
  BootImageCache* images = nullptr;  // shared boot images (optional)
  std::function<void(uint8_t)> console_out;  // UART transmit (null: dropped)
  // vCPU k has something to do (any thread): the guest released it from
  // reset, or an interrupt line (an IPI, a GIC-routed device) went up for
  // it. A scheduler that runs vCPUs itself (Machine) and holds k as idle
  // makes it ready. Called with the GIC's lock held: it must not touch the VM.
  std::function<void(unsigned k)> on_vcpu_ready;
  // The machine's memory-system model (docs/numa.md), or null: the VM
  // makes its own from `numa`, with a processor per vCPU on its home node.
  MemoryModel* model = nullptr;
  NumaParams numa;  // for a model of its own, and the pages' placement
};

// Running: a time slice ended (Limits::slice_cycles) or the VM is idle
// (Limits::yield_when_idle); run() may be called again. Breakpoint: the pc
// reached a debugger breakpoint (Cpu::breakpoints), not executed yet; run()
// may be called again (see Cpu::break_skip to go on from it).
enum class VmExit { Running, PowerOff, Reboot, Halted, Timeout, InsnLimit, Stopped, Diverged, OutOfMemory, Breakpoint };

class Vm : public PhysBus {
 public:
  // Throws std::invalid_argument if spec.mem_bytes or spec.vcpus is not valid.
  explicit Vm(const VmSpec& spec, VmWiring wiring = {});
  ~Vm() override;
  Vm(const Vm&) = delete;
  Vm& operator=(const Vm&) = delete;

  // Loads the spec's kernel ELF and initrd and a device tree (bootargs:
  // kernel_cmdline(spec)), and sets vCPU 0 at the entry with the UHI boot
  // registers (the others stay in reset until the guest releases them
  // through the CM). Returns false with a one-line error naming the file
  // or the problem.
  bool boot(std::string& error);
  const VmSpec& spec() const { return spec_; }
  // Physical placement chosen by boot() (for tests and --stats).
  uint64_t dtb_paddr() const { return dtb_paddr_; }
  uint64_t initrd_paddr() const { return initrd_paddr_; }

  struct Limits {
    double timeout_seconds = 0;  // 0: none
    uint64_t max_insns = 0;      // 0: none (all vCPUs together)
    std::function<bool()> should_stop;  // polled between chunks (e.g. --until)
    // Console input: called between chunks to feed the UART.
    std::function<void(Vm&)> poll_input;
    // Idle: block up to `ns` for console input; true if input may be ready.
    // Null: the VM just sleeps.
    std::function<bool(uint64_t ns)> wait_input;
    // Several VMs on one thread: return Running after this many cycles
    // (0: run to the end) ...
    uint64_t slice_cycles = 0;
    // ... and, on host time, when the guest idles instead of sleeping
    // (idle() is then true; wake_in_ns() says when it wants to run again).
    bool yield_when_idle = false;
  };
  // Runs the VM until it stops: one vCPU on the calling thread; several on
  // a host thread each (the calling thread feeds the console and checks
  // the limits), or, with deterministic time, all on the calling thread in
  // a fixed interleaving.
  VmExit run(const Limits& limits);
  // One vCPU's slice, for a scheduler that runs vCPUs itself (Machine):
  // like run() for that vCPU alone. A vCPU still held in reset returns
  // Running at once with idle(k) true.
  VmExit run_vcpu(unsigned k, const Limits& limits);

  int exit_status() const { return exit_status_; }
  // After run()/run_vcpu() returned Running because the guest idles: true,
  // and the nanoseconds until its timer fires (0: an interrupt is pending).
  bool idle(unsigned k = 0) const { return vcpus_[k]->idle; }
  uint64_t wake_in_ns(unsigned k = 0);
  GuestMemory& memory() { return *mem_; }
  uint64_t mem_bytes() const { return spec_.mem_bytes; }

  // Follows every step (null: none). Slower: meant for checkers and
  // debuggers, and for one vCPU only (run() refuses an observer otherwise).
  void set_observer(VmObserver* o) { observer_ = o; }
  VmObserver* observer() const { return observer_; }
  // Any thread: every vCPU leaves its engine at its next safe point (its
  // run_vcpu() then checks the caller's should_stop).
  void stop_all_vcpus();
  // Console input for the guest's UART (and the observer). Any thread.
  void console_input(uint8_t byte);
  unsigned vcpus() const { return static_cast<unsigned>(vcpus_.size()); }
  Cpu& cpu(unsigned k = 0) { return *vcpus_[k]->cpu; }
  jit::Jit* jit(unsigned k = 0) { return vcpus_[k]->jit.get(); }
  // Released from reset (vCPU 0 from boot on).
  bool vcpu_started(unsigned k) const { return vcpus_[k]->released.load(std::memory_order_acquire); }
  Uart16550& uart() { return uart_; }
  // Guest instructions, all vCPUs together or one. Owner threads only while
  // the VM runs; instructions_published() is safe from any thread.
  uint64_t instructions() const;
  uint64_t instructions(unsigned k) const { return vcpus_[k]->cpu->s.cycles - vcpus_[k]->idle_cycles; }
  uint64_t idle_cycles() const;
  uint64_t idle_cycles(unsigned k) const { return vcpus_[k]->idle_cycles; }
  double run_seconds(unsigned k) const { return vcpus_[k]->run_seconds; }
  long host_tid(unsigned k) const { return vcpus_[k]->host_tid; }
  uint64_t instructions_published() const;
  // Deterministic time: idles the processor until `cycle` (a WAIT that
  // another VM took at the same point; lockstep keeps its reference in step).
  void skip_idle_to(uint64_t cycle);

  // PhysBus (MMIO as vCPU 0's access)
  uint8_t* ram_page(uint64_t paddr, bool for_write) override;
  bool mmio_read(uint64_t paddr, unsigned size, uint64_t& value) override;
  bool mmio_write(uint64_t paddr, unsigned size, uint64_t value) override;
  // The NUMA model. Before each slice of vCPU k, the scheduler says which
  // modelled processor runs it (its misses count from that processor's
  // node, its reads find that node's replicas). Owner thread, or the
  // thread about to run the vCPU.
  void place_vcpu(unsigned k, unsigned processor);
  MemoryModel& memory_model() { return *model_; }
  // What the model counted for vCPU k (instructions by privilege, misses),
  // or for the whole VM with its pages' migrations, replications and
  // collapses. Read with the vCPUs parked (or by the owner).
  NumaCounts numa_counts(unsigned k) const;
  NumaCounts numa_counts() const { return numa_counts(mem_->stats()); }
  // The same with the VM's memory statistics already at hand (they walk
  // the whole pmap).
  NumaCounts numa_counts(const GuestMemory::Stats& memory) const;
  // MMIO by vCPU `k` (the CM and the GIC have per-vCPU registers).
  bool mmio_read_by(unsigned k, uint64_t paddr, unsigned size, uint64_t& value);
  bool mmio_write_by(unsigned k, uint64_t paddr, unsigned size, uint64_t value);

 private:
  // One virtual CPU: its processor, engine and bus view (MMIO tagged with
  // its index). `released` is set by whichever thread wrote the CM's
  // RESET_RELEASE; everything else belongs to the thread running it.
  struct Vcpu {
    std::unique_ptr<PhysBus> bus;
    std::unique_ptr<Cpu> cpu;
    std::unique_ptr<jit::Jit> jit;
    std::atomic<bool> released{false};
    std::atomic<uint64_t> release_pc{0};
    bool started = false;   // reset at release_pc done by the owner
    bool idle = false;
    bool halted = false;
    uint64_t idle_cycles = 0;
    double run_seconds = 0;
    long host_tid = 0;
    std::atomic<uint64_t> published{0};  // instructions at the last chunk end
    VcpuModel numa;  // the sampler's context (owner thread)
  };
  class VcpuBus;

  VmSpec spec_;
  VmWiring where_;
  std::unique_ptr<MachineMemory> own_memory_;  // when not on a shared machine
  std::unique_ptr<GuestMemory> mem_;
  std::unique_ptr<MemoryModel> own_model_;  // when the wiring gives none
  MemoryModel* model_ = nullptr;
  bool load_kernel(ElfImage& img, std::string& error);
  bool load_initrd(size_t& size, std::string& error);
  uint64_t low_bytes_ = 0, high_bytes_ = 0;
  bool place_boot_data(uint64_t kernel_lo, uint64_t kernel_hi, size_t initrd_size, std::string& error);
  uint64_t guest_time_ns() const;
  bool smp() const { return vcpus_.size() > 1; }

  MmioMap mmio_;
  // Serialises the devices without a lock of their own (UART, power, RTC)
  // between vCPU threads and console input; the CM and the GIC lock themselves.
  std::mutex dev_mu_;
  Uart16550 uart_;
  PowerDevice power_;
  GoldfishRtc rtc_;
  std::unique_ptr<MipsCm> cm_;    // with several vCPUs
  std::unique_ptr<MipsGic> gic_;
  uint64_t dtb_paddr_ = 0, initrd_paddr_ = 0;
  uint64_t kernel_lo_ = 0, kernel_hi_ = 0;
  std::vector<std::unique_ptr<Vcpu>> vcpus_;
  std::unique_ptr<CodePageRegistry> registry_;  // with several vCPUs
  Cpu::SharedCount count_;                      // their one Count
  // Deterministic time with several vCPUs: the VM's clock in cycles, which
  // every vCPU's slice advances by what it ran (run_vcpu; one thread).
  uint64_t clock_cycles_ = 0;
  void attach_engine(Vcpu& v);
  void release_vcpu(unsigned core, uint64_t reset_base);
  bool start_if_released(Vcpu& v);
  void invalidate_host_page(const uint8_t* host_page);
  VmExit run_threads(const Limits& limits);
  VmExit run_interleaved(const Limits& limits);
  std::atomic<VmExit> pending_exit_{VmExit::Running};
  static thread_local Cpu* current_vcpu;  // the vCPU this thread runs (run_vcpu)
  int exit_status_ = 0;
  VmObserver* observer_ = nullptr;
};

// Parses "256M", "1G", "65536K", "1048576" into bytes; false if malformed.
bool parse_size(const std::string& text, uint64_t& bytes);

}  // namespace disco
