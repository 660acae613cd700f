// NUMA at the pmap/memmap level: replicas of machine pages (one per node,
// read by that node's vCPUs, collapsed by a write), migration of a page to
// another node, interleaved placement and the lock-free backing() lookup,
// through MachineMemory and GuestMemory directly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <vector>

#include "tests/memory/helpers.h"

namespace disco::test {
namespace {

constexpr uint64_t P = kPageSize;

// The host pages a pmap's `invalidate` was called with, in order.
struct InvalidationLog {
  std::vector<const uint8_t*> pages;
  void attach(GuestMemory& gm) {
    gm.invalidate = [this](const uint8_t* h) { pages.push_back(h); };
  }
  bool has(const uint8_t* h) const { return std::find(pages.begin(), pages.end(), h) != pages.end(); }
};

uint32_t word(const uint8_t* page, unsigned off = 0) {
  uint32_t v;
  std::memcpy(&v, page + off, 4);
  return v;
}

// ---- MachineMemory: replicas ------------------------------------------------

TEST(Replicas, OnExactlyTheNodeAskedWithTheSameBytes) {
  MachineMemory mm({4 * P, 4 * P, 4 * P});
  const MPage m = mm.alloc(0, {0, 3});
  const auto bytes = pattern(7);
  std::memcpy(mm.host(m), bytes.data(), P);
  ASSERT_TRUE(mm.writable_in_place(m));

  const MPage r = mm.add_replica(m, 2);
  ASSERT_NE(r, kNoPage);
  EXPECT_EQ(mm.node_of(r), 2u);
  EXPECT_EQ(std::memcmp(mm.host(r), bytes.data(), P), 0);
  EXPECT_EQ(mm.used_pages(), 2u);
  EXPECT_EQ(mm.used_pages_on(2), 1u);
  EXPECT_EQ(mm.replica_pages(), 1u);
  EXPECT_TRUE(mm.replicated(m));
  EXPECT_EQ(mm.replica_on(m, 2), r);
  EXPECT_EQ(mm.replica_on(m, 1), kNoPage);
  EXPECT_EQ(mm.replica_on(m, 0), kNoPage);  // the master's own node reads the master
  EXPECT_EQ(mm.replica_relaxed(m, 2), r);
  EXPECT_EQ(mm.replica_relaxed(m, 1), kNoPage);
  EXPECT_EQ(mm.replicas(m), std::vector<MPage>{r});
  EXPECT_EQ(mm.master_of(r), m);
  EXPECT_EQ(mm.master_of(m), kNoPage);
  EXPECT_EQ(mm.refs(r), 0u) << "a replica has no mappers of its own";
  EXPECT_EQ(mm.refs(m), 1u);
  EXPECT_EQ(mm.mappers(m), std::vector<PageMapper>({{0, 3}}));
  // A replicated master is read-only even to its only mapper.
  EXPECT_FALSE(mm.writable_in_place(m));
  EXPECT_EQ(mm.write_access(m), MachineMemory::WriteAccess::Collapse);

  const MPage r1 = mm.add_replica(m, 1);
  ASSERT_NE(r1, kNoPage);
  EXPECT_EQ(mm.node_of(r1), 1u);
  EXPECT_EQ(mm.replica_relaxed(m, 1), r1);
  EXPECT_EQ(mm.replica_relaxed(m, 2), r);
  std::vector<MPage> both = mm.replicas(m);
  std::sort(both.begin(), both.end());
  EXPECT_EQ(both, (std::vector<MPage>{std::min(r, r1), std::max(r, r1)}));
  EXPECT_EQ(mm.replica_pages(), 2u);
}

TEST(Replicas, RefusedWhereTheyMakeNoSense) {
  MachineMemory mm({4 * P, 4 * P});
  const MPage m = mm.alloc(0, {0, 0});
  const MPage r = mm.add_replica(m, 1);
  ASSERT_NE(r, kNoPage);
  EXPECT_EQ(mm.add_replica(m, 1), kNoPage) << "one replica per node";
  EXPECT_EQ(mm.add_replica(m, 0), kNoPage) << "the master's own node";
  EXPECT_EQ(mm.add_replica(m, 7), kNoPage) << "no such node";
  EXPECT_EQ(mm.add_replica(r, 0), kNoPage) << "a replica of a replica";
  EXPECT_EQ(mm.add_replica(mm.zero_page(), 1), kNoPage);
  const MPage spare = mm.alloc(0, {0, 1});
  mm.unmap(spare, {0, 1});
  EXPECT_EQ(mm.add_replica(spare, 1), kNoPage) << "a free page";
  EXPECT_EQ(mm.replica_pages(), 1u);
  EXPECT_EQ(mm.used_pages(), 2u);
}

// No fallback: a replica elsewhere would not be local to anyone.
TEST(Replicas, AFullNodeRefusesInsteadOfFallingBack) {
  MachineMemory mm({4 * P, 2 * P, 4 * P});
  const MPage m = mm.alloc(0, {0, 0});
  ASSERT_NE(mm.alloc(1, {1, 0}), kNoPage);
  ASSERT_NE(mm.alloc(1, {1, 1}), kNoPage);
  EXPECT_EQ(mm.add_replica(m, 1), kNoPage);
  EXPECT_FALSE(mm.replicated(m));
  EXPECT_TRUE(mm.writable_in_place(m));
  EXPECT_EQ(mm.used_pages_on(2), 0u);
  EXPECT_EQ(mm.replica_pages(), 0u);
}

TEST(Replicas, FreeingTheMasterFreesThem) {
  MachineMemory mm({4 * P, 4 * P, 4 * P});
  const MPage m = mm.alloc(0, {0, 0});
  std::memset(mm.host(m), 0x5a, P);
  const MPage r1 = mm.add_replica(m, 1), r2 = mm.add_replica(m, 2);
  ASSERT_NE(r1, kNoPage);
  ASSERT_NE(r2, kNoPage);
  mm.unmap(m, {0, 0});
  EXPECT_EQ(mm.used_pages(), 0u);
  for (unsigned n = 0; n < 3; ++n) EXPECT_EQ(mm.used_pages_on(n), 0u);
  EXPECT_EQ(mm.replica_pages(), 0u);
  EXPECT_EQ(mm.master_of(r1), kNoPage);
  EXPECT_EQ(mm.replica_relaxed(m, 1), kNoPage);
  // The replicas' pages come back zeroed, as plain pages.
  const MPage again = mm.alloc(1, {1, 0});
  EXPECT_EQ(again, r1);
  EXPECT_TRUE(all_zero(mm.host(again)));
  EXPECT_TRUE(mm.writable_in_place(again));
}

TEST(Replicas, SharedMasterKeepsThemUntilItsLastMapperGoes) {
  MachineMemory mm({4 * P, 4 * P});
  const MPage m = mm.alloc(0, {0, 0});
  mm.map(m, {1, 5});
  ASSERT_NE(mm.add_replica(m, 1), kNoPage);
  EXPECT_EQ(mm.write_access(m), MachineMemory::WriteAccess::Copy) << "shared: a write copies";
  mm.unmap(m, {0, 0});
  EXPECT_EQ(mm.replica_pages(), 1u);
  EXPECT_TRUE(mm.replicated(m));
  EXPECT_EQ(mm.write_access(m), MachineMemory::WriteAccess::Collapse) << "private now: a write collapses";
  mm.unmap(m, {1, 5});
  EXPECT_EQ(mm.replica_pages(), 0u);
  EXPECT_EQ(mm.used_pages(), 0u);
}

TEST(Replicas, DropFreesThemAndTheMasterIsWritableAgain) {
  MachineMemory mm({4 * P, 4 * P, 4 * P});
  const MPage m = mm.alloc(0, {0, 0});
  mm.add_replica(m, 1);
  mm.add_replica(m, 2);
  EXPECT_EQ(mm.drop_replicas(m), 2u);
  EXPECT_EQ(mm.drop_replicas(m), 0u);
  EXPECT_FALSE(mm.replicated(m));
  EXPECT_TRUE(mm.writable_in_place(m));
  EXPECT_EQ(mm.used_pages(), 1u);
  EXPECT_EQ(mm.used_pages_on(1) + mm.used_pages_on(2), 0u);
  EXPECT_EQ(mm.replica_pages(), 0u);
}

// A collapse: detached replicas are not found any more, stay allocated
// (entries may still point into them) and keep the master read-only until
// the collapse ends; only one ending counts.
TEST(Replicas, CollapseInTwoSteps) {
  MachineMemory mm({4 * P, 4 * P, 4 * P});
  const MPage m = mm.alloc(0, {3, 0});
  const MPage r1 = mm.add_replica(m, 1), r2 = mm.add_replica(m, 2);
  std::vector<MPage> got = mm.detach_replicas(m);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<MPage>{std::min(r1, r2), std::max(r1, r2)}));
  EXPECT_TRUE(mm.collapsing(m));
  EXPECT_FALSE(mm.replicated(m));
  EXPECT_EQ(mm.replica_on(m, 1), kNoPage);
  EXPECT_EQ(mm.replica_relaxed(m, 1), kNoPage);
  EXPECT_EQ(mm.replica_relaxed(m, 2), kNoPage);
  EXPECT_FALSE(mm.writable_in_place(m));
  EXPECT_EQ(mm.write_access(m), MachineMemory::WriteAccess::Collapse);
  EXPECT_EQ(mm.add_replica(m, 1), kNoPage) << "not while collapsing";
  EXPECT_EQ(mm.replica_pages(), 2u);
  EXPECT_EQ(mm.used_pages(), 3u);
  EXPECT_EQ(mm.detach_replicas(m).size(), 2u) << "a second writer gets the same replicas";

