#include "devices/mips_cm.h"

namespace disco {

namespace {
constexpr uint32_t kGcrBaseCmDefTgt = 0x3;             // GCR_BASE bits 1:0
constexpr uint32_t kCxOtherCoreNumShift = 16;          // GCR_Cx_OTHER.CORENUM, bits 31:16 (CM < 3)
constexpr uint32_t kCxResetBaseMask = 0xfffff000u;     // GCR_Cx_RESET_BASE.BEVEXCBASE, bits 31:12
constexpr uint32_t kCxCoherenceMask = 0xff;            // COHDOMAINEN
constexpr uint32_t kAccessMask = 0xff;                 // ACCESSEN
constexpr uint32_t kBlockSize = 0x2000;

// The stored-only registers 0x070 (L2_ONLY_SYNC_BASE) and 0x080..0x0c8
// (GIC_BASE, CPC_BASE, REGn_BASE/MASK); 0x078 is reserved.
bool stored_reg(uint32_t off) { return off == 0x070 || (off >= 0x080 && off <= 0x0cc); }
}  // namespace

MipsCm::MipsCm(const Config& cfg, ReleaseFn on_release)
    : ncores_(cfg.ncores == 0 ? 1 : (cfg.ncores > 32 ? 32 : cfg.ncores)),
      base_(cfg.base),
      has_gic_(cfg.has_gic),
      on_release_(std::move(on_release)),
      cores_(ncores_) {
  cores_[0].reset_release = 0;  // the boot core runs from power-on
}

bool MipsCm::in_reset(unsigned core) const {
  std::lock_guard<std::mutex> lock(mu_);
  return core < ncores_ && cores_[core].reset_release != 0;
}

bool MipsCm::read_by(unsigned cpu, uint64_t offset, unsigned size, uint64_t& value) {
  if ((size != 4 && size != 8) || (offset & (size - 1)) || offset + size > kWindowSize) return false;
  const uint32_t off = static_cast<uint32_t>(offset);
  std::lock_guard<std::mutex> lock(mu_);
  value = read32(cpu, off);
  if (size == 8) value |= static_cast<uint64_t>(read32(cpu, off + 4)) << 32;
  return true;
}

bool MipsCm::write_by(unsigned cpu, uint64_t offset, unsigned size, uint64_t value) {
  if ((size != 4 && size != 8) || (offset & (size - 1)) || offset + size > kWindowSize) return false;
  const uint32_t off = static_cast<uint32_t>(offset);
  std::vector<Pending> released;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Upper word first, as Linux's split 64-bit writes do (mips-cps.h).
    if (size == 8) write32(cpu, off + 4, static_cast<uint32_t>(value >> 32), released);
    write32(cpu, off, static_cast<uint32_t>(value), released);
  }
  if (on_release_)
    for (const Pending& p : released) on_release_(p.core, p.base);
  return true;
}

uint32_t MipsCm::read32(unsigned cpu, uint32_t off) {
  if (off >= kCoreLocal && off < kCoreLocal + kBlockSize) return read_core(cpu, off - kCoreLocal);
  if (off >= kCoreOther && off < kCoreOther + kBlockSize) {
    if (cpu >= ncores_) return 0;
    const unsigned target = cores_[cpu].other >> kCxOtherCoreNumShift;
    return read_core(target, off - kCoreOther);
  }
  if (off >= kBlockSize) return 0;  // global debug block
  switch (off) {
    case kGcrConfig: return ncores_ - 1;  // PCORES; NUMIOCU = 0
    case kGcrBase: return static_cast<uint32_t>(base_) | base_low_flags_;
    case kGcrBase + 4: return static_cast<uint32_t>(base_ >> 32);
    case kGcrAccess: return access_;
    case kGcrRev: return kRevision;
    case kGcrErrControl: return err_control_;
    case kGcrGicStatus: return has_gic_ ? 1 : 0;  // EX
    case kGcrCpcStatus: return 0;                 // no CPC
    default:
      if (stored_reg(off & ~7u)) return stored_[(off >> 3) - (0x070 >> 3)][(off >> 2) & 1];
      return 0;  // ERROR_*, L2_CONFIG, SYS_CONFIG2, ...: no errors, no L2, reserved
  }
}

void MipsCm::write32(unsigned cpu, uint32_t off, uint32_t v, std::vector<Pending>& released) {
  if (off >= kCoreLocal && off < kCoreLocal + kBlockSize) {
    if (cpu < ncores_) write_core(cpu, off - kCoreLocal, v, released);
    return;
  }
  if (off >= kCoreOther && off < kCoreOther + kBlockSize) {
    if (cpu >= ncores_) return;
    const unsigned target = cores_[cpu].other >> kCxOtherCoreNumShift;
    if (target < ncores_) write_core(target, off - kCoreOther, v, released);
    return;
  }
  if (off >= kBlockSize) return;
  switch (off) {
    // GCRBASE cannot move (the window is fixed in the board's map): only
    // the default target (CMDEFTGT) is kept.
    case kGcrBase: base_low_flags_ = v & kGcrBaseCmDefTgt; return;
    case kGcrAccess: access_ = v & kAccessMask; return;
    case kGcrErrControl: err_control_ = v; return;
    default:
      if (stored_reg(off & ~7u)) stored_[(off >> 3) - (0x070 >> 3)][(off >> 2) & 1] = v;
      return;  // read-only or reserved
  }
}

uint32_t MipsCm::read_core(unsigned core, uint32_t reg) {
  if (core >= ncores_) return 0;
  const Core& c = cores_[core];
  switch (reg) {
    case kCxResetRelease: return c.reset_release;
    case kCxCoherence: return c.coherence;
    case kCxConfig: return 0;  // PVPE = 0: one VP; IOCUTYPE = 0
    case kCxOther: return c.other;
    case kCxResetBase: return c.reset_base;
    case kCxId: return core;   // CORE in bits 7:0, cluster 0
    case kCxResetExtBase: return c.reset_ext_base;
    default: return 0;
  }
}

void MipsCm::write_core(unsigned core, uint32_t reg, uint32_t v, std::vector<Pending>& released) {
  Core& c = cores_[core];
  switch (reg) {
    case kCxResetRelease: {
      const uint32_t nv = v & 1;
      if (c.reset_release && !nv) {
        const uint64_t entry = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(c.reset_base)));
        released.push_back({core, entry});
      }
      c.reset_release = nv;
      return;
    }
    case kCxCoherence: c.coherence = v & kCxCoherenceMask; return;
    case kCxOther: c.other = v & (0xffffu << kCxOtherCoreNumShift); return;
    case kCxResetBase: c.reset_base = v & kCxResetBaseMask; return;
    case kCxResetExtBase: c.reset_ext_base = v; return;
    default: return;  // Cx_CONFIG, Cx_ID are read-only
  }
}

}  // namespace disco
