// The JIT's per-processor run state, kept in Cpu::engine_area so that
// generated code addresses it from the Cpu base register.
#pragma once

#include <cstdint>
#include <new>

#include "cpu/cpu.h"

namespace disco::jit {

struct CpuArea {
  // Dispatcher <-> generated code: the cycle a chained block must not
  // cross, and the chain slot of the exit last taken (null if none).
  // chain_limit: stop_at less the longest block, signed (it may be
  // negative): a block may go on into another only while cycles <= it.
  uint64_t stop_at = 0;
  int64_t chain_limit = 0;
  void* chain_slot = nullptr;
};
static_assert(sizeof(CpuArea) <= sizeof(Cpu::engine_area) && alignof(CpuArea) <= 16);

// Starts the area's lifetime (the Jit does it when it attaches).
inline CpuArea& init_area(Cpu& c) { return *new (c.engine_area) CpuArea{}; }
inline CpuArea& area(Cpu& c) { return *std::launder(reinterpret_cast<CpuArea*>(c.engine_area)); }
inline const CpuArea& area(const Cpu& c) {
  return *std::launder(reinterpret_cast<const CpuArea*>(c.engine_area));
}

}  // namespace disco::jit
