#include "numa-model/miss_counters.h"

#include <algorithm>

namespace disco {

namespace {
constexpr uint8_t kWritten = 1, kQueued = 2, kTouched = 4;
constexpr auto kRelaxed = std::memory_order_relaxed;
}  // namespace

MissCounters::MissCounters(uint64_t pages, unsigned nodes, uint32_t trigger)
    : pages_(pages),
      nodes_(nodes),
      trigger_(trigger),
      counts_(new std::atomic<uint32_t>[pages * nodes]),
      flags_(new std::atomic<uint8_t>[pages]) {
  for (uint64_t i = 0; i < pages_ * nodes_; ++i) counts_[i].store(0, kRelaxed);
  for (uint64_t p = 0; p < pages_; ++p) flags_[p].store(0, kRelaxed);
}

void MissCounters::add(MPage p, unsigned node, uint32_t n, bool write, bool remote) {
  if (p >= pages_ || node >= nodes_ || n == 0) return;  // the zero page, kNoPage
  std::atomic<uint8_t>& f = flags_[p];
  const uint8_t want = write ? (kTouched | kWritten) : kTouched;
  // A load first: the common case (page already touched) writes nothing.
  if ((f.load(kRelaxed) & want) != want) {
    if (!(f.fetch_or(want, kRelaxed) & kTouched)) {
      std::lock_guard<std::mutex> lk(mu_);
      touched_.push_back(p);
    }
  }
  const uint64_t before = counts_[uint64_t{p} * nodes_ + node].fetch_add(n, kRelaxed);
  if (remote && before < trigger_ && before + n >= trigger_) {
    if (!(f.fetch_or(kQueued, kRelaxed) & kQueued)) {
      std::lock_guard<std::mutex> lk(mu_);
      hot_.push_back({p, node});
    }
  }
}

uint32_t MissCounters::count(MPage p, unsigned node) const {
  if (p >= pages_ || node >= nodes_) return 0;
  return counts_[uint64_t{p} * nodes_ + node].load(kRelaxed);
}

uint32_t MissCounters::total(MPage p) const {
  if (p >= pages_) return 0;
  uint32_t sum = 0;
  for (unsigned n = 0; n < nodes_; ++n) sum += counts_[uint64_t{p} * nodes_ + n].load(kRelaxed);
  return sum;
}

bool MissCounters::written(MPage p) const { return p < pages_ && (flags_[p].load(kRelaxed) & kWritten); }

std::vector<HotPage> MissCounters::take_hot() {
  std::vector<HotPage> out;
  std::lock_guard<std::mutex> lk(mu_);
  out.swap(hot_);
  // Cleared under the lock, so a page cannot be pushed again before it has
  // left the queue.
  for (const HotPage& h : out) flags_[h.page].fetch_and(static_cast<uint8_t>(~kQueued), kRelaxed);
  return out;
}

void MissCounters::reset() {
  std::lock_guard<std::mutex> lk(mu_);
  for (MPage p : touched_) {
    for (unsigned n = 0; n < nodes_; ++n) counts_[uint64_t{p} * nodes_ + n].store(0, kRelaxed);
    flags_[p].store(0, kRelaxed);
  }
  touched_.clear();
  hot_.clear();
}

void MissCounters::clear_page(MPage p) {
  if (p >= pages_) return;
  std::lock_guard<std::mutex> lk(mu_);
  hot_.erase(std::remove_if(hot_.begin(), hot_.end(), [p](const HotPage& h) { return h.page == p; }), hot_.end());
  for (unsigned n = 0; n < nodes_; ++n) counts_[uint64_t{p} * nodes_ + n].store(0, kRelaxed);
  // Touched stays set: the page is still in touched_, and reset() must not
  // miss it if it gets new misses before then.
  flags_[p].fetch_and(kTouched, kRelaxed);
}

}  // namespace disco
