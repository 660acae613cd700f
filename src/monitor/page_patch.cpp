#include "monitor/page_patch.h"

#include <cstring>

#include "monitor/phys_bus.h"

namespace disco {

namespace {
constexpr unsigned kWords = kPageSize / 8;
constexpr size_t kHeader = 4;

uint64_t word(const uint8_t* p, unsigned i) {
  uint64_t w;
  std::memcpy(&w, p + 8 * i, 8);
  return w;
}

void put16(std::vector<uint8_t>& out, unsigned v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
}  // namespace

bool make_patch(const uint8_t* ref, const uint8_t* page, size_t max_bytes, std::vector<uint8_t>& out) {
  out.clear();
  unsigned i = 0;
  while (i < kWords) {
    if (word(ref, i) == word(page, i)) {
      ++i;
      continue;
    }
    unsigned end = i + 1;
    while (end < kWords && word(ref, end) != word(page, end)) ++end;
    if (out.size() + kHeader + 8 * (end - i) > max_bytes) return false;
    put16(out, i);
    put16(out, end - i);
    out.insert(out.end(), page + 8 * i, page + 8 * end);
    i = end;
  }
  return true;
}

bool apply_patch(const uint8_t* ref, const std::vector<uint8_t>& patch, uint8_t* out) {
  std::memcpy(out, ref, kPageSize);
  size_t at = 0;
  while (at < patch.size()) {
    bool good = patch.size() - at >= kHeader;
    const unsigned first = good ? patch[at] | patch[at + 1] << 8 : 0;
    const unsigned count = good ? patch[at + 2] | patch[at + 3] << 8 : 0;
    at += kHeader;
    good = good && count != 0 && first + count <= kWords && patch.size() - at >= 8ull * count;
    if (!good) {
      std::memcpy(out, ref, kPageSize);
      return false;
    }
    std::memcpy(out + 8 * first, patch.data() + at, 8ull * count);
    at += 8ull * count;
  }
  return true;
}

}  // namespace disco
