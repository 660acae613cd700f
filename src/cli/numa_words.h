// The words the machine file's [numa] table and the --numa-policy and
// --placement options take for the NUMA policy and the first placement of
// pages. They must stay the words of numa-model's parse_policy() and
// parse_placement() (numa_params.h), which name them in the statistics.
#pragma once

#include <string_view>

#include "numa-model/numa_params.h"

namespace disco {

inline constexpr const char* kPolicyWords = "off, migrate, replicate, both";
inline constexpr const char* kPlacementWords = "home, interleave";

inline bool policy_from_word(std::string_view w, NumaPolicyKind& out) {
  if (w == "off") out = NumaPolicyKind::Off;
  else if (w == "migrate") out = NumaPolicyKind::Migrate;
  else if (w == "replicate") out = NumaPolicyKind::Replicate;
  else if (w == "both") out = NumaPolicyKind::Both;
  else return false;
  return true;
}

inline bool placement_from_word(std::string_view w, Placement& out) {
  if (w == "home") out = Placement::Home;
  else if (w == "interleave") out = Placement::Interleave;
  else return false;
  return true;
}

}  // namespace disco