  EXPECT_TRUE(mm.end_collapse(m, 3));
  EXPECT_FALSE(mm.end_collapse(m, 3)) << "ended once";
  EXPECT_FALSE(mm.collapsing(m));
  EXPECT_TRUE(mm.writable_in_place(m));
  EXPECT_EQ(mm.replica_pages(), 0u);
  EXPECT_EQ(mm.used_pages(), 1u);
  const auto log = mm.take_collapses();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].page, m);
  EXPECT_EQ(log[0].vm, 3u);
  EXPECT_TRUE(mm.take_collapses().empty());
}

// ---- MachineMemory: migration -----------------------------------------------

TEST(Migration, MovesBytesRefsAndMappersToTheNode) {
  MachineMemory mm({4 * P, 4 * P, 4 * P});
  const MPage m = mm.alloc(0, {0, 9});
  const auto bytes = pattern(3);
  std::memcpy(mm.host(m), bytes.data(), P);
  ASSERT_TRUE(mm.migratable(m));
  const MPage n = mm.migrate(m, 2);
  ASSERT_NE(n, kNoPage);
  ASSERT_NE(n, m);
  EXPECT_EQ(mm.node_of(n), 2u);
  EXPECT_EQ(std::memcmp(mm.host(n), bytes.data(), P), 0);
  EXPECT_EQ(mm.refs(n), 1u);
  EXPECT_EQ(mm.mappers(n), std::vector<PageMapper>({{0, 9}}));
  EXPECT_TRUE(mm.writable_in_place(n));
  EXPECT_EQ(mm.refs(m), 0u) << "the old page is free";
  EXPECT_TRUE(all_zero(mm.host(m)));
  EXPECT_EQ(mm.used_pages(), 1u);
  EXPECT_EQ(mm.used_pages_on(0), 0u);
  EXPECT_EQ(mm.used_pages_on(2), 1u);
  EXPECT_EQ(mm.migrate(n, 2), n) << "already there";
}

