// jit_lockstep: the JIT against the interpreter, block by block, on seeded
// random user-mode instruction sequences from the difftest generator (which
// draws them from the instruction table). No QEMU: the interpreter is the
// reference.
//
// For each record two identical CPUs are set up on two TestBus instances
// (the layout of tests/difftest/our_side.cpp: code and data pages mapped by
// two TLB entries, user mode, UX). The device under test runs one block at
// a time through jit::Jit::run(limit, 1); the reference is brought to the
// same cycle count with interp::run and the architectural state is compared
// after every block. A record ends at its end BREAK (any exception: EXL),
// at its cycle limit, or at the step cap.
//
// Half the records run a second time on their cached translations, from
// the registers and data of another record. One record in four has a small
// cycle limit inside the sequence, so the dispatcher interprets blocks that
// would overrun it. Variants run the same records with each inline class
// switched off, in big-endian mode, in 32-bit user mode (UX = 0: 64-bit
// operations raise RI) and in kernel mode (the generator's few privileged
// instructions execute). A quarter of the records include FPU instructions
// (has_fpu, CU1, FR=1; they run through handler fallbacks). The "sampled"
// variant turns the memory model's sampler on (cpu/mem_sampler.h, one line
// in two) on both CPUs and also compares the data accesses they reported.
//
// Output: one line per variant, a report per mismatch (the variant, seed,
// record index, the disassembled sequence with the block start marked, and
// the differing fields), then "N passed, M failed" (records). Exit status 1
// on any failure.
#include <atomic>
#include <chrono>
#include <map>
#include <utility>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "frontend/cp0_bits.h"
#include "frontend/disasm.h"
#include "interp/interpreter.h"
#include "jit/jit.h"
#include "debug/state_diff.h"
#include "cpu/cpu.h"
#include "tests/difftest/generator.h"
#include "tests/difftest/our_side.h"
#include "tests/difftest/seq_format.h"
#include "tests/support/test_bus.h"

namespace {

using namespace disco;
using namespace disco::cp0;

constexpr uint64_t kCodePhys = 0x100000;
constexpr uint64_t kDataPhys = 0x200000;
constexpr uint64_t kEBase = 0xffffffff80000000ull;  // vectors: never executed
constexpr uint32_t kEndBreak = (DSEQ_END_BREAK_CODE << 6) | 0x0d;
constexpr uint64_t kStepCap = 4096;
constexpr uint64_t kRerunSeed = 0x5eed5eed5eed5eedull;  // cycles per record (sequences only branch forward)

uint64_t entrylo(uint64_t paddr, bool valid) {
  return valid ? (((paddr >> 12) << EntryLo_PFN_SHIFT) | (3u << EntryLo_C_SHIFT) | EntryLo_D | EntryLo_V | EntryLo_G)
               : EntryLo_G;
}

// RAM pages laid out as machine memory is for the sampler: page-aligned,
// at host addresses congruent to their physical addresses modulo 128 KiB,
// so that the two CPUs' memories have the same sampled lines (the sampler
// looks at address bits 7..16).
class CongruentBus : public test::TestBus {
 public:
  static constexpr uint64_t kSpan = 128 << 10;
  uint8_t* ram_page(uint64_t paddr, bool) override {
    if (paddr >= (64ull << 20)) return nullptr;
    auto& block = blocks_[paddr & ~kPageMask];
    if (!block) {
      block.reset(static_cast<uint8_t*>(std::aligned_alloc(kSpan, kSpan)));
      std::memset(block.get(), 0, kSpan);
    }
    return block.get() + (paddr & (kSpan - 1) & ~kPageMask);
  }
  // The physical address of host address `h` (~0: not RAM of this bus).
  uint64_t paddr_of(uintptr_t h) const {
    for (const auto& [page, block] : blocks_) {
      const uintptr_t base = reinterpret_cast<uintptr_t>(block.get()) + (page & (kSpan - 1));
      if (h - base < kPageSize) return page + (h - base);
    }
    return ~0ull;
  }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::map<uint64_t, std::unique_ptr<uint8_t, Free>> blocks_;
};

// One CPU with the record's memory.
struct Side {
  Side(const CpuConfig& cfg, bool sampled) : cpu(bus, cfg) {
    interp::attach(cpu);
    if (sampled) {
      cpu.sampler.on = true;
      cpu.sampler.mask = sample_mask_for_rate(2);
      cpu.sampler.data = [](void* ctx, uintptr_t host, bool write) {
        Side& side = *static_cast<Side*>(ctx);
        side.samples.emplace_back(side.bus.paddr_of(host), write);
        ++side.samples_total;
      };
      cpu.sampler.fetch = [](void*, uint64_t) {};  // the engines differ here by design
      cpu.sampler.ctx = this;
    }
    code = bus.ram_page(kCodePhys, true);
    data = bus.ram_page(kDataPhys, true);
    cpu.s.cp0.tlb[0] = TlbEntry{DSEQ_CODE_ADDR & EntryHi_VPN2, 0, entrylo(kCodePhys, true), entrylo(0, false), true};
    cpu.s.cp0.tlb[1] = TlbEntry{DSEQ_DATA_ADDR & EntryHi_VPN2, 0, entrylo(kDataPhys, true), entrylo(0, false), true};
    cpu.s.cp0.ebase = kEBase & 0xffffffffull;
    cpu.s.cp0.hwrena = 0x2000000f;  // as Linux: CPUNum, SYNCI_Step, CC, CCRes, ULR
    cpu.translation_changed();
    initial = cpu.s;
  }

