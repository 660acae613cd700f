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
  unsigned cpus = 1;
  uint64_t uart_base = 0;
  unsigned uart_irq = 2;          // CPU interrupt-controller input (2..7 = IP2..IP7)
  uint32_t uart_clock_hz = 1843200;
  uint64_t power_base = 0;        // syscon: +0 power-off (0x5555), +4 reboot (1)
  uint64_t rtc_base = 0;          // goldfish RTC (0: none)
  unsigned rtc_irq = 3;
  std::string bootargs;
  uint64_t initrd_start = 0, initrd_end = 0;  // physical; 0/0: none
  uint64_t kaslr_seed = 0;                    // 0: none
};

// Returns the flattened device tree, or an empty vector with `error` set.
std::vector<uint8_t> build_board_fdt(const BoardDescription& b, std::string& error);

}  // namespace disco
