#include "cli/run_vm.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "board/elf_loader.h"
#include "cli/console.h"
#include "cli/stats.h"
#include "debug/gdb_stub.h"
#include "debug/lockstep.h"
#include "frontend/disasm.h"
#include "monitor/vm.h"

namespace disco {

namespace {

constexpr int kDefaultTraceBack = 4;

// Prints the instructions around `pc`, `back` of them before it, when it is
// in an unmapped kernel segment (no translation needed).
void dump_code(Vm& vm, uint64_t pc, int back) {
  const uint64_t pa = elf_vaddr_to_paddr(pc);
  if (pa == pc) return;  // mapped: not shown
  for (int k = -back; k <= 2; ++k) {
    const uint64_t a = pa + static_cast<uint64_t>(k * 4);
    const uint8_t* page = vm.ram_page(a, false);
    if (!page) continue;
    uint32_t w;
    std::memcpy(&w, page + (a & kPageMask), 4);
    if (vm.cpu().cfg.big_endian) w = __builtin_bswap32(w);
    const uint64_t va = pc + static_cast<uint64_t>(k * 4);
    std::fprintf(stderr, "  %c %016llx: %08x  %s\n", k == 0 ? '>' : ' ', static_cast<unsigned long long>(va), w,
                 disassemble(w, va).c_str());
  }
}

struct ExceptionTrace {
  uint64_t left;
  Vm* vm;
  int back;
};

// --trace-exceptions: the exception and the code around EPC (when EPC is
// in an unmapped kernel segment, so no translation is needed).
void print_exception(Cpu& c, uint32_t code, void* ctx) {
  auto* t = static_cast<ExceptionTrace*>(ctx);
  if (t->left == 0) return;
  --t->left;
  const uint64_t epc = c.s.cp0.epc;
  std::fprintf(stderr, "disco: exception %u at EPC %016llx BadVAddr %016llx Status %08x Cause %08x -> %016llx\n",
               code, static_cast<unsigned long long>(epc), static_cast<unsigned long long>(c.s.cp0.badvaddr),
               c.s.cp0.status, c.s.cp0.cause, static_cast<unsigned long long>(c.s.pc));
  dump_code(*t->vm, epc, t->back);
}

}  // namespace

int run_vm(const RunOptions& opt, const VmSpec& spec) {
  Console::Options copt;
  copt.until = opt.until;
  copt.input_file = opt.input_file;
  std::unique_ptr<Console> console;
  try {
    console = std::make_unique<Console>(copt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "disco: %s\n", e.what());
    return 2;
  }
  const int back = opt.trace_back >= 0 ? opt.trace_back : kDefaultTraceBack;
  std::unique_ptr<debug::GdbStub> gdb;
  if (!opt.gdb_listen.empty()) {
    gdb = std::make_unique<debug::GdbStub>();
    std::string err;
    if (!gdb->listen(opt.gdb_listen, err)) {
      std::fprintf(stderr, "disco: %s\n", err.c_str());
      return 2;
    }
  }

  for (;;) {
    VmWiring wiring;
    wiring.console_out = [&](uint8_t ch) { console->output(ch); };
    wiring.numa = opt.numa;  // one node: the model counts, no policy has anything to move
    std::unique_ptr<Vm> vm;
    try {
      vm = std::make_unique<Vm>(spec, std::move(wiring));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "disco: --mem: %s\n", e.what());
      return 2;
    }
    std::string err;
    if (!vm->boot(err)) {
      std::fprintf(stderr, "disco: %s\n", err.c_str());
      return 2;
    }
    std::unique_ptr<Vm> ref;
    std::unique_ptr<debug::LockstepChecker> checker;
    if (opt.lockstep) {
      VmSpec rs = spec;
      rs.engine = Engine::Interp;
      ref = std::make_unique<Vm>(rs);
      if (!ref->boot(err)) {
        std::fprintf(stderr, "disco: %s\n", err.c_str());
        return 2;
      }
      checker = std::make_unique<debug::LockstepChecker>(*ref);
      vm->set_observer(checker.get());
    }
    ExceptionTrace trace{opt.trace_exceptions, vm.get(), back};
    if (opt.trace_exceptions) {
      vm->cpu().exception_hook_ctx = &trace;
      vm->cpu().exception_hook = print_exception;
    }
    Vm::Limits lim;
    lim.timeout_seconds = opt.timeout;
    lim.max_insns = opt.max_insns;
    lim.should_stop = [&] { return console->until_matched() || console->quit_requested(); };
    if (console->has_input_source()) {
      lim.poll_input = [&](Vm& m) {
        std::string in;
        if (console->take_input(in))
          for (char ch : in) m.console_input(static_cast<uint8_t>(ch));
      };
      lim.wait_input = [&](uint64_t ns) { return console->wait_input(ns); };
    }
    const auto t0 = std::chrono::steady_clock::now();
    const VmExit why = gdb ? gdb->run(*vm, lim, opt.gdb_wait) : vm->run(lim);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fflush(stdout);
    if (!opt.stats.empty()) {
      const VmRunStats s = collect_run_stats(*vm, secs);
      if (opt.stats == "json") std::fprintf(stderr, "\n%s\n", stats_json(s).c_str());
      else std::fprintf(stderr, "\n%s", stats_text(s).c_str());
    }
    const unsigned long long pc = vm->cpu().s.pc;
    switch (why) {
      case VmExit::PowerOff: return vm->exit_status();
      case VmExit::Halted:
        std::fprintf(stderr, "\ndisco: guest halted\n");
        return 0;
      case VmExit::Reboot:
        if (opt.reboot == "restart") {
          std::fprintf(stderr, "\ndisco: guest rebooted; restarting\n");
          continue;
        }
        std::fprintf(stderr, "\ndisco: guest requested a reboot\n");
        return 0;
      case VmExit::Stopped:
        if (console->quit_requested()) std::fprintf(stderr, "\ndisco: quit\n");
        if (gdb && gdb->killed()) std::fprintf(stderr, "\ndisco: killed from gdb\n");
        return 0;
      case VmExit::Diverged:
        std::fprintf(stderr, "\ndisco: %s", checker ? checker->report().c_str() : "stopped by an observer\n");
        return 3;
      case VmExit::Timeout:
        std::fprintf(stderr, "\ndisco: timeout after %.1f s (pc %016llx)\n", opt.timeout, pc);
        return 124;
      case VmExit::InsnLimit:
        std::fprintf(stderr, "\ndisco: instruction limit reached (pc %016llx)\n", pc);
        if (opt.trace_back >= 0) {
          std::fprintf(stderr, "Status %08x Cause %08x Count %08x Compare %08x\n", vm->cpu().s.cp0.status,
                       vm->cpu().s.cp0.cause, vm->cpu().count(), vm->cpu().s.cp0.compare);
          dump_code(*vm, pc, back);
        }
        return 125;
      default:
        std::fprintf(stderr, "\ndisco: guest stopped unexpectedly (pc %016llx)\n", pc);
        return 1;
    }
  }
}

}  // namespace disco
