#include "monitor/page_patch.h"

#include <cstring>

#include "cpu/phys_bus.h"

namespace disco {

namespace {
constexpr size_t kHeader = 2;
constexpr unsigned kMaxRun = 16;  // bytes one record carries
constexpr unsigned kMergeGap = 2;  // equal bytes a run swallows rather than start a new record

bool same_word(const uint8_t* a, const uint8_t* b, unsigned at) { return std::memcmp(a + at, b + at, 8) == 0; }
}  // namespace

bool make_patch(const uint8_t* ref, const uint8_t* page, size_t max_bytes, std::vector<uint8_t>& out) {
  out.clear();
  unsigned i = 0;
  while (i < kPageSize) {
    // Equal words are skipped eight bytes at a time.
    if ((i & 7) == 0 && same_word(ref, page, i)) {
      i += 8;
      continue;
    }
    if (ref[i] == page[i]) {
      ++i;
      continue;
    }
    // A run from i: up to kMaxRun bytes, over gaps of at most kMergeGap
    // equal bytes, ending on a differing byte.
    unsigned end = i + 1, last = i + 1;
    while (end < kPageSize && end - i < kMaxRun && end - last < kMergeGap + 1) {
      if (ref[end] != page[end]) last = end + 1;
      ++end;
    }
    const unsigned len = last - i;
    if (out.size() + kHeader + len > max_bytes) return false;
    const unsigned header = i | (len - 1) << 12;
    out.push_back(static_cast<uint8_t>(header));
    out.push_back(static_cast<uint8_t>(header >> 8));
    out.insert(out.end(), page + i, page + last);
    i = last;
  }
  return true;
}

bool apply_patch(const uint8_t* ref, const std::vector<uint8_t>& patch, uint8_t* out) {
  std::memcpy(out, ref, kPageSize);
  size_t at = 0;
  while (at < patch.size()) {
    bool good = patch.size() - at >= kHeader;
    const unsigned header = good ? patch[at] | patch[at + 1] << 8 : 0;
    const unsigned first = header & 0xfff, len = (header >> 12) + 1;
    at += kHeader;
    good = good && first + len <= kPageSize && patch.size() - at >= len;
    if (!good) {
      std::memcpy(out, ref, kPageSize);
      return false;
    }
    std::memcpy(out + first, patch.data() + at, len);
    at += len;
  }
  return true;
}

}  // namespace disco
