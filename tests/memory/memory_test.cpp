// Machine memory (per-node pools, refcounts, the memmap, the zero page), a
// VM's pmap (first touch, copy-on-write, out of memory) and the boot-image
// cache, driven directly through their interfaces.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "monitor/boot_images.h"
#include "monitor/machine.h"
#include "tests/memory/helpers.h"

namespace disco::test {
namespace {

constexpr uint64_t P = kPageSize;

// ---- MachineMemory ----------------------------------------------------------

TEST(MachineMemory, RejectsBadSizes) {
  EXPECT_THROW(MachineMemory({}), std::invalid_argument);
  EXPECT_THROW(MachineMemory({P + 1}), std::invalid_argument);
  EXPECT_THROW(MachineMemory({4 * P, 100}), std::invalid_argument);
}

TEST(MachineMemory, PoolsPerNode) {
  MachineMemory mm({4 * P, 2 * P, 3 * P});
  EXPECT_EQ(mm.nodes(), 3u);
  EXPECT_EQ(mm.total_pages(), 9u);
  EXPECT_EQ(mm.used_pages(), 0u);
  for (unsigned n = 0; n < 3; ++n) EXPECT_EQ(mm.used_pages_on(n), 0u);
}

TEST(MachineMemory, AllocPrefersTheHomeNode) {
  MachineMemory mm({4 * P, 4 * P});
  const MPage a = mm.alloc(1, {0, 0});
  const MPage b = mm.alloc(0, {1, 0});
  const MPage c = mm.alloc(1, {0, 1});
  ASSERT_NE(a, kNoPage);
  ASSERT_NE(b, kNoPage);
  ASSERT_NE(c, kNoPage);
  EXPECT_EQ(mm.node_of(a), 1u);
  EXPECT_EQ(mm.node_of(b), 0u);
  EXPECT_EQ(mm.node_of(c), 1u);
  EXPECT_EQ(mm.used_pages(), 3u);
  EXPECT_EQ(mm.used_pages_on(0), 1u);
  EXPECT_EQ(mm.used_pages_on(1), 2u);
  EXPECT_EQ(std::set<MPage>({a, b, c}).size(), 3u);
}

// A full home node spills to another node; a full machine says kNoPage.
TEST(MachineMemory, FallsBackWhenTheHomeNodeIsFullThenRunsOut) {
  MachineMemory mm({2 * P, 3 * P});
  std::set<MPage> got;
  for (uint32_t i = 0; i < 2; ++i) {
    const MPage p = mm.alloc(0, {0, i});
    ASSERT_NE(p, kNoPage);
    EXPECT_EQ(mm.node_of(p), 0u);
    got.insert(p);
  }
  for (uint32_t i = 2; i < 5; ++i) {
    const MPage p = mm.alloc(0, {0, i});
    ASSERT_NE(p, kNoPage) << "page " << i;
    EXPECT_EQ(mm.node_of(p), 1u) << "home node 0 is full";
    got.insert(p);
  }
  EXPECT_EQ(got.size(), 5u);
  EXPECT_EQ(mm.used_pages(), 5u);
  EXPECT_EQ(mm.used_pages_on(0), 2u);
  EXPECT_EQ(mm.used_pages_on(1), 3u);
  EXPECT_EQ(mm.alloc(0, {0, 9}), kNoPage);
  EXPECT_EQ(mm.alloc(1, {0, 9}), kNoPage);
  EXPECT_EQ(mm.used_pages(), 5u);
  // One freed page on node 1 is found from home node 0.
  const MPage back = *got.rbegin();
  mm.unmap(back, {0, 4});
  EXPECT_EQ(mm.used_pages_on(1), 2u);
  EXPECT_EQ(mm.alloc(0, {0, 9}), back);
}

TEST(MachineMemory, FallbackSkipsEveryFullNode) {
  MachineMemory mm({P, P, P});
  ASSERT_NE(mm.alloc(1, {0, 0}), kNoPage);
  const MPage p = mm.alloc(1, {0, 1});
  ASSERT_NE(p, kNoPage);
  EXPECT_NE(mm.node_of(p), 1u);
  const MPage q = mm.alloc(1, {0, 2});
  ASSERT_NE(q, kNoPage);
  EXPECT_NE(mm.node_of(q), 1u);
  EXPECT_NE(mm.node_of(q), mm.node_of(p));
  EXPECT_EQ(mm.alloc(2, {0, 3}), kNoPage);
}

TEST(MachineMemory, FreshAndFreedPagesReadAsZeros) {
  MachineMemory mm({P});  // one page: a reallocation must reuse it
  const MPage p = mm.alloc(0, {0, 0});
  ASSERT_NE(p, kNoPage);
  EXPECT_TRUE(all_zero(mm.host(p)));
  std::memset(mm.host(p), 0xa5, P);
  mm.unmap(p, {0, 0});
  EXPECT_EQ(mm.used_pages(), 0u);
  EXPECT_EQ(mm.refs(p), 0u);
  const MPage q = mm.alloc(0, {1, 7});
  ASSERT_EQ(q, p);
  EXPECT_TRUE(all_zero(mm.host(q)));
  EXPECT_EQ(mm.mappers(q), std::vector<PageMapper>({{1, 7}}));
}

TEST(MachineMemory, RefsMappersAndSharedCount) {
  MachineMemory mm({8 * P});
  const PageMapper a{0, 3}, b{1, 3}, c{2, 5};
  const MPage p = mm.alloc(0, a);
  EXPECT_EQ(mm.refs(p), 1u);
  EXPECT_TRUE(mm.writable_in_place(p));
  EXPECT_EQ(mm.mappers(p), std::vector<PageMapper>({a}));
  EXPECT_EQ(mm.shared_pages(), 0u);

  mm.map(p, b);
  EXPECT_EQ(mm.refs(p), 2u);
  EXPECT_FALSE(mm.writable_in_place(p));
  EXPECT_EQ(mm.mappers(p), std::vector<PageMapper>({a, b}));
  EXPECT_EQ(mm.shared_pages(), 1u);
  mm.map(p, c);
  EXPECT_EQ(mm.refs(p), 3u);
  EXPECT_EQ(mm.shared_pages(), 1u);  // one page, however many mappers
  EXPECT_EQ(mm.used_pages(), 1u);

  // A second shared page.
  const MPage q = mm.alloc(0, c);
  mm.map(q, {kImageHolder, 9});
  EXPECT_EQ(mm.shared_pages(), 2u);
  EXPECT_EQ(mm.mappers(q), std::vector<PageMapper>({c, {kImageHolder, 9}}));

  // The first owner goes: the page stays shared by the others.
  mm.unmap(p, a);
  EXPECT_EQ(mm.refs(p), 2u);
  EXPECT_EQ(mm.mappers(p), std::vector<PageMapper>({b, c}));
  EXPECT_EQ(mm.shared_pages(), 2u);
  // Down to one mapper: private again, owned by the one left.
  mm.unmap(p, c);
  EXPECT_EQ(mm.refs(p), 1u);
  EXPECT_TRUE(mm.writable_in_place(p));
  EXPECT_EQ(mm.mappers(p), std::vector<PageMapper>({b}));
  EXPECT_EQ(mm.shared_pages(), 1u);
  mm.unmap(p, b);
  EXPECT_EQ(mm.refs(p), 0u);
  EXPECT_TRUE(mm.mappers(p).empty());
  EXPECT_EQ(mm.used_pages(), 1u);
  mm.unmap(q, {kImageHolder, 9});
  EXPECT_EQ(mm.mappers(q), std::vector<PageMapper>({c}));
  EXPECT_EQ(mm.shared_pages(), 0u);
}

TEST(MachineMemory, ZeroPageIsOutsideThePoolsAndCounted) {
  MachineMemory mm({2 * P, 2 * P});
  const MPage z = mm.zero_page();
  EXPECT_GE(z, mm.total_pages());
  EXPECT_TRUE(all_zero(mm.host(z)));
  EXPECT_FALSE(mm.writable_in_place(z));
  mm.map(z, {0, 1});
  mm.map(z, {1, 1});
  mm.map(z, {1, 2});
  EXPECT_EQ(mm.refs(z), 3u);
  EXPECT_EQ(mm.zero_page_refs(), 3u);
  EXPECT_EQ(mm.used_pages(), 0u);
  EXPECT_EQ(mm.shared_pages(), 0u);
  EXPECT_TRUE(mm.mappers(z).empty());
  mm.unmap(z, {1, 2});
  EXPECT_EQ(mm.zero_page_refs(), 2u);
  // Every pool page is still there to allocate.
  for (uint32_t i = 0; i < 4; ++i) EXPECT_NE(mm.alloc(0, {0, i}), kNoPage);
  EXPECT_EQ(mm.alloc(0, {0, 4}), kNoPage);
}

// Host memory follows the machine pages in use: written pages cost RSS,
// freed pages give it back.
TEST(MachineMemory, HostRssFollowsPagesInUse) {
  constexpr uint64_t kBytes = 16ull << 20;
  MachineMemory mm({kBytes});
  const uint64_t rss0 = host_rss_bytes();
  ASSERT_GT(rss0, 0u);
  std::vector<MPage> pages;
  for (uint32_t i = 0; i < kBytes / P; ++i) {
    pages.push_back(mm.alloc(0, {0, i}));
    std::memset(mm.host(pages.back()), 1, P);
  }
  const uint64_t rss1 = host_rss_bytes();
  EXPECT_GE(rss1, rss0 + kBytes * 3 / 4);
  for (uint32_t i = 0; i < pages.size(); ++i) mm.unmap(pages[i], {0, i});
  const uint64_t rss2 = host_rss_bytes();
  EXPECT_LE(rss2 + kBytes * 3 / 4, rss1);
}

TEST(MachineMemoryDeathTest, ZeroPageIsReadOnlyToTheHost) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  MachineMemory mm({P});
  volatile uint8_t* z = mm.host(mm.zero_page());
  EXPECT_DEATH(z[100] = 1, "");
}

// ---- GuestMemory ------------------------------------------------------------

TEST(GuestMemory, IndexOfLowAndHighRam) {
  MachineMemory mm({64 * P});
  const uint64_t low = board::kLowRamLimit, high = 16 * P;
  GuestMemory gm(mm, 0, 0, low, high, board::kHighRamBase);
  const uint64_t low_pages = low / P;
  EXPECT_EQ(gm.pages(), low_pages + 16);
  EXPECT_EQ(gm.index_of(0), 0);
  EXPECT_EQ(gm.index_of(0x1234), 1);
  EXPECT_EQ(gm.index_of(low - 1), static_cast<int64_t>(low_pages - 1));
  EXPECT_EQ(gm.index_of(low), -1);                     // the hole
  EXPECT_EQ(gm.index_of(board::kUartBase), -1);        // MMIO
  EXPECT_EQ(gm.index_of(board::kHighRamBase - 1), -1);
  EXPECT_EQ(gm.index_of(board::kHighRamBase), static_cast<int64_t>(low_pages));
  EXPECT_EQ(gm.index_of(board::kHighRamBase + high - 1), static_cast<int64_t>(low_pages + 15));
  EXPECT_EQ(gm.index_of(board::kHighRamBase + high), -1);  // beyond the end
  EXPECT_EQ(gm.index_of(~0ull), -1);
  EXPECT_EQ(gm.paddr_of(0), 0u);
  EXPECT_EQ(gm.paddr_of(5), 5 * P);
  EXPECT_EQ(gm.paddr_of(low_pages), board::kHighRamBase);
  EXPECT_EQ(gm.paddr_of(low_pages + 15), board::kHighRamBase + 15 * P);
  for (uint64_t g : {uint64_t{0}, uint64_t{77}, low_pages - 1, low_pages, low_pages + 15})
    EXPECT_EQ(gm.index_of(gm.paddr_of(g)), static_cast<int64_t>(g));
  EXPECT_EQ(gm.page(low, false), nullptr);
  EXPECT_EQ(gm.page(board::kUartBase, true), nullptr);
  EXPECT_EQ(gm.page(board::kHighRamBase + high, true), nullptr);
  EXPECT_EQ(mm.used_pages(), 0u);
  // High RAM is RAM like the rest.
  uint8_t* hp = gm.page(board::kHighRamBase + 3 * P, true);
  ASSERT_NE(hp, nullptr);
  hp[5] = 42;
  EXPECT_EQ(gm.peek(low_pages + 3)[5], 42);
  EXPECT_EQ(mm.used_pages(), 1u);
}

TEST(GuestMemory, SmallVmHasNoHighRange) {
  MachineMemory mm({P});
  GuestMemory gm = small_pmap(mm, 0);
  EXPECT_EQ(gm.pages(), kPages);
  EXPECT_EQ(gm.index_of(kPages * P - 1), static_cast<int64_t>(kPages - 1));
  EXPECT_EQ(gm.index_of(kPages * P), -1);
  EXPECT_EQ(gm.index_of(board::kHighRamBase), -1);
  EXPECT_EQ(gm.page(board::kHighRamBase, false), nullptr);
}

TEST(GuestMemory, FirstReadMapsTheZeroPage) {
  MachineMemory mm({4 * P});
  GuestMemory gm = small_pmap(mm, 0);
  EXPECT_EQ(gm.at(3), kNoPage);
  EXPECT_TRUE(all_zero(gm.peek(3)));
  EXPECT_EQ(gm.at(3), kNoPage) << "peek maps nothing";
  const uint8_t* p = gm.page(3 * P + 100, false);
  EXPECT_EQ(p, mm.host(mm.zero_page()));
  EXPECT_EQ(gm.at(3), mm.zero_page());
  EXPECT_EQ(gm.page(3 * P, false), p);
  EXPECT_EQ(mm.used_pages(), 0u);
  EXPECT_EQ(mm.zero_page_refs(), 1u);
  const GuestMemory::Stats s = gm.stats();
  EXPECT_EQ(s.touched, 1u);
  EXPECT_EQ(s.zero, 1u);
  EXPECT_EQ(s.shared, 1u);
  EXPECT_EQ(s.private_pages, 0u);
}

TEST(GuestMemory, FirstWriteAllocatesOnTheHomeNode) {
  MachineMemory mm({4 * P, 4 * P});
  GuestMemory gm = small_pmap(mm, 0, /*home=*/1);
  uint8_t* p = gm.page(7 * P, true);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(mm.used_pages(), 1u);
  EXPECT_EQ(mm.used_pages_on(1), 1u);
  const MPage m = gm.at(7);
  EXPECT_NE(m, mm.zero_page());
  EXPECT_EQ(mm.node_of(m), 1u);
  EXPECT_EQ(mm.host(m), p);
  EXPECT_TRUE(all_zero(p));
  p[9] = 0x5a;
  // Further reads and writes reach the same page.
  EXPECT_EQ(gm.page(7 * P + 9, false), p);
  EXPECT_EQ(gm.page(7 * P, true), p);
  EXPECT_EQ(gm.peek(7)[9], 0x5a);
  EXPECT_EQ(mm.used_pages(), 1u);
  EXPECT_EQ(mm.mappers(m), std::vector<PageMapper>({{0, 7}}));
  const GuestMemory::Stats s = gm.stats();
  EXPECT_EQ(s.touched, 1u);
  EXPECT_EQ(s.private_pages, 1u);
  EXPECT_EQ(s.remote, 0u);
  EXPECT_EQ(s.cow_breaks, 0u);
}

// Read first (zero page), then write: a fresh page, not a copy-on-write
// break, and this VM's cached loads of the zero page are dropped.
TEST(GuestMemory, WriteAfterReadLeavesTheZeroPage) {
  MachineMemory mm({4 * P});
  GuestMemory gm = small_pmap(mm, 0);
  std::vector<const uint8_t*> dropped;
  gm.invalidate = [&](const uint8_t* hp) { dropped.push_back(hp); };
  gm.page(2 * P, false);
  EXPECT_EQ(mm.zero_page_refs(), 1u);
  uint8_t* p = gm.page(2 * P, true);
  EXPECT_NE(p, mm.host(mm.zero_page()));
  EXPECT_NE(gm.at(2), mm.zero_page());
  EXPECT_EQ(mm.used_pages(), 1u);
  EXPECT_EQ(mm.zero_page_refs(), 0u);
  EXPECT_EQ(dropped, std::vector<const uint8_t*>({mm.host(mm.zero_page())}));
  EXPECT_EQ(gm.stats().cow_breaks, 0u);
  EXPECT_EQ(gm.stats().zero, 0u);
}

TEST(GuestMemory, RemoteWhenTheHomeNodeIsFull) {
  MachineMemory mm({P, 4 * P});
  GuestMemory gm = small_pmap(mm, 0, /*home=*/0);
  gm.page(0, true);
  gm.page(P, true);
  EXPECT_EQ(mm.node_of(gm.at(0)), 0u);
  EXPECT_EQ(mm.node_of(gm.at(1)), 1u);
  const GuestMemory::Stats s = gm.stats();
  EXPECT_EQ(s.private_pages, 2u);
  EXPECT_EQ(s.remote, 1u);
}

// Two VMs map one machine page (as the scanner would leave them); a write
// by either gives the writer a private copy.
struct SharedPair : ::testing::Test {
  MachineMemory mm{std::vector<uint64_t>{16 * P}};
  GuestMemory a = small_pmap(mm, 0);
  GuestMemory b = small_pmap(mm, 1);
  std::vector<const uint8_t*> a_dropped, b_dropped;
  const std::vector<uint8_t> data = pattern(7);
  MPage m = kNoPage;

