#include "cli/machine_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <string_view>

#include <toml++/toml.h>

#include "cli/numa_words.h"
#include "monitor/numa_check.h"
#include "monitor/vm.h"

namespace disco {

namespace {

constexpr uint64_t kMaxFileBytes = 1ull << 20;   // a machine description is a few dozen lines
constexpr int64_t kMaxCount = 1024;              // copies per [[vm]] table

const char* type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

// The whole file, or an error naming it. Refuses directories and oversized files.
bool read_text(const std::string& path, std::string& text, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": cannot read the machine description: " + std::strerror(errno);
    return false;
  }
  struct stat st;
  bool ok = ::fstat(fd, &st) == 0;
  if (!ok) {
    error = path + ": cannot read the machine description: " + std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    error = path + ": cannot read the machine description: not a regular file";
    ok = false;
  }
  char buf[65536];
  while (ok) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      error = path + ": cannot read the machine description: " + std::strerror(errno);
      ok = false;
    } else if (text.size() + static_cast<size_t>(n) > kMaxFileBytes) {
      error = path + ": too large for a machine description (over " + mib_text(kMaxFileBytes) + ")";
      ok = false;
    } else {
      text.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return ok;
}

// Typed access to the parsed document; every error is "file:line: field: message".
class Reader {
 public:
  Reader(const std::string& file, std::string& error) : file_(file), error_(error) {}

  bool fail(const toml::source_region& where, const std::string& field, const std::string& msg) {
    error_ = this->where(where, field) + ": " + msg;
    return false;
  }

  // "file:line: field", as errors start.
  std::string where(const toml::source_region& where, const std::string& field) const {
    std::string s = file_;
    if (where.begin.line) s += ":" + std::to_string(where.begin.line);
    return s + ": " + field;
  }

  // Typos must not pass silently: every key of `t` must be one of `known`.
  bool only_keys(const toml::table& t, const std::string& at, std::initializer_list<std::string_view> known) {
    for (auto&& [key, node] : t) {
      if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      const auto& where = key.source().begin.line ? key.source() : node.source();
      const std::string name = (at.empty() ? "" : at + ".") + std::string(key.str());
      return fail(where, name, "unknown key (expected one of: " + list + ")");
    }
    return true;
  }

  bool integer(const toml::table& t, const std::string& at, std::string_view key, int64_t lo, int64_t hi,
               int64_t& out) {
    const toml::node* n = t.get(key);
    if (!n) return true;
    const std::string field = at + "." + std::string(key);
    const auto* v = n->as_integer();
    if (!v) return fail(n->source(), field, std::string("expected an integer, got ") + type_name(n->type()));
    if (v->get() < lo || v->get() > hi)
      return fail(n->source(), field,
                  std::to_string(v->get()) + " is out of range (" + std::to_string(lo) + " .. " +
                      std::to_string(hi) + ")");
    out = v->get();
    return true;
  }

  bool integer(const toml::table& t, const std::string& at, std::string_view key, int64_t lo, int64_t hi,
               unsigned& out) {
    int64_t v = out;
    if (!integer(t, at, key, lo, hi, v)) return false;
    out = static_cast<unsigned>(v);
    return true;
  }

  bool boolean(const toml::table& t, const std::string& at, std::string_view key, bool& out) {
    const toml::node* n = t.get(key);
    if (!n) return true;
    const std::string field = at + "." + std::string(key);
    const auto* v = n->as_boolean();
    if (!v) return fail(n->source(), field, std::string("expected a boolean, got ") + type_name(n->type()));
    out = v->get();
    return true;
  }

  bool string(const toml::table& t, const std::string& at, std::string_view key, std::string& out) {
    const toml::node* n = t.get(key);
    if (!n) return true;
    const std::string field = at + "." + std::string(key);
    const auto* v = n->as_string();
    if (!v) return fail(n->source(), field, std::string("expected a string, got ") + type_name(n->type()));
    out = v->get();
    return true;
  }

