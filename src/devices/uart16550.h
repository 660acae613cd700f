// A 16550-compatible UART (registers one byte apart). Transmit goes to a
// sink callback immediately (THR is always empty); receive takes bytes
// pushed by the host side. The interrupt output follows IER and the state.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>

#include "devices/mmio.h"

namespace disco {

class Uart16550 : public MmioDevice {
 public:
  using Sink = std::function<void(uint8_t)>;
  using IrqLine = std::function<void(bool)>;
  Uart16550(Sink sink, IrqLine irq) : sink_(std::move(sink)), irq_(std::move(irq)) {}

  bool read(uint64_t offset, unsigned size, uint64_t& value) override;
  bool write(uint64_t offset, unsigned size, uint64_t value) override;

  // Host → guest bytes (console input).
  void push_input(uint8_t byte);
  bool input_empty() const { return rx_.empty(); }

 private:
  void update_irq();
  Sink sink_;
  IrqLine irq_;
  std::deque<uint8_t> rx_;
  uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scr_ = 0, dll_ = 0, dlm_ = 0;
  bool thre_pending_ = false;  // THR-empty interrupt condition (cleared by IIR read / THR write)
  bool irq_level_ = false;
};

}  // namespace disco
