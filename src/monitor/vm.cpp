#include "monitor/vm.h"

#include <sys/mman.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "interp/interpreter.h"
#include "monitor/elf_loader.h"

namespace disco {

Vm::Vm(const VmConfig& cfg)
    : cfg_(cfg),
      uart_([this](uint8_t ch) { if (cfg_.console_out) cfg_.console_out(ch); },
            [this](bool level) { cpu_->set_irq_line(board::kUartIrqLine, level); }),
      power_([this](PowerDevice::Request req, int status) {
        pending_exit_ = req == PowerDevice::Request::Reboot ? VmExit::Reboot : VmExit::PowerOff;
        exit_status_ = status;
        cpu_->events |= EV_STOP;
      }) {
  if (cfg.mem_bytes < board::kMinMem || cfg.mem_bytes > board::kMaxMem || (cfg.mem_bytes & kPageMask))
    throw std::invalid_argument("guest memory size must be a multiple of 4 KiB between 16 MiB and 64 GiB");
  low_bytes_ = std::min(cfg.mem_bytes, board::kLowRamLimit);
  high_bytes_ = cfg.mem_bytes - low_bytes_;
  // Untouched pages cost nothing on the host (MAP_NORESERVE, demand zero).
  void* p = mmap(nullptr, cfg.mem_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::runtime_error("cannot reserve guest memory");
  ram_ = static_cast<uint8_t*>(p);
  mmio_.add(board::kPowerBase, 0x1000, &power_);
  mmio_.add(board::kUartBase, 0x1000, &uart_);
  CpuConfig cc;
  cc.big_endian = cfg.big_endian;
  cc.has_fpu = cfg.has_fpu;
  cpu_ = std::make_unique<Cpu>(*this, cc);
  interp::attach(*cpu_);
}

Vm::~Vm() {
  if (ram_) munmap(ram_, cfg_.mem_bytes);
}

uint8_t* Vm::ram_page(uint64_t paddr, bool) {
  const uint64_t page = paddr & ~kPageMask;
  if (page < low_bytes_) return ram_ + page;
  if (page >= board::kHighRamBase && page - board::kHighRamBase < high_bytes_)
    return ram_ + low_bytes_ + (page - board::kHighRamBase);
  return nullptr;
}

bool Vm::mmio_read(uint64_t paddr, unsigned size, uint64_t& value) { return mmio_.read(paddr, size, value); }
bool Vm::mmio_write(uint64_t paddr, unsigned size, uint64_t value) { return mmio_.write(paddr, size, value); }

bool Vm::load_kernel(const std::string& path, std::string& error) {
  std::vector<uint8_t> bytes;
  if (!read_file(path, bytes, error)) return false;
  ElfImage img;
  if (!load_elf(bytes, [this](uint64_t pa) { return ram_page(pa, true); }, cfg_.big_endian, img, error)) {
    error = path + ": " + error;
    return false;
  }
  cpu_->reset();
  interp::attach(*cpu_);
  cpu_->s.pc = img.entry;
  return true;
}

VmExit Vm::run(const Limits& lim) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  constexpr uint64_t kChunk = 1u << 20;  // cycles between host checks
  Cpu& c = *cpu_;
  for (;;) {
    uint64_t limit = c.s.cycles + kChunk;
    if (lim.max_insns) {
      if (instructions() >= lim.max_insns) return VmExit::InsnLimit;
      limit = std::min(limit, c.s.cycles + (lim.max_insns - instructions()));
    }
    const StopReason why = interp::run(c, limit);
    if (pending_exit_ != VmExit::Running) return pending_exit_;
    if (why == StopReason::Wait) {
      // Idle: time jumps to the next timer event if the timer can wake the
      // CPU; otherwise nothing ever will.
      const bool timer_can_wake = c.s.cp0.status & (1u << (cp0::Status_IM_SHIFT + cp0::kTimerIrq));
      if (!timer_can_wake && uart_.input_empty()) return VmExit::Hung;
      if (timer_can_wake && c.next_timer_cycle > c.s.cycles) {
        idle_cycles_ += c.next_timer_cycle - c.s.cycles;
        c.s.cycles = c.next_timer_cycle;
      }
      c.update_timer();
    }
    if (lim.should_stop && lim.should_stop()) return VmExit::Stopped;
    if (lim.timeout_seconds > 0 &&
        std::chrono::duration<double>(clock::now() - start).count() > lim.timeout_seconds)
      return VmExit::Timeout;
  }
}

bool parse_size(const std::string& t, uint64_t& bytes) {
  if (t.empty()) return false;
  size_t i = 0;
  uint64_t v = 0;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
    if (v > (~0ull - 9) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(t[i++] - '0');
  }
  if (i == 0) return false;
  unsigned shift = 0;
  if (i < t.size()) {
    switch (t[i]) {
      case 'k': case 'K': shift = 10; break;
      case 'm': case 'M': shift = 20; break;
      case 'g': case 'G': shift = 30; break;
      default: return false;
    }
    ++i;
    if (i < t.size() && (t[i] == 'i' || t[i] == 'B')) ++i;  // "MiB", "MB"
    if (i < t.size() && t[i] == 'B') ++i;
  }
  if (i != t.size()) return false;
  if (shift && v > (~0ull >> shift)) return false;
  bytes = v << shift;
  return true;
}

}  // namespace disco
