// The memory-system model's and the NUMA policy's parameters: the machine
// file's [numa] table (docs/machine-config.md) and the --numa-* options,
// with the paper's values as defaults (docs/numa.md).
#pragma once

#include <cstdint>

namespace disco {

enum class NumaPolicyKind : uint8_t { Off, Migrate, Replicate, Both };
// Where a VM's pages are first allocated: its home node, or spread round
// robin over the nodes by guest page number (what a NUMA-unaware machine
// gives its OS: the experiment's baseline, bench/numa).
enum class Placement : uint8_t { Home, Interleave };

struct NumaParams {
  bool model = true;                     // --numa-model on|off
  NumaPolicyKind policy = NumaPolicyKind::Both;
  Placement placement = Placement::Home;
  unsigned sample_rate = 32;             // 1 in N lines (power of two, 1..32: mem_sampler.h)
  uint64_t cache_bytes = 1ull << 20;     // per processor (R10000 secondary cache)
  unsigned cache_ways = 2;
  unsigned local_latency_ns = 300;       // FLASH
  unsigned remote_latency_ns = 900;
  double insn_ns = 5.0;                  // base cost of an instruction (200 MHz, CPI 1)
  // Policy (Disco, section 4.4 of the paper).
  uint32_t trigger = 64;                 // misses from one node in an interval make a page hot
  double reset_interval_ms = 100;        // counters are cleared this often (modelled time)
  double sharing_ratio = 0.25;           // another node with this share of the misses: shared
  unsigned max_moves = 4;                // per page, then it backs off (doubling)
  uint64_t replication_budget = 0;       // bytes of replicas; 0: 1/8 of machine memory
  // Modelled costs of the policy's actions (the paper: 67 and 57 us).
  double migrate_us = 67, replicate_us = 57, collapse_us = 20, hot_page_us = 2;
};

const char* policy_name(NumaPolicyKind p);
bool parse_policy(const char* text, NumaPolicyKind& out);
const char* placement_name(Placement p);
bool parse_placement(const char* text, Placement& out);

}  // namespace disco
