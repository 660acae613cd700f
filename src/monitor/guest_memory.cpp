#include "monitor/guest_memory.h"

#include <cstring>

namespace disco {

GuestMemory::GuestMemory(MachineMemory& mm, uint32_t vm_id, unsigned home_node, uint64_t low_bytes,
                         uint64_t high_bytes, uint64_t high_base)
    : mm_(mm), vm_(vm_id), home_(home_node), low_pages_(low_bytes / kPageSize), high_base_(high_base) {
  pmap_.assign((low_bytes + high_bytes) / kPageSize, kNoPage);
}

GuestMemory::~GuestMemory() {
  for (uint64_t g = 0; g < pmap_.size(); ++g)
    if (pmap_[g] != kNoPage) mm_.unmap(pmap_[g], {vm_, static_cast<uint32_t>(g)});
}

int64_t GuestMemory::index_of(uint64_t paddr) const {
  const uint64_t pn = paddr / kPageSize;
  if (pn < low_pages_) return static_cast<int64_t>(pn);
  if (paddr >= high_base_) {
    const uint64_t g = low_pages_ + (paddr - high_base_) / kPageSize;
    if (g < pmap_.size()) return static_cast<int64_t>(g);
  }
  return -1;
}

uint64_t GuestMemory::paddr_of(uint64_t gpn) const {
  return gpn < low_pages_ ? gpn * kPageSize : high_base_ + (gpn - low_pages_) * kPageSize;
}

uint8_t* GuestMemory::page(uint64_t paddr, bool for_write) {
  const int64_t gi = index_of(paddr);
  if (gi < 0) return nullptr;
  const uint64_t g = static_cast<uint64_t>(gi);
  const PageMapper me{vm_, static_cast<uint32_t>(g)};
  MPage m = pmap_[g];
  if (m == kNoPage && !for_write) {
    // First touch by a read: the zero page, until something is written.
    m = mm_.zero_page();
    mm_.map(m, me);
    pmap_[g] = m;
    return mm_.host(m);
  }
  if (m != kNoPage && (!for_write || mm_.writable_in_place(m))) return mm_.host(m);
  // A write to an untouched page, or to a shared one: a private page.
  const MPage fresh = mm_.alloc(home_, me);
  if (fresh == kNoPage) {
    if (!oom_ && on_out_of_memory) on_out_of_memory();
    oom_ = true;
    // One scratch page for good: soft-TLB entries may point into it until
    // the VM stops.
    if (scratch_.empty()) scratch_.assign(kPageSize, 0);
    return scratch_.data();
  }
  if (m != kNoPage) {
    if (m != mm_.zero_page()) {
      std::memcpy(mm_.host(fresh), mm_.host(m), kPageSize);
      ++cow_breaks_;
    }
    // Loads cached through the old page must now see the copy.
    if (invalidate) invalidate(mm_.host(m));
    mm_.unmap(m, me);
  }
  pmap_[g] = fresh;
  return mm_.host(fresh);
}

const uint8_t* GuestMemory::peek(uint64_t gpn) const {
  const MPage m = pmap_[gpn];
  return mm_.host(m == kNoPage ? mm_.zero_page() : m);
}

void GuestMemory::remap(uint64_t gpn, MPage to) {
  const MPage old = pmap_[gpn];
  if (old != kNoPage) {
    if (invalidate) invalidate(mm_.host(old));
    mm_.unmap(old, {vm_, static_cast<uint32_t>(gpn)});
  }
  pmap_[gpn] = to;
}

GuestMemory::Stats GuestMemory::stats() const {
  Stats s;
  s.cow_breaks = cow_breaks_;
  const MPage zero = mm_.zero_page();
  for (MPage m : pmap_) {
    if (m == kNoPage) continue;
    ++s.touched;
    if (m == zero) {
      ++s.zero;
      ++s.shared;
    } else if (mm_.refs(m) > 1) {
      ++s.shared;
    } else {
      ++s.private_pages;
      if (mm_.node_of(m) != home_) ++s.remote;
    }
  }
  return s;
}

}  // namespace disco
