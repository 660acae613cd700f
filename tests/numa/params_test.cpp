// NumaParams' names: the spellings of the machine file and the options.
#include <gtest/gtest.h>

#include <initializer_list>

#include "numa-model/host_numa.h"
#include "numa-model/numa_params.h"

namespace disco {
namespace {

TEST(NumaParams, PolicyNamesRoundTrip) {
  for (NumaPolicyKind p : {NumaPolicyKind::Off, NumaPolicyKind::Migrate, NumaPolicyKind::Replicate,
                           NumaPolicyKind::Both}) {
    NumaPolicyKind back = NumaPolicyKind::Off;
    ASSERT_TRUE(parse_policy(policy_name(p), back)) << policy_name(p);
    EXPECT_EQ(back, p);
  }
  EXPECT_STREQ(policy_name(NumaPolicyKind::Off), "off");
  EXPECT_STREQ(policy_name(NumaPolicyKind::Migrate), "migrate");
  EXPECT_STREQ(policy_name(NumaPolicyKind::Replicate), "replicate");
  EXPECT_STREQ(policy_name(NumaPolicyKind::Both), "both");
}

TEST(NumaParams, PolicyRejectsOtherWordsAndLeavesOutAlone) {
  NumaPolicyKind out = NumaPolicyKind::Replicate;
  for (const char* bad : std::initializer_list<const char*>{"", "Both", "migration", "on", "both ", nullptr}) {
    EXPECT_FALSE(parse_policy(bad, out)) << (bad ? bad : "(null)");
    EXPECT_EQ(out, NumaPolicyKind::Replicate);
  }
}

TEST(NumaParams, PlacementNamesRoundTrip) {
  Placement out = Placement::Home;
  ASSERT_TRUE(parse_placement("interleave", out));
  EXPECT_EQ(out, Placement::Interleave);
  ASSERT_TRUE(parse_placement("home", out));
  EXPECT_EQ(out, Placement::Home);
  EXPECT_STREQ(placement_name(Placement::Home), "home");
  EXPECT_STREQ(placement_name(Placement::Interleave), "interleave");
  EXPECT_FALSE(parse_placement("spread", out));
  EXPECT_FALSE(parse_placement(nullptr, out));
  EXPECT_EQ(out, Placement::Home);
}

}  // namespace
}  // namespace disco

namespace disco {
namespace {

// The host's node list (sysfs) read for binding pools to host nodes.
TEST(HostNuma, CountsNodeLists) {
  EXPECT_EQ(count_node_list("0"), 1u);
  EXPECT_EQ(count_node_list("0-1"), 2u);
  EXPECT_EQ(count_node_list("0,2-3"), 3u);
  EXPECT_EQ(count_node_list("0-3,8"), 5u);
  EXPECT_EQ(count_node_list("x"), 0u);
  EXPECT_EQ(count_node_list("3-1"), 0u);
  EXPECT_GE(host_memory_nodes(), 1u);
}

}  // namespace
}  // namespace disco
