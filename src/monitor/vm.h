// One virtual machine on the disco virt board: guest RAM, the MMIO devices
// (UART, power), one processor, and the loop that runs it. The memory map
// is documented in README.md ("The disco virt board").
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "devices/goldfish_rtc.h"
#include "devices/mmio.h"
#include "devices/power.h"
#include "devices/uart16550.h"
#include "board/board.h"
#include "monitor/boot_images.h"
#include "cpu/cpu.h"
#include "monitor/guest_memory.h"
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
};

// Running: a time slice ended (Limits::slice_cycles) or the VM is idle
// (Limits::yield_when_idle); run() may be called again. Breakpoint: the pc
// reached a debugger breakpoint (Cpu::breakpoints), not executed yet; run()
// may be called again (see Cpu::break_skip to go on from it).
enum class VmExit { Running, PowerOff, Reboot, Halted, Timeout, InsnLimit, Stopped, Diverged, OutOfMemory, Breakpoint };

class Vm : public PhysBus {
 public:
  // Throws std::invalid_argument if spec.mem_bytes is not a valid size.
  explicit Vm(const VmSpec& spec, VmWiring wiring = {});
  ~Vm() override;
  Vm(const Vm&) = delete;
  Vm& operator=(const Vm&) = delete;

  // Loads the spec's kernel ELF and initrd and a device tree (bootargs:
  // kernel_cmdline(spec)), and sets the CPU at the entry with the UHI boot
  // registers. Returns false with a one-line error naming the file or the
  // problem.
  bool boot(std::string& error);
  const VmSpec& spec() const { return spec_; }
  // Physical placement chosen by boot() (for tests and --stats).
  uint64_t dtb_paddr() const { return dtb_paddr_; }
  uint64_t initrd_paddr() const { return initrd_paddr_; }

  struct Limits {
    double timeout_seconds = 0;  // 0: none
    uint64_t max_insns = 0;      // 0: none
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
  VmExit run(const Limits& limits);

  int exit_status() const { return exit_status_; }
  // After run() returned Running because the guest idles: true, and the
  // nanoseconds until its timer fires (0: an interrupt is pending already).
  bool idle() const { return idle_; }
  uint64_t wake_in_ns();
  GuestMemory& memory() { return *mem_; }
  uint64_t mem_bytes() const { return spec_.mem_bytes; }

  // Follows every step (null: none). Slower: meant for checkers and debuggers.
  void set_observer(VmObserver* o) { observer_ = o; }
  VmObserver* observer() const { return observer_; }
  // Console input for the guest's UART (and the observer).
  void console_input(uint8_t byte);
  Cpu& cpu() { return *cpu_; }
  jit::Jit* jit() { return jit_.get(); }
  Uart16550& uart() { return uart_; }
  uint64_t instructions() const { return cpu_->s.cycles - idle_cycles_; }
  uint64_t idle_cycles() const { return idle_cycles_; }
  // Deterministic time: idles the processor until `cycle` (a WAIT that
  // another VM took at the same point; lockstep keeps its reference in step).
  void skip_idle_to(uint64_t cycle);

  // PhysBus
  uint8_t* ram_page(uint64_t paddr, bool for_write) override;
  bool mmio_read(uint64_t paddr, unsigned size, uint64_t& value) override;
  bool mmio_write(uint64_t paddr, unsigned size, uint64_t value) override;

 private:
  VmSpec spec_;
  VmWiring where_;
  std::unique_ptr<MachineMemory> own_memory_;  // when not on a shared machine
  std::unique_ptr<GuestMemory> mem_;
  bool idle_ = false;
  bool load_kernel(ElfImage& img, std::string& error);
  bool load_initrd(size_t& size, std::string& error);
  uint64_t low_bytes_ = 0, high_bytes_ = 0;
  bool place_boot_data(uint64_t kernel_lo, uint64_t kernel_hi, size_t initrd_size, std::string& error);
  uint64_t guest_time_ns() const;

  MmioMap mmio_;
  Uart16550 uart_;
  PowerDevice power_;
  GoldfishRtc rtc_;
  uint64_t dtb_paddr_ = 0, initrd_paddr_ = 0;
  uint64_t kernel_lo_ = 0, kernel_hi_ = 0;
  std::unique_ptr<Cpu> cpu_;
  std::unique_ptr<jit::Jit> jit_;
  void attach_engine();
  VmExit pending_exit_ = VmExit::Running;
  int exit_status_ = 0;
  uint64_t idle_cycles_ = 0;
  VmObserver* observer_ = nullptr;
};

// Parses "256M", "1G", "65536K", "1048576" into bytes; false if malformed.
bool parse_size(const std::string& text, uint64_t& bytes);

}  // namespace disco
