#include "numa-model/numa_params.h"

#include <cstring>
#include <iterator>

namespace disco {

namespace {

// The spellings of the machine file and the command line, indexed by the
// enumerators' values.
constexpr const char* kPolicyNames[] = {"off", "migrate", "replicate", "both"};
constexpr const char* kPlacementNames[] = {"home", "interleave"};

template <typename E, size_t N>
bool parse_name(const char* const (&names)[N], const char* text, E& out) {
  if (!text) return false;
  for (size_t i = 0; i < N; ++i) {
    if (std::strcmp(text, names[i]) == 0) {
      out = static_cast<E>(i);
      return true;
    }
  }
  return false;
}

}  // namespace

const char* policy_name(NumaPolicyKind p) {
  const auto i = static_cast<size_t>(p);
  return i < std::size(kPolicyNames) ? kPolicyNames[i] : "?";
}

bool parse_policy(const char* text, NumaPolicyKind& out) { return parse_name(kPolicyNames, text, out); }

const char* placement_name(Placement p) {
  const auto i = static_cast<size_t>(p);
  return i < std::size(kPlacementNames) ? kPlacementNames[i] : "?";
}

bool parse_placement(const char* text, Placement& out) { return parse_name(kPlacementNames, text, out); }

}  // namespace disco
