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
// NUMA (docs/memory.md, "Replicas and migration"): a read by a vCPU on a
// node that holds a replica of the page gets the replica; a write to a
// replicated page this VM alone maps collapses the replicas first (every
// vCPU of the VM drops its entries into them before the write proceeds).
// The policy (monitor/numa_policy.h) migrates and replicates machine pages
// through migrate_page() and replicate_page() with the world paused.
//
// Guest page index ("gpn" below): low RAM pages first, then the pages from
// board::kHighRamBase up (see vm.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "numa-model/machine_memory.h"
#include "numa-model/numa_params.h"

namespace disco {

class GuestMemory {
 public:
  GuestMemory(MachineMemory& mm, uint32_t vm_id, unsigned home_node, uint64_t low_bytes, uint64_t high_bytes,
              uint64_t high_base, Placement placement = Placement::Home);
  ~GuestMemory();
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;

  // Guest page index of `paddr`, or -1 when it is not RAM.
  int64_t index_of(uint64_t paddr) const;
  uint64_t paddr_of(uint64_t gpn) const;
  uint64_t pages() const { return pages_; }

  // Host address of the page (PhysBus::ram_page's contract); null if not RAM.
  // `node` is the node of the processor the calling vCPU runs on now: a read
  // gets that node's replica when the page has one. Several vCPUs of the VM
  // may call it at once: the pmap is under a mutex, released before
  // `invalidate` runs (which waits for the other vCPUs, which may be about
  // to call page() themselves).
  uint8_t* page(uint64_t paddr, bool for_write, unsigned node);
  // As from the home node (devices, the boot loader, the debugger).
  uint8_t* page(uint64_t paddr, bool for_write) { return page(paddr, for_write, home_); }
  // The machine page a read of `paddr` by `node` would use now (a replica
  // or the master; the zero page included); kNoPage when untouched,
  // patched or not RAM. Lock-free, any thread; possibly stale by the time
  // it returns (for modelling).
  MPage backing(uint64_t paddr, unsigned node) const;
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
  MPage at(uint64_t gpn) const { return pmap_[gpn].load(std::memory_order_relaxed); }
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
  // Where pages are first allocated (and copies made on writes).
  void set_placement(Placement p) { placement_ = p; }
  Placement placement() const { return placement_; }

  // ---- NUMA policy operations ----------------------------------------------
  // Called with the world paused: no vCPU of any VM runs guest code, so
  // `invalidate` only posts to parked vCPUs. `vms` finds the pmap of each
  // VM that maps the page (by VM id).
  using VmLookup = std::function<GuestMemory*(uint32_t vm_id)>;
  // Moves machine page `m` to a fresh page on `node` (MachineMemory::
  // migrate) and repoints every mapper's pmap to it, dropping their entries
  // into `m`. Returns the new page; kNoPage when `m` may not move (see
  // MachineMemory::migratable, or a mapper `vms` does not find) or `node`
  // is full; `m` when it is on `node` already.
  static MPage migrate_page(MachineMemory& mm, const VmLookup& vms, MPage m, unsigned node);
  // Gives master `m` a replica on `node` (MachineMemory::add_replica) and
  // drops every mapper VM's entries into `m`: readers on `node` refill to
  // the replica, writers lose their store entries (`m` is read-only now).
  // kNoPage when it cannot (no VM maps `m`, a mapper `vms` does not find,
  // or add_replica refused).
  static MPage replicate_page(MachineMemory& mm, const VmLookup& vms, MPage m, unsigned node);

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
    uint64_t replicated = 0;     // mapped to a master that has replicas
    uint64_t migrations = 0;     // machine pages this VM maps that the policy moved
    uint64_t replications = 0;   // replicas made of pages this VM maps
    uint64_t collapses = 0;      // replicas collapsed by this VM's writes
    std::vector<uint64_t> node_pages;  // per node: guest pages mapped to a master there (not the zero page)
  };
  Stats stats() const;
  bool out_of_memory() const { return oom_; }

 private:
  MachineMemory& mm_;
  mutable std::mutex mu_;  // pmap_ writes, accessed_, patched_, counters against concurrent page() calls
  uint32_t vm_;
  unsigned home_;
  Placement placement_;
  uint64_t low_pages_, high_base_, pages_;
  // The pmap: written under mu_, read by anyone (backing(), the scan).
  std::unique_ptr<std::atomic<MPage>[]> pmap_;
  uint64_t cow_breaks_ = 0, migrations_ = 0, replications_ = 0, collapses_ = 0;
  bool oom_ = false;
  std::vector<uint8_t> accessed_;  // by gpn
  struct Patched {
    MPage ref;
    std::vector<uint8_t> patch;
  };
  std::unordered_map<uint32_t, Patched> patched_;  // by gpn
  uint64_t patch_faults_ = 0;
  mutable std::vector<uint8_t> peek_buf_;
  unsigned place(uint64_t gpn) const;  // the node of a fresh page for `gpn`
  uint8_t* unpatch(uint64_t gpn);  // null when out of machine pages
  uint8_t* out_of_memory_page();   // mu_ held
  // A write to private replicated page `m`: its replicas collapse.
  void collapse(std::unique_lock<std::mutex>& lk, MPage m);
  // Points `gpn` at `to` (kPatchedPage with `patch`) and drops the old
  // mapping (see remap).
  void replace(uint64_t gpn, MPage to, Patched* patch);
  // This VM's soft-TLB entries into `m` and into each of its replicas go
  // (the VM is about to stop mapping `m`). Call without mu_.
  void drop_entries(MPage m);
  // Where writes go after the machine ran out of pages (the VM is stopping).
  // Page-aligned, as every page the engines map (the JIT's sampler takes
  // a line's page offset from the guest address).
  struct alignas(4096) ScratchPage {
    uint8_t bytes[4096];
  };
  std::unique_ptr<ScratchPage> scratch_;
};

}  // namespace disco
