#include "devices/power.h"

namespace disco {

bool PowerDevice::read(uint64_t offset, unsigned size, uint64_t& value) {
  if (size != 4 || offset > 8 || (offset & 3)) return false;
  value = 0;  // registers are write-only; reads as zero (syscon reads before writing)
  return true;
}

bool PowerDevice::write(uint64_t offset, unsigned size, uint64_t value) {
  if (size != 4) return false;
  const uint32_t v = static_cast<uint32_t>(value);
  switch (offset) {
    case 0x0:
      if (v == kPowerOffMagic) handler_(Request::PowerOff, 0);
      return true;
    case 0x4:
      if (v == kRebootMagic) handler_(Request::Reboot, 0);
      return true;
    case 0x8:
      handler_(Request::PowerOff, static_cast<int>(v & 0xff));
      return true;
    default:
      return false;
  }
}

}  // namespace disco
