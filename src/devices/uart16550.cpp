#include "devices/uart16550.h"

namespace disco {

namespace {
enum : unsigned { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };
constexpr uint8_t LCR_DLAB = 0x80;
constexpr uint8_t IER_RDA = 0x01, IER_THRE = 0x02;
constexpr uint8_t LSR_DR = 0x01, LSR_THRE = 0x20, LSR_TEMT = 0x40;
}  // namespace

bool Uart16550::read(uint64_t offset, unsigned size, uint64_t& value) {
  if (size != 1 && size != 4) return false;  // byte registers; 32-bit reads of a byte lane tolerated
  uint8_t v = 0;
  switch (offset) {
    case RBR_THR:
      if (lcr_ & LCR_DLAB) { v = dll_; break; }
      if (!rx_.empty()) { v = rx_.front(); rx_.pop_front(); }
      break;
    case IER: v = (lcr_ & LCR_DLAB) ? dlm_ : ier_; break;
    case IIR_FCR:
      // Highest-priority pending source; FIFOs reported enabled (0xc0).
      if ((ier_ & IER_RDA) && !rx_.empty()) v = 0x04;
      else if ((ier_ & IER_THRE) && thre_pending_) { v = 0x02; thre_pending_ = false; }
      else v = 0x01;
      v |= 0xc0;
      break;
    case LCR: v = lcr_; break;
    case MCR: v = mcr_; break;
    case LSR: v = LSR_THRE | LSR_TEMT | (rx_.empty() ? 0 : LSR_DR); break;
    case MSR: v = 0xb0; break;  // CTS, DSR, DCD asserted
    case SCR: v = scr_; break;
    default: return false;
  }
  value = v;
  update_irq();
  return true;
}

bool Uart16550::write(uint64_t offset, unsigned size, uint64_t value) {
  if (size != 1 && size != 4) return false;
  const uint8_t v = static_cast<uint8_t>(value);
  switch (offset) {
    case RBR_THR:
      if (lcr_ & LCR_DLAB) { dll_ = v; break; }
      sink_(v);
      thre_pending_ = true;  // transmission is instantaneous
      break;
    case IER:
      if (lcr_ & LCR_DLAB) { dlm_ = v; break; }
      // Enabling THRE interrupts while THR is empty raises one at once.
      if ((v & IER_THRE) && !(ier_ & IER_THRE)) thre_pending_ = true;
      ier_ = v & 0x0f;
      break;
    case IIR_FCR:
      if (v & 0x02) rx_.clear();  // clear receive FIFO
      break;
    case LCR: lcr_ = v; break;
    case MCR: mcr_ = v; break;
    case LSR: case MSR: break;  // read-only
    case SCR: scr_ = v; break;
    default: return false;
  }
  update_irq();
  return true;
}

void Uart16550::push_input(uint8_t byte) {
  rx_.push_back(byte);
  update_irq();
}

void Uart16550::update_irq() {
  const bool level = ((ier_ & IER_RDA) && !rx_.empty()) || ((ier_ & IER_THRE) && thre_pending_);
  if (level != irq_level_) {
    irq_level_ = level;
    if (irq_) irq_(level);
  }
}

}  // namespace disco
