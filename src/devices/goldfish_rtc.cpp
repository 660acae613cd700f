#include "devices/goldfish_rtc.h"

namespace disco {

namespace {
enum : uint64_t {
  TIME_LOW = 0x00, TIME_HIGH = 0x04, ALARM_LOW = 0x08, ALARM_HIGH = 0x0c,
  IRQ_ENABLED = 0x10, CLEAR_ALARM = 0x14, ALARM_STATUS = 0x18, CLEAR_INTERRUPT = 0x1c,
};
}  // namespace

bool GoldfishRtc::read(uint64_t offset, unsigned size, uint64_t& value) {
  if (size != 4) return false;
  switch (offset) {
    case TIME_LOW: {
      const uint64_t t = now();
      latched_high_ = static_cast<uint32_t>(t >> 32);
      value = static_cast<uint32_t>(t);
      return true;
    }
    case TIME_HIGH: value = latched_high_; return true;
    case ALARM_LOW: value = alarm_low_; return true;
    case ALARM_HIGH: value = alarm_high_; return true;
    case IRQ_ENABLED: value = irq_enabled_; return true;
    case ALARM_STATUS: value = 0; return true;
    case CLEAR_ALARM: case CLEAR_INTERRUPT: value = 0; return true;
    default: return false;
  }
}

bool GoldfishRtc::write(uint64_t offset, unsigned size, uint64_t value) {
  if (size != 4) return false;
  const uint32_t v = static_cast<uint32_t>(value);
  switch (offset) {
    case TIME_HIGH: pending_set_high_ = v; return true;
    case TIME_LOW: {
      const uint64_t want = (static_cast<uint64_t>(pending_set_high_) << 32) | v;
      offset_ = static_cast<int64_t>(want - clock_());
      return true;
    }
    case ALARM_LOW: alarm_low_ = v; return true;
    case ALARM_HIGH: alarm_high_ = v; return true;
    case IRQ_ENABLED: irq_enabled_ = v & 1; return true;
    case CLEAR_ALARM: case CLEAR_INTERRUPT: return true;
    default: return false;
  }
}

}  // namespace disco
