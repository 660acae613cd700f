// The device tree of the disco virt board, built with libfdt and handed to
// the kernel by the UHI convention (a0 = -2, a1 = the DTB's address).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace disco {

struct BoardDescription {
  struct Range {
    uint64_t base, size;
  };
  std::vector<Range> memory;      // guest RAM regions
  uint32_t cpu_clock_hz = 0;      // the CPU clock; Count runs at half of it
  unsigned cpus = 1;              // cpu@0 .. cpu@(cpus-1), reg = index, all on cpu_clock_hz
  uint64_t uart_base = 0;
  unsigned uart_irq = 2;          // CPU interrupt-controller input (2..7 = IP2..IP7)
  uint32_t uart_clock_hz = 1843200;
  uint64_t power_base = 0;        // syscon: +0 power-off (0x5555), +4 reboot (1)
  uint64_t rtc_base = 0;          // goldfish RTC (0: none)
  unsigned rtc_irq = 3;
  // MIPS GIC ("mti,gic"), 0: none. With a GIC, the UART and the RTC raise
  // its shared interrupts uart_gic_irq / rtc_gic_irq (level, active high)
  // instead of the CPU interrupt-controller inputs above, so that any CPU
  // can take them. The CM has no node: Linux finds it through CP0.
  uint64_t gic_base = 0;
  uint64_t gic_size = 0x20000;
  unsigned uart_gic_irq = 0;
  unsigned rtc_gic_irq = 1;
  std::string bootargs;
  uint64_t initrd_start = 0, initrd_end = 0;  // physical; 0/0: none
  uint64_t kaslr_seed = 0;                    // 0: none
};

// Returns the flattened device tree, or an empty vector with `error` set.
std::vector<uint8_t> build_board_fdt(const BoardDescription& b, std::string& error);

}  // namespace disco