  // `new_code`: the record's code replaces the page; otherwise only the
  // state and data are loaded and the code (and its translations) stay.
  void load(const dseq_record& rec, bool new_code, uint32_t status) {
    if (new_code) {
      const bool be = cpu.cfg.big_endian;
      std::memset(code, 0, kPageSize);
      for (unsigned i = 0; i <= rec.n_insns; ++i) {
        uint32_t w = i < rec.n_insns ? rec.insns[i] : kEndBreak;
        if (be) w = __builtin_bswap32(w);
        std::memcpy(code + 4 * i, &w, 4);
      }
      // The code page changed behind the CPU's back: the decoded page and
      // (through the code-write hook) the JIT's translations go.
      cpu.code_written(kCodePhys);
    }
    std::memset(data, 0, kPageSize);
    std::memcpy(data, rec.data, DSEQ_DATA_SIZE);
    samples.clear();

    // All state back to the initial one (kernel-mode records may rewrite
    // TLB entries and CP0 registers), then the record's.
    CpuState& s = cpu.s;
    s = initial;
    std::memcpy(s.gpr, rec.state.gpr, sizeof s.gpr);
    s.gpr[0] = 0;
    s.hi = rec.state.hi;
    s.lo = rec.state.lo;
    std::memcpy(s.fpr, rec.state.fpr, sizeof s.fpr);
    s.fcsr = rec.state.fcsr;
    s.pc = DSEQ_CODE_ADDR;
    s.branch_pending = s.in_delay_slot = false;
    s.branch_target = 0;
    s.llbit = false;
    s.ll_vaddr = s.ll_value = 0;
    s.cp0.status = status | (cpu.cfg.has_fpu ? Status_CU1 | Status_FR : 0);
    s.cp0.cause = 0;
    s.cp0.epc = 0;
    s.cp0.badvaddr = 0;
    s.cp0.entryhi = 0;
    s.cp0.context = s.cp0.xcontext = 0;
    s.cycles = 0;
    s.cp0.count_bias = 0;
    cpu.set_compare(0);  // next timer match 2^32 ticks away
    cpu.events = 0;
    cpu.mode_changed();
    cpu.translation_changed();  // every record starts with an empty soft TLB
  }

