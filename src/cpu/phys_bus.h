// The physical address space as the processor sees it. The monitor
// implements it (per-VM pmap onto machine pages, MMIO dispatch to devices);
// the engines never see a flat guest buffer.
#pragma once

#include <cstdint>

namespace disco {

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kPageMask = kPageSize - 1;

class PhysBus {
 public:
  virtual ~PhysBus() = default;
  // Host address of the 4 KiB page holding guest-physical `paddr`, or null if
  // that page is not RAM (MMIO or a hole). With `for_write`, the returned
  // page may be written (copy-on-write is broken first). The pointer stays
  // valid until the monitor invalidates this CPU's translations. With the
  // memory model's sampler on (Cpu::sampler) the page must be 4 KiB-aligned
  // in host memory, as machine pages are: the JIT's inline sample test
  // takes a host address's line offset from the guest address's.
  virtual uint8_t* ram_page(uint64_t paddr, bool for_write) = 0;
  // Device access of `size` bytes (1, 2, 4 or 8) at `paddr`; the value is in
  // the guest's byte order already converted to a number. Returns false when
  // nothing answers there (the processor raises a bus error).
  virtual bool mmio_read(uint64_t paddr, unsigned size, uint64_t& value) = 0;
  virtual bool mmio_write(uint64_t paddr, unsigned size, uint64_t value) = 0;
};

}  // namespace disco
