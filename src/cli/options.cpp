#include "cli/options.h"

#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "cli/numa_words.h"
#include "monitor/numa_check.h"
#include "monitor/vm.h"

namespace disco {

namespace {

// Option groups of `disco run --help`, in the order they are shown.
constexpr const char* kGuest = "Guest";
constexpr const char* kEngine = "Engine";
constexpr const char* kTime = "Time and limits";
constexpr const char* kConsole = "Console";
constexpr const char* kMachine = "Several VMs on one machine (docs/machine-config.md)";
constexpr const char* kNuma = "Memory-system model and NUMA policy (docs/numa.md)";
constexpr const char* kStats = "Statistics";
constexpr const char* kDebug = "Debugging";

// "--stats[=text|json]" rather than "--stats [=text|json]" for an option
// whose value is optional (its type name starts with '['); no default
// values in the help (the descriptions say them).
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_option_opts(const CLI::Option* o) const override {
    const std::string t = o->get_type_name();
    if (t.empty() || o->get_type_size() == 0) return "";
    return t[0] == '[' ? t : " " + t;
  }
  // Flags that store a value ("--no-sharing{false}") without the value.
  std::string make_option_name(const CLI::Option* o, bool positional) const override {
    std::string n = CLI::Formatter::make_option_name(o, positional);
    for (size_t a; (a = n.find('{')) != std::string::npos;) n.erase(a, n.find('}', a) - a + 1);
    return n;
  }
};

CLI::Validator validator(std::function<std::string(std::string&)> f) {
  return CLI::Validator(std::move(f), "", "");
}

// A size such as 512M, 1G, 65536K or a byte count; replaced by the bytes.
CLI::Validator size_value() {
  return validator([](std::string& s) {
    uint64_t bytes;
    if (!parse_size(s, bytes)) return "expected a size such as 512M, got '" + s + "'";
    s = std::to_string(bytes);
    return std::string();
  });
}

// After size_value(): a size a VM may have.
CLI::Validator vm_mem_size() {
  return validator([](std::string& s) { return mem_size_problem(std::stoull(s)); });
}

CLI::Validator count(uint64_t lo, uint64_t hi) {
  return validator([lo, hi](std::string& s) {
    const bool digits = !s.empty() && s.size() <= 19 && s.find_first_not_of("0123456789") == std::string::npos;
    if (digits) {
      const uint64_t n = std::stoull(s);
      if (n >= lo && n <= hi) return std::string();
    }
    if (hi >= ~0ull >> 1) return "expected a count of " + std::to_string(lo) + " or more, got '" + s + "'";
    return "expected a count from " + std::to_string(lo) + " to " + std::to_string(hi) + ", got '" + s + "'";
  });
}

CLI::Validator seconds() {
  return validator([](std::string& s) {
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !(v >= 0)) return "expected a number of seconds, got '" + s + "'";
    return std::string();
  });
}

CLI::Validator one_of(std::initializer_list<const char*> words) {
  std::vector<std::string> w(words.begin(), words.end());
  return validator([w](std::string& s) {
    std::string list;
    for (const std::string& x : w) {
      if (s == x) return std::string();
      list += (list.empty() ? "" : " or ") + x;
    }
    return "must be " + list + ", got '" + s + "'";
  });
}

// The sampling rate of the memory-system model: a power of two, 1..32.
CLI::Validator sample_rate() {
  return validator([](std::string& s) {
    const bool digits = !s.empty() && s.size() <= 5 && s.find_first_not_of("0123456789") == std::string::npos;
    if (digits && is_power_of_two(std::stoull(s)) && std::stoull(s) <= kMaxSampleRate) return std::string();
    return "expected a power of two from 1 to " + std::to_string(kMaxSampleRate) + ", got '" + s + "'";
  });
}

CLI::Validator not_empty(const char* what) {
  return validator([what](std::string& s) { return s.empty() ? std::string("needs ") + what : std::string(); });
}

