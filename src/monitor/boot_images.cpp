#include "monitor/boot_images.h"

#include <sys/stat.h>

namespace disco {

BootImageCache::~BootImageCache() {
  for (auto& [key, e] : entries_)
    for (auto& [pa, m] : e.pages) mm_.unmap(m, {kImageHolder, static_cast<uint32_t>(pa / kPageSize)});
}

bool BootImageCache::key_for(const std::string& path, const std::string& kind, uint64_t paddr, bool big_endian,
                             Key& out) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return false;
  out.kind = kind;
  out.dev = st.st_dev;
  out.ino = st.st_ino;
  out.size = static_cast<uint64_t>(st.st_size);
  out.mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(st.st_mtim.tv_nsec);
  out.paddr = paddr;
  out.big_endian = big_endian;
  return true;
}

const BootImageCache::Entry* BootImageCache::map_into(const Key& key, GuestMemory& gm) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  for (auto& [pa, m] : it->second.pages)
    if (gm.index_of(pa) < 0) return nullptr;
  for (auto& [pa, m] : it->second.pages) {
    const uint64_t g = static_cast<uint64_t>(gm.index_of(pa));
    mm_.map(m, {gm.vm_id(), static_cast<uint32_t>(g)});
    gm.remap(g, m);
  }
  ++hits_;
  return &it->second;
}

void BootImageCache::publish(const Key& key, GuestMemory& gm, uint64_t lo, uint64_t hi, const Entry& meta) {
  if (entries_.count(key)) return;
  Entry e = meta;
  e.pages.clear();
  for (uint64_t pa = lo & ~kPageMask; pa < hi; pa += kPageSize) {
    const int64_t g = gm.index_of(pa);
    if (g < 0) continue;
    const MPage m = gm.at(static_cast<uint64_t>(g));
    if (m == kNoPage || m == mm_.zero_page()) continue;  // never written: nothing to share
    // The holder's reference makes the page shared: the VM's writes copy it.
    if (mm_.writable_in_place(m) && gm.invalidate) gm.invalidate(mm_.host(m));
    mm_.map(m, {kImageHolder, static_cast<uint32_t>(pa / kPageSize)});
    e.pages.emplace_back(pa, m);
  }
  entries_.emplace(key, std::move(e));
}

uint64_t BootImageCache::trim() {
  uint64_t released = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    bool orphan = false;
    for (auto& [pa, m] : it->second.pages) orphan |= mm_.refs(m) == 1;
    if (!orphan) {
      ++it;
      continue;
    }
    for (auto& [pa, m] : it->second.pages) {
      released += mm_.refs(m) == 1;
      mm_.unmap(m, {kImageHolder, static_cast<uint32_t>(pa / kPageSize)});
    }
    it = entries_.erase(it);
  }
  return released;
}

uint64_t BootImageCache::pinned_pages() const {
  uint64_t n = 0;
  for (auto& [k, e] : entries_) n += e.pages.size();
  return n;
}

}  // namespace disco