TEST(Migration, SharedPageTakesItsMapperList) {
  MachineMemory mm({4 * P, 4 * P});
  const MPage m = mm.alloc(0, {0, 1});
  mm.map(m, {1, 2});
  mm.map(m, {2, 3});
  const MPage n = mm.migrate(m, 1);
  ASSERT_NE(n, kNoPage);
  EXPECT_EQ(mm.refs(n), 3u);
  EXPECT_EQ(mm.mappers(n), std::vector<PageMapper>({{0, 1}, {1, 2}, {2, 3}}));
  EXPECT_EQ(mm.shared_pages(), 1u);
  EXPECT_FALSE(mm.writable_in_place(n));
  // Unmapping goes on from the new page's list.
  mm.unmap(n, {1, 2});
  mm.unmap(n, {0, 1});
  EXPECT_EQ(mm.mappers(n), std::vector<PageMapper>({{2, 3}}));
  EXPECT_EQ(mm.shared_pages(), 0u);
  EXPECT_TRUE(mm.writable_in_place(n));
}

TEST(Migration, OnlyPagesMappedByVmsAloneMove) {
  MachineMemory mm({4 * P, 4 * P});
  EXPECT_FALSE(mm.migratable(mm.zero_page()));
  EXPECT_EQ(mm.migrate(mm.zero_page(), 1), kNoPage);

  const MPage image = mm.alloc(0, {0, 0});
  mm.map(image, {kImageHolder, 0});
  EXPECT_FALSE(mm.vm_mapped_only(image));
  EXPECT_EQ(mm.migrate(image, 1), kNoPage);

  const MPage ref = mm.alloc(0, {0, 1});
  mm.map(ref, {kPatchHolder, 1});
  EXPECT_FALSE(mm.vm_mapped_only(ref));
  EXPECT_EQ(mm.migrate(ref, 1), kNoPage);

  const MPage rep = mm.alloc(0, {0, 2});
  EXPECT_TRUE(mm.vm_mapped_only(rep));
  const MPage r = mm.add_replica(rep, 1);
  EXPECT_FALSE(mm.migratable(rep)) << "replicated";
  EXPECT_FALSE(mm.migratable(r)) << "a replica";
  EXPECT_EQ(mm.migrate(rep, 1), kNoPage);

  const MPage free_page = mm.alloc(0, {0, 3});
  mm.unmap(free_page, {0, 3});
  EXPECT_FALSE(mm.migratable(free_page));
  EXPECT_EQ(mm.used_pages(), 4u);
}

