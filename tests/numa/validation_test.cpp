// Validation of set sampling (docs/numa.md, "Validation"): for synthetic
// access streams, the misses of a model sampling 1 line in R (each
// counted R times) are within 10% of those of a model that sees every
// access, for R = 4 .. 32 (32, the most the sampler does, is the default). Both models get the same stream through the sampler the engines
// use (attach(), MemSampler::sampled), on host addresses of machine memory.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

#include "numa-model/memory_model.h"
#include "numa-model/vcpu_model.h"

namespace disco {
namespace {

constexpr uint64_t kKiB = 1024, kMiB = 1024 * kKiB;

// A processor with its own one-node machine model, fed through a sampler.
struct Probe {
  MemoryModel model;
  VcpuModel v;
  MemSampler s;
  Probe(MachineMemory& mem, unsigned rate) : model(params(rate), mem, 1) {
    v.model = &model;
    attach(s, v);
  }
  static NumaParams params(unsigned rate) {
    NumaParams p;
    p.sample_rate = rate;
    p.trigger = 0;  // no hot queue to grow
    return p;
  }
  void access(uintptr_t host, bool write) {
    if (s.sampled(host)) s.data(s.ctx, host, write);
  }
  uint64_t misses() const { return v.local_misses + v.remote_misses; }
};

class Validation : public ::testing::Test {
 protected:
  MachineMemory mem{{64 * kMiB}};
  Probe full{mem, 1};
  Probe r4{mem, 4}, r8{mem, 8}, r16{mem, 16}, r32{mem, 32};
  Probe* sampled[4] = {&r4, &r8, &r16, &r32};
  uint64_t accesses = 0;
  uintptr_t base() const { return reinterpret_cast<uintptr_t>(mem.host(0)); }
  void access(uint64_t offset, bool write) {
    const uintptr_t h = base() + offset;
    full.access(h, write);
    for (Probe* p : sampled) p->access(h, write);
    ++accesses;
  }
  // Prints the figures and checks the 10% bound.
  void report(const char* pattern) {
    const double f = static_cast<double>(full.misses());
    std::printf("  %-32s %8llu accesses, full %8llu misses; sampled (scaled) and error:\n", pattern,
                static_cast<unsigned long long>(accesses), static_cast<unsigned long long>(full.misses()));
    ASSERT_GT(full.misses(), 0u);
    for (Probe* p : sampled) {
      const double err = (static_cast<double>(p->misses()) - f) / f;
      std::printf("      1/%-2u %8llu (%+5.1f%%, %llu samples)\n", p->model.rate(),
                  static_cast<unsigned long long>(p->misses()), 100 * err,
                  static_cast<unsigned long long>(p->v.data_samples));
      EXPECT_LT(std::fabs(err), 0.10) << pattern << " at 1/" << p->model.rate();
    }
  }
};

TEST_F(Validation, SequentialStreamOver16MiB) {
  for (int pass = 0; pass < 3; ++pass)
    for (uint64_t off = 0; off < 16 * kMiB; off += 32) access(off, (off & 0x1fff) == 0);
  report("sequential 16 MiB x3");
  // Larger than the cache, swept in order: every line misses every pass.
  EXPECT_EQ(full.misses(), 3 * 16 * kMiB / kLineBytes);
}

TEST_F(Validation, UniformRandomOver4MiB) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 3'000'000; ++i) {
    const uint64_t r = rng();
    access((r % (4 * kMiB)) & ~7ull, (r >> 60) < 3);
  }
  report("uniform random 4 MiB");
}

TEST_F(Validation, UniformRandomOver512KiBFits) {
  std::mt19937_64 rng(2);
  for (int i = 0; i < 2'000'000; ++i) {
    const uint64_t r = rng();
    access((r % (512 * kKiB)) & ~7ull, (r >> 60) < 3);
  }
  report("uniform random 512 KiB (fits)");
  // Mostly the cold misses of its 4096 lines.
  EXPECT_LT(full.misses(), 2 * 4096u);
}

// A linked list of 64-byte nodes over 2 MiB, linked in random order and
// walked round and round: each step reads the next pointer of a node.
TEST_F(Validation, PointerChaseOver2MiB) {
  constexpr uint64_t kNodes = 2 * kMiB / 64;
  std::vector<uint32_t> order(kNodes);
  std::iota(order.begin(), order.end(), 0u);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(3));
  for (int lap = 0; lap < 12; ++lap)
    for (uint64_t i = 0; i < kNodes; ++i) access(uint64_t{order[i]} * 64, false);
  report("pointer chase 2 MiB");
}

// 90% of the accesses to a hot 256 KiB, the rest to a cold 32 MiB that
// keeps evicting it.
TEST_F(Validation, HotColdMix) {
  std::mt19937_64 rng(4);
  for (int i = 0; i < 4'000'000; ++i) {
    const uint64_t r = rng();
    const bool hot = (r >> 32) % 10 != 0;
    const uint64_t off = hot ? (r % (256 * kKiB)) : 32 * kMiB + (r % (32 * kMiB));
    access(off & ~7ull, (r >> 61) == 0);
  }
  report("hot 256 KiB / cold 32 MiB, 90/10");
}

}  // namespace
}  // namespace disco
