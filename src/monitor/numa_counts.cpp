#include "monitor/numa_counts.h"

namespace disco {

namespace {
// Every counter, for the arithmetic below (policy_us aside: a double).
constexpr uint64_t NumaCounts::*kCounters[] = {
    &NumaCounts::user_insns,   &NumaCounts::kernel_insns,  &NumaCounts::idle_cycles,  &NumaCounts::local_misses,
    &NumaCounts::remote_misses, &NumaCounts::write_misses, &NumaCounts::fetch_misses, &NumaCounts::data_samples,
    &NumaCounts::fetch_samples, &NumaCounts::migrations,   &NumaCounts::replications, &NumaCounts::collapses,
};
}  // namespace

NumaCounts& NumaCounts::operator+=(const NumaCounts& o) {
  for (auto f : kCounters) this->*f += o.*f;
  policy_us += o.policy_us;
  return *this;
}

NumaCounts NumaCounts::operator-(const NumaCounts& e) const {
  NumaCounts d = *this;
  for (auto f : kCounters) d.*f -= e.*f;
  d.policy_us -= e.policy_us;
  return d;
}

}  // namespace disco
