// A small physical bus for unit tests: sparse RAM pages below `ram_size`,
// and a log of MMIO accesses elsewhere (reads return `mmio_value`).
#pragma once

#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "cpu/phys_bus.h"

namespace disco::test {

class TestBus : public PhysBus {
 public:
  explicit TestBus(uint64_t ram_size = 64ull << 20) : ram_size_(ram_size) {}

  uint8_t* ram_page(uint64_t paddr, bool) override {
    if (paddr >= ram_size_) return nullptr;
    auto& p = pages_[paddr & ~kPageMask];
    if (!p) {
      p = std::make_unique<uint8_t[]>(kPageSize);
      std::memset(p.get(), 0, kPageSize);
    }
    return p.get();
  }
  struct MmioAccess {
    bool write;
    uint64_t paddr;
    unsigned size;
    uint64_t value;
  };
  bool mmio_read(uint64_t paddr, unsigned size, uint64_t& value) override {
    if (!mmio_ok) return false;
    value = mmio_value;
    log.push_back({false, paddr, size, value});
    return true;
  }
  bool mmio_write(uint64_t paddr, unsigned size, uint64_t value) override {
    if (!mmio_ok) return false;
    log.push_back({true, paddr, size, value});
    return true;
  }

  // Byte-level access to RAM (guest byte order is the memory order).
  void write_bytes(uint64_t paddr, const void* src, size_t n) {
    const uint8_t* s = static_cast<const uint8_t*>(src);
    for (size_t i = 0; i < n; ++i) ram_page(paddr + i, true)[(paddr + i) & kPageMask] = s[i];
  }
  void read_bytes(uint64_t paddr, void* dst, size_t n) {
    uint8_t* d = static_cast<uint8_t*>(dst);
    for (size_t i = 0; i < n; ++i) d[i] = ram_page(paddr + i, false)[(paddr + i) & kPageMask];
  }
  // Little-endian words (the default guest byte order).
  void write32(uint64_t paddr, uint32_t v) { write_bytes(paddr, &v, 4); }
  uint32_t read32(uint64_t paddr) { uint32_t v; read_bytes(paddr, &v, 4); return v; }
  void write64(uint64_t paddr, uint64_t v) { write_bytes(paddr, &v, 8); }
  uint64_t read64(uint64_t paddr) { uint64_t v; read_bytes(paddr, &v, 8); return v; }

  bool mmio_ok = true;
  uint64_t mmio_value = 0;
  std::vector<MmioAccess> log;

 private:
  uint64_t ram_size_;
  std::map<uint64_t, std::unique_ptr<uint8_t[]>> pages_;
};

}  // namespace disco::test
