#include "monitor/numa_policy.h"

#include <algorithm>

namespace disco {

NumaPolicy::NumaPolicy(const NumaParams& params, MachineMemory& mm, GuestMemory::VmLookup vms)
    : params_(params), mm_(mm), vms_(std::move(vms)) {
  budget_pages_ = params_.replication_budget ? params_.replication_budget / kPageSize : mm_.total_pages() / 8;
}

bool NumaPolicy::can_migrate() const {
  return params_.policy == NumaPolicyKind::Migrate || params_.policy == NumaPolicyKind::Both;
}

bool NumaPolicy::can_replicate() const {
  return params_.policy == NumaPolicyKind::Replicate || params_.policy == NumaPolicyKind::Both;
}

namespace {
// The distinct VM ids among the mappers of a page.
std::vector<uint32_t> vm_ids(const std::vector<PageMapper>& who) {
  std::vector<uint32_t> ids;
  for (const PageMapper& w : who)
    if (w.vm != kImageHolder && w.vm != kPatchHolder && std::find(ids.begin(), ids.end(), w.vm) == ids.end())
      ids.push_back(w.vm);
  return ids;
}
}  // namespace

void NumaPolicy::charge(MPage m, double us) {
  const std::vector<uint32_t> ids = vm_ids(mm_.mappers(m));
  stats_.cost_us += us;
  if (ids.empty()) return;
  for (uint32_t id : ids) cost_[id] += us / static_cast<double>(ids.size());
}

double NumaPolicy::cost_us(uint32_t vm) const {
  auto it = cost_.find(vm);
  return it == cost_.end() ? 0 : it->second;
}

NumaPolicy::Stats NumaPolicy::stats() const {
  Stats s = stats_;
  s.replica_pages = mm_.replica_pages();
  return s;
}

bool NumaPolicy::frozen(MPage m) const {
  auto it = history_.find(m);
  return it != history_.end() && it->second.frozen_left > 0;
}

// Back-off: max_moves moves, then frozen for 2^k intervals, k counting the
// page's freezes (so each freeze lasts twice the one before). max_moves 0
// means no limit.
void NumaPolicy::moved(MPage m) {
  if (params_.max_moves == 0) return;
  History& h = history_[m];
  if (++h.moves < params_.max_moves) return;
  h.moves = 0;
  ++h.freezes;
  h.frozen_left = 1ull << std::min(h.freezes, 30u);
}

void NumaPolicy::take_collapses() {
  for (const MachineMemory::Collapse& c : mm_.take_collapses()) {
    ++stats_.collapses;
    stats_.cost_us += params_.collapse_us;
    cost_[c.vm] += params_.collapse_us;
    moved(c.page);
  }
}

void NumaPolicy::end_interval() {
  take_collapses();
  for (auto it = history_.begin(); it != history_.end();) {
    if (it->second.frozen_left > 0) --it->second.frozen_left;
    // A freed page's history goes (its number may come back as another page).
    if (mm_.refs(it->first) == 0) it = history_.erase(it);
    else ++it;
  }
}

void NumaPolicy::run_batch(const std::vector<HotPage>& hot, const PageCounts& counts) {
  take_collapses();
  if (params_.policy == NumaPolicyKind::Off) return;
  for (const HotPage& h : hot) handle(h, counts);
}

// Replicas of `m` onto each of `nodes` that has no copy yet, within the
// budget. One move of the page however many replicas it got.
bool NumaPolicy::replicate_onto(MPage m, const std::vector<unsigned>& nodes) {
  bool any = false;
  for (unsigned n : nodes) {
    if (mm_.node_of(m) == n || mm_.replica_on(m, n) != kNoPage) continue;
    if (mm_.replica_pages() >= budget_pages_) {
      ++stats_.skipped_budget;
      break;
    }
    if (GuestMemory::replicate_page(mm_, vms_, m, n) == kNoPage) {
      ++stats_.skipped_node_full;  // the page itself was checked: the node had no room
      continue;
    }
    ++stats_.replications;
    charge(m, params_.replicate_us);
    any = true;
  }
  if (any) moved(m);
  return any;
}

void NumaPolicy::handle(const HotPage& hot, const PageCounts& counts) {
  MPage m = hot.page;
  if (m >= mm_.total_pages() || hot.node >= mm_.nodes()) return;  // kNoPage, the zero page, nonsense
  // Misses on a replica count for its master (they came from the
  // replica's node, which has its copy: nothing will move for them).
  if (const MPage master = mm_.master_of(m); master != kNoPage) m = master;
  if (mm_.refs(m) == 0) return;  // freed since it got hot
  const std::vector<uint32_t> ids = vm_ids(mm_.mappers(m));
  if (ids.empty()) return;  // only the boot-image cache or patches hold it
  for (uint32_t id : ids)
    if (!vms_ || !vms_(id)) return;  // a VM being torn down
  ++stats_.hot_pages;
  charge(m, params_.hot_page_us);
  if (frozen(m)) {
    ++stats_.skipped_frozen;
    return;
  }

  const unsigned h = hot.node;
  const double hot_misses = std::max<uint32_t>(counts.count(m, h), 1);
  // Nodes whose misses are a significant share next to the hot node's.
  std::vector<unsigned> sharers;
  for (unsigned n = 0; n < mm_.nodes(); ++n) {
    if (n == h) continue;
    const uint32_t c = counts.count(m, n);
    if (c > 0 && c >= params_.sharing_ratio * hot_misses) sharers.push_back(n);
  }
  const bool copy_on_h = mm_.node_of(m) == h || mm_.replica_on(m, h) != kNoPage;
  auto forget = [&](MPage p) {
    if (counts.clear) counts.clear(p);
  };

  if (sharers.empty()) {
    // Used mostly by node h.
    if (copy_on_h) return;
    if (can_migrate() && mm_.migratable(m)) {
      const MPage to = GuestMemory::migrate_page(mm_, vms_, m, h);
      if (to == kNoPage) {
        ++stats_.skipped_node_full;
        return;
      }
      ++stats_.migrations;
      charge(to, params_.migrate_us);
      forget(m);
      forget(to);
      // The page's history follows it to its new number.
      if (auto it = history_.find(m); it != history_.end()) {
        history_[to] = it->second;
        history_.erase(m);
      }
      moved(to);
      return;
    }
    // It may not move (replicated already, or held by the image cache or a
    // patch), or only replication is on: a replica serves node h as well.
    if (can_replicate() && !counts.written(m) && replicate_onto(m, {h})) forget(m);
    return;
  }
  if (counts.written(m)) {
    ++stats_.write_shared;  // write-shared: replicas would collapse at once
    return;
  }
  if (!can_replicate()) return;
  std::vector<unsigned> targets{h};
  targets.insert(targets.end(), sharers.begin(), sharers.end());
  if (replicate_onto(m, targets)) forget(m);
}

}  // namespace disco
