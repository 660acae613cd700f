// Checks of the memory-system model's and the NUMA policy's parameters
// (NumaParams: the machine file's [numa] table, docs/machine-config.md).
// One checker for every source: the TOML reader runs it to name the line
// at fault, validate_machine() for descriptions built in code and for the
// checks that need the whole machine.
#pragma once

#include <cstdint>
#include <string>

#include "cpu/mem_sampler.h"
#include "numa-model/numa_params.h"

namespace disco {

// Limits of the [numa] values (the TOML reader and the CLI use them too; the
// sample rate's, kMaxSampleRate, is the sampler's: cpu/mem_sampler.h).
constexpr uint64_t kMinCacheBytes = 16ull << 10;
constexpr uint64_t kMaxCacheBytes = 1ull << 30;
constexpr unsigned kMaxCacheWays = 16;

struct NumaProblem {
  std::string key;      // the [numa] key at fault ("sample_rate"); empty: none
  std::string message;  // what is wrong with its value ("3 is not a power of two ...")
  explicit operator bool() const { return !key.empty(); }
};

// The first value of `p` outside its range, each value alone (and the cache
// size against its ways, both in the file only). What relates to the rest of
// the machine (the sample rate against the cache's sets, local against remote
// latency, the replication budget against the machine's memory) is
// validate_machine()'s.
NumaProblem numa_value_problem(const NumaParams& p);

// Sets of the modelled cache: cache_size / 128-byte lines / cache_ways.
uint64_t cache_sets(const NumaParams& p);

// The fewest sets a modulo-indexed cache needs for 1-in-`rate` sampling to
// keep whole sets (the model's set sampling): whether a line is sampled
// depends on line-number bits 0..k-1 and 5..5+k-1 (rate = 2^k,
// cpu/mem_sampler.h), which the set index must include: 32 x rate sets
// (1024 at the highest rate), or 1 when every line is sampled.
uint64_t min_cache_sets(unsigned rate);

// "" or why the cache cannot be sampled at the sample rate ("sampling 1 in
// 32 lines needs a cache of at least 1024 sets ...").
std::string sample_rate_problem(const NumaParams& p);

// "16 KiB", "1 MiB", "1536 MiB": sizes of caches and budgets.
std::string size_text(uint64_t bytes);

bool is_power_of_two(uint64_t v);

}  // namespace disco
