#include "monitor/machine.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

namespace disco {

namespace {

std::vector<uint64_t> node_sizes(const MachineSpec& s) { return std::vector<uint64_t>(s.nodes, s.mem_per_node); }

std::string json_string(const std::string& v) {
  std::string out = "\"";
  for (char ch : v) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (static_cast<unsigned char>(ch) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", ch);
      out += b;
      continue;
    }
    out += ch;
  }
  return out + "\"";
}

// Accumulates "key": value pairs into one JSON object.
class JsonObject {
 public:
  JsonObject& num(const char* key, uint64_t v) { return raw(key, std::to_string(v)); }
  JsonObject& str(const char* key, const std::string& v) { return raw(key, json_string(v)); }
  JsonObject& raw(const char* key, const std::string& v) {
    body_ += (body_.empty() ? "" : ", ") + json_string(key) + ": " + v;
    return *this;
  }
  std::string done() const { return "{" + body_ + "}"; }

 private:
  std::string body_;
};

}  // namespace

uint64_t host_rss_bytes() {
  std::ifstream f("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  if (!(f >> size >> resident)) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

const char* vm_exit_name(VmExit e) {
  switch (e) {
    case VmExit::Running: return "running";
    case VmExit::PowerOff: return "powered-off";
    case VmExit::Reboot: return "rebooted";
    case VmExit::Halted: return "halted";
    case VmExit::Timeout: return "timeout";
    case VmExit::InsnLimit: return "instruction-limit";
    case VmExit::Stopped: return "stopped";
    case VmExit::Diverged: return "diverged";
    case VmExit::OutOfMemory: return "out-of-memory";
    case VmExit::Breakpoint: return "breakpoint";
  }
  return "?";
}

Machine::Machine(const MachineSpec& spec)
    : spec_(spec),
      mm_(std::make_unique<MachineMemory>(node_sizes(spec))),
      images_(std::make_unique<BootImageCache>(*mm_)),
      sharing_(*mm_) {
  sharing_.set_patching(spec_.patching);
}

Machine::~Machine() {
  vms_.clear();  // before the pools and images they map
}

bool Machine::add_vm(const VmConfig& cfg, const BootSpec& boot, std::string& error) {
  const size_t i = vms_.size();
  if (i >= spec_.vms.size()) {
    error = "more VMs than the machine description lists";
    return false;
  }
  const VmSpec& vs = spec_.vms[i];
  VmPlacement where;
  where.memory = mm_.get();
  where.id = static_cast<uint32_t>(i);
  where.home_node = vs.home_node < 0 ? 0 : static_cast<unsigned>(vs.home_node);
  where.images = spec_.sharing ? images_.get() : nullptr;
  if (vs.vcpus != 1) {
    error = vs.name + ": vcpus = " + std::to_string(vs.vcpus) +
            ": SMP guests are not supported yet (one vCPU per VM)";
    return false;
  }
  VmConfig c = cfg;
  c.mem_bytes = vs.mem_bytes;
  try {
    vms_.push_back(std::make_unique<Vm>(c, where));
  } catch (const std::exception& e) {
    error = vs.name + ": " + e.what();
    return false;
  }
  exits_.push_back(VmExit::Running);
  if (!vms_.back()->boot(boot, error)) {
    error = vs.name + ": " + error;
    vms_.pop_back();
    exits_.pop_back();
    return false;
  }
  if (spec_.sharing) sharing_.add(&vms_.back()->memory());
  return true;
}

Machine::End Machine::run(const RunLimits& lim) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  auto last_scan = start;
  for (;;) {
    bool ran = false, any_left = false;
    uint64_t sleep_ns = 50'000'000;
    for (size_t i = 0; i < vms_.size(); ++i) {
      if (exits_[i] != VmExit::Running) continue;
      any_left = true;
      Vm& v = *vms_[i];
      if (v.idle()) {
        if (lim.poll_input) lim.poll_input(i, v);
        const uint64_t ns = v.wake_in_ns();
        if (ns > 0) {
          sleep_ns = std::min(sleep_ns, ns);
          continue;
        }
      }
      Vm::Limits l;
      l.slice_cycles = lim.slice_cycles;
      l.yield_when_idle = true;
      l.should_stop = lim.should_stop;
      if (lim.poll_input) l.poll_input = [&lim, i](Vm& m) { lim.poll_input(i, m); };
      const VmExit r = lim.run_vm ? lim.run_vm(i, v, l) : v.run(l);
      ran = true;
      if (r == VmExit::Stopped) return End::Stopped;
      if (r != VmExit::Running) {
        exits_[i] = r;
        if (spec_.sharing) sharing_.remove(&v.memory());
        if (lim.on_exit) lim.on_exit(i, r);
      }
    }
    if (!any_left) return End::AllStopped;
    auto now = clock::now();
    if (spec_.sharing) {
      // The budget comes from the time since the last scan ended, so the
      // scan's own time earns it nothing: a host that hashes slower than
      // scan_rate still gives the VMs their share (no runaway). At most
      // 100 ms' worth at once.
      const double dt = std::min(0.1, std::chrono::duration<double>(now - last_scan).count());
      const uint64_t budget = static_cast<uint64_t>(dt * static_cast<double>(spec_.scan_pages_per_sec));
      if (budget > 0) {
        sharing_.scan(budget);
        images_->trim();
        now = clock::now();
        last_scan = now;
      }
    }
    if (lim.should_stop && lim.should_stop()) return End::Stopped;
    if (lim.timeout_seconds > 0 && std::chrono::duration<double>(now - start).count() > lim.timeout_seconds)
      return End::Timeout;
    if (!ran) {
      // Every VM idles: sleep until the first timer (or console input).
      if (lim.wait_input) lim.wait_input(sleep_ns);
      else std::this_thread::sleep_for(std::chrono::nanoseconds(sleep_ns));
    }
  }
}

void Machine::settle_sharing(unsigned max_passes) {
  if (!spec_.sharing) return;
  images_->trim();
  const uint64_t start = sharing_.stats().passes;
  while (sharing_.stats().passes < start + max_passes) {
    const uint64_t before = sharing_.stats().passes;
    // The guests do not run here: no new access epochs.
    while (sharing_.stats().passes == before) sharing_.scan(1 << 16, false);
    if (sharing_.stats().passes > start + 1 && sharing_.stats().merges_last_pass == 0) break;
  }
}

std::string Machine::stats_json() {
  uint64_t touched = 0, cow = 0, patched = 0, faults = 0;
  std::string vms = "[";
  for (size_t i = 0; i < vms_.size(); ++i) {
    const GuestMemory::Stats s = vms_[i]->memory().stats();
    touched += s.touched;
    cow += s.cow_breaks;
    patched += s.patched;
    faults += s.patch_faults;
    JsonObject o;
    o.str("name", spec_.vms[i].name)
        .num("home_node", vms_[i]->memory().home_node())
        .num("mem_bytes", vms_[i]->mem_bytes())
        .str("state", vm_exit_name(exits_[i]))
        .num("instructions", vms_[i]->instructions())
        .num("guest_pages_touched", s.touched)
        .num("machine_pages", s.private_pages)
        .num("shared_pages", s.shared)
        .num("zero_pages", s.zero)
        .num("remote_pages", s.remote)
        .num("cow_breaks", s.cow_breaks)
        .num("patched_pages", s.patched)
        .num("patch_bytes", s.patch_bytes)
        .num("patch_faults", s.patch_faults)
        .num("pages_scanned", sharing_.scanned_of(static_cast<uint32_t>(i)));
    vms += (i ? ", " : "") + o.done();
  }
  vms += "]";
  std::string nodes = "[";
  for (unsigned n = 0; n < mm_->nodes(); ++n) nodes += (n ? ", " : "") + std::to_string(mm_->used_pages_on(n));
  nodes += "]";
  const PageSharing::Stats& sh = sharing_.stats();
  JsonObject m;
  m.num("nodes", spec_.nodes)
      .num("cpus_per_node", spec_.cpus_per_node)
      .num("mem_per_node_bytes", spec_.mem_per_node)
      .num("local_latency_ns", spec_.local_latency_ns)
      .num("remote_latency_ns", spec_.remote_latency_ns)
      .num("page_bytes", kPageSize)
      .num("machine_pages_total", mm_->total_pages())
      .num("machine_pages_used", mm_->used_pages())
      .num("patch_bytes", mm_->patch_bytes())
      .num("machine_bytes_used", mm_->used_pages() * kPageSize + mm_->patch_bytes())
      .raw("node_pages_used", nodes)
      .num("guest_pages_touched", touched)
      .num("shared_pages", mm_->shared_pages())
      .num("zero_page_mappings", mm_->zero_page_refs())
      .num("image_pages", images_->pinned_pages())
      .num("image_cache_hits", images_->hits())
      .num("cow_breaks", cow)
      .num("patched_pages", patched)
      .num("patch_faults", faults)
      .num("pages_scanned", sh.pages_scanned)
      .num("merges", sh.merges)
      .num("zero_merges", sh.zero_merges)
      .num("scan_passes", sh.passes)
      .num("host_rss_bytes", host_rss_bytes());
  return "{\"machine\": " + m.done() + ", \"vms\": " + vms + "}";
}

std::string Machine::stats_text() {
  auto mib = [](uint64_t pages) { return static_cast<double>(pages * kPageSize) / (1 << 20); };
  std::string out;
  char line[256];
  uint64_t touched = 0;
  // Machine memory in use: the pools' pages and the patches' host memory.
  const double used_mib =
      static_cast<double>(mm_->used_pages() * kPageSize + mm_->patch_bytes()) / (1 << 20);
  for (size_t i = 0; i < vms_.size(); ++i) {
    const GuestMemory::Stats s = vms_[i]->memory().stats();
    touched += s.touched;
    std::snprintf(line, sizeof line,
                  "disco: %-10s %-13s touched %8.1f MiB  private %8.1f MiB  shared %8.1f MiB  patched %8.1f MiB  "
                "cow breaks %llu\n",
                  spec_.vms[i].name.c_str(), vm_exit_name(exits_[i]), mib(s.touched), mib(s.private_pages),
                  mib(s.shared), mib(s.patched), static_cast<unsigned long long>(s.cow_breaks));
    out += line;
  }
  std::snprintf(line, sizeof line,
                "disco: machine: guest memory in use %.1f MiB, machine memory used %.1f MiB (%.0f%%), "
                "%llu shared pages, host RSS %.1f MiB\n",
                mib(touched), used_mib,
                touched ? 100.0 * used_mib / mib(touched) : 0.0,
                static_cast<unsigned long long>(mm_->shared_pages()),
                static_cast<double>(host_rss_bytes()) / (1 << 20));
  return out + line;
}

}  // namespace disco
