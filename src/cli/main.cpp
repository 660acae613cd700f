// The `disco` command. Thin: parses arguments, builds a Vm, runs it with a
// console, reports.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>

#include "cli/console.h"
#include "cli/run_machine.h"
#include "debug/gdb_stub.h"
#include "debug/lockstep.h"
#include "frontend/disasm.h"
#include "jit/jit.h"
#include "board/elf_loader.h"
#include "monitor/vm.h"

#ifndef DISCO_SOURCE_DIR
#define DISCO_SOURCE_DIR "."
#endif

namespace {

const char kUsage[] =
    "usage: disco run [options]\n"
    "\n"
    "With no --kernel, boots the default Debian image (building it first).\n"
    "\n"
    "options:\n"
    "  --kernel PATH          ELF64 MIPS kernel or bare-metal program to boot\n"
    "  --initrd PATH          initramfs to hand to the kernel\n"
    "  --append STR           kernel command line (after 'console=ttyS0 earlycon')\n"
    "  --mem SIZE             guest RAM, e.g. 256M, 1G (default 512M)\n"
    "  --engine ENGINE        interp | jit (default interp)\n"
    "  --jit-disable LIST     keep classes out of the JIT: alu,mem,branch,loop\n"
    "  --fpu                  give the CPU a hardware FPU (Config1.FP = 1)\n"
    "  --big-endian           big-endian guest (default little-endian)\n"
    "  --deterministic        derive all time from executed instructions\n"
    "  --timeout SECONDS      stop with exit 124 if the guest runs longer\n"
    "  --until REGEX          stop with exit 0 once a console line matches (ERE)\n"
    "  --input FILE           type FILE into the console, one line per shell prompt\n"
    "  --reboot exit|restart  what a guest reboot does (default exit)\n"
    "  --max-insns N          stop after N guest instructions (exit 125)\n"
    "  --lockstep             with --engine jit: run the interpreter alongside and stop\n"
    "                         at the first difference (implies --deterministic)\n"
    "  --stats                print instruction count and speed on exit\n"
    "  --trace-exceptions N   print the first N exceptions (code, EPC, BadVAddr)\n"
    "  --gdb tcp::PORT        serve gdb's remote protocol on PORT (127.0.0.1; 0: any\n"
    "                         free port, printed on stderr); see docs/gdb.md\n"
    "  --gdb-wait             stop before the first instruction until gdb attaches\n"
    "                         (alone: --gdb tcp::1234)\n"
    "  --gdb-vm NAME          with several VMs: the one --gdb debugs (the machine\n"
    "                         pauses while gdb has it stopped)\n"
    "\n"
    "\n"
    "several VMs on one modelled NUMA machine (see docs/machine-config.md):\n"
    "  --config FILE          machine description (TOML): nodes, memory, the VMs\n"
    "  --vms N                N copies of the guest given by --kernel/--initrd/--mem\n"
    "                         (default: the Debian image)\n"
    "  --nodes N, --cpus-per-node N, --mem-per-node SIZE\n"
    "                         the machine (default: sized to fit the VMs)\n"
    "  --overcommit           allow more VM memory than the machine has\n"
    "  --no-sharing           no content-based page sharing\n"
    "  --no-patching          no sub-page sharing (cold pages stored as a patch\n"
    "                         against another VM's page)\n"
    "  --scan-rate N          pages the sharing scan looks at per second\n"
    "  --console NAME|all|none  which VM's console is on the terminal (default:\n"
    "                         all, each line prefixed; input goes to the first)\n"
    "  --console-dir DIR      per-VM console logs DIR/<name>.log (default disco-consoles)\n"
    "  --stats[=text|json]    memory statistics at exit (text by default)\n"
    "  --stats-file FILE      the same as JSON in FILE, at exit and on SIGUSR1\n"
    "  --settle               before the exit statistics, scan until sharing settles\n"
    "  --kaslr                keep Linux KASLR (by default the VMs of a machine boot\n"
    "                         with nokaslr, so their kernel text is identical)\n"
    "  (--until then waits until every VM's console has matched, or with\n"
    "  --console NAME, that VM's)\n"
    "\n"
    "The console is this terminal in raw mode; Ctrl-A x quits.\n";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "disco: %s\n(see 'disco --help')\n", msg.c_str());
  return 2;
}