  void SetUp() override {
    a.invalidate = [this](const uint8_t* hp) { a_dropped.push_back(hp); };
    b.invalidate = [this](const uint8_t* hp) { b_dropped.push_back(hp); };
    fill(a, 4, data);
    m = a.at(4);
    mm.map(m, {1, 4});
    b.remap(4, m);
    ASSERT_EQ(mm.refs(m), 2u);
    ASSERT_EQ(mm.used_pages(), 1u);
  }
};

TEST_F(SharedPair, ReadsShareTheMachinePage) {
  EXPECT_EQ(a.page(4 * P, false), b.page(4 * P, false));
  EXPECT_EQ(a.stats().shared, 1u);
  EXPECT_EQ(b.stats().shared, 1u);
  EXPECT_EQ(mm.shared_pages(), 1u);
}

TEST_F(SharedPair, WriteGivesAPrivateCopy) {
  uint8_t* p = b.page(4 * P + 10, true);
  EXPECT_NE(p, mm.host(m));
  EXPECT_NE(b.at(4), m);
  EXPECT_TRUE(holds(b, 4, data)) << "the copy starts with the shared contents";
  p[10] = static_cast<uint8_t>(~data[10]);
  EXPECT_TRUE(holds(a, 4, data)) << "the other VM's page is unchanged";
  EXPECT_EQ(a.at(4), m);
  EXPECT_EQ(b.peek(4)[10], static_cast<uint8_t>(~data[10]));
  EXPECT_EQ(b.stats().cow_breaks, 1u);
  EXPECT_EQ(a.stats().cow_breaks, 0u);
  EXPECT_EQ(mm.used_pages(), 2u);
  EXPECT_EQ(mm.refs(m), 1u);
  EXPECT_EQ(mm.shared_pages(), 0u);
  EXPECT_EQ(mm.mappers(m), std::vector<PageMapper>({{0, 4}}));
  // The writer dropped its cached translations of the shared page.
  EXPECT_EQ(b_dropped, std::vector<const uint8_t*>({mm.host(m)}));
  EXPECT_TRUE(a_dropped.empty());
  // The last mapper writes in place now: no further copy.
  uint8_t* q = a.page(4 * P, true);
  EXPECT_EQ(q, mm.host(m));
  EXPECT_EQ(a.stats().cow_breaks, 0u);
  EXPECT_EQ(mm.used_pages(), 2u);
}

TEST_F(SharedPair, OriginalOwnerCopiesToo) {
  uint8_t* p = a.page(4 * P, true);
  EXPECT_NE(p, mm.host(m));
  p[0] = static_cast<uint8_t>(~data[0]);
  EXPECT_TRUE(holds(b, 4, data));
  EXPECT_EQ(b.at(4), m);
  EXPECT_EQ(a.stats().cow_breaks, 1u);
  EXPECT_EQ(mm.mappers(m), std::vector<PageMapper>({{1, 4}}));
}

TEST_F(SharedPair, DestroyingAMapperKeepsThePageForTheOther) {
  {
    GuestMemory c = small_pmap(mm, 2);
    mm.map(m, {2, 9});
    c.remap(9, m);
    EXPECT_EQ(mm.refs(m), 3u);
    c.page(0, true);
    EXPECT_EQ(mm.used_pages(), 2u);
  }
  EXPECT_EQ(mm.refs(m), 2u);
  EXPECT_EQ(mm.used_pages(), 1u);
  EXPECT_TRUE(holds(a, 4, data));
}

TEST(GuestMemory, DestructorReturnsEveryPage) {
  MachineMemory mm({8 * P});
  {
    GuestMemory gm = small_pmap(mm, 0);
    gm.page(0, true);
    gm.page(P, true);
    gm.page(2 * P, false);
    EXPECT_EQ(mm.used_pages(), 2u);
    EXPECT_EQ(mm.zero_page_refs(), 1u);
  }
  EXPECT_EQ(mm.used_pages(), 0u);
  EXPECT_EQ(mm.zero_page_refs(), 0u);
}

// A machine with three pages and two VMs: the write that finds none left
// reports it once and gets a scratch page; nobody else's memory changes.
TEST(GuestMemory, OutOfMemoryCallsBackOnceAndWritesGoToScratch) {
  MachineMemory mm({3 * P});
  GuestMemory a = small_pmap(mm, 0);
  GuestMemory b = small_pmap(mm, 1);
  int a_oom = 0, b_oom = 0;
  a.on_out_of_memory = [&] { ++a_oom; };
  b.on_out_of_memory = [&] { ++b_oom; };
  const auto a0 = pattern(1), b0 = pattern(2), b1 = pattern(3);
  fill(a, 0, a0);
  fill(b, 0, b0);
  fill(b, 1, b1);
  ASSERT_EQ(mm.used_pages(), 3u);

  uint8_t* s = a.page(5 * P, true);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(a_oom, 1);
  EXPECT_TRUE(a.out_of_memory());
  EXPECT_FALSE(b.out_of_memory());
  EXPECT_EQ(a.at(5), kNoPage);
  // The scratch page is a whole usable page outside the machine's pages.
  for (MPage m : {a.at(0), b.at(0), b.at(1), mm.zero_page()}) EXPECT_NE(s, mm.host(m));
  std::memset(s, 0xee, P);
  uint8_t* s2 = a.page(6 * P, true);
  ASSERT_NE(s2, nullptr);
  std::memset(s2, 0xdd, P);
  EXPECT_EQ(a_oom, 1) << "reported once";
  EXPECT_EQ(b_oom, 0);
  EXPECT_TRUE(holds(a, 0, a0));
  EXPECT_TRUE(holds(b, 0, b0));
  EXPECT_TRUE(holds(b, 1, b1));
  EXPECT_TRUE(all_zero(mm.host(mm.zero_page())));
  EXPECT_EQ(mm.used_pages(), 3u);
  // Reads still work (the zero page costs nothing).
  EXPECT_EQ(a.page(7 * P, false), mm.host(mm.zero_page()));
  // B runs out too, on its own.
  b.page(9 * P, true);
  EXPECT_EQ(b_oom, 1);
}

// Out of memory while breaking copy-on-write: the shared page is left alone.
TEST(GuestMemory, OutOfMemoryOnCopyLeavesTheSharedPage) {
  MachineMemory mm({P});
  GuestMemory a = small_pmap(mm, 0);
  GuestMemory b = small_pmap(mm, 1);
  int oom = 0;
  b.on_out_of_memory = [&] { ++oom; };
  const auto d = pattern(4);
  fill(a, 2, d);
  const MPage m = a.at(2);
  mm.map(m, {1, 2});
  b.remap(2, m);
  uint8_t* s = b.page(2 * P, true);
  ASSERT_NE(s, nullptr);
  EXPECT_NE(s, mm.host(m));
  std::memset(s, 0, P);
  EXPECT_EQ(oom, 1);
  EXPECT_EQ(b.at(2), m);
  EXPECT_EQ(mm.refs(m), 2u);
  EXPECT_TRUE(holds(a, 2, d));
  EXPECT_TRUE(holds(b, 2, d));
}

// ---- BootImageCache ---------------------------------------------------------

BootImageCache::Key key(const std::string& kind, uint64_t ino) {
  BootImageCache::Key k;
  k.kind = kind;
  k.ino = ino;
  k.size = 3 * P;
  return k;
}

struct Images : ::testing::Test {
  MachineMemory mm{std::vector<uint64_t>{16 * P, 16 * P}};
  GuestMemory a = small_pmap(mm, 0, 0);
  GuestMemory b = small_pmap(mm, 1, 1);
  const std::vector<uint8_t> img[3] = {pattern(10), pattern(11), pattern(12)};
  std::vector<const uint8_t*> a_dropped;
  // The image: guest pages 4..6 of VM a.
  void load_into_a() {
    a.invalidate = [this](const uint8_t* hp) { a_dropped.push_back(hp); };
    for (int i = 0; i < 3; ++i) fill(a, 4 + i, img[i]);
  }
};

TEST_F(Images, PublishPinsAndMapIntoSharesTheSamePages) {
  BootImageCache cache(mm);
  load_into_a();
  BootImageCache::Entry meta;
  meta.bytes = 3 * P;
  cache.publish(key("initrd", 1), a, 4 * P, 7 * P, meta);
  EXPECT_EQ(cache.pinned_pages(), 3u);
  for (uint64_t g = 4; g < 7; ++g) {
    EXPECT_EQ(mm.refs(a.at(g)), 2u);
    EXPECT_FALSE(mm.writable_in_place(a.at(g)));
  }
  // The publisher's cached stores to its now-shared pages were dropped.
  EXPECT_EQ(a_dropped.size(), 3u);
  EXPECT_EQ(mm.used_pages(), 3u);

  EXPECT_EQ(cache.map_into(key("initrd", 2), b), nullptr);
  EXPECT_EQ(cache.map_into(key("kernel", 1), b), nullptr);
  const BootImageCache::Entry* e = cache.map_into(key("initrd", 1), b);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->bytes, 3 * P);
  EXPECT_EQ(e->pages.size(), 3u);
  EXPECT_EQ(cache.hits(), 1u);
  for (uint64_t g = 4; g < 7; ++g) {
    EXPECT_EQ(b.at(g), a.at(g));
    EXPECT_EQ(mm.refs(b.at(g)), 3u);
    EXPECT_TRUE(holds(b, g, img[g - 4]));
  }
  EXPECT_EQ(mm.used_pages(), 3u) << "mapping the image costs no pages";
  EXPECT_EQ(b.stats().shared, 3u);
}

