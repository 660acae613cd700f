// One virtual machine on the disco virt board: guest RAM, the MMIO devices
// (UART, power), one processor, and the loop that runs it. The memory map
// is documented in README.md ("The disco virt board").
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "devices/mmio.h"
#include "devices/power.h"
#include "devices/uart16550.h"
#include "monitor/cpu.h"
#include "monitor/phys_bus.h"

namespace disco {

namespace board {
constexpr uint64_t kLowRamLimit = 0x10000000;   // RAM below 256 MiB ...
constexpr uint64_t kHighRamBase = 0x20000000;   // ... and the rest from 512 MiB up
constexpr uint64_t kPowerBase = 0x1fd00000;
constexpr uint64_t kUartBase = 0x1fd01000;
constexpr unsigned kUartIrqLine = 0;            // CPU hardware interrupt 0 = Cause.IP2
constexpr uint64_t kMinMem = 16ull << 20;
constexpr uint64_t kMaxMem = 64ull << 30;
}  // namespace board

struct VmConfig {
  uint64_t mem_bytes = 256ull << 20;
  bool big_endian = false;
  bool has_fpu = false;
  std::function<void(uint8_t)> console_out;  // UART transmit
};

enum class VmExit { Running, PowerOff, Reboot, Timeout, InsnLimit, Stopped, Hung };

class Vm : public PhysBus {
 public:
  explicit Vm(const VmConfig& cfg);
  ~Vm() override;
  Vm(const Vm&) = delete;
  Vm& operator=(const Vm&) = delete;

  // Loads an ELF kernel/guest and points the CPU at its entry. Returns
  // false with a one-line error naming the file on failure.
  bool load_kernel(const std::string& path, std::string& error);

  struct Limits {
    double timeout_seconds = 0;  // 0: none
    uint64_t max_insns = 0;      // 0: none
    std::function<bool()> should_stop;  // polled between chunks (e.g. --until)
  };
  VmExit run(const Limits& limits);

  int exit_status() const { return exit_status_; }
  Cpu& cpu() { return *cpu_; }
  Uart16550& uart() { return uart_; }
  uint64_t instructions() const { return cpu_->s.cycles - idle_cycles_; }
  uint64_t idle_cycles() const { return idle_cycles_; }

  // PhysBus
  uint8_t* ram_page(uint64_t paddr, bool for_write) override;
  bool mmio_read(uint64_t paddr, unsigned size, uint64_t& value) override;
  bool mmio_write(uint64_t paddr, unsigned size, uint64_t value) override;

 private:
  VmConfig cfg_;
  uint8_t* ram_ = nullptr;
  uint64_t low_bytes_ = 0, high_bytes_ = 0;
  MmioMap mmio_;
  Uart16550 uart_;
  PowerDevice power_;
  std::unique_ptr<Cpu> cpu_;
  VmExit pending_exit_ = VmExit::Running;
  int exit_status_ = 0;
  uint64_t idle_cycles_ = 0;
};

// Parses "256M", "1G", "65536K", "1048576" into bytes; false if malformed.
bool parse_size(const std::string& text, uint64_t& bytes);

}  // namespace disco
