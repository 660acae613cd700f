// Machine memory: the modelled multiprocessor's physical pages ("machine
// pages", as in Disco), in one pool per NUMA node, and the memmap — for each
// machine page, how many guest pages map it and which (VM, guest page)
// they are. VMs see machine pages only through their pmap (GuestMemory).
//
// Invariants:
//  - A page with refs == 1 that is neither the zero page nor pinned is
//    private to its owner, which may write it in place.
//  - A page with refs > 1 (or the zero page, or a pinned image page) is
//    shared: every mapper holds it read-only and a write copies it first.
//  - A free page reads as zeros (fresh or returned to the host with
//    MADV_DONTNEED), so alloc() hands out zeroed pages.
//  - A master page may have replicas: read-only copies of it on other
//    nodes, at most one per node, which readers on those nodes use instead
//    of it (NUMA replication). The memmap records them (each replica knows
//    its master, the master its replicas); pmaps hold masters only. A
//    replica has no mappers of its own (refs 0): it serves the master's.
//    A replicated master is read-only to every mapper, like a shared page.
//  - Thread-safe: VMs on different host threads allocate, map and unmap
//    concurrently; every member takes the memory's mutex (host() and the
//    zero page are fixed and need none), except the lock-free queries
//    page_of_host() and replica_relaxed().
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "cpu/phys_bus.h"

namespace disco {

using MPage = uint32_t;
constexpr MPage kNoPage = ~0u;

// Who maps a machine page: a VM's guest page, or a holder that is not a VM
// (the boot-image cache).
struct PageMapper {
  uint32_t vm;
  uint32_t gpn;
  bool operator==(const PageMapper&) const = default;
};
constexpr uint32_t kImageHolder = ~0u;
// The holder of a reference page of patched guest pages (GuestMemory).
constexpr uint32_t kPatchHolder = ~0u - 1;
// A pmap entry: the guest page is stored as a reference page plus a patch.
constexpr MPage kPatchedPage = ~0u - 1;

class MachineMemory {
 public:
  // One pool per node, `node_bytes[i]` bytes each (multiples of 4 KiB).
  explicit MachineMemory(const std::vector<uint64_t>& node_bytes);
  ~MachineMemory();
  MachineMemory(const MachineMemory&) = delete;
  MachineMemory& operator=(const MachineMemory&) = delete;

  unsigned nodes() const { return static_cast<unsigned>(node_first_.size()); }
  uint64_t total_pages() const { return total_pages_; }
  uint64_t used_pages() const { std::lock_guard<std::mutex> lk(mu_); return used_pages_; }
  uint64_t used_pages_on(unsigned node) const { std::lock_guard<std::mutex> lk(mu_); return node_used_[node]; }
  // Lock-free (the pools are fixed).
  unsigned node_of(MPage p) const;

  uint8_t* host(MPage p) const { return p == zero_page_ ? zero_host_ : base_ + (static_cast<uint64_t>(p) << 12); }
  MPage zero_page() const { return zero_page_; }
  // The machine page holding host address `h` (the zero page included), or
  // kNoPage when `h` is not machine memory. Lock-free: the pools are fixed.
  MPage page_of_host(uintptr_t h) const {
    const auto b = reinterpret_cast<uintptr_t>(base_);
    if (h - b < bytes_) return static_cast<MPage>((h - b) >> 12);
    if (h - reinterpret_cast<uintptr_t>(zero_host_) < 4096) return zero_page_;
    return kNoPage;
  }

  // A zeroed page, preferably on `node`, else on the nearest node with room;
  // kNoPage when the machine is out of pages. The caller becomes its owner.
  MPage alloc(unsigned node, PageMapper owner);
  // Adds a mapper to a page (it becomes or stays shared).
  void map(MPage p, PageMapper who);
  // Removes a mapper; the page is freed when nobody maps it, with its
  // replicas (the caller has dropped its soft-TLB entries into them).
  void unmap(MPage p, PageMapper who);

  uint32_t refs(MPage p) const {
    std::lock_guard<std::mutex> lk(mu_);
    return p == zero_page_ ? zero_refs_ : info_[p].refs;
  }
  // Private, not the zero page, not replicated (nor collapsing).
  bool writable_in_place(MPage p) const {
    std::lock_guard<std::mutex> lk(mu_);
    return in_place(p);
  }
  // What a write by a mapper of `p` must do first: nothing; copy the page
  // (shared or the zero page); or collapse its replicas (private).
  enum class WriteAccess : uint8_t { InPlace, Copy, Collapse };
  WriteAccess write_access(MPage p) const;
  // Who maps `p` (not kept for the zero page, which is never remapped).
  std::vector<PageMapper> mappers(MPage p) const;
  // Every mapper of `p` is a VM (none is kImageHolder or kPatchHolder).
  bool vm_mapped_only(MPage p) const;

  // Pages with more than one mapper, not counting the zero page.
  uint64_t shared_pages() const { std::lock_guard<std::mutex> lk(mu_); return shared_pages_; }
  uint64_t zero_page_refs() const { std::lock_guard<std::mutex> lk(mu_); return zero_refs_; }