// --jit-disable alu,mem,...: applies the list to `classes`; "" if valid.
std::string jit_disable(const std::string& list, jit::JitClasses* classes) {
  size_t pos = 0;
  while (pos <= list.size()) {
    const size_t comma = list.find(',', pos);
    const std::string cls = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    jit::JitClasses dummy;
    jit::JitClasses& c = classes ? *classes : dummy;
    if (cls == "alu") c.alu = false;
    else if (cls == "mem") c.mem = false;
    else if (cls == "branch") c.branch = false;
    else if (cls == "loop") c.loop = false;
    else if (!cls.empty()) return "unknown class '" + cls + "' (alu, mem, branch, loop)";
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return "";
}

int usage_error(const std::string& msg, const char* help = "disco run --help") {
  std::fprintf(stderr, "disco: %s\n(see '%s')\n", msg.c_str(), help);
  return 2;
}

// Every option of `disco run`, bound to `o`. Returns the options that run
// the machine path when given.
std::vector<CLI::Option*> add_run_options(CLI::App& run, RunOptions& o) {
  run.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  std::vector<CLI::Option*> machine;
  VmSpec& vm = o.vm;

  run.add_option("--kernel", vm.kernel, "ELF64 MIPS kernel or bare-metal program to boot")
      ->group(kGuest)->type_name("PATH");
  run.add_option("--initrd", vm.initrd, "initramfs to hand to the kernel (needs --kernel)")
      ->group(kGuest)->type_name("PATH");
  run.add_option("--append", vm.append,
                 std::string("kernel command line, after '") + board::kBaseCmdline + "'")
      ->group(kGuest)->type_name("STR");
  run.add_option("--mem", vm.mem_bytes,
                 "guest RAM, e.g. 256M, 1G (default " + mib_text(board::kDefaultMem) + ")")
      ->group(kGuest)->type_name("SIZE")->transform(size_value())->check(vm_mem_size());
  run.add_option("--smp", vm.vcpus,
                 "virtual CPUs of the guest, 1.." + std::to_string(board::kMaxVcpus) + " (default 1); in a machine,\n"
                 "of every VM (a machine file's vcpus = N per VM)")
      ->group(kGuest)->type_name("N")->check(count(1, board::kMaxVcpus));
  run.add_flag("--fpu", vm.has_fpu, "give the CPU a hardware FPU (Config1.FP = 1)")->group(kGuest);
  run.add_flag("--big-endian", vm.big_endian, "big-endian guest (default little-endian)")->group(kGuest);

  run.add_option("--engine", vm.engine,
                 std::string("interp | jit (default ") + engine_name(VmSpec().engine) +
                     "; the interpreter where\nthe host has no JIT backend)")
      ->group(kEngine)->type_name("ENGINE")
      ->transform(validator([](std::string& s) {
        if (s == "interp") s = "0";
        else if (s == "jit") s = "1";
        else return "must be interp or jit, got '" + s + "'";
        return std::string();
      }));
  run.add_option_function<std::string>(
         "--jit-disable", [&vm](const std::string& list) { jit_disable(list, &vm.jit_classes); },
         "keep classes out of the JIT: alu,mem,branch,loop")
      ->group(kEngine)->type_name("LIST")
      ->check(validator([](std::string& s) { return jit_disable(s, nullptr); }));

  run.add_flag("--deterministic", vm.deterministic, "derive all time from executed instructions")->group(kTime);
  run.add_option("--timeout", o.timeout, "stop with exit 124 if the guest runs longer")
      ->group(kTime)->type_name("SECONDS")->check(seconds());
  run.add_option("--max-insns", o.max_insns, "stop after N guest instructions (exit 125)")
      ->group(kTime)->type_name("N")->check(count(1, ~0ull >> 1));
  run.add_option("--reboot", o.reboot, "what a guest reboot does (default exit)")
      ->group(kTime)->type_name("exit|restart")->check(one_of({"exit", "restart"}));

  run.add_option("--until", o.until,
                 "stop with exit 0 once a console line matches (ERE);\n"
                 "with several VMs, once every VM's console has\n(with --console NAME, that VM's)")
      ->group(kConsole)->type_name("REGEX");
  run.add_option("--input", o.input_file, "type FILE into the console, one line per shell prompt")
      ->group(kConsole)->type_name("FILE");
  machine.push_back(run.add_option("--console", o.console,
                                   "which VM's console is on the terminal (default:\n"
                                   "all, each line prefixed; input goes to the first)")
                        ->group(kConsole)->type_name("NAME|all|none")->check(not_empty("a VM name, all or none")));
  machine.push_back(run.add_option("--console-dir", o.console_dir,
                                   "per-VM console logs DIR/<name>.log (default:\n"
                                   "$XDG_RUNTIME_DIR/disco/consoles-<pid>, else\n"
                                   "/tmp/disco-<uid>/consoles-<pid>)")
                        ->group(kConsole)->type_name("DIR")->check(not_empty("a folder")));

  CLI::Option* config = run.add_option("--config", o.config, "machine description (TOML): nodes, memory, the VMs")
                            ->group(kMachine)->type_name("FILE")->check(not_empty("a file"));
  machine.push_back(config);
  machine.push_back(run.add_option("--vms", o.vms,
                                   "N copies of the guest given by --kernel/--initrd/--mem\n(default: the Debian image)")
                        ->group(kMachine)->type_name("N")->check(count(1, 4096)));
  machine.push_back(run.add_option("--nodes", o.machine.nodes, "NUMA nodes of the machine (default: sized to fit)")
                        ->group(kMachine)->type_name("N")->check(count(1, kMaxNodes)));
  machine.push_back(run.add_option("--cpus-per-node", o.machine.cpus_per_node, "processors per node")
                        ->group(kMachine)->type_name("N")->check(count(1, 4096)));
  machine.push_back(run.add_option("--mem-per-node", o.machine.mem_per_node, "memory per node")
                        ->group(kMachine)->type_name("SIZE")->transform(size_value())
                        ->check(validator([](std::string& s) {
                          return s == "0" ? std::string("needs a size such as 512M") : std::string();
                        })));
  machine.push_back(run.add_flag("--overcommit", o.machine.overcommit, "allow more VM memory than the machine has")
                        ->group(kMachine));
  machine.push_back(run.add_flag("--no-sharing{false}", o.machine.sharing, "no content-based page sharing")
                        ->group(kMachine));
  machine.push_back(run.add_flag("--no-patching{false}", o.machine.patching,
                                 "no sub-page sharing (cold pages stored as a patch\nagainst another VM's page)")
                        ->group(kMachine));
  machine.push_back(run.add_option("--scan-rate", o.scan_rate, "pages the sharing scan looks at per second")
                        ->group(kMachine)->type_name("N")->check(count(1, ~0ull >> 1)));
  machine.push_back(run.add_flag("--kaslr", o.kaslr,
                                 "keep Linux KASLR (by default the VMs of a machine boot\n"
                                 "with nokaslr, so their kernel text is identical)")
                        ->group(kMachine));

  // Not machine options: one VM has a memory system too (RunOptions::numa).
  NumaOptions& numa = o.numa_options;
  run.add_option_function<std::string>(
         "--numa-model", [&numa](const std::string& s) { numa.model = s == "on"; },
         "model the caches and memory latencies (default on)")
      ->group(kNuma)->type_name("on|off")->check(one_of({"on", "off"}));
  run.add_option_function<std::string>(
         "--numa-policy",
         [&numa](const std::string& s) {
           NumaPolicyKind k;
           if (policy_from_word(s, k)) numa.policy = k;
         },
         "what happens to hot pages: migrate them to the node\n"
         "that misses on them, replicate read-shared ones,\n"
         "both (default) or off")
      ->group(kNuma)->type_name("off|migrate|replicate|both")
      ->check(one_of({"off", "migrate", "replicate", "both"}));
  run.add_option_function<unsigned>(
         "--numa-sample", [&numa](unsigned n) { numa.sample_rate = n; },
         "model 1 in N cache lines, a power of two up to " + std::to_string(kMaxSampleRate) + "\n(default " +
             std::to_string(NumaParams().sample_rate) + ")")
      ->group(kNuma)->type_name("N")->check(sample_rate());
  run.add_option_function<std::string>(
         "--placement",
         [&numa](const std::string& s) {
           Placement p;
           if (placement_from_word(s, p)) numa.placement = p;
         },
         "where a VM's pages start: its home node (default) or\n"
         "round robin over the nodes")
      ->group(kNuma)->type_name("home|interleave")->check(one_of({"home", "interleave"}));

  run.add_option("--stats", o.stats,
                 "at exit: instructions and speed (one VM), memory\n"
                 "(a machine); as text (the default) or JSON")
      ->group(kStats)->type_name("[=text|json]")->expected(0, 1)
      ->check(validator([](std::string& s) {
        return s.empty() || s == "text" || s == "json" ? std::string()
                                                       : "must be --stats, --stats=text or --stats=json, got '" +
                                                             s + "'";
      }));
  machine.push_back(run.add_option("--stats-file", o.stats_file,
                                   "machine statistics as JSON in FILE, at exit and\non SIGUSR1")
                        ->group(kStats)->type_name("FILE")->check(not_empty("a file")));
  machine.push_back(run.add_option("--stats-mark", o.stats_mark,
                                   "when a VM's console prints TEXT, keep its NUMA\n"
                                   "counts: the statistics add numa_since_mark")
                        ->group(kStats)->type_name("TEXT")->check(not_empty("a text")));
  machine.push_back(run.add_flag("--settle", o.settle, "before the exit statistics, scan until sharing settles")
                        ->group(kStats));

  run.add_flag("--lockstep", o.lockstep,
               "run the interpreter alongside the JIT and stop at the\n"
               "first difference (exit 3; implies --deterministic)")
      ->group(kDebug);
  run.add_option("--trace-exceptions", o.trace_exceptions, "print the first N exceptions (code, EPC, BadVAddr)")
      ->group(kDebug)->type_name("N")->check(count(1, ~0ull >> 1));
  run.add_option("--trace-back", o.trace_back,
                 "instructions shown before the pc in code dumps\n"
                 "(default 4); also dumps the CPU at --max-insns")
      ->group(kDebug)->type_name("N")->check(count(0, 4096));
  CLI::Option* dump = run.add_option("--dump-pages", o.dump_pages,
                                     "when --until matched: settle sharing, write every\n"
                                     "VM's pages to DIR/<i>.mem and DIR/<i>.map, stop")
                          ->group(kDebug)->type_name("DIR")->check(not_empty("a folder"));
  machine.push_back(dump);
  run.add_flag("--dump-continue", o.dump_continue, "after --dump-pages, go on running (input: the first VM)")
      ->group(kDebug)->needs(dump);
  run.add_option("--gdb", o.gdb_listen,
                 "serve gdb's remote protocol on PORT (127.0.0.1; 0: any\n"
                 "free port, printed on stderr); see docs/gdb.md")
      ->group(kDebug)->type_name("tcp::PORT")->check(not_empty("tcp::PORT"));
  run.add_flag("--gdb-wait", o.gdb_wait,
               "stop before the first instruction until gdb attaches\n"
               "(alone: --gdb tcp::1234)")
      ->group(kDebug);
  run.add_option("--gdb-vm", o.gdb_vm,
                 "with several VMs: the one --gdb debugs (the machine\n"
                 "pauses while gdb has it stopped)")
      ->group(kDebug)->type_name("NAME")->check(not_empty("a VM name"));
  return machine;
}

// Checks across options (CLI11 checks each option alone).
std::string check_combinations(const RunOptions& o, const CLI::App& run) {
  auto given = [&run](const char* name) { return run.count(name) > 0; };
  if (o.machine_mode) {
    for (const char* one : {"--lockstep", "--reboot", "--max-insns", "--trace-exceptions", "--trace-back"})
      if (given(one))
        return std::string(one) + " works with one VM only (not with --vms, --config or the other machine options)";
    if (!o.config.empty()) {
      if (given("--vms")) return "--vms and --config cannot be combined (the file lists the VMs)";
      for (const char* g : {"--kernel", "--initrd", "--append", "--mem", "--smp"})
        if (given(g)) return std::string(g) + " and --config cannot be combined (the file describes the VMs)";
    }
  }
  if (!o.vm.initrd.empty() && o.vm.kernel.empty()) return "--initrd needs --kernel";
  if (!o.gdb_vm.empty() && o.gdb_listen.empty() && !o.gdb_wait) return "--gdb-vm needs --gdb";
  if (!o.gdb_vm.empty() && !o.machine_mode) return "--gdb-vm names a VM of a machine (--vms, --config)";
  if (o.lockstep && (!o.gdb_listen.empty() || o.gdb_wait)) return "--gdb and --lockstep cannot be combined";
  if (o.vm.vcpus > 1 && o.lockstep)
    return "--lockstep follows one vCPU: not with --smp " + std::to_string(o.vm.vcpus);
  if (o.vm.vcpus > 1 && (!o.gdb_listen.empty() || o.gdb_wait))
    return "--gdb follows one vCPU: not with --smp " + std::to_string(o.vm.vcpus);
  if (o.lockstep && o.vm.engine == Engine::Interp)
    return "--lockstep compares the JIT with the interpreter: not with --engine interp";
  return "";
}

}  // namespace

