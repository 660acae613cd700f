// The host's NUMA nodes: when the host itself has several, each modelled
// node's pool is bound to one of them (modelled node i -> host node
// i % host nodes), so a page the policy moves to a modelled node also
// lives on a host node of its own. On a one-node host nothing is done.
// docs/numa.md, "On a NUMA host".
#pragma once

#include <cstdint>
#include <string>

namespace disco {

// Host NUMA nodes with memory (1 when the host is not NUMA or cannot tell).
unsigned host_memory_nodes();
// The number of nodes in a sysfs node list ("0", "0-1", "0,2-3"); 0 when
// it is not one.
unsigned count_node_list(const std::string& list);
// Prefers host node `host_node` for the pages of [addr, addr + bytes)
// (mbind MPOL_PREFERRED: a full host node still gives pages elsewhere).
// False when the kernel refused; nothing happens on a one-node host.
bool prefer_host_node(void* addr, uint64_t bytes, unsigned host_node);

}  // namespace disco
