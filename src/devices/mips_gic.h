// The MIPS Global Interrupt Controller (GIC), as Linux's irq-mips-gic.c
// drives it on a CM2 system: shared (device and IPI) interrupts with
// polarity, trigger and dual-edge configuration, software edges through
// WEDGE, set/reset masks, and routing of each interrupt to one CPU pin
// (IP2..IP7) of a set of VPs (here: one VP per vCPU, VP number = vCPU
// index = core number, as mips_cm_vp_id() computes with GCR_Cx_CONFIG.PVPE
// = 0). docs/smp.md lists the registers and the kernel paths behind them.
//
// Window (128 KiB, offsets from the GIC base):
//   0x00000  shared block: SH_CONFIG, SH_COUNTER, POL/TRIG/DUAL, WEDGE,
//            RMASK/SMASK/MASK/PEND bit vectors, MAP_PIN (0x500 + 4i),
//            MAP_VP (0x2000 + 0x20i)
//   0x08000  VP-local block: the registers of the VP making the access
//   0x0c000  VP-other block: the VP selected by the accessor's VL_OTHER
//   0x10000  user block (reads 0)
//
// Local interrupt sources (GIC timer, watchdog, routable CP0 timer, ...)
// are not modelled: VL_CTL's *_ROUTABLE bits read 0, so Linux leaves the
// CP0 timer and performance counter on the CPU interrupt controller, and
// VL_PEND reads 0. The VL/VO registers are stored and read back.
//
// Accesses: 32-bit; 8-byte accesses at 8-byte-aligned offsets cover two
// adjacent words (low word at the offset). Other sizes or misaligned
// accesses are refused (bus error); unimplemented registers read 0 and
// ignore writes.
//
// Thread safety: devices raise lines (set_irq) and vCPUs access registers
// from different host threads. All state is behind one std::mutex, and the
// pin callback is called with that mutex held, so pin changes reach the
// owner in the order they happen; the callback must not call back into
// the GIC (it should only record the level, e.g. in the vCPU's Cause.IP,
// and kick the vCPU).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "devices/mmio.h"

namespace disco {

class MipsGic : public MmioDevice {
 public:
  // The level of CPU interrupt pin `pin` (0..5 = Cause.IP2..IP7) of vCPU
  // `cpu` changed. Called only on changes.
  using PinFn = std::function<void(unsigned cpu, unsigned pin, bool level)>;
  // GIC_SH_COUNTER: any monotonic 64-bit count (Linux reads it only with a
  // "mti,gic-timer" node, which the board does not describe).
  using Clock = std::function<uint64_t()>;

  struct Config {
    unsigned ncpus = 1;          // VPs, 1..32 (MAP_VP's first word)
    unsigned shared_irqs = 64;   // multiple of 8, 8..256; Linux takes the top 2 * ncpus for IPIs
    Clock counter;               // empty: the host's steady clock in ns
  };

  MipsGic(const Config& cfg, PinFn pin);

  static constexpr uint64_t kWindowSize = 0x20000;
  static constexpr unsigned kCpuPins = 6;  // IP2..IP7

  // Register offsets.
  enum : uint32_t {
    kShConfig = 0x0000, kShCounterLo = 0x0010, kShCounterHi = 0x0014,
    kShPol = 0x0100, kShTrig = 0x0180, kShDual = 0x0200, kShWedge = 0x0280,
    kShRmask = 0x0300, kShSmask = 0x0380, kShMask = 0x0400, kShPend = 0x0480,
    kShMapPin = 0x0500, kShMapVp = 0x2000, kShMapVpStride = 0x20,
    kVpLocal = 0x8000, kVpOther = 0xc000, kUser = 0x10000,
    // Within the VP-local / VP-other blocks.
    kVxCtl = 0x00, kVxPend = 0x04, kVxMask = 0x08, kVxRmask = 0x0c, kVxSmask = 0x10,
    kVxMap = 0x40, kVxOther = 0x80, kVxIdent = 0x88, kVxCompareLo = 0xa0, kVxCompareHi = 0xa4,
  };
  static constexpr uint32_t kWedgeSet = 1u << 31;      // GIC_WEDGE_RW
  static constexpr uint32_t kMapToPin = 1u << 31;      // GIC_MAP_PIN_MAP_TO_PIN
  static constexpr uint32_t kMapPinMask = 0x3f;        // GIC_MAP_PIN_MAP
  static constexpr unsigned kLocalIrqs = 7;            // GIC_NUM_LOCAL_INTRS

  // A device's interrupt line into shared interrupt `irq` (ignored if out of
  // range). Level-triggered interrupts follow the line through POL; edge
  // triggered ones latch the edge POL (or DUAL) selects until WEDGE clears it.
  void set_irq(unsigned irq, bool level);

  bool read(uint64_t offset, unsigned size, uint64_t& value) override { return read_by(0, offset, size, value); }
  bool write(uint64_t offset, unsigned size, uint64_t value) override { return write_by(0, offset, size, value); }
  bool read_by(unsigned cpu, uint64_t offset, unsigned size, uint64_t& value) override;
  bool write_by(unsigned cpu, uint64_t offset, unsigned size, uint64_t value) override;

  // The current output level of a pin (for the monitor's checks and tests).
  bool pin_level(unsigned cpu, unsigned pin) const;
  unsigned shared_irqs() const { return nirqs_; }
  unsigned ncpus() const { return ncpus_; }

 private:
  struct Vp {
    uint32_t ctl = 0;      // only EIC (bit 0) is stored; the ROUTABLE bits read 0
    uint32_t mask = 0;     // local interrupt mask (bits 6:0)
    uint32_t other = 0;    // VL_OTHER.VPNUM
    uint32_t map[kLocalIrqs] = {};
    uint32_t compare[2] = {};
  };

  bool pending(unsigned irq) const;
  uint32_t pending_word(unsigned w) const;
  uint32_t read32(unsigned cpu, uint32_t off) const;
  void write32(unsigned cpu, uint32_t off, uint32_t v);
  uint32_t read_vp(unsigned vp, uint32_t reg) const;
  void write_vp(unsigned vp, uint32_t reg, uint32_t v);
  uint64_t counter() const;
  void update();  // recompute every pin, report changes (mu_ held)

  const unsigned ncpus_;
  const unsigned nirqs_;
  const unsigned nwords_;
  PinFn pin_;
  Clock clock_;

  mutable std::mutex mu_;
  uint32_t config_countstop_ = 0;
  std::vector<uint32_t> pol_, trig_, dual_, mask_;
  std::vector<uint32_t> line_;   // the device lines' levels
  std::vector<uint32_t> latch_;  // latched edges (and WEDGE-set interrupts)
  std::vector<uint32_t> map_pin_, map_vp_;
  std::vector<Vp> vps_;
  std::vector<uint8_t> out_;     // per vCPU: bit p = pin p asserted
};

}  // namespace disco