  // ---- Replicas (NUMA replication) ----------------------------------------
  // A copy of master `m` on exactly `node` (no fallback: kNoPage when that
  // node is full), recorded in the memmap and counted as a used page of
  // `node`. Also kNoPage when `m` cannot have one there: the zero page, a
  // free page, a replica, a master that is collapsing, `m`'s own node, or a
  // node that already has its replica. The caller makes the mappers' store
  // entries into `m` go away (it is read-only from now on).
  MPage add_replica(MPage m, unsigned node);
  // `m` has replicas that readers use (not collapsing).
  bool replicated(MPage m) const;
  // The replica of `m` on `node`, or kNoPage (none, or collapsing).
  MPage replica_on(MPage m, unsigned node) const;
  // Lock-free replica_on, for any thread (the memory model's sampler, a
  // pmap's refill path). Exact when the caller is ordered after the last
  // change to `m`'s replicas (a GuestMemory mutex, the world paused);
  // otherwise possibly stale, and then possibly a page that is no longer
  // `m`'s replica. Never blocks, never loops more than nodes() times.
  MPage replica_relaxed(MPage m, unsigned node) const;
  // Every replica of `m`, those being collapsed included.
  std::vector<MPage> replicas(MPage m) const;
  // The master of replica `r`, or kNoPage when `r` is not a replica.
  MPage master_of(MPage r) const;
  // Replica pages in the machine now.
  uint64_t replica_pages() const { std::lock_guard<std::mutex> lk(mu_); return replica_pages_; }
  // Frees every replica of `m`; returns how many. The caller has had every
  // soft-TLB entry into them dropped.
  unsigned drop_replicas(MPage m);

  // A collapse in two steps, for a write to a replicated private master
  // (GuestMemory::page): detach_replicas() makes `m` collapsing — readers
  // get `m` itself from now on, but it stays read-only and its replicas
  // stay allocated — and returns the replicas; the writer has every entry
  // into them dropped, then end_collapse() frees them and makes `m`
  // writable again, and logs the collapse for the policy. It returns false
  // when the collapse already ended (another writer of the same page
  // finished it first). Detaching again while collapsing returns the same
  // replicas.
  std::vector<MPage> detach_replicas(MPage m);
  bool end_collapse(MPage m, uint32_t by_vm);
  bool collapsing(MPage m) const;
  // The collapses ended since the last call (the policy counts them as
  // moves of the page). At most kCollapseLog are kept between calls.
  struct Collapse {
    MPage page;
    uint32_t vm;
  };
  static constexpr size_t kCollapseLog = 1 << 16;
  std::vector<Collapse> take_collapses();
  bool has_collapses() const { std::lock_guard<std::mutex> lk(mu_); return !collapses_.empty(); }

  // ---- Migration ------------------------------------------------------------
  // `m` may move: not the zero page, mapped, every mapper a VM, no replicas.
  bool migratable(MPage m) const;
  // Moves `m` to a fresh page on exactly `node`: contents, refs and mapper
  // list; frees `m`. Returns the new page, kNoPage when `node` is full or
  // `m` is not migratable, `m` itself when it is on `node` already. The
  // caller repoints every mapper's pmap and drops their entries into `m`
  // before any of them runs again (the world is paused).
  MPage migrate(MPage m, unsigned node);

  // Host memory holding patches (sub-page sharing), counted as machine
  // memory in use by the statistics.
  void add_patch_bytes(int64_t delta) {
    std::lock_guard<std::mutex> lk(mu_);
    patch_bytes_ = static_cast<uint64_t>(static_cast<int64_t>(patch_bytes_) + delta);
  }
  uint64_t patch_bytes() const { std::lock_guard<std::mutex> lk(mu_); return patch_bytes_; }

 private:
  struct PageInfo {
    uint32_t refs = 0;
    PageMapper owner{0, 0};  // valid when refs == 1
    MPage master = kNoPage;  // for a replica: its master
    bool collapsing = false;  // a master whose replicas are detached
  };
  bool is_pool_page(MPage p) const { return p < total_pages_; }
  bool in_place(MPage p) const;              // mu_ held
  bool vm_only(MPage p) const;               // mu_ held
  bool movable(MPage p) const;               // mu_ held
  MPage take_on(unsigned node);              // mu_ held; kNoPage when full
  void free_page(MPage p);                   // mu_ held
  void free_replicas(MPage m);               // mu_ held
  void unlink_replicas(MPage m);             // mu_ held: lock-free lookups find none
  mutable std::mutex mu_;

  uint8_t* base_ = nullptr;
  uint64_t bytes_ = 0;
  uint8_t* zero_host_ = nullptr;
  MPage zero_page_ = kNoPage;  // a number past the pools
  uint64_t zero_refs_ = 0;
  uint64_t total_pages_ = 0, used_pages_ = 0, shared_pages_ = 0, patch_bytes_ = 0, replica_pages_ = 0;
  std::vector<MPage> node_first_, node_end_, node_bump_;
  std::vector<uint64_t> node_used_;
  std::vector<std::vector<MPage>> node_free_;
  std::vector<PageInfo> info_;
  // Mapper lists of shared pages (refs >= 2); private pages keep their owner inline.
  std::unordered_map<MPage, std::vector<PageMapper>> shared_;
  // Replicas by master (at most one per node).
  std::unordered_map<MPage, std::vector<MPage>> replicas_;
  std::vector<Collapse> collapses_;
  // For the lock-free lookup: for a master, its first attached replica; for
  // an attached replica, the next one of the same master; else kNoPage.
  // Written under mu_ (relaxed), read by anyone.
  std::unique_ptr<std::atomic<MPage>[]> link_;
};

}  // namespace disco
