#include "cli/stats.h"

#include <cstdarg>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "monitor/vm.h"

namespace disco {

namespace {

// Keys in the order they are set: the documented order, stable for diffs.
using Json = nlohmann::ordered_json;

__attribute__((format(printf, 1, 2))) std::string format(const char* fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  return line;
}

unsigned long long ull(uint64_t v) { return static_cast<unsigned long long>(v); }

// The NUMA model's counts and the modelled time they make (docs/numa.md).
Json numa_json(const NumaCounts& n, const NumaParams& p) {
  Json o;
  o["local_misses"] = n.local_misses;
  o["remote_misses"] = n.remote_misses;
  o["local_share"] = n.local_share();
  o["write_misses"] = n.write_misses;
  o["fetch_misses"] = n.fetch_misses;
  o["migrations"] = n.migrations;
  o["replications"] = n.replications;
  o["collapses"] = n.collapses;
  o["user_instructions"] = n.user_insns;
  o["kernel_instructions"] = n.kernel_insns;
  const ModelledTime t = n.time(p);
  o["modelled_seconds"] = t.total();
  Json b;
  b["user"] = t.user_s;
  b["kernel"] = t.kernel_s;
  b["idle"] = t.idle_s;
  b["local_stall"] = t.local_stall_s;
  b["remote_stall"] = t.remote_stall_s;
  b["policy"] = t.policy_s;
  o["time"] = std::move(b);
  Json sm;
  sm["data"] = n.data_samples;
  sm["fetch"] = n.fetch_samples;
  o["samples"] = std::move(sm);
  return o;
}

Json numa_params_json(const NumaParams& p) {
  Json o;
  o["model"] = p.model;
  o["policy"] = policy_name(p.policy);
  o["placement"] = placement_name(p.placement);
  o["sample_rate"] = p.sample_rate;
  o["cache_bytes"] = p.cache_bytes;
  o["cache_ways"] = p.cache_ways;
  o["insn_ns"] = p.insn_ns;
  o["local_latency_ns"] = p.local_latency_ns;
  o["remote_latency_ns"] = p.remote_latency_ns;
  return o;
}

std::string numa_text(const char* who, const NumaCounts& n, const NumaParams& p) {
  const ModelledTime t = n.time(p);
  return format("disco: %s NUMA: %llu local + %llu remote misses (%.1f%% local), %llu migrations, "
                "%llu replications, %llu collapses; modelled %.3f s (user %.3f kernel %.3f idle %.3f "
                "local stall %.3f remote stall %.3f policy %.3f)\n",
                who, ull(n.local_misses), ull(n.remote_misses), 100.0 * n.local_share(), ull(n.migrations),
                ull(n.replications), ull(n.collapses), t.total(), t.user_s, t.kernel_s, t.idle_s, t.local_stall_s,
                t.remote_stall_s, t.policy_s);
}

double mib_of_pages(uint64_t pages, uint64_t page_bytes) {
  return static_cast<double>(pages * page_bytes) / (1 << 20);
}

// One vCPU; `scheduled`: a machine's, with what its scheduler knows.
Json vcpu_json(const VcpuStats& c, bool scheduled) {
  Json o;
  o["index"] = c.index;
  if (scheduled) o["started"] = c.started;
  o["instructions"] = c.instructions;
  o["idle_cycles"] = c.idle_cycles;
  o["run_seconds"] = c.run_seconds;
  if (scheduled) {
    o["slices"] = c.slices;
    o["processor"] = c.processor;
  }
  o["host_tid"] = c.host_tid;
  return o;
}

}  // namespace

VmRunStats collect_run_stats(Vm& vm, double seconds) {
  VmRunStats s;
  s.instructions = vm.instructions();
  s.seconds = seconds;
  s.exceptions = vm.cpu().stat_exceptions;
  s.tlb_refills = vm.cpu().stat_tlb_refills;
  s.engine = vm.spec().engine;
  for (unsigned k = 0; k < vm.vcpus(); ++k) {
    s.vcpus.push_back(vcpu_stats(vm, k));
    s.vcpu_numa.push_back(vm.numa_counts(k));
  }
  s.numa_params = vm.memory_model().params();
  s.numa = vm.numa_counts();
  if (const jit::Jit* j = vm.jit()) {
    s.has_jit = true;
    s.jit = j->stats();
    for (uint64_t n : j->fallbacks().by_op) s.jit_fallbacks += n;
    s.top_fallbacks = j->top_fallbacks(12);
  }
  return s;
}

std::string stats_text(const VmRunStats& s) {
  const double n = static_cast<double>(s.instructions);
  std::string out = format(
      "disco: %.0f instructions in %.3f s = %.1f M instructions/s (exceptions %llu, TLB refills %llu)\n", n,
      s.seconds, s.seconds > 0 ? n / s.seconds / 1e6 : 0.0, ull(s.exceptions), ull(s.tlb_refills));
  if (s.vcpus.size() > 1)
    for (const VcpuStats& c : s.vcpus)
      out += format("disco: vCPU %u: %llu instructions, %.3f s in guest, %llu idle cycles, host thread %ld\n",
                    c.index, ull(c.instructions), c.run_seconds, ull(c.idle_cycles), c.host_tid);
  if (s.numa_params.model) out += numa_text("VM", s.numa, s.numa_params);
  if (!s.has_jit) return out;
  const jit::JitStats& j = s.jit;
  const double total = static_cast<double>(j.guest_insns_in_blocks + j.interp_steps);
  out += format("JIT: %llu blocks compiled (%llu self loops, %llu KiB code), %llu dispatched, %llu invalidated, "
                "%llu flushes, %llu chains\n",
                ull(j.blocks_compiled), ull(j.loops_compiled), ull(j.code_bytes >> 10), ull(j.blocks_executed),
                ull(j.invalidations), ull(j.flushes), ull(j.chains_linked));
  out += format("JIT: %.1f%% of instructions ran in blocks, %.1f%% of those through interpreter handlers, "
                "%llu interpreter steps\n",
                total > 0 ? 100.0 * static_cast<double>(j.guest_insns_in_blocks) / total : 0.0,
                j.guest_insns_in_blocks
                    ? 100.0 * static_cast<double>(s.jit_fallbacks) / static_cast<double>(j.guest_insns_in_blocks)
                    : 0.0,
                ull(j.interp_steps));
  out += format("JIT: exits to the dispatcher: %llu on events, %llu through exit slots, %llu other\n",
                ull(j.exits_event), ull(j.exits_slot), ull(j.exits_lookup));
  out += "JIT: top fallbacks:";
  for (const auto& [name, count] : s.top_fallbacks) out += " " + name + " " + std::to_string(count);
  return out + "\n";
}

std::string stats_json(const VmRunStats& s) {
  Json o;
  o["instructions"] = s.instructions;
  o["seconds"] = s.seconds;
  o["exceptions"] = s.exceptions;
  o["tlb_refills"] = s.tlb_refills;
  o["engine"] = engine_name(s.engine);
  if (s.has_jit) {
    const jit::JitStats& j = s.jit;
    Json jo;
    jo["blocks_compiled"] = j.blocks_compiled;
    jo["loops_compiled"] = j.loops_compiled;
    jo["code_bytes"] = j.code_bytes;
    jo["blocks_executed"] = j.blocks_executed;
    jo["guest_insns_in_blocks"] = j.guest_insns_in_blocks;
    jo["interp_steps"] = j.interp_steps;
    jo["fallbacks"] = s.jit_fallbacks;
    jo["invalidations"] = j.invalidations;
    jo["flushes"] = j.flushes;
    jo["chains_linked"] = j.chains_linked;
    jo["exits_event"] = j.exits_event;
    jo["exits_slot"] = j.exits_slot;
    jo["exits_lookup"] = j.exits_lookup;
    Json top = Json::object();
    for (const auto& [name, count] : s.top_fallbacks) top[name] = count;
    jo["top_fallbacks"] = top;
    o["jit"] = jo;
  }
  Json vcpus = Json::array();
  for (size_t k = 0; k < s.vcpus.size(); ++k) {
    Json c = vcpu_json(s.vcpus[k], false);
    if (k < s.vcpu_numa.size() && s.numa_params.model) c["numa"] = numa_json(s.vcpu_numa[k], s.numa_params);
    vcpus.push_back(std::move(c));
  }
  o["vcpus"] = std::move(vcpus);
  if (s.numa_params.model) {
    Json n = numa_json(s.numa, s.numa_params);
    n["params"] = numa_params_json(s.numa_params);
    o["numa"] = std::move(n);
  }
  return o.dump();
}

std::string stats_json(const MachineStats& s) {
  Json vms = Json::array();
  for (const VmStats& v : s.vms) {
    Json o;
    o["name"] = v.name;
    o["home_node"] = v.home_node;
    o["mem_bytes"] = v.mem_bytes;
    o["state"] = vm_exit_name(v.state);
    o["instructions"] = v.instructions;
    o["guest_pages_touched"] = v.memory.touched;
    o["machine_pages"] = v.memory.private_pages;
    o["shared_pages"] = v.memory.shared;
    o["zero_pages"] = v.memory.zero;
    o["remote_pages"] = v.memory.remote;
    o["cow_breaks"] = v.memory.cow_breaks;
    o["patched_pages"] = v.memory.patched;
    o["patch_bytes"] = v.memory.patch_bytes;
    o["patch_faults"] = v.memory.patch_faults;
    o["pages_scanned"] = v.pages_scanned;
    o["idle_cycles"] = v.idle_cycles;
    o["run_seconds"] = v.run_seconds;
    Json vcpus = Json::array();
    for (const VcpuStats& c : v.vcpus) vcpus.push_back(vcpu_json(c, true));
    o["vcpus"] = std::move(vcpus);
    if (s.numa_params.model) {
      o["numa"] = numa_json(v.numa, s.numa_params);
      if (v.marked) o["numa_since_mark"] = numa_json(v.numa - v.numa_at_mark, s.numa_params);
    }
    vms.push_back(std::move(o));
  }
  Json m;
  m["nodes"] = s.nodes;
  m["cpus_per_node"] = s.cpus_per_node;
  m["mem_per_node_bytes"] = s.mem_per_node_bytes;
  m["local_latency_ns"] = s.local_latency_ns;
  m["remote_latency_ns"] = s.remote_latency_ns;
  m["page_bytes"] = s.page_bytes;
  m["machine_pages_total"] = s.machine_pages_total;
  m["machine_pages_used"] = s.machine_pages_used;
  m["patch_bytes"] = s.patch_bytes;
  m["machine_bytes_used"] = s.machine_bytes_used;
  m["node_pages_used"] = s.node_pages_used;
  m["guest_pages_touched"] = s.guest_pages_touched;
  m["shared_pages"] = s.shared_pages;
  m["zero_page_mappings"] = s.zero_page_mappings;
  m["image_pages"] = s.image_pages;
  m["image_cache_hits"] = s.image_cache_hits;
  m["cow_breaks"] = s.cow_breaks;
  m["patched_pages"] = s.patched_pages;
  m["patch_faults"] = s.patch_faults;
  m["pages_scanned"] = s.pages_scanned;
  m["merges"] = s.merges;
  m["zero_merges"] = s.zero_merges;
  m["scan_passes"] = s.scan_passes;
  m["host_rss_bytes"] = s.host_rss_bytes;
  m["host_threads"] = s.host_threads;
  Json procs = Json::array();
  for (const ProcessorStats& p : s.processors) {
    Json o;
    o["index"] = p.index;
    o["node"] = p.node;
    o["host_tid"] = p.host_tid;
    o["slices"] = p.slices;
    o["busy_seconds"] = p.busy_seconds;
    procs.push_back(std::move(o));
  }
  m["processors"] = std::move(procs);
  Json out;
  out["machine"] = std::move(m);
  if (s.numa_params.model) {
    Json n = numa_json(s.numa, s.numa_params);
    n["params"] = numa_params_json(s.numa_params);
    Json pol;
    pol["hot_pages"] = s.policy.hot_pages;
    pol["write_shared"] = s.policy.write_shared;
    pol["skipped_frozen"] = s.policy.skipped_frozen;
    pol["skipped_budget"] = s.policy.skipped_budget;
    pol["skipped_node_full"] = s.policy.skipped_node_full;
    pol["cost_seconds"] = s.policy.cost_us * 1e-6;
    n["policy"] = std::move(pol);
    n["replica_pages"] = s.replica_pages;
    n["node_pages_used"] = s.node_pages_used;
    out["numa"] = std::move(n);
  }
  out["vms"] = std::move(vms);
  return out.dump();
}

std::string stats_text(const MachineStats& s) {
  const uint64_t page = s.page_bytes;
  std::string out;
  for (const VmStats& v : s.vms) {
    out += format("disco: %-10s %-13s touched %8.1f MiB  private %8.1f MiB  shared %8.1f MiB  patched %8.1f MiB  "
                  "cow breaks %llu\n",
                  v.name.c_str(), vm_exit_name(v.state), mib_of_pages(v.memory.touched, page),
                  mib_of_pages(v.memory.private_pages, page), mib_of_pages(v.memory.shared, page),
                  mib_of_pages(v.memory.patched, page), ull(v.memory.cow_breaks));
    for (const VcpuStats& c : v.vcpus) {
      if (!c.started) {
        out += format("disco: %-10s vCPU %u: held in reset\n", v.name.c_str(), c.index);
        continue;
      }
      out += format("disco: %-10s vCPU %u: %llu instructions, %.3f s in guest, %llu idle cycles, %llu slices, "
                    "last on processor %d (host thread %ld)\n",
                    v.name.c_str(), c.index, ull(c.instructions), c.run_seconds, ull(c.idle_cycles), ull(c.slices),
                    c.processor, c.host_tid);
    }
  }
  // Machine memory in use: the pools' pages and the patches' host memory.
  const double used_mib = static_cast<double>(s.machine_bytes_used) / (1 << 20);
  const double touched_mib = mib_of_pages(s.guest_pages_touched, page);
  out += format("disco: machine: guest memory in use %.1f MiB, machine memory used %.1f MiB (%.0f%%), "
                "%llu shared pages, host RSS %.1f MiB\n",
                touched_mib, used_mib, s.guest_pages_touched ? 100.0 * used_mib / touched_mib : 0.0,
                ull(s.shared_pages), static_cast<double>(s.host_rss_bytes) / (1 << 20));
  for (const ProcessorStats& p : s.processors)
    out += format("disco: processor %u (node %u): host thread %ld, %llu slices, %.2f s busy\n", p.index, p.node,
                  p.host_tid, ull(p.slices), p.busy_seconds);
  if (s.numa_params.model) {
    for (const VmStats& v : s.vms) out += numa_text(v.name.c_str(), v.numa, s.numa_params);
    out += numa_text("machine", s.numa, s.numa_params);
  }
  return out;
}

}  // namespace disco
