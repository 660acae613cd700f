// CacheModel: LRU replacement and associativity on hand-made sequences,
// set sampling ("sampled" is exactly "its set is kept"), geometry checks.
#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <vector>

#include "numa-model/cache_model.h"

namespace disco {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

// `n` line addresses that fall in one set of `c` (the set of the first
// line at or after `from`).
std::vector<uint64_t> lines_in_one_set(const CacheModel& c, size_t n, uint64_t from = 0x10000000) {
  std::vector<uint64_t> out;
  const uint32_t set = c.slot(from).set;
  for (uint64_t a = from; out.size() < n; a += kLineBytes)
    if (c.slot(a).set == set) out.push_back(a);
  return out;
}

TEST(CacheModel, Geometry) {
  CacheModel c(kMiB, 2, 32);
  EXPECT_EQ(c.sets(), 4096u);
  EXPECT_EQ(c.kept_sets(), 128u);
  EXPECT_EQ(c.ways(), 2u);
  EXPECT_EQ(c.rate(), 32u);
  CacheModel three(3 * 2048 * kLineBytes, 3, 1);  // not a power of two sets
  EXPECT_EQ(three.sets(), 2048u);
}

TEST(CacheModel, SameLineHitsWholeLine) {
  CacheModel c(kMiB, 2, 1);
  EXPECT_TRUE(c.access(0x4000, false));
  for (uint64_t off = 0; off < kLineBytes; off += 8) EXPECT_FALSE(c.access(0x4000 + off, off & 8)) << off;
  EXPECT_TRUE(c.access(0x4000 + kLineBytes, false));
  EXPECT_EQ(c.accesses(), 18u);
  EXPECT_EQ(c.misses(), 2u);
}

TEST(CacheModel, TwoWayLru) {
  CacheModel c(kMiB, 2, 1);
  const auto l = lines_in_one_set(c, 3);
  const uint64_t a = l[0], b = l[1], d = l[2];
  EXPECT_TRUE(c.access(a, false));   // a
  EXPECT_TRUE(c.access(b, false));   // b a
  EXPECT_FALSE(c.access(a, false));  // a b
  EXPECT_TRUE(c.access(d, true));    // d a: b was least recently used
  EXPECT_FALSE(c.access(a, false));  // a d
  EXPECT_TRUE(c.access(b, false));   // b a: d goes
  EXPECT_TRUE(c.access(d, false));   // d b: a goes
  EXPECT_FALSE(c.contains(a));
  EXPECT_TRUE(c.contains(b));
  EXPECT_TRUE(c.contains(d));
  EXPECT_EQ(c.misses(), 5u);
  EXPECT_EQ(c.write_misses(), 1u);
}

TEST(CacheModel, FourWaysHoldFourLinesOfASet) {
  CacheModel c(kMiB, 4, 1);
  const auto l = lines_in_one_set(c, 5);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(c.access(l[i], false));
  for (int r = 0; r < 3; ++r)
    for (int i = 0; i < 4; ++i) EXPECT_FALSE(c.access(l[i], false)) << r << " " << i;
  // A fifth evicts the least recently used (l[0]), the others stay.
  EXPECT_TRUE(c.access(l[4], false));
  EXPECT_FALSE(c.contains(l[0]));
  for (int i = 1; i <= 4; ++i) EXPECT_TRUE(c.contains(l[i]));
  // A cyclic sweep over five lines in four ways misses every time (LRU).
  for (int r = 0; r < 10; ++r) EXPECT_TRUE(c.access(l[r % 5], false)) << r;
}

TEST(CacheModel, OtherSetsDoNotInterfere) {
  CacheModel c(kMiB, 2, 1);
  const auto l = lines_in_one_set(c, 2);
  c.access(l[0], false);
  c.access(l[1], false);
  // Lines of every other set cannot evict them.
  const uint32_t set = c.slot(l[0]).set;
  for (uint64_t a = 0x20000000; a < 0x20000000 + 8 * kMiB; a += kLineBytes)
    if (c.slot(a).set != set) c.access(a, false);
  EXPECT_TRUE(c.contains(l[0]));
  EXPECT_TRUE(c.contains(l[1]));
}

TEST(CacheModel, InvalidateTakesOnlyThatLine) {
  CacheModel c(kMiB, 2, 1);
  const auto l = lines_in_one_set(c, 3);
  c.access(l[0], false);
  c.access(l[1], false);
  c.invalidate(l[2]);  // not there: nothing happens
  EXPECT_TRUE(c.contains(l[0]));
  EXPECT_TRUE(c.contains(l[1]));
  c.invalidate(l[0] + 40);  // any byte of the line
  EXPECT_FALSE(c.contains(l[0]));
  EXPECT_TRUE(c.contains(l[1]));
  // The freed way is filled first: l[1] survives although it is the LRU.
  EXPECT_FALSE(c.access(l[1], false));
  EXPECT_TRUE(c.access(l[2], false));
  EXPECT_TRUE(c.access(l[0], false));  // now l[1] (LRU) goes
  EXPECT_FALSE(c.contains(l[1]));
  c.clear();
  EXPECT_FALSE(c.contains(l[0]));
  EXPECT_FALSE(c.contains(l[2]));
}

TEST(CacheModel, LineZeroIsALine) {
  // Guest-physical line 0 of VM 0 is a real key (fetch keys).
  CacheModel c(kMiB, 2, 1);
  EXPECT_FALSE(c.contains(0));
  EXPECT_TRUE(c.access(0, false));
  EXPECT_FALSE(c.access(0, false));
}

// The engines sample a line by its address alone (line_sampled); the
// model keeps 1 set in `rate`. The two agree on every address, for every
// rate the geometry allows, including caches whose number of sets is not
// a power of two; and the kept sets' lines are exactly 1 in `rate`.
TEST(CacheModel, SampledExactlyWhenItsSetIsKept) {
  std::mt19937_64 rng(7);
  struct Geometry {
    uint64_t bytes;
    unsigned ways;
  };
  for (Geometry g : {Geometry{kMiB, 2}, Geometry{4 * kMiB, 4}, Geometry{3 * 1024 * kLineBytes, 1},
                     Geometry{3 * 2048 * kLineBytes, 2}, Geometry{256 * kLineBytes, 1}}) {
    const uint64_t sets = g.bytes / kLineBytes / g.ways;
    for (unsigned rate = 1; rate <= kMaxSampleRate; rate *= 2) {
      if (!CacheModel::check(g.bytes, g.ways, rate).empty()) {
        EXPECT_NE(sets % (32 * rate), 0u) << sets << " sets, rate " << rate;
        continue;
      }
      CacheModel c(g.bytes, g.ways, rate);
      EXPECT_EQ(uint64_t{c.kept_sets()} * rate, sets);
      const uint32_t mask = sample_mask_for_rate(rate);
      uint64_t kept = 0, n = 0;
      auto one = [&](uint64_t a) {
        ASSERT_EQ(c.kept(a), line_sampled(a, mask)) << std::hex << a << std::dec << " rate " << rate;
        if (c.kept(a)) {
          ASSERT_LT(c.slot(a).set, c.kept_sets());
        }
        kept += c.kept(a);
        ++n;
      };
      for (uint64_t a = 0; a < (1u << 16) * kLineBytes; a += kLineBytes) one(a);  // consecutive lines
      EXPECT_EQ(kept * rate, n) << rate;
      for (int i = 0; i < 200000; ++i) one(rng() & ((1ull << 47) - 1));  // host-like addresses
    }
  }
}

// The sampler's contract (cpu/mem_sampler.h): every 4 KiB page has exactly
// 32 / rate sampled lines, so the per-page counters see every page.
TEST(CacheModel, EveryPageHasItsShareOfSampledLines) {
  for (unsigned rate = 1; rate <= kMaxSampleRate; rate *= 2) {
    CacheModel c(kMiB, 2, rate);
    for (uint64_t page = 0x7f0000000ull; page < 0x7f0000000ull + 4096 * 4096; page += 4096) {
      unsigned n = 0;
      for (uint64_t a = page; a < page + 4096; a += kLineBytes) n += c.kept(a);
      ASSERT_EQ(n, 32 / rate) << std::hex << page;
    }
  }
}

TEST(CacheModel, UnsampledLinesAreNotModelled) {
  CacheModel c(kMiB, 2, 32);
  uint64_t a = 0;
  while (c.kept(a)) a += kLineBytes;
  EXPECT_FALSE(c.access(a, true));
  EXPECT_FALSE(c.access(a, true));
  EXPECT_FALSE(c.contains(a));
  c.invalidate(a);
  EXPECT_EQ(c.accesses(), 0u);
  EXPECT_EQ(c.misses(), 0u);
}

TEST(CacheModel, RejectsGeometriesThatDoNotSample) {
  EXPECT_EQ(CacheModel::check(kMiB, 2, 32), "");
  EXPECT_EQ(CacheModel::check(64 * 1024, 2, 1), "");  // 256 sets: fine unsampled
  const std::string why = CacheModel::check(64 * 1024, 2, 32);
  EXPECT_NE(why.find("multiple of 1024"), std::string::npos) << why;
  EXPECT_NE(why.find("256 sets"), std::string::npos) << why;
  EXPECT_THROW(CacheModel(64 * 1024, 2, 32), std::invalid_argument);
  EXPECT_NO_THROW(CacheModel(64 * 1024, 2, 8));  // 256 = 32 x 8
  EXPECT_THROW(CacheModel(kMiB, 2, 64), std::invalid_argument);  // above kMaxSampleRate
  EXPECT_THROW(CacheModel(kMiB, 2, 24), std::invalid_argument);  // not a power of two
  EXPECT_THROW(CacheModel(kMiB, 2, 0), std::invalid_argument);
  EXPECT_THROW(CacheModel(kMiB, 0, 1), std::invalid_argument);
  EXPECT_THROW(CacheModel(kMiB, 3, 1), std::invalid_argument);  // 1 MiB is not whole 3-way sets
  EXPECT_THROW(CacheModel(3 * 512 * kLineBytes, 1, 32), std::invalid_argument);  // 1536 sets
  EXPECT_NO_THROW(CacheModel(3 * 512 * kLineBytes, 1, 16));
  try {
    CacheModel c(kMiB, 2, 48);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("power of two from 1 to 32"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace disco