TEST(Migration, AFullNodeRefuses) {
  MachineMemory mm({4 * P, 1 * P});
  ASSERT_NE(mm.alloc(1, {1, 0}), kNoPage);
  const MPage m = mm.alloc(0, {0, 0});
  EXPECT_EQ(mm.migrate(m, 1), kNoPage);
  EXPECT_EQ(mm.refs(m), 1u) << "left where it was";
  EXPECT_EQ(mm.node_of(m), 0u);
}

// ---- GuestMemory: replicas --------------------------------------------------

// Three nodes; VMs found by id.
class NumaPmaps : public ::testing::Test {
 protected:
  MachineMemory mm{{16 * P, 16 * P, 16 * P}};
  std::vector<GuestMemory*> vms;
  GuestMemory::VmLookup lookup = [this](uint32_t id) { return id < vms.size() ? vms[id] : nullptr; };
  void add(GuestMemory& gm) {
    if (vms.size() <= gm.vm_id()) vms.resize(gm.vm_id() + 1, nullptr);
    vms[gm.vm_id()] = &gm;
  }
};

TEST_F(NumaPmaps, ReadsOnANodeWithAReplicaGetIt) {
  GuestMemory a = small_pmap(mm, 0, 0);
  add(a);
  InvalidationLog log;
  log.attach(a);
  const auto bytes = pattern(11);
  fill(a, 4, bytes);
  const MPage m = a.at(4);
  const uint64_t pa = a.paddr_of(4);

  const MPage r = GuestMemory::replicate_page(mm, lookup, m, 1);
  ASSERT_NE(r, kNoPage);
  EXPECT_EQ(log.pages, std::vector<const uint8_t*>{mm.host(m)}) << "the owner's entries into the master go";
  EXPECT_EQ(a.at(4), m) << "the pmap keeps the master";
  EXPECT_EQ(a.page(pa, false, 1), mm.host(r));
  EXPECT_EQ(a.page(pa, false, 2), mm.host(m));
  EXPECT_EQ(a.page(pa, false, 0), mm.host(m));
  EXPECT_EQ(a.page(pa, false), mm.host(m)) << "devices read as the home node";
  EXPECT_EQ(std::memcmp(a.page(pa, false, 1), bytes.data(), P), 0);
  EXPECT_FALSE(mm.writable_in_place(m));
  EXPECT_EQ(a.backing(pa, 1), r);
  EXPECT_EQ(a.backing(pa, 2), m);
  const auto s = a.stats();
  EXPECT_EQ(s.replications, 1u);
  EXPECT_EQ(s.replicated, 1u);
  EXPECT_EQ(s.collapses, 0u);
}

