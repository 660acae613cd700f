// The CM2 GCR model driven the way Linux 6.1 drives it: mips_cm_probe()
// (arch/mips/kernel/mips-cm.c), cps_smp_setup()/boot_core()
// (arch/mips/kernel/smp-cps.c) and the secondary's entry code
// (cps-vec.S: GCR_CL_COHERENCE, GCR_CL_ID), with the register accessors
// of mips-cm.h / mips-cps.h on a 64-bit kernel with a CM2 (mips_cm_is64
// = 0: 32-bit accesses, a 64-bit register's upper word at +4).
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "devices/mips_cm.h"

namespace disco {
namespace {

constexpr uint64_t kBase = 0x1fbf8000;
constexpr uint32_t kLocal = MipsCm::kCoreLocal;
constexpr uint32_t kOther = MipsCm::kCoreOther;

struct Cm {
  explicit Cm(unsigned ncores = 4)
      : cm({ncores, kBase, true}, [this](unsigned core, uint64_t base) { released.emplace_back(core, base); }) {}
  uint32_t r32(unsigned cpu, uint32_t off) {
    uint64_t v = 0xdeadbeefdeadbeefull;
    EXPECT_TRUE(cm.read_by(cpu, off, 4, v)) << std::hex << off;
    return static_cast<uint32_t>(v);
  }
  void w32(unsigned cpu, uint32_t off, uint32_t v) { EXPECT_TRUE(cm.write_by(cpu, off, 4, v)) << std::hex << off; }
  // read64_gcr_* / write64 of a CM2 kernel: two 32-bit accesses.
  uint64_t r64_split(unsigned cpu, uint32_t off) {
    const uint64_t hi = r32(cpu, off + 4);
    return (hi << 32) | r32(cpu, off);
  }
  void w64_split(unsigned cpu, uint32_t off, uint64_t v) {
    w32(cpu, off + 4, static_cast<uint32_t>(v >> 32));
    w32(cpu, off, static_cast<uint32_t>(v));
  }

