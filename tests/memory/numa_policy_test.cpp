// The NUMA policy (monitor/numa_policy.h) on hand-made miss counts: which
// hot pages it migrates, replicates or leaves, its replication budget, its
// back-off, and the modelled cost it charges to the VMs.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <utility>
#include <vector>

#include "monitor/numa_policy.h"
#include "tests/memory/helpers.h"

namespace disco::test {
namespace {

constexpr uint64_t P = kPageSize;

// Miss counts and write marks as a test sets them; records the pages the
// policy asks to forget.
struct FakeCounts {
  std::map<std::pair<MPage, unsigned>, uint32_t> misses;
  std::set<MPage> writes;
  std::vector<MPage> cleared;
  void set(MPage p, std::vector<uint32_t> per_node) {
    for (unsigned n = 0; n < per_node.size(); ++n) misses[{p, n}] = per_node[n];
  }
  PageCounts view() {
    return {[this](MPage p, unsigned n) {
              auto it = misses.find({p, n});
              return it == misses.end() ? 0u : it->second;
            },
            [this](MPage p) { return writes.count(p) != 0; }, [this](MPage p) { cleared.push_back(p); }};
  }
};

NumaParams params(NumaPolicyKind kind = NumaPolicyKind::Both) {
  NumaParams p;
  p.policy = kind;
  p.sharing_ratio = 0.25;
  p.max_moves = 4;
  return p;
}

// Four nodes of 32 pages; VMs found by id.
class Policy : public ::testing::Test {
 protected:
  MachineMemory mm{{32 * P, 32 * P, 32 * P, 32 * P}};
  std::vector<GuestMemory*> vms;
  GuestMemory::VmLookup lookup = [this](uint32_t id) { return id < vms.size() ? vms[id] : nullptr; };
  FakeCounts counts;
  GuestMemory a = small_pmap(mm, 0, 0), b = small_pmap(mm, 1, 0);
  void SetUp() override { vms = {&a, &b}; }
  // A private page of A, written, on node 0.
  MPage page_of_a(uint64_t gpn, uint32_t seed = 1) {
    fill(a, gpn, pattern(seed));
    return a.at(gpn);
  }
};

TEST_F(Policy, APageUsedByOneRemoteNodeMigratesThere) {
  NumaPolicy pol(params(), mm, lookup);
  const MPage m = page_of_a(3);
  counts.set(m, {2, 0, 90, 0});
  pol.run_batch({{m, 2}}, counts.view());
  const MPage now = a.at(3);
  EXPECT_NE(now, m);
  EXPECT_EQ(mm.node_of(now), 2u);
  EXPECT_TRUE(holds(a, 3, pattern(1)));
  const auto s = pol.stats();
  EXPECT_EQ(s.migrations, 1u);
  EXPECT_EQ(s.replications, 0u);
  EXPECT_EQ(s.hot_pages, 1u);
  EXPECT_EQ(a.stats().migrations, 1u);
  // The counts of both the old and the new page go.
  EXPECT_NE(std::find(counts.cleared.begin(), counts.cleared.end(), m), counts.cleared.end());
  EXPECT_NE(std::find(counts.cleared.begin(), counts.cleared.end(), now), counts.cleared.end());
  const NumaParams p = params();
  EXPECT_DOUBLE_EQ(pol.cost_us(0), p.hot_page_us + p.migrate_us);
  EXPECT_DOUBLE_EQ(pol.cost_us(1), 0);
  EXPECT_DOUBLE_EQ(s.cost_us, p.hot_page_us + p.migrate_us);
}

TEST_F(Policy, APageUsedByItsOwnNodeStays) {
  NumaPolicy pol(params(), mm, lookup);
  const MPage m = page_of_a(3);
  counts.set(m, {80, 5, 0, 0});
  pol.run_batch({{m, 0}}, counts.view());
  EXPECT_EQ(a.at(3), m);
  EXPECT_EQ(pol.stats().migrations + pol.stats().replications, 0u);
  EXPECT_EQ(pol.stats().hot_pages, 1u);
}

// Read by nodes 0, 1 and 2 (node 3's few misses are below the sharing
// ratio): a replica on 1 and on 2, none on 3 or on the master's node 0.
TEST_F(Policy, AReadSharedPageIsReplicatedOntoItsReaders) {
  NumaPolicy pol(params(), mm, lookup);
  const MPage m = page_of_a(5);
  counts.set(m, {30, 100, 60, 10});
  pol.run_batch({{m, 1}}, counts.view());
  EXPECT_EQ(a.at(5), m) << "not migrated";
  EXPECT_NE(mm.replica_on(m, 1), kNoPage);
  EXPECT_NE(mm.replica_on(m, 2), kNoPage);
  EXPECT_EQ(mm.replica_on(m, 3), kNoPage);
  const auto s = pol.stats();
  EXPECT_EQ(s.replications, 2u);
  EXPECT_EQ(s.replica_pages, 2u);
  EXPECT_EQ(a.stats().replications, 2u);
  EXPECT_EQ(a.page(a.paddr_of(5), false, 2), mm.host(mm.replica_on(m, 2)));
  const NumaParams p = params();
  EXPECT_DOUBLE_EQ(pol.cost_us(0), p.hot_page_us + 2 * p.replicate_us);
  // Hot again later (node 3 now reads it a lot): only node 3 lacks a copy.
  counts.set(m, {0, 0, 40, 50});
  pol.run_batch({{m, 3}}, counts.view());
  EXPECT_NE(mm.replica_on(m, 3), kNoPage);
  EXPECT_EQ(pol.stats().replications, 3u);
}

TEST_F(Policy, AWriteSharedPageIsLeftAlone) {
  NumaPolicy pol(params(), mm, lookup);
  const MPage m = page_of_a(5);
  counts.set(m, {50, 100, 0, 0});
  counts.writes.insert(m);
  pol.run_batch({{m, 1}}, counts.view());
  EXPECT_EQ(a.at(5), m);
  EXPECT_FALSE(mm.replicated(m));
  EXPECT_EQ(pol.stats().write_shared, 1u);
  EXPECT_EQ(pol.stats().migrations + pol.stats().replications, 0u);
}

// A page two VMs share copy-on-write gets one replica per node, and the
// cost is split between the VMs.
TEST_F(Policy, ASharedCopyOnWritePageReplicatesOncePerNode) {
  NumaPolicy pol(params(), mm, lookup);
  const MPage m = page_of_a(2);
  mm.map(m, {1, 7});
  b.remap(7, m);
  counts.set(m, {0, 100, 0, 70});
  pol.run_batch({{m, 1}}, counts.view());
  EXPECT_EQ(mm.replicas(m).size(), 2u);
  EXPECT_EQ(mm.replica_pages(), 2u);
  EXPECT_EQ(b.page(b.paddr_of(7), false, 3), mm.host(mm.replica_on(m, 3)));
  EXPECT_EQ(a.page(a.paddr_of(2), false, 3), mm.host(mm.replica_on(m, 3)));
  const NumaParams p = params();
  const double each = (p.hot_page_us + 2 * p.replicate_us) / 2;
  EXPECT_DOUBLE_EQ(pol.cost_us(0), each);
  EXPECT_DOUBLE_EQ(pol.cost_us(1), each);
  // A's write breaks the sharing; B keeps reading its replica.
  uint8_t* w = a.page(a.paddr_of(2), true, 1);
  w[0] ^= 0xff;
  EXPECT_TRUE(holds(b, 7, pattern(1)));
  EXPECT_EQ(std::memcmp(b.page(b.paddr_of(7), false, 3), pattern(1).data(), P), 0);
}

TEST_F(Policy, AReplicaBudgetIsKept) {
  NumaParams p = params();
  p.replication_budget = 3 * P;
  NumaPolicy pol(p, mm, lookup);
  EXPECT_EQ(pol.budget_pages(), 3u);
  std::vector<HotPage> hot;
  for (uint64_t g = 0; g < 3; ++g) {
    const MPage m = page_of_a(g, static_cast<uint32_t>(g + 1));
    counts.set(m, {10, 100, 100, 0});
    hot.push_back({m, 1});
  }
  pol.run_batch(hot, counts.view());
  EXPECT_EQ(mm.replica_pages(), 3u);
  EXPECT_EQ(pol.stats().replications, 3u);
  EXPECT_GE(pol.stats().skipped_budget, 1u);
}

TEST_F(Policy, TheDefaultBudgetIsAnEighthOfTheMachine) {
  NumaPolicy pol(params(), mm, lookup);
  EXPECT_EQ(pol.budget_pages(), mm.total_pages() / 8);
}

TEST_F(Policy, AFullNodeIsSkipped) {
  MachineMemory small({8 * P, 1 * P});
  GuestMemory c = small_pmap(small, 0, 0);
  NumaPolicy pol(params(), small, [&](uint32_t id) { return id == 0 ? &c : nullptr; });
  fill(c, 0, pattern(1));
  fill(c, 1, pattern(2));
  ASSERT_NE(small.alloc(1, {5, 0}), kNoPage);  // node 1 full
  const MPage m0 = c.at(0), m1 = c.at(1);
  counts.set(m0, {0, 100});
  counts.set(m1, {0, 100});
  counts.writes.insert(m1);  // written: migration only
  pol.run_batch({{m0, 1}, {m1, 1}}, counts.view());
  EXPECT_EQ(c.at(0), m0);
  EXPECT_EQ(c.at(1), m1);
  EXPECT_EQ(pol.stats().skipped_node_full, 2u);
  EXPECT_EQ(pol.stats().migrations, 0u);
}

// A page bouncing between two nodes moves max_moves times, then is
// frozen for 2 intervals; after the next max_moves moves, for 4.
TEST_F(Policy, APageThatKeepsMovingBacksOff) {
  NumaParams p = params(NumaPolicyKind::Migrate);
  p.max_moves = 2;
  NumaPolicy pol(p, mm, lookup);
  page_of_a(4);
  unsigned node = 1;
  auto bounce = [&] {
    const MPage m = a.at(4);
    counts.misses.clear();
    counts.set(m, {0, node == 1 ? 100u : 0u, node == 2 ? 100u : 0u, 0});
    pol.run_batch({{m, node}}, counts.view());
    const bool moved = a.at(4) != m;
    if (moved) node = node == 1 ? 2 : 1;
    return moved;
  };
  EXPECT_TRUE(bounce());
  EXPECT_TRUE(bounce());
  EXPECT_TRUE(pol.frozen(a.at(4)));
  EXPECT_FALSE(bounce());
  EXPECT_EQ(pol.stats().skipped_frozen, 1u);
  pol.end_interval();
  EXPECT_FALSE(bounce()) << "frozen for two intervals";
  pol.end_interval();
  EXPECT_FALSE(pol.frozen(a.at(4)));
  EXPECT_TRUE(bounce());
  EXPECT_TRUE(bounce());
  for (int k = 0; k < 3; ++k) {
    EXPECT_FALSE(bounce()) << "interval " << k;
    pol.end_interval();
  }
  EXPECT_FALSE(bounce()) << "frozen for four intervals";
  pol.end_interval();
  EXPECT_TRUE(bounce());
  EXPECT_EQ(pol.stats().migrations, 5u);
  EXPECT_TRUE(holds(a, 4, pattern(1)));
}

// A collapse (a vCPU wrote a replicated page) reaches the policy: counted,
// charged to the VM that wrote, and a move of the page for the back-off.
TEST_F(Policy, CollapsesAreCountedChargedAndBackedOff) {
  NumaParams p = params(NumaPolicyKind::Replicate);
  p.max_moves = 2;
  NumaPolicy pol(p, mm, lookup);
  const MPage m = page_of_a(6);
  counts.set(m, {50, 100, 0, 0});
  pol.run_batch({{m, 1}}, counts.view());
  ASSERT_TRUE(mm.replicated(m));
  a.page(a.paddr_of(6), true, 0);  // collapses
  EXPECT_FALSE(mm.replicated(m));
  pol.run_batch({}, counts.view());
  EXPECT_EQ(pol.stats().collapses, 1u);
  EXPECT_EQ(pol.stats().replica_pages, 0u);
  EXPECT_DOUBLE_EQ(pol.cost_us(0), p.hot_page_us + p.replicate_us + p.collapse_us);
  EXPECT_TRUE(pol.frozen(m)) << "replicated, then collapsed: two moves";
  pol.run_batch({{m, 1}}, counts.view());
  EXPECT_FALSE(mm.replicated(m));
  EXPECT_EQ(pol.stats().skipped_frozen, 1u);
}

TEST_F(Policy, TheKindOfPolicyDecidesWhatIsDone) {
  const MPage lone = page_of_a(1, 1), read_shared = page_of_a(2, 2);
  counts.set(lone, {0, 0, 0, 100});
  counts.set(read_shared, {60, 100, 0, 0});
  {
    NumaPolicy off(params(NumaPolicyKind::Off), mm, lookup);
    off.run_batch({{lone, 3}, {read_shared, 1}}, counts.view());
    EXPECT_EQ(a.at(1), lone);
    EXPECT_FALSE(mm.replicated(read_shared));
  }
  {
    NumaPolicy migrate_only(params(NumaPolicyKind::Migrate), mm, lookup);
    migrate_only.run_batch({{read_shared, 1}}, counts.view());
    EXPECT_FALSE(mm.replicated(read_shared));
    EXPECT_EQ(a.at(2), read_shared);
  }
  {
    // Replication only: a page one remote node uses gets a replica there.
    NumaPolicy replicate_only(params(NumaPolicyKind::Replicate), mm, lookup);
    replicate_only.run_batch({{lone, 3}}, counts.view());
    EXPECT_EQ(a.at(1), lone);
    EXPECT_NE(mm.replica_on(lone, 3), kNoPage);
    EXPECT_EQ(replicate_only.stats().migrations, 0u);
  }
}

// The real counters, through counts_of(): a page node 2 misses on enough
// becomes hot, migrates there, and its counts (old and new page) go.
TEST_F(Policy, DrivenByTheMissCounters) {
  MissCounters mc(mm.total_pages(), mm.nodes(), 64);
  NumaPolicy pol(params(), mm, lookup);
  const MPage m = page_of_a(3);
  mc.add(m, 0, 4, false);
  mc.add(m, 2, 100, false);
  const std::vector<HotPage> hot = mc.take_hot();
  ASSERT_EQ(hot.size(), 1u);
  EXPECT_EQ(hot[0].page, m);
  EXPECT_EQ(hot[0].node, 2u);
  pol.run_batch(hot, counts_of(mc));
  const MPage now = a.at(3);
  EXPECT_EQ(mm.node_of(now), 2u);
  EXPECT_EQ(mc.count(m, 2), 0u);
  EXPECT_EQ(mc.total(m), 0u);
  EXPECT_EQ(mc.total(now), 0u);
  EXPECT_TRUE(mc.take_hot().empty());
}

// What the policy must not touch: the zero page, free pages, pages only the
// boot-image cache holds. A hot replica stands for its master. An image
// page a VM maps may replicate but not migrate.
TEST_F(Policy, PagesItLeavesAloneOrTreatsSpecially) {
  NumaPolicy pol(params(), mm, lookup);
  a.page(a.paddr_of(9), false);  // maps the zero page
  const MPage freed = mm.alloc(0, {0, 30});
  mm.unmap(freed, {0, 30});
  const MPage image_only = mm.alloc(0, {kImageHolder, 0});
  counts.set(mm.zero_page(), {0, 100, 0, 0});
  counts.set(freed, {0, 100, 0, 0});
  counts.set(image_only, {0, 100, 0, 0});
  pol.run_batch({{mm.zero_page(), 1}, {freed, 1}, {image_only, 1}, {kNoPage, 1}}, counts.view());
  EXPECT_EQ(pol.stats().hot_pages, 0u);
  EXPECT_EQ(mm.node_of(image_only), 0u);
  EXPECT_FALSE(mm.replicated(image_only));

  const MPage image = page_of_a(3);
  mm.map(image, {kImageHolder, 3});
  counts.set(image, {0, 0, 100, 0});
  pol.run_batch({{image, 2}}, counts.view());
  EXPECT_EQ(a.at(3), image) << "the image cache holds its number: no migration";
  const MPage r = mm.replica_on(image, 2);
  ASSERT_NE(r, kNoPage) << "a replica serves node 2 instead";
  // Misses on the replica come from its own node: nothing to do.
  counts.set(r, {0, 0, 100, 0});
  pol.run_batch({{r, 2}}, counts.view());
  EXPECT_EQ(mm.replicas(image).size(), 1u);
  EXPECT_EQ(pol.stats().replications, 1u);
  mm.unmap(image_only, {kImageHolder, 0});
  mm.unmap(image, {kImageHolder, 3});
}

}  // namespace
}  // namespace disco::test
