// difftest: random instruction sequences, run by disco's interpreter and by
// the oracle runner under qemu-mips64el, compared register by register.
// See README.md in this directory.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "tests/difftest/generator.h"
#include "tests/difftest/our_side.h"

#ifndef DIFFTEST_DEFAULT_RUNNER
#define DIFFTEST_DEFAULT_RUNNER ""
#endif

namespace {

using namespace disco::difftest;
using Clock = std::chrono::steady_clock;

constexpr int kExitSkip = 77;

struct Options {
  uint64_t count = 100000;
  uint64_t seed = 1;
  uint64_t first = 0;
  std::string qemu, runner = DIFFTEST_DEFAULT_RUNNER, save, load;
  bool fpu = false;
  unsigned max_report = 10;
  bool verbose = false;
};

void usage(FILE* f) {
  std::fprintf(f,
               "usage: difftest [options]\n"
               "  --count N       sequences to run (default 100000)\n"
               "  --seed S        generator seed (default 1)\n"
               "  --first I       index of the first sequence (default 0): --first I --count 1\n"
               "                  replays sequence I of seed S alone\n"
               "  --fpu           also generate FPU instructions; compare FPRs and FCSR\n"
               "  --qemu PATH     qemu-mips64el (default: found in PATH)\n"
               "  --runner PATH   the oracle runner built by runner/build.sh (default: %s)\n"
               "  --max-report K  print at most K mismatches in full (default 10)\n"
               "  --save FILE     write the failing records to FILE (seq_format stream)\n"
               "  --load FILE     run the records of FILE (written by --save) instead of generating\n"
               "  --verbose       print every sequence as it is compared\n"
               "  --list-exclusions  print what the generator never produces, and why\n",
               DIFFTEST_DEFAULT_RUNNER[0] ? DIFFTEST_DEFAULT_RUNNER : "(none built)");
}

bool executable(const std::string& p) { return !p.empty() && access(p.c_str(), X_OK) == 0; }

std::string find_in_path(const char* name) {
  const char* path = std::getenv("PATH");
  if (!path) return {};
  std::string p = path;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string cand = p.substr(start, end - start) + "/" + name;
    if (executable(cand)) return cand;
    start = end + 1;
  }
  return {};
}

// Where records come from: the generator, or a file written by --save.
struct Source {
  const Options& opt;
  GenOptions gen;
  std::vector<dseq_record> loaded;
  std::vector<uint64_t> loaded_index;  // generator index for display (file position)

  void get(uint64_t i, dseq_record& rec) const {
    if (!loaded.empty()) rec = loaded[i];
    else make_record(opt.seed, i, gen, rec);
  }
};

bool load_file(const std::string& path, std::vector<dseq_record>& out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  dseq_header h;
  bool ok = std::fread(&h, sizeof h, 1, f) == 1 && h.magic == DSEQ_MAGIC && h.version == DSEQ_VERSION;
  if (ok) {
    out.resize(h.count);
    ok = h.count == 0 || std::fread(out.data(), sizeof(dseq_record), h.count, f) == h.count;
  }
  std::fclose(f);
  return ok;
}

bool save_file(const std::string& path, const Source& src, const std::vector<uint64_t>& idx) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  dseq_header h{DSEQ_MAGIC, DSEQ_VERSION, idx.size()};
  bool ok = std::fwrite(&h, sizeof h, 1, f) == 1;
  for (uint64_t i : idx) {
    dseq_record rec;
    src.get(i, rec);
    ok = ok && std::fwrite(&rec, sizeof rec, 1, f) == 1;
  }
  return std::fclose(f) == 0 && ok;
}

struct Stats {
  uint64_t passed = 0, failed = 0, skipped = 0;
  double ours_s = 0, gen_s = 0, qemu_cpu_s = 0;
  std::map<std::string, uint64_t> stops;  // QEMU's stop kinds (coverage)
  std::vector<uint64_t> failing;
};

std::string stop_key(const dseq_result& r) {
  if (r.stop == DSEQ_STOP_END) return "END";
  return std::string(signal_name(r.signo)) + "/" + std::to_string(r.si_code);
}

