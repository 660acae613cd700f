// Sampled memory accesses for the memory-system model (numa-model/, docs/numa.md).
//
// (Lead, 16:00: this contract replaced an earlier hash-based one — there is
// no line_hash() any more. Sampling is now by one line per page.)
//
// The engines report a sample of the guest's loads, stores and instruction
// fetches: those whose 128-byte line is *sampled*, a function of the line
// address alone, so a line is always sampled or never. With 1-in-R sampling
// (R a power of two, 1..32) every 4 KiB page has exactly 32/R sampled
// lines, the lines at page offsets that are multiples of R x 128 (with the
// default R = 32, the first line of every page):
//
//     line = addr >> 7;  sampled  <=>  (line & (R - 1)) == 0
//
// Every page is seen, which the per-page miss counters need, and the
// predicate depends on line-number bits 0..4 only, so for a modulo-indexed
// cache of at least 32 sets it is a function of the set index: the model
// keeps only the sampled sets and scales its counts by R (set sampling).
// (Until 2026-12-03 the sampled line's offset varied from page to page,
// (line ^ line >> 5) & (R - 1); the JIT's test then took four instructions
// and a scratch register, now one: docs/numa.md, "Sampling", has the
// figures of both on Linux workloads.)
//
// Inline, on a host address h whose page offset equals the guest virtual
// address's (they share bits 0..11: machine pages are page-aligned, see
// PhysBus::ram_page), the JIT tests the guest virtual address
//     test vaddr32, (R - 1) << 7;  jz sample
// (jit/x64_backend.cpp, sample_data).
//
//  - Data: the line of the *host* address the access touched (a machine
//    page of the pool). Reported after the soft-TLB hit or refill, before
//    the access: every load and store of the guest that reaches RAM (the
//    unaligned pairs and LL/SC/FPU accesses included; an SC whether or not
//    it stores; SWL/SWR once, at the addressed byte; LWL/LWR at the
//    aligned word). Device (MMIO) accesses and the debugger's or the
//    monitor's own accesses are not reported. Both engines report the same
//    accesses in the same order (the JIT inline or through the handlers).
//  - Fetch: the line of the *guest-physical* address, decided when the
//    code is decoded or translated (the JIT does not know the machine page
//    then). Reported when execution enters the line:
//      interpreter (cpu loop in interp/interpreter.cpp): on the first
//        instruction of a line reached sequentially, and on any instruction
//        reached non-sequentially (a taken branch's target after its delay
//        slot, an exception vector, an ERET's target, the instruction
//        after a nullified delay slot). A loop within one line reports its
//        line once per iteration; straight code once per line.
//      JIT: at each entry of a translated block (from the dispatcher or a
//        chained jump) and at each iteration of a self loop, one call per
//        sampled line the block's instructions occupy. So the JIT reports
//        a line again when a block starts in the middle of a line that
//        the previous block was executing (a block ended by a privileged
//        instruction or its length), and reports a block's later lines even
//        when an exception leaves the block before them. Instructions the
//        JIT's dispatcher runs in the interpreter (delay slots left
//        pending, budget ends) report as the interpreter does.
//    Counts therefore differ a little between the engines; every executed
//    sampled line is reported by both.
//
// Sampling is off with on == false: the interpreter tests one flag per
// memory access (the run loop picks a loop without fetch sampling), the
// JIT emits nothing at all. The sampler is set before the processor first
// runs and is not changed after (Cpu::sampler).
#pragma once

#include <atomic>
#include <cstdint>