bool parse_double(const std::string& s, double& out) {
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && end && *end == '\0' && out >= 0;
}

bool parse_u64(const std::string& s, uint64_t& out) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 19) return false;
  out = std::stoull(s);
  return true;
}

bool file_exists(const std::string& p) { return access(p.c_str(), R_OK) == 0; }

// Builds the default image if needed; returns its folder or "" on failure.
std::string default_image() {
  const std::string root = DISCO_SOURCE_DIR;
  const std::string dir = root + "/cache/default";
  if (file_exists(dir + "/.complete") && file_exists(dir + "/vmlinuz") && file_exists(dir + "/initrd.gz"))
    return dir;
  std::fprintf(stderr, "disco: building the default Debian image (first run only)...\n");
  const std::string cmd = "'" + root + "/images/build-default.sh' '" + dir + "' >&2";
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "disco: building the default image failed (see above)\n");
    return "";
  }
  return dir;
}

// Prints the instructions around `pc` when it is in an unmapped kernel
// segment (no translation needed).
void dump_code(disco::Vm& vm, uint64_t pc) {
  const uint64_t pa = disco::elf_vaddr_to_paddr(pc);
  if (pa == pc) return;  // mapped: not shown
  const int back = std::getenv("DISCO_TRACE_BACK") ? std::atoi(std::getenv("DISCO_TRACE_BACK")) : 4;
  for (int k = -back; k <= 2; ++k) {
    const uint64_t a = pa + static_cast<uint64_t>(k * 4);
    const uint8_t* page = vm.ram_page(a, false);
    if (!page) continue;
    uint32_t w;
    std::memcpy(&w, page + (a & disco::kPageMask), 4);
    if (vm.cpu().cfg.big_endian) w = __builtin_bswap32(w);
    const uint64_t va = pc + static_cast<uint64_t>(k * 4);
    std::fprintf(stderr, "  %c %016llx: %08x  %s\n", k == 0 ? '>' : ' ', static_cast<unsigned long long>(va), w,
                 disco::disassemble(w, va).c_str());
  }
}

struct ExceptionTrace {
  uint64_t left;
  disco::Vm* vm;
};

// --trace-exceptions: the exception and the code around EPC (when EPC is
// in an unmapped kernel segment, so no translation is needed).
void print_exception(disco::Cpu& c, uint32_t code, void* ctx) {
  auto* t = static_cast<ExceptionTrace*>(ctx);
  if (t->left == 0) return;
  --t->left;
  const uint64_t epc = c.s.cp0.epc;
  std::fprintf(stderr, "disco: exception %u at EPC %016llx BadVAddr %016llx Status %08x Cause %08x -> %016llx\n",
               code, static_cast<unsigned long long>(epc), static_cast<unsigned long long>(c.s.cp0.badvaddr),
               c.s.cp0.status, c.s.cp0.cause, static_cast<unsigned long long>(c.s.pc));
  dump_code(*t->vm, epc);
}

// --gdb, --gdb-wait, --gdb-vm (the stub is src/debug/gdb_stub.h).
struct GdbCli {
  std::string listen;  // "" = no stub
  bool wait = false;
  std::string vm;      // --gdb-vm: which VM of a machine
};

