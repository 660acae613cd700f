// The words the machine file's [numa] table and the --numa-policy and
// --placement options take for the NUMA policy and the first placement of
// pages: numa-model's parse_policy() and parse_placement() (numa_params.h).
#pragma once

#include <string>
#include <string_view>

#include "numa-model/numa_params.h"

namespace disco {

inline constexpr const char* kPolicyWords = "off, migrate, replicate, both";
inline constexpr const char* kPlacementWords = "home, interleave";

// numa_params.h's parsers, for a string_view.
inline bool policy_from_word(std::string_view w, NumaPolicyKind& out) { return parse_policy(std::string(w).c_str(), out); }
inline bool placement_from_word(std::string_view w, Placement& out) {
  return parse_placement(std::string(w).c_str(), out);
}

}  // namespace disco