namespace disco {

constexpr unsigned kLineShift = 7;  // 128-byte lines (the R10000's secondary cache)
constexpr uint64_t kLineBytes = 1ull << kLineShift;
constexpr unsigned kMaxSampleRate = 32;  // one line per page

// The sampling mask for 1-in-`rate` sampling (rate a power of two 1..32):
// (rate - 1) << kLineShift, tested against address bits 7..11.
inline uint32_t sample_mask_for_rate(unsigned rate) { return (rate - 1) << kLineShift; }

// Whether the line holding data address `addr` is sampled under `mask`.
inline bool line_sampled(uint64_t addr, uint32_t mask) {
  return (addr & mask) == 0;
}

// The same for an instruction fetch's guest-physical line: the sampled
// lines' offset varies from page to page, ((line ^ line >> 5) & (R - 1))
// == 0 (with R = 32, line p & 31 of page p). Fetch samples are decided at
// translation time, so this costs nothing at run time, and code pages'
// first lines are too atypical: on Linux gzip, first lines gave half the
// fetch misses of the full model, varying ones 1.35 times (docs/numa.md).
inline bool fetch_line_sampled(uint64_t addr, uint32_t mask) {
  return (((addr >> 5) ^ addr) & mask) == 0;
}

// A sample as the engines queue it: a data sample is the host address
// with kSampleWrite for a store; a fetch sample is the guest-physical line
// with kSampleFetch. (Host addresses are user-space, guest-physical ones
// below 2^48: bits 62 and 63 are free.)
constexpr uint64_t kSampleWrite = 1ull << 63;
constexpr uint64_t kSampleFetch = 1ull << 62;
constexpr uint64_t kSampleAddr = kSampleFetch - 1;

// The engines do not call the model per sample: they append to `queue`
// (the JIT in a thunk of a dozen instructions) and the samples reach the
// model in order, `kQueue` at a time, when the queue fills and whenever
// the engine returns (GuestSection's end: before the processor parks, so
// anything that reads the model with the processors parked -- statistics,
// the NUMA policy, the scheduler moving a vCPU -- sees every sample). The
// model therefore sees a sample up to kQueue samples late.
//
// The repeat filter (`filter`, the model's choice): most samples repeat
// the line of the one before (a loop's code line; a function's stack
// frame), and a repeat is a hit that changes nothing in the model, so the
// engines drop it before queueing:
//  - a fetch sample equal to the last fetch sample queued (instruction
//    caches are never invalidated);
//  - a load from the line of the last data sample queued (load or store),
//    unless another processor's write has taken a line out of this
//    processor's data cache since: `invalidations` (the processor's
//    CacheModel::invalidations) moved on from `last_invalidations`.
//  - Stores are never dropped: each one must take the line out of the
//    other caches (MemoryModel::invalidate_others).
// The filter is emptied whenever the vCPU is placed on a processor (before
// every slice: another vCPU may have used the processor's caches
// meanwhile; numa-model/vcpu_model.h, place). With it the model's misses
// are the same as without (tests/numa/filter_test.cpp).
struct MemSampler {
  static constexpr uint32_t kQueue = 256;
  static constexpr uint64_t kNoLine = ~0ull;  // matches no sample

  bool on = false;  // off: the engines report nothing (the JIT emits nothing)
  bool filter = false;  // drop repeats (above)
  uint32_t mask = 0;  // sample_mask_for_rate(rate); 0 = every line
  // Called from the thread running the processor only, by flush().
  void (*data)(void* ctx, uintptr_t host, bool write) = nullptr;
  void (*fetch)(void* ctx, uint64_t paddr_line) = nullptr;
  // Optional: takes a whole queue at once instead of data/fetch per sample.
  void (*batch)(void* ctx, const uint64_t* samples, uint32_t n) = nullptr;
  void* ctx = nullptr;
  bool sampled(uint64_t addr) const { return on && line_sampled(addr, mask); }
  bool sampled_fetch(uint64_t paddr) const { return on && fetch_line_sampled(paddr, mask); }

  // Owner: queue one sample.
  void push(uint64_t sample) {
    queue[queued++] = sample;
    if (queued == kQueue) flush();
  }
  void push_data(uintptr_t host, bool write) {
    if (filter) {
      const uint64_t seen = invalidations->load(std::memory_order_relaxed);
      if (!write && last_data >> 1 == host >> kLineShift && seen == last_invalidations) return;
      last_data = (host >> kLineShift) << 1 | (write ? 1 : 0);
      last_invalidations = seen;
    }
    push(host | (write ? kSampleWrite : 0));
  }
  void push_fetch(uint64_t paddr_line) {
    const uint64_t sample = paddr_line | kSampleFetch;
    if (filter) {
      if (sample == last_fetch) return;
      last_fetch = sample;
    }
    push(sample);
  }
  // Owner: delivers the queued samples in order and empties the queue.
  void flush();
  // Owner: the filter forgets what it saw.
  void forget() { last_data = last_fetch = kNoLine; }

  // The queue.
  uint32_t queued = 0;
  uint64_t queue[kQueue];
  // The filter: the last data sample's line << 1 | store; the last fetch
  // sample; the processor's invalidation count (never null) and its value
  // when last_data was set. `invalidations` is set by whoever places the
  // vCPU on a processor, while it is parked.
  uint64_t last_data = kNoLine, last_fetch = kNoLine;
  const std::atomic<uint64_t>* invalidations = &kNoInvalidations;
  uint64_t last_invalidations = 0;
  static const std::atomic<uint64_t> kNoInvalidations;
};

}  // namespace disco
