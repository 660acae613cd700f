// Sampled memory accesses for the memory-system model (numa-model/, docs/numa.md).
//
// The engines report a sample of the guest's loads, stores and instruction
// fetches: those whose 128-byte line hashes below `limit`. The hash is a
// function of the line address alone, so a line is always sampled or never
// (set sampling: the model keeps only the cache sets of sampled lines and
// scales its counts by the sampling rate).
//
//  - Data: the line of the *host* address the access touched (a machine
//    page of the pool, so the hash is a function of the machine address).
//    Reported after the soft-TLB hit or refill, before the access.
//  - Fetch: the line of the *guest-physical* address, decided when the
//    code is decoded or translated (the JIT does not know the machine page
//    then). Reported when execution enters the line: at a JIT block's
//    entry for every sampled line the block spans; in the interpreter on
//    the first instruction of a line reached sequentially, and on any
//    instruction reached non-sequentially (branch target, exception vector).
//
// With limit == 0 sampling is off: the interpreter tests one flag, the JIT
// emits nothing at all.
#pragma once

#include <cstdint>

namespace disco {

constexpr unsigned kLineShift = 7;  // 128-byte lines (the R10000's secondary cache)
constexpr uint64_t kLineBytes = 1ull << kLineShift;

// Multiplicative hash of a line number; its top bits pick the model's set.
constexpr uint32_t kLineHashMul = 0x9E3779B1u;
inline uint32_t line_hash(uint64_t addr) {
  return static_cast<uint32_t>(addr >> kLineShift) * kLineHashMul;
}

// Sampling rate 1/2^k: limit = 2^(32-k) (k = 0: 2^32, every line).
inline uint64_t sample_limit_for_rate(unsigned rate) {
  unsigned k = 0;
  while ((1u << k) < rate) ++k;
  return 1ull << (32 - k);
}

struct MemSampler {
  // Sampled iff line_hash(address) < limit. 0: off.
  uint64_t limit = 0;
  // Any of these may be called from the thread running the processor only.
  void (*data)(void* ctx, uintptr_t host, bool write) = nullptr;
  void (*fetch)(void* ctx, uint64_t paddr_line) = nullptr;
  void* ctx = nullptr;
  bool sampled(uint64_t addr) const { return line_hash(addr) < limit; }
};

}  // namespace disco
