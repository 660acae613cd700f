#include "cpu/cp0.h"

#include "cpu/mmu.h"

namespace disco {

using namespace cp0;

namespace {
constexpr uint32_t kStatusWritable = Status_IE | Status_EXL | Status_ERL | Status_KSU | Status_UX |
                                     Status_SX | Status_KX | Status_IM | Status_BEV | Status_CU0 |
                                     Status_SR | Status_NMI;  // SR/NMI: software may clear them
constexpr uint32_t kIntCtl_IPTI = 7u << 29;   // timer on IP7
constexpr uint32_t kIntCtl_IPPCI = 7u << 26;  // no performance counters: IP7 too
constexpr uint32_t kIntCtl_VS = 0x1fu << 5;
constexpr uint32_t kCauseWritable = Cause_IP_SW | Cause_IV | Cause_DC;
constexpr uint64_t kXContextFixed = (1ull << (kSegBits - 13 + 4 + 2)) - 1;  // R | BadVPN2 | 0
}  // namespace

unsigned cp0_random(const Cpu& c) {
  const unsigned wired = static_cast<unsigned>(c.s.cp0.wired & 63);
  if (wired >= kTlbEntries) return kTlbEntries - 1;
  return kTlbEntries - 1 - static_cast<unsigned>(c.s.cycles % (kTlbEntries - wired));
}

uint64_t cp0_read(Cpu& c, unsigned regsel) {
  const Cp0State& cp = c.s.cp0;
  switch (regsel) {
    case Index: return cp.index;
    case Random: return cp0_random(c);
    case EntryLo0: return cp.entrylo0;
    case EntryLo1: return cp.entrylo1;
    case Context: return cp.context;
    case UserLocal: return cp.userlocal;
    case PageMask: return cp.pagemask;
    case Wired: return cp.wired;
    case HWREna: return cp.hwrena;
    case BadVAddr: return cp.badvaddr;
    case Count: return c.count();
    case EntryHi: return cp.entryhi;
    case Compare: return cp.compare;
    case Status: return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(cp.status)));
    case IntCtl: return kIntCtl_IPTI | kIntCtl_IPPCI | (cp.intctl & kIntCtl_VS);
    case SRSCtl: return 0;
    case Cause:
      // With host time the timer is otherwise only sampled between chunks;
      // a guest polling Cause (Linux's c0_compare_int_usable) must see it.
      if (c.host_time) c.update_timer();
      c.sync_irq_lines();  // device lines raised by other threads
      return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(cp.cause)));
    case EPC: return cp.epc;
    case PRId: return cp.prid;
    case EBase: return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(cp.ebase & 0xfffff3ffu)));
    case CMGCRBase: return c.cfg.cm_gcr_base >> CMGCRBase_SHIFT;  // 0 without a CM (Config3.CMGCR = 0)
    case Config: return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(cp.config0)));
    case Config1: return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(cp.config1)));
    case Config2: return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(cp.config2)));
    case Config3: return cp.config3;
    case LLAddr: return cp.lladdr;
    case XContext: return cp.xcontext;
    case ErrorEPC: return cp.errorepc;
    case TagLo: return cp.taglo;
    case TagHi: return cp.taghi;
    case DataLo: return cp.datalo;
    case DataHi: return cp.datahi;
    case DESAVE: return cp.desave;
    case ErrCtl: return cp.errctl;
    default: return 0;
  }
}

