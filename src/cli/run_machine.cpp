#include "cli/run_machine.h"

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "cli/console.h"
#include "cli/console_mux.h"
#include "debug/gdb_stub.h"
#include "cli/stats.h"
#include "monitor/machine.h"

namespace disco {

namespace {

volatile std::sig_atomic_t g_stats_requested = 0;
void on_sigusr1(int) { g_stats_requested = 1; }

bool write_text_file(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return false;
  const bool ok = std::fputs(text.c_str(), f) >= 0;
  return std::fclose(f) == 0 && ok;
}

// --dump-pages DIR (a debugging aid): each VM's mapped pages at their guest
// physical addresses in DIR/<i>.mem (sparse), and DIR/<i>.map with one line
// "paddr kind machine_page" per mapped page, kind P(rivate), S(hared), Z(ero),
// D (patched: a reference page plus a patch, written out rebuilt).
void dump_pages(Machine& m, const std::string& dir) {
  for (size_t i = 0; i < m.size(); ++i) {
    GuestMemory& gm = m.vm(i).memory();
    MachineMemory& mm = m.memory();
    const std::string base = dir + "/" + std::to_string(i);
    const int fd = ::open((base + ".mem").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    FILE* f = std::fopen((base + ".map").c_str(), "w");
    if (fd < 0 || !f) {
      std::fprintf(stderr, "disco: --dump-pages: cannot write %s\n", base.c_str());
      if (fd >= 0) ::close(fd);
      if (f) std::fclose(f);
      return;
    }
    for (uint64_t g = 0; g < gm.pages(); ++g) {
      const MPage p = gm.at(g);
      if (p == kNoPage) continue;
      const char kind = p == kPatchedPage ? 'D' : p == mm.zero_page() ? 'Z' : mm.refs(p) > 1 ? 'S' : 'P';
      std::fprintf(f, "%llx %c %u\n", static_cast<unsigned long long>(gm.paddr_of(g)), kind, p);
      if (kind != 'Z' && ::pwrite(fd, gm.peek(g), kPageSize, static_cast<off_t>(gm.paddr_of(g))) != kPageSize)
        std::fprintf(stderr, "disco: --dump-pages: short write\n");
    }
    std::fclose(f);
    ::close(fd);
  }
  std::fprintf(stderr, "disco: pages dumped to %s\n", dir.c_str());
}

int fail(const std::string& msg) {
  std::fprintf(stderr, "disco: %s\n", msg.c_str());
  return 2;
}

}  // namespace

int run_machine(const RunOptions& opt, const MachineSpec& spec) {
  std::string err;
  std::vector<std::string> names;
  int shown = spec.vms.size() == 1 ? 0 : ConsoleMux::kAll;
  for (size_t i = 0; i < spec.vms.size(); ++i) {
    names.push_back(spec.vms[i].name);
    if (opt.console == spec.vms[i].name) shown = static_cast<int>(i);
  }
  if (opt.console == "all") shown = ConsoleMux::kAll;
  else if (opt.console == "none") shown = ConsoleMux::kNone;
  else if (!opt.console.empty() && (shown < 0 || names[static_cast<size_t>(shown)] != opt.console))
    return fail("--console: no VM named '" + opt.console + "' (use a VM name, all or none)");

  const std::string console_dir = opt.console_dir.empty() ? default_console_dir() : opt.console_dir;
  Console::Options copt;
  copt.input_file = opt.input_file;
  copt.interactive = shown != ConsoleMux::kNone;
  std::unique_ptr<Console> term;
  std::unique_ptr<ConsoleMux> mux;
  try {
    term = std::make_unique<Console>(copt);
    mux = std::make_unique<ConsoleMux>(*term, names, shown, console_dir, opt.until);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  std::unique_ptr<Machine> machine;
  try {
    machine = std::make_unique<Machine>(spec);
  } catch (const std::exception& e) {
    return fail(std::string("machine memory: ") + e.what());
  }
  std::fprintf(stderr, "disco: machine of %u node(s) x %u CPU(s) x %llu MiB; %zu VM(s); sharing %s%s; consoles in %s/\n",
               spec.nodes, spec.cpus_per_node, static_cast<unsigned long long>(spec.mem_per_node >> 20),
               spec.vms.size(), spec.sharing ? "on" : "off", opt.kaslr ? "" : ", nokaslr", console_dir.c_str());
  for (size_t i = 0; i < spec.vms.size(); ++i) {
    ConsoleMux* m = mux.get();
    if (!machine->add_vm([m, i](uint8_t ch) { m->output(i, ch); }, err)) return fail(err);
  }

  // --gdb: one VM of the machine under the debugger (docs/gdb.md).
  std::unique_ptr<debug::GdbStub> gdb;
  size_t gdb_index = 0;
  if (!opt.gdb_listen.empty()) {
    if (opt.gdb_vm.empty() && machine->size() > 1) {
      std::string list;
      for (size_t i = 0; i < machine->size(); ++i) list += (i ? ", " : "") + machine->name(i);
      return fail("--gdb with several VMs needs --gdb-vm NAME (" + list + ")");
    }
    if (!opt.gdb_vm.empty()) {
      gdb_index = machine->size();
      for (size_t i = 0; i < machine->size(); ++i)
        if (machine->name(i) == opt.gdb_vm) gdb_index = i;
      if (gdb_index == machine->size()) return fail("--gdb-vm: no VM named '" + opt.gdb_vm + "'");
    }
    if (const unsigned n = machine->vm(gdb_index).vcpus(); n > 1)
      return fail("--gdb follows one vCPU: vm " + machine->name(gdb_index) + " has vcpus = " + std::to_string(n));
    gdb = std::make_unique<debug::GdbStub>();
    if (!gdb->listen(opt.gdb_listen, err)) return fail(err);
  }

  auto emit_stats = [&](bool at_exit) {
    if (opt.stats_file.empty() && (!at_exit || opt.stats.empty())) return;
    const MachineStats s = machine->stats();
    if (!opt.stats_file.empty() && !write_text_file(opt.stats_file, stats_json(s) + "\n"))
      std::fprintf(stderr, "disco: --stats-file: cannot write %s\n", opt.stats_file.c_str());
    if (!at_exit) return;
    if (opt.stats == "json") std::fprintf(stderr, "%s\n", stats_json(s).c_str());
    else if (opt.stats == "text") std::fputs(stats_text(s).c_str(), stderr);
  };
  std::signal(SIGUSR1, on_sigusr1);

  int status = 0;
  bool any_oom = false;
  Machine::RunLimits lim;
  lim.timeout_seconds = opt.timeout;
  const bool has_until = !opt.until.empty();
  if (!opt.stats_mark.empty()) mux->set_mark(opt.stats_mark);
  lim.should_stop = [&] {
    if (!opt.stats_mark.empty())
      for (size_t i = 0; i < machine->size(); ++i)
        if (mux->marked(i)) machine->mark(i);  // keeps the first only
    if (g_stats_requested) {
      g_stats_requested = 0;
      std::fprintf(stderr, "%s\n", stats_json(machine->stats()).c_str());
      emit_stats(false);
    }
    if (term->quit_requested()) return true;
    if (!has_until) return false;
    // Watching one VM's console: --until is about that console.
    if (shown >= 0) return mux->matched(static_cast<size_t>(shown));
    for (size_t i = 0; i < machine->size(); ++i)
      if (machine->exit_of(i) == VmExit::Running && !mux->matched(i)) return false;
    return true;
  };
  const int input_vm = mux->input_vm();
  if (term->has_input_source() && input_vm >= 0) {
    lim.poll_input = [&](size_t i, Vm& v) {
      if (static_cast<int>(i) != input_vm) return;
      std::string in;
      if (term->take_input(in))
        for (char ch : in) v.console_input(static_cast<uint8_t>(ch));
    };
    lim.wait_input = [&](uint64_t ns) { return term->wait_input(ns); };
  }
  if (gdb) {
    // The debugged VM's slices go through the stub; between slices it
    // looks at the socket (Ctrl-C, a client attaching while the VM idles).
    auto user_stop = lim.should_stop;
    lim.run_vm = [&](size_t i, Vm& v, const Vm::Limits& l) {
      return i == gdb_index ? gdb->run_slice(v, l, opt.gdb_wait, opt.timeout) : v.run(l);
    };
    lim.should_stop = [&gdb, user_stop] { return user_stop() || gdb->poll(user_stop); };
  }
  lim.on_exit = [&](size_t i, VmExit why) {
    Vm& v = machine->vm(i);
    const std::string& name = machine->name(i);
    switch (why) {
      case VmExit::PowerOff:
        std::fprintf(stderr, "disco: %s: powered off (status %d)\n", name.c_str(), v.exit_status());
        if (v.exit_status() != 0 && status == 0) status = v.exit_status();
        break;
      case VmExit::OutOfMemory:
        any_oom = true;
        std::fprintf(stderr,
                     "disco: %s: the machine is out of memory (%llu of %llu machine pages in use); "
                     "this VM is stopped, the others go on\n",
                     name.c_str(), static_cast<unsigned long long>(machine->memory().used_pages()),
                     static_cast<unsigned long long>(machine->memory().total_pages()));
        break;
      default:
        std::fprintf(stderr, "disco: %s: %s (pc %016llx)\n", name.c_str(), vm_exit_name(why),
                     static_cast<unsigned long long>(v.cpu().s.pc));
        break;
    }
  };
  Machine::End end;
  if (!opt.dump_pages.empty()) {
    // Stop when every console matched --until, settle, dump; then with
    // --dump-continue go on (input only now reaches the input VM).
    auto poll = lim.poll_input;
    lim.poll_input = nullptr;
    end = machine->run(lim);
    machine->settle_sharing();
    dump_pages(*machine, opt.dump_pages);
    if (end == Machine::End::Stopped && opt.dump_continue) {
      lim.poll_input = poll;
      lim.should_stop = [&] { return term->quit_requested(); };
      end = machine->run(lim);
    }
  } else {
    end = machine->run(lim);
  }
  mux->finish();
  if (opt.settle) machine->settle_sharing();
  emit_stats(true);
  if (machine->size() > 1) std::fprintf(stderr, "disco: console logs in %s/\n", console_dir.c_str());
  switch (end) {
    case Machine::End::Timeout:
      std::fprintf(stderr, "disco: timeout after %.1f s\n", opt.timeout);
      return 124;
    case Machine::End::Stopped:
      if (term->quit_requested()) std::fprintf(stderr, "disco: quit\n");
      if (gdb && gdb->killed()) std::fprintf(stderr, "disco: killed from gdb\n");
      return status;
    case Machine::End::AllStopped:
      break;
  }
  if (any_oom && status == 0) status = 1;
  return status;
}

}  // namespace disco