// Runs records [start, start + count) through one runner process. Returns how
// many results arrived (less than count if the runner died).
uint64_t run_chunk(const Options& opt, const Source& src, uint64_t start, uint64_t count, OurSide& ours,
                   Stats& st) {
  int to_child[2], from_child[2];
  if (pipe(to_child) != 0 || pipe(from_child) != 0) {
    std::perror("difftest: pipe");
    std::exit(3);
  }
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("difftest: fork");
    std::exit(3);
  }
  if (pid == 0) {
    dup2(to_child[0], 0);
    dup2(from_child[1], 1);
    close(to_child[0]);
    close(to_child[1]);
    close(from_child[0]);
    close(from_child[1]);
    execl(opt.qemu.c_str(), opt.qemu.c_str(), "-cpu", "MIPS64R2-generic", opt.runner.c_str(),
          static_cast<char*>(nullptr));
    std::perror("difftest: exec qemu");
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);

  // Writer: generates and streams the records; the reader below drains the
  // results at the same time (no pipe deadlock).
  double gen_s = 0;
  std::thread writer([&, fd = to_child[1]] {
    FILE* w = fdopen(fd, "wb");
    static char buf[1 << 16];
    std::setvbuf(w, buf, _IOFBF, sizeof buf);
    dseq_header h{DSEQ_MAGIC, DSEQ_VERSION, count};
    bool ok = std::fwrite(&h, sizeof h, 1, w) == 1;
    dseq_record rec;
    for (uint64_t i = 0; ok && i < count; ++i) {
      const auto t0 = Clock::now();
      src.get(start + i, rec);
      gen_s += std::chrono::duration<double>(Clock::now() - t0).count();
      ok = std::fwrite(&rec, sizeof rec, 1, w) == 1;
    }
    std::fclose(w);
  });

  FILE* r = fdopen(from_child[0], "rb");
  uint64_t got = 0;
  dseq_record rec;
  dseq_result theirs, mine;
  const CompareOptions cmp{opt.fpu};
  for (; got < count; ++got) {
    if (std::fread(&theirs, sizeof theirs, 1, r) != 1) break;
    const uint64_t idx = start + got;
    src.get(idx, rec);
    const auto t0 = Clock::now();
    ours.run(rec, mine);
    st.ours_s += std::chrono::duration<double>(Clock::now() - t0).count();
    ++st.stops[stop_key(theirs)];
    if (theirs.signo == kSIGALRM || mine.stop == kStopTimeout) {
      ++st.skipped;
      std::printf("sequence %" PRIu64 ": timed out (%s), skipped\n%s", idx,
                  theirs.signo == kSIGALRM ? "QEMU watchdog" : "our step cap",
                  disassemble_record(rec, theirs.pc, "qemu pc", mine.pc, "our pc").c_str());
      continue;
    }
    if (opt.verbose) {
      std::printf("--- sequence %" PRIu64 ": qemu %s\n%s", idx, stop_key(theirs).c_str(),
                  disassemble_record(rec, theirs.pc, "stop").c_str());
    }
    if (results_equal(mine, theirs, cmp)) {
      ++st.passed;
      continue;
    }
    ++st.failed;
    st.failing.push_back(idx);
    if (st.failed <= opt.max_report) {
      const char* fpu = opt.fpu ? " --fpu" : "";
      if (opt.load.empty()) {
        std::printf("=== MISMATCH %" PRIu64 ": seed %" PRIu64 " index %" PRIu64 "  (replay: difftest --seed %" PRIu64
                    " --first %" PRIu64 " --count 1%s) ===\n",
                    st.failed, opt.seed, idx, opt.seed, idx, fpu);
      } else {
        std::printf("=== MISMATCH %" PRIu64 ": record %" PRIu64 " of %s  (replay: difftest --load %s --first %" PRIu64
                    " --count 1%s) ===\n",
                    st.failed, idx, opt.load.c_str(), opt.load.c_str(), idx, fpu);
      }
      std::printf("%s\n", describe_mismatch(rec, mine, theirs, cmp).c_str());
      std::fflush(stdout);
    }
  }
  std::fclose(r);
  writer.join();
  st.gen_s += gen_s;
  int status = 0;
  struct rusage ru;
  wait4(pid, &status, 0, &ru);
  st.qemu_cpu_s += ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
  if (got < count) {
    std::printf("difftest: the runner stopped after %" PRIu64 " of %" PRIu64 " results (%s %d)\n", got, count,
                WIFSIGNALED(status) ? "signal" : "exit status",
                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::printf("difftest: warning: the runner exited with status 0x%x\n", status);
  }
  return got;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  bool count_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "difftest: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--count") opt.count = std::strtoull(val().c_str(), nullptr, 0), count_given = true;
    else if (a == "--seed") opt.seed = std::strtoull(val().c_str(), nullptr, 0);
    else if (a == "--first") opt.first = std::strtoull(val().c_str(), nullptr, 0);
    else if (a == "--qemu") opt.qemu = val();
    else if (a == "--runner") opt.runner = val();
    else if (a == "--save") opt.save = val();
    else if (a == "--load") opt.load = val();
    else if (a == "--max-report") opt.max_report = static_cast<unsigned>(std::strtoul(val().c_str(), nullptr, 0));
    else if (a == "--fpu") opt.fpu = true;
    else if (a == "--verbose") opt.verbose = true;
    else if (a == "--list-exclusions") {
      for (const Exclusion& e : exclusions())
        std::printf("%.*s\n    %.*s\n", static_cast<int>(e.what.size()), e.what.data(),
                    static_cast<int>(e.reason.size()), e.reason.data());
      return 0;
    }
    else if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "difftest: unknown option %s\n", a.c_str());
      usage(stderr);
      return 2;
    }
  }
  std::signal(SIGPIPE, SIG_IGN);

  if (opt.qemu.empty()) opt.qemu = find_in_path("qemu-mips64el");
  if (!executable(opt.qemu)) {
    std::printf("SKIP: qemu-mips64el not found%s (apt-get install qemu-user); difftest needs it as the oracle\n",
                opt.qemu.empty() ? " in PATH" : (" at " + opt.qemu).c_str());
    return kExitSkip;
  }
  if (!executable(opt.runner)) {
    std::printf("SKIP: the oracle runner is not built%s: it needs mips64el-linux-gnuabi64-gcc "
                "(apt-get install gcc-mips64el-linux-gnuabi64), or pass --runner PATH\n",
                opt.runner.empty() ? "" : (" (" + opt.runner + " missing)").c_str());
    return kExitSkip;
  }

  Source src{opt, GenOptions{opt.fpu}, {}, {}};
  if (!opt.load.empty()) {
    if (!load_file(opt.load, src.loaded)) {
      std::fprintf(stderr, "difftest: cannot read records from %s\n", opt.load.c_str());
      return 2;
    }
    if (!count_given || opt.count > src.loaded.size()) opt.count = src.loaded.size();
    if (opt.first > src.loaded.size()) opt.first = src.loaded.size();
    opt.count = std::min<uint64_t>(opt.count, src.loaded.size() - opt.first);
  }

  std::printf("difftest: %" PRIu64 " sequences from %s, first %" PRIu64 "%s\n  qemu:   %s -cpu MIPS64R2-generic\n"
              "  runner: %s\n",
              opt.count, opt.load.empty() ? ("seed " + std::to_string(opt.seed)).c_str() : opt.load.c_str(),
              opt.first, opt.fpu ? ", with FPU" : "", opt.qemu.c_str(), opt.runner.c_str());
  std::fflush(stdout);

  OurSide ours(opt.fpu);
  Stats st;
  const auto t0 = Clock::now();
  uint64_t next = opt.first;
  const uint64_t end = opt.first + opt.count;
  unsigned deaths = 0;
  while (next < end) {
    const uint64_t got = run_chunk(opt, src, next, end - next, ours, st);
    next += got;
    if (next < end) {
      // The record after the last result killed the runner: a failure.
      dseq_record rec;
      src.get(next, rec);
      std::printf("=== RUNNER DIED on sequence %" PRIu64 " (seed %" PRIu64 "):\n%s\n", next, opt.seed,
                  disassemble_record(rec).c_str());
      ++st.failed;
      st.failing.push_back(next);
      ++next;
      if (++deaths >= 10) {
        std::printf("difftest: giving up after %u runner deaths\n", deaths);
        break;
      }
    }
  }
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();

  if (!opt.save.empty() && !st.failing.empty()) {
    if (save_file(opt.save, src, st.failing))
      std::printf("saved %zu failing records to %s (replay: difftest --load %s)\n", st.failing.size(),
                  opt.save.c_str(), opt.save.c_str());
    else
      std::printf("difftest: could not write %s\n", opt.save.c_str());
  }
  const uint64_t total = st.passed + st.failed + st.skipped;
  std::printf("stops (QEMU):");
  for (const auto& [k, v] : st.stops) std::printf(" %s %.1f%%", k.c_str(), total ? 100.0 * v / total : 0.0);
  std::printf("\ntime: %.2f s wall (%.0f sequences/s); qemu runner %.2f s CPU (%.0f/s), ours %.2f s (%.0f/s), "
              "generator %.2f s (x2: writer and checker)\n",
              wall, total / wall, st.qemu_cpu_s, total / std::max(st.qemu_cpu_s, 1e-9), st.ours_s,
              total / std::max(st.ours_s, 1e-9), st.gen_s);
  if (st.skipped) std::printf("%" PRIu64 " skipped (timed out)\n", st.skipped);
  std::printf("%" PRIu64 " passed, %" PRIu64 " failed\n", st.passed, st.failed);
  return st.failed ? 1 : 0;
}
