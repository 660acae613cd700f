// Content-based page sharing across VMs (as in Disco's and ESX's
// transparent sharing): a background scan walks every VM's pmap, hashes
// private pages, and when a page equals one seen before (hash, then a full
// compare) maps both guest pages to one machine page, copy-on-write, and
// frees the other. Pages of zeros are mapped to the machine's zero page.
//
// Sub-page sharing (optional, `patching`): a private page the guest has not
// accessed for a whole pass, which differs from the page at the same
// guest-physical address in another VM in at most kMaxPatchBytes, is
// stored as that page (held read-only) plus a patch (monitor/page_patch.h),
// and its machine page is freed. The guest's next access rebuilds it.
// Access is tracked per pass: when the scan leaves a VM it starts a new
// epoch (GuestMemory::new_epoch), so "accessed" means "since the scan last
// looked at this VM".
//
// The scan runs on the monitor thread between VM time slices, so no guest
// instruction runs while a mapping changes; the soft-TLB entries of every
// affected VM are dropped before it runs again.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "monitor/guest_memory.h"
#include "monitor/page_patch.h"

namespace disco {

class PageSharing {
 public:
  explicit PageSharing(MachineMemory& mm) : mm_(mm) {}

  // A patch larger than this is not worth it (the page is kept).
  static constexpr size_t kMaxPatchBytes = 2048;
  void set_patching(bool on) { patching_ = on; }

  // VMs take part from when they are added; vm_id() must be their index here.
  void add(GuestMemory* gm);
  void remove(GuestMemory* gm);

  // Scans up to `budget` guest pages, continuing where the last call stopped.
  // `epochs`: start a new access epoch for each VM the scan completes; false
  // while the guests are not running (settling), when no access could show.
  void scan(uint64_t budget, bool epochs = true);

  struct Stats {
    uint64_t pages_scanned = 0;
    uint64_t merges = 0;       // guest pages remapped onto an equal page
    uint64_t zero_merges = 0;  // ... of which onto the zero page
    uint64_t passes = 0;       // complete passes over every VM's memory
    uint64_t merges_last_pass = 0;
    uint64_t patched = 0;      // guest pages stored as reference + patch
  };
  const Stats& stats() const { return stats_; }
  // Entries in the table of hashes (bounded by the private pages).
  size_t table_size() const { return seen_.size(); }
  // Pages of VM `vm_id` hashed so far.
  uint64_t scanned_of(uint32_t vm_id) const { return vm_id < scanned_.size() ? scanned_[vm_id] : 0; }

 private:
  bool scan_one(GuestMemory& gm, uint64_t gpn);  // false: nothing to look at
  void offer_shared(MPage m);
  void write_protect(MPage p);
  bool try_patch(GuestMemory& gm, uint64_t gpn, MPage m);

  MachineMemory& mm_;
  std::vector<GuestMemory*> vms_;  // by vm_id; null once removed
  size_t cur_vm_ = 0;
  uint64_t cur_gpn_ = 0;
  uint64_t merges_this_pass_ = 0;
  bool patching_ = false;
  std::vector<uint8_t> patch_buf_;
  // Content hash -> a page that had it when hashed in this pass (it may have
  // changed since: a candidate is always compared in full before sharing).
  std::unordered_map<uint64_t, MPage> seen_;
  std::unordered_set<MPage> shared_offered_;  // shared pages already in seen_ this pass
  uint64_t zero_hash_ = 0;
  Stats stats_;
  std::vector<uint64_t> scanned_;  // by vm_id
};

}  // namespace disco