  MipsCm cm;
  std::vector<std::pair<unsigned, uint64_t>> released;
};

// mips_cm_probe: GCR_BASE must read back the address CMGCRBase gave, the
// default-target RMW keeps it, the REGn writes and the L2-only sync base
// are stored; REV says CM2; CONFIG gives the core count.
TEST(MipsCm, ProbeSequence) {
  Cm x(4);
  const uint64_t gcrbase_mask = 0x0000ffffffff8000ull;  // CM_GCR_BASE_GCRBASE, GENMASK_ULL(47, 15)
  uint64_t base = x.r64_split(0, MipsCm::kGcrBase);
  EXPECT_EQ(base & gcrbase_mask, kBase);
  // change_gcr_base(CM_GCR_BASE_CMDEFTGT, CM_GCR_BASE_CMDEFTGT_MEM = 0), after a
  // target was set: the base survives, the target bits are stored.
  x.w64_split(0, MipsCm::kGcrBase, base | 2);
  EXPECT_EQ(x.r64_split(0, MipsCm::kGcrBase), kBase | 2);
  x.w64_split(0, MipsCm::kGcrBase, (x.r64_split(0, MipsCm::kGcrBase) & ~3ull) | 0);
  EXPECT_EQ(x.r64_split(0, MipsCm::kGcrBase), kBase);
  // The window does not move if software writes another base.
  x.w64_split(0, MipsCm::kGcrBase, 0x1f000000);
  EXPECT_EQ(x.r64_split(0, MipsCm::kGcrBase) & gcrbase_mask, kBase);

  EXPECT_EQ(x.r32(0, MipsCm::kGcrRev), 0x0600u);
  const uint64_t config = x.r64_split(0, MipsCm::kGcrConfig);
  EXPECT_EQ((config & 0xff) + 1, 4u);         // mips_cm_numcores()
  EXPECT_EQ((config >> 8) & 0xf, 0u);         // no IOCU
  EXPECT_EQ((config >> 23) & 0x7f, 0u);       // NUM_CLUSTERS unused before CM3.5

  // "disable CM regions": REGn_BASE = BASEADDR mask, REGn_MASK = ADDRMASK mask.
  for (unsigned n = 0; n < 4; ++n) {
    x.w64_split(0, 0x090 + 16 * n, 0xffff0000u);
    x.w64_split(0, 0x098 + 16 * n, 0xffff0000u);
  }
  for (unsigned n = 0; n < 4; ++n) {
    EXPECT_EQ(x.r64_split(0, 0x090 + 16 * n), 0xffff0000u);
    EXPECT_EQ(x.r64_split(0, 0x098 + 16 * n), 0xffff0000u);
  }

  // mips_cm_probe_l2sync: SYNCEN clear at reset, so the kernel places the
  // region after the GCRs and enables it; the register reads that back.
  EXPECT_EQ(x.r64_split(0, MipsCm::kGcrL2OnlySyncBase) & 1, 0u);
  x.w64_split(0, MipsCm::kGcrL2OnlySyncBase, (kBase + MipsCm::kWindowSize) | 1);
  EXPECT_EQ(x.r64_split(0, MipsCm::kGcrL2OnlySyncBase), (kBase + MipsCm::kWindowSize) | 1);

  // register_cps_smp_ops needs a GIC; mips_cpc_probe finds no CPC.
  EXPECT_EQ(x.r32(0, MipsCm::kGcrGicStatus) & 1, 1u);
  EXPECT_EQ(x.r32(0, MipsCm::kGcrCpcStatus) & 1, 0u);
  // gic_of_init: write_gcr_gic_base(base | GICEN), stored as two words.
  x.w64_split(0, MipsCm::kGcrGicBase, 0x1fbc0001);
  EXPECT_EQ(x.r64_split(0, MipsCm::kGcrGicBase), 0x1fbc0001u);
  // mips_cm_error_report finds no error.
  EXPECT_EQ(x.r64_split(0, MipsCm::kGcrErrCause), 0u);
  EXPECT_TRUE(x.released.empty());
}

TEST(MipsCm, GicStatusFollowsConfiguration) {
  MipsCm cm({2, kBase, false}, nullptr);
  uint64_t v = 1;
  ASSERT_TRUE(cm.read(MipsCm::kGcrGicStatus, 4, v));
  EXPECT_EQ(v, 0u);
}

// cps_smp_setup, cps_prepare_cpus and boot_core() for core 2, without a
// CPC: select the core through GCR_CL_OTHER, set its reset vector (the
// KSEG1 alias of mips_cps_core_entry, truncated to 32 bits by the 32-bit
// accessor), disable its coherence, grant it GCR access, release it.
TEST(MipsCm, BootCoreReleasesTheSelectedCoreAtItsResetBase) {
  Cm x(4);
  // Core 0 enters the coherent domain.
  x.w32(0, kLocal + MipsCm::kCxCoherence, 0xff);
  EXPECT_EQ(x.r32(0, kLocal + MipsCm::kCxCoherence), 0xffu);
  // core_vpe_count / mips_cps_numvps: Cx_CONFIG.PVPE + 1 = 1 VP per core.
  for (unsigned c = 0; c < 4; ++c) {
    x.w32(0, kLocal + MipsCm::kCxOther, c << 16);
    EXPECT_EQ(x.r32(0, kOther + MipsCm::kCxConfig) & 0x3ff, 0u);
  }
  EXPECT_TRUE(x.cm.in_reset(1));
  EXPECT_TRUE(x.cm.in_reset(2));
  EXPECT_FALSE(x.cm.in_reset(0));

  const uint64_t entry = 0xffffffff80a3c000ull;             // mips_cps_core_entry (4 KiB aligned)
  const uint64_t ckseg1 = (entry & 0x1fffffffull) | 0xffffffffa0000000ull;
  x.w32(0, kLocal + MipsCm::kCxOther, 2u << 16);            // mips_cm_lock_other(0, 2, 0, LOCAL)
  x.w32(0, kOther + MipsCm::kCxResetBase, static_cast<uint32_t>(ckseg1));
  x.w32(0, kOther + MipsCm::kCxCoherence, 0);
  x.w32(0, kOther + MipsCm::kCxResetExtBase, 1u << 30);     // CM_GCR_Cx_RESET_EXT_BASE_UEB
  x.w32(0, MipsCm::kGcrAccess, x.r32(0, MipsCm::kGcrAccess) | (1u << 2));  // set_gcr_access
  EXPECT_TRUE(x.released.empty());
  x.w32(0, kOther + MipsCm::kCxResetRelease, 0);

  ASSERT_EQ(x.released.size(), 1u);
  EXPECT_EQ(x.released[0].first, 2u);
  EXPECT_EQ(x.released[0].second, ckseg1);  // sign-extended KSEG1 address
  EXPECT_FALSE(x.cm.in_reset(2));
  EXPECT_TRUE(x.cm.in_reset(1));
  EXPECT_TRUE(x.cm.in_reset(3));
  EXPECT_EQ(x.r32(0, MipsCm::kGcrAccess) & 0x05, 0x05u);
  // The registers belong to core 2: core 2 sees them in its core-local block.
  EXPECT_EQ(x.r32(2, kLocal + MipsCm::kCxResetBase), static_cast<uint32_t>(ckseg1));
  EXPECT_EQ(x.r32(2, kLocal + MipsCm::kCxResetExtBase), 1u << 30);
  EXPECT_EQ(x.r32(1, kLocal + MipsCm::kCxResetBase), 0xbfc00000u);  // untouched core: reset value

  // A second write of 0 to a running core changes nothing.
  x.w32(0, kOther + MipsCm::kCxResetRelease, 0);
  EXPECT_EQ(x.released.size(), 1u);
}

// The secondary's entry code (cps-vec.S): "skip cache & coherence setup if
// we're already coherent" reads GCR_CL_COHERENCE, then the core enters the
// coherent domain, and mips_cps_get_bootcfg reads GCR_CL_ID. Both are the
// accessing core's own registers.
TEST(MipsCm, CoreLocalBlockBelongsToTheAccessingCore) {
  Cm x(4);
  x.w32(0, kLocal + MipsCm::kCxCoherence, 0xff);
  EXPECT_EQ(x.r32(3, kLocal + MipsCm::kCxCoherence), 0u);
  x.w32(3, kLocal + MipsCm::kCxCoherence, 0xff);
  EXPECT_EQ(x.r32(3, kLocal + MipsCm::kCxCoherence), 0xffu);
  EXPECT_EQ(x.r32(1, kLocal + MipsCm::kCxCoherence), 0u);
  for (unsigned c = 0; c < 4; ++c) EXPECT_EQ(x.r32(c, kLocal + MipsCm::kCxId), c);
  // Each core has its own GCR_CL_OTHER: two cores select different targets.
  x.w32(0, kLocal + MipsCm::kCxOther, 2u << 16);
  x.w32(1, kLocal + MipsCm::kCxOther, 3u << 16);
  EXPECT_EQ(x.r32(0, kOther + MipsCm::kCxId), 2u);
  EXPECT_EQ(x.r32(1, kOther + MipsCm::kCxId), 3u);
  EXPECT_EQ(x.r32(0, kLocal + MipsCm::kCxOther), 2u << 16);
  // Cx_CONFIG and Cx_ID are read-only.
  x.w32(1, kLocal + MipsCm::kCxId, 7);
  x.w32(1, kLocal + MipsCm::kCxConfig, 7);
  EXPECT_EQ(x.r32(1, kLocal + MipsCm::kCxId), 1u);
  EXPECT_EQ(x.r32(1, kLocal + MipsCm::kCxConfig), 0u);
  // The untagged MmioDevice entry points are processor 0's.
  uint64_t v = 9;
  ASSERT_TRUE(x.cm.read(kLocal + MipsCm::kCxId, 4, v));
  EXPECT_EQ(v, 0u);
}

TEST(MipsCm, SixtyFourBitAccessesCoverBothWords) {
  Cm x(2);
  uint64_t v = 0;
  ASSERT_TRUE(x.cm.read_by(0, MipsCm::kGcrBase, 8, v));
  EXPECT_EQ(v, kBase);
  ASSERT_TRUE(x.cm.write_by(0, MipsCm::kGcrGicBase, 8, 0x0000000a1fbc0001ull));
  EXPECT_EQ(x.r32(0, MipsCm::kGcrGicBase), 0x1fbc0001u);
  EXPECT_EQ(x.r32(0, MipsCm::kGcrGicBase + 4), 0xau);
  ASSERT_TRUE(x.cm.read_by(0, MipsCm::kGcrGicBase, 8, v));
  EXPECT_EQ(v, 0x0000000a1fbc0001ull);
  // A 64-bit write of RESET_RELEASE (upper word reserved) still releases.
  x.w32(0, kLocal + MipsCm::kCxOther, 1u << 16);
  ASSERT_TRUE(x.cm.write_by(0, kOther + MipsCm::kCxResetRelease, 8, 0));
  ASSERT_EQ(x.released.size(), 1u);
  EXPECT_EQ(x.released[0].first, 1u);
  EXPECT_EQ(x.released[0].second, 0xffffffffbfc00000ull);  // the reset value of RESET_BASE
}

TEST(MipsCm, BadAccessesAreRefusedOrIgnoredNeverFatal) {
  Cm x(2);
  uint64_t v = 0;
  EXPECT_FALSE(x.cm.read_by(0, MipsCm::kGcrRev, 1, v));
  EXPECT_FALSE(x.cm.read_by(0, MipsCm::kGcrRev, 2, v));
  EXPECT_FALSE(x.cm.read_by(0, MipsCm::kGcrRev + 2, 4, v));   // misaligned
  EXPECT_FALSE(x.cm.read_by(0, MipsCm::kGcrRev + 4, 8, v));   // misaligned 64-bit
  EXPECT_FALSE(x.cm.read_by(0, MipsCm::kWindowSize, 4, v));
  EXPECT_FALSE(x.cm.write_by(0, MipsCm::kWindowSize - 4, 8, 0));
  EXPECT_FALSE(x.cm.write_by(0, 0x2001, 1, 0));
  // Reserved registers: read 0, writes ignored.
  x.w32(0, 0x1000, 0x1234);
  EXPECT_EQ(x.r32(0, 0x1000), 0u);
  x.w32(0, 0x078, 0x1234);
  EXPECT_EQ(x.r32(0, 0x078), 0u);
  x.w32(0, MipsCm::kGlobalDebug, 0x1234);
  EXPECT_EQ(x.r32(0, MipsCm::kGlobalDebug), 0u);
  // Read-only registers keep their values.
  x.w32(0, MipsCm::kGcrRev, 0);
  x.w32(0, MipsCm::kGcrConfig, 0);
  x.w32(0, MipsCm::kGcrGicStatus, 0);
  EXPECT_EQ(x.r32(0, MipsCm::kGcrRev), 0x0600u);
  EXPECT_EQ(x.r32(0, MipsCm::kGcrConfig), 1u);
  EXPECT_EQ(x.r32(0, MipsCm::kGcrGicStatus), 1u);
  // A core-other selection beyond the last core: reads 0, writes go nowhere.
  x.w32(0, kLocal + MipsCm::kCxOther, 9u << 16);
  EXPECT_EQ(x.r32(0, kOther + MipsCm::kCxId), 0u);
  x.w32(0, kOther + MipsCm::kCxResetRelease, 0);
  EXPECT_TRUE(x.released.empty());
  // A requester that is not a core of this CM sees an empty core block.
  EXPECT_EQ(x.r32(5, kLocal + MipsCm::kCxId), 0u);
  x.w32(5, kLocal + MipsCm::kCxResetRelease, 0);
  EXPECT_TRUE(x.released.empty());
}

// Holding a running core in reset (1) and releasing it again (0) is a new
// release: the owner restarts the vCPU at the current RESET_BASE.
TEST(MipsCm, HoldThenReleaseIsReportedAgain) {
  Cm x(2);
  x.w32(0, kLocal + MipsCm::kCxOther, 1u << 16);
  x.w32(0, kOther + MipsCm::kCxResetBase, 0xa0001000);
  x.w32(0, kOther + MipsCm::kCxResetRelease, 0);
  x.w32(0, kOther + MipsCm::kCxResetRelease, 1);
  EXPECT_TRUE(x.cm.in_reset(1));
  x.w32(0, kOther + MipsCm::kCxResetBase, 0xa0002fff);  // low 12 bits do not exist
  x.w32(0, kOther + MipsCm::kCxResetRelease, 0);
  ASSERT_EQ(x.released.size(), 2u);
  EXPECT_EQ(x.released[1].second, 0xffffffffa0002000ull);
}

// The release callback runs after the device's lock is dropped, so the
// owner may read the GCRs from it (a deadlock would hang this test).
TEST(MipsCm, ReleaseCallbackMayReenterTheDevice) {
  uint64_t seen = ~0ull;
  MipsCm* self = nullptr;
  MipsCm cm({2, kBase, true}, [&](unsigned core, uint64_t) {
    uint64_t v = 0;
    self->read_by(core, kLocal + MipsCm::kCxId, 4, v);
    seen = v;
  });
  self = &cm;
  ASSERT_TRUE(cm.write_by(0, kLocal + MipsCm::kCxOther, 4, 1u << 16));
  ASSERT_TRUE(cm.write_by(0, kOther + MipsCm::kCxResetRelease, 4, 0));
  EXPECT_EQ(seen, 1u);
}

}  // namespace
}  // namespace disco