  // An integer or a floating-point number.
  bool number(const toml::table& t, const std::string& at, std::string_view key, double& out) {
    const toml::node* n = t.get(key);
    if (!n) return true;
    const std::string field = at + "." + std::string(key);
    if (const auto* v = n->as_integer()) out = static_cast<double>(v->get());
    else if (const auto* f = n->as_floating_point()) out = f->get();
    else return fail(n->source(), field, std::string("expected a number, got ") + type_name(n->type()));
    return true;
  }

  // A string, one of `words` ("a, b, c"); `parse` takes it or refuses it.
  template <typename Parse>
  bool word(const toml::table& t, const std::string& at, std::string_view key, const char* words, Parse parse) {
    std::string w;
    if (!string(t, at, key, w)) return false;
    if (!t.get(key) || parse(std::string_view(w))) return true;
    return fail(t.get(key)->source(), at + "." + std::string(key),
                std::string("expected one of ") + words + ", got \"" + w + "\"");
  }

  // A size string ("512M", "1G", "65536K", "512MiB") or an integer number of bytes.
  bool size(const toml::table& t, const std::string& at, std::string_view key, uint64_t& out) {
    const toml::node* n = t.get(key);
    if (!n) return true;
    const std::string field = at + "." + std::string(key);
    if (const auto* v = n->as_integer()) {
      if (v->get() < 0) return fail(n->source(), field, "a size cannot be negative");
      out = static_cast<uint64_t>(v->get());
      return true;
    }
    const auto* s = n->as_string();
    if (!s)
      return fail(n->source(), field,
                  std::string("expected a size such as \"512M\" or a number of bytes, got ") +
                      type_name(n->type()));
    if (!parse_size(s->get(), out))
      return fail(n->source(), field, "expected a size such as \"512M\", got \"" + s->get() + "\"");
    return true;
  }

  // The table under `key` at the top level, or null when absent.
  bool table(const toml::table& root, std::string_view key, const toml::table*& out) {
    out = nullptr;
    const toml::node* n = root.get(key);
    if (!n) return true;
    out = n->as_table();
    if (!out)
      return fail(n->source(), std::string(key),
                  std::string("expected a table [") + std::string(key) + "], got " + type_name(n->type()));
    return true;
  }

