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
//  - Thread-safe: VMs on different host threads allocate, map and unmap
//    concurrently; every member takes the memory's mutex (host() and the
//    zero page are fixed and need none).
#pragma once

#include <cstdint>
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
  // Removes a mapper; the page is freed when nobody maps it.
  void unmap(MPage p, PageMapper who);

  uint32_t refs(MPage p) const {
    std::lock_guard<std::mutex> lk(mu_);
    return p == zero_page_ ? zero_refs_ : info_[p].refs;
  }
  bool writable_in_place(MPage p) const {
    std::lock_guard<std::mutex> lk(mu_);
    return p != zero_page_ && info_[p].refs == 1;
  }
  // Who maps `p` (not kept for the zero page, which is never remapped).
  std::vector<PageMapper> mappers(MPage p) const;

  // Pages with more than one mapper, not counting the zero page.
  uint64_t shared_pages() const { std::lock_guard<std::mutex> lk(mu_); return shared_pages_; }
  uint64_t zero_page_refs() const { std::lock_guard<std::mutex> lk(mu_); return zero_refs_; }

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
  };
  void free_page(MPage p);  // mu_ held
  mutable std::mutex mu_;

  uint8_t* base_ = nullptr;
  uint64_t bytes_ = 0;
  uint8_t* zero_host_ = nullptr;
  MPage zero_page_ = kNoPage;  // a number past the pools
  uint64_t zero_refs_ = 0;
  uint64_t total_pages_ = 0, used_pages_ = 0, shared_pages_ = 0, patch_bytes_ = 0;
  std::vector<MPage> node_first_, node_end_, node_bump_;
  std::vector<uint64_t> node_used_;
  std::vector<std::vector<MPage>> node_free_;
  std::vector<PageInfo> info_;
  // Mapper lists of shared pages (refs >= 2); private pages keep their owner inline.
  std::unordered_map<MPage, std::vector<PageMapper>> shared_;
};

}  // namespace disco
