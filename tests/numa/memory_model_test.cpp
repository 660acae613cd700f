// MemoryModel and the vCPU hooks: local/remote classification against a
// two-node machine memory, the counters a miss feeds, the zero page and
// addresses outside the pools, fetches through the resolver, coherence
// between processors, attach().
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "numa-model/memory_model.h"
#include "numa-model/vcpu_model.h"

namespace disco {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

NumaParams params_at(unsigned rate) {
  NumaParams p;
  p.sample_rate = rate;
  return p;
}

// The first byte address in page `p` whose line the model samples (every
// page has one).
uintptr_t sampled_in(const MemoryModel& m, MPage p) {
  const auto h = reinterpret_cast<uintptr_t>(m.memory().host(p));
  for (uintptr_t a = h; a < h + 4096; a += kLineBytes)
    if (line_sampled(a, m.mask())) return a;
  throw std::runtime_error("a page without a sampled line");
}

MPage page_on(MachineMemory& mem, unsigned node) {
  const MPage p = mem.alloc(node, {1, 0});
  if (p == kNoPage) throw std::runtime_error("out of pages");
  return p;
}

TEST(MemoryModel, Processors) {
  MachineMemory mem({4 * kMiB, 4 * kMiB, 4 * kMiB});
  MemoryModel m(params_at(32), mem, 2);
  EXPECT_EQ(m.processors(), 6u);
  EXPECT_EQ(m.node_of_processor(0), 0u);
  EXPECT_EQ(m.node_of_processor(1), 0u);
  EXPECT_EQ(m.node_of_processor(5), 2u);
  EXPECT_EQ(m.rate(), 32u);
  EXPECT_EQ(m.mask(), 31u << 7);
  EXPECT_EQ(m.counters().nodes(), 3u);
  EXPECT_EQ(m.data_cache(5).kept_sets(), 128u);
  EXPECT_EQ(m.fetch_cache(5).kept_sets(), 128u);
}

TEST(MemoryModel, RejectsRatesTheSamplerCannotDo) {
  MachineMemory mem({4 * kMiB});
  for (unsigned rate : {0u, 24u, 64u, 4096u}) {
    EXPECT_NE(MemoryModel::check(params_at(rate)), "") << rate;
    EXPECT_THROW(MemoryModel(params_at(rate), mem, 1), std::invalid_argument) << rate;
  }
  for (unsigned rate : {1u, 2u, 32u}) EXPECT_EQ(MemoryModel::check(params_at(rate)), "") << rate;
}

TEST(MemoryModel, RejectsARateTheCacheCannotSample) {
  MachineMemory mem({4 * kMiB});
  NumaParams p = params_at(32);
  p.cache_bytes = 128 * 1024;  // 512 sets
  const std::string why = MemoryModel::check(p);
  EXPECT_NE(why.find("512 sets"), std::string::npos) << why;
  EXPECT_THROW(MemoryModel(p, mem, 1), std::invalid_argument);
  p.sample_rate = 0;
  EXPECT_NE(MemoryModel::check(p), "");
  p.model = false;  // off: nothing to check, nothing built
  EXPECT_EQ(MemoryModel::check(p), "");
  MemoryModel off(p, mem, 1);
  EXPECT_FALSE(off.enabled());
}

class TwoNodes : public ::testing::Test {
 protected:
  MachineMemory mem{{16 * kMiB, 16 * kMiB}};
  MemoryModel model{params_at(32), mem, 1};
  VcpuModel v;
  void SetUp() override {
    v.model = &model;
    v.processor = 0;
    v.node = 0;
  }
};

TEST_F(TwoNodes, LocalAndRemoteMisses) {
  const MPage near = page_on(mem, 0);
  const MPage far = page_on(mem, 1);
  ASSERT_EQ(mem.node_of(near), 0u);
  ASSERT_EQ(mem.node_of(far), 1u);
  const uintptr_t a = sampled_in(model, near), b = sampled_in(model, far);

  sample_data(&v, a, false);
  EXPECT_EQ(v.local_misses, 32u);
  EXPECT_EQ(v.remote_misses, 0u);
  sample_data(&v, a + 8, false);  // same line: a hit
  EXPECT_EQ(v.local_misses, 32u);
  sample_data(&v, b, true);
  EXPECT_EQ(v.remote_misses, 32u);
  EXPECT_EQ(v.write_misses, 32u);
  EXPECT_EQ(v.data_samples, 3u);

  // The counters: misses from node 0, scaled; the write marks the page.
  EXPECT_EQ(model.counters().count(near, 0), 32u);
  EXPECT_EQ(model.counters().count(far, 0), 32u);
  EXPECT_EQ(model.counters().count(far, 1), 0u);
  EXPECT_FALSE(model.counters().written(near));
  EXPECT_TRUE(model.counters().written(far));
  // Below the default trigger (64) so far; one more sampled miss each and
  // both pages reach it, but only the remote one is hot (the near page is
  // on node 0 already: nothing to do for it).
  EXPECT_TRUE(model.counters().take_hot().empty());
  model.data_cache(0).clear();
  sample_data(&v, a, false);
  sample_data(&v, b, false);
  EXPECT_EQ(model.counters().count(near, 0), 64u);
  const auto hot = model.counters().take_hot();
  ASSERT_EQ(hot.size(), 1u);
  EXPECT_EQ(hot[0].page, far);
  EXPECT_EQ(v.local_misses, 64u);
  EXPECT_EQ(v.remote_misses, 64u);

  // Seen from node 1 the same pages swap roles.
  VcpuModel w;
  w.model = &model;
  w.processor = 1;
  w.node = 1;
  sample_data(&w, a, false);
  sample_data(&w, b, false);
  EXPECT_EQ(w.local_misses, 32u);
  EXPECT_EQ(w.remote_misses, 32u);
  EXPECT_EQ(model.counters().count(near, 1), 32u);
  EXPECT_EQ(model.counters().count(near, 0), 64u);
}

// At rate 1 (every line sampled), so that these lines are sampled.
TEST_F(TwoNodes, ZeroPageIsLocalAndUncounted) {
  MemoryModel full(params_at(1), mem, 1);
  v.model = &full;
  v.node = 1;
  const auto z = reinterpret_cast<uintptr_t>(mem.host(mem.zero_page()));
  sample_data(&v, z + 200, false);
  EXPECT_EQ(v.local_misses, 1u);
  EXPECT_EQ(v.remote_misses, 0u);
  EXPECT_EQ(full.counters().count(mem.zero_page(), 1), 0u);
  EXPECT_TRUE(full.counters().take_hot().empty());
}

TEST_F(TwoNodes, AddressesOutsideThePoolsAreNotCounted) {
  MemoryModel full(params_at(1), mem, 1);
  v.model = &full;
  static uint8_t outside[256];
  sample_data(&v, reinterpret_cast<uintptr_t>(outside), true);
  EXPECT_EQ(v.data_samples, 1u);
  EXPECT_EQ(v.local_misses + v.remote_misses, 0u);
  EXPECT_EQ(v.write_misses, 0u);
}

struct Resolver {
  MPage page;
  unsigned calls = 0;
  uint64_t last_paddr = 0;
  unsigned last_node = 99;
  static MPage resolve(void* ctx, uint64_t paddr, unsigned node) {
    auto* r = static_cast<Resolver*>(ctx);
    ++r->calls;
    r->last_paddr = paddr;
    r->last_node = node;
    return r->page;
  }
};

TEST_F(TwoNodes, FetchMissesGoThroughTheResolver) {
  const MPage far = mem.alloc(1, {1, 0});
  Resolver r{far};
  v.resolve = &Resolver::resolve;
  v.resolve_ctx = &r;
  v.vm = 3;
  uint64_t paddr = 0x100000;
  while (!fetch_line_sampled(paddr, model.mask())) paddr += kLineBytes;
  sample_fetch(&v, paddr);
  EXPECT_EQ(r.calls, 1u);
  EXPECT_EQ(r.last_paddr, paddr);
  EXPECT_EQ(r.last_node, 0u);
  EXPECT_EQ(v.remote_misses, 32u);
  EXPECT_EQ(v.fetch_misses, 32u);
  EXPECT_EQ(model.counters().count(far, 0), 32u);
  EXPECT_FALSE(model.counters().written(far));
  sample_fetch(&v, paddr);  // a hit: no resolver call
  EXPECT_EQ(r.calls, 1u);
  EXPECT_EQ(v.fetch_samples, 2u);
  // The same guest-physical line of another VM is another line.
  v.vm = 4;
  sample_fetch(&v, paddr);
  EXPECT_EQ(r.calls, 2u);
  // Fetch and data caches are apart: the data cache never saw it.
  EXPECT_FALSE(model.data_cache(0).contains(paddr));
  // Without a resolver a miss is not counted.
  v.resolve = nullptr;
  v.vm = 5;
  sample_fetch(&v, paddr);
  EXPECT_EQ(v.remote_misses, 64u);
  EXPECT_EQ(v.fetch_misses, 64u);
}

TEST(FetchKey, TagsTheVmAboveTheLine) {
  EXPECT_EQ(fetch_key(0x12345, 0), 0x12300u);
  EXPECT_EQ(fetch_key(0x12345, 2), 0x12300u | 2ull << 48);
  // The tag leaves the set alone: the sampler's line is the model's.
  CacheModel c(1ull << 20, 2, 32, true);  // a fetch cache
  for (uint64_t a = 0; a < 1ull << 20; a += kLineBytes) {
    ASSERT_EQ(c.slot(fetch_key(a, 7)).set, c.slot(a).set) << a;
    ASSERT_EQ(c.kept(fetch_key(a, 9)), fetch_line_sampled(a, sample_mask_for_rate(32))) << a;
  }
}

TEST_F(TwoNodes, AWriteInvalidatesTheOtherProcessorsCopies) {
  const MPage p = page_on(mem, 0);
  const uintptr_t a = sampled_in(model, p);
  VcpuModel w;
  w.model = &model;
  w.processor = 1;
  w.node = 1;
  sample_data(&v, a, false);
  sample_data(&w, a, false);
  EXPECT_TRUE(model.data_cache(0).contains(a));
  EXPECT_TRUE(model.data_cache(1).contains(a));
  sample_data(&v, a, true);  // a write hit on processor 0
  EXPECT_TRUE(model.data_cache(0).contains(a));
  EXPECT_FALSE(model.data_cache(1).contains(a));
  EXPECT_EQ(v.local_misses, 32u);
  // Processor 1 reads it again: a coherence miss, remote for node 1.
  sample_data(&w, a, false);
  EXPECT_EQ(w.remote_misses, 64u);
  // Reads do not invalidate.
  sample_data(&v, a, false);
  EXPECT_TRUE(model.data_cache(1).contains(a));
  EXPECT_EQ(v.local_misses, 32u);
  // A write miss by processor 1 takes processor 0's copy.
  sample_data(&w, a, true);
  EXPECT_FALSE(model.data_cache(0).contains(a));
  EXPECT_EQ(w.write_misses, 0u);  // it was a hit
}

// Two processors on their own threads write and read the same lines: the
// tags are shared (run it under ThreadSanitizer too). How much the threads
// overlap is up to the host, so only what holds for any interleaving is
// checked: every line misses at least once on each processor, and every
// counted miss is on its page's counter.
TEST_F(TwoNodes, ConcurrentWritersStayConsistent) {
  std::vector<uintptr_t> lines;
  for (int i = 0; i < 32; ++i) lines.push_back(sampled_in(model, page_on(mem, i % 2)));
  VcpuModel w;
  w.model = &model;
  w.processor = 1;
  w.node = 1;
  std::atomic<int> ready{0};
  auto run = [&lines, &ready](VcpuModel* c, unsigned seed) {
    ready.fetch_add(1);
    while (ready.load() < 2) std::this_thread::yield();
    for (unsigned i = 0; i < 200000; ++i) {
      const uintptr_t a = lines[(i * 7 + seed) % lines.size()];
      sample_data(c, a, (i + seed) % 3 == 0);
    }
  };
  std::thread t0(run, &v, 0), t1(run, &w, 1);
  t0.join();
  t1.join();
  EXPECT_EQ(v.data_samples, 200000u);
  EXPECT_EQ(w.data_samples, 200000u);
  EXPECT_GE(v.local_misses + v.remote_misses, 32u * 32);
  EXPECT_GE(w.local_misses + w.remote_misses, 32u * 32);
  uint64_t counted = 0;
  for (uintptr_t a : lines) {
    const MPage p = mem.page_of_host(a);
    counted += model.counters().total(p);
  }
  EXPECT_EQ(counted, v.local_misses + v.remote_misses + w.local_misses + w.remote_misses);
}

TEST(Attach, ModelOnFillsTheSampler) {
  MachineMemory mem({4 * kMiB});
  MemoryModel m(params_at(32), mem, 1);
  VcpuModel v;
  v.model = &m;
  MemSampler s;
  attach(s, v);
  EXPECT_TRUE(s.on);
  EXPECT_EQ(s.mask, sample_mask_for_rate(32));
  EXPECT_EQ(s.data, &sample_data);
  EXPECT_EQ(s.fetch, &sample_fetch);
  EXPECT_EQ(s.ctx, &v);
}

TEST(Attach, ModelOffLeavesSamplingOff) {
  MachineMemory mem({4 * kMiB});
  NumaParams p;
  p.model = false;
  MemoryModel m(p, mem, 1);
  VcpuModel v;
  v.model = &m;
  MemSampler s;
  s.on = true;  // stale state from an earlier attach
  attach(s, v);
  EXPECT_FALSE(s.on);
  EXPECT_EQ(s.data, nullptr);
  EXPECT_EQ(s.fetch, nullptr);
  VcpuModel none;  // no model at all
  s.on = true;
  attach(s, none);
  EXPECT_FALSE(s.on);
}

TEST(Attach, FillsAProcessorsSampler) {
  struct FakeCpu {
    MemSampler sampler;
  } c;
  MachineMemory mem({4 * kMiB});
  MemoryModel m(params_at(16), mem, 1);
  VcpuModel v;
  v.model = &m;
  attach(c, v);
  EXPECT_TRUE(c.sampler.on);
  EXPECT_EQ(c.sampler.mask, 15u << 7);
  EXPECT_EQ(c.sampler.ctx, &v);
}

}  // namespace
}  // namespace disco
