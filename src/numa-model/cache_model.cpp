#include "numa-model/cache_model.h"

#include <stdexcept>

namespace disco {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
}

std::string CacheModel::check(uint64_t bytes, unsigned ways, unsigned rate) {
  const std::string cache = std::to_string(bytes) + "-byte " + std::to_string(ways) + "-way cache";
  if (ways == 0) return "a cache needs at least one way";
  if (rate == 0 || rate > kMaxSampleRate || (rate & (rate - 1)))
    return "the sample rate must be a power of two from 1 to " + std::to_string(kMaxSampleRate) + ", not " +
           std::to_string(rate);
  const uint64_t set_bytes = kLineBytes * ways;
  if (bytes == 0 || bytes % set_bytes) return "a " + cache + " does not split into whole sets of 128-byte lines";
  const uint64_t sets = bytes / set_bytes;
  if (sets / rate > (1ull << 31)) return "a " + cache + " has too many sets";
  if (rate > 1 && sets % (32ull * rate)) {
    return "sample rate " + std::to_string(rate) + " needs a cache whose number of sets is a multiple of " +
           std::to_string(32 * rate) + " (set sampling keeps the sets of the sampled lines), and a " + cache +
           " has " + std::to_string(sets) + " sets: lower the rate or use a larger cache or fewer ways";
  }
  return {};
}

CacheModel::CacheModel(uint64_t bytes, unsigned ways, unsigned rate, bool fetch) : fetch_(fetch) {
  if (std::string why = check(bytes, ways, rate); !why.empty()) throw std::invalid_argument(why);
  ways_ = ways;
  rate_shift_ = static_cast<unsigned>(__builtin_ctz(rate));
  rate_mask_ = rate - 1;
  sets_ = bytes / (kLineBytes * ways);
  sets_pow2_ = (sets_ & (sets_ - 1)) == 0;
  kept_sets_ = static_cast<uint32_t>(sets_ / rate);
  const uint64_t n = uint64_t{kept_sets_} * ways_;
  tags_.reset(new std::atomic<uint64_t>[n]);
  used_.reset(new uint64_t[n]);
  clear();
}

bool CacheModel::access(Slot s, bool write) {
  if (s.set == kNotKept) return false;
  ++accesses_;
  const uint64_t base = uint64_t{s.set} * ways_;
  std::atomic<uint64_t>* tags = &tags_[base];
  uint64_t* used = &used_[base];
  ++clock_;
  for (unsigned w = 0; w < ways_; ++w) {
    if (tags[w].load(kRelaxed) == s.tag) {
      used[w] = clock_;
      return false;
    }
  }
  // Miss: an empty way (never filled, or invalidated) first, else the
  // least recently used.
  unsigned victim = 0;
  for (unsigned w = 0; w < ways_; ++w) {
    if (tags[w].load(kRelaxed) == kEmpty) {
      victim = w;
      break;
    }
    if (used[w] < used[victim]) victim = w;
  }
  tags[victim].store(s.tag, kRelaxed);
  used[victim] = clock_;
  ++misses_;
  if (write) ++write_misses_;
  return true;
}

void CacheModel::invalidate(Slot s) {
  if (s.set == kNotKept) return;
  std::atomic<uint64_t>* tags = &tags_[uint64_t{s.set} * ways_];
  for (unsigned w = 0; w < ways_; ++w) {
    uint64_t t = s.tag;
    // Only that line: the owner may have refilled the way meanwhile.
    if (tags[w].load(kRelaxed) == t && tags[w].compare_exchange_strong(t, kEmpty, kRelaxed))
      invalidations_.fetch_add(1, kRelaxed);
  }
}

bool CacheModel::contains(uint64_t key) const {
  const Slot s = slot(key);
  if (s.set == kNotKept) return false;
  for (unsigned w = 0; w < ways_; ++w)
    if (tags_[uint64_t{s.set} * ways_ + w].load(kRelaxed) == s.tag) return true;
  return false;
}

void CacheModel::clear() {
  const uint64_t n = uint64_t{kept_sets_} * ways_;
  for (uint64_t i = 0; i < n; ++i) {
    tags_[i].store(kEmpty, kRelaxed);
    used_[i] = 0;
  }
}

}  // namespace disco
