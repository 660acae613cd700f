#include "monitor/vm.h"

#include <sys/mman.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "board/fdt_builder.h"
#include "interp/interpreter.h"
#include "jit/jit.h"
#include "board/elf_loader.h"
#include "cpu/mmu.h"

namespace disco {

Vm::Vm(const VmSpec& spec, VmWiring wiring)
    : spec_(spec),
      where_(std::move(wiring)),
      uart_([this](uint8_t ch) { if (where_.console_out) where_.console_out(ch); },
            [this](bool level) { cpu_->set_irq_line(board::kUartIrqLine, level); }),
      power_([this](PowerDevice::Request req, int status) {
        pending_exit_ = req == PowerDevice::Request::Reboot ? VmExit::Reboot : VmExit::PowerOff;
        exit_status_ = status;
        cpu_->request_stop();
      }),
      rtc_([this] { return guest_time_ns(); }) {
  const uint64_t mem = spec_.mem_bytes;
  if (mem < board::kMinMem || mem > board::kMaxMem || (mem & kPageMask))
    throw std::invalid_argument("guest memory size must be a multiple of 4 KiB between 16 MiB and 64 GiB");
  low_bytes_ = std::min(mem, board::kLowRamLimit);
  high_bytes_ = mem - low_bytes_;
  if (!where_.memory) {
    own_memory_ = std::make_unique<MachineMemory>(std::vector<uint64_t>{mem});
    where_.memory = own_memory_.get();
    where_.id = 0;
    where_.home_node = 0;
  }
  mem_ = std::make_unique<GuestMemory>(*where_.memory, where_.id, where_.home_node, low_bytes_, high_bytes_,
                                       board::kHighRamBase);
  mem_->invalidate = [this](const uint8_t* host_page) { mem::invalidate_host_page(*cpu_, host_page); };
  mem_->flush_tlb = [this] { mem::flush_soft_tlb(*cpu_); };
  mem_->on_out_of_memory = [this] {
    pending_exit_ = VmExit::OutOfMemory;
    cpu_->request_stop();
  };
  mmio_.add(board::kPowerBase, 0x1000, &power_);
  mmio_.add(board::kUartBase, 0x1000, &uart_);
  mmio_.add(board::kRtcBase, 0x1000, &rtc_);
  CpuConfig cc;
  cc.big_endian = spec_.big_endian;
  cc.has_fpu = spec_.has_fpu;
  cpu_ = std::make_unique<Cpu>(*this, cc);
  attach_engine();
  if (!spec_.deterministic) cpu_->use_host_time(board::kCpuClockHz / 2);
}

void Vm::attach_engine() {
  jit_.reset();
  interp::attach(*cpu_);
  if (spec_.engine == Engine::Jit) jit_ = std::make_unique<jit::Jit>(*cpu_, spec_.jit_classes);
}

uint64_t Vm::guest_time_ns() const {
  if (!spec_.deterministic) {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
  }
  // Deterministic: 2026-01-01T00:00:00Z plus the time the CPU has run.
  constexpr uint64_t kEpoch = 1767225600ull * 1'000'000'000ull;
  const unsigned __int128 ns = static_cast<unsigned __int128>(cpu_->s.cycles) * 1'000'000'000u;
  return kEpoch + static_cast<uint64_t>(ns / board::kCpuClockHz);
}

Vm::~Vm() {
  jit_.reset();
  mem_.reset();  // before the machine memory it maps
}

uint8_t* Vm::ram_page(uint64_t paddr, bool for_write) { return mem_->page(paddr, for_write); }

bool Vm::mmio_read(uint64_t paddr, unsigned size, uint64_t& value) { return mmio_.read(paddr, size, value); }
bool Vm::mmio_write(uint64_t paddr, unsigned size, uint64_t value) { return mmio_.write(paddr, size, value); }

bool Vm::place_boot_data(uint64_t kernel_lo, uint64_t kernel_hi, size_t initrd_size, std::string& error) {
  // Everything goes at the top of low RAM (below 256 MiB, reachable
  // through kseg0): the DTB in the last 64 KiB, the initrd just below.
  // A Linux kernel relocates itself (KASLR) up to 16 MiB above its load
  // address, so with an initrd we keep clear of kKaslrReserve above it.
  constexpr uint64_t kDtbSpace = 64 * 1024;
  const uint64_t top = low_bytes_;
  dtb_paddr_ = top - kDtbSpace;
  const uint64_t initrd_pages = (initrd_size + kPageMask) & ~kPageMask;
  initrd_paddr_ = dtb_paddr_ - initrd_pages;
  const uint64_t reserve_end = initrd_size ? std::max(kernel_hi, kernel_lo + board::kKaslrReserve) : kernel_hi;
  if (dtb_paddr_ < initrd_pages || initrd_paddr_ < reserve_end) {
    error = "guest memory (" + std::to_string(spec_.mem_bytes >> 20) + " MiB) is too small for the kernel" +
            (initrd_size ? " and an initrd of " + std::to_string(initrd_size >> 10) + " KiB" : std::string()) +
            "; use a larger --mem";
    return false;
  }
  return true;
}

bool Vm::load_kernel(ElfImage& img, std::string& error) {
  const VmSpec& spec = spec_;
  BootImageCache::Key key;
  const bool cacheable =
      where_.images && BootImageCache::key_for(spec.kernel, "kernel", 0, spec_.big_endian, key);
  if (cacheable) {
    if (const BootImageCache::Entry* e = where_.images->map_into(key, *mem_)) {
      img = e->elf;
      return true;
    }
  }
  std::vector<uint8_t> kernel;
  if (!read_file(spec.kernel, kernel, error)) return false;
  if (!load_elf(kernel, [this](uint64_t pa) { return ram_page(pa, true); }, spec_.big_endian, img, error)) {
    error = spec.kernel + ": " + error;
    return false;
  }
  if (cacheable) {
    BootImageCache::Entry meta;
    meta.elf = img;
    where_.images->publish(key, *mem_, img.lowest_paddr, img.highest_paddr, meta);
  }
  return true;
}

bool Vm::load_initrd(size_t& size, std::string& error) {
  const VmSpec& spec = spec_;
  // The size decides the placement, which is part of the cache key.
  BootImageCache::Key key;
  std::vector<uint8_t> initrd;
  const bool cacheable =
      where_.images && BootImageCache::key_for(spec.initrd, "initrd", 0, spec_.big_endian, key);
  if (cacheable) {
    size = key.size;
  } else {
    if (!read_file(spec.initrd, initrd, error)) return false;
    size = initrd.size();
  }
  if (!place_boot_data(kernel_lo_, kernel_hi_, size, error)) return false;
  if (cacheable) {
    key.paddr = initrd_paddr_;
    if (where_.images->map_into(key, *mem_)) return true;
    if (!read_file(spec.initrd, initrd, error)) return false;
    if (initrd.size() != size) {
      error = spec.initrd + ": the file changed while it was being loaded";
      return false;
    }
  }
  for (size_t off = 0; off < size; off += kPageSize) {
    uint8_t* page = ram_page(initrd_paddr_ + off, true);
    std::memcpy(page, initrd.data() + off, std::min<size_t>(kPageSize, size - off));
  }
  if (cacheable) {
    BootImageCache::Entry meta;
    meta.bytes = size;
    where_.images->publish(key, *mem_, initrd_paddr_, initrd_paddr_ + size, meta);
  }
  return true;
}

bool Vm::boot(std::string& error) {
  ElfImage img;
  if (!load_kernel(img, error)) return false;
  kernel_lo_ = img.lowest_paddr;
  kernel_hi_ = img.highest_paddr;
  size_t initrd_size = 0;
  if (spec_.initrd.empty()) {
    if (!place_boot_data(kernel_lo_, kernel_hi_, 0, error)) return false;
  } else if (!load_initrd(initrd_size, error)) {
    return false;
  }

  BoardDescription b;
  b.memory.push_back({0, low_bytes_});
  if (high_bytes_) b.memory.push_back({board::kHighRamBase, high_bytes_});
  b.cpu_clock_hz = board::kCpuClockHz;
  b.uart_base = board::kUartBase;
  b.uart_irq = 2 + board::kUartIrqLine;
  b.power_base = board::kPowerBase;
  b.rtc_base = board::kRtcBase;
  b.rtc_irq = 2 + board::kRtcIrqLine;
  b.bootargs = kernel_cmdline(spec_);
  if (initrd_size) {
    b.initrd_start = initrd_paddr_;
    b.initrd_end = initrd_paddr_ + initrd_size;
  }
  b.kaslr_seed = spec_.kaslr_seed;
  const std::vector<uint8_t> dtb = build_board_fdt(b, error);
  if (dtb.empty()) return false;
  if (dtb.size() > 64 * 1024) {
    error = "device tree larger than its 64 KiB slot";
    return false;
  }
  for (size_t off = 0; off < dtb.size(); off += kPageSize)
    std::memcpy(ram_page(dtb_paddr_ + off, true), dtb.data() + off, std::min<size_t>(kPageSize, dtb.size() - off));

  cpu_->reset();
  attach_engine();
  if (!spec_.deterministic) cpu_->use_host_time(board::kCpuClockHz / 2);
  cpu_->s.pc = img.entry;
  // UHI: a0 = -2, a1 = the DTB through kseg0 (the kernel dereferences it).
  cpu_->s.gpr[4] = ~1ull;
  cpu_->s.gpr[5] = 0xffffffff80000000ull + dtb_paddr_;
  cpu_->s.gpr[6] = cpu_->s.gpr[7] = 0;
  return true;
}

VmExit Vm::run(const Limits& lim) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  Cpu& c = *cpu_;
  // Cycles between host checks (input, timeouts, and with host time the timer).
  const uint64_t chunk = c.host_time ? 100'000 : 1u << 20;
  const uint64_t slice_end = lim.slice_cycles ? c.s.cycles + lim.slice_cycles : ~0ull;
  idle_ = false;
  for (;;) {
    uint64_t limit = c.s.cycles + chunk;
    if (lim.max_insns) {
      if (instructions() >= lim.max_insns) return VmExit::InsnLimit;
      limit = std::min(limit, c.s.cycles + (lim.max_insns - instructions()));
    }
    StopReason why;
    if (observer_) {
      why = StopReason::Budget;
      while (c.s.cycles < limit && why == StopReason::Budget && pending_exit_ == VmExit::Running) {
        const uint64_t step_pc = c.s.pc;
        why = jit_ ? jit_->run(limit, 1) : interp::run(c, c.s.cycles + 1);
        if (!observer_->after_step(*this, step_pc)) return VmExit::Diverged;
      }
    } else {
      why = jit_ ? jit_->run(limit) : interp::run(c, limit);
    }
    if (pending_exit_ != VmExit::Running) return pending_exit_;
    if (why == StopReason::Breakpoint) return VmExit::Breakpoint;
    if (lim.poll_input) lim.poll_input(*this);
    c.update_timer();
    if (why == StopReason::Wait && !(c.s.cp0.cause & c.s.cp0.status & cp0::Status_IM)) {
      const uint32_t im = c.s.cp0.status & cp0::Status_IM;
      const bool timer_can_wake = im & (1u << (cp0::Status_IM_SHIFT + cp0::kTimerIrq));
      const bool uart_can_wake = im & (1u << (cp0::Status_IM_SHIFT + 2 + board::kUartIrqLine));
      if (!timer_can_wake && !(uart_can_wake && (lim.yield_when_idle || lim.wait_input || lim.poll_input))) {
        // Waiting with every interrupt that could wake it masked: the
        // guest halted (Linux's power-off and halt end here).
        return VmExit::Halted;
      }
      if (lim.yield_when_idle && (c.host_time || !timer_can_wake)) {
        // Sharing the thread: the machine sleeps when every VM idles.
        idle_ = true;
        return VmExit::Running;
      }
      if (!c.host_time) {
        // Deterministic: time jumps to the timer event.
        if (timer_can_wake && c.next_timer_cycle > c.s.cycles) {
          idle_cycles_ += c.next_timer_cycle - c.s.cycles;
          if (observer_) observer_->on_idle_skip(*this, c.next_timer_cycle);
          c.s.cycles = c.next_timer_cycle;
        } else if (lim.wait_input) {
          lim.wait_input(50'000'000);
        }
      } else {
        // Host time: sleep until the timer or console input, or, without
        // a console to wait on, in the processor's WAIT gate, which an
        // interrupt line, a request or a stop from any thread opens at once
        // (so it may sleep longer between checks of the limits).
        if (lim.wait_input) {
          const uint64_t ns = std::min<uint64_t>(timer_can_wake ? c.ns_until_timer() : 50'000'000, 50'000'000);
          if (ns) lim.wait_input(ns);
        } else {
          const uint64_t ns = std::min<uint64_t>(timer_can_wake ? c.ns_until_timer() : 500'000'000, 500'000'000);
          if (ns) c.idle_sleep(ns);
        }
      }
      if (lim.poll_input) lim.poll_input(*this);
      c.update_timer();
    }
    if (lim.should_stop && lim.should_stop()) return VmExit::Stopped;
    if (c.s.cycles >= slice_end) return VmExit::Running;
    if (lim.timeout_seconds > 0 &&
        std::chrono::duration<double>(clock::now() - start).count() > lim.timeout_seconds)
      return VmExit::Timeout;
  }
}

uint64_t Vm::wake_in_ns() {
  Cpu& c = *cpu_;
  c.update_timer();
  if (c.s.cp0.cause & c.s.cp0.status & cp0::Status_IM) return 0;
  if (!(c.s.cp0.status & (1u << (cp0::Status_IM_SHIFT + cp0::kTimerIrq)))) return ~0ull;
  return c.host_time ? c.ns_until_timer() : 0;
}

void Vm::console_input(uint8_t byte) {
  uart_.push_input(byte);
  if (observer_) observer_->on_console_input(byte);
}

void Vm::skip_idle_to(uint64_t cycle) {
  Cpu& c = *cpu_;
  if (cycle <= c.s.cycles) return;
  idle_cycles_ += cycle - c.s.cycles;
  c.s.cycles = cycle;
  c.update_timer();
}

std::string kernel_cmdline(const VmSpec& spec) {
  std::string s = board::kBaseCmdline;
  if (!spec.append.empty()) s += " " + spec.append;
  if (!spec.kaslr) s += " nokaslr";
  return s;
}

const char* engine_name(Engine e) { return e == Engine::Jit ? "jit" : "interp"; }

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
