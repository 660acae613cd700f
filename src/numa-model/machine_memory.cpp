#include "numa-model/machine_memory.h"

#include <sys/mman.h>

#include <algorithm>
#include <stdexcept>

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
}

MachineMemory::~MachineMemory() {
  if (base_) munmap(base_, bytes_ + kPageSize);
}

unsigned MachineMemory::node_of(MPage p) const {
  for (unsigned n = 0; n < node_end_.size(); ++n)
    if (p < node_end_[n]) return n;
  return 0;  // the zero page: nobody's in particular
}

MPage MachineMemory::alloc(unsigned node, PageMapper owner) {
  std::lock_guard<std::mutex> lk(mu_);
  const unsigned n_nodes = nodes();
  if (node >= n_nodes) node = 0;
  // Home node first, then the others in order of distance (all remote
  // nodes are equally far in the FLASH model).
  for (unsigned k = 0; k < n_nodes; ++k) {
    const unsigned n = (node + k) % n_nodes;
    MPage p;
    if (!node_free_[n].empty()) {
      p = node_free_[n].back();
      node_free_[n].pop_back();
    } else if (node_bump_[n] < node_end_[n]) {
      p = node_bump_[n]++;
    } else {
      continue;
    }
    info_[p].refs = 1;
    info_[p].owner = owner;
    ++used_pages_;
    ++node_used_[n];
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

void MachineMemory::free_page(MPage p) {
  madvise(host(p), kPageSize, MADV_DONTNEED);
  const unsigned n = node_of(p);
  node_free_[n].push_back(p);
  --used_pages_;
  --node_used_[n];
}

}  // namespace disco
