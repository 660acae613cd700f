// Shared helpers for the memory tests: page patterns and small pmaps.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "monitor/guest_memory.h"
#include "numa-model/machine_memory.h"
#include "monitor/vm.h"

namespace disco::test {

constexpr uint64_t kPages = 32;  // small pmaps: 32 guest pages of low RAM

// A page of bytes derived from `seed` (never all zeros).
inline std::vector<uint8_t> pattern(uint32_t seed) {
  std::vector<uint8_t> p(kPageSize);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : p) {
    x = x * 1103515245u + 12345u;
    b = static_cast<uint8_t>(x >> 16);
  }
  p[0] = static_cast<uint8_t>(seed | 1);
  return p;
}

// Writes a whole guest page through the pmap (as a guest store would).
inline void fill(GuestMemory& gm, uint64_t gpn, const std::vector<uint8_t>& bytes) {
  uint8_t* p = gm.page(gm.paddr_of(gpn), true);
  std::memcpy(p, bytes.data(), kPageSize);
}

inline bool holds(const GuestMemory& gm, uint64_t gpn, const std::vector<uint8_t>& bytes) {
  return std::memcmp(gm.peek(gpn), bytes.data(), kPageSize) == 0;
}

inline bool all_zero(const uint8_t* p) {
  for (uint64_t i = 0; i < kPageSize; ++i)
    if (p[i]) return false;
  return true;
}

// A pmap of `pages` low-RAM pages (no high range) for VM `id`.
inline GuestMemory small_pmap(MachineMemory& mm, uint32_t id, unsigned home = 0, uint64_t pages = kPages) {
  return GuestMemory(mm, id, home, pages * kPageSize, 0, board::kHighRamBase);
}

}  // namespace disco::test
