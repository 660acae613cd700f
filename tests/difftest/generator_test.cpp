// Unit test of the difftest generator (no QEMU needed).
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <vector>

#include "frontend/decoder.h"
#include "tests/difftest/generator.h"
#include "tests/difftest/our_side.h"

namespace disco::difftest {
namespace {

constexpr uint64_t kRecords = 100000;

TEST(DifftestGenerator, SameSeedSameRecords) {
  const GenOptions opt;
  for (uint64_t i = 0; i < 200; ++i) {
    dseq_record a, b;
    make_record(42, i, opt, a);
    make_record(42, i, opt, b);
    EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0) << "index " << i;
  }
  dseq_record a, b;
  make_record(42, 7, opt, a);
  make_record(43, 7, opt, b);
  EXPECT_NE(std::memcmp(&a, &b, sizeof a), 0);
  make_record(42, 8, opt, b);
  EXPECT_NE(std::memcmp(&a, &b, sizeof a), 0);
}

// Structural rules, checked on every record of a 100k run; and the coverage of
// the table.
TEST(DifftestGenerator, RulesAndCoverage) {
  const GenOptions opt;
  std::vector<uint64_t> seen(kOpCount, 0);
  dseq_record rec;
  for (uint64_t idx = 0; idx < kRecords; ++idx) {
    make_record(1, idx, opt, rec);
    const unsigned n = rec.n_insns;
    ASSERT_GE(n, 1u);
    ASSERT_LE(n, kMaxGenInsns);
    ASSERT_EQ(rec.flags, 0u);
    ASSERT_EQ(rec.state.gpr[kBaseReg], DSEQ_DATA_ADDR + kBaseOffset);
    ASSERT_EQ(rec.state.fcsr, 0u);
    for (unsigned i = n; i < DSEQ_MAX_INSNS; ++i) ASSERT_EQ(rec.insns[i], 0u);
    for (unsigned i = 0; i < n; ++i) {
      const uint32_t w = rec.insns[i];
      const Op op = decode(w);
      const InsnInfo& in = info(op);
      ++seen[static_cast<size_t>(op)];
      const Exclusion* ex = excluded_by(w);
      ASSERT_EQ(ex, nullptr) << "index " << idx << " insn " << i << " excluded: " << ex->what;
      ASSERT_FALSE(in.flags & F_FPU) << "FPU instruction without --fpu";
      if (is_control(w)) {
        ASSERT_LT(i + 1, n) << "control instruction last, index " << idx;
        ASSERT_FALSE(is_control(rec.insns[i + 1])) << "control instruction in a delay slot, index " << idx;
        const int t = static_target(w, i);
        if (t >= 0) {
          ASSERT_GE(t, static_cast<int>(i) + 2) << "index " << idx;
          ASSERT_LE(t, static_cast<int>(n)) << "index " << idx;
        } else {
          // Register jumps go through s6, set by the LUI/ORI pair right before.
          ASSERT_EQ(field::rs(w), kJumpReg);
          ASSERT_GE(i, 2u);
          const uint64_t target = (static_cast<uint64_t>(field::uimm(rec.insns[i - 2])) << 16) |
                                  field::uimm(rec.insns[i - 1]);
          ASSERT_EQ(decode(rec.insns[i - 2]), Op::LUI);
          ASSERT_EQ(decode(rec.insns[i - 1]), Op::ORI);
          ASSERT_GE(target, DSEQ_CODE_ADDR + 4ull * (i + 2));
          ASSERT_LE(target, DSEQ_CODE_ADDR + 4ull * n);
        }
      }
      // Memory accesses through s7 stay inside the data window.
      if (uses_mem_operand(op) && !(in.flags & (F_PRIV | F_COP2)) && field::rs(w) == kBaseReg) {
        const int64_t a = static_cast<int64_t>(kBaseOffset) + field::simm(w);
        const unsigned size = std::max(1u, access_size(in.flags));
        ASSERT_GE(a, 0) << "index " << idx;
        if (in.flags & F_UNALIGNED) {
          ASSERT_LT(a, static_cast<int64_t>(DSEQ_DATA_SIZE));  // the aligned word is inside
        } else {
          ASSERT_LE(a + size, static_cast<int64_t>(DSEQ_DATA_SIZE)) << "index " << idx;
        }
      }
      // Stores never go through another base (exclusion list), except priv/COP2 (SIGILL).
      if ((in.flags & F_STORE) && !(in.flags & (F_PRIV | F_COP2))) {
        ASSERT_EQ(field::rs(w), kBaseReg);
      }
    }
  }
  // Every non-excluded, unprivileged, non-FPU instruction of the table appears.
  for (size_t k = 0; k < kOpCount; ++k) {
    const Op op = static_cast<Op>(k);
    const InsnInfo& in = info(op);
    if (!op_generated(op, opt)) {
      EXPECT_EQ(seen[k], 0u) << in.name << " is excluded but was generated";
      continue;
    }
    if (in.flags & (F_PRIV | F_COP2 | F_FPU)) continue;
    EXPECT_GT(seen[k], 0u) << in.name << " never generated in " << kRecords << " records";
  }
  // Privileged/COP2 instructions appear too (a small fraction: SIGILL mapping).
  uint64_t priv = 0;
  for (size_t k = 0; k < kOpCount; ++k)
    if (info(static_cast<Op>(k)).flags & (F_PRIV | F_COP2)) priv += seen[k];
  EXPECT_GT(priv, 0u);
}

TEST(DifftestGenerator, ExclusionListIsHonouredAndExplained) {
  for (const Exclusion& e : exclusions()) {
    EXPECT_FALSE(e.what.empty());
    EXPECT_FALSE(e.reason.empty());
  }
  EXPECT_TRUE(op_excluded(Op::SYSCALL));
  EXPECT_TRUE(op_excluded(Op::SDBBP));
  EXPECT_TRUE(op_excluded(Op::RESERVED));
  EXPECT_NE(excluded_by(0x0000000c), nullptr);                            // syscall
  EXPECT_NE(excluded_by(0x7c02103b), nullptr);                            // rdhwr v0, $2
  EXPECT_NE(excluded_by(0x7c02e83b), nullptr);                            // rdhwr v0, $29
  EXPECT_EQ(excluded_by(0x7c02183b), nullptr);                            // rdhwr v0, $3
  EXPECT_NE(excluded_by((5u << 26) | (4u << 21) | (4u << 16) | 1), nullptr);  // bne a0, a0
  EXPECT_EQ(excluded_by((5u << 26) | (4u << 21) | (5u << 16) | 1), nullptr);  // bne a0, a1
}

TEST(DifftestGenerator, FpuOptionAddsFpuInstructions) {
  GenOptions opt;
  opt.fpu = true;
  uint64_t fpu = 0;
  dseq_record rec;
  for (uint64_t idx = 0; idx < 2000; ++idx) {
    make_record(5, idx, opt, rec);
    EXPECT_EQ(rec.state.fcsr & 0x7f000u, 0u);  // cause and bits 18..22... (cause part)
    EXPECT_EQ(rec.state.fcsr & 0x7c0000u, 0u);
    for (unsigned i = 0; i < rec.n_insns; ++i)
      if (info(decode(rec.insns[i])).flags & F_FPU) ++fpu;
  }
  EXPECT_GT(fpu, 1000u);
}

// Our side alone: a record that only reaches the end BREAK stops with END.
TEST(DifftestOurSide, EndBreakAndFaults) {
  OurSide ours(false);
  dseq_record rec;
  std::memset(&rec, 0, sizeof rec);
  rec.n_insns = 2;
  rec.insns[0] = 0x24420001;  // addiu v0, v0, 1
  rec.insns[1] = 0x8ee30000;  // lw v1, 0(s7)
  rec.state.gpr[2] = 41;
  rec.state.gpr[kBaseReg] = DSEQ_DATA_ADDR + kBaseOffset;
  rec.data[128] = 0x78;
  dseq_result r;
  ours.run(rec, r);
  EXPECT_EQ(r.stop, static_cast<uint32_t>(DSEQ_STOP_END));
  EXPECT_EQ(r.signo, static_cast<uint32_t>(kSIGTRAP));
  EXPECT_EQ(r.pc, DSEQ_CODE_ADDR + 8);
  EXPECT_EQ(r.state.gpr[2], 42u);
  EXPECT_EQ(r.state.gpr[3], 0x78u);
  // Misaligned load: SIGBUS at the load, with the address.
  rec.insns[1] = 0x8ee30001;  // lw v1, 1(s7)
  ours.run(rec, r);
  EXPECT_EQ(r.stop, static_cast<uint32_t>(DSEQ_STOP_SIGNAL));
  EXPECT_EQ(r.signo, static_cast<uint32_t>(kSIGBUS));
  EXPECT_EQ(r.pc, DSEQ_CODE_ADDR + 4);
  EXPECT_EQ(r.badvaddr, DSEQ_DATA_ADDR + kBaseOffset + 1);
  // Load past the data page: SIGSEGV.
  rec.insns[1] = 0x8ee31000;  // lw v1, 4096(s7)
  ours.run(rec, r);
  EXPECT_EQ(r.signo, static_cast<uint32_t>(kSIGSEGV));
  EXPECT_EQ(r.badvaddr, DSEQ_DATA_ADDR + kBaseOffset + 4096);
}

}  // namespace
}  // namespace disco::difftest
