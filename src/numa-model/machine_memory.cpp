#include "numa-model/machine_memory.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "numa-model/host_numa.h"

namespace disco {

MachineMemory::MachineMemory(const std::vector<uint64_t>& node_bytes) {
  if (node_bytes.empty()) throw std::invalid_argument("a machine needs at least one node");
  for (uint64_t b : node_bytes) {
    if (b & kPageMask) throw std::invalid_argument("node memory must be a multiple of 4 KiB");
    node_first_.push_back(static_cast<MPage>(total_pages_));
    total_pages_ += b / kPageSize;
    node_end_.push_back(static_cast<MPage>(total_pages_));
  }
  if (total_pages_ >= kNoPage - 1) throw std::invalid_argument("machine memory too large (at most 16 TiB)");
  node_bump_ = node_first_;
  node_used_.assign(node_bytes.size(), 0);
  node_free_.resize(node_bytes.size());
  info_.resize(total_pages_);
  link_ = std::make_unique<std::atomic<MPage>[]>(total_pages_);
  for (uint64_t i = 0; i < total_pages_; ++i) link_[i].store(kNoPage, std::memory_order_relaxed);
  bytes_ = total_pages_ * kPageSize;
  // Reserve address space only: pages cost host memory once written, and
  // freed pages are given back (MADV_DONTNEED), so host RSS follows the
  // machine pages in use.
  void* p = mmap(nullptr, bytes_ + kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) throw std::runtime_error("cannot reserve machine memory");
  base_ = static_cast<uint8_t*>(p);
  // The zero page sits after the pools, read-only to the host as well, so a
  // monitor bug that writes it faults instead of corrupting every VM.
  zero_host_ = base_ + bytes_;
  mprotect(zero_host_, kPageSize, PROT_READ);
  zero_page_ = static_cast<MPage>(total_pages_);
  // On a NUMA host, modelled node i's pool prefers host node i % host
  // nodes (nothing on a one-node host).
  if (const unsigned host_nodes = host_memory_nodes(); host_nodes > 1)
    for (size_t i = 0; i < node_first_.size(); ++i)
      prefer_host_node(base_ + (static_cast<uint64_t>(node_first_[i]) << 12),
                       static_cast<uint64_t>(node_end_[i] - node_first_[i]) << 12, static_cast<unsigned>(i % host_nodes));
}

MachineMemory::~MachineMemory() {
  if (base_) munmap(base_, bytes_ + kPageSize);
}

unsigned MachineMemory::node_of(MPage p) const {
  for (unsigned n = 0; n < node_end_.size(); ++n)
    if (p < node_end_[n]) return n;
  return 0;  // the zero page: nobody's in particular
}

MPage MachineMemory::take_on(unsigned n) {
  MPage p;
  if (!node_free_[n].empty()) {
    p = node_free_[n].back();
    node_free_[n].pop_back();
  } else if (node_bump_[n] < node_end_[n]) {
    p = node_bump_[n]++;
  } else {
    return kNoPage;
  }
  ++used_pages_;
  ++node_used_[n];
  return p;
}

MPage MachineMemory::alloc(unsigned node, PageMapper owner) {
  std::lock_guard<std::mutex> lk(mu_);
  const unsigned n_nodes = nodes();
  if (node >= n_nodes) node = 0;
  // Home node first, then the others in order of distance (all remote
  // nodes are equally far in the FLASH model).
  for (unsigned k = 0; k < n_nodes; ++k) {
    const MPage p = take_on((node + k) % n_nodes);
    if (p == kNoPage) continue;
    info_[p].refs = 1;
    info_[p].owner = owner;
    return p;
  }
  return kNoPage;
}

void MachineMemory::map(MPage p, PageMapper who) {
  std::lock_guard<std::mutex> lk(mu_);
  if (p == zero_page_) {
    ++zero_refs_;
    return;
  }
  PageInfo& pi = info_[p];
  if (pi.refs == 1) {
    shared_[p] = {pi.owner};
    ++shared_pages_;
  }
  ++pi.refs;
  shared_[p].push_back(who);
}

void MachineMemory::unmap(MPage p, PageMapper who) {
  std::lock_guard<std::mutex> lk(mu_);
  if (p == zero_page_) {
    --zero_refs_;
    return;
  }
  PageInfo& pi = info_[p];
  if (pi.refs == 0) return;
  if (pi.refs == 1) {
    pi.refs = 0;
    free_page(p);
    return;
  }
  auto it = shared_.find(p);
  std::vector<PageMapper>& list = it->second;
  auto m = std::find(list.begin(), list.end(), who);
  if (m != list.end()) list.erase(m);
  --pi.refs;
  if (pi.refs == 1) {
    // Back to private: the last mapper owns it.
    pi.owner = list.empty() ? who : list.front();
    shared_.erase(it);
    --shared_pages_;
  }
}

std::vector<PageMapper> MachineMemory::mappers(MPage p) const {
  std::lock_guard<std::mutex> lk(mu_);
  if (p == zero_page_ || info_[p].refs == 0) return {};
  if (info_[p].refs == 1) return {info_[p].owner};
  return shared_.at(p);
}

bool MachineMemory::in_place(MPage p) const {
  if (!is_pool_page(p)) return false;
  const PageInfo& pi = info_[p];
  return pi.refs == 1 && !pi.collapsing && replicas_.count(p) == 0;
}

MachineMemory::WriteAccess MachineMemory::write_access(MPage p) const {
  std::lock_guard<std::mutex> lk(mu_);
  if (in_place(p)) return WriteAccess::InPlace;
  // A private master with replicas (attached, or detached by a collapse
  // that another writer started) collapses; anything else is copied.
  if (is_pool_page(p) && info_[p].refs == 1) return WriteAccess::Collapse;
  return WriteAccess::Copy;
}

bool MachineMemory::vm_mapped_only(MPage p) const {
  std::lock_guard<std::mutex> lk(mu_);
  return vm_only(p);
}

bool MachineMemory::vm_only(MPage p) const {
  if (!is_pool_page(p) || info_[p].refs == 0) return false;
  auto is_vm = [](const PageMapper& w) { return w.vm != kImageHolder && w.vm != kPatchHolder; };
  if (info_[p].refs == 1) return is_vm(info_[p].owner);
  const auto& list = shared_.at(p);
  return std::all_of(list.begin(), list.end(), is_vm);
}

// ---- Replicas ---------------------------------------------------------------

MPage MachineMemory::add_replica(MPage m, unsigned node) {
  std::lock_guard<std::mutex> lk(mu_);
  if (!is_pool_page(m) || node >= nodes() || node == node_of(m)) return kNoPage;
  const PageInfo& mi = info_[m];
  if (mi.refs == 0 || mi.master != kNoPage || mi.collapsing) return kNoPage;
  std::vector<MPage>& list = replicas_[m];
  for (MPage r : list)
    if (node_of(r) == node) return kNoPage;
  const MPage r = take_on(node);
  if (r == kNoPage) {
    if (list.empty()) replicas_.erase(m);
    return kNoPage;
  }
  std::memcpy(host(r), host(m), kPageSize);
  info_[r].refs = 0;
  info_[r].master = m;
  list.push_back(r);
  ++replica_pages_;
  // Published for lock-free readers only once the copy is complete.
  link_[r].store(link_[m].load(std::memory_order_relaxed), std::memory_order_relaxed);
  link_[m].store(r, std::memory_order_release);
  return r;
}

bool MachineMemory::replicated(MPage m) const {
  std::lock_guard<std::mutex> lk(mu_);
  return is_pool_page(m) && !info_[m].collapsing && replicas_.count(m) != 0;
}

MPage MachineMemory::replica_on(MPage m, unsigned node) const {
  std::lock_guard<std::mutex> lk(mu_);
  if (!is_pool_page(m) || info_[m].collapsing) return kNoPage;
  auto it = replicas_.find(m);
  if (it == replicas_.end()) return kNoPage;
  for (MPage r : it->second)
    if (node_of(r) == node) return r;
  return kNoPage;
}

MPage MachineMemory::replica_relaxed(MPage m, unsigned node) const {
  if (!is_pool_page(m)) return kNoPage;
  MPage r = link_[m].load(std::memory_order_acquire);
  // At most one replica per node: a longer walk met a stale link.
  for (unsigned k = 0; k < nodes() && is_pool_page(r); ++k) {
    if (node_of(r) == node) return r;
    r = link_[r].load(std::memory_order_acquire);
  }
  return kNoPage;
}

std::vector<MPage> MachineMemory::replicas(MPage m) const {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = replicas_.find(m);
  return it == replicas_.end() ? std::vector<MPage>{} : it->second;
}

MPage MachineMemory::master_of(MPage r) const {
  std::lock_guard<std::mutex> lk(mu_);
  return is_pool_page(r) ? info_[r].master : kNoPage;
}

void MachineMemory::unlink_replicas(MPage m) {
  auto it = replicas_.find(m);
  if (it == replicas_.end()) return;
  link_[m].store(kNoPage, std::memory_order_relaxed);
  for (MPage r : it->second) link_[r].store(kNoPage, std::memory_order_relaxed);
}

void MachineMemory::free_replicas(MPage m) {
  auto it = replicas_.find(m);
  if (it == replicas_.end()) return;
  unlink_replicas(m);
  for (MPage r : it->second) {
    info_[r].master = kNoPage;
    --replica_pages_;
    free_page(r);
  }
  replicas_.erase(it);
  info_[m].collapsing = false;
}

unsigned MachineMemory::drop_replicas(MPage m) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = replicas_.find(m);
  if (it == replicas_.end()) return 0;
  const auto n = static_cast<unsigned>(it->second.size());
  free_replicas(m);
  return n;
}

