// Running a machine's virtual CPUs: on one host thread in turn (the
// deterministic, debugger and one-processor case), or with every modelled
// processor on a host thread of its own that takes ready vCPUs (Disco's
// scheduler, below; docs/architecture.md, "Scheduling virtual CPUs").
#include <algorithm>
#include <chrono>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include <sys/syscall.h>
#include <unistd.h>

#include "monitor/machine.h"

namespace disco {

using clock = std::chrono::steady_clock;

// The scan's page budget for the time since it last ran. The budget comes
// from the time since the last scan ended, so the scan's own time earns it
// nothing: a host that hashes slower than scan_rate still gives the VMs
// their share (no runaway). At most 100 ms' worth at once.
uint64_t Machine::scan_budget(clock::time_point now, clock::time_point last_scan) const {
  if (!spec_.sharing) return 0;
  const double dt = std::min(0.1, std::chrono::duration<double>(now - last_scan).count());
  return static_cast<uint64_t>(dt * static_cast<double>(spec_.scan_pages_per_sec));
}

namespace {
// A VM with several vCPUs gets short slices when its vCPUs share a thread or
// processors with others: Linux's vCPUs spin on each other (IPI
// acknowledgements, the Count handshake, spinlocks), so a vCPU waiting for
// one that is not running wastes the rest of its slice.
constexpr uint64_t kSmpSliceOneThread = 20'000;  // as Vm::run_interleaved's quantum
constexpr uint64_t kSmpSliceShared = 200'000;
// Longest sleep of an idle vCPU before the scheduler looks at it again (its
// timer may be far or masked; interrupts wake it sooner through vcpu_ready).
constexpr auto kMaxSleep = std::chrono::milliseconds(50);
}  // namespace

// Everything on one thread: a unit runs on a processor of its vCPU's home
// node (its index on that node among the VM's vCPUs there, modulo the
// node's processors), so the model counts its misses from its home node.
unsigned Machine::one_thread_processor(size_t u) const {
  const unsigned per = std::max(1u, spec_.cpus_per_node);
  const size_t i = unit_vm(u);
  const unsigned k = static_cast<unsigned>(u - unit_base_[i]);
  return unit_home_[u] * per + k % per;
}

unsigned Machine::host_threads_for(const RunLimits& lim) const {
  // One host thread per modelled processor, up to the number of vCPUs to
  // run. The debugger drives its VM slice by slice, and deterministic time
  // needs a fixed interleaving: both run everything on the calling thread.
  if (lim.run_vm) return 1;
  uint64_t vcpus = 0;
  for (size_t i = 0; i < vms_.size(); ++i) {
    if (spec_.vms[i].deterministic) return 1;
    if (exits_[i] == VmExit::Running) vcpus += vms_[i]->vcpus();
  }
  const uint64_t processors = static_cast<uint64_t>(spec_.nodes) * spec_.cpus_per_node;
  return static_cast<unsigned>(std::max<uint64_t>(1, std::min<uint64_t>(processors, vcpus)));
}

// On each node as many processors as it is the home node of vCPUs to run
// (up to its processors), then the others in order: with fewer threads than
// processors, the threads still sit on the nodes the vCPUs prefer. In
// processor order.
std::vector<unsigned> Machine::processors_to_run(unsigned n) const {
  const unsigned per = std::max(1u, spec_.cpus_per_node);
  const unsigned total = std::max(1u, spec_.nodes) * per;
  std::vector<unsigned> want(std::max(1u, spec_.nodes), 0);
  for (size_t u = 0; u < units(); ++u)
    if (exits_[unit_vm(u)] == VmExit::Running) ++want[unit_home_[u]];
  std::vector<bool> taken(total, false);
  std::vector<unsigned> out;
  for (unsigned node = 0; node < want.size(); ++node)
    for (unsigned j = 0; j < std::min(want[node], per) && out.size() < n; ++j) {
      out.push_back(node * per + j);
      taken[node * per + j] = true;
    }
  for (unsigned p = 0; p < total && out.size() < n; ++p)
    if (!taken[p]) out.push_back(p);
  std::sort(out.begin(), out.end());
  return out;
}

Machine::End Machine::run(const RunLimits& lim) {
  const unsigned n = host_threads_for(lim);
  last_host_threads_ = n;
  processors_.assign(n, ProcessorStats{});
  const std::vector<unsigned> procs = processors_to_run(n);
  for (unsigned t = 0; t < n; ++t) {
    processors_[t].index = procs[t];
    processors_[t].node = procs[t] / std::max(1u, spec_.cpus_per_node);
  }
  vm_run_seconds_.resize(vms_.size(), 0.0);
  unit_slices_.resize(units(), 0);
  unit_processor_.resize(units(), -1);
  unit_tid_.resize(units(), 0);
  return n <= 1 ? run_one_thread(lim) : run_threads(lim, n);
}

void Machine::account_slice(unsigned t, size_t vm, size_t unit, double seconds) {
  ProcessorStats& ps = processors_[t];
  if (!ps.host_tid) ps.host_tid = static_cast<long>(syscall(SYS_gettid));
  ++ps.slices;
  ps.busy_seconds += seconds;
  vm_run_seconds_[vm] += seconds;
  ++unit_slices_[unit];
  unit_processor_[unit] = static_cast<int>(ps.index);
  unit_tid_[unit] = ps.host_tid;
}

// Every vCPU in turn on the calling thread. A VM's vCPUs run in vCPU
// order, so with deterministic time two runs interleave them the same way
// (the VM's clock: Vm::run_vcpu).
Machine::End Machine::run_one_thread(const RunLimits& lim) {
  const auto start = clock::now();
  auto last_scan = start;
  // Secondary vCPUs that halted (they stay off; the VM goes on).
  std::vector<bool> off(units(), false);
  for (;;) {
    bool ran = false, any_left = false;
    uint64_t sleep_ns = 50'000'000;
    for (size_t i = 0; i < vms_.size(); ++i) {
      if (exits_[i] != VmExit::Running) continue;
      any_left = true;
      Vm& v = *vms_[i];
      const bool smp = v.vcpus() > 1;
      for (unsigned k = 0; k < v.vcpus() && exits_[i] == VmExit::Running; ++k) {
        const size_t u = unit_base_[i] + k;
        // Held in reset: its release comes from another vCPU of this thread.
        if (off[u] || !v.vcpu_started(k)) continue;
        if (v.idle(k)) {
          if (k == 0 && lim.poll_input) lim.poll_input(i, v);
          const uint64_t ns = v.wake_in_ns(k);
          if (ns > 0) {
            sleep_ns = std::min(sleep_ns, ns);
            continue;
          }
        }
        Vm::Limits l;
        l.slice_cycles = smp ? kSmpSliceOneThread : lim.slice_cycles;
        l.yield_when_idle = true;
        l.should_stop = lim.should_stop;
        if (k == 0 && lim.poll_input) l.poll_input = [&lim, i](Vm& m) { lim.poll_input(i, m); };
        v.place_vcpu(k, one_thread_processor(u));
        const auto t0 = clock::now();
        const VmExit r = lim.run_vm && !smp ? lim.run_vm(i, v, l) : v.run_vcpu(k, l);
        account_slice(0, i, u, std::chrono::duration<double>(clock::now() - t0).count());
        if (numa_due()) numa_step();
        ran = true;
        if (r == VmExit::Stopped) return End::Stopped;
        if (r == VmExit::Running) continue;
        if (k != 0 && r == VmExit::Halted) {
          off[u] = true;
          continue;
        }
        // vCPU 0's end, or a VM-wide one (power-off, reboot, out of memory)
        // from any vCPU: the VM stops.
        exits_[i] = r;
        v.stop_all_vcpus();
        if (spec_.sharing) sharing_.remove(&v.memory());
        if (lim.on_exit) lim.on_exit(i, r);
      }
    }
    if (!any_left) return End::AllStopped;
    auto now = clock::now();
    if (const uint64_t budget = scan_budget(now, last_scan)) {
      sharing_.scan(budget);
      images_->trim();
      now = clock::now();
      last_scan = now;
    }
    if (lim.should_stop && lim.should_stop()) return End::Stopped;
    if (lim.timeout_seconds > 0 && std::chrono::duration<double>(now - start).count() > lim.timeout_seconds)
      return End::Timeout;
    if (!ran) {
      // Every vCPU idles: sleep until the first timer (or console input).
      if (lim.wait_input) lim.wait_input(sleep_ns);
      else std::this_thread::sleep_for(std::chrono::nanoseconds(sleep_ns));
    }
  }
}


// The processors on host threads. Shared state lives in `Sched` under its
// mutex; a vCPU is touched only by the processor thread running its slice,
// or by this (the coordinator's) thread while the world is paused: no
// processor runs a slice then. The coordinator owns `exits_`, the
// callbacks (on_exit, should_stop) and the sharing scan; it pauses the
// world for the scan and for anything that reads every VM's memory.
struct Machine::Sched {
  // A unit (one vCPU of one VM) is in exactly one state. Ready units are in
  // `ready`, in the order they became ready.
  enum class State : uint8_t {
    Ready,
    Running,   // a processor runs its slice
    Sleeping,  // idle in WAIT until wake_at (or an interrupt: vcpu_ready)
    Held,      // in reset until the guest releases it (vcpu_ready)
    Done,      // a secondary that halted, or its VM ended
  };
  std::mutex mu;
  std::condition_variable work;   // processors: a unit became ready, pause ended, stop
  std::condition_variable idle;   // coordinator: no slice running, a VM finished
  std::deque<size_t> ready;
  std::vector<State> state;                // per unit
  std::vector<clock::time_point> wake_at;  // per unit, while Sleeping
  std::vector<uint8_t> kick;               // per unit: made ready while Running
  std::vector<unsigned> live;              // per VM: units not Done
  std::vector<VmExit> ending;              // per VM: the exit that ends it (Running: none)
  // Per VM, read by its running slices (Vm::Limits::should_stop): the VM
  // is ending, its other vCPUs leave at once.
  std::unique_ptr<std::atomic<bool>[]> stopping;
  std::vector<std::pair<size_t, VmExit>> finished;
  unsigned running = 0;           // slices in progress
  bool pause = false, stop = false;
  // Read by running slices between chunks (Vm::Limits::should_stop): set
  // to end them early for a pause or the stop.
  std::atomic<bool> yield{false};

