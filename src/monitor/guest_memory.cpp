#include "monitor/guest_memory.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "monitor/page_patch.h"

namespace disco {

GuestMemory::GuestMemory(MachineMemory& mm, uint32_t vm_id, unsigned home_node, uint64_t low_bytes,
                         uint64_t high_bytes, uint64_t high_base, Placement placement)
    : mm_(mm),
      vm_(vm_id),
      home_(home_node),
      placement_(placement),
      low_pages_(low_bytes / kPageSize),
      high_base_(high_base),
      pages_((low_bytes + high_bytes) / kPageSize) {
  pmap_ = std::make_unique<std::atomic<MPage>[]>(pages_);
  for (uint64_t g = 0; g < pages_; ++g) pmap_[g].store(kNoPage, std::memory_order_relaxed);
  // Until the first epoch every page counts as in use.
  accessed_.assign(pages_, 1);
}

namespace {
// Host memory a patch costs: its words plus the table entry and allocation
// headers (an estimate, kept in the machine's patch_bytes).
int64_t patch_cost(const std::vector<uint8_t>& patch) { return static_cast<int64_t>(patch.capacity()) + 64; }
}  // namespace

// No soft-TLB entries are dropped here: the VM's processors never run again
// (the VM goes with them), as for the masters.
GuestMemory::~GuestMemory() {
  for (uint64_t g = 0; g < pages_; ++g) {
    const MPage m = at(g);
    if (m == kNoPage) continue;
    if (m == kPatchedPage) {
      const Patched& p = patched_.at(static_cast<uint32_t>(g));
      mm_.add_patch_bytes(-patch_cost(p.patch));
      mm_.unmap(p.ref, {kPatchHolder, static_cast<uint32_t>(g)});
      continue;
    }
    mm_.unmap(m, {vm_, static_cast<uint32_t>(g)});
  }
}

int64_t GuestMemory::index_of(uint64_t paddr) const {
  const uint64_t pn = paddr / kPageSize;
  if (pn < low_pages_) return static_cast<int64_t>(pn);
  if (paddr >= high_base_) {
    const uint64_t g = low_pages_ + (paddr - high_base_) / kPageSize;
    if (g < pages_) return static_cast<int64_t>(g);
  }
  return -1;
}

uint64_t GuestMemory::paddr_of(uint64_t gpn) const {
  return gpn < low_pages_ ? gpn * kPageSize : high_base_ + (gpn - low_pages_) * kPageSize;
}

unsigned GuestMemory::place(uint64_t gpn) const {
  if (placement_ == Placement::Interleave) return static_cast<unsigned>(gpn % mm_.nodes());
  return home_;
}

uint8_t* GuestMemory::out_of_memory_page() {
  if (!oom_ && on_out_of_memory) on_out_of_memory();
  oom_ = true;
  // One scratch page for good: soft-TLB entries may point into it until
  // the VM stops.
  if (!scratch_) scratch_ = std::make_unique<ScratchPage>();  // zeroed
  return scratch_->bytes;
}

uint8_t* GuestMemory::page(uint64_t paddr, bool for_write, unsigned node) {
  const int64_t gi = index_of(paddr);
  if (gi < 0) return nullptr;
  const uint64_t g = static_cast<uint64_t>(gi);
  const PageMapper me{vm_, static_cast<uint32_t>(g)};
  std::unique_lock<std::mutex> lk(mu_);
  accessed_[g] = 1;
  for (;;) {
    const MPage m = at(g);
    if (m == kPatchedPage) {
      if (uint8_t* rebuilt = unpatch(g)) return rebuilt;
      return out_of_memory_page();  // stays patched; the VM is stopping
    }
    if (m == kNoPage && !for_write) {
      // First touch by a read: the zero page, until something is written.
      mm_.map(mm_.zero_page(), me);
      pmap_[g].store(mm_.zero_page(), std::memory_order_relaxed);
      return mm_.host(mm_.zero_page());
    }
    if (m != kNoPage && !for_write) {
      // A reader on a node with a replica reads the replica. The lock-free
      // lookup is exact here: replicas of a page this VM maps are added and
      // dropped only with the world paused (ordered before this refill by
      // the scheduler) or, by a collapse, under mu_.
      const MPage r = mm_.replica_relaxed(m, node);
      return mm_.host(r != kNoPage ? r : m);
    }
    if (m != kNoPage) {
      const auto access = mm_.write_access(m);
      if (access == MachineMemory::WriteAccess::InPlace) return mm_.host(m);
      if (access == MachineMemory::WriteAccess::Collapse) {
        collapse(lk, m);
        continue;  // mu_ was released: look again
      }
    }
    // A write to an untouched page, or to a shared one: a private page.
    const MPage fresh = mm_.alloc(place(g), me);
    if (fresh == kNoPage) return out_of_memory_page();
    pmap_[g].store(fresh, std::memory_order_relaxed);
    if (m != kNoPage) {
      if (m != mm_.zero_page()) {
        // From the master: its replicas hold the same bytes.
        std::memcpy(mm_.host(fresh), mm_.host(m), kPageSize);
        ++cow_breaks_;
      }
      // Loads cached through the old page (or its replicas) must now see
      // the copy. (The old page is shared, so nothing holds a store entry
      // into it: no write can land there while the other vCPUs catch up.)
      lk.unlock();
      drop_entries(m);
      mm_.unmap(m, me);
    }
    return mm_.host(fresh);
  }
}

// A write to master `m`, which only this VM maps (at one guest page) and
// which has replicas. The write must not land while any vCPU of this VM
// can still read a replica: otherwise a reader on another node would go on
// seeing the old bytes after the write. So: detach the replicas (refills
// from now on get `m`, which stays read-only), have every vCPU drop its
// entries into them (`invalidate` waits for each), and only then free them
// and let `m` be written. A reader that got a replica just before the
// detach installs its entry before its next safe point, so the drop
// request, served there, removes it.
//
// Another vCPU writing the page meanwhile finds it collapsing and does the
// same round itself (it cannot wait for this one: this one waits for its
// acknowledgement). Whichever round ends first ends the collapse; each
// round alone suffices, as every drop it waits for was posted after the
// detach. A late drop of a freed replica is harmless: at worst it drops an
// entry into the page's next use, which the owner refills.
void GuestMemory::collapse(std::unique_lock<std::mutex>& lk, MPage m) {
  const std::vector<MPage> replicas = mm_.detach_replicas(m);
  lk.unlock();
  if (invalidate)
    for (MPage r : replicas) invalidate(mm_.host(r));
  lk.lock();
  if (mm_.end_collapse(m, vm_)) ++collapses_;
}

void GuestMemory::drop_entries(MPage m) {
  if (!invalidate || m == kNoPage || m == kPatchedPage) return;
  invalidate(mm_.host(m));
  for (MPage r : mm_.replicas(m)) invalidate(mm_.host(r));
}

MPage GuestMemory::backing(uint64_t paddr, unsigned node) const {
  const int64_t gi = index_of(paddr);
  if (gi < 0) return kNoPage;
  const MPage m = at(static_cast<uint64_t>(gi));
  if (m == kNoPage || m == kPatchedPage) return kNoPage;
  const MPage r = mm_.replica_relaxed(m, node);
  return r != kNoPage ? r : m;
}

// A patched page becomes a private page again: a fresh page gets the
// reference with the patch applied, and the patch's hold on the reference
// goes. (The guest reads exactly what it last wrote.)
uint8_t* GuestMemory::unpatch(uint64_t g) {
  auto it = patched_.find(static_cast<uint32_t>(g));
  const MPage fresh = mm_.alloc(place(g), {vm_, static_cast<uint32_t>(g)});
  if (fresh == kNoPage) return nullptr;
  if (!apply_patch(mm_.host(it->second.ref), it->second.patch, mm_.host(fresh)))
    throw std::logic_error("malformed page patch");  // the monitor built it: a bug
  mm_.add_patch_bytes(-patch_cost(it->second.patch));
  mm_.unmap(it->second.ref, {kPatchHolder, static_cast<uint32_t>(g)});
  patched_.erase(it);
  pmap_[g].store(fresh, std::memory_order_relaxed);
  ++patch_faults_;
  return mm_.host(fresh);
}

void GuestMemory::replace(uint64_t gpn, MPage to, Patched* patch) {
  std::unique_lock<std::mutex> lk(mu_);
  const MPage old = at(gpn);
  if (old == kPatchedPage) throw std::logic_error("remap of a patched guest page");
  if (patch) {
    mm_.add_patch_bytes(patch_cost(patch->patch));
    patched_[static_cast<uint32_t>(gpn)] = std::move(*patch);
  }
  pmap_[gpn].store(to, std::memory_order_relaxed);
  lk.unlock();
  if (old != kNoPage) {
    drop_entries(old);
    mm_.unmap(old, {vm_, static_cast<uint32_t>(gpn)});
  }
}

void GuestMemory::remap(uint64_t gpn, MPage to) { replace(gpn, to, nullptr); }

void GuestMemory::make_patched(uint64_t gpn, MPage ref, std::vector<uint8_t> patch) {
  Patched p{ref, std::move(patch)};
  replace(gpn, kPatchedPage, &p);
}

void GuestMemory::new_epoch() {
  std::fill(accessed_.begin(), accessed_.end(), 0);
  if (flush_tlb) flush_tlb();
}

const uint8_t* GuestMemory::peek(uint64_t gpn) const {
  const MPage m = at(gpn);
  if (m == kPatchedPage) {
    const Patched& p = patched_.at(static_cast<uint32_t>(gpn));
    peek_buf_.resize(kPageSize);
    if (!apply_patch(mm_.host(p.ref), p.patch, peek_buf_.data())) throw std::logic_error("malformed page patch");
    return peek_buf_.data();
  }
  return mm_.host(m == kNoPage ? mm_.zero_page() : m);
}

// ---- NUMA policy operations (world paused) ----------------------------------

namespace {
// The distinct VMs among `who` (image and patch holders left out), or an
// empty list when one of them has no pmap `vms` knows.
std::vector<GuestMemory*> mapper_vms(const std::vector<PageMapper>& who, const GuestMemory::VmLookup& vms) {
  std::vector<GuestMemory*> out;
  for (const PageMapper& w : who) {
    if (w.vm == kImageHolder || w.vm == kPatchHolder) continue;
    GuestMemory* gm = vms ? vms(w.vm) : nullptr;
    if (!gm) return {};
    if (std::find(out.begin(), out.end(), gm) == out.end()) out.push_back(gm);
  }
  return out;
}
}  // namespace

MPage GuestMemory::migrate_page(MachineMemory& mm, const VmLookup& vms, MPage m, unsigned node) {
  if (!mm.migratable(m)) return kNoPage;
  const std::vector<PageMapper> who = mm.mappers(m);
  const std::vector<GuestMemory*> owners = mapper_vms(who, vms);
  if (owners.empty()) return kNoPage;  // a pmap out of reach would keep the freed page
  const MPage to = mm.migrate(m, node);
  if (to == kNoPage || to == m) return to;
  for (const PageMapper& w : who) {
    GuestMemory* gm = vms(w.vm);
    std::lock_guard<std::mutex> lk(gm->mu_);
    if (gm->at(w.gpn) == m) gm->pmap_[w.gpn].store(to, std::memory_order_relaxed);
  }
  for (GuestMemory* gm : owners) {
    {
      std::lock_guard<std::mutex> lk(gm->mu_);
      ++gm->migrations_;
    }
    if (gm->invalidate) gm->invalidate(mm.host(m));
  }
  return to;
}

MPage GuestMemory::replicate_page(MachineMemory& mm, const VmLookup& vms, MPage m, unsigned node) {
  const std::vector<GuestMemory*> owners = mapper_vms(mm.mappers(m), vms);
  if (owners.empty()) return kNoPage;
  const MPage r = mm.add_replica(m, node);
  if (r == kNoPage) return kNoPage;
  for (GuestMemory* gm : owners) {
    {
      std::lock_guard<std::mutex> lk(gm->mu_);
      ++gm->replications_;
    }
    if (gm->invalidate) gm->invalidate(mm.host(m));
  }
  return r;
}

// Any thread: the counters and patches under mu_, then the pmap without it
// (its entries are atomic; vCPUs are not held up by the walk).
GuestMemory::Stats GuestMemory::stats() const {
  Stats s;
  {
    std::lock_guard<std::mutex> lk(mu_);
    s.cow_breaks = cow_breaks_;
    s.patch_faults = patch_faults_;
    s.migrations = migrations_;
    s.replications = replications_;
    s.collapses = collapses_;
    for (const auto& [g, p] : patched_) s.patch_bytes += static_cast<uint64_t>(patch_cost(p.patch));
  }
  s.node_pages.assign(mm_.nodes(), 0);
  const MPage zero = mm_.zero_page();
  for (uint64_t g = 0; g < pages_; ++g) {
    const MPage m = at(g);
    if (m == kNoPage) continue;
    ++s.touched;
    if (m == kPatchedPage) {
      ++s.patched;
      continue;
    }
    if (m == zero) {
      ++s.zero;
      ++s.shared;
      continue;
    }
    ++s.node_pages[mm_.node_of(m)];
    if (mm_.replicated(m)) ++s.replicated;
    if (mm_.refs(m) > 1) {
      ++s.shared;
    } else {
      ++s.private_pages;
      if (mm_.node_of(m) != home_) ++s.remote;
    }
  }
  return s;
}

}  // namespace disco
