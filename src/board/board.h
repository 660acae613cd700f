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
// SMP (a Coherent Processing System, docs/smp.md): the CM2's GCRs, found
// by the kernel through CP0 CMGCRBase (no device-tree node), and the GIC,
// which then carries the devices' interrupts (shared interrupts below) and
// the IPIs (the top 2 * ncpus shared interrupts).
constexpr uint64_t kGicBase = 0x1fbc0000;       // 128 KiB, 128 KiB aligned (GCR_GIC_BASE.GICBASE)
constexpr uint64_t kGicSize = 0x20000;
constexpr uint64_t kCmGcrBase = 0x1fbf8000;     // 32 KiB, 32 KiB aligned (GCR_BASE.GCRBASE)
constexpr uint64_t kCmGcrSize = 0x8000;
// Kept free: with GCR_L2_ONLY_SYNC_BASE unset, Linux enables the CM's 4 KiB
// L2-only sync region right after the GCRs (mips_cm_probe_l2sync); 6.1
// maps it but never touches it.
constexpr uint64_t kCmL2SyncBase = kCmGcrBase + kCmGcrSize;
constexpr uint64_t kCmL2SyncSize = 0x1000;
constexpr unsigned kMaxVcpus = 16;              // Debian's mips64r2el kernel: NR_CPUS = 16
constexpr unsigned kGicSharedIrqs = 64;         // 2 x 16 IPIs for up to 16 vCPUs, 32 device lines
constexpr unsigned kGicUartIrq = 0;             // GIC shared interrupt numbers
constexpr unsigned kGicRtcIrq = 1;
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

static_assert(kGicBase % kGicSize == 0 && kCmGcrBase % kCmGcrSize == 0);
static_assert(kLowRamLimit <= kGicBase && kGicBase + kGicSize <= kCmGcrBase);
static_assert(kCmL2SyncBase + kCmL2SyncSize <= kPowerBase);
}  // namespace board

}  // namespace disco
