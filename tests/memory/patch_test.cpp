// Sub-page sharing: a cold page that differs from another VM's page at the
// same guest-physical address in a few words is stored as that page plus a
// patch. The patch format round-trips and rejects malformed input; the scan
// patches only pages (and takes only references) the guests left alone for
// an epoch; every access rebuilds the page exactly; the reference stays
// intact when its owner writes it; and nothing leaks when a VM goes.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "monitor/page_patch.h"
#include "monitor/page_sharing.h"
#include "tests/memory/helpers.h"

namespace disco::test {
namespace {

constexpr uint64_t P = kPageSize;

std::vector<uint8_t> with_words_changed(std::vector<uint8_t> p, std::initializer_list<unsigned> words) {
  for (unsigned w : words) p[8 * w + 3] ^= 0x5a;
  return p;
}

TEST(PagePatch, RoundTripsScatteredDifferences) {
  const std::vector<uint8_t> ref = pattern(7);
  const std::vector<uint8_t> page = with_words_changed(ref, {0, 1, 2, 100, 511});
  std::vector<uint8_t> patch;
  ASSERT_TRUE(make_patch(ref.data(), page.data(), 2048, patch));
  // One changed byte in each of those words, 8 bytes apart or more: five
  // records of a 2-byte header and 1 byte.
  EXPECT_EQ(patch.size(), 5 * 3u);
  std::vector<uint8_t> out(P);
  ASSERT_TRUE(apply_patch(ref.data(), patch, out.data()));
  EXPECT_EQ(out, page);
}

TEST(PagePatch, RoundTripsRandomSparseDifferences) {
  uint32_t x = 12345;
  auto rnd = [&x] { return x = x * 1103515245u + 12345u, x >> 8; };
  for (int trial = 0; trial < 300; ++trial) {
    const std::vector<uint8_t> ref = pattern(static_cast<uint32_t>(trial));
    std::vector<uint8_t> page = ref;
    const unsigned changes = rnd() % 400;
    for (unsigned k = 0; k < changes; ++k) page[rnd() % P] ^= static_cast<uint8_t>(1 + rnd() % 255);
    std::vector<uint8_t> patch, out(P);
    if (!make_patch(ref.data(), page.data(), 2048, patch)) continue;
    ASSERT_LE(patch.size(), 2048u);
    ASSERT_TRUE(apply_patch(ref.data(), patch, out.data()));
    ASSERT_EQ(out, page) << "trial " << trial;
  }
}

TEST(PagePatch, EqualPagesGiveAnEmptyPatch) {
  const std::vector<uint8_t> ref = pattern(3);
  std::vector<uint8_t> patch{1, 2, 3};
  ASSERT_TRUE(make_patch(ref.data(), ref.data(), 0, patch));
  EXPECT_TRUE(patch.empty());
}

TEST(PagePatch, RefusesPatchesOverTheLimit) {
  const std::vector<uint8_t> a = pattern(1), b = pattern(2);
  std::vector<uint8_t> patch;
  EXPECT_FALSE(make_patch(a.data(), b.data(), 2048, patch));
  const std::vector<uint8_t> c = with_words_changed(a, {5});
  EXPECT_FALSE(make_patch(a.data(), c.data(), 2, patch)) << "2 + 1 bytes do not fit in 2";
  EXPECT_TRUE(make_patch(a.data(), c.data(), 3, patch));
}

TEST(PagePatch, MalformedPatchesAreRejected) {
  const std::vector<uint8_t> ref = pattern(9);
  std::vector<uint8_t> out(P);
  const std::vector<std::vector<uint8_t>> bad = {
      {0},                        // short header
      {0x00, 0x10, 7},            // 2 bytes announced, 1 given
      {0xff, 0x1f, 1, 2},         // bytes 4095..4096: past the page
      {0x00, 0x00, 0x55, 0x05},   // a good record, then a short header
  };
  for (const auto& p : bad) {
    EXPECT_FALSE(apply_patch(ref.data(), p, out.data()));
    EXPECT_EQ(out, ref) << "a rejected patch leaves the reference";
  }
}

struct Patching : ::testing::Test {
  MachineMemory mm{std::vector<uint64_t>{64 * P, 64 * P}};
  std::unique_ptr<GuestMemory> a = std::make_unique<GuestMemory>(mm, 0, 0, kPages * P, 0, board::kHighRamBase);
  GuestMemory b = small_pmap(mm, 1, 1);
  PageSharing ps{mm};
  std::vector<const uint8_t*> b_dropped;
  int a_flushes = 0;

