// Memory-mapped devices. A device sees only an offset into its own window,
// an access size and data — never the CPU or absolute addresses. Devices
// with per-processor register blocks (the CM's core-local block, the GIC's
// VP-local block) also see which processor made the access: its index,
// the same number as its EBase.CPUNum (see read_by/write_by).
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

  // The same access, made by processor `cpu` (0-based vCPU index). A device
  // whose registers differ per processor overrides these; the default
  // ignores the requester, so single-CPU devices implement read/write only.
  // Callers that do not know the requester use read/write, which devices
  // with per-processor blocks treat as an access by processor 0.
  virtual bool read_by(unsigned cpu, uint64_t offset, unsigned size, uint64_t& value) {
    (void)cpu;
    return read(offset, size, value);
  }
  virtual bool write_by(unsigned cpu, uint64_t offset, unsigned size, uint64_t value) {
    (void)cpu;
    return write(offset, size, value);
  }
};

// Physical address → device windows. Windows never overlap (add() checks).
class MmioMap {
 public:
  // Returns false if [base, base+size) overlaps an existing window.
  bool add(uint64_t base, uint64_t size, MmioDevice* dev);
  bool read(uint64_t paddr, unsigned size, uint64_t& value) { return read_by(0, paddr, size, value); }
  bool write(uint64_t paddr, unsigned size, uint64_t value) { return write_by(0, paddr, size, value); }
  // With the requesting processor (see MmioDevice::read_by).
  bool read_by(unsigned cpu, uint64_t paddr, unsigned size, uint64_t& value);
  bool write_by(unsigned cpu, uint64_t paddr, unsigned size, uint64_t value);

 private:
  struct Window {
    uint64_t base, size;
    MmioDevice* dev;
  };
  const Window* find(uint64_t paddr, unsigned size) const;
  std::vector<Window> windows_;
};

}  // namespace disco
