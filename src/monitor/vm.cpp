#include "monitor/vm.h"

#include <sys/mman.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "devices/fdt_builder.h"
#include "interp/interpreter.h"
#include "frontend/disasm.h"
#include "jit/jit.h"
#include "monitor/elf_loader.h"
#include "monitor/state_diff.h"

namespace disco {

Vm::Vm(const VmConfig& cfg)
    : cfg_(cfg),
      uart_([this](uint8_t ch) { if (cfg_.console_out) cfg_.console_out(ch); },
            [this](bool level) { cpu_->set_irq_line(board::kUartIrqLine, level); }),
      power_([this](PowerDevice::Request req, int status) {
        pending_exit_ = req == PowerDevice::Request::Reboot ? VmExit::Reboot : VmExit::PowerOff;
        exit_status_ = status;
        cpu_->events |= EV_STOP;
      }),
      rtc_([this] { return guest_time_ns(); }) {
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
  mmio_.add(board::kRtcBase, 0x1000, &rtc_);
  CpuConfig cc;
  cc.big_endian = cfg.big_endian;
  cc.has_fpu = cfg.has_fpu;
  cpu_ = std::make_unique<Cpu>(*this, cc);
  attach_engine();
  if (!cfg.deterministic) cpu_->use_host_time(board::kCpuClockHz / 2);
}

void Vm::attach_engine() {
  jit_.reset();
  interp::attach(*cpu_);
  if (cfg_.engine == VmConfig::Engine::Jit) {
    jit::JitClasses cls;
    cls.alu = cfg_.jit_alu;
    cls.mem = cfg_.jit_mem;
    cls.branch = cfg_.jit_branch;
    jit_ = std::make_unique<jit::Jit>(*cpu_, cls);
  }
}

uint64_t Vm::guest_time_ns() const {
  if (!cfg_.deterministic) {
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
    error = "guest memory (" + std::to_string(cfg_.mem_bytes >> 20) + " MiB) is too small for the kernel" +
            (initrd_size ? " and an initrd of " + std::to_string(initrd_size >> 10) + " KiB" : std::string()) +
            "; use a larger --mem";
    return false;
  }
  return true;
}

bool Vm::boot(const BootSpec& spec, std::string& error) {
  std::vector<uint8_t> kernel, initrd;
  if (!read_file(spec.kernel, kernel, error)) return false;
  if (!spec.initrd.empty() && !read_file(spec.initrd, initrd, error)) return false;
  ElfImage img;
  if (!load_elf(kernel, [this](uint64_t pa) { return ram_page(pa, true); }, cfg_.big_endian, img, error)) {
    error = spec.kernel + ": " + error;
    return false;
  }
  if (!place_boot_data(img.lowest_paddr, img.highest_paddr, initrd.size(), error)) return false;
  for (size_t i = 0; i < initrd.size(); ++i) ram_page(initrd_paddr_ + i, true)[(initrd_paddr_ + i) & kPageMask] = initrd[i];

  BoardDescription b;
  b.memory.push_back({0, low_bytes_});
  if (high_bytes_) b.memory.push_back({board::kHighRamBase, high_bytes_});
  b.cpu_clock_hz = board::kCpuClockHz;
  b.uart_base = board::kUartBase;
  b.uart_irq = 2 + board::kUartIrqLine;
  b.power_base = board::kPowerBase;
  b.rtc_base = board::kRtcBase;
  b.rtc_irq = 2 + board::kRtcIrqLine;
  b.bootargs = spec.cmdline;
  if (!initrd.empty()) {
    b.initrd_start = initrd_paddr_;
    b.initrd_end = initrd_paddr_ + initrd.size();
  }
  b.kaslr_seed = spec.kaslr_seed;
  const std::vector<uint8_t> dtb = build_board_fdt(b, error);
  if (dtb.empty()) return false;
  if (dtb.size() > 64 * 1024) {
    error = "device tree larger than its 64 KiB slot";
    return false;
  }
  for (size_t i = 0; i < dtb.size(); ++i) ram_page(dtb_paddr_ + i, true)[(dtb_paddr_ + i) & kPageMask] = dtb[i];

  cpu_->reset();
  attach_engine();
  if (!cfg_.deterministic) cpu_->use_host_time(board::kCpuClockHz / 2);
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
  for (;;) {
    uint64_t limit = c.s.cycles + chunk;
    if (lim.max_insns) {
      if (instructions() >= lim.max_insns) return VmExit::InsnLimit;
      limit = std::min(limit, c.s.cycles + (lim.max_insns - instructions()));
    }
    StopReason why;
    if (lockstep_ref_ && jit_) {
      why = StopReason::Budget;
      while (c.s.cycles < limit && why == StopReason::Budget && pending_exit_ == VmExit::Running) {
        const uint64_t block_pc = c.s.pc;
        why = jit_->run(limit, 1);
        if (!lockstep_sync(block_pc)) return VmExit::Diverged;
      }
    } else {
      why = jit_ ? jit_->run(limit) : interp::run(c, limit);
    }
    if (pending_exit_ != VmExit::Running) return pending_exit_;
    if (lim.poll_input) lim.poll_input(*this);
    c.update_timer();
    if (why == StopReason::Wait && !(c.s.cp0.cause & c.s.cp0.status & cp0::Status_IM)) {
      const uint32_t im = c.s.cp0.status & cp0::Status_IM;
      const bool timer_can_wake = im & (1u << (cp0::Status_IM_SHIFT + cp0::kTimerIrq));
      const bool uart_can_wake = im & (1u << (cp0::Status_IM_SHIFT + 2 + board::kUartIrqLine));
      if (!timer_can_wake && !(uart_can_wake && (lim.wait_input || lim.poll_input))) {
        // Waiting with every interrupt that could wake it masked: the
        // guest halted (Linux's power-off and halt end here).
        return VmExit::Halted;
      }
      if (!c.host_time) {
        // Deterministic: time jumps to the timer event.
        if (timer_can_wake && c.next_timer_cycle > c.s.cycles) {
          idle_cycles_ += c.next_timer_cycle - c.s.cycles;
          if (lockstep_ref_) {
            // The reference executed the same WAIT (lockstep_sync): it idles alike.
            Cpu& r = *lockstep_ref_->cpu_;
            lockstep_ref_->idle_cycles_ += c.next_timer_cycle - r.s.cycles;
            r.s.cycles = c.next_timer_cycle;
            r.update_timer();
          }
          c.s.cycles = c.next_timer_cycle;
        } else if (lim.wait_input) {
          lim.wait_input(50'000'000);
        }
      } else {
        // Host time: sleep until the timer or console input.
        uint64_t ns = timer_can_wake ? c.ns_until_timer() : 50'000'000;
        ns = std::min<uint64_t>(ns, 50'000'000);
        if (ns) {
          if (lim.wait_input) lim.wait_input(ns);
          else std::this_thread::sleep_for(std::chrono::nanoseconds(ns));
        }
      }
      if (lim.poll_input) lim.poll_input(*this);
      c.update_timer();
    }
    if (lim.should_stop && lim.should_stop()) return VmExit::Stopped;
    if (lim.timeout_seconds > 0 &&
        std::chrono::duration<double>(clock::now() - start).count() > lim.timeout_seconds)
      return VmExit::Timeout;
  }
}

void Vm::set_lockstep_reference(Vm* ref, uint64_t ram_check_cycles) {
  lockstep_ref_ = ref;
  ram_check_cycles_ = ram_check_cycles;
  next_ram_check_ = cpu_->s.cycles + ram_check_cycles;
  uart_.mirror = ref ? &ref->uart_ : nullptr;
}

namespace {
std::string hex64(uint64_t v) {
  char b[20];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}
}  // namespace

// Brings the reference to this VM's cycle count and compares.
bool Vm::lockstep_sync(uint64_t block_pc) {
  Cpu& d = *cpu_;
  Cpu& r = *lockstep_ref_->cpu_;
  while (r.s.cycles < d.s.cycles) {
    // A reference that stops early (WAIT, power-off) shows up in the
    // comparison below as a cycle or pc difference.
    if (interp::run(r, d.s.cycles) != StopReason::Budget) break;
  }
  // Timer state is sampled at slightly different points by the two run
  // loops; bring both up to date (no instruction runs in between).
  d.update_timer();
  r.update_timer();
  std::string diff = state_differences(d.s, r.s);
  if (diff.empty() && d.s.cycles >= next_ram_check_) {
    next_ram_check_ = d.s.cycles + ram_check_cycles_;
    const uint64_t bytes = low_bytes_ + high_bytes_;
    for (uint64_t off = 0; off < bytes; off += kPageSize) {
      if (std::memcmp(ram_ + off, lockstep_ref_->ram_ + off, kPageSize) != 0) {
        const uint64_t pa = off < low_bytes_ ? off : board::kHighRamBase + (off - low_bytes_);
        diff += "  RAM page at physical " + hex64(pa) + " differs\n";
        break;
      }
    }
  }
  if (diff.empty()) return true;
  divergence_ = "lockstep: JIT and interpreter differ after the block at " + hex64(block_pc) + " (cycle " +
                std::to_string(d.s.cycles) + ")\n" + diff;
  // The block as the guest sees it (kernel segments only: no translation needed).
  const uint64_t pa = elf_vaddr_to_paddr(block_pc);
  if (pa != block_pc) {
    for (unsigned k = 0; k < 24; ++k) {
      const uint64_t a = pa + 4 * k;
      const uint8_t* page = ram_page(a, false);
      if (!page) break;
      uint32_t w;
      std::memcpy(&w, page + (a & kPageMask), 4);
      if (cfg_.big_endian) w = __builtin_bswap32(w);
      divergence_ += "    " + hex64(block_pc + 4 * k) + ": " + disassemble(w, block_pc + 4 * k) + "\n";
    }
  }
  return false;
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