 private:
  const std::string& file_;
  std::string& error_;
};

// `p` as given when absolute or empty, else relative to `dir`.
std::string resolve(const std::filesystem::path& dir, const std::string& p) {
  if (p.empty() || dir.empty() || p[0] == '/') return p;
  return (dir / p).string();
}

bool load_vm(Reader& r, const toml::node& node, size_t index, const std::filesystem::path& dir,
             std::vector<VmSpec>& vms) {
  const std::string at = "vm[" + std::to_string(index) + "]";
  const toml::table* t = node.as_table();
  if (!t) return r.fail(node.source(), at, std::string("expected a table, got ") + type_name(node.type()));
  if (!r.only_keys(*t, at, {"name", "kernel", "initrd", "append", "mem", "vcpus", "home_node", "count"}))
    return false;
  VmSpec vm;
  int64_t count = 1;
  bool named = false;
  if (const toml::node* n = t->get("name")) {
    if (!r.string(*t, at, "name", vm.name)) return false;
    if (!valid_vm_name(vm.name))
      return r.fail(n->source(), at + ".name",
                    "\"" + vm.name + "\" is not a valid name (use letters, digits, '_' and '-')");
    named = true;
  }
  if (!r.string(*t, at, "kernel", vm.kernel)) return false;
  if (!r.string(*t, at, "initrd", vm.initrd)) return false;
  if (!r.string(*t, at, "append", vm.append)) return false;
  if (!r.size(*t, at, "mem", vm.mem_bytes)) return false;
  if (const std::string why = mem_size_problem(vm.mem_bytes); !why.empty())
    return r.fail(t->get("mem")->source(), at + ".mem", why);
  if (!r.integer(*t, at, "vcpus", 1, kMaxVcpus, vm.vcpus)) return false;
  int64_t home = -1;
  if (!r.integer(*t, at, "home_node", -1, kMaxNodes - 1, home)) return false;
  vm.home_node = static_cast<int>(home);
  if (!r.integer(*t, at, "count", 1, kMaxCount, count)) return false;
  if (vm.kernel.empty() && !vm.initrd.empty())
    return r.fail(t->get("initrd")->source(), at + ".initrd",
                  "an initrd needs a kernel (the default image brings its own)");
  vm.kernel = resolve(dir, vm.kernel);
  vm.initrd = resolve(dir, vm.initrd);
  for (int64_t k = 0; k < count; ++k) {
    vms.push_back(vm);
    if (named && count > 1) vms.back().name += std::to_string(k);
  }
  return true;
}

// The memory latencies, which [machine] and [numa] both take (once).
constexpr std::string_view kLatencyKeys[] = {"local_latency_ns", "remote_latency_ns"};

// Notes where each [numa] value in `t` (the table `at`) was given, for the
// errors of checks made later (MachineSpec::numa_origin).
void note_origins(const Reader& r, const toml::table& t, const std::string& at, MachineSpec& spec) {
  for (auto&& [key, node] : t) {
    const std::string k(key.str());
    if (at == "numa" || std::find(std::begin(kLatencyKeys), std::end(kLatencyKeys), k) != std::end(kLatencyKeys))
      spec.numa_origin[k] = r.where(node.source(), at + "." + k);
  }
}

// [numa]: the memory-system model and the policy (NumaParams). `machine` is
// the [machine] table, if any, for the latencies given in both.
bool load_numa(Reader& r, const toml::table& t, const toml::table* machine, MachineSpec& spec) {
  const std::string at = "numa";
  if (!r.only_keys(t, at,
                   {"model", "policy", "placement", "sample_rate", "cache_size", "cache_ways", "local_latency_ns",
                    "remote_latency_ns", "insn_ns", "trigger", "reset_interval_ms", "sharing_ratio", "max_moves",
                    "replication_budget", "migrate_us", "replicate_us", "collapse_us", "hot_page_us"}))
    return false;
  for (std::string_view k : kLatencyKeys) {
    const toml::node* here = t.get(k);
    const toml::node* there = machine ? machine->get(k) : nullptr;
    if (here && there)
      return r.fail(here->source(), at + "." + std::string(k),
                    "also given on line " + std::to_string(there->source().begin.line) + " (machine." +
                        std::string(k) + "); give it once");
  }
  NumaParams& p = spec.numa;
  if (!r.boolean(t, at, "model", p.model)) return false;
  if (!r.word(t, at, "policy", kPolicyWords, [&](std::string_view w) { return policy_from_word(w, p.policy); }))
    return false;
  if (!r.word(t, at, "placement", kPlacementWords,
              [&](std::string_view w) { return placement_from_word(w, p.placement); }))
    return false;
  // Integers get their ranges here; powers of two, the cache's shape and the
  // numbers are numa_value_problem()'s.
  if (!r.integer(t, at, "sample_rate", 1, kMaxSampleRate, p.sample_rate)) return false;
  if (!r.size(t, at, "cache_size", p.cache_bytes)) return false;
  if (!r.integer(t, at, "cache_ways", 1, kMaxCacheWays, p.cache_ways)) return false;
  if (!r.integer(t, at, "local_latency_ns", 1, UINT32_MAX, p.local_latency_ns)) return false;
  if (!r.integer(t, at, "remote_latency_ns", 1, UINT32_MAX, p.remote_latency_ns)) return false;
  if (!r.number(t, at, "insn_ns", p.insn_ns)) return false;
  if (!r.integer(t, at, "trigger", 1, UINT32_MAX, p.trigger)) return false;
  if (!r.number(t, at, "reset_interval_ms", p.reset_interval_ms)) return false;
  if (!r.number(t, at, "sharing_ratio", p.sharing_ratio)) return false;
  if (!r.integer(t, at, "max_moves", 1, UINT32_MAX, p.max_moves)) return false;
  if (!r.size(t, at, "replication_budget", p.replication_budget)) return false;
  if (!r.number(t, at, "migrate_us", p.migrate_us)) return false;
  if (!r.number(t, at, "replicate_us", p.replicate_us)) return false;
  if (!r.number(t, at, "collapse_us", p.collapse_us)) return false;
  if (!r.number(t, at, "hot_page_us", p.hot_page_us)) return false;
  return true;
}

}  // namespace