TEST_F(Images, WritesByEitherVmCopy) {
  BootImageCache cache(mm);
  load_into_a();
  cache.publish(key("kernel", 1), a, 4 * P, 7 * P, {});
  ASSERT_NE(cache.map_into(key("kernel", 1), b), nullptr);
  const MPage m4 = a.at(4), m5 = a.at(5);
  a.page(4 * P, true)[0] ^= 0xff;
  b.page(5 * P, true)[1] ^= 0xff;
  EXPECT_NE(a.at(4), m4);
  EXPECT_NE(b.at(5), m5);
  EXPECT_EQ(b.at(4), m4);
  EXPECT_EQ(a.at(5), m5);
  EXPECT_TRUE(holds(b, 4, img[0]));
  EXPECT_TRUE(holds(a, 5, img[1]));
  EXPECT_TRUE(std::memcmp(mm.host(m4), img[0].data(), P) == 0) << "the cached image is intact";
  EXPECT_TRUE(std::memcmp(mm.host(m5), img[1].data(), P) == 0);
  EXPECT_EQ(a.stats().cow_breaks, 1u);
  EXPECT_EQ(b.stats().cow_breaks, 1u);
  EXPECT_EQ(mm.used_pages(), 5u);
}

// The publisher alone writes an image page: the cache still holds the
// original for the next VM.
TEST_F(Images, PublisherWriteKeepsTheImageForLaterVms) {
  BootImageCache cache(mm);
  load_into_a();
  cache.publish(key("kernel", 1), a, 4 * P, 7 * P, {});
  a.page(6 * P, true)[0] ^= 0xff;
  ASSERT_NE(cache.map_into(key("kernel", 1), b), nullptr);
  EXPECT_TRUE(holds(b, 6, img[2]));
  EXPECT_FALSE(holds(a, 6, img[2]));
}