int parse_command_line(int argc, char** argv, RunOptions& opt) {
  if (argc < 2) return usage_error("missing command (try 'disco run')", "disco --help");
  if (argv[1][0] != '-' && std::strcmp(argv[1], "run") != 0)
    return usage_error(std::string("unknown command '") + argv[1] + "'", "disco --help");

  CLI::App app("disco: a userspace virtual machine monitor for MIPS64 guests on a modelled\nccNUMA machine.",
               "disco");
  app.formatter(std::make_shared<HelpFormatter>());
  app.require_subcommand(1);
  CLI::App* run = app.add_subcommand(
      "run",
      "Boots a guest on this terminal (Ctrl-A x quits); with no --kernel, the\n"
      "default Debian image, built on first use. With --vms or --config, several\n"
      "VMs on one modelled NUMA machine.");
  const std::vector<CLI::Option*> machine = add_run_options(*run, opt);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ExtrasError&) {
    const std::vector<std::string> extra = run->parsed() ? run->remaining() : app.remaining();
    const std::string first = extra.empty() ? "?" : extra.front();
    return usage_error((first[0] == '-' ? "unknown option '" : "unexpected argument '") + first + "'");
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  if (run->count("--stats") && opt.stats.empty()) opt.stats = "text";
  for (const CLI::Option* o : machine)
    if (o->count()) opt.machine_mode = true;
  if (const std::string err = check_combinations(opt, *run); !err.empty()) return usage_error(err);
  if (opt.gdb_wait && opt.gdb_listen.empty()) opt.gdb_listen = "tcp::1234";
  opt.numa = NumaParams();
  opt.numa_options.apply(opt.numa);
  return -1;
}

void NumaOptions::apply(NumaParams& p) const {
  if (model) p.model = *model;
  if (policy) p.policy = *policy;
  if (sample_rate) p.sample_rate = *sample_rate;
  if (placement) p.placement = *placement;
}

std::string default_console_dir() {
  const std::string run = "consoles-" + std::to_string(getpid());
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg && access(xdg, W_OK) == 0)
    return std::string(xdg) + "/disco/" + run;
  // Private to the user (mode 0700): other users cannot read the logs.
  const std::string base = "/tmp/disco-" + std::to_string(getuid());
  mkdir(base.c_str(), 0700);  // an error shows when the logs are created
  return base + "/" + run;
}

}  // namespace disco