// A write from any node collapses: the replicas' entries go, they are
// freed, and the write, made in the master, is what every node reads.
TEST_F(NumaPmaps, AWriteCollapsesTheReplicas) {
  GuestMemory a = small_pmap(mm, 0, 0);
  add(a);
  InvalidationLog log;
  log.attach(a);
  fill(a, 4, pattern(1));
  const MPage m = a.at(4);
  const uint64_t pa = a.paddr_of(4);
  const MPage r1 = GuestMemory::replicate_page(mm, lookup, m, 1);
  const MPage r2 = GuestMemory::replicate_page(mm, lookup, m, 2);
  ASSERT_NE(r1, kNoPage);
  ASSERT_NE(r2, kNoPage);
  log.pages.clear();

  uint8_t* w = a.page(pa, true, 2);
  EXPECT_EQ(w, mm.host(m)) << "the write goes to the master, in place";
  EXPECT_TRUE(log.has(mm.host(r1)));
  EXPECT_TRUE(log.has(mm.host(r2)));
  EXPECT_EQ(mm.replica_pages(), 0u);
  EXPECT_EQ(mm.used_pages_on(1) + mm.used_pages_on(2), 0u);
  EXPECT_FALSE(mm.replicated(m));
  EXPECT_TRUE(mm.writable_in_place(m));
  EXPECT_EQ(a.at(4), m);
  const uint32_t v = 0xfeedf00d;
  std::memcpy(w + 64, &v, 4);
  for (unsigned n = 0; n < 3; ++n) {
    EXPECT_EQ(a.page(pa, false, n), mm.host(m)) << "node " << n;
    EXPECT_EQ(word(a.page(pa, false, n), 64), v) << "node " << n;
    EXPECT_EQ(a.backing(pa, n), m);
  }
  EXPECT_EQ(a.stats().collapses, 1u);
  EXPECT_EQ(a.stats().cow_breaks, 0u);
  const auto collapses = mm.take_collapses();
  ASSERT_EQ(collapses.size(), 1u);
  EXPECT_EQ(collapses[0].page, m);
  EXPECT_EQ(collapses[0].vm, 0u);
  // A second write needs nothing more.
  log.pages.clear();
  EXPECT_EQ(a.page(pa, true, 1), mm.host(m));
  EXPECT_TRUE(log.pages.empty());
}