void cp0_write(Cpu& c, unsigned regsel, uint64_t v) {
  Cp0State& cp = c.s.cp0;
  switch (regsel) {
    case Index: cp.index = (cp.index & 0x80000000u) | (v & (kTlbEntries - 1)); break;
    case EntryLo0: cp.entrylo0 = v & EntryLo_WRITABLE; break;
    case EntryLo1: cp.entrylo1 = v & EntryLo_WRITABLE; break;
    case Context: cp.context = (cp.context & 0x7fffffull) | (v & ~0x7fffffull); break;
    case UserLocal: cp.userlocal = v; break;
    case PageMask: cp.pagemask = v & PageMask_MASK; break;
    case Wired: cp.wired = v & (kTlbEntries - 1); break;
    case HWREna: cp.hwrena = v & 0x2000000full; break;
    case Count: c.set_count(static_cast<uint32_t>(v)); break;
    case EntryHi: {
      const uint64_t nv = v & EntryHi_WRITABLE;
      const bool asid_changed = ((nv ^ cp.entryhi) & EntryHi_ASID) != 0;
      cp.entryhi = nv;
      if (asid_changed) c.translation_changed();
      break;
    }
    case Compare: c.set_compare(static_cast<uint32_t>(v)); break;
    case Status: {
      uint32_t writable = kStatusWritable;
      if (c.cfg.has_fpu) writable |= Status_CU1 | Status_FR;
      const uint32_t old = cp.status;
      cp.status = (old & ~writable) | (static_cast<uint32_t>(v) & writable);
      const uint32_t changed = old ^ cp.status;
      if (changed & (Status_KX | Status_SX | Status_UX | Status_ERL)) c.translation_changed();
      // As MTC0 (this instruction ran in the old mode).
      if (changed & (Status_KSU | Status_EXL | Status_ERL)) c.mode_changed(true);
      c.events |= EV_IRQ_CHECK;
      break;
    }
    case IntCtl: cp.intctl = static_cast<uint32_t>(v) & kIntCtl_VS; break;
    case Cause:
      cp.cause = (cp.cause & ~kCauseWritable) | (static_cast<uint32_t>(v) & kCauseWritable);
      c.events |= EV_IRQ_CHECK;
      break;
    case EPC: cp.epc = v; break;
    case EBase:  // exception base writable; CPUNum read-only
      cp.ebase = 0x80000000u | (static_cast<uint32_t>(v) & 0x3ffff000u) | (cp.ebase & EBase_CPUNum);
      break;
    case Config: cp.config0 = (cp.config0 & ~Config_K0) | (static_cast<uint32_t>(v) & Config_K0); break;
    case XContext: cp.xcontext = (cp.xcontext & kXContextFixed) | (v & ~kXContextFixed); break;
    case ErrorEPC: cp.errorepc = v; break;
    case TagLo: cp.taglo = v; break;
    case TagHi: cp.taghi = v; break;
    case DataLo: cp.datalo = v; break;
    case DataHi: cp.datahi = v; break;
    case DESAVE: cp.desave = v; break;
    case ErrCtl: cp.errctl = static_cast<uint32_t>(v); break;
    default: break;  // read-only or unimplemented
  }
}

void tlb_read(Cpu& c) {
  Cp0State& cp = c.s.cp0;
  const TlbEntry& e = cp.tlb[cp.index & (kTlbEntries - 1)];
  const uint64_t asid_before = cp.entryhi & EntryHi_ASID;
  cp.entryhi = e.entryhi;
  cp.pagemask = e.pagemask;
  const uint64_t g = e.global ? EntryLo_G : 0;
  cp.entrylo0 = (e.entrylo0 & ~EntryLo_G) | g;
  cp.entrylo1 = (e.entrylo1 & ~EntryLo_G) | g;
  if ((cp.entryhi & EntryHi_ASID) != asid_before) c.translation_changed();
}

void tlb_write(Cpu& c, unsigned index) {
  Cp0State& cp = c.s.cp0;
  TlbEntry& e = cp.tlb[index & (kTlbEntries - 1)];
  // Only translations derived from the entry being replaced go stale (a
  // new entry adds mappings for addresses that missed, which the soft TLB
  // never cached), so the rest of the soft TLB survives: TLB refills are
  // frequent under Linux.
  mem::invalidate_tlb_entry(c, e);
  e.pagemask = cp.pagemask;
  // VPN2 bits covered by the page mask are not stored.
  e.entryhi = cp.entryhi & ~cp.pagemask;
  e.entrylo0 = cp.entrylo0;
  e.entrylo1 = cp.entrylo1;
  e.global = (cp.entrylo0 & cp.entrylo1 & EntryLo_G) != 0;
}

void tlb_probe_insn(Cpu& c) {
  Cp0State& cp = c.s.cp0;
  const int i = mem::tlb_probe(c, cp.entryhi);
  cp.index = i < 0 ? 0x80000000u : static_cast<uint64_t>(i);
}

}  // namespace disco
