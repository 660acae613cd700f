// One VM's guest-physical memory: the pmap from guest page to machine page
// (Disco's physical-to-machine map). Pages are mapped on first touch: a read
// maps the machine's zero page, a write allocates a page on the VM's home
// node. A write to a shared page gives the VM a private copy first
// (copy-on-write), invisibly to the guest.
//
// A page the sharing scan found cold and almost equal to another VM's page
// is "patched": it has no machine page of its own, only a reference page
// (held read-only, with a kPatchHolder mapper) and the words that differ
// (monitor/page_patch.h). The first access of any kind rebuilds it into a
// private page.
//
// Guest page index ("gpn" below): low RAM pages first, then the pages from
// board::kHighRamBase up (see vm.h).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "numa-model/machine_memory.h"

namespace disco {

class GuestMemory {
 public:
  GuestMemory(MachineMemory& mm, uint32_t vm_id, unsigned home_node, uint64_t low_bytes, uint64_t high_bytes,
              uint64_t high_base);
  ~GuestMemory();
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;

  // Guest page index of `paddr`, or -1 when it is not RAM.
  int64_t index_of(uint64_t paddr) const;
  uint64_t paddr_of(uint64_t gpn) const;
  uint64_t pages() const { return pmap_.size(); }

  // Host address of the page (PhysBus::ram_page's contract); null if not RAM.
  // Several vCPUs of the VM may call it at once: the pmap is under a mutex,
  // released before `invalidate` runs (which waits for the other vCPUs,
  // which may be about to call page() themselves).
  uint8_t* page(uint64_t paddr, bool for_write);
  // The page's contents without mapping anything (zeros when untouched; a
  // patched page is rebuilt into a buffer valid until the next call).
  const uint8_t* peek(uint64_t gpn) const;

  // Called with a host page address whose soft-TLB entries this VM's
  // processors must drop (the page is being replaced or write-protected).
  std::function<void(const uint8_t* host_page)> invalidate;
  // Called once when a write finds the machine out of pages; the VM must stop.
  std::function<void()> on_out_of_memory;

  // Called to drop every soft-TLB entry of this VM's processors.
  std::function<void()> flush_tlb;

  // For the sharing scanner and the image cache: the machine page, kNoPage
  // when untouched, kPatchedPage when patched.
  MPage at(uint64_t gpn) const { return pmap_[gpn]; }
  // Points guest page `gpn` at `to` (already referenced by the caller for
  // this mapping), dropping the old mapping and this VM's soft-TLB entries.
  void remap(uint64_t gpn, MPage to);
  // Access tracking for the scan: whether the guest reached the page
  // (through a soft-TLB refill or a device) since the last new_epoch(),
  // which clears the marks and drops every soft-TLB entry so that the next
  // access to any page is seen.
  bool accessed(uint64_t gpn) const { return accessed_[gpn] != 0; }
  void new_epoch();
  // Replaces private page `gpn` by `ref` (which the caller has mapped with
  // {kPatchHolder, gpn} and made read-only) plus `patch`; frees the page.
  void make_patched(uint64_t gpn, MPage ref, std::vector<uint8_t> patch);
  MachineMemory& machine() { return mm_; }
  uint32_t vm_id() const { return vm_; }
  unsigned home_node() const { return home_; }

  struct Stats {
    uint64_t touched = 0;        // guest pages mapped (read or written)
    uint64_t private_pages = 0;  // mapped to a page only this VM maps
    uint64_t shared = 0;         // mapped to a page other mappers share (zero page included)
    uint64_t zero = 0;           // mapped to the zero page
    uint64_t remote = 0;         // private pages on another node than home
    uint64_t cow_breaks = 0;
    uint64_t patched = 0;        // stored as a reference page and a patch
    uint64_t patch_bytes = 0;    // their patches, with bookkeeping
    uint64_t patch_faults = 0;   // patched pages rebuilt on access
  };
  Stats stats() const;
  bool out_of_memory() const { return oom_; }

 private:
  MachineMemory& mm_;
  std::mutex mu_;  // pmap_, accessed_, patched_ against concurrent page() calls
  uint32_t vm_;
  unsigned home_;
  uint64_t low_pages_, high_base_;
  std::vector<MPage> pmap_;
  uint64_t cow_breaks_ = 0;
  bool oom_ = false;
  std::vector<uint8_t> accessed_;  // by gpn
  struct Patched {
    MPage ref;
    std::vector<uint8_t> patch;
  };
  std::unordered_map<uint32_t, Patched> patched_;  // by gpn
  uint64_t patch_faults_ = 0;
  mutable std::vector<uint8_t> peek_buf_;
  uint8_t* unpatch(uint64_t gpn);  // null when out of machine pages
  // Where writes go after the machine ran out of pages (the VM is stopping).
  std::vector<uint8_t> scratch_;
};

}  // namespace disco