TEST_F(Images, PublishSkipsUntouchedPagesAndRepeats) {
  BootImageCache cache(mm);
  load_into_a();
  a.page(8 * P, false);  // read only: the zero page
  BootImageCache::Entry meta;
  meta.bytes = 1;
  cache.publish(key("initrd", 1), a, 4 * P, 11 * P, meta);
  EXPECT_EQ(cache.pinned_pages(), 3u);
  meta.bytes = 2;
  cache.publish(key("initrd", 1), a, 4 * P, 5 * P, meta);  // already there
  EXPECT_EQ(cache.pinned_pages(), 3u);
  const BootImageCache::Entry* e = cache.map_into(key("initrd", 1), b);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->bytes, 1u);
  EXPECT_EQ(b.at(7), kNoPage);
  EXPECT_EQ(b.at(8), kNoPage);
}

TEST_F(Images, MapIntoAVmTooSmallMapsNothing) {
  BootImageCache cache(mm);
  load_into_a();
  cache.publish(key("kernel", 1), a, 4 * P, 7 * P, {});
  GuestMemory tiny = small_pmap(mm, 2, 0, 5);  // pages 0..4 only
  EXPECT_EQ(cache.map_into(key("kernel", 1), tiny), nullptr);
  for (uint64_t g = 0; g < tiny.pages(); ++g) EXPECT_EQ(tiny.at(g), kNoPage);
  EXPECT_EQ(cache.hits(), 0u);
  EXPECT_EQ(mm.refs(a.at(4)), 2u);
}

