// The MIPS Coherence Manager 2 (CM2) global configuration registers (GCRs):
// the 32 KiB register window through which Linux's CPS SMP code
// (arch/mips/kernel/mips-cm.c, smp-cps.c, cps-vec.S) finds the GIC and
// releases secondary cores from reset. One core per vCPU, one VP per core
// (GCR_Cx_CONFIG.PVPE = 0), no CPC, no IOCU, no L2 controls. docs/smp.md
// lists the registers, what each does here and which kernel code uses it.
//
// Layout of the window (offsets from GCR_BASE):
//   0x0000  global control block
//   0x2000  core-local block: the registers of the core making the access
//   0x4000  core-other block: the core selected by the accessing core's
//           GCR_Cx_OTHER.CORENUM (bits 31:16)
//   0x6000  global debug block (reads 0, writes ignored)
//
// Registers are 32 bits wide; a 64-bit register (CONFIG, BASE, GIC_BASE,
// ...) keeps its upper word at +4, which a CM2 kernel reads and writes as a
// separate 32-bit access. 8-byte accesses at 8-byte-aligned offsets are
// accepted too (low word at the offset, high word at +4), for CM3-style
// kernels and for 64-bit guest code. Any other size, or a misaligned
// access, is refused (bus error for the guest); unimplemented registers
// read 0 and ignore writes, as reserved GCRs do.
//
// Thread safety: accesses may come from several host threads (one per
// vCPU). All state is behind one std::mutex; the release callback runs
// after the lock is dropped, so it may call back into the device.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "devices/mmio.h"

namespace disco {

class MipsCm : public MmioDevice {
 public:
  // A core left reset: start vCPU `core` at `reset_base` (the sign-extended
  // GCR_Cx_RESET_BASE, e.g. 0xffffffffa0xxx000, a KSEG1 address) with
  // Status.ERL = BEV = 1, as after a hardware reset.
  using ReleaseFn = std::function<void(unsigned core, uint64_t reset_base)>;

  struct Config {
    unsigned ncores = 1;     // 1..32: GCR_CONFIG.PCORES = ncores - 1
    uint64_t base = 0;       // physical base of the window (32 KiB aligned); GCR_BASE reads it back
    bool has_gic = true;     // GCR_GIC_STATUS.EX: Linux's CPS SMP refuses to start without a GIC
  };

  MipsCm(const Config& cfg, ReleaseFn on_release);

  static constexpr uint64_t kWindowSize = 0x8000;
  static constexpr uint32_t kRevision = 0x0600;  // CM2 (major 6, minor 0)

  // Register offsets (global block).
  enum : uint32_t {
    kGcrConfig = 0x000, kGcrBase = 0x008, kGcrAccess = 0x020, kGcrRev = 0x030,
    kGcrErrControl = 0x038, kGcrErrMask = 0x040, kGcrErrCause = 0x048, kGcrErrAddr = 0x050,
    kGcrErrMult = 0x058, kGcrL2OnlySyncBase = 0x070, kGcrGicBase = 0x080, kGcrCpcBase = 0x088,
    kGcrReg0Base = 0x090, kGcrReg3Mask = 0x0c8, kGcrGicStatus = 0x0d0, kGcrCpcStatus = 0x0f0,
  };
  // Core-local (0x2000) and core-other (0x4000) blocks, offsets within the block.
  enum : uint32_t {
    kCoreLocal = 0x2000, kCoreOther = 0x4000, kGlobalDebug = 0x6000,
    kCxResetRelease = 0x00, kCxCoherence = 0x08, kCxConfig = 0x10, kCxOther = 0x18,
    kCxResetBase = 0x20, kCxId = 0x28, kCxResetExtBase = 0x30,
  };

  bool read(uint64_t offset, unsigned size, uint64_t& value) override { return read_by(0, offset, size, value); }
  bool write(uint64_t offset, unsigned size, uint64_t value) override { return write_by(0, offset, size, value); }
  bool read_by(unsigned cpu, uint64_t offset, unsigned size, uint64_t& value) override;
  bool write_by(unsigned cpu, uint64_t offset, unsigned size, uint64_t value) override;

  // For the monitor and tests: is `core` held in reset (never released)?
  bool in_reset(unsigned core) const;
  unsigned ncores() const { return ncores_; }

 private:
  struct Core {
    uint32_t reset_release = 1;  // 1: held in reset; writing 0 releases the core
    uint32_t coherence = 0;      // COHDOMAINEN, written 0xff by Linux
    uint32_t other = 0;          // CORENUM in bits 31:16
    uint32_t reset_base = 0xbfc00000u;  // BEVEXCBASE, bits 31:12
    uint32_t reset_ext_base = 0;
  };
  struct Pending {
    unsigned core;
    uint64_t base;
  };

  uint32_t read32(unsigned cpu, uint32_t off);
  void write32(unsigned cpu, uint32_t off, uint32_t v, std::vector<Pending>& released);
  uint32_t read_core(unsigned core, uint32_t reg);
  void write_core(unsigned core, uint32_t reg, uint32_t v, std::vector<Pending>& released);

  const unsigned ncores_;
  const uint64_t base_;
  const bool has_gic_;
  ReleaseFn on_release_;

  mutable std::mutex mu_;
  uint32_t base_low_flags_ = 0;  // GCR_BASE.CMDEFTGT (bits 1:0)
  uint32_t access_ = 1;          // GCR_ACCESS.ACCESSEN: core 0 only at reset (not enforced)
  uint32_t err_control_ = 0;
  // Stored-only 64-bit registers, as (low, high) word pairs: L2_ONLY_SYNC_BASE,
  // GIC_BASE, CPC_BASE, REG0..3 BASE/MASK, indexed by (offset - 0x070) / 8.
  uint32_t stored_[0x0d0 / 8 - 0x070 / 8][2] = {};
  std::vector<Core> cores_;
};

}  // namespace disco
