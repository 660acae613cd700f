#include "numa-model/memory_model.h"

#include <stdexcept>

namespace disco {

namespace {
// The rate, once check() has passed (the constructor's first step).
unsigned checked_rate(const NumaParams& params) {
  if (std::string why = MemoryModel::check(params); !why.empty()) throw std::invalid_argument(why);
  return params.sample_rate;
}
}  // namespace

std::string MemoryModel::check(const NumaParams& params) {
  if (!params.model) return {};
  return CacheModel::check(params.cache_bytes, params.cache_ways, params.sample_rate);
}

MemoryModel::MemoryModel(const NumaParams& params, MachineMemory& memory, unsigned cpus_per_node)
    : params_(params),
      memory_(memory),
      cpus_per_node_(cpus_per_node ? cpus_per_node : 1),
      processors_(memory.nodes() * cpus_per_node_),
      rate_(params.model ? checked_rate(params) : 1),
      counters_(params.model ? memory.total_pages() : 0, memory.nodes(), params.trigger) {
  if (!params.model) return;
  for (unsigned p = 0; p < processors_; ++p) {
    data_.push_back(std::make_unique<CacheModel>(params.cache_bytes, params.cache_ways, rate_));
    fetch_.push_back(std::make_unique<CacheModel>(params.cache_bytes, params.cache_ways, rate_, true));
  }
}

}  // namespace disco
