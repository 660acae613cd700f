#include "monitor/numa_check.h"

#include <cmath>
#include <cstdio>

#include "cpu/phys_bus.h"

namespace disco {

namespace {

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// TOML allows nan and inf: neither is a time or a ratio.
bool positive(double v) { return std::isfinite(v) && v > 0; }
bool non_negative(double v) { return std::isfinite(v) && v >= 0; }

}  // namespace

bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

std::string size_text(uint64_t bytes) {
  if (bytes != 0 && bytes % (1ull << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes != 0 && bytes % (1ull << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

uint64_t cache_sets(const NumaParams& p) {
  if (p.cache_ways == 0) return 0;
  return p.cache_bytes / kLineBytes / p.cache_ways;
}

NumaProblem numa_value_problem(const NumaParams& p) {
  auto at_least_one = [](const char* key, uint64_t v) {
    return v >= 1 ? NumaProblem{} : NumaProblem{key, "must be at least 1, got " + std::to_string(v)};
  };
  if (p.policy > NumaPolicyKind::Both) return {"policy", "not a policy"};
  if (p.placement > Placement::Interleave) return {"placement", "not a placement"};
  if (!is_power_of_two(p.sample_rate) || p.sample_rate > kMaxSampleRate)
    return {"sample_rate", std::to_string(p.sample_rate) + " is not a power of two from 1 to " +
                               std::to_string(kMaxSampleRate)};
  if (p.cache_ways < 1 || p.cache_ways > kMaxCacheWays)
    return {"cache_ways",
            std::to_string(p.cache_ways) + " is out of range (1 .. " + std::to_string(kMaxCacheWays) + ")"};
  if (p.cache_bytes < kMinCacheBytes || p.cache_bytes > kMaxCacheBytes)
    return {"cache_size",
            size_text(p.cache_bytes) + " is outside " + size_text(kMinCacheBytes) + " .. " + size_text(kMaxCacheBytes)};
  // The sampled lines' hash picks the set with its top bits (cpu/mem_sampler.h).
  const uint64_t sets = cache_sets(p);
  if (sets * kLineBytes * p.cache_ways != p.cache_bytes || !is_power_of_two(sets))
    return {"cache_size", size_text(p.cache_bytes) + " / " + std::to_string(kLineBytes) + "-byte lines / " +
                              std::to_string(p.cache_ways) + " ways is not a power-of-two number of sets"};
  if (NumaProblem e = at_least_one("local_latency_ns", p.local_latency_ns)) return e;
  if (NumaProblem e = at_least_one("remote_latency_ns", p.remote_latency_ns)) return e;
  if (!positive(p.insn_ns)) return {"insn_ns", "must be a number greater than 0, got " + number_text(p.insn_ns)};
  if (NumaProblem e = at_least_one("trigger", p.trigger)) return e;
  if (!positive(p.reset_interval_ms))
    return {"reset_interval_ms", "must be a number greater than 0, got " + number_text(p.reset_interval_ms)};
  if (!positive(p.sharing_ratio) || p.sharing_ratio > 1)
    return {"sharing_ratio", "must be greater than 0 and at most 1, got " + number_text(p.sharing_ratio)};
  if (NumaProblem e = at_least_one("max_moves", p.max_moves)) return e;
  for (const auto& [key, v] : {std::pair<const char*, double>{"migrate_us", p.migrate_us},
                               {"replicate_us", p.replicate_us},
                               {"collapse_us", p.collapse_us},
                               {"hot_page_us", p.hot_page_us}})
    if (!non_negative(v)) return {key, "must be a number >= 0, got " + number_text(v)};
  return {};
}

uint64_t min_cache_sets(unsigned rate) { return rate <= 1 ? 1 : kPageSize / kLineBytes * rate; }

std::string sample_rate_problem(const NumaParams& p) {
  const uint64_t sets = cache_sets(p), need = min_cache_sets(p.sample_rate);
  if (sets >= need) return "";
  return "sampling 1 in " + std::to_string(p.sample_rate) + " lines needs a cache of at least " +
         std::to_string(need) + " sets (to sample whole sets); this one has " + std::to_string(sets) + " (" +
         size_text(p.cache_bytes) + " / " + std::to_string(kLineBytes) + "-byte lines / " +
         std::to_string(p.cache_ways) + " ways)";
}

}  // namespace disco
