// Running a machine's VMs: on one host thread in turn (the deterministic,
// debugger and one-processor case), or with every modelled processor on a
// host thread of its own (Disco's scheduler, below).
#include <algorithm>
#include <chrono>
#include <atomic>
#include <condition_variable>
#include <deque>
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

unsigned Machine::host_threads_for(const RunLimits& lim) const {
  // One host thread per modelled processor that has a vCPU to run. The
  // debugger drives its VM slice by slice, and deterministic time needs a
  // fixed interleaving: both run everything on the calling thread.
  if (lim.run_vm) return 1;
  for (const VmSpec& v : spec_.vms)
    if (v.deterministic) return 1;
  const uint64_t processors = static_cast<uint64_t>(spec_.nodes) * spec_.cpus_per_node;
  return static_cast<unsigned>(std::max<uint64_t>(1, std::min<uint64_t>(processors, vms_.size())));
}

Machine::End Machine::run(const RunLimits& lim) {
  const unsigned n = host_threads_for(lim);
  last_host_threads_ = n;
  processors_.assign(n, ProcessorStats{});
  for (unsigned p = 0; p < n; ++p) {
    processors_[p].index = p;
    processors_[p].node = p / std::max(1u, spec_.cpus_per_node);
  }
  vm_run_seconds_.resize(vms_.size(), 0.0);
  return n <= 1 ? run_one_thread(lim) : run_threads(lim, n);
}

void Machine::account_slice(unsigned p, size_t vm, double seconds) {
  ProcessorStats& ps = processors_[p];
  if (!ps.host_tid) ps.host_tid = static_cast<long>(syscall(SYS_gettid));
  ++ps.slices;
  ps.busy_seconds += seconds;
  vm_run_seconds_[vm] += seconds;
}

Machine::End Machine::run_one_thread(const RunLimits& lim) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  auto last_scan = start;
  for (;;) {
    bool ran = false, any_left = false;
    uint64_t sleep_ns = 50'000'000;
    for (size_t i = 0; i < vms_.size(); ++i) {
      if (exits_[i] != VmExit::Running) continue;
      any_left = true;
      Vm& v = *vms_[i];
      if (v.idle()) {
        if (lim.poll_input) lim.poll_input(i, v);
        const uint64_t ns = v.wake_in_ns();
        if (ns > 0) {
          sleep_ns = std::min(sleep_ns, ns);
          continue;
        }
      }
      Vm::Limits l;
      l.slice_cycles = lim.slice_cycles;
      l.yield_when_idle = true;
      l.should_stop = lim.should_stop;
      if (lim.poll_input) l.poll_input = [&lim, i](Vm& m) { lim.poll_input(i, m); };
      const auto t0 = clock::now();
      const VmExit r = lim.run_vm ? lim.run_vm(i, v, l) : v.run(l);
      account_slice(0, i, std::chrono::duration<double>(clock::now() - t0).count());
      ran = true;
      if (r == VmExit::Stopped) return End::Stopped;
      if (r != VmExit::Running) {
        exits_[i] = r;
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
      // Every VM idles: sleep until the first timer (or console input).
      if (lim.wait_input) lim.wait_input(sleep_ns);
      else std::this_thread::sleep_for(std::chrono::nanoseconds(sleep_ns));
    }
  }
}


// The processors on host threads. Shared state lives in `Sched` under its
// mutex; a Vm is touched only by the processor thread running its slice,
// or by this (the coordinator's) thread while the world is paused: no
// processor runs a slice then. The coordinator owns `exits_`, the
// callbacks (on_exit, should_stop) and the sharing scan; it pauses the
// world for the scan and for anything that reads every VM's memory.
struct Machine::Sched {
  std::mutex mu;
  std::condition_variable work;   // processors: a VM became ready, pause ended, stop
  std::condition_variable idle;   // coordinator: no slice running, a VM finished
  std::deque<size_t> ready;
  std::vector<clock::time_point> wake_at;  // idle VMs: when to run them again (max: not idle)
  std::vector<std::pair<size_t, VmExit>> finished;
  unsigned running = 0;           // slices in progress
  bool pause = false, stop = false;
  // Read by running slices between chunks (Vm::Limits::should_stop): set
  // to end them early for a pause or the stop.
  std::atomic<bool> yield{false};
};

