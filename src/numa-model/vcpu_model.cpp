#include "numa-model/vcpu_model.h"

namespace disco {

namespace {

// A sampled miss by `v` to machine page `page`; false when it is not
// counted (outside machine memory).
bool count_miss(VcpuModel& v, MemoryModel& m, MPage page, bool write) {
  if (page == kNoPage) return false;
  MachineMemory& mem = m.memory();
  const unsigned rate = m.rate();
  if (write) v.write_misses += rate;
  if (page == mem.zero_page()) {
    v.local_misses += rate;
    return true;
  }
  const bool remote = mem.node_of(page) != v.node;
  if (remote) v.remote_misses += rate;
  else v.local_misses += rate;
  m.counters().add(page, v.node, rate, write, remote);
  return true;
}

inline void data_sample(VcpuModel& v, MemoryModel& m, uintptr_t host, bool write) {
  ++v.data_samples;
  const CacheModel::Slot s = m.data_cache(v.processor).slot(host);
  if (m.data_cache(v.processor).access(s, write)) count_miss(v, m, m.memory().page_of_host(host), write);
  if (write) m.invalidate_others(v.processor, s);
}

inline void fetch_sample(VcpuModel& v, MemoryModel& m, uint64_t paddr_line) {
  ++v.fetch_samples;
  if (!m.fetch_cache(v.processor).access(fetch_key(paddr_line, v.vm), false)) return;
  const MPage page = v.resolve ? v.resolve(v.resolve_ctx, paddr_line, v.node) : kNoPage;
  if (count_miss(v, m, page, false)) v.fetch_misses += m.rate();
}

}  // namespace

void sample_data(void* vcpu_model, uintptr_t host, bool write) {
  VcpuModel& v = *static_cast<VcpuModel*>(vcpu_model);
  data_sample(v, *v.model, host, write);
}

void sample_fetch(void* vcpu_model, uint64_t paddr_line) {
  VcpuModel& v = *static_cast<VcpuModel*>(vcpu_model);
  fetch_sample(v, *v.model, paddr_line);
}

void sample_batch(void* vcpu_model, const uint64_t* samples, uint32_t n) {
  VcpuModel& v = *static_cast<VcpuModel*>(vcpu_model);
  MemoryModel& m = *v.model;
  for (uint32_t k = 0; k < n; ++k) {
    const uint64_t e = samples[k];
    if (e & kSampleFetch) fetch_sample(v, m, e & kSampleAddr);
    else data_sample(v, m, e & kSampleAddr, (e & kSampleWrite) != 0);
  }
}

void attach(MemSampler& sampler, VcpuModel& v) {
  sampler = MemSampler{};
  if (!v.model || !v.model->enabled()) return;
  sampler.on = true;
  sampler.mask = v.model->mask();
  sampler.data = &sample_data;
  sampler.fetch = &sample_fetch;
  sampler.batch = &sample_batch;
  sampler.ctx = &v;
  sampler.filter = true;
  place(sampler, v);
}

void place(MemSampler& sampler, const VcpuModel& v) {
  if (!sampler.on || !v.model || !v.model->enabled()) return;
  sampler.invalidations = &v.model->data_cache(v.processor).invalidations();
  sampler.forget();  // another vCPU may have used the processor's caches since
}

}  // namespace disco
