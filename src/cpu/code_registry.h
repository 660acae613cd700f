// Which guest-physical pages hold decoded code, for every processor of one
// physical memory (docs/smp.md, "Concurrency contract"). A processor that
// decodes a page registers it, and every other processor drops its store
// soft-TLB entries before the page is read, so all stores to it take the
// slow path; a store to a registered page, by any processor, retires the
// page's decoded code and translations in every processor that holds them
// (its own at once, the others' through their mailboxes).
//
// A Cpu with no registry attached keeps to itself, as a lone processor.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace disco {

class Cpu;

class CodePageRegistry {
 public:
  static constexpr unsigned kMaxCpus = 64;

  // Before any attached processor runs (setup, one thread): `c` shares
  // this registry from now on.
  void attach(Cpu& c);

  // Any thread. Lock-free while no page of the same hash bucket is
  // registered (the usual answer for a data page).
  bool contains(uint64_t ppage) const {
    if (hint_[bucket(ppage)].load() == 0) return false;
    std::lock_guard<std::mutex> g(m_);
    return pages_.count(ppage) != 0;
  }

  // The owner of `self`, before it reads the page to decode it: registers
  // `self` as a holder, and unless that is already done for the current
  // registration, has every other processor drop its store entries and
  // waits for them (serving its own mailbox meanwhile). When this returns
  // the page is registered and stores to it by anyone are seen.
  void add(Cpu& self, uint64_t ppage);

  // The owner of `self`, after it stored into `ppage` (the memory is
  // written): unregisters the page and posts RetireCode to the other
  // holders. Does not wait. Returns whether the page was registered.
  bool written(Cpu& self, uint64_t ppage);

  size_t pages() const {
    std::lock_guard<std::mutex> g(m_);
    return pages_.size();
  }

 private:
  static constexpr unsigned kBuckets = 4096;
  static unsigned bucket(uint64_t ppage) { return static_cast<unsigned>((ppage >> 12) & (kBuckets - 1)); }

  struct Entry {
    uint64_t holders = 0;  // bit n = processor n has decoded code of the page
    uint64_t gen = 0;      // which registration (a page may come and go)
    bool shot = false;     // every other processor has dropped its store entries
  };
  mutable std::mutex m_;
  std::unordered_map<uint64_t, Entry> pages_;
  std::array<std::atomic<uint32_t>, kBuckets> hint_{};  // registered pages per bucket
  std::vector<Cpu*> cpus_;
  uint64_t gen_ = 0;
};

}  // namespace disco
