#include "monitor/machine_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "cpu/phys_bus.h"
#include "monitor/numa_check.h"
#include "monitor/vm.h"

namespace disco {

std::string mib_text(uint64_t bytes) {
  char buf[48];
  if (bytes % (1ull << 20) == 0)
    std::snprintf(buf, sizeof buf, "%llu MiB", static_cast<unsigned long long>(bytes >> 20));
  else
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

bool valid_vm_name(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string numa_where(const MachineSpec& spec, const std::string& key) {
  const auto it = spec.numa_origin.find(key);
  return it != spec.numa_origin.end() ? it->second : "numa." + key;
}

unsigned vcpu_home_node(const MachineSpec& spec, size_t vm, unsigned k) {
  const unsigned nodes = std::max(1u, spec.nodes), per = std::max(1u, spec.cpus_per_node);
  const unsigned home = static_cast<unsigned>(std::max(0, spec.vms[vm].home_node));
  return (home + k / per) % nodes;
}

std::string mem_size_problem(uint64_t bytes) {
  if (bytes & kPageMask) return std::to_string(bytes) + " bytes is not a multiple of 4 KiB";
  if (bytes < board::kMinMem || bytes > board::kMaxMem) return mib_text(bytes) + " is outside 16 MiB .. 64 GiB";
  return "";
}

namespace {

// Empty, or why `path` cannot be read as an image file.
std::string unreadable(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::strerror(errno);
  struct stat st;
  std::string why;
  if (::fstat(fd, &st) != 0) why = std::strerror(errno);
  else if (!S_ISREG(st.st_mode)) why = "not a regular file";
  ::close(fd);
  return why;
}

std::string nodes_text(unsigned n) { return std::to_string(n) + (n == 1 ? " node" : " nodes"); }

// The [numa] values: each alone (the TOML reader has checked those it read),
// then against each other and the machine's `machine_bytes` of memory.
bool numa_ok(const MachineSpec& spec, uint64_t machine_bytes, std::string& error) {
  const NumaParams& p = spec.numa;
  if (const NumaProblem e = numa_value_problem(p)) {
    error = numa_where(spec, e.key) + ": " + e.message;
    return false;
  }
  if (const std::string why = sample_rate_problem(p); !why.empty()) {
    // Named where the sample rate was given, else the cache's size or ways.
    const char* key = "sample_rate";
    for (const char* k : {"sample_rate", "cache_size", "cache_ways"})
      if (spec.numa_origin.count(k)) {
        key = k;
        break;
      }
    error = numa_where(spec, key) + ": " + why;
    return false;
  }
  if (p.local_latency_ns > p.remote_latency_ns) {
    error = numa_where(spec, "local_latency_ns") + ": " + std::to_string(p.local_latency_ns) +
            " must not exceed remote_latency_ns (" + std::to_string(p.remote_latency_ns) + ")";
    return false;
  }
  if (p.replication_budget > machine_bytes) {
    error = numa_where(spec, "replication_budget") + ": " + size_text(p.replication_budget) +
            " is more than the machine's memory (" + nodes_text(spec.nodes) + " x " + mib_text(spec.mem_per_node) +
            " = " + mib_text(machine_bytes) + ")";
    return false;
  }
  return true;
}

}  // namespace

bool validate_machine(MachineSpec& spec, std::string& error) {
  if (spec.vms.empty()) {
    error = "no VMs to run: add [[vm]] tables to the machine description or use --vms N";
    return false;
  }
  // Names first: the other errors name the VM.
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < spec.vms.size(); ++i) {
    VmSpec& vm = spec.vms[i];
    if (vm.name.empty()) vm.name = "vm" + std::to_string(i);
    if (!valid_vm_name(vm.name)) {
      error = "vm[" + std::to_string(i) + "]: name \"" + vm.name +
              "\" is not valid (use letters, digits, '_' and '-')";
      return false;
    }
    auto [it, fresh] = seen.emplace(vm.name, i);
    if (!fresh) {
      error = "vm[" + std::to_string(it->second) + "] and vm[" + std::to_string(i) + "] are both named \"" +
              vm.name + "\"; names must be unique";
      return false;
    }
  }
  uint64_t vcpus = 0, mem = 0;
  for (const VmSpec& vm : spec.vms) {
    if (vm.vcpus < 1 || vm.vcpus > kMaxVcpus) {
      error = "vm " + vm.name + ": vcpus = " + std::to_string(vm.vcpus) + ": must be between 1 and 16 (the guest kernel's NR_CPUS)";
      return false;
    }
    if (const std::string why = mem_size_problem(vm.mem_bytes); !why.empty()) {
      error = "vm " + vm.name + ": mem: " + why;
      return false;
    }
    vcpus += vm.vcpus;
    mem += vm.mem_bytes;
  }

  // Size the machine to fit where not given.
  if (spec.nodes > kMaxNodes) {
    error = "machine: nodes = " + std::to_string(spec.nodes) + ": must be between 1 and 64";
    return false;
  }
  if (spec.nodes == 0) {
    uint64_t n = 1;
    if (spec.cpus_per_node) n = (vcpus + spec.cpus_per_node - 1) / spec.cpus_per_node;
    spec.nodes = static_cast<unsigned>(std::clamp<uint64_t>(n, 1, kMaxNodes));
  }
  const unsigned nodes = spec.nodes;
  if (spec.cpus_per_node == 0) {
    // Room for the VMs' vCPUs, and for the largest VM on one node (a VM may
    // span nodes, but then some of its vCPUs run away from its home node's
    // memory).
    unsigned widest = 1;
    for (const VmSpec& vm : spec.vms) widest = std::max(widest, vm.vcpus);
    spec.cpus_per_node = std::max(widest, static_cast<unsigned>((vcpus + nodes - 1) / nodes));
  }
  if (spec.mem_per_node == 0) spec.mem_per_node = ((mem + nodes - 1) / nodes + kPageMask) & ~kPageMask;
  if (spec.mem_per_node & kPageMask) {
    error = "machine: mem_per_node = " + std::to_string(spec.mem_per_node) +
            " bytes: must be a multiple of 4 KiB";
    return false;
  }

  for (size_t i = 0; i < spec.vms.size(); ++i) {
    VmSpec& vm = spec.vms[i];
    if (vm.home_node == -1) vm.home_node = static_cast<int>(i % nodes);
    if (vm.home_node < 0 || static_cast<unsigned>(vm.home_node) >= nodes) {
      const std::string range = nodes == 1 ? " node (0)" : " nodes (0.." + std::to_string(nodes - 1) + ")";
      error = "vm " + vm.name + ": home_node = " + std::to_string(vm.home_node) + ": the machine has " +
              std::to_string(nodes) + range;
      return false;
    }
  }
  // A VM wider than a node spans nodes (vcpu_home_node), up to the whole
  // machine; with overcommit its vCPUs may outnumber the processors.
  const uint64_t cpus = static_cast<uint64_t>(nodes) * spec.cpus_per_node;
  const std::string machine_text = std::to_string(cpus) + (cpus == 1 ? " processor (" : " processors (") +
                                   nodes_text(nodes) + " x " + std::to_string(spec.cpus_per_node) +
                                   "; --overcommit time-slices them)";
  for (const VmSpec& vm : spec.vms) {
    if (vm.vcpus > cpus && !spec.overcommit) {
      error = "vm " + vm.name + ": vcpus = " + std::to_string(vm.vcpus) + ": more than the machine's " + machine_text;
      return false;
    }
  }
  if (vcpus > cpus && !spec.overcommit) {
    error = "the VMs ask for " + std::to_string(vcpus) + " vCPUs but the machine has " + machine_text;
    return false;
  }
  const unsigned __int128 have = static_cast<unsigned __int128>(nodes) * spec.mem_per_node;
  if (!spec.overcommit && mem > have) {
    error = "the VMs ask for " + mib_text(mem) + " of memory but the machine has " +
            mib_text(static_cast<uint64_t>(have)) + " (" + nodes_text(nodes) + " x " +
            mib_text(spec.mem_per_node) + "); set overcommit = true (or --overcommit) to rely on page sharing";
    return false;
  }
  if (!numa_ok(spec, static_cast<uint64_t>(std::min<unsigned __int128>(have, UINT64_MAX)), error)) return false;
  if (spec.sharing && spec.scan_pages_per_sec == 0) {
    error = "sharing: scan_rate must be greater than 0 when sharing is enabled";
    return false;
  }

  // Images last: they touch the file system.
  for (const VmSpec& vm : spec.vms) {
    if (vm.kernel.empty() && !vm.initrd.empty()) {
      error = "vm " + vm.name + ": initrd " + vm.initrd + " is given without a kernel "
              "(the default image brings its own)";
      return false;
    }
    for (const auto& [field, path] : {std::pair<const char*, const std::string&>{"kernel", vm.kernel},
                                      {"initrd", vm.initrd}}) {
      if (path.empty()) continue;
      const std::string why = unreadable(path);
      if (!why.empty()) {
        error = "vm " + vm.name + ": " + field + " " + path + ": cannot read it (" + why + ")";
        return false;
      }
    }
  }
  return true;
}

}  // namespace disco