  CongruentBus bus;
  Cpu cpu;
  CpuState initial;
  uint8_t* code;
  uint8_t* data;
  std::vector<std::pair<uint64_t, bool>> samples;  // data samples: physical address, store
  uint64_t samples_total = 0;
};

// A reference and a device under test with one configuration.
struct Pair {
  Pair(const CpuConfig& cfg, jit::JitClasses cls, bool sampled)
      : ref(cfg, sampled), dut(cfg, sampled), jit(dut.cpu, cls) {}
  Side ref, dut;
  jit::Jit jit;
};

struct Variant {
  const char* name;
  jit::JitClasses classes;
  bool big_endian;
  bool small;       // runs the smaller count
  uint32_t status;  // the privilege bits the records start with
  bool sampled = false;  // the memory model's sampler on
};

constexpr uint32_t kUser64 = (2u << Status_KSU_SHIFT) | Status_UX;
constexpr uint32_t kUser32 = 2u << Status_KSU_SHIFT;  // 64-bit operations raise RI
constexpr uint32_t kKernel = Status_KX | Status_SX | Status_UX;  // privileged instructions run

constexpr Variant kVariants[] = {
    {"all-classes", {true, true, true}, false, false, kUser64},
    {"no-alu", {false, true, true}, false, true, kUser64},
    {"no-mem", {true, false, true}, false, true, kUser64},
    {"no-branch", {true, true, false}, false, true, kUser64},
    {"big-endian", {true, true, true}, true, true, kUser64},
    {"user32", {true, true, true}, false, true, kUser32},
    {"kernel", {true, true, true}, false, true, kKernel},
    {"sampled", {true, true, true}, false, true, kUser64, true},
};

struct Options {
  uint64_t seed = 1;
  uint64_t count = 100000;       // records of the full variant
  uint64_t small_count = 25000;  // records of each other variant
  uint64_t first = 0;
  const char* only = nullptr;    // one variant by name
  unsigned max_report = 5;
  unsigned jobs = 2;
  bool verbose = false;
};

// Differences between the two CPUs (empty: they agree).
std::string compare(Side& d, Side& r) {
  std::string out = state_differences(d.cpu.s, r.cpu.s);
  for (unsigned k = 0; k < kPageSize; k += 8) {
    if (std::memcmp(d.data + k, r.data + k, 8) == 0) continue;
    uint64_t x, y;
    std::memcpy(&x, d.data + k, 8);
    std::memcpy(&y, r.data + k, 8);
    char line[96];
    std::snprintf(line, sizeof line, "    data+0x%03x       jit %016" PRIx64 "   interp %016" PRIx64 "\n", k, x, y);
    out += line;
  }
  if (d.samples != r.samples) {
    char line[128];
    std::snprintf(line, sizeof line, "    data samples      jit %zu   interp %zu (or differing)\n", d.samples.size(),
                  r.samples.size());
    out += line;
  }
  return out;
}

struct RecordResult {
  bool ok = true;
  uint64_t blocks = 0;
  std::string report;
};

// The cycle limit of record `index`: usually the step cap; for one record
// in four a small limit inside the sequence, so that blocks that would
// overrun it are interpreted instead (the dispatcher's budget path).
uint64_t limit_of(const dseq_record& rec, uint64_t index) {
  if (index % 4 != 1) return kStepCap;
  return 1 + (index * 7919) % (rec.n_insns + 2);
}

// Runs `rec`; with `rerun`, the code already loaded (and translated) runs
// again from the state and data of `rec`.
RecordResult run_record(Pair& p, const Variant& v, uint64_t seed, uint64_t index, const dseq_record& rec,
                        bool rerun, bool verbose) {
  RecordResult res;
  p.ref.load(rec, !rerun, v.status);
  p.dut.load(rec, !rerun, v.status);
  Cpu& d = p.dut.cpu;
  Cpu& r = p.ref.cpu;
  const uint64_t limit = limit_of(rec, index);
  std::string diff;
  uint64_t block_pc = 0;
  while (!(d.s.cp0.status & Status_EXL) && d.s.cycles < limit) {
    block_pc = d.s.pc;
    const uint64_t before = d.s.cycles;
    const StopReason why = p.jit.run(limit, 1);
    ++res.blocks;
    while (r.s.cycles < d.s.cycles) {
      if (interp::run(r, d.s.cycles) != StopReason::Budget) break;
    }
    // The two run loops sample the timer at different points.
    d.update_timer();
    r.update_timer();
    diff = compare(p.dut, p.ref);
    if (verbose)
      std::printf("  block at %016" PRIx64 ": cycles %" PRIu64 " -> %" PRIu64 "%s\n", block_pc, before, d.s.cycles,
                  diff.empty() ? "" : "  MISMATCH");
    if (!diff.empty()) break;
    if (why == StopReason::Wait) break;  // WAIT in kernel mode: both idle here
    if (d.s.cycles == before && !(d.s.cp0.status & Status_EXL)) {
      diff = "    the JIT made no progress (cycles stayed at " + std::to_string(before) + ")\n";
      break;
    }
  }
  // A record that ends by its limit must have stopped exactly there.
  if (diff.empty() && r.s.cycles != d.s.cycles) diff = "    cycles differ at the end\n";
  if (diff.empty()) return res;
  res.ok = false;
  char head[256];
  std::snprintf(head, sizeof head,
                "MISMATCH variant %s seed %" PRIu64 " record %" PRIu64 "%s%s (cycle limit %" PRIu64 ")\n"
                "  after the block starting at %016" PRIx64 " (jit cycle %" PRIu64 ")\n",
                v.name, seed, index, d.cfg.has_fpu ? " [fpu]" : "",
                rerun ? " [second run: cached translations, other initial state]" : "", limit, block_pc, d.s.cycles);
  res.report = head;
  res.report += "  sequence:\n" + difftest::disassemble_record(rec, block_pc, "block start");
  res.report += "  differences:\n" + diff;
  std::snprintf(head, sizeof head, "  reproduce: jit_lockstep --variant %s --seed %" PRIu64 " --first %" PRIu64
                " --count 1 --verbose\n", v.name, seed, index);
  res.report += head;
  return res;
}

struct VariantResult {
  uint64_t passed = 0, failed = 0, blocks = 0;
  uint64_t jit_blocks = 0, interp_steps = 0, compiled = 0, invalidations = 0, samples = 0;
  double seconds = 0;
  std::string reports;
};

// Records [first, first + count) of `seed` on variant `v`.
VariantResult run_variant(const Variant& v, const Options& opt, uint64_t count) {
  VariantResult out;
  const auto t0 = std::chrono::steady_clock::now();
  CpuConfig cfg;
  cfg.big_endian = v.big_endian;
  auto plain = std::make_unique<Pair>(cfg, v.classes, v.sampled);
  cfg.has_fpu = true;
  auto fpu = std::make_unique<Pair>(cfg, v.classes, v.sampled);
  unsigned reported = 0;
  dseq_record rec, other;
  for (uint64_t k = 0; k < count; ++k) {
    const uint64_t index = opt.first + k;
    difftest::GenOptions gen;
    gen.fpu = index % 4 == 3;
    difftest::make_record(opt.seed, index, gen, rec);
    if (opt.verbose) std::printf("%s record %" PRIu64 "%s:\n", v.name, index, gen.fpu ? " [fpu]" : "");
    Pair& p = gen.fpu ? *fpu : *plain;
    RecordResult r = run_record(p, v, opt.seed, index, rec, false, opt.verbose);
    if (r.ok && index % 2 == 0) {
      // Half the records run again on their cached translations, from the
      // registers and data of another record (branches go other ways).
      difftest::make_record(opt.seed ^ kRerunSeed, index, gen, other);
      std::memcpy(&other.insns, &rec.insns, sizeof rec.insns);
      other.n_insns = rec.n_insns;
      other.state.gpr[difftest::kJumpReg] = rec.state.gpr[difftest::kJumpReg];
      if (opt.verbose) std::printf("%s record %" PRIu64 " again:\n", v.name, index);
      const uint64_t first_blocks = r.blocks;
      r = run_record(p, v, opt.seed, index, other, true, opt.verbose);
      r.blocks += first_blocks;
    }
    out.blocks += r.blocks;
    if (r.ok) {
      ++out.passed;
    } else {
      ++out.failed;
      if (reported++ < opt.max_report) out.reports += r.report;
    }
  }
  for (const Pair* p : {plain.get(), fpu.get()}) {
    out.jit_blocks += p->jit.stats().blocks_executed;
    out.interp_steps += p->jit.stats().interp_steps;
    out.compiled += p->jit.stats().blocks_compiled;
    out.invalidations += p->jit.stats().invalidations;
    out.samples += p->ref.samples_total;
  }
  if (v.sampled && out.samples == 0) {
    // Nothing was compared: the check would pass whatever the JIT did.
    ++out.failed;
    out.reports += "sampled: no data access was sampled\n";
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

void usage(FILE* f) {
  std::fprintf(f,
               "usage: jit_lockstep [options]\n"
               "  --seed S         generator seed (default 1)\n"
               "  --count N        records of the all-classes variant (default 100000)\n"
               "  --small-count M  records of each other variant (default 25000)\n"
               "  --first I        index of the first record (default 0)\n"
               "  --variant NAME   run only this variant (with --count records):\n"
               "                   all-classes no-alu no-mem no-branch big-endian user32 kernel\n"
               "                   sampled\n"
               "  --jobs J         variants run on J threads (default 2)\n"
               "  --max-report K   full reports per variant (default 5)\n"
               "  --verbose        print every block\n");
}

bool parse_u64(const char* s, uint64_t& v) {
  char* end;
  v = std::strtoull(s, &end, 0);
  return *s && !*end;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto num = [&](uint64_t& v) {
      if (i + 1 >= argc || !parse_u64(argv[++i], v)) {
        std::fprintf(stderr, "jit_lockstep: %s needs a number\n", a.c_str());
        std::exit(2);
      }
    };
    uint64_t n;
    if (a == "--seed") num(opt.seed);
    else if (a == "--count") num(opt.count);
    else if (a == "--small-count") num(opt.small_count);
    else if (a == "--first") num(opt.first);
    else if (a == "--jobs") { num(n); opt.jobs = n ? static_cast<unsigned>(n) : 1; }
    else if (a == "--max-report") { num(n); opt.max_report = static_cast<unsigned>(n); }
    else if (a == "--variant" && i + 1 < argc) opt.only = argv[++i];
    else if (a == "--verbose") opt.verbose = true;
    else if (a == "--help" || a == "-h") { usage(stdout); return 0; }
    else {
      usage(stderr);
      return 2;
    }
  }
  std::vector<const Variant*> todo;
  for (const Variant& v : kVariants)
    if (!opt.only || std::string(opt.only) == v.name) todo.push_back(&v);
  if (todo.empty()) {
    std::fprintf(stderr, "jit_lockstep: no variant named %s\n", opt.only);
    return 2;
  }
  if (opt.verbose) opt.jobs = 1;

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<VariantResult> results(todo.size());
  // Variants are independent: spread them over the threads, the big one first.
  std::vector<std::thread> threads;
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t k; (k = next++) < todo.size();) {
      const Variant& v = *todo[k];
      results[k] = run_variant(v, opt, opt.only || !v.small ? opt.count : opt.small_count);
    }
  };
  for (unsigned t = 1; t < opt.jobs && t < todo.size(); ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();

  uint64_t passed = 0, failed = 0, blocks = 0;
  for (size_t k = 0; k < todo.size(); ++k) {
    const VariantResult& r = results[k];
    std::fputs(r.reports.c_str(), stdout);
    std::printf("%-12s %7" PRIu64 " records, %8" PRIu64 " steps checked (%" PRIu64 " translated blocks, %" PRIu64
                " interpreter steps; %" PRIu64 " compiled, %" PRIu64 " invalidated), %" PRIu64 " failed (%.1f s)\n",
                todo[k]->name, r.passed + r.failed, r.blocks, r.jit_blocks, r.interp_steps, r.compiled,
                r.invalidations, r.failed, r.seconds);
    if (todo[k]->sampled) std::printf("%-12s %" PRIu64 " data samples compared\n", "", r.samples);
    passed += r.passed;
    failed += r.failed;
    blocks += r.blocks;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%" PRIu64 " blocks checked in %.1f s\n", blocks, secs);
  std::printf("%" PRIu64 " passed, %" PRIu64 " failed\n", passed, failed);
  return failed ? 1 : 0;
}
