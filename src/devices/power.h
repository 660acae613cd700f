// Power controller of the disco virt board:
//   +0x0  write 0x5555 : power off (exit status 0)
//   +0x4  write 0x1    : reboot
//   +0x8  write N      : power off with host exit status N (test hook)
// Linux drives +0x0 and +0x4 through syscon-poweroff / syscon-reboot.
#pragma once

#include <functional>

#include "devices/mmio.h"

namespace disco {

class PowerDevice : public MmioDevice {
 public:
  enum class Request { PowerOff, Reboot };
  using Handler = std::function<void(Request, int exit_status)>;
  explicit PowerDevice(Handler h) : handler_(std::move(h)) {}

  bool read(uint64_t offset, unsigned size, uint64_t& value) override;
  bool write(uint64_t offset, unsigned size, uint64_t value) override;

  static constexpr uint32_t kPowerOffMagic = 0x5555;
  static constexpr uint32_t kRebootMagic = 0x1;

 private:
  Handler handler_;
};

}  // namespace disco
