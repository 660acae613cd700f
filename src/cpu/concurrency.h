// The pieces of the processor-level concurrency contract (docs/smp.md,
// "Concurrency contract"): a mailbox through which other host threads ask
// a processor to drop state at its next safe point, and the gate its run
// loop sleeps in while the guest idles in WAIT.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

namespace disco {

// Something a processor must do to its own state before it next uses it.
struct CpuRequest {
  enum Kind : uint8_t {
    DropHostPage,      // arg = host page address: drop load/store soft-TLB entries into it
    FlushSoftTlb,      // drop every soft-TLB entry (load, store, fetch)
    DropStoreEntries,  // arg = guest-physical page now holding decoded code
    RetireCode,        // arg = guest-physical page written: retire its decoded code and translations
  };
  Kind kind;
  uint64_t arg = 0;
};

// Requests queued for one processor. Any thread pushes; only the owner
// takes. Tickets count pushes from 1; `done` is the last ticket the owner
// has carried out. `parked` says the owner is outside its engine: it runs
// no guest code and takes its mailbox before it does again.
class RequestMailbox {
 public:
  uint64_t push(const CpuRequest& r) {
    std::lock_guard<std::mutex> g(m_);
    queue_.push_back(r);
    return ++posted_;
  }
  // Owner: swaps the queue into `out` (cleared first); returns the last
  // ticket taken (0 if none was ever posted).
  uint64_t take(std::vector<CpuRequest>& out) {
    out.clear();
    std::lock_guard<std::mutex> g(m_);
    out.swap(queue_);
    return posted_;
  }

  std::atomic<uint64_t> done{0};
  std::atomic<bool> parked{true};

 private:
  std::mutex m_;
  std::vector<CpuRequest> queue_;
  uint64_t posted_ = 0;
};

// The owner blocks in sleep() until another thread calls wake() or the
// timeout passes. Lost wake-ups are excluded by the order of the two
// sides: the sleeper announces itself (`sleeping_`) before it checks its
// condition; a waker changes the condition before it looks for a sleeper
// (both sequentially consistent), so one of them sees the other.
class WaitGate {
 public:
  // Returns true when `ready()` held or a wake came, false on timeout.
  template <typename Ready>
  bool sleep(uint64_t timeout_ns, Ready ready) {
    sleeping_.store(true);
    std::unique_lock<std::mutex> lk(m_);
    woken_ = false;  // a wake meant for an earlier sleep; its cause is visible to ready()
    if (ready()) {
      sleeping_.store(false);
      return true;
    }
    const bool woke = cv_.wait_for(lk, std::chrono::nanoseconds(timeout_ns), [this] { return woken_; });
    woken_ = false;
    sleeping_.store(false);
    return woke;
  }
  // Any thread, after it changed what ready() looks at. A load and no
  // lock when nobody sleeps.
  void wake() {
    if (!sleeping_.load()) return;
    {
      std::lock_guard<std::mutex> g(m_);
      woken_ = true;
    }
    cv_.notify_one();
  }
  bool sleeping() const { return sleeping_.load(); }

 private:
  std::atomic<bool> sleeping_{false};
  std::mutex m_;
  std::condition_variable cv_;
  bool woken_ = false;
};

}  // namespace disco
