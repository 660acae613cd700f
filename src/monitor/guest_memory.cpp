#include "monitor/guest_memory.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "monitor/page_patch.h"

namespace disco {

GuestMemory::GuestMemory(MachineMemory& mm, uint32_t vm_id, unsigned home_node, uint64_t low_bytes,
                         uint64_t high_bytes, uint64_t high_base)
    : mm_(mm), vm_(vm_id), home_(home_node), low_pages_(low_bytes / kPageSize), high_base_(high_base) {
  pmap_.assign((low_bytes + high_bytes) / kPageSize, kNoPage);
  // Until the first epoch every page counts as in use.
  accessed_.assign(pmap_.size(), 1);
}

namespace {
// Host memory a patch costs: its words plus the table entry and allocation
// headers (an estimate, kept in the machine's patch_bytes).
int64_t patch_cost(const std::vector<uint8_t>& patch) { return static_cast<int64_t>(patch.capacity()) + 64; }
}  // namespace

GuestMemory::~GuestMemory() {
  for (uint64_t g = 0; g < pmap_.size(); ++g) {
    if (pmap_[g] == kNoPage) continue;
    if (pmap_[g] == kPatchedPage) {
      const Patched& p = patched_.at(static_cast<uint32_t>(g));
      mm_.add_patch_bytes(-patch_cost(p.patch));
      mm_.unmap(p.ref, {kPatchHolder, static_cast<uint32_t>(g)});
      continue;
    }
    mm_.unmap(pmap_[g], {vm_, static_cast<uint32_t>(g)});
  }
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
  std::unique_lock<std::mutex> lk(mu_);
  accessed_[g] = 1;
  MPage m = pmap_[g];
  if (m == kPatchedPage) {
    if (uint8_t* rebuilt = unpatch(g)) return rebuilt;
    // Out of machine pages: the VM is stopping; it gets the scratch page.
    if (scratch_.empty()) scratch_.assign(kPageSize, 0);
    return scratch_.data();
  }
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
  pmap_[g] = fresh;
  if (m != kNoPage) {
    if (m != mm_.zero_page()) {
      std::memcpy(mm_.host(fresh), mm_.host(m), kPageSize);
      ++cow_breaks_;
    }
    // Loads cached through the old page must now see the copy. (The old
    // page is shared, so nothing holds a store entry into it: no write
    // can land there while the other vCPUs catch up.)
    lk.unlock();
    if (invalidate) invalidate(mm_.host(m));
    mm_.unmap(m, me);
  }
  return mm_.host(fresh);
}

// A patched page becomes a private page again: a fresh page gets the
// reference with the patch applied, and the patch's hold on the reference
// goes. (The guest reads exactly what it last wrote.)
uint8_t* GuestMemory::unpatch(uint64_t g) {
  auto it = patched_.find(static_cast<uint32_t>(g));
  const MPage fresh = mm_.alloc(home_, {vm_, static_cast<uint32_t>(g)});
  if (fresh == kNoPage) {
    if (!oom_ && on_out_of_memory) on_out_of_memory();
    oom_ = true;
    return nullptr;  // stays patched; the VM is stopping
  }
  if (!apply_patch(mm_.host(it->second.ref), it->second.patch, mm_.host(fresh)))
    throw std::logic_error("malformed page patch");  // the monitor built it: a bug
  mm_.add_patch_bytes(-patch_cost(it->second.patch));
  mm_.unmap(it->second.ref, {kPatchHolder, static_cast<uint32_t>(g)});
  patched_.erase(it);
  pmap_[g] = fresh;
  ++patch_faults_;
  return mm_.host(fresh);
}

void GuestMemory::make_patched(uint64_t gpn, MPage ref, std::vector<uint8_t> patch) {
  remap(gpn, kPatchedPage);
  mm_.add_patch_bytes(patch_cost(patch));
  patched_[static_cast<uint32_t>(gpn)] = Patched{ref, std::move(patch)};
}

void GuestMemory::new_epoch() {
  std::fill(accessed_.begin(), accessed_.end(), 0);
  if (flush_tlb) flush_tlb();
}

const uint8_t* GuestMemory::peek(uint64_t gpn) const {
  const MPage m = pmap_[gpn];
  if (m == kPatchedPage) {
    const Patched& p = patched_.at(static_cast<uint32_t>(gpn));
    peek_buf_.resize(kPageSize);
    if (!apply_patch(mm_.host(p.ref), p.patch, peek_buf_.data())) throw std::logic_error("malformed page patch");
    return peek_buf_.data();
  }
  return mm_.host(m == kNoPage ? mm_.zero_page() : m);
}

void GuestMemory::remap(uint64_t gpn, MPage to) {
  const MPage old = pmap_[gpn];
  if (old == kPatchedPage) throw std::logic_error("remap of a patched guest page");
  if (old != kNoPage) {
    if (invalidate) invalidate(mm_.host(old));
    mm_.unmap(old, {vm_, static_cast<uint32_t>(gpn)});
  }
  pmap_[gpn] = to;
}

GuestMemory::Stats GuestMemory::stats() const {
  Stats s;
  s.cow_breaks = cow_breaks_;
  s.patch_faults = patch_faults_;
  for (const auto& [g, p] : patched_) s.patch_bytes += static_cast<uint64_t>(patch_cost(p.patch));
  const MPage zero = mm_.zero_page();
  for (MPage m : pmap_) {
    if (m == kNoPage) continue;
    ++s.touched;
    if (m == kPatchedPage) {
      ++s.patched;
      continue;
    }
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