bool load_machine_toml(const std::string& path, MachineSpec& out, std::string& error) {
  std::string text;
  if (!read_text(path, text, error)) return false;
  toml::table root;
  try {
    root = toml::parse(std::string_view(text), std::string_view(path));
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    error = path;
    if (at.line) error += ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
    error += ": " + std::string(e.description());
    return false;
  } catch (const std::exception& e) {
    error = path + ": " + e.what();
    return false;
  }

  Reader r(path, error);
  if (!r.only_keys(root, "", {"machine", "sharing", "numa", "vm"})) return false;
  MachineSpec spec;
  const toml::table* t = nullptr;
  if (!r.table(root, "machine", t)) return false;
  const toml::table* machine = t;
  if (t) {
    if (!r.only_keys(*t, "machine",
                     {"nodes", "cpus_per_node", "mem_per_node", "local_latency_ns", "remote_latency_ns",
                      "overcommit"}))
      return false;
    if (!r.integer(*t, "machine", "nodes", 0, kMaxNodes, spec.nodes)) return false;
    if (!r.integer(*t, "machine", "cpus_per_node", 0, UINT32_MAX, spec.cpus_per_node)) return false;
    if (!r.size(*t, "machine", "mem_per_node", spec.mem_per_node)) return false;
    if (!r.integer(*t, "machine", "local_latency_ns", 1, UINT32_MAX, spec.numa.local_latency_ns)) return false;
    if (!r.integer(*t, "machine", "remote_latency_ns", 1, UINT32_MAX, spec.numa.remote_latency_ns)) return false;
    if (!r.boolean(*t, "machine", "overcommit", spec.overcommit)) return false;
    note_origins(r, *t, "machine", spec);
  }
  if (!r.table(root, "sharing", t)) return false;
  if (t) {
    if (!r.only_keys(*t, "sharing", {"enabled", "scan_rate", "patching"})) return false;
    if (!r.boolean(*t, "sharing", "enabled", spec.sharing)) return false;
    if (!r.boolean(*t, "sharing", "patching", spec.patching)) return false;
    int64_t rate = static_cast<int64_t>(spec.scan_pages_per_sec);
    if (!r.integer(*t, "sharing", "scan_rate", 0, INT64_MAX, rate)) return false;
    spec.scan_pages_per_sec = static_cast<uint64_t>(rate);
  }
  if (!r.table(root, "numa", t)) return false;
  if (t) {
    if (!load_numa(r, *t, machine, spec)) return false;
    note_origins(r, *t, "numa", spec);
  }
  // Each value alone, named where it was given. What needs the whole
  // machine (and the command line's say) is validate_machine()'s.
  if (const NumaProblem e = numa_value_problem(spec.numa)) {
    const auto it = spec.numa_origin.find(e.key);
    error = (it != spec.numa_origin.end() ? it->second : path + ": numa." + e.key) + ": " + e.message;
    return false;
  }
  if (const toml::node* n = root.get("vm")) {
    const toml::array* a = n->as_array();
    if (!a)
      return r.fail(n->source(), "vm", std::string("expected [[vm]] tables, got ") + type_name(n->type()));
    const std::filesystem::path dir = std::filesystem::path(path).parent_path();
    for (size_t i = 0; i < a->size(); ++i)
      if (!load_vm(r, *a->get(i), i, dir, spec.vms)) return false;
  }
  out = std::move(spec);
  return true;
}

}  // namespace disco
