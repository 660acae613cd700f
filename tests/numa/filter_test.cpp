// The engines' repeat filter (MemSampler::filter, cpu/mem_sampler.h): the
// model counts the same misses with it as without, and a line another
// processor's write took out of the cache is sampled again.
#include <gtest/gtest.h>

#include <random>

#include "numa-model/memory_model.h"
#include "numa-model/vcpu_model.h"

namespace disco {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

NumaParams params() {
  NumaParams p;
  p.sample_rate = 4;
  p.trigger = 0;  // no hot queue
  return p;
}

MPage page_of_paddr(void*, uint64_t paddr, unsigned) { return static_cast<MPage>(paddr >> 12); }

// One processor of its own model, fed through a sampler as the engines do.
struct Probe {
  MemoryModel model;
  VcpuModel v;
  MemSampler s;
  Probe(MachineMemory& mem, bool filter) : model(params(), mem, 1) {
    v.model = &model;
    v.resolve = &page_of_paddr;
    attach(s, v);
    s.filter = filter;
  }
  void data(uintptr_t host, bool write) {
    if (s.sampled(host)) s.push_data(host, write);
  }
  void fetch(uint64_t paddr) {
    const uint64_t line = paddr & ~(kLineBytes - 1);
    if (s.sampled_fetch(line)) s.push_fetch(line);
  }
};

TEST(Filter, TheSameMissesWithAndWithoutIt) {
  MachineMemory mem({64 * kMiB});
  Probe plain(mem, false), filtered(mem, true);
  const uintptr_t base = reinterpret_cast<uintptr_t>(mem.host(0));
  std::mt19937_64 rng(7);
  // Bursts of nearby accesses (a stack frame, a struct) at random places
  // in 16 MiB, reads and writes, with code walking through 1 MiB.
  uint64_t pc = 0;
  for (int burst = 0; burst < 200000; ++burst) {
    const uint64_t at = rng() % (16 * kMiB);
    const unsigned n = 1 + rng() % 12;
    for (unsigned k = 0; k < n; ++k) {
      const uint64_t off = (at + 8 * (rng() % 24)) % (16 * kMiB);
      const bool write = rng() % 4 == 0;
      plain.data(base + off, write);
      filtered.data(base + off, write);
    }
    pc = rng() % 8 == 0 ? rng() % kMiB : (pc + 4 * (rng() % 20)) % kMiB;
    plain.fetch(pc);
    filtered.fetch(pc);
    if (burst % 1000 == 0) {  // an engine returning now and then
      plain.s.flush();
      filtered.s.flush();
      filtered.s.forget();
    }
  }
  plain.s.flush();
  filtered.s.flush();
  EXPECT_GT(plain.v.local_misses, 0u);
  EXPECT_GT(plain.v.fetch_misses, 0u);
  EXPECT_EQ(filtered.v.local_misses, plain.v.local_misses);
  EXPECT_EQ(filtered.v.write_misses, plain.v.write_misses);
  EXPECT_EQ(filtered.v.fetch_misses, plain.v.fetch_misses);
  for (MPage p = 0; p < 64 * kMiB / 4096; ++p)
    ASSERT_EQ(filtered.model.counters().total(p), plain.model.counters().total(p)) << "page " << p;
  // And it dropped a good part of the samples.
  EXPECT_LT(filtered.v.data_samples, plain.v.data_samples * 3 / 4);
  EXPECT_LT(filtered.v.fetch_samples, plain.v.fetch_samples * 3 / 4);
}

TEST(Filter, ALineAnotherProcessorWroteIsSampledAgain) {
  MachineMemory mem({16 * kMiB});
  MemoryModel model(params(), mem, 2);  // one node of two processors
  VcpuModel v0, v1;
  MemSampler s0, s1;
  v0.model = v1.model = &model;
  v1.processor = 1;
  attach(s0, v0);
  attach(s1, v1);
  // A sampled line at 1 MiB.
  uintptr_t line = reinterpret_cast<uintptr_t>(mem.host(0)) + kMiB;
  while (!s0.sampled(line)) line += kLineBytes;
  const unsigned rate = model.rate();

  s0.push_data(line, false);  // a miss
  s0.push_data(line + 8, false);  // a repeat: dropped
  s0.flush();
  EXPECT_EQ(v0.data_samples, 1u);
  EXPECT_EQ(v0.local_misses, rate);

  s1.push_data(line, true);  // processor 1 writes the line: out of 0's cache
  s1.flush();
  s0.push_data(line + 16, false);  // so this read is a miss again
  s0.flush();
  EXPECT_EQ(v0.data_samples, 2u);
  EXPECT_EQ(v0.local_misses, 2 * rate);

  s0.push_data(line + 24, false);  // and then a repeat again
  s0.flush();
  EXPECT_EQ(v0.data_samples, 2u);
  // Stores are never dropped (each must invalidate the other caches).
  s0.push_data(line, true);
  s0.push_data(line, true);
  s0.flush();
  EXPECT_EQ(v0.data_samples, 4u);
}

}  // namespace
}  // namespace disco
