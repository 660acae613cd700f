// The modelled-time formula (docs/numa.md, "Modelled time").
#include <gtest/gtest.h>

#include "numa-model/modelled_time.h"

namespace disco {
namespace {

TEST(ModelledTime, SumsInstructionsStallsAndPolicy) {
  NumaParams p;  // 5 ns per instruction, 300 / 900 ns per miss
  const ModelledTime t = modelled_time(p, 2'000'000, 1'000'000, 400'000, 10'000, 1'000, 670);
  EXPECT_DOUBLE_EQ(t.user_s, 0.010);
  EXPECT_DOUBLE_EQ(t.kernel_s, 0.005);
  EXPECT_DOUBLE_EQ(t.idle_s, 0.002);
  EXPECT_DOUBLE_EQ(t.local_stall_s, 0.003);
  EXPECT_DOUBLE_EQ(t.remote_stall_s, 0.0009);
  EXPECT_DOUBLE_EQ(t.policy_s, 0.00067);
  EXPECT_DOUBLE_EQ(t.total(), 0.010 + 0.005 + 0.002 + 0.003 + 0.0009 + 0.00067);
}

TEST(ModelledTime, FollowsTheParameters) {
  NumaParams p;
  p.insn_ns = 2.5;
  p.local_latency_ns = 100;
  p.remote_latency_ns = 1000;
  const ModelledTime t = modelled_time(p, 4, 0, 0, 3, 2, 0);
  EXPECT_DOUBLE_EQ(t.user_s, 10e-9);
  EXPECT_DOUBLE_EQ(t.local_stall_s, 300e-9);
  EXPECT_DOUBLE_EQ(t.remote_stall_s, 2000e-9);
  EXPECT_DOUBLE_EQ(modelled_time(p, 0, 0, 0, 0, 0, 0).total(), 0);
}

}  // namespace
}  // namespace disco
