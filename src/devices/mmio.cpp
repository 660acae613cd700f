#include "devices/mmio.h"

namespace disco {

bool MmioMap::add(uint64_t base, uint64_t size, MmioDevice* dev) {
  for (const Window& w : windows_)
    if (base < w.base + w.size && w.base < base + size) return false;
  windows_.push_back({base, size, dev});
  return true;
}

const MmioMap::Window* MmioMap::find(uint64_t paddr, unsigned size) const {
  for (const Window& w : windows_)
    if (paddr >= w.base && paddr - w.base + size <= w.size) return &w;
  return nullptr;
}

bool MmioMap::read_by(unsigned cpu, uint64_t paddr, unsigned size, uint64_t& value) {
  const Window* w = find(paddr, size);
  return w && w->dev->read_by(cpu, paddr - w->base, size, value);
}

bool MmioMap::write_by(unsigned cpu, uint64_t paddr, unsigned size, uint64_t value) {
  const Window* w = find(paddr, size);
  return w && w->dev->write_by(cpu, paddr - w->base, size, value);
}

}  // namespace disco
