// CP0 for a Coherent Processing System: Config3.CMGCR and CMGCRBase (how
// Linux's __mips_cm_phys_base and cps-vec.S's cmgcrb find the CM),
// EBase.CPUNum (the processor's number), and Config.K0 (cps_smp_setup's
// change_c0_config(CONF_CM_CMASK, 0x5), checked by cps_prepare_cpus).
#include <gtest/gtest.h>

#include "tests/interp/interp_test_util.h"

namespace disco::test {
namespace {

using namespace enc;
using namespace cp0;

constexpr uint64_t kGcr = 0x1fbf8000;

CpuConfig cps_cpu(unsigned num) {
  CpuConfig cfg;
  cfg.cpu_num = num;
  cfg.cm_gcr_base = kGcr;
  return cfg;
}

// __mips_cm_phys_base: (read_c0_cmgcrbase() & MIPS_CMGCRF_BASE) << 4, with
// MIPS_CMGCRF_BASE = ~((1 << 11) - 1), if Config3.CMGCR.
uint64_t linux_cm_phys_base(Cpu& c) {
  if (!(cp0_read(c, Config3) & Config3_CMGCR)) return 0;
  return (cp0_read(c, CMGCRBase) & ~((1ull << 11) - 1)) << 4;
}

TEST(CpsCp0, WithoutACmNothingChanges) {
  Runner x;
  EXPECT_EQ(cp0_read(x.cpu(), Config3), 1u << 13);  // ULRI only, as before
  EXPECT_EQ(cp0_read(x.cpu(), CMGCRBase), 0u);
  EXPECT_EQ(linux_cm_phys_base(x.cpu()), 0u);
  EXPECT_EQ(cp0_read(x.cpu(), EBase), 0xffffffff80000000ull);
}

TEST(CpsCp0, CmGcrBaseIsFoundThroughConfig3AndCmgcrBase) {
  Runner x(cps_cpu(0));
  EXPECT_TRUE(cp0_read(x.cpu(), Config3) & Config3_CMGCR);
  EXPECT_FALSE(cp0_read(x.cpu(), Config3) & (1u << 31));  // still no Config4
  EXPECT_EQ(cp0_read(x.cpu(), CMGCRBase), kGcr >> 4);
  EXPECT_EQ(linux_cm_phys_base(x.cpu()), kGcr);
  // cps-vec.S's cmgcrb: (D)MFC0 $15, 3, shifted left by 4, plus UNCAC_BASE.
  x.run({DMFC0(T0, 15, 3), MFC0(T1, 15, 3)}, 2);
  EXPECT_EQ(x.r(T0), kGcr >> 4);
  EXPECT_EQ(x.r(T1), kGcr >> 4);
  // Read-only.
  x.r(T2) = 0x12345678;
  x.exec(MTC0(T2, 15, 3));
  EXPECT_EQ(cp0_read(x.cpu(), CMGCRBase), kGcr >> 4);
  // Survives a reset.
  x.cpu().reset();
  EXPECT_TRUE(cp0_read(x.cpu(), Config3) & Config3_CMGCR);
  EXPECT_EQ(cp0_read(x.cpu(), CMGCRBase), kGcr >> 4);
}

TEST(CpsCp0, EbaseCpuNumIsTheProcessorIndexAndReadOnly) {
  Runner x(cps_cpu(3));
  EXPECT_EQ(cp0_read(x.cpu(), EBase) & EBase_CPUNum, 3u);
  x.run({MFC0(T0, 15, 1)}, 1);
  EXPECT_EQ(x.r(T0) & EBase_CPUNum, 3u);
  // trap_init's write_c0_ebase: the base changes, CPUNum does not.
  x.r(T1) = 0xffffffff80001000ull | 0x3ff;
  x.exec(MTC0(T1, 15, 1));
  EXPECT_EQ(cp0_read(x.cpu(), EBase), 0xffffffff80001003ull);
  // Vectors come from the base alone.
  cp0_write(x.cpu(), Status, Status_KX | Status_SX | Status_UX);
  const uint64_t pc = x.exec(SYSCALL);
  x.expect_exception(EXC_Sys, pc, 0xffffffff80001180ull);
  x.cpu().reset();
  EXPECT_EQ(cp0_read(x.cpu(), EBase) & EBase_CPUNum, 3u);
}

TEST(CpsCp0, ConfigK0IsWritableAndReadsBack) {
  Runner x(cps_cpu(1));
  const uint64_t before = cp0_read(x.cpu(), Config);
  EXPECT_EQ(before & Config_K0, 3u);  // reset: cacheable non-coherent
  // change_c0_config(CONF_CM_CMASK, 0x5): read, replace K0, write.
  x.run({MFC0(T0, 16), ORI(T0, T0, 7), ORI(T1, ZERO, 2), r(0x26, T0, T1, T0), MTC0(T0, 16), MFC0(T2, 16)}, 6);
  EXPECT_EQ(x.r(T2) & Config_K0, 5u);
  EXPECT_EQ(x.r(T2) & ~uint64_t{Config_K0}, before & ~uint64_t{Config_K0});  // nothing else moved
  // The other fields are read-only.
  cp0_write(x.cpu(), Config, 0);
  EXPECT_EQ(cp0_read(x.cpu(), Config), before & ~uint64_t{Config_K0});
}

}  // namespace
}  // namespace disco::test