std::vector<MPage> MachineMemory::detach_replicas(MPage m) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = replicas_.find(m);
  if (it == replicas_.end()) return {};
  unlink_replicas(m);
  info_[m].collapsing = true;
  return it->second;
}

bool MachineMemory::end_collapse(MPage m, uint32_t by_vm) {
  std::lock_guard<std::mutex> lk(mu_);
  if (!is_pool_page(m) || !info_[m].collapsing) return false;
  free_replicas(m);
  if (collapses_.size() < kCollapseLog) collapses_.push_back({m, by_vm});
  return true;
}

std::vector<MachineMemory::Collapse> MachineMemory::take_collapses() {
  std::lock_guard<std::mutex> lk(mu_);
  std::vector<Collapse> out;
  out.swap(collapses_);
  return out;
}

bool MachineMemory::collapsing(MPage m) const {
  std::lock_guard<std::mutex> lk(mu_);
  return is_pool_page(m) && info_[m].collapsing;
}

// ---- Migration --------------------------------------------------------------

bool MachineMemory::movable(MPage m) const {
  // vm_only() also excludes the zero page and free pages.
  return vm_only(m) && info_[m].master == kNoPage && !info_[m].collapsing && replicas_.count(m) == 0;
}

bool MachineMemory::migratable(MPage m) const {
  std::lock_guard<std::mutex> lk(mu_);
  return movable(m);
}

MPage MachineMemory::migrate(MPage m, unsigned node) {
  std::lock_guard<std::mutex> lk(mu_);
  if (!movable(m) || node >= nodes()) return kNoPage;
  if (node_of(m) == node) return m;
  const MPage n = take_on(node);
  if (n == kNoPage) return kNoPage;
  std::memcpy(host(n), host(m), kPageSize);
  info_[n] = info_[m];
  if (info_[m].refs > 1) {
    auto it = shared_.find(m);
    shared_.emplace(n, std::move(it->second));
    shared_.erase(it);
  }
  info_[m] = PageInfo{};
  free_page(m);
  return n;
}

void MachineMemory::free_page(MPage p) {
  free_replicas(p);
  madvise(host(p), kPageSize, MADV_DONTNEED);
  const unsigned n = node_of(p);
  node_free_[n].push_back(p);
  --used_pages_;
  --node_used_[n];
}

}  // namespace disco