void Machine::pause_world() {
  std::unique_lock<std::mutex> lk(sched_->mu);
  sched_->pause = true;
  sched_->yield = true;
  sched_->idle.wait(lk, [this] { return sched_->running == 0; });
}

void Machine::resume_world() {
  std::lock_guard<std::mutex> lk(sched_->mu);
  sched_->pause = false;
  sched_->yield = sched_->stop;
  sched_->work.notify_all();
}

// One modelled processor: takes a ready VM (one of its own node's first:
// Disco runs a vCPU on its VM's home node when it can), runs a slice,
// puts it back; sleeps while nothing is ready.
void Machine::processor_loop(unsigned p, const RunLimits& lim) {
  Sched& sh = *sched_;
  const unsigned node = p / std::max(1u, spec_.cpus_per_node);
  std::unique_lock<std::mutex> lk(sh.mu);
  for (;;) {
    if (sh.stop) return;
    const auto now = clock::now();
    auto next_wake = now + std::chrono::milliseconds(50);
    for (size_t i = 0; i < sh.wake_at.size(); ++i) {
      if (sh.wake_at[i] == clock::time_point::max()) continue;
      if (sh.wake_at[i] <= now) {
        sh.wake_at[i] = clock::time_point::max();
        sh.ready.push_back(i);
      } else {
        next_wake = std::min(next_wake, sh.wake_at[i]);
      }
    }
    if (sh.pause || sh.ready.empty()) {
      sh.work.wait_until(lk, next_wake);
      continue;
    }
    auto pick = std::find_if(sh.ready.begin(), sh.ready.end(),
                             [&](size_t i) { return vms_[i]->memory().home_node() == node; });
    if (pick == sh.ready.end()) pick = sh.ready.begin();
    const size_t i = *pick;
    sh.ready.erase(pick);
    ++sh.running;
    lk.unlock();

    Vm& v = *vms_[i];
    Vm::Limits l;
    l.slice_cycles = lim.slice_cycles;
    l.yield_when_idle = true;
    l.should_stop = [&sh] { return sh.yield.load(std::memory_order_relaxed); };
    if (lim.poll_input) l.poll_input = [&lim, i](Vm& m) { lim.poll_input(i, m); };
    const auto t0 = clock::now();
    const VmExit r = v.run(l);
    const double secs = std::chrono::duration<double>(clock::now() - t0).count();
    uint64_t wake_ns = 0;
    if (r == VmExit::Running && v.idle()) {
      if (lim.poll_input) lim.poll_input(i, v);
      wake_ns = std::min<uint64_t>(v.wake_in_ns(), 50'000'000);
    }

    lk.lock();
    account_slice(p, i, secs);
    --sh.running;
    if (r == VmExit::Running || r == VmExit::Stopped) {  // Stopped: ended early by `yield`
      if (wake_ns > 0) {
        sh.wake_at[i] = clock::now() + std::chrono::nanoseconds(wake_ns);
      } else {
        sh.ready.push_back(i);
        sh.work.notify_one();  // a processor asleep with nothing ready may take it
      }
    } else {
      sh.finished.emplace_back(i, r);
    }
    if (sh.running == 0 || r != VmExit::Running) sh.idle.notify_all();
  }
}

Machine::End Machine::run_threads(const RunLimits& lim, unsigned nthreads) {
  Sched sh;
  sched_ = &sh;
  sh.wake_at.assign(vms_.size(), clock::time_point::max());
  size_t left = 0;
  for (size_t i = 0; i < vms_.size(); ++i)
    if (exits_[i] == VmExit::Running) {
      sh.ready.push_back(i);
      ++left;
    }
  std::vector<std::thread> processors;
  for (unsigned p = 0; p < nthreads; ++p) processors.emplace_back([this, p, &lim] { processor_loop(p, lim); });

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
      resume_world();
      last_scan = clock::now();
    }
    // Console input wakes idle VMs (they take it in their next slice).
    if (lim.wait_input && lim.wait_input(10'000'000)) {
      std::lock_guard<std::mutex> lk(sh.mu);
      for (size_t i = 0; i < sh.wake_at.size(); ++i)
        if (sh.wake_at[i] != clock::time_point::max()) sh.wake_at[i] = clock::time_point::min();
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
  sched_ = nullptr;
  return end;
}

}  // namespace disco
