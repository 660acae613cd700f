#include "cpu/code_registry.h"

#include "cpu/cpu.h"

namespace disco {

void CodePageRegistry::attach(Cpu& c) {
  std::lock_guard<std::mutex> g(m_);
  c.code_registry = this;
  c.registry_index = static_cast<unsigned>(cpus_.size());
  cpus_.push_back(&c);
}

void CodePageRegistry::add(Cpu& self, uint64_t ppage) {
  const uint64_t me = 1ull << self.registry_index;
  for (;;) {
    uint64_t gen;
    {
      std::lock_guard<std::mutex> g(m_);
      auto [it, fresh] = pages_.try_emplace(ppage);
      if (fresh) {
        it->second.gen = ++gen_;
        hint_[bucket(ppage)].fetch_add(1);
      }
      it->second.holders |= me;
      if (it->second.shot) return;
      gen = it->second.gen;
    }
    // Stores that the others made through their store entries happen
    // before their acknowledgements, so the caller's read of the page
    // (after this returns) sees them; later stores take the slow path,
    // find the page registered, and retire it everywhere.
    uint64_t ticket[kMaxCpus];
    for (size_t i = 0; i < cpus_.size(); ++i)
      if (i != self.registry_index) ticket[i] = cpus_[i]->post({CpuRequest::DropStoreEntries, ppage});
    for (size_t i = 0; i < cpus_.size(); ++i)
      if (i != self.registry_index) cpus_[i]->wait_ack(ticket[i], &self);
    {
      std::lock_guard<std::mutex> g(m_);
      auto it = pages_.find(ppage);
      if (it != pages_.end() && it->second.gen == gen) {
        it->second.shot = true;
        return;
      }
    }
    // The page was written (and unregistered) while we waited, and the
    // writer's RetireCode may already have been served: register again.
  }
}

bool CodePageRegistry::written(Cpu& self, uint64_t ppage) {
  uint64_t holders;
  {
    std::lock_guard<std::mutex> g(m_);
    auto it = pages_.find(ppage);
    if (it == pages_.end()) return false;
    holders = it->second.holders;
    pages_.erase(it);
    hint_[bucket(ppage)].fetch_sub(1);
  }
  for (size_t i = 0; i < cpus_.size(); ++i)
    if (i != self.registry_index && (holders >> i & 1)) cpus_[i]->post({CpuRequest::RetireCode, ppage});
  return true;
}

}  // namespace disco
