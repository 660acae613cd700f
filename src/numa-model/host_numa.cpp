#include "numa-model/host_numa.h"

#include <linux/mempolicy.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace disco {

unsigned count_node_list(const std::string& list) {
  unsigned n = 0;
  size_t i = 0;
  try {
    while (i < list.size()) {
      const size_t comma = list.find(',', i);
      const std::string part = list.substr(i, comma == std::string::npos ? std::string::npos : comma - i);
      const size_t dash = part.find('-');
      if (dash == std::string::npos) {
        std::stoul(part);
        ++n;
      } else {
        const unsigned long lo = std::stoul(part.substr(0, dash)), hi = std::stoul(part.substr(dash + 1));
        if (hi < lo) return 0;
        n += static_cast<unsigned>(hi - lo + 1);
      }
      if (comma == std::string::npos) break;
      i = comma + 1;
    }
  } catch (const std::exception&) {
    return 0;
  }
  return n;
}

unsigned host_memory_nodes() {
  std::ifstream f("/sys/devices/system/node/has_memory");
  std::string list;
  if (!(f >> list)) return 1;
  const unsigned n = count_node_list(list);
  return n ? n : 1;
}

bool prefer_host_node(void* addr, uint64_t bytes, unsigned host_node) {
  if (host_memory_nodes() < 2 || host_node >= 64) return true;
  const unsigned long mask = 1ul << host_node;
  return syscall(SYS_mbind, addr, bytes, MPOL_PREFERRED, &mask, 64ul, 0u) == 0;
}

}  // namespace disco