  void SetUp() override {
    b.invalidate = [this](const uint8_t* hp) { b_dropped.push_back(hp); };
    a->flush_tlb = [this] { ++a_flushes; };
    ps.set_patching(true);
    ps.add(a.get());
    ps.add(&b);
  }
  // A new access epoch for both, as the running scan starts for each VM.
  void epoch() {
    a->new_epoch();
    b.new_epoch();
  }
  void scan_all() { ps.scan(10'000, false); }
};

TEST_F(Patching, ColdNearlyEqualPageBecomesAPatch) {
  const auto base = pattern(1);
  const auto mine = with_words_changed(base, {3, 4, 200});
  fill(*a, 1, mine);
  fill(b, 1, base);
  const MPage ref = b.at(1);
  epoch();
  EXPECT_EQ(a_flushes, 1) << "a new epoch drops the soft TLB";
  scan_all();
  ASSERT_EQ(a->at(1), kPatchedPage);
  EXPECT_EQ(b.at(1), ref) << "the page scanned first is patched against the other";
  EXPECT_EQ(mm.used_pages(), 1u);
  EXPECT_EQ(mm.refs(ref), 2u) << "owner and patch holder";
  std::vector<PageMapper> who = mm.mappers(ref);
  EXPECT_NE(std::find(who.begin(), who.end(), PageMapper{kPatchHolder, 1}), who.end());
  EXPECT_TRUE(std::find(b_dropped.begin(), b_dropped.end(), mm.host(ref)) != b_dropped.end())
      << "the reference's owner lost its store entries";
  EXPECT_GT(mm.patch_bytes(), 0u);
  EXPECT_LT(mm.patch_bytes(), 200u);
  EXPECT_EQ(ps.stats().patched, 1u);
  EXPECT_EQ(a->stats().patched, 1u);
  EXPECT_EQ(a->stats().touched, 1u);
  EXPECT_TRUE(holds(*a, 1, mine)) << "peek rebuilds the page";
  EXPECT_EQ(a->at(1), kPatchedPage) << "... without mapping anything";
}

TEST_F(Patching, AnyAccessRebuildsThePageExactly) {
  const auto base = pattern(2);
  const auto mine = with_words_changed(base, {0, 511});
  fill(*a, 1, mine);
  fill(b, 1, base);
  const MPage ref = b.at(1);
  epoch();
  scan_all();
  ASSERT_EQ(a->at(1), kPatchedPage);
  const uint8_t* host = a->page(a->paddr_of(1), false);  // a read
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(std::memcmp(host, mine.data(), P), 0);
  EXPECT_NE(a->at(1), kPatchedPage);
  EXPECT_TRUE(mm.writable_in_place(a->at(1))) << "rebuilt as a private page";
  EXPECT_EQ(a->stats().patch_faults, 1u);
  EXPECT_EQ(mm.patch_bytes(), 0u);
  EXPECT_EQ(mm.refs(ref), 1u) << "the holder let go of the reference";
  EXPECT_TRUE(mm.writable_in_place(ref)) << "which is its owner's private page again";
  EXPECT_EQ(mm.used_pages(), 2u);
}

TEST_F(Patching, PagesAccessedInTheEpochAreLeftAlone) {
  const auto base = pattern(3);
  fill(*a, 1, with_words_changed(base, {9}));
  fill(b, 1, base);
  scan_all();  // no epoch yet: every page counts as in use
  EXPECT_NE(a->at(1), kPatchedPage);
  epoch();
  a->page(a->paddr_of(1), false);  // the guest reads it
  scan_all();
  EXPECT_NE(a->at(1), kPatchedPage);
  EXPECT_NE(b.at(1), kPatchedPage);
  EXPECT_EQ(mm.used_pages(), 2u);
}

TEST_F(Patching, AReferenceInUseByItsOwnerIsNotTaken) {
  const auto base = pattern(4);
  fill(*a, 1, with_words_changed(base, {9}));
  fill(b, 1, base);
  epoch();
  b.page(b.paddr_of(1), false);  // b is using its page
  scan_all();
  EXPECT_NE(a->at(1), kPatchedPage);
  EXPECT_NE(b.at(1), kPatchedPage) << "nor is b's page, which is in use";
  EXPECT_EQ(mm.used_pages(), 2u);
}

TEST_F(Patching, VeryDifferentPagesAreKept) {
  fill(*a, 1, pattern(5));
  fill(b, 1, pattern(6));
  epoch();
  scan_all();
  EXPECT_NE(a->at(1), kPatchedPage);
  EXPECT_NE(b.at(1), kPatchedPage);
  EXPECT_EQ(mm.used_pages(), 2u);
  EXPECT_EQ(ps.stats().patched, 0u);
}

TEST_F(Patching, EqualPagesAreSharedWholeNotPatched) {
  fill(*a, 1, pattern(7));
  fill(b, 1, pattern(7));
  epoch();
  scan_all();
  EXPECT_EQ(a->at(1), b.at(1));
  EXPECT_EQ(mm.used_pages(), 1u);
  EXPECT_EQ(ps.stats().patched, 0u);
  EXPECT_EQ(ps.stats().merges, 1u);
}

TEST_F(Patching, OwnerWritingTheReferenceCopiesItAndThePatchStaysRight) {
  const auto base = pattern(8);
  const auto mine = with_words_changed(base, {17});
  fill(*a, 1, mine);
  fill(b, 1, base);
  const MPage ref = b.at(1);
  epoch();
  scan_all();
  ASSERT_EQ(a->at(1), kPatchedPage);
  uint8_t* bw = b.page(b.paddr_of(1), true);  // b writes its page
  bw[100] ^= 0xff;
  EXPECT_NE(b.at(1), ref) << "copy-on-write";
  EXPECT_EQ(b.stats().cow_breaks, 1u);
  EXPECT_EQ(mm.refs(ref), 1u) << "kept for the patch alone";
  EXPECT_TRUE(holds(*a, 1, mine));
  EXPECT_EQ(std::memcmp(a->page(a->paddr_of(1), true), mine.data(), P), 0);
  EXPECT_EQ(mm.refs(ref), 0u) << "freed with its last patch";
  EXPECT_EQ(mm.used_pages(), 2u);
}

TEST_F(Patching, DestroyingAPatchedVmReleasesItsReferences) {
  const auto base = pattern(9);
  fill(*a, 1, with_words_changed(base, {1}));
  fill(*a, 2, with_words_changed(pattern(10), {2}));
  fill(b, 1, base);
  fill(b, 2, pattern(10));
  epoch();
  scan_all();
  ASSERT_EQ(a->stats().patched, 2u);
  EXPECT_EQ(mm.used_pages(), 2u);
  ps.remove(a.get());
  a.reset();
  EXPECT_EQ(mm.patch_bytes(), 0u);
  EXPECT_EQ(mm.used_pages(), 2u);
  EXPECT_TRUE(mm.writable_in_place(b.at(1)));
  EXPECT_TRUE(mm.writable_in_place(b.at(2)));
  EXPECT_EQ(mm.shared_pages(), 0u);
}

TEST_F(Patching, ASharedPageServesAsReferenceAndOutlivesItsOwners) {
  const auto base = pattern(11);
  const auto bmine = with_words_changed(base, {40});
  fill(*a, 1, base);
  fill(*a, 2, base);  // merged within a: a shared, read-only page
  fill(b, 1, bmine);
  scan_all();
  ASSERT_EQ(a->at(1), a->at(2));
  const MPage ref = a->at(1);
  epoch();
  a->page(a->paddr_of(1), false);  // in use, but read-only anyway
  scan_all();
  ASSERT_EQ(b.at(1), kPatchedPage);
  EXPECT_EQ(mm.refs(ref), 3u);
  ps.remove(a.get());
  a.reset();
  EXPECT_EQ(mm.used_pages(), 1u) << "the reference stays for b's patch";
  EXPECT_TRUE(holds(b, 1, bmine));
  EXPECT_EQ(std::memcmp(b.page(b.paddr_of(1), false), bmine.data(), P), 0);
  EXPECT_EQ(mm.used_pages(), 1u) << "b's rebuilt page; the reference is gone";
  EXPECT_EQ(mm.refs(ref), 0u);
  EXPECT_EQ(mm.patch_bytes(), 0u);
}

}  // namespace
}  // namespace disco::test
