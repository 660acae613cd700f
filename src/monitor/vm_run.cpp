// Running a VM's vCPUs: one vCPU's loop (run_vcpu, also what a Machine's
// processors call), and for a VM run on its own (Vm::run) with several
// vCPUs either a host thread per vCPU or, with deterministic time, a fixed
// interleaving on the calling thread. docs/smp.md describes both.
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <stdexcept>
#include <thread>

#include "interp/interpreter.h"
#include "jit/jit.h"
#include "monitor/vm.h"

namespace disco {

namespace {
using steady = std::chrono::steady_clock;

double seconds_since(steady::time_point t0) {
  return std::chrono::duration<double>(steady::now() - t0).count();
}

// Marks the calling thread as running `c` (for remaps it triggers itself).
class CurrentVcpu {
 public:
  CurrentVcpu(Cpu*& slot, Cpu* c) : slot_(slot), saved_(slot) { slot_ = c; }
  ~CurrentVcpu() { slot_ = saved_; }

 private:
  Cpu*& slot_;
  Cpu* saved_;
};
}  // namespace

VmExit Vm::run(const Limits& lim) {
  if (!smp()) return run_vcpu(0, lim);
  if (observer_) throw std::logic_error("a VM observer (lockstep, gdb) follows one vCPU only");
  return spec_.deterministic ? run_interleaved(lim) : run_threads(lim);
}

VmExit Vm::run_vcpu(unsigned k, const Limits& lim) {
  Vcpu& v = *vcpus_[k];
  v.idle = false;
  if (!start_if_released(v)) {
    v.idle = true;  // held in reset
    return VmExit::Running;
  }
  if (!v.host_tid) v.host_tid = static_cast<long>(syscall(SYS_gettid));
  CurrentVcpu current(current_vcpu, v.cpu.get());
  const auto start = steady::now();
  Cpu& c = *v.cpu;
  // Deterministic time with several vCPUs (all on this thread): the vCPU
  // reads the VM's clock, which goes on by what this slice runs.
  const bool vm_clock = smp() && !c.host_time;
  if (vm_clock) c.set_cycle_offset(clock_cycles_ - c.s.cycles);
  struct Account {
    Vm& vm;
    Vcpu& v;
    steady::time_point t0;
    uint64_t cycles0;
    bool vm_clock;
    ~Account() {
      v.run_seconds += seconds_since(t0);
      if (vm_clock) vm.clock_cycles_ += v.cpu->s.cycles - cycles0;
    }
  } account{*this, v, start, c.s.cycles, vm_clock};
  jit::Jit* jit = v.jit.get();
  // Cycles between host checks (input, timeouts, and with host time the timer).
  const uint64_t chunk = c.host_time ? 100'000 : 1u << 20;
  const uint64_t slice_end = lim.slice_cycles ? c.s.cycles + lim.slice_cycles : ~0ull;
  const uint32_t all_lines = 0x3fu << (cp0::Status_IM_SHIFT + 2);
  for (;;) {
    uint64_t limit = std::min(c.s.cycles + chunk, slice_end);
    if (lim.max_insns) {
      const uint64_t done = instructions();
      if (done >= lim.max_insns) return VmExit::InsnLimit;
      limit = std::min(limit, c.s.cycles + (lim.max_insns - done));
    }
    StopReason why;
    if (observer_) {
      why = StopReason::Budget;
      while (c.s.cycles < limit && why == StopReason::Budget && pending_exit_ == VmExit::Running) {
        const uint64_t step_pc = c.s.pc;
        why = jit ? jit->run(limit, 1) : interp::run(c, c.s.cycles + 1);
        if (!observer_->after_step(*this, step_pc)) return VmExit::Diverged;
      }
    } else {
      why = jit ? jit->run(limit) : interp::run(c, limit);
    }
    v.published.store(c.s.cycles - v.idle_cycles, std::memory_order_relaxed);
    if (pending_exit_ != VmExit::Running) return pending_exit_;
    if (why == StopReason::Breakpoint) return VmExit::Breakpoint;
    if (lim.poll_input) lim.poll_input(*this);
    c.update_timer();
    if (why == StopReason::Wait && !(c.s.cp0.cause & c.s.cp0.status & cp0::Status_IM)) {
      const uint32_t im = c.s.cp0.status & cp0::Status_IM;
      const bool timer_can_wake = im & (1u << (cp0::Status_IM_SHIFT + cp0::kTimerIrq));
      // One vCPU: only the UART (with a console) can wake it besides the
      // timer. Several: an IPI or a GIC-routed device on any line can.
      const bool line_can_wake =
          smp() ? (im & all_lines) != 0
                : (im & (1u << (cp0::Status_IM_SHIFT + 2 + board::kUartIrqLine))) &&
                      (lim.yield_when_idle || lim.wait_input || lim.poll_input);
      if (!timer_can_wake && !line_can_wake) {
        // Waiting with every interrupt that could wake it masked: the
        // guest halted (Linux's power-off and halt end here).
        v.halted = true;
        return VmExit::Halted;
      }
      if (lim.yield_when_idle && (c.host_time || !timer_can_wake)) {
        // Sharing the thread: the machine sleeps when every VM idles.
        v.idle = true;
        return VmExit::Running;
      }
      if (!c.host_time) {
        // Deterministic: time jumps to the timer event. With several vCPUs
        // interleaved, no further than the end of the slice: the others may
        // send an interrupt before then.
        uint64_t target = timer_can_wake ? c.next_timer_cycle : ~0ull;
        const bool to_slice_end = smp() && slice_end != ~0ull && target >= slice_end;
        if (smp()) target = std::min(target, slice_end);
        if (target != ~0ull && target > c.s.cycles) {
          v.idle_cycles += target - c.s.cycles;
          if (observer_) observer_->on_idle_skip(*this, target);
          c.s.cycles = target;
          if (to_slice_end) {
            // Nothing for it to do this slice: say so (run_interleaved
            // skips an idle vCPU until an interrupt or its timer is due).
            v.idle = true;
            return VmExit::Running;
          }
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
    if (lim.timeout_seconds > 0 && seconds_since(start) > lim.timeout_seconds) return VmExit::Timeout;
  }
}

// Host time, several vCPUs: a host thread each; this thread feeds the
// console, checks the limits and collects the end. vCPU 0's end (power-off,
// halt, ...) ends the VM; a secondary that halts stays off (Linux parks
// the others before it halts the boot CPU).
VmExit Vm::run_threads(const Limits& lim) {
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  VmExit result = VmExit::Running;
  auto finish = [&](VmExit r) {
    std::lock_guard<std::mutex> g(mu);
    if (!done) {
      done = true;
      result = r;
    }
    cv.notify_all();
  };
  auto body = [&](unsigned k) {
    Vcpu& v = *vcpus_[k];
    Cpu& c = *v.cpu;
    Limits vl;
    vl.should_stop = [&stop] { return stop.load(std::memory_order_relaxed); };
    while (!stop.load()) {
      if (!v.started) {
        // Held in reset: sleep until released (release_vcpu raises
        // EV_IRQ_CHECK and opens the gate). Requests posted meanwhile are
        // served here, parked.
        c.events.fetch_and(~EV_IRQ_CHECK);
        if (c.events.load() & EV_REQUEST) c.serve_requests();
        if (!start_if_released(v)) {
          c.idle_sleep(100'000'000);
          continue;
        }
      }
      const VmExit r = run_vcpu(k, vl);
      if (r == VmExit::Running || r == VmExit::Stopped) continue;  // the loop checks `stop`
      if (k != 0 && r == VmExit::Halted) return;
      finish(r);
      return;
    }
  };
  std::vector<std::thread> threads;
  for (unsigned k = 0; k < vcpus(); ++k) threads.emplace_back(body, k);

  const auto start = steady::now();
  VmExit end;
  for (;;) {
    {
      std::lock_guard<std::mutex> g(mu);
      if (done) {
        end = result;
        break;
      }
    }
    if (lim.poll_input) lim.poll_input(*this);
    if (lim.should_stop && lim.should_stop()) {
      end = VmExit::Stopped;
      break;
    }
    if (lim.timeout_seconds > 0 && seconds_since(start) > lim.timeout_seconds) {
      end = VmExit::Timeout;
      break;
    }
    if (lim.max_insns && instructions_published() >= lim.max_insns) {
      end = VmExit::InsnLimit;
      break;
    }
    if (lim.wait_input) {
      lim.wait_input(10'000'000);
    } else {
      std::unique_lock<std::mutex> lk(mu);
      cv.wait_for(lk, std::chrono::milliseconds(10), [&] { return done; });
    }
  }
  stop = true;
  stop_all_vcpus();
  for (std::thread& t : threads) t.join();
  return end;
}

// Deterministic time, several vCPUs, one thread: rounds in which every
// started vCPU that has something to do runs a quantum, in vCPU order. Time is the VM's clock, which
// every slice advances (run_vcpu), so Count never goes back from one vCPU
// to the next and two runs interleave the same way. (Each vCPU sees the
// clock run N times as fast as its own instructions.)
VmExit Vm::run_interleaved(const Limits& lim) {
  constexpr uint64_t kQuantum = 20'000;  // cycles
  const auto start = steady::now();
  for (;;) {
    bool ran = false;
    uint64_t first_due = ~0ull;  // the earliest timer of the vCPUs left idle
    for (unsigned k = 0; k < vcpus(); ++k) {
      Vcpu& v = *vcpus_[k];
      if (v.halted || !start_if_released(v)) continue;
      if (v.idle) {
        // Idle in WAIT at the end of its last turn: it runs again when an
        // interrupt line or a request came (from the others, this thread)
        // or its timer falls in this turn; until then it costs nothing.
        const Cpu& c = *v.cpu;
        const uint64_t due = c.next_timer_tick == ~0ull ? ~0ull : c.next_timer_tick * 2;
        const bool woken = c.events.load(std::memory_order_relaxed) & (EV_IRQ_CHECK | EV_REQUEST | EV_STOP);
        if (!woken && (due == ~0ull || due > clock_cycles_ + kQuantum)) {
          first_due = std::min(first_due, due);
          continue;
        }
      }
      ran = true;
      Limits l;
      l.slice_cycles = kQuantum;
      l.max_insns = lim.max_insns;
      l.wait_input = lim.wait_input;
      const VmExit r = run_vcpu(k, l);
      if (r == VmExit::Running) continue;
      if (k != 0 && r == VmExit::Halted) continue;
      return r;
    }
    if (!ran) {
      // Every vCPU waits: the VM's clock jumps to the first timer (as a
      // lone processor's idle skip does), or, with none, input may wake one.
      if (first_due != ~0ull && first_due > clock_cycles_) clock_cycles_ = first_due;
      else if (lim.wait_input) lim.wait_input(50'000'000);
    }
    if (lim.poll_input) lim.poll_input(*this);
    if (lim.should_stop && lim.should_stop()) return VmExit::Stopped;
    if (lim.timeout_seconds > 0 && seconds_since(start) > lim.timeout_seconds) return VmExit::Timeout;
  }
}

uint64_t Vm::instructions() const {
  uint64_t n = 0;
  for (const auto& v : vcpus_) n += v->cpu->s.cycles - v->idle_cycles;
  return n;
}

uint64_t Vm::idle_cycles() const {
  uint64_t n = 0;
  for (const auto& v : vcpus_) n += v->idle_cycles;
  return n;
}

uint64_t Vm::instructions_published() const {
  uint64_t n = 0;
  for (const auto& v : vcpus_) n += v->published.load(std::memory_order_relaxed);
  return n;
}

uint64_t Vm::wake_in_ns(unsigned k) {
  Vcpu& v = *vcpus_[k];
  if (!v.started) return v.released.load(std::memory_order_acquire) ? 0 : 1'000'000;
  Cpu& c = *v.cpu;
  c.update_timer();
  if (c.s.cp0.cause & c.s.cp0.status & cp0::Status_IM) return 0;
  // An interrupt line from another thread (an IPI, the GIC) is pending.
  if (smp() && (c.events.load(std::memory_order_relaxed) & (EV_IRQ_CHECK | EV_REQUEST))) return 0;
  if (!(c.s.cp0.status & (1u << (cp0::Status_IM_SHIFT + cp0::kTimerIrq)))) return ~0ull;
  return c.host_time ? c.ns_until_timer() : 0;
}

void Vm::console_input(uint8_t byte) {
  if (smp()) {
    std::lock_guard<std::mutex> g(dev_mu_);
    uart_.push_input(byte);
  } else {
    uart_.push_input(byte);
  }
  if (observer_) observer_->on_console_input(byte);
}

void Vm::skip_idle_to(uint64_t cycle) {
  Vcpu& v = *vcpus_[0];
  Cpu& c = *v.cpu;
  if (cycle <= c.s.cycles) return;
  v.idle_cycles += cycle - c.s.cycles;
  c.s.cycles = cycle;
  c.update_timer();
}

}  // namespace disco