TEST_F(Images, TrimReleasesAnImageNobodyMapsAnyMore) {
  BootImageCache cache(mm);
  load_into_a();
  cache.publish(key("kernel", 1), a, 4 * P, 7 * P, {});
  ASSERT_NE(cache.map_into(key("kernel", 1), b), nullptr);
  const MPage m4 = a.at(4), m5 = a.at(5);
  EXPECT_EQ(cache.trim(), 0u);
  EXPECT_EQ(cache.pinned_pages(), 3u);
  // One VM writes page 4: still mapped by the other, nothing to trim.
  a.page(4 * P, true)[0] ^= 1;
  EXPECT_EQ(cache.trim(), 0u);
  EXPECT_EQ(cache.pinned_pages(), 3u);
  // Both did: only the cache holds page 4 now.
  b.page(4 * P, true)[0] ^= 1;
  EXPECT_EQ(mm.refs(m4), 1u);
  const uint64_t used = mm.used_pages();
  EXPECT_EQ(cache.trim(), 1u);
  EXPECT_EQ(cache.pinned_pages(), 0u);
  EXPECT_EQ(mm.used_pages(), used - 1);
  EXPECT_EQ(mm.refs(m4), 0u);
  // The pages the VMs still map stay, shared by the two VMs only.
  EXPECT_EQ(mm.refs(m5), 2u);
  EXPECT_EQ(mm.mappers(m5), std::vector<PageMapper>({{0, 5}, {1, 5}}));
  EXPECT_TRUE(holds(a, 5, img[1]));
  EXPECT_TRUE(holds(b, 6, img[2]));
  // The file is loaded again next time.
  GuestMemory c = small_pmap(mm, 2);
  EXPECT_EQ(cache.map_into(key("kernel", 1), c), nullptr);
}

