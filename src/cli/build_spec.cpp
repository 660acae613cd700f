#include "cli/build_spec.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <tuple>

#include "cli/machine_file.h"
#include "jit/backend.h"

#ifndef DISCO_SOURCE_DIR
#define DISCO_SOURCE_DIR "."
#endif

namespace disco {

namespace {

int fail(const std::string& msg) {
  std::fprintf(stderr, "disco: %s\n", msg.c_str());
  return 2;
}

bool file_exists(const std::string& p) { return access(p.c_str(), R_OK) == 0; }

// Builds the default image if needed; returns its folder or "" on failure.
std::string default_image() {
  static std::string built;  // once per run, however many VMs ask
  if (!built.empty()) return built;
  const std::string root = DISCO_SOURCE_DIR;
  const std::string dir = root + "/cache/default";
  if (file_exists(dir + "/.complete") && file_exists(dir + "/vmlinuz") && file_exists(dir + "/initrd.gz"))
    return built = dir;
  std::fprintf(stderr, "disco: building the default Debian image (first run only)...\n");
  const std::string cmd = "'" + root + "/images/build-default.sh' '" + dir + "' >&2";
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "disco: building the default image failed (see above)\n");
    return "";
  }
  return built = dir;
}

// The default image for a VM without a kernel. False after a message.
bool use_default_image(VmSpec& vm) {
  if (!vm.kernel.empty()) return true;
  const std::string dir = default_image();
  if (dir.empty()) return false;
  vm.kernel = dir + "/vmlinuz";
  vm.initrd = dir + "/initrd.gz";
  return true;
}

// Entropy for the kernel's KASLR (/chosen/kaslr-seed); fixed when deterministic.
uint64_t kaslr_seed(bool deterministic) {
  if (deterministic) return 0x6469736330000001ull;
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) | rd();
}

// The JIT where the host has a backend, else the interpreter (with a note).
Engine host_engine(Engine wanted) {
  if (wanted != Engine::Jit || jit::host_backend_available()) return wanted;
  static bool said = false;
  if (!said) std::fprintf(stderr, "disco: no JIT backend for this host yet; using the interpreter\n");
  said = true;
  return Engine::Interp;
}

}  // namespace

int build_vm_spec(const RunOptions& opt, VmSpec& out) {
  VmSpec vm = opt.vm;
  if (!use_default_image(vm)) return 1;
  if (opt.lockstep) vm.deterministic = true;
  vm.engine = host_engine(vm.engine);
  vm.kaslr_seed = kaslr_seed(vm.deterministic);
  out = std::move(vm);
  return 0;
}

int build_machine_spec(const RunOptions& opt, MachineSpec& out) {
  MachineSpec spec;
  std::string err;
  const VmSpec& cli = opt.vm;
  if (!opt.config.empty()) {
    if (!load_machine_toml(opt.config, spec, err)) return fail(err);
    // The file describes images and sizes; how the VMs run comes from the
    // command line.
    for (VmSpec& v : spec.vms) {
      v.engine = cli.engine;
      v.jit_classes = cli.jit_classes;
      v.deterministic = cli.deterministic;
      v.big_endian = cli.big_endian;
      v.has_fpu = cli.has_fpu;
    }
  } else {
    for (unsigned i = 0; i < (opt.vms ? opt.vms : 1); ++i) spec.vms.push_back(cli);
  }
  // The command line's machine options over the file's.
  if (opt.machine.nodes) spec.nodes = opt.machine.nodes;
  if (opt.machine.cpus_per_node) spec.cpus_per_node = opt.machine.cpus_per_node;
  if (opt.machine.mem_per_node) spec.mem_per_node = opt.machine.mem_per_node;
  if (opt.machine.overcommit) spec.overcommit = true;
  if (!opt.machine.sharing) spec.sharing = false;
  if (!opt.machine.patching) spec.patching = false;
  if (opt.scan_rate) spec.scan_pages_per_sec = opt.scan_rate;
  // The --numa-* options over the file's [numa], named as the source of
  // their values in validation's errors.
  const NumaOptions& numa = opt.numa_options;
  numa.apply(spec.numa);
  for (const auto& [given, key, option] : {std::tuple{numa.model.has_value(), "model", "--numa-model"},
                                          {numa.policy.has_value(), "policy", "--numa-policy"},
                                          {numa.sample_rate.has_value(), "sample_rate", "--numa-sample"},
                                          {numa.placement.has_value(), "placement", "--placement"}})
    if (given) spec.numa_origin[key] = option;
  // One KASLR seed for the machine: VMs booting the same kernel place it
  // alike, so its relocated text is identical and can be shared.
  const uint64_t seed = kaslr_seed(cli.deterministic);
  for (VmSpec& v : spec.vms) {
    if (v.kernel.empty() && !v.initrd.empty()) return fail("a VM gives an initrd but no kernel");
    if (!use_default_image(v)) return 1;
    v.engine = host_engine(v.engine);
    v.kaslr = opt.kaslr;
    v.kaslr_seed = seed;
  }
  if (!validate_machine(spec, err)) return fail(err);
  out = std::move(spec);
  return 0;
}

}  // namespace disco
