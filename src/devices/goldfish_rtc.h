// The goldfish RTC (Linux rtc-goldfish, built into Debian's MIPS kernel):
// nanoseconds since the epoch in two 32-bit registers. Reading TIME_LOW
// latches TIME_HIGH. Writing TIME_HIGH then TIME_LOW sets the clock (kept
// as an offset from the time source). The alarm registers are stored and
// read back; the alarm never fires (no guest needs it yet).
#pragma once

#include <cstdint>
#include <functional>

#include "devices/mmio.h"

namespace disco {

class GoldfishRtc : public MmioDevice {
 public:
  using Clock = std::function<uint64_t()>;  // ns since the epoch
  explicit GoldfishRtc(Clock clock) : clock_(std::move(clock)) {}

  bool read(uint64_t offset, unsigned size, uint64_t& value) override;
  bool write(uint64_t offset, unsigned size, uint64_t value) override;

 private:
  uint64_t now() const { return clock_() + offset_; }
  Clock clock_;
  int64_t offset_ = 0;
  uint32_t latched_high_ = 0, pending_set_high_ = 0;
  uint32_t alarm_low_ = 0, alarm_high_ = 0, irq_enabled_ = 0;
};

}  // namespace disco
