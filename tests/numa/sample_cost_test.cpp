// What a sampled access costs: sample_data per call on an 8-processor
// model (2 nodes x 4 processors, the default 1 MiB 2-way caches, rate 32),
// for a working set that fits (hits), one that does not (mostly misses,
// local and remote), and with writes (which probe the 7 other data
// caches). Printed, not asserted: timings depend on the host. Thread CPU
// time, so that other processes on the host do not count.
#include <gtest/gtest.h>

#include <time.h>

#include <cstdio>
#include <random>
#include <vector>

#include "numa-model/memory_model.h"
#include "numa-model/vcpu_model.h"

namespace disco {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

double thread_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

struct Cost {
  double ns;
  double miss_share;
};

Cost measure(VcpuModel& v, const std::vector<uintptr_t>& lines, unsigned write_every) {
  for (uintptr_t a : lines) sample_data(&v, a, false);  // warm up
  const uint64_t samples0 = v.data_samples, misses0 = v.local_misses + v.remote_misses;
  const double t0 = thread_ns();
  for (size_t i = 0; i < lines.size(); ++i) sample_data(&v, lines[i], write_every && i % write_every == 0);
  const double t1 = thread_ns();
  const double n = static_cast<double>(v.data_samples - samples0);
  const double misses = static_cast<double>(v.local_misses + v.remote_misses - misses0) / v.model->rate();
  return {(t1 - t0) / n, misses / n};
}

// `n` sampled addresses spread over the first `bytes` of each node's pool.
std::vector<uintptr_t> stream(const MemoryModel& m, uint64_t bytes, size_t n) {
  std::mt19937_64 rng(5);
  const MachineMemory& mem = m.memory();
  const uint64_t node_pages = mem.total_pages() / mem.nodes();
  std::vector<uintptr_t> out;
  while (out.size() < n) {
    const uint64_t r = rng();
    const MPage p = static_cast<MPage>((r % mem.nodes()) * node_pages + (r >> 8) % (bytes / 4096));
    const auto h = reinterpret_cast<uintptr_t>(mem.host(p));
    for (uintptr_t a = h; a < h + 4096; a += kLineBytes)
      if (line_sampled(a, m.mask())) out.push_back(a + ((r >> 40) & 0x78));
  }
  return out;
}

TEST(SampleCost, PerCall) {
  MachineMemory mem({32 * kMiB, 32 * kMiB});
  MemoryModel m(NumaParams{}, mem, 4);
  VcpuModel v;
  v.model = &m;
  v.processor = 1;
  const auto fits = stream(m, 256 * 1024, 1'000'000);  // 512 KiB over two nodes
  const auto big = stream(m, 8 * kMiB, 1'000'000);     // 16 MiB
  const Cost hits = measure(v, fits, 0);
  const Cost misses = measure(v, big, 0);
  const Cost writes = measure(v, big, 4);
  std::printf("  sample_data per call: %.1f ns (%.0f%% misses), %.1f ns (%.0f%% misses), "
              "%.1f ns with 25%% writes (%.0f%% misses)\n",
              hits.ns, 100 * hits.miss_share, misses.ns, 100 * misses.miss_share, writes.ns,
              100 * writes.miss_share);
  EXPECT_LT(hits.miss_share, 0.01);
  EXPECT_GT(misses.miss_share, 0.5);
}

}  // namespace
}  // namespace disco