// A replicated page two VMs share (copy-on-write): A's write copies it, and
// A's entries into the master and its replicas go; B still reads the
// replica, with the old bytes. B, now the page's only mapper, collapses it
// when it writes.
TEST_F(NumaPmaps, SharedPageReplicatedThenCopiedOnWrite) {
  GuestMemory a = small_pmap(mm, 0, 0), b = small_pmap(mm, 1, 0);
  add(a);
  add(b);
  InvalidationLog la, lb;
  la.attach(a);
  lb.attach(b);
  const auto bytes = pattern(5);
  fill(a, 2, bytes);
  const MPage m = a.at(2);
  mm.map(m, {1, 2});
  b.remap(2, m);
  ASSERT_EQ(mm.refs(m), 2u);
  const uint64_t pa = a.paddr_of(2);
  const MPage r = GuestMemory::replicate_page(mm, lookup, m, 1);
  ASSERT_NE(r, kNoPage);
  EXPECT_TRUE(la.has(mm.host(m)));
  EXPECT_TRUE(lb.has(mm.host(m)));
  EXPECT_EQ(a.stats().replications, 1u);
  EXPECT_EQ(b.stats().replications, 1u);
  EXPECT_EQ(a.page(pa, false, 1), mm.host(r));
  EXPECT_EQ(b.page(pa, false, 1), mm.host(r));
  la.pages.clear();
  lb.pages.clear();

  uint8_t* w = a.page(pa, true, 1);
  ASSERT_NE(w, nullptr);
  EXPECT_NE(w, mm.host(m));
  EXPECT_NE(w, mm.host(r));
  EXPECT_EQ(std::memcmp(w, bytes.data(), P), 0) << "the copy has the page's bytes";
  std::memset(w, 0xaa, 16);
  EXPECT_EQ(a.stats().cow_breaks, 1u);
  EXPECT_EQ(a.stats().collapses, 0u);
  EXPECT_TRUE(la.has(mm.host(m)));
  EXPECT_TRUE(la.has(mm.host(r))) << "A's entries into the replica go too";
  EXPECT_TRUE(lb.pages.empty()) << "B keeps its entries";
  EXPECT_TRUE(mm.replicated(m)) << "the replica stays for B";
  EXPECT_EQ(b.page(pa, false, 1), mm.host(r));
  EXPECT_EQ(std::memcmp(b.page(pa, false, 1), bytes.data(), P), 0);
  EXPECT_EQ(std::memcmp(b.page(pa, false, 0), bytes.data(), P), 0);
  EXPECT_EQ(word(a.page(pa, false, 1)), 0xaaaaaaaau);

  uint8_t* wb = b.page(pa, true, 0);
  EXPECT_EQ(wb, mm.host(m));
  EXPECT_TRUE(lb.has(mm.host(r)));
  EXPECT_EQ(b.stats().collapses, 1u);
  EXPECT_EQ(mm.replica_pages(), 0u);
}

// Whenever a VM stops mapping a page (here the sharing scan's remap), its
// entries into the page's replicas go as well as those into the master.
TEST_F(NumaPmaps, RemapDropsEntriesIntoReplicas) {
  GuestMemory a = small_pmap(mm, 0, 0), b = small_pmap(mm, 1, 0);
  add(a);
  add(b);
  InvalidationLog la;
  la.attach(a);
  fill(a, 3, pattern(2));
  const MPage m = a.at(3);
  mm.map(m, {1, 3});
  b.remap(3, m);
  const MPage r = GuestMemory::replicate_page(mm, lookup, m, 2);
  ASSERT_NE(r, kNoPage);
  la.pages.clear();
  mm.map(mm.zero_page(), {0, 3});
  a.remap(3, mm.zero_page());
  EXPECT_TRUE(la.has(mm.host(m)));
  EXPECT_TRUE(la.has(mm.host(r)));
  EXPECT_EQ(mm.refs(m), 1u);
  EXPECT_TRUE(mm.replicated(m));
}

TEST_F(NumaPmaps, DestroyingTheLastMapperFreesTheReplicas) {
  {
    GuestMemory a = small_pmap(mm, 0, 0);
    add(a);
    fill(a, 1, pattern(9));
    ASSERT_NE(GuestMemory::replicate_page(mm, lookup, a.at(1), 1), kNoPage);
    ASSERT_NE(GuestMemory::replicate_page(mm, lookup, a.at(1), 2), kNoPage);
    EXPECT_EQ(mm.used_pages(), 3u);
    vms.clear();
  }
  EXPECT_EQ(mm.used_pages(), 0u);
  EXPECT_EQ(mm.replica_pages(), 0u);
}

