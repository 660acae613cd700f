// Content-based page sharing: the scan merges equal pages across VMs (and
// within one), sends pages of zeros to the zero page, never merges pages
// that differ (even when a candidate changed after it was hashed), keeps to
// its budget, and drops the soft-TLB entries of every VM whose mapping it
// changes.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "monitor/machine.h"
#include "monitor/page_sharing.h"
#include "tests/memory/helpers.h"

namespace disco::test {
namespace {

constexpr uint64_t P = kPageSize;

struct Sharing : ::testing::Test {
  MachineMemory mm{std::vector<uint64_t>{64 * P, 64 * P}};
  GuestMemory a = small_pmap(mm, 0, 0);
  GuestMemory b = small_pmap(mm, 1, 1);
  PageSharing ps{mm};
  std::vector<const uint8_t*> a_dropped, b_dropped;

  void SetUp() override {
    a.invalidate = [this](const uint8_t* hp) { a_dropped.push_back(hp); };
    b.invalidate = [this](const uint8_t* hp) { b_dropped.push_back(hp); };
    ps.add(&a);
    ps.add(&b);
  }
  // Enough budget for several passes over these small pmaps.
  void scan_all() { ps.scan(10'000); }
  static bool has(const std::vector<const uint8_t*>& v, const uint8_t* p) {
    return std::find(v.begin(), v.end(), p) != v.end();
  }
};

TEST_F(Sharing, IdenticalPagesShareOneMachinePage) {
  fill(a, 1, pattern(1));
  fill(a, 2, pattern(2));
  fill(a, 3, pattern(5));
  fill(b, 1, pattern(1));
  fill(b, 2, pattern(3));
  fill(b, 5, pattern(5));  // equal contents at another guest address
  ASSERT_EQ(mm.used_pages(), 6u);
  scan_all();
  EXPECT_EQ(a.at(1), b.at(1));
  EXPECT_EQ(a.at(3), b.at(5));
  EXPECT_NE(a.at(2), b.at(2)) << "different contents are never shared";
  EXPECT_EQ(mm.used_pages(), 4u);
  EXPECT_EQ(mm.shared_pages(), 2u);
  EXPECT_EQ(mm.refs(a.at(1)), 2u);
  EXPECT_EQ(mm.refs(a.at(2)), 1u);
  EXPECT_EQ(mm.refs(b.at(2)), 1u);
  EXPECT_EQ(ps.stats().merges, 2u);
  EXPECT_EQ(ps.stats().zero_merges, 0u);
  std::vector<PageMapper> who = mm.mappers(a.at(1));
  std::sort(who.begin(), who.end(), [](auto x, auto y) { return x.vm < y.vm; });
  EXPECT_EQ(who, std::vector<PageMapper>({{0, 1}, {1, 1}}));
  EXPECT_TRUE(holds(a, 1, pattern(1)));
  EXPECT_TRUE(holds(b, 1, pattern(1)));
  EXPECT_TRUE(holds(a, 2, pattern(2)));
  EXPECT_TRUE(holds(b, 2, pattern(3)));
  EXPECT_TRUE(holds(a, 3, pattern(5)));
  EXPECT_TRUE(holds(b, 5, pattern(5)));
  EXPECT_EQ(a.stats().shared, 2u);
  EXPECT_EQ(a.stats().private_pages, 1u);
  // Stable: later passes change nothing.
  scan_all();
  EXPECT_EQ(ps.stats().merges, 2u);
  EXPECT_EQ(mm.used_pages(), 4u);
}

TEST_F(Sharing, ThreeVmsOnePage) {
  GuestMemory c = small_pmap(mm, 2, 0);
  ps.add(&c);
  for (GuestMemory* g : {&a, &b, &c}) fill(*g, 7, pattern(42));
  scan_all();
  EXPECT_EQ(a.at(7), b.at(7));
  EXPECT_EQ(a.at(7), c.at(7));
  EXPECT_EQ(mm.refs(a.at(7)), 3u);
  EXPECT_EQ(mm.used_pages(), 1u);
  EXPECT_EQ(mm.shared_pages(), 1u);
  ps.remove(&c);
}

TEST_F(Sharing, EqualPagesWithinOneVm) {
  fill(a, 2, pattern(8));
  fill(a, 9, pattern(8));
  scan_all();
  EXPECT_EQ(a.at(2), a.at(9));
  EXPECT_EQ(mm.used_pages(), 1u);
  a.page(9 * P, true)[0] ^= 1;
  EXPECT_NE(a.at(2), a.at(9));
  EXPECT_TRUE(holds(a, 2, pattern(8)));
}

TEST_F(Sharing, PagesOfZerosGoToTheZeroPage) {
  fill(a, 2, pattern(1));
  std::memset(a.page(2 * P, true), 0, P);  // written, then cleared
  b.page(4 * P, true);                      // written as zeros
  fill(b, 6, pattern(6));
  ASSERT_EQ(mm.used_pages(), 3u);
  scan_all();
  EXPECT_EQ(a.at(2), mm.zero_page());
  EXPECT_EQ(b.at(4), mm.zero_page());
  EXPECT_NE(b.at(6), mm.zero_page());
  EXPECT_EQ(mm.used_pages(), 1u);
  EXPECT_EQ(mm.zero_page_refs(), 2u);
  EXPECT_EQ(ps.stats().zero_merges, 2u);
  EXPECT_EQ(ps.stats().merges, 2u);
  EXPECT_EQ(a.stats().zero, 1u);
  // Writing it again allocates afresh; the zero page stays zeros.
  a.page(2 * P, true)[3] = 9;
  EXPECT_NE(a.at(2), mm.zero_page());
  EXPECT_EQ(a.peek(2)[3], 9);
  EXPECT_TRUE(all_zero(mm.host(mm.zero_page())));
  EXPECT_TRUE(all_zero(b.peek(4)));
}

// After sharing, a write by one VM (through the pmap, as a store's slow
// path does) gives it a copy; the other keeps the old contents.
TEST_F(Sharing, WriteBreaksSharing) {
  fill(a, 1, pattern(1));
  fill(b, 1, pattern(1));
  scan_all();
  ASSERT_EQ(a.at(1), b.at(1));
  const MPage shared = a.at(1);
  uint8_t* p = b.page(P + 100, true);
  p[100] ^= 0xff;
  EXPECT_NE(b.at(1), shared);
  EXPECT_EQ(a.at(1), shared);
  EXPECT_TRUE(holds(a, 1, pattern(1)));
  std::vector<uint8_t> expect = pattern(1);
  expect[100] ^= 0xff;
  EXPECT_TRUE(holds(b, 1, expect));
  EXPECT_EQ(b.stats().cow_breaks, 1u);
  EXPECT_EQ(mm.used_pages(), 2u);
  EXPECT_EQ(mm.shared_pages(), 0u);
  // Now different: the scan leaves them apart.
  scan_all();
  EXPECT_NE(a.at(1), b.at(1));
  EXPECT_TRUE(holds(a, 1, pattern(1)));
}

// The mappings change under both VMs: the candidate's owner must stop
// storing to it in place, and the other must stop using the page it lost.
TEST_F(Sharing, MergeDropsBothVmsSoftTlbEntries) {
  fill(a, 1, pattern(1));
  fill(b, 1, pattern(1));
  const uint8_t* ha = mm.host(a.at(1));
  const uint8_t* hb = mm.host(b.at(1));
  a_dropped.clear();
  b_dropped.clear();
  scan_all();
  ASSERT_EQ(a.at(1), b.at(1));
  const uint8_t* kept = mm.host(a.at(1));
  ASSERT_TRUE(kept == ha || kept == hb);
  EXPECT_TRUE(has(a_dropped, ha)) << "VM a's mapping became read-only or changed";
  EXPECT_TRUE(has(b_dropped, hb)) << "VM b's mapping became read-only or changed";
}

TEST_F(Sharing, ZeroMergeDropsTheSoftTlbEntries) {
  b.page(4 * P, true);
  const uint8_t* hb = mm.host(b.at(4));
  scan_all();
  ASSERT_EQ(b.at(4), mm.zero_page());
  EXPECT_TRUE(has(b_dropped, hb));
}

// A candidate written after it was hashed must be compared in full: VM b's
// page equals what a's page held, not what it holds now.
TEST_F(Sharing, CandidateChangedAfterHashingIsNotShared) {
  fill(a, 1, pattern(1));
  fill(b, 1, pattern(1));
  ps.scan(1);  // hashes a's page 1 only
  ASSERT_EQ(ps.stats().pages_scanned, 1u);
  const MPage ma = a.at(1);
  fill(a, 1, pattern(9));  // private: written in place
  ASSERT_EQ(a.at(1), ma);
  ps.scan(1);  // b's page 1, against the stale candidate
  EXPECT_EQ(ps.stats().pages_scanned, 2u);
  EXPECT_EQ(ps.stats().merges, 0u);
  EXPECT_NE(a.at(1), b.at(1));
  EXPECT_TRUE(holds(a, 1, pattern(9)));
  EXPECT_TRUE(holds(b, 1, pattern(1)));
  EXPECT_EQ(mm.used_pages(), 2u);
  scan_all();
  EXPECT_EQ(ps.stats().merges, 0u);
  EXPECT_TRUE(holds(a, 1, pattern(9)));
  EXPECT_TRUE(holds(b, 1, pattern(1)));
  // Equal again: now they are shared.
  fill(a, 1, pattern(1));
  scan_all();
  EXPECT_EQ(a.at(1), b.at(1));
  EXPECT_EQ(ps.stats().merges, 1u);
}

// A candidate page freed after it was hashed is not mapped again.
TEST_F(Sharing, FreedCandidateIsNotReused) {
  fill(a, 1, pattern(1));
  ps.scan(1);
  const MPage old = a.at(1);
  mm.map(mm.zero_page(), {0, 1});
  a.remap(1, mm.zero_page());  // a's page is freed
  ASSERT_EQ(mm.refs(old), 0u);
  fill(b, 1, pattern(1));  // on b's home node 1: not the freed page
  ASSERT_NE(b.at(1), old);
  scan_all();
  EXPECT_NE(b.at(1), old);
  EXPECT_EQ(mm.refs(old), 0u);
  EXPECT_TRUE(holds(b, 1, pattern(1)));
  EXPECT_EQ(mm.used_pages(), 1u);
  EXPECT_EQ(ps.stats().merges, 0u);
}

// ... nor is one freed and reallocated with other contents.
TEST_F(Sharing, ReallocatedCandidateIsComparedAgain) {
  fill(a, 1, pattern(1));
  ps.scan(1);
  const MPage old = a.at(1);
  mm.map(mm.zero_page(), {0, 1});
  a.remap(1, mm.zero_page());
  fill(a, 5, pattern(2));  // reuses the freed page
  ASSERT_EQ(a.at(5), old);
  fill(b, 1, pattern(1));
  scan_all();
  EXPECT_NE(b.at(1), a.at(5));
  EXPECT_TRUE(holds(a, 5, pattern(2)));
  EXPECT_TRUE(holds(b, 1, pattern(1)));
  EXPECT_EQ(ps.stats().merges, 0u);
}

TEST_F(Sharing, ScanKeepsToItsBudget) {
  for (uint32_t g = 0; g < 20; ++g) fill(a, g, pattern(100 + g));
  ps.scan(5);
  EXPECT_EQ(ps.stats().pages_scanned, 5u);
  EXPECT_EQ(ps.stats().passes, 0u);
  ps.scan(5);
  EXPECT_EQ(ps.stats().pages_scanned, 10u);
  ps.scan(7);
  EXPECT_EQ(ps.stats().pages_scanned, 17u);
  ps.scan(0);
  EXPECT_EQ(ps.stats().pages_scanned, 17u);
  EXPECT_EQ(ps.stats().merges, 0u);
}

// Untouched and shared pages cost no budget.
TEST_F(Sharing, OnlyPrivatePagesCountAgainstTheBudget) {
  fill(a, 30, pattern(1));
  fill(b, 30, pattern(1));
  a.page(3 * P, false);  // the zero page
  ps.scan(2);
  EXPECT_EQ(ps.stats().pages_scanned, 2u);
  EXPECT_EQ(a.at(30), b.at(30));
  ps.scan(1000);
  EXPECT_EQ(ps.stats().pages_scanned, 2u) << "nothing private left to look at";
  EXPECT_GT(ps.stats().passes, 0u);
}

TEST_F(Sharing, PassesAndMergesPerPass) {
  fill(a, 0, pattern(50));  // stays private: every pass looks at it
  fill(a, 1, pattern(1));
  fill(b, 1, pattern(1));
  ps.scan(1);  // a 0
  ps.scan(1);  // a 1
  ps.scan(1);  // b 1: merged
  EXPECT_EQ(ps.stats().merges, 1u);
  EXPECT_EQ(ps.stats().passes, 0u);
  ps.scan(1);  // end of the pass, then a 0 again
  EXPECT_EQ(ps.stats().passes, 1u);
  EXPECT_EQ(ps.stats().merges_last_pass, 1u);
  ps.scan(1);  // a whole pass with nothing to merge
  EXPECT_EQ(ps.stats().passes, 2u);
  EXPECT_EQ(ps.stats().merges_last_pass, 0u);
  EXPECT_EQ(ps.stats().pages_scanned, 5u);
}

TEST_F(Sharing, RemovedVmIsLeftAlone) {
  fill(a, 1, pattern(1));
  fill(b, 1, pattern(1));
  fill(b, 2, pattern(0));
  std::memset(b.page(2 * P, true), 0, P);
  ps.remove(&b);
  scan_all();
  EXPECT_NE(a.at(1), b.at(1));
  EXPECT_NE(b.at(2), mm.zero_page());
  EXPECT_EQ(ps.stats().merges, 0u);
  ps.add(&b);
  scan_all();
  EXPECT_EQ(a.at(1), b.at(1));
  EXPECT_EQ(b.at(2), mm.zero_page());
}

// A page whose contents keep changing must not grow the scanner's table of
// hashes by one entry per pass (it once did, without bound).
TEST(SharingEdge, ScanStateStaysBoundedUnderChurn) {
  MachineMemory mm({P});
  GuestMemory gm = small_pmap(mm, 0, 0, 1);
  PageSharing ps(mm);
  ps.add(&gm);
  std::memset(gm.page(0, true), 1, P);
  ps.scan(1);
  size_t most = 0;
  for (uint64_t i = 0; i < 200'000; ++i) {
    std::memcpy(gm.page(0, true), &i, sizeof i);  // new contents every pass
    ps.scan(1);
    most = std::max(most, ps.table_size());
  }
  EXPECT_EQ(ps.stats().pages_scanned, 200'001u);
  EXPECT_LE(most, 1u) << "the scan's table grows with every distinct page seen";
}

TEST(SharingEdge, NothingToScanReturns) {
  MachineMemory mm({P});
  PageSharing ps(mm);
  ps.scan(100);  // no VMs
  GuestMemory empty = small_pmap(mm, 0, 0, 0);
  ps.add(&empty);
  ps.scan(100);  // a VM without memory
  EXPECT_EQ(ps.stats().pages_scanned, 0u);
  GuestMemory one = small_pmap(mm, 1, 0, 4);
  ps.add(&one);
  ps.scan(100);  // untouched memory
  EXPECT_EQ(ps.stats().pages_scanned, 0u);
  EXPECT_GT(ps.stats().passes, 0u);
}

}  // namespace
}  // namespace disco::test

namespace disco::test {
namespace {

// A page that takes the contents of an already shared page in a later pass
// joins it, whether its VM is scanned before or after the sharers.
TEST(SharingLater, PrivatePageJoinsAPageSharedInAnEarlierPass) {
  for (uint32_t late : {0u, 2u}) {
    MachineMemory mm({64 * P});
    GuestMemory g0 = small_pmap(mm, 0), g1 = small_pmap(mm, 1), g2 = small_pmap(mm, 2);
    GuestMemory* vms[] = {&g0, &g1, &g2};
    PageSharing ps(mm);
    for (GuestMemory* g : vms) ps.add(g);
    for (uint32_t id = 0; id < 3; ++id)
      if (id != late) fill(*vms[id], 4, pattern(7));
    ps.scan(10'000);
    const MPage s = vms[late == 0 ? 1 : 0]->at(4);
    ASSERT_EQ(mm.refs(s), 2u);
    fill(*vms[late], 4, pattern(7));  // the same contents, later
    ps.scan(10'000);
    EXPECT_EQ(vms[late]->at(4), s) << "late VM " << late;
    EXPECT_EQ(mm.refs(s), 3u);
  }
}

// Two pairs that came to hold the same contents in different passes end up
// on one machine page, not on two shared copies.
TEST(SharingLater, SharedCopiesFormedInDifferentPassesAreJoined) {
  MachineMemory mm({64 * P});
  GuestMemory g0 = small_pmap(mm, 0), g1 = small_pmap(mm, 1), g2 = small_pmap(mm, 2), g3 = small_pmap(mm, 3);
  GuestMemory* vms[] = {&g0, &g1, &g2, &g3};
  PageSharing ps(mm);
  for (GuestMemory* g : vms) ps.add(g);
  fill(g0, 4, pattern(1));
  fill(g1, 4, pattern(2));
  fill(g2, 4, pattern(7));
  fill(g3, 4, pattern(7));
  ps.scan(10'000);
  ASSERT_EQ(g2.at(4), g3.at(4));
  fill(g0, 4, pattern(7));
  fill(g1, 4, pattern(7));
  ps.scan(10'000);
  for (GuestMemory* g : vms) EXPECT_EQ(g->at(4), g2.at(4));
  EXPECT_EQ(mm.refs(g2.at(4)), 4u);
  EXPECT_EQ(mm.shared_pages(), 1u);
}

}  // namespace
}  // namespace disco::test
