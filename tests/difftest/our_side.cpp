#include "tests/difftest/our_side.h"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <set>

#include "frontend/cp0_bits.h"
#include "frontend/decoder.h"
#include "frontend/disasm.h"
#include "frontend/insn.h"
#include "interp/interpreter.h"
#include "cpu/cpu.h"
#include "tests/support/test_bus.h"

namespace disco::difftest {

using namespace cp0;

namespace {
constexpr uint64_t kCodePhys = 0x100000;
constexpr uint64_t kDataPhys = 0x200000;
constexpr uint64_t kEBase = 0xffffffff80000000ull;  // vectors in kseg0, never executed
constexpr uint32_t kEndBreak = (DSEQ_END_BREAK_CODE << 6) | 0x0d;

// si_code values QEMU's linux-user uses.
constexpr int32_t kSiKernel = 128;
constexpr int32_t kTrapBrkpt = 1, kFpeIntovf = 2, kFpeFltdiv = 3, kFpeFltovf = 4, kFpeFltund = 5,
                  kFpeFltres = 6, kFpeFltinv = 7, kFpeFltunk = 14, kSegvMaperr = 1, kBusAdraln = 1;

uint64_t entrylo(uint64_t paddr, bool valid) {
  return valid ? (((paddr >> 12) << EntryLo_PFN_SHIFT) | (3u << EntryLo_C_SHIFT) | EntryLo_D | EntryLo_V | EntryLo_G)
               : EntryLo_G;
}
}  // namespace

struct OurSide::Impl {
  explicit Impl(bool fpu) : cpu(bus, make_cfg(fpu)) {
    interp::attach(cpu);
    code = bus.ram_page(kCodePhys, true);
    data = bus.ram_page(kDataPhys, true);
    TlbEntry& c = cpu.s.cp0.tlb[0];
    c = TlbEntry{DSEQ_CODE_ADDR & EntryHi_VPN2, 0, entrylo(kCodePhys, true), entrylo(0, false), true};
    TlbEntry& d = cpu.s.cp0.tlb[1];
    d = TlbEntry{DSEQ_DATA_ADDR & EntryHi_VPN2, 0, entrylo(kDataPhys, true), entrylo(0, false), true};
    cpu.s.cp0.ebase = kEBase & 0xffffffffull;
    cpu.s.cp0.hwrena = 0x2000000f;  // as Linux: CPUNum, SYNCI_Step, CC, CCRes, ULR
    cpu.translation_changed();
  }
  static CpuConfig make_cfg(bool fpu) {
    CpuConfig cfg;
    cfg.has_fpu = fpu;
    return cfg;
  }