  void make_ready(size_t u) {
    state[u] = State::Ready;
    ready.push_back(u);
    work.notify_one();  // a processor asleep with nothing ready may take it
  }
};

void Machine::pause_world() {
  Sched* sh = sched_.load();
  std::unique_lock<std::mutex> lk(sh->mu);
  sh->pause = true;
  sh->yield = true;
  sh->idle.wait(lk, [sh] { return sh->running == 0; });
}

void Machine::resume_world() {
  Sched* sh = sched_.load();
  std::lock_guard<std::mutex> lk(sh->mu);
  sh->pause = false;
  sh->yield = sh->stop;
  sh->work.notify_all();
}

// Any thread, with VM i's GIC lock held (Vm's pin callback) or from the
// release of a core: vCPU k has an interrupt or was released. A unit that
// sleeps or waits for its release becomes ready now, so an IPI reaches an
// idle vCPU within microseconds rather than at its next timer check; one
// that runs is made ready again after its slice even if it went idle. The
// one-thread loop (sched_ null) polls instead.
void Machine::vcpu_ready(size_t i, unsigned k) {
  Sched* sh = sched_.load(std::memory_order_acquire);
  if (!sh) return;
  const size_t u = unit_base_[i] + k;
  std::lock_guard<std::mutex> lk(sh->mu);
  switch (sh->state[u]) {
    case Sched::State::Sleeping:
    case Sched::State::Held:
      sh->make_ready(u);
      break;
    case Sched::State::Running:
      sh->kick[u] = 1;
      break;
    case Sched::State::Ready:
    case Sched::State::Done:
      break;
  }
}

// One modelled processor, processors_[t], on host thread t: takes a ready
// unit (a vCPU whose home node is the processor's first: Disco runs a vCPU
// on its home node when it can), runs a slice, puts it back; sleeps while
// nothing is ready.
void Machine::processor_loop(unsigned t, const RunLimits& lim, unsigned nthreads) {
  using State = Sched::State;
  Sched& sh = *sched_.load();
  const unsigned node = processors_[t].node;
  const size_t nunits = units();
  // Shorter slices for SMP VMs when vCPUs outnumber processors.
  const bool shared = nunits > nthreads;
  // A unit leaves for good; its VM is reported finished with its last one
  // (vCPU 0 is done only once the VM ends, so ending[i] is set by then).
  auto unit_done = [&](size_t u, size_t i) {
    sh.state[u] = State::Done;
    if (--sh.live[i] == 0) {
      sh.finished.emplace_back(i, sh.ending[i]);
      sh.idle.notify_all();
    }
  };
  // VM i ends: its other vCPUs stop; those not running are dropped now,
  // the running ones when their slice comes back.
  auto end_vm = [&](size_t i, VmExit r) {
    if (sh.ending[i] != VmExit::Running) return;
    sh.ending[i] = r;
    sh.stopping[i] = true;
    vms_[i]->stop_all_vcpus();
    std::erase_if(sh.ready, [&](size_t u) { return unit_vm(u) == i; });
    for (unsigned k = 0; k < vms_[i]->vcpus(); ++k) {
      const size_t u = unit_base_[i] + k;
      if (sh.state[u] != State::Running && sh.state[u] != State::Done) unit_done(u, i);
    }
  };
  std::unique_lock<std::mutex> lk(sh.mu);
  for (;;) {
    if (sh.stop) return;
    const auto now = clock::now();
    auto next_wake = now + kMaxSleep;
    for (size_t u = 0; u < nunits; ++u) {
      if (sh.state[u] == State::Sleeping) {
        if (sh.wake_at[u] <= now) sh.make_ready(u);
        else next_wake = std::min(next_wake, sh.wake_at[u]);
      } else if (sh.state[u] == State::Held) {
        // vcpu_ready makes it ready at its release; this only catches up.
        const size_t i = unit_vm(u);
        if (vms_[i]->vcpu_started(static_cast<unsigned>(u - unit_base_[i]))) sh.make_ready(u);
      }
    }
    if (sh.pause || sh.ready.empty()) {
      sh.work.wait_until(lk, next_wake);
      continue;
    }
    auto pick = std::find_if(sh.ready.begin(), sh.ready.end(), [&](size_t u) { return unit_home_[u] == node; });
    if (pick == sh.ready.end()) pick = sh.ready.begin();
    const size_t u = *pick;
    sh.ready.erase(pick);
    const size_t i = unit_vm(u);
    const unsigned k = static_cast<unsigned>(u - unit_base_[i]);
    sh.state[u] = State::Running;
    sh.kick[u] = 0;
    ++sh.running;
    lk.unlock();

    Vm& v = *vms_[i];
    Vm::Limits l;
    l.slice_cycles = v.vcpus() > 1 && shared ? std::min(lim.slice_cycles, kSmpSliceShared) : lim.slice_cycles;
    l.yield_when_idle = true;
    l.should_stop = [&sh, i] {
      return sh.yield.load(std::memory_order_relaxed) || sh.stopping[i].load(std::memory_order_relaxed);
    };
    // Console input goes in through vCPU 0's slices (the UART's interrupt
    // then reaches whichever vCPU the guest routed it to).
    if (k == 0 && lim.poll_input) l.poll_input = [&lim, i](Vm& m) { lim.poll_input(i, m); };
    v.place_vcpu(k, processors_[t].index);
    const auto t0 = clock::now();
    const VmExit r = v.run_vcpu(k, l);
    const double secs = std::chrono::duration<double>(clock::now() - t0).count();
    const bool held = r == VmExit::Running && !v.vcpu_started(k);
    uint64_t wake_ns = 0;
    if (r == VmExit::Running && !held && v.idle(k)) {
      if (k == 0 && lim.poll_input) lim.poll_input(i, v);
      wake_ns = std::min<uint64_t>(v.wake_in_ns(k), std::chrono::nanoseconds(kMaxSleep).count());
    }

    lk.lock();
    if (!held) account_slice(t, i, u, secs);
    --sh.running;
    if (sh.stopping[i]) {
      unit_done(u, i);  // its VM ended while it ran
    } else if (r == VmExit::Running || r == VmExit::Stopped) {  // Stopped: ended early by `yield`
      if (sh.kick[u]) sh.make_ready(u);
      else if (held) sh.state[u] = State::Held;
      else if (wake_ns > 0) {
        sh.state[u] = State::Sleeping;
        sh.wake_at[u] = clock::now() + std::chrono::nanoseconds(wake_ns);
      } else {
        sh.make_ready(u);
      }
    } else if (k != 0 && r == VmExit::Halted) {
      unit_done(u, i);  // a secondary that halted stays off; the VM goes on
    } else {
      // vCPU 0's end, or a VM-wide one (power-off, reboot, out of memory)
      // from any vCPU: the VM stops.
      end_vm(i, r);
      unit_done(u, i);
    }
    if (sh.running == 0) sh.idle.notify_all();
  }
}

Machine::End Machine::run_threads(const RunLimits& lim, unsigned nthreads) {
  using State = Sched::State;
  Sched sh;
  const size_t nunits = units();
  sh.state.assign(nunits, State::Done);
  sh.wake_at.assign(nunits, clock::time_point::max());
  sh.kick.assign(nunits, 0);
  sh.live.assign(vms_.size(), 0);
  sh.ending.assign(vms_.size(), VmExit::Running);
  sh.stopping = std::make_unique<std::atomic<bool>[]>(vms_.size());
  size_t left = 0;
  for (size_t i = 0; i < vms_.size(); ++i) {
    if (exits_[i] != VmExit::Running) continue;
    ++left;
    for (unsigned k = 0; k < vms_[i]->vcpus(); ++k) {
      const size_t u = unit_base_[i] + k;
      ++sh.live[i];
      if (vms_[i]->vcpu_started(k)) {
        sh.state[u] = State::Ready;
        sh.ready.push_back(u);
      } else {
        sh.state[u] = State::Held;
      }
    }
  }
  sched_.store(&sh, std::memory_order_release);
  std::vector<std::thread> processors;
  for (unsigned t = 0; t < nthreads; ++t)
    processors.emplace_back([this, t, &lim, nthreads] { processor_loop(t, lim, nthreads); });

  const auto start = clock::now();
  auto last_scan = start;
  End end = End::AllStopped;
  std::vector<std::pair<size_t, VmExit>> done;
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(sh.mu);
      done.swap(sh.finished);
    }
    if (!done.empty()) {
      for (auto [i, r] : done) {
        exits_[i] = r;
        --left;
      }
      if (spec_.sharing) {
        pause_world();
        for (auto [i, r] : done) sharing_.remove(&vms_[i]->memory());
        resume_world();
      }
      for (auto [i, r] : done)
        if (lim.on_exit) lim.on_exit(i, r);
      done.clear();
    }
    if (left == 0) break;
    if (lim.should_stop && lim.should_stop()) {
      end = End::Stopped;
      break;
    }
    auto now = clock::now();
    if (lim.timeout_seconds > 0 && std::chrono::duration<double>(now - start).count() > lim.timeout_seconds) {
      end = End::Timeout;
      break;
    }
    if (const uint64_t budget = scan_budget(now, last_scan)) {
      pause_world();
      sharing_.scan(budget);
      images_->trim();
      if (numa_due()) numa_step();
      resume_world();
      last_scan = clock::now();
    } else if (numa_due()) {
      pause_world();
      numa_step();
      resume_world();
    }
    // Console input wakes idle vCPUs (vCPU 0 takes it in its next slice).
    if (lim.wait_input && lim.wait_input(10'000'000)) {
      std::lock_guard<std::mutex> lk(sh.mu);
      for (size_t u = 0; u < nunits; ++u)
        if (sh.state[u] == State::Sleeping) sh.wake_at[u] = clock::time_point::min();
      sh.work.notify_all();
    } else if (!lim.wait_input) {
      std::unique_lock<std::mutex> lk(sh.mu);
      sh.idle.wait_for(lk, std::chrono::milliseconds(10), [&] { return !sh.finished.empty(); });
    }
  }
  {
    std::lock_guard<std::mutex> lk(sh.mu);
    sh.stop = true;
    sh.yield = true;
    sh.work.notify_all();
  }
  for (std::thread& t : processors) t.join();
  sched_.store(nullptr, std::memory_order_release);
  return end;
}

}  // namespace disco
