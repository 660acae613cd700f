// The `disco` command. Thin: parses arguments, builds a Vm, runs it,
// reports. (The default Debian image and the full console come with the
// Linux-boot work; see README.md.)
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <regex>
#include <string>

#include "monitor/vm.h"

namespace {

const char kUsage[] =
    "usage: disco run --kernel PATH [options]\n"
    "\n"
    "options:\n"
    "  --kernel PATH       ELF64 MIPS kernel or bare-metal program to boot\n"
    "  --mem SIZE          guest RAM, e.g. 256M, 1G (default 256M)\n"
    "  --engine ENGINE     interp | jit (jit falls back to interp for now)\n"
    "  --fpu               give the CPU a hardware FPU (Config1.FP = 1)\n"
    "  --big-endian        big-endian guest (default little-endian)\n"
    "  --timeout SECONDS   stop with exit 124 if the guest runs longer\n"
    "  --until REGEX       stop with exit 0 once the console output matches\n"
    "  --max-insns N       stop after N guest instructions (exit 125)\n"
    "  --stats             print instruction count and speed on exit\n"
    "  --trace-exceptions N  print the first N exceptions (code, EPC, BadVAddr)\n";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "disco: %s\n%s", msg.c_str(), kUsage);
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

int cmd_run(int argc, char** argv) {
  disco::VmConfig cfg;
  std::string kernel, until, engine = "interp";
  double timeout = 0;
  uint64_t max_insns = 0;
  bool stats = false;
  uint64_t trace_exceptions = 0;
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
      if (!need(kernel)) return usage_error("--kernel needs a path");
    } else if (a == "--mem") {
      if (!need(v) || !disco::parse_size(v, cfg.mem_bytes)) return usage_error("--mem needs a size such as 256M");
    } else if (a == "--engine") {
      if (!need(engine) || (engine != "interp" && engine != "jit"))
        return usage_error("--engine must be interp or jit");
    } else if (a == "--fpu") {
      cfg.has_fpu = true;
    } else if (a == "--big-endian") {
      cfg.big_endian = true;
    } else if (a == "--timeout") {
      if (!need(v) || !parse_double(v, timeout)) return usage_error("--timeout needs a number of seconds");
    } else if (a == "--until") {
      if (!need(until)) return usage_error("--until needs a regular expression");
    } else if (a == "--max-insns") {
      if (!need(v) || !parse_u64(v, max_insns)) return usage_error("--max-insns needs a count");
    } else if (a == "--trace-exceptions") {
      if (!need(v) || !parse_u64(v, trace_exceptions)) return usage_error("--trace-exceptions needs a count");
    } else if (a == "--stats") {
      stats = true;
    } else {
      return usage_error("unknown option '" + a + "'");
    }
  }
  if (kernel.empty())
    return usage_error("no --kernel given (the default Debian image is not available yet)");
  if (engine == "jit") std::fprintf(stderr, "disco: the JIT is not built yet; using the interpreter\n");

  std::regex until_re;
  if (!until.empty()) {
    try {
      until_re = std::regex(until, std::regex::extended);
    } catch (const std::regex_error& e) {
      return usage_error("--until: invalid regular expression '" + until + "'");
    }
  }
  std::string console_line;  // the current line, for --until
  bool matched = false;
  cfg.console_out = [&](uint8_t ch) {
    std::fputc(ch, stdout);
    if (ch == '\n') std::fflush(stdout);
    if (until.empty() || matched) return;
    if (ch == '\n') { console_line.clear(); return; }
    if (console_line.size() < 4096) console_line += static_cast<char>(ch);
    if (std::regex_search(console_line, until_re)) matched = true;
  };

  std::unique_ptr<disco::Vm> vm;
  try {
    vm = std::make_unique<disco::Vm>(cfg);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "disco: --mem: %s\n", e.what());
    return 2;
  }
  std::string err;
  if (!vm->load_kernel(kernel, err)) {
    std::fprintf(stderr, "disco: %s\n", err.c_str());
    return 2;
  }
  if (trace_exceptions) {
    vm->cpu().exception_hook_ctx = &trace_exceptions;
    vm->cpu().exception_hook = [](disco::Cpu& c, uint32_t code, void* ctx) {
      auto* left = static_cast<uint64_t*>(ctx);
      if (*left == 0) return;
      --*left;
      std::fprintf(stderr, "disco: exception %u at EPC %016llx BadVAddr %016llx Status %08x -> %016llx\n", code,
                   static_cast<unsigned long long>(c.s.cp0.epc), static_cast<unsigned long long>(c.s.cp0.badvaddr),
                   c.s.cp0.status, static_cast<unsigned long long>(c.s.pc));
    };
  }
  disco::Vm::Limits lim;
  lim.timeout_seconds = timeout;
  lim.max_insns = max_insns;
  lim.should_stop = [&] { return matched; };
  const auto t0 = std::chrono::steady_clock::now();
  const disco::VmExit why = vm->run(lim);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fflush(stdout);
  if (stats) {
    const double n = static_cast<double>(vm->instructions());
    std::fprintf(stderr, "disco: %.0f instructions in %.3f s = %.1f M instructions/s (exceptions %llu, TLB refills %llu)\n",
                 n, secs, secs > 0 ? n / secs / 1e6 : 0.0,
                 static_cast<unsigned long long>(vm->cpu().stat_exceptions),
                 static_cast<unsigned long long>(vm->cpu().stat_tlb_refills));
  }
  switch (why) {
    case disco::VmExit::PowerOff: return vm->exit_status();
    case disco::VmExit::Reboot:
      std::fprintf(stderr, "disco: guest requested a reboot\n");
      return 0;
    case disco::VmExit::Stopped: return 0;  // --until matched
    case disco::VmExit::Timeout:
      std::fprintf(stderr, "disco: timeout after %.1f s (pc %016llx)\n", timeout,
                   static_cast<unsigned long long>(vm->cpu().s.pc));
      return 124;
    case disco::VmExit::InsnLimit:
      std::fprintf(stderr, "disco: instruction limit reached (pc %016llx)\n",
                   static_cast<unsigned long long>(vm->cpu().s.pc));
      return 125;
    case disco::VmExit::Hung:
      std::fprintf(stderr, "disco: guest is waiting with no interrupt that could wake it (pc %016llx)\n",
                   static_cast<unsigned long long>(vm->cpu().s.pc));
      return 1;
    default: return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "run")) return cmd_run(argc - 2, argv + 2);
  return usage_error(std::string("unknown command '") + argv[1] + "'");
}