  test::TestBus bus;
  Cpu cpu;
  uint8_t* code;
  uint8_t* data;
};

OurSide::OurSide(bool fpu) : impl_(std::make_unique<Impl>(fpu)) {}
OurSide::~OurSide() = default;

void OurSide::run(const dseq_record& rec, dseq_result& out) {
  Cpu& cpu = impl_->cpu;
  const unsigned n = rec.n_insns;
  // Memory: code then the end BREAK, data; the rest of both pages zero.
  std::memset(impl_->code, 0, kPageSize);
  std::memcpy(impl_->code, rec.insns, 4 * n);
  std::memcpy(impl_->code + 4 * n, &kEndBreak, 4);
  std::memset(impl_->data, 0, kPageSize);
  std::memcpy(impl_->data, rec.data, DSEQ_DATA_SIZE);
  // The code page changed behind the CPU's back: drop decoded code.
  cpu.forget_code();

  CpuState& s = cpu.s;
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
  // User mode, 64-bit user addressing, FPU usable with 64-bit FPRs.
  s.cp0.status = (2u << Status_KSU_SHIFT) | Status_UX | (cpu.cfg.has_fpu ? Status_CU1 | Status_FR : 0);
  s.cp0.cause = 0;
  s.cp0.epc = 0;
  s.cp0.badvaddr = 0;
  cpu.events = 0;
  cpu.mode_changed();

  unsigned steps = 0;
  while (steps < kStepCap && !(s.cp0.status & Status_EXL)) {
    interp::step(cpu);
    ++steps;
  }

  std::memset(&out, 0, sizeof out);
  std::memcpy(out.state.gpr, s.gpr, sizeof s.gpr);
  out.state.gpr[0] = 0;
  out.state.hi = s.hi;
  out.state.lo = s.lo;
  std::memcpy(out.state.fpr, s.fpr, sizeof s.fpr);
  out.state.fcsr = s.fcsr;
  std::memcpy(out.data, impl_->data, DSEQ_DATA_SIZE);
  if (!(s.cp0.status & Status_EXL)) {
    out.stop = kStopTimeout;
    out.signo = kSIGALRM;
    out.si_code = kSiKernel;
    out.pc = s.pc;
    return;
  }
  const uint32_t exc = (s.cp0.cause & Cause_ExcCode) >> Cause_ExcCode_SHIFT;
  const bool bd = s.cp0.cause & Cause_BD;
  out.stop = DSEQ_STOP_SIGNAL;
  out.pc = s.cp0.epc;
  switch (exc) {
    case EXC_Bp:
      out.signo = kSIGTRAP;
      out.si_code = kTrapBrkpt;
      if (!bd && s.cp0.epc == DSEQ_CODE_ADDR + 4ull * n) out.stop = DSEQ_STOP_END;
      break;
    case EXC_Tr:
      out.signo = kSIGTRAP;
      out.si_code = kSiKernel;
      break;
    case EXC_Ov:
      out.signo = kSIGFPE;
      out.si_code = kFpeIntovf;
      break;
    case EXC_FPE: {
      const uint32_t cause = (s.fcsr >> 12) & 0x3f;
      out.signo = kSIGFPE;
      out.si_code = (cause & 0x10) ? kFpeFltinv : (cause & 0x08) ? kFpeFltdiv : (cause & 0x04) ? kFpeFltovf
                  : (cause & 0x02) ? kFpeFltund : (cause & 0x01) ? kFpeFltres : kFpeFltunk;
      break;
    }
    case EXC_RI:
    case EXC_CpU:
      out.signo = kSIGILL;
      out.si_code = kSiKernel;
      break;
    case EXC_TLBL:
    case EXC_TLBS:
    case EXC_Mod:
      out.signo = kSIGSEGV;
      out.si_code = kSegvMaperr;
      out.badvaddr = s.cp0.badvaddr;
      break;
    case EXC_AdEL:
    case EXC_AdES: {
      // QEMU: misaligned -> SIGBUS; an aligned address outside user space is
      // just unmapped to it -> SIGSEGV.
      unsigned size = 4;  // instruction fetch
      const uint64_t insn_pc = s.cp0.epc + (bd ? 4 : 0);
      if (!(exc == EXC_AdEL && s.cp0.badvaddr == insn_pc) && insn_pc >= DSEQ_CODE_ADDR &&
          insn_pc < DSEQ_CODE_ADDR + kPageSize) {
        uint32_t w;
        std::memcpy(&w, impl_->code + (insn_pc - DSEQ_CODE_ADDR), 4);
        const uint32_t fl = info(decode(w)).flags;
        size = (fl & F_UNALIGNED) ? 1 : std::max(1u, access_size(fl));  // LWL...: never misaligned
      }
      const bool misaligned = s.cp0.badvaddr & (size - 1);
      out.signo = misaligned ? kSIGBUS : kSIGSEGV;
      out.si_code = misaligned ? kBusAdraln : kSegvMaperr;
      out.badvaddr = s.cp0.badvaddr;
      break;
    }
    default:  // Sys, IBE/DBE, ...: nothing QEMU would report the same way
      out.signo = 100 + exc;
      out.si_code = 0;
      break;
  }
}

const char* signal_name(uint32_t signo) {
  switch (signo) {
    case kSIGILL: return "SIGILL";
    case kSIGTRAP: return "SIGTRAP";
    case kSIGFPE: return "SIGFPE";
    case kSIGBUS: return "SIGBUS";
    case kSIGSEGV: return "SIGSEGV";
    case kSIGALRM: return "SIGALRM";
    case 12: return "SIGSYS";
    default: return signo >= 100 ? "unmapped-exception" : "SIG?";
  }
}

namespace {
bool has_badvaddr(uint32_t signo) { return signo == kSIGSEGV || signo == kSIGBUS; }

// QEMU user mode (guest_base 0) reaches a non-canonical x86-64 address as a
// host general-protection fault, which the host kernel reports with
// si_addr = 0. Ours reports the address: that is the same event.
bool same_badvaddr(uint64_t ours, uint64_t qemu) {
  const bool host_noncanonical = static_cast<uint64_t>(static_cast<int64_t>(ours << 16) >> 16) != ours;
  return ours == qemu || (qemu == 0 && host_noncanonical);
}

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

std::string stop_text(const dseq_result& r) {
  std::string s = r.stop == DSEQ_STOP_END ? "END" : r.stop == DSEQ_STOP_SIGNAL ? "SIGNAL" : "TIMEOUT";
  s += fmt(" %s(%u)/%d pc=0x%" PRIx64, signal_name(r.signo), r.signo, r.si_code, r.pc);
  if (has_badvaddr(r.signo)) s += fmt(" addr=0x%" PRIx64, r.badvaddr);
  return s;
}
}  // namespace

bool results_equal(const dseq_result& a, const dseq_result& b, const CompareOptions& opt) {
  if (a.stop != b.stop || a.signo != b.signo || a.si_code != b.si_code || a.pc != b.pc) return false;
  if (has_badvaddr(a.signo) && !same_badvaddr(a.badvaddr, b.badvaddr)) return false;
  for (unsigned r = 1; r < 32; ++r)
    if (a.state.gpr[r] != b.state.gpr[r]) return false;
  if (a.state.hi != b.state.hi || a.state.lo != b.state.lo) return false;
  if (opt.fpu) {
    if (std::memcmp(a.state.fpr, b.state.fpr, sizeof a.state.fpr) != 0) return false;
    if (a.state.fcsr != b.state.fcsr) return false;
  }
  return std::memcmp(a.data, b.data, DSEQ_DATA_SIZE) == 0;
}

std::string disassemble_record(const dseq_record& rec, uint64_t mark_a, const char* label_a, uint64_t mark_b,
                               const char* label_b) {
  std::string out;
  for (unsigned i = 0; i <= rec.n_insns; ++i) {
    const uint64_t pc = DSEQ_CODE_ADDR + 4ull * i;
    const uint32_t w = i < rec.n_insns ? rec.insns[i] : kEndBreak;
    std::string line = fmt("    0x%08" PRIx64 ": %08x  %-34s", pc, w, disassemble(w, pc).c_str());
    if (i == rec.n_insns) line += " (end)";
    if (label_a && pc == mark_a) line += std::string(" <- ") + label_a;
    if (label_b && pc == mark_b) line += std::string(" <- ") + label_b;
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string describe_mismatch(const dseq_record& rec, const dseq_result& ours, const dseq_result& qemu,
                              const CompareOptions& opt) {
  std::string out;
  const bool same_pc = ours.pc == qemu.pc;
  out += "  sequence:\n";
  out += disassemble_record(rec, ours.pc, same_pc ? "ours, qemu stop" : "ours stop", same_pc ? 0 : qemu.pc,
                            same_pc ? nullptr : "qemu stop");
  out += "  stop:  ours " + stop_text(ours) + "\n         qemu " + stop_text(qemu) + "\n";

  // Registers the sequence names (GPR fields), with their initial values.
  std::set<unsigned> used;
  for (unsigned i = 0; i < rec.n_insns; ++i) {
    const uint32_t w = rec.insns[i];
    used.insert(field::rs(w));
    used.insert(field::rt(w));
    used.insert(field::rd(w));
  }
  used.erase(0);
  out += "  initial registers named by the sequence:\n";
  unsigned col = 0;
  for (unsigned r : used) {
    out += fmt("    %-4s=%016" PRIx64, gpr_name(r), rec.state.gpr[r]);
    if (++col % 3 == 0) out += "\n";
  }
  if (col % 3) out += "\n";
  out += fmt("    hi  =%016" PRIx64 "    lo  =%016" PRIx64 "\n", rec.state.hi, rec.state.lo);

  // The differences.
  std::string diffs;
  auto row = [&](const std::string& name, uint64_t init, uint64_t a, uint64_t b) {
    diffs += fmt("    %-10s %016" PRIx64 "   %016" PRIx64 "   %016" PRIx64 "\n", name.c_str(), init, a, b);
  };
  for (unsigned r = 1; r < 32; ++r)
    if (ours.state.gpr[r] != qemu.state.gpr[r])
      row(fmt("%s($%u)", gpr_name(r), r), rec.state.gpr[r], ours.state.gpr[r], qemu.state.gpr[r]);
  if (ours.state.hi != qemu.state.hi) row("hi", rec.state.hi, ours.state.hi, qemu.state.hi);
  if (ours.state.lo != qemu.state.lo) row("lo", rec.state.lo, ours.state.lo, qemu.state.lo);
  if (opt.fpu) {
    for (unsigned r = 0; r < 32; ++r)
      if (ours.state.fpr[r] != qemu.state.fpr[r])
        row(fmt("$f%u", r), rec.state.fpr[r], ours.state.fpr[r], qemu.state.fpr[r]);
    if (ours.state.fcsr != qemu.state.fcsr) row("fcsr", rec.state.fcsr, ours.state.fcsr, qemu.state.fcsr);
  }
  for (unsigned k = 0; k < DSEQ_DATA_SIZE; k += 8) {
    if (std::memcmp(ours.data + k, qemu.data + k, 8) == 0) continue;
    uint64_t i, a, b;
    std::memcpy(&i, rec.data + k, 8);
    std::memcpy(&a, ours.data + k, 8);
    std::memcpy(&b, qemu.data + k, 8);
    row(fmt("data+0x%02x", k), i, a, b);
  }
  if (!diffs.empty()) {
    out += "  differences (data rows: little-endian 64-bit words):\n";
    out += fmt("    %-10s %-16s   %-16s   %-16s\n", "", "initial", "ours", "qemu");
    out += diffs;
  }
  return out;
}

}  // namespace disco::difftest
