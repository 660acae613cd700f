#include "devices/mips_gic.h"

#include <array>
#include <chrono>

namespace disco {

namespace {
constexpr uint32_t kConfigCountStop = 1u << 28;
constexpr uint32_t kConfigCountBits64 = 8u << 24;  // COUNTBITS: 32 + 4 * 8 = 64-bit counter
constexpr uint32_t kVxCtlEic = 1u << 0;
constexpr uint32_t kLocalMask = (1u << MipsGic::kLocalIrqs) - 1;
constexpr uint32_t kVxOtherVpNum = 0x3f;
constexpr uint32_t kBlock = 0x4000;  // size of the VP-local and VP-other blocks

unsigned clamp(unsigned v, unsigned lo, unsigned hi) { return v < lo ? lo : (v > hi ? hi : v); }
}  // namespace

MipsGic::MipsGic(const Config& cfg, PinFn pin)
    : ncpus_(clamp(cfg.ncpus, 1, 32)),
      nirqs_(clamp(cfg.shared_irqs, 8, 256) & ~7u),
      nwords_((nirqs_ + 31) / 32),
      pin_(std::move(pin)),
      clock_(cfg.counter),
      pol_(nwords_), trig_(nwords_), dual_(nwords_), mask_(nwords_),
      line_(nwords_), latch_(nwords_),
      map_pin_(nirqs_), map_vp_(nirqs_),
      vps_(ncpus_), out_(ncpus_) {
  if (!clock_) {
    const auto t0 = std::chrono::steady_clock::now();
    clock_ = [t0] {
      return static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
    };
  }
}

uint64_t MipsGic::counter() const { return clock_(); }

bool MipsGic::pending(unsigned irq) const { return (pending_word(irq / 32) >> (irq % 32)) & 1; }

// An interrupt is pending when its edge latch is set (edges, WEDGE), or,
// level-triggered, while its line is at the active level (POL = 1: high).
uint32_t MipsGic::pending_word(unsigned w) const {
  const uint32_t active = ~(line_[w] ^ pol_[w]);  // line == pol
  uint32_t p = latch_[w] | (active & ~trig_[w]);
  if (w == nwords_ - 1 && nirqs_ % 32) p &= (1u << (nirqs_ % 32)) - 1;
  return p;
}

void MipsGic::set_irq(unsigned irq, bool level) {
  if (irq >= nirqs_) return;
  std::lock_guard<std::mutex> lock(mu_);
  const unsigned w = irq / 32;
  const uint32_t bit = 1u << (irq % 32);
  const bool old = line_[w] & bit;
  if (old == level) return;
  if (level) line_[w] |= bit;
  else line_[w] &= ~bit;
  if (trig_[w] & bit) {
    // Edge-triggered: a rising edge with POL = 1, a falling one with POL = 0,
    // either with DUAL = 1.
    const bool want_rising = pol_[w] & bit;
    if ((dual_[w] & bit) || level == want_rising) latch_[w] |= bit;
  }
  update();
}

bool MipsGic::pin_level(unsigned cpu, unsigned pin) const {
  std::lock_guard<std::mutex> lock(mu_);
  return cpu < ncpus_ && pin < kCpuPins && ((out_[cpu] >> pin) & 1);
}

bool MipsGic::read_by(unsigned cpu, uint64_t offset, unsigned size, uint64_t& value) {
  if ((size != 4 && size != 8) || (offset & (size - 1)) || offset + size > kWindowSize) return false;
  const uint32_t off = static_cast<uint32_t>(offset);
  std::lock_guard<std::mutex> lock(mu_);
  if (size == 8 && off == kShCounterLo) {
    value = counter();  // one sample, not two halves of different times
    return true;
  }
  value = read32(cpu, off);
  if (size == 8) value |= static_cast<uint64_t>(read32(cpu, off + 4)) << 32;
  return true;
}

bool MipsGic::write_by(unsigned cpu, uint64_t offset, unsigned size, uint64_t value) {
  if ((size != 4 && size != 8) || (offset & (size - 1)) || offset + size > kWindowSize) return false;
  const uint32_t off = static_cast<uint32_t>(offset);
  std::lock_guard<std::mutex> lock(mu_);
  write32(cpu, off, static_cast<uint32_t>(value));
  if (size == 8) write32(cpu, off + 4, static_cast<uint32_t>(value >> 32));
  update();
  return true;
}

uint32_t MipsGic::read32(unsigned cpu, uint32_t off) const {
  if (off >= kVpLocal && off < kVpLocal + kBlock) return cpu < ncpus_ ? read_vp(cpu, off - kVpLocal) : 0;
  if (off >= kVpOther && off < kVpOther + kBlock) {
    if (cpu >= ncpus_) return 0;
    return read_vp(vps_[cpu].other, off - kVpOther);
  }
  if (off >= kUser) return 0;
  // Bit vectors: one 32-bit word per 32 interrupts.
  auto vec = [&](uint32_t base, uint32_t& w) {
    if (off < base || off >= base + 4 * nwords_) return false;
    w = (off - base) / 4;
    return true;
  };
  uint32_t w = 0;
  if (off == kShConfig)
    return config_countstop_ | kConfigCountBits64 | ((nirqs_ / 8 - 1) << 16) | (ncpus_ - 1);
  if (off == kShCounterLo) return static_cast<uint32_t>(counter());
  if (off == kShCounterHi) return static_cast<uint32_t>(counter() >> 32);
  if (vec(kShPol, w)) return pol_[w];
  if (vec(kShTrig, w)) return trig_[w];
  if (vec(kShDual, w)) return dual_[w];
  if (vec(kShMask, w)) return mask_[w];
  if (vec(kShPend, w)) return pending_word(w);
  if (off >= kShMapPin && off < kShMapPin + 4 * nirqs_) return map_pin_[(off - kShMapPin) / 4];
  if (off >= kShMapVp && off < kShMapVp + kShMapVpStride * nirqs_) {
    // Only the first word of each MAP_VP (VPs 0..31) exists here.
    if ((off - kShMapVp) % kShMapVpStride) return 0;
    return map_vp_[(off - kShMapVp) / kShMapVpStride];
  }
  return 0;  // WEDGE, RMASK, SMASK read 0; reserved
}

void MipsGic::write32(unsigned cpu, uint32_t off, uint32_t v) {
  if (off >= kVpLocal && off < kVpLocal + kBlock) {
    if (cpu < ncpus_) write_vp(cpu, off - kVpLocal, v);
    return;
  }
  if (off >= kVpOther && off < kVpOther + kBlock) {
    // The VP-other block reaches the registers of the VP that the
    // accessor's VL_OTHER selects.
    if (cpu < ncpus_) write_vp(vps_[cpu].other, off - kVpOther, v);
    return;
  }
  if (off >= kUser) return;
  auto vec = [&](uint32_t base, uint32_t& w) {
    if (off < base || off >= base + 4 * nwords_) return false;
    w = (off - base) / 4;
    return true;
  };
  uint32_t w = 0;
  if (off == kShConfig) {
    config_countstop_ = v & kConfigCountStop;  // stored; the counter does not stop
    return;
  }
  if (off == kShWedge) {
    const unsigned irq = v & 0xff;
    if (irq >= nirqs_) return;
    if (v & kWedgeSet) latch_[irq / 32] |= 1u << (irq % 32);
    else latch_[irq / 32] &= ~(1u << (irq % 32));
    return;
  }
  if (vec(kShPol, w)) { pol_[w] = v; return; }
  if (vec(kShTrig, w)) {
    // Leaving edge mode drops a latched edge: the line decides again.
    latch_[w] &= v | ~trig_[w];
    trig_[w] = v;
    return;
  }
  if (vec(kShDual, w)) { dual_[w] = v; return; }
  if (vec(kShRmask, w)) { mask_[w] &= ~v; return; }
  if (vec(kShSmask, w)) { mask_[w] |= v; return; }
  if (off >= kShMapPin && off < kShMapPin + 4 * nirqs_) {
    map_pin_[(off - kShMapPin) / 4] = v;
    return;
  }
  if (off >= kShMapVp && off < kShMapVp + kShMapVpStride * nirqs_) {
    if ((off - kShMapVp) % kShMapVpStride) return;
    const uint32_t vps = ncpus_ >= 32 ? ~0u : (1u << ncpus_) - 1;
    map_vp_[(off - kShMapVp) / kShMapVpStride] = v & vps;
    return;
  }
  // SH_COUNTER (not writable here), MASK, PEND (read-only), reserved.
}

uint32_t MipsGic::read_vp(unsigned vp, uint32_t reg) const {
  if (vp >= ncpus_) return 0;
  const Vp& x = vps_[vp];
  switch (reg) {
    case kVxCtl: return x.ctl;
    case kVxPend: return 0;  // no local sources
    case kVxMask: return x.mask;
    case kVxOther: return x.other;
    case kVxIdent: return vp;
    case kVxCompareLo: return x.compare[0];
    case kVxCompareHi: return x.compare[1];
    default:
      if (reg >= kVxMap && reg < kVxMap + 4 * kLocalIrqs) return x.map[(reg - kVxMap) / 4];
      return 0;
  }
}

void MipsGic::write_vp(unsigned vp, uint32_t reg, uint32_t v) {
  if (vp >= ncpus_) return;
  Vp& x = vps_[vp];
  switch (reg) {
    case kVxCtl: x.ctl = v & kVxCtlEic; return;
    case kVxRmask: x.mask &= ~(v & kLocalMask); return;
    case kVxSmask: x.mask |= v & kLocalMask; return;
    case kVxOther: x.other = v & kVxOtherVpNum; return;
    case kVxCompareLo: x.compare[0] = v; return;
    case kVxCompareHi: x.compare[1] = v; return;
    default:
      if (reg >= kVxMap && reg < kVxMap + 4 * kLocalIrqs) x.map[(reg - kVxMap) / 4] = v;
      return;  // PEND, MASK, IDENT are read-only
  }
}

void MipsGic::update() {
  std::array<uint8_t, 32> now{};
  for (unsigned w = 0; w < nwords_; ++w) {
    uint32_t live = pending_word(w) & mask_[w];
    while (live) {
      const unsigned b = static_cast<unsigned>(__builtin_ctz(live));
      live &= live - 1;
      const unsigned irq = w * 32 + b;
      const uint32_t map = map_pin_[irq];
      if (!(map & kMapToPin)) continue;
      const unsigned pin = map & kMapPinMask;
      if (pin >= kCpuPins) continue;
      for (uint32_t vps = map_vp_[irq]; vps; vps &= vps - 1) {
        const unsigned vp = static_cast<unsigned>(__builtin_ctz(vps));
        if (vp < ncpus_) now[vp] |= static_cast<uint8_t>(1u << pin);
      }
    }
  }
  for (unsigned c = 0; c < ncpus_; ++c) {
    const uint8_t changed = now[c] ^ out_[c];
    out_[c] = now[c];
    if (!pin_) continue;
    for (unsigned p = 0; p < kCpuPins; ++p)
      if ((changed >> p) & 1) pin_(c, p, (now[c] >> p) & 1);
  }
}

}  // namespace disco
