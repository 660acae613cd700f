#include "cpu/mem_sampler.h"

namespace disco {

const std::atomic<uint64_t> MemSampler::kNoInvalidations{0};

void MemSampler::flush() {
  const uint32_t n = queued;
  queued = 0;
  if (n == 0) return;
  if (batch) {
    batch(ctx, queue, n);
    return;
  }
  for (uint32_t k = 0; k < n; ++k) {
    const uint64_t e = queue[k];
    if (e & kSampleFetch) fetch(ctx, e & kSampleAddr);
    else data(ctx, e & kSampleAddr, (e & kSampleWrite) != 0);
  }
}

}  // namespace disco