TEST_F(NumaPmaps, ReplicationNeedsAVmItCanReach) {
  GuestMemory a = small_pmap(mm, 0, 0);
  fill(a, 1, pattern(4));
  EXPECT_EQ(GuestMemory::replicate_page(mm, lookup, a.at(1), 1), kNoPage) << "VM 0 is not in the lookup";
  EXPECT_EQ(GuestMemory::migrate_page(mm, lookup, a.at(1), 1), kNoPage);
  EXPECT_EQ(mm.replica_pages(), 0u);
  EXPECT_EQ(mm.node_of(a.at(1)), 0u);
  // An image page that a VM maps replicates (read-only anyway), but it does
  // not migrate: the image cache holds its number.
  add(a);
  const MPage m = a.at(1);
  mm.map(m, {kImageHolder, 1});
  EXPECT_EQ(GuestMemory::migrate_page(mm, lookup, m, 1), kNoPage);
  EXPECT_NE(GuestMemory::replicate_page(mm, lookup, m, 1), kNoPage);
  mm.unmap(m, {kImageHolder, 1});
}

// ---- GuestMemory: migration -------------------------------------------------

TEST_F(NumaPmaps, MigratingAPrivatePage) {
  GuestMemory a = small_pmap(mm, 0, 0);
  add(a);
  InvalidationLog log;
  log.attach(a);
  const auto bytes = pattern(21);
  fill(a, 6, bytes);
  const MPage m = a.at(6);
  const uint64_t pa = a.paddr_of(6);
  log.pages.clear();

  const MPage n = GuestMemory::migrate_page(mm, lookup, m, 2);
  ASSERT_NE(n, kNoPage);
  EXPECT_EQ(mm.node_of(n), 2u);
  EXPECT_EQ(a.at(6), n);
  EXPECT_EQ(log.pages, std::vector<const uint8_t*>{mm.host(m)});
  EXPECT_EQ(mm.refs(m), 0u);
  EXPECT_EQ(mm.used_pages_on(0), 0u);
  EXPECT_EQ(mm.used_pages_on(2), 1u);
  EXPECT_TRUE(holds(a, 6, bytes));
  EXPECT_EQ(a.page(pa, true, 0), mm.host(n)) << "still private: written in place";
  const auto s = a.stats();
  EXPECT_EQ(s.migrations, 1u);
  EXPECT_EQ(s.remote, 1u);
  EXPECT_EQ(s.node_pages, (std::vector<uint64_t>{0, 0, 1}));
}

TEST_F(NumaPmaps, MigratingAPageTwoVmsShare) {
  GuestMemory a = small_pmap(mm, 0, 0), b = small_pmap(mm, 1, 1);
  add(a);
  add(b);
  InvalidationLog la, lb;
  la.attach(a);
  lb.attach(b);
  const auto bytes = pattern(8);
  fill(a, 7, bytes);
  const MPage m = a.at(7);
  mm.map(m, {1, 12});
  b.remap(12, m);
  la.pages.clear();
  lb.pages.clear();

  const MPage n = GuestMemory::migrate_page(mm, lookup, m, 1);
  ASSERT_NE(n, kNoPage);
  EXPECT_EQ(a.at(7), n);
  EXPECT_EQ(b.at(12), n);
  EXPECT_EQ(la.pages, std::vector<const uint8_t*>{mm.host(m)});
  EXPECT_EQ(lb.pages, std::vector<const uint8_t*>{mm.host(m)});
  EXPECT_EQ(mm.refs(n), 2u);
  EXPECT_TRUE(holds(a, 7, bytes));
  EXPECT_TRUE(holds(b, 12, bytes));
  EXPECT_EQ(a.stats().migrations, 1u);
  EXPECT_EQ(b.stats().migrations, 1u);
  // Still copy-on-write.
  uint8_t* w = b.page(b.paddr_of(12), true, 1);
  EXPECT_NE(w, mm.host(n));
  EXPECT_EQ(mm.refs(n), 1u);
}

