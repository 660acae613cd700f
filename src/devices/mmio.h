// Memory-mapped devices. A device sees only an offset into its own window,
// an access size and data — never the CPU or absolute addresses.
#pragma once

#include <cstdint>
#include <vector>

namespace disco {

class MmioDevice {
 public:
  virtual ~MmioDevice() = default;
  // Return false if the access is not accepted (bus error for the guest).
  virtual bool read(uint64_t offset, unsigned size, uint64_t& value) = 0;
  virtual bool write(uint64_t offset, unsigned size, uint64_t value) = 0;
};

// Physical address → device windows. Windows never overlap (add() checks).
class MmioMap {
 public:
  // Returns false if [base, base+size) overlaps an existing window.
  bool add(uint64_t base, uint64_t size, MmioDevice* dev);
  bool read(uint64_t paddr, unsigned size, uint64_t& value);
  bool write(uint64_t paddr, unsigned size, uint64_t value);

 private:
  struct Window {
    uint64_t base, size;
    MmioDevice* dev;
  };
  const Window* find(uint64_t paddr, unsigned size) const;
  std::vector<Window> windows_;
};

}  // namespace disco
