// The disco virt board's physical memory map, interrupt lines and clock:
// the facts the device tree, the VM and bare-metal guests agree on. The
// README's "The disco virt board" documents the same map for users.
#pragma once

#include <cstdint>

namespace disco {

namespace board {
constexpr uint64_t kLowRamLimit = 0x10000000;   // RAM below 256 MiB ...
constexpr uint64_t kHighRamBase = 0x20000000;   // ... and the rest from 512 MiB up
constexpr uint64_t kPowerBase = 0x1fd00000;
constexpr uint64_t kUartBase = 0x1fd01000;
constexpr uint64_t kRtcBase = 0x1fd02000;
constexpr unsigned kUartIrqLine = 0;            // CPU hardware interrupt 0 = Cause.IP2
constexpr unsigned kRtcIrqLine = 1;             // IP3
constexpr uint32_t kCpuClockHz = 200'000'000;   // Count runs at half of it
// Linux relocates itself (KASLR) up to 16 MiB above where it was loaded;
// boot data is kept out of [kernel start, kernel end + this).
constexpr uint64_t kKaslrReserve = 48ull << 20;
constexpr uint64_t kMinMem = 16ull << 20;
constexpr uint64_t kMaxMem = 64ull << 30;
// Guest RAM when nothing says otherwise (`disco run`, a [[vm]] table, VmSpec).
constexpr uint64_t kDefaultMem = 512ull << 20;
// The start of every kernel command line: the console is the board's UART.
constexpr const char* kBaseCmdline = "console=ttyS0 earlycon";
}  // namespace board

}  // namespace disco
