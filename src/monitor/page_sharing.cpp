#include "monitor/page_sharing.h"

#include <xxhash.h>

#include <cstring>

namespace disco {

void PageSharing::add(GuestMemory* gm) {
  if (vms_.size() <= gm->vm_id()) vms_.resize(gm->vm_id() + 1, nullptr);
  vms_[gm->vm_id()] = gm;
  if (scanned_.size() <= gm->vm_id()) scanned_.resize(gm->vm_id() + 1, 0);
  zero_hash_ = XXH3_64bits(mm_.host(mm_.zero_page()), kPageSize);
}

void PageSharing::remove(GuestMemory* gm) {
  if (gm->vm_id() < vms_.size()) vms_[gm->vm_id()] = nullptr;
}

void PageSharing::scan(uint64_t budget, bool epochs) {
  if (vms_.empty()) {
    ++stats_.passes;  // a pass over no memory is complete at once
    return;
  }
  // Untouched and already-shared pages cost a look only: they do not count
  // against the budget, but bound the walk so one call stays short.
  uint64_t looks = budget * 16 + 1024;
  uint64_t idle_steps = 0;  // guards against a machine with no VM memory
  while (budget > 0 && looks > 0 && idle_steps <= vms_.size()) {
    GuestMemory* gm = cur_vm_ < vms_.size() ? vms_[cur_vm_] : nullptr;
    if (!gm || cur_gpn_ >= gm->pages()) {
      if (gm && epochs && patching_) gm->new_epoch();
      cur_gpn_ = 0;
      if (++cur_vm_ >= vms_.size()) {
        cur_vm_ = 0;
        ++stats_.passes;
        // Each pass rehashes every private page, so equal pages meet within
        // one pass; starting afresh bounds the table by the private pages.
        seen_.clear();
        shared_offered_.clear();
        stats_.merges_last_pass = merges_this_pass_;
        merges_this_pass_ = 0;
      }
      ++idle_steps;
      continue;
    }
    idle_steps = 0;
    --looks;
    if (scan_one(*gm, cur_gpn_++)) --budget;
  }
}

// Makes a private page read-only for its owner: its stores must now go
// through the monitor, which copies the page first.
void PageSharing::write_protect(MPage p) {
  for (const PageMapper& who : mm_.mappers(p))
    if (who.vm < vms_.size() && vms_[who.vm] && vms_[who.vm]->invalidate) vms_[who.vm]->invalidate(mm_.host(p));
}

// A shared page is a candidate too: a private page elsewhere with the same
// contents must join it, whether it is scanned before or after it.
void PageSharing::offer_shared(MPage m) {
  if (!shared_offered_.insert(m).second) return;  // once per pass
  const uint64_t h = XXH3_64bits(mm_.host(m), kPageSize);
  auto [it, fresh] = seen_.try_emplace(h, m);
  if (fresh || it->second == m) return;
  const MPage c = it->second;
  if (mm_.refs(c) == 0 || std::memcmp(mm_.host(c), mm_.host(m), kPageSize) != 0) {
    it->second = m;
    return;
  }
  // `c` holds the same contents: a private page hashed earlier in this pass,
  // or another shared page (formed in another pass). Its VM mappers move to
  // the page with more mappers.
  const MPage keep = mm_.refs(c) > mm_.refs(m) ? c : m;
  const MPage drop = keep == c ? m : c;
  it->second = keep;
  for (const PageMapper& who : mm_.mappers(drop)) {
    if (who.vm >= vms_.size() || !vms_[who.vm]) continue;  // the image cache keeps its own
    mm_.map(keep, who);
    vms_[who.vm]->remap(who.gpn, keep);
    ++stats_.merges;
    ++merges_this_pass_;
  }
}

// Private page `m` of `gm` at `gpn`, equal to no other page: store it as a
// patch against the page at the same guest-physical address in another VM,
// if the guest has left it alone for a pass and the patch is small. The
// reference must not change while a patch depends on it: the holder's
// mapping makes it shared, so its owner's writes copy it first. A private
// reference the owner is still using is not taken (the owner would soon
// copy it, leaving the old copy to the patches alone).
bool PageSharing::try_patch(GuestMemory& gm, uint64_t gpn, MPage m) {
  if (!patching_ || gm.accessed(gpn)) return false;
  const uint64_t pa = gm.paddr_of(gpn);
  for (GuestMemory* o : vms_) {
    if (!o || o == &gm) continue;
    const int64_t og = o->index_of(pa);
    if (og < 0) continue;
    const MPage r = o->at(static_cast<uint64_t>(og));
    if (r == kNoPage || r == kPatchedPage || r == mm_.zero_page()) continue;
    const bool private_ref = mm_.writable_in_place(r);
    if (private_ref && o->accessed(static_cast<uint64_t>(og))) continue;
    if (!make_patch(mm_.host(r), mm_.host(m), kMaxPatchBytes, patch_buf_)) continue;
    if (private_ref) write_protect(r);
    if (patch_buf_.empty()) {
      // Equal after all (`r` is hashed later in this pass): share it whole.
      mm_.map(r, {gm.vm_id(), static_cast<uint32_t>(gpn)});
      gm.remap(gpn, r);
      ++stats_.merges;
      ++merges_this_pass_;
      return true;
    }
    mm_.map(r, {kPatchHolder, static_cast<uint32_t>(gpn)});
    gm.make_patched(gpn, r, std::vector<uint8_t>(patch_buf_.begin(), patch_buf_.end()));
    ++stats_.patched;
    ++merges_this_pass_;  // settling goes on while pages still change
    return true;
  }
  return false;
}

bool PageSharing::scan_one(GuestMemory& gm, uint64_t gpn) {
  const MPage m = gm.at(gpn);
  if (m == kNoPage || m == kPatchedPage || m == mm_.zero_page()) return false;  // untouched, patched or zero
  if (!mm_.writable_in_place(m)) {
    offer_shared(m);  // costs a hash once per pass, not budget
    return false;
  }
  ++stats_.pages_scanned;
  ++scanned_[gm.vm_id()];
  const uint8_t* data = mm_.host(m);
  const uint64_t h = XXH3_64bits(data, kPageSize);
  const PageMapper me{gm.vm_id(), static_cast<uint32_t>(gpn)};
  if (h == zero_hash_ && std::memcmp(data, mm_.host(mm_.zero_page()), kPageSize) == 0) {
    mm_.map(mm_.zero_page(), me);
    gm.remap(gpn, mm_.zero_page());
    ++stats_.merges;
    ++stats_.zero_merges;
    ++merges_this_pass_;
    return true;
  }
  auto it = seen_.find(h);
  if (it == seen_.end()) {
    if (!try_patch(gm, gpn, m)) seen_.emplace(h, m);
    return true;
  }
  const MPage c = it->second;
  if (c == m) return true;
  if (mm_.refs(c) == 0 || std::memcmp(mm_.host(c), data, kPageSize) != 0) {
    // The candidate changed or was freed: this page replaces it.
    if (!try_patch(gm, gpn, m)) it->second = m;
    return true;
  }
  if (mm_.writable_in_place(c)) write_protect(c);
  mm_.map(c, me);
  gm.remap(gpn, c);
  ++stats_.merges;
  ++merges_this_pass_;
  return true;
}

}  // namespace disco