TEST_F(Images, DestructorReleasesPinnedPages) {
  {
    BootImageCache cache(mm);
    load_into_a();
    cache.publish(key("kernel", 1), a, 4 * P, 7 * P, {});
    a.page(4 * P, true)[0] ^= 1;  // page 4's original is held by the cache alone
    EXPECT_EQ(mm.used_pages(), 4u);
  }
  EXPECT_EQ(mm.used_pages(), 3u);
  for (uint64_t g = 4; g < 7; ++g) EXPECT_TRUE(mm.writable_in_place(a.at(g)));
}

TEST(BootImageKey, IdentifiesAFile) {
  char path[] = "/tmp/disco-memory-test-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "hello", 5), 5);
  close(fd);
  BootImageCache::Key k1, k2, k3;
  ASSERT_TRUE(BootImageCache::key_for(path, "initrd", 0x1000, false, k1));
  ASSERT_TRUE(BootImageCache::key_for(path, "initrd", 0x1000, false, k2));
  ASSERT_TRUE(BootImageCache::key_for(path, "initrd", 0x2000, false, k3));
  EXPECT_EQ(k1.size, 5u);
  EXPECT_EQ(k1.kind, "initrd");
  EXPECT_FALSE(k1 < k2 || k2 < k1);
  EXPECT_TRUE(k1 < k3 || k3 < k1) << "another placement is another image";
  unlink(path);
  BootImageCache::Key k4;
  EXPECT_FALSE(BootImageCache::key_for(path, "initrd", 0, false, k4));
}

}  // namespace
}  // namespace disco::test