// ---- Placement and backing() ------------------------------------------------

TEST_F(NumaPmaps, InterleavedPlacementSpreadsPagesByGuestPage) {
  GuestMemory a(mm, 0, 1, test::kPages * P, 0, board::kHighRamBase, Placement::Interleave);
  EXPECT_EQ(a.placement(), Placement::Interleave);
  for (uint64_t g = 0; g < 6; ++g) {
    a.page(a.paddr_of(g), true, 0);
    EXPECT_EQ(mm.node_of(a.at(g)), g % 3) << "guest page " << g;
  }
  GuestMemory b = small_pmap(mm, 1, 1);
  EXPECT_EQ(b.placement(), Placement::Home);
  b.page(b.paddr_of(0), true, 2);
  EXPECT_EQ(mm.node_of(b.at(0)), 1u) << "home placement ignores the writer's node";
  b.set_placement(Placement::Interleave);
  b.page(b.paddr_of(5), true, 0);
  EXPECT_EQ(mm.node_of(b.at(5)), 2u);
  // A copy-on-write copy is placed the same way.
  mm.map(a.at(4), {1, 4});
  b.remap(4, a.at(4));
  b.page(b.paddr_of(4), true, 0);
  EXPECT_EQ(mm.node_of(b.at(4)), 1u);
  EXPECT_EQ(b.stats().cow_breaks, 1u);
}

TEST_F(NumaPmaps, InterleaveFallsBackWhenTheNodeIsFull) {
  MachineMemory small({2 * P, 1 * P});
  GuestMemory a(small, 0, 0, 4 * P, 0, board::kHighRamBase, Placement::Interleave);
  a.page(a.paddr_of(1), true);
  a.page(a.paddr_of(3), true);  // node 1 is full: node 0
  EXPECT_EQ(small.node_of(a.at(1)), 1u);
  EXPECT_EQ(small.node_of(a.at(3)), 0u);
}

TEST_F(NumaPmaps, BackingSaysWhatAReadWouldUse) {
  GuestMemory a = small_pmap(mm, 0, 0);
  add(a);
  EXPECT_EQ(a.backing(a.paddr_of(0), 0), kNoPage) << "untouched";
  EXPECT_EQ(a.backing(0x1000'0000, 0), kNoPage) << "not RAM";
  a.page(a.paddr_of(0), false);
  EXPECT_EQ(a.backing(a.paddr_of(0), 1), mm.zero_page());
  fill(a, 1, pattern(1));
  EXPECT_EQ(a.backing(a.paddr_of(1) + 123, 2), a.at(1));
  const MPage r = GuestMemory::replicate_page(mm, lookup, a.at(1), 2);
  EXPECT_EQ(a.backing(a.paddr_of(1), 2), r);
  EXPECT_EQ(a.backing(a.paddr_of(1), 1), a.at(1));
  // Patched: no machine page of its own.
  fill(a, 2, pattern(2));
  const MPage ref = a.at(1);
  mm.map(ref, {kPatchHolder, 2});
  a.make_patched(2, ref, {0, 1, 0x77});
  EXPECT_EQ(a.backing(a.paddr_of(2), 0), kNoPage);
}

TEST_F(NumaPmaps, StatsCountPagesPerNode) {
  GuestMemory a(mm, 0, 0, test::kPages * P, 0, board::kHighRamBase, Placement::Interleave);
  add(a);
  for (uint64_t g = 0; g < 5; ++g) a.page(a.paddr_of(g), true);
  a.page(a.paddr_of(9), false);  // the zero page: on no node
  const auto s = a.stats();
  EXPECT_EQ(s.node_pages, (std::vector<uint64_t>{2, 2, 1}));
  EXPECT_EQ(s.remote, 3u);
  EXPECT_EQ(s.zero, 1u);
}

}  // namespace
}  // namespace disco::test