int cmd_run(int argc, char** argv) {
  GdbCli gdb;
  disco::VmConfig cfg;
  cfg.mem_bytes = 512ull << 20;
  disco::BootSpec boot;
  std::string engine = "interp", reboot = "exit", append;
  disco::Console::Options copt;
  double timeout = 0;
  uint64_t max_insns = 0, trace_exceptions = 0;
  bool stats = false, lockstep = false;
  disco::MachineRunOptions mopt;
  bool machine_mode = false;
  std::string stats_mode;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    std::string val;
    bool has_val = false;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      val = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_val = true;
    }
    auto need = [&](std::string& out) {
      if (has_val) { out = val; return true; }
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--kernel") {
      if (!need(boot.kernel)) return usage_error("--kernel needs a path");
    } else if (a == "--initrd") {
      if (!need(boot.initrd)) return usage_error("--initrd needs a path");
    } else if (a == "--append") {
      if (!need(append)) return usage_error("--append needs a string");
    } else if (a == "--mem") {
      if (!need(v) || !disco::parse_size(v, cfg.mem_bytes)) return usage_error("--mem needs a size such as 512M");
    } else if (a == "--engine") {
      if (!need(engine) || (engine != "interp" && engine != "jit"))
        return usage_error("--engine must be interp or jit");
    } else if (a == "--jit-disable") {
      if (!need(v)) return usage_error("--jit-disable needs a list such as alu,mem,branch,loop");
      size_t pos = 0;
      while (pos <= v.size()) {
        const size_t comma = v.find(',', pos);
        const std::string cls = v.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        if (cls == "alu") cfg.jit_alu = false;
        else if (cls == "mem") cfg.jit_mem = false;
        else if (cls == "branch") cfg.jit_branch = false;
        else if (cls == "loop") cfg.jit_loop = false;
        else if (!cls.empty()) return usage_error("--jit-disable: unknown class '" + cls + "' (alu, mem, branch, loop)");
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
    } else if (a == "--fpu") {
      cfg.has_fpu = true;
    } else if (a == "--big-endian") {
      cfg.big_endian = true;
    } else if (a == "--deterministic") {
      cfg.deterministic = true;
    } else if (a == "--timeout") {
      if (!need(v) || !parse_double(v, timeout)) return usage_error("--timeout needs a number of seconds");
    } else if (a == "--until") {
      if (!need(copt.until)) return usage_error("--until needs a regular expression");
    } else if (a == "--input") {
      if (!need(copt.input_file)) return usage_error("--input needs a file");
    } else if (a == "--reboot") {
      if (!need(reboot) || (reboot != "exit" && reboot != "restart"))
        return usage_error("--reboot must be exit or restart");
    } else if (a == "--max-insns") {
      if (!need(v) || !parse_u64(v, max_insns)) return usage_error("--max-insns needs a count");
    } else if (a == "--trace-exceptions") {
      if (!need(v) || !parse_u64(v, trace_exceptions)) return usage_error("--trace-exceptions needs a count");
    } else if (a == "--lockstep") {
      lockstep = true;
    } else if (a == "--stats") {
      stats = true;
      stats_mode = has_val ? val : "text";
      if (stats_mode != "text" && stats_mode != "json") return usage_error("--stats must be --stats, --stats=text or --stats=json");
    } else if (a == "--gdb" || a == "--gdb-vm") {
      if (!need(a == "--gdb" ? gdb.listen : gdb.vm) || (a == "--gdb" ? gdb.listen : gdb.vm).empty())
        return usage_error(a == "--gdb" ? "--gdb needs tcp::PORT" : "--gdb-vm needs a VM name");
    } else if (a == "--gdb-wait") {
      gdb.wait = true;
    } else if (a == "--config") {
      if (!need(mopt.config)) return usage_error("--config needs a file");
      machine_mode = true;
    } else if (a == "--vms") {
      uint64_t n;
      if (!need(v) || !parse_u64(v, n) || n == 0 || n > 4096) return usage_error("--vms needs a count from 1 to 4096");
      mopt.vms = static_cast<unsigned>(n);
      machine_mode = true;
    } else if (a == "--nodes" || a == "--cpus-per-node") {
      uint64_t n;
      if (!need(v) || !parse_u64(v, n) || n == 0 || n > 4096) return usage_error(a + " needs a count");
      (a == "--nodes" ? mopt.nodes : mopt.cpus_per_node) = static_cast<unsigned>(n);
      machine_mode = true;
    } else if (a == "--mem-per-node") {
      if (!need(v) || !disco::parse_size(v, mopt.mem_per_node) || mopt.mem_per_node == 0)
        return usage_error("--mem-per-node needs a size such as 512M");
      machine_mode = true;
    } else if (a == "--overcommit") {
      mopt.overcommit = machine_mode = true;
    } else if (a == "--no-patching") {
      mopt.no_patching = machine_mode = true;
    } else if (a == "--no-sharing") {
      mopt.no_sharing = machine_mode = true;
    } else if (a == "--scan-rate") {
      if (!need(v) || !parse_u64(v, mopt.scan_rate) || mopt.scan_rate == 0)
        return usage_error("--scan-rate needs a number of pages per second");
      machine_mode = true;
    } else if (a == "--console") {
      if (!need(mopt.console) || mopt.console.empty()) return usage_error("--console needs a VM name, all or none");
      machine_mode = true;
    } else if (a == "--console-dir") {
      if (!need(mopt.console_dir) || mopt.console_dir.empty()) return usage_error("--console-dir needs a folder");
      machine_mode = true;
    } else if (a == "--stats-file") {
      if (!need(mopt.stats_file) || mopt.stats_file.empty()) return usage_error("--stats-file needs a file");
      machine_mode = true;
    } else if (a == "--kaslr") {
      mopt.kaslr = machine_mode = true;
    } else if (a == "--settle") {
      mopt.settle = machine_mode = true;
    } else {
      return usage_error("unknown option '" + a + "'");
    }
  }
  if (engine == "jit") cfg.engine = disco::VmConfig::Engine::Jit;
  if (gdb.wait && gdb.listen.empty()) gdb.listen = "tcp::1234";
  if (!gdb.vm.empty() && gdb.listen.empty()) return usage_error("--gdb-vm needs --gdb");
  if (!gdb.vm.empty() && !machine_mode) return usage_error("--gdb-vm names a VM of a machine (--vms, --config)");
  if (lockstep && !gdb.listen.empty()) return usage_error("--gdb and --lockstep cannot be combined");
  mopt.gdb_listen = gdb.listen;
  mopt.gdb_vm = gdb.vm;
  mopt.gdb_wait = gdb.wait;
  if (machine_mode) {
    if (lockstep || reboot != "exit" || max_insns || trace_exceptions)
      return usage_error("--lockstep, --reboot, --max-insns and --trace-exceptions work with one VM only");
    if (!boot.initrd.empty() && boot.kernel.empty()) return usage_error("--initrd needs --kernel");
    mopt.stats = stats ? stats_mode : "";
    mopt.timeout = timeout;
    mopt.until = copt.until;
    mopt.input_file = copt.input_file;
    mopt.kernel = boot.kernel;
    mopt.initrd = boot.initrd;
    mopt.append = append;
    mopt.mem_bytes = cfg.mem_bytes;
    mopt.vm = cfg;
    return disco::run_machine(mopt, default_image);
  }
  if (stats_mode == "json") return usage_error("--stats=json needs a machine (--vms, --config)");
  if (boot.kernel.empty()) {
    if (!boot.initrd.empty()) return usage_error("--initrd needs --kernel");
    const std::string dir = default_image();
    if (dir.empty()) return 1;
    boot.kernel = dir + "/vmlinuz";
    boot.initrd = dir + "/initrd.gz";
  }
  boot.cmdline = "console=ttyS0 earlycon" + (append.empty() ? "" : " " + append);
  // Entropy for the kernel's KASLR (/chosen/kaslr-seed); fixed when deterministic.
  if (cfg.deterministic) {
    boot.kaslr_seed = 0x6469736330000001ull;
  } else {
    std::random_device rd;
    boot.kaslr_seed = (static_cast<uint64_t>(rd()) << 32) | rd();
  }
  if (lockstep) {
    if (engine != "jit") return usage_error("--lockstep needs --engine jit");
    cfg.deterministic = true;
  }

  std::unique_ptr<disco::Console> console;
  try {
    console = std::make_unique<disco::Console>(copt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "disco: %s\n", e.what());
    return 2;
  }
  cfg.console_out = [&](uint8_t ch) { console->output(ch); };
  std::unique_ptr<disco::debug::GdbStub> gdb_stub;
  if (!gdb.listen.empty()) {
    gdb_stub = std::make_unique<disco::debug::GdbStub>();
    std::string err;
    if (!gdb_stub->listen(gdb.listen, err)) {
      std::fprintf(stderr, "disco: %s\n", err.c_str());
      return 2;
    }
  }

  for (;;) {
    std::unique_ptr<disco::Vm> vm;
    try {
      vm = std::make_unique<disco::Vm>(cfg);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "disco: --mem: %s\n", e.what());
      return 2;
    }
    std::string err;
    if (!vm->boot(boot, err)) {
      std::fprintf(stderr, "disco: %s\n", err.c_str());
      return 2;
    }
    std::unique_ptr<disco::Vm> ref;
    std::unique_ptr<disco::debug::LockstepChecker> checker;
    if (lockstep) {
      disco::VmConfig rc = cfg;
      rc.engine = disco::VmConfig::Engine::Interp;
      rc.console_out = nullptr;
      ref = std::make_unique<disco::Vm>(rc);
      if (!ref->boot(boot, err)) {
        std::fprintf(stderr, "disco: %s\n", err.c_str());
        return 2;
      }
      checker = std::make_unique<disco::debug::LockstepChecker>(*ref);
      vm->set_observer(checker.get());
    }
    ExceptionTrace trace{trace_exceptions, vm.get()};
    if (trace_exceptions) {
      vm->cpu().exception_hook_ctx = &trace;
      vm->cpu().exception_hook = print_exception;
    }
    disco::Vm::Limits lim;
    lim.timeout_seconds = timeout;
    lim.max_insns = max_insns;
    lim.should_stop = [&] { return console->until_matched() || console->quit_requested(); };
    if (console->has_input_source()) {
      lim.poll_input = [&](disco::Vm& m) {
        std::string in;
        if (console->take_input(in))
          for (char ch : in) m.console_input(static_cast<uint8_t>(ch));
      };
      lim.wait_input = [&](uint64_t ns) { return console->wait_input(ns); };
    }
    const auto t0 = std::chrono::steady_clock::now();
    const disco::VmExit why = gdb_stub ? gdb_stub->run(*vm, lim, gdb.wait) : vm->run(lim);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fflush(stdout);
    if (stats) {
      const double n = static_cast<double>(vm->instructions());
      std::fprintf(stderr,
                   "\ndisco: %.0f instructions in %.3f s = %.1f M instructions/s (exceptions %llu, TLB refills %llu)\n",
                   n, secs, secs > 0 ? n / secs / 1e6 : 0.0,
                   static_cast<unsigned long long>(vm->cpu().stat_exceptions),
                   static_cast<unsigned long long>(vm->cpu().stat_tlb_refills));
      if (vm->jit()) std::fputs(vm->jit()->report().c_str(), stderr);
    }
    const unsigned long long pc = vm->cpu().s.pc;
    switch (why) {
      case disco::VmExit::PowerOff: return vm->exit_status();
      case disco::VmExit::Halted:
        std::fprintf(stderr, "\ndisco: guest halted\n");
        return 0;
      case disco::VmExit::Reboot:
        if (reboot == "restart") {
          std::fprintf(stderr, "\ndisco: guest rebooted; restarting\n");
          continue;
        }
        std::fprintf(stderr, "\ndisco: guest requested a reboot\n");
        return 0;
      case disco::VmExit::Stopped:
        if (console->quit_requested()) std::fprintf(stderr, "\ndisco: quit\n");
        if (gdb_stub && gdb_stub->killed()) std::fprintf(stderr, "\ndisco: killed from gdb\n");
        return 0;
      case disco::VmExit::Diverged:
        std::fprintf(stderr, "\ndisco: %s", checker ? checker->report().c_str() : "stopped by an observer\n");
        return 3;
      case disco::VmExit::Timeout:
        std::fprintf(stderr, "\ndisco: timeout after %.1f s (pc %016llx)\n", timeout, pc);
        return 124;
      case disco::VmExit::InsnLimit:
        std::fprintf(stderr, "\ndisco: instruction limit reached (pc %016llx)\n", pc);
        if (std::getenv("DISCO_TRACE_BACK")) {
          std::fprintf(stderr, "Status %08x Cause %08x Count %08x Compare %08x\n", vm->cpu().s.cp0.status,
                       vm->cpu().s.cp0.cause, vm->cpu().count(), vm->cpu().s.cp0.compare);
          dump_code(*vm, pc);
        }
        return 125;
      default:
        std::fprintf(stderr, "\ndisco: guest stopped unexpectedly (pc %016llx)\n", pc);
        return 1;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h"))) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (argc < 2) return usage_error("missing command (try 'disco run')");
  if (!std::strcmp(argv[1], "run")) return cmd_run(argc - 2, argv + 2);
  return usage_error(std::string("unknown command '") + argv[1] + "'");
}
