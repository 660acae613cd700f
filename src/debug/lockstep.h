// Lockstep: an interpreter VM booted the same way (deterministic time)
// follows a JIT VM block by block; the run stops with VmExit::Diverged and
// a report at the first difference in architectural state, or in RAM
// (compared every `ram_check_cycles`). Attached as the JIT VM's observer.
#pragma once

#include <cstdint>
#include <string>

#include "monitor/vm.h"

namespace disco::debug {

class LockstepChecker : public VmObserver {
 public:
  explicit LockstepChecker(Vm& reference, uint64_t ram_check_cycles = 64ull << 20);

  bool after_step(Vm& vm, uint64_t pc) override;
  void on_idle_skip(Vm& vm, uint64_t cycle) override;
  void on_console_input(uint8_t byte) override;

  // The first difference found (empty while none).
  const std::string& report() const { return report_; }

 private:
  Vm& ref_;
  uint64_t ram_check_cycles_;
  uint64_t next_ram_check_ = 0;
  std::string report_;
};

}  // namespace disco::debug
