// Loads and stores, including the unaligned pairs and LL/SC.
#include <type_traits>

#include "interp/common.h"
#include "interp/handlers.h"

namespace disco::interp {

// T: memory width; the value sign-extends when Signed.
template <typename T, bool Signed>
static void load_op(Cpu& c, const DecodedInsn& d) {
  T v;
  if (!mem::load<T>(c, effective_address(c, d), v)) return;
  using ST = std::make_signed_t<T>;
  set_gpr(c, f::rt(d.raw), Signed ? static_cast<uint64_t>(static_cast<int64_t>(static_cast<ST>(v)))
                                  : static_cast<uint64_t>(v));
}
template <typename T>
static void store_op(Cpu& c, const DecodedInsn& d) {
  mem::store<T>(c, effective_address(c, d), static_cast<T>(rt(c, d)));
}

DISCO_HANDLER(LB) { load_op<uint8_t, true>(c, d); }
DISCO_HANDLER(LBU) { load_op<uint8_t, false>(c, d); }
DISCO_HANDLER(LH) { load_op<uint16_t, true>(c, d); }
DISCO_HANDLER(LHU) { load_op<uint16_t, false>(c, d); }
DISCO_HANDLER(LW) { load_op<uint32_t, true>(c, d); }
DISCO_HANDLER(LWU) {
  if (require_64(c)) load_op<uint32_t, false>(c, d);
}
DISCO_HANDLER(LD) {
  if (require_64(c)) load_op<uint64_t, false>(c, d);
}
DISCO_HANDLER(SB) { store_op<uint8_t>(c, d); }
DISCO_HANDLER(SH) { store_op<uint16_t>(c, d); }
DISCO_HANDLER(SW) { store_op<uint32_t>(c, d); }
DISCO_HANDLER(SD) {
  if (require_64(c)) store_op<uint64_t>(c, d);
}

// ---- unaligned pairs -------------------------------------------------------
// `k` is the little-endian byte lane of the addressed byte within the aligned
// word (for big-endian guests the lanes are mirrored). LWL/LDL fill the
// register from its most significant byte down; LWR/LDR from the least up.
template <unsigned N>
static unsigned lane(const Cpu& c, uint64_t vaddr) {
  const unsigned o = vaddr & (N - 1);
  return c.cfg.big_endian ? N - 1 - o : o;
}

template <typename T>
static void load_lr(Cpu& c, const DecodedInsn& d, bool left) {
  constexpr unsigned N = sizeof(T);
  const uint64_t vaddr = effective_address(c, d);
  T word;
  if (!mem::load<T>(c, vaddr & ~static_cast<uint64_t>(N - 1), word)) {
    // A TLB or address error names the effective address, not the aligned
    // word (same page, so Context/EntryHi are already right).
    const uint32_t exc = (c.s.cp0.cause & Cause_ExcCode) >> Cause_ExcCode_SHIFT;
    if (exc == EXC_TLBL || exc == EXC_AdEL) c.s.cp0.badvaddr = vaddr;
    return;
  }
  const unsigned k = lane<N>(c, vaddr);
  const T old = static_cast<T>(rt(c, d));
  T r;
  if (left) {
    const unsigned shift = (N - 1 - k) * 8;
    r = static_cast<T>(word << shift) | (old & static_cast<T>((T(1) << shift) - 1));
  } else {
    const unsigned shift = k * 8;
    r = static_cast<T>(old & ~static_cast<T>(static_cast<T>(~T(0)) >> shift)) | static_cast<T>(word >> shift);
  }
  // The 32-bit forms sign-extend the merged word (as QEMU does; the manual
  // leaves the upper half UNPREDICTABLE when the sign byte was not loaded).
  set_gpr(c, f::rt(d.raw), N == 4 ? sext32(r) : static_cast<uint64_t>(r));
}

template <typename T>
static void store_lr(Cpu& c, const DecodedInsn& d, bool left) {
  constexpr unsigned N = sizeof(T);
  const uint64_t vaddr = effective_address(c, d);
  const uint64_t aligned = vaddr & ~static_cast<uint64_t>(N - 1);
  const unsigned k = lane<N>(c, vaddr);
  const T v = static_cast<T>(rt(c, d));
  // Lanes written: SWL k..0 with v >> shift, SWR k..N-1 with v << shift.
  // Bytes go one by one starting at vaddr; they share one page, so either
  // the first faults and nothing is written, or all succeed. The sampler
  // sees one store, at vaddr (the first byte): they share one line too.
  const T shifted = left ? static_cast<T>(v >> ((N - 1 - k) * 8)) : static_cast<T>(v << (k * 8));
  const int step = left ? -1 : 1;
  const int end = left ? -1 : static_cast<int>(N);
  for (int i = static_cast<int>(k); i != end; i += step) {
    const uint64_t addr = aligned + (c.cfg.big_endian ? N - 1 - i : i);
    const uint8_t b = static_cast<uint8_t>(shifted >> (8 * i));
    if (!(i == static_cast<int>(k) ? mem::store<uint8_t>(c, addr, b) : mem::store<uint8_t, false>(c, addr, b)))
      return;
  }
}

DISCO_HANDLER(LWL) { load_lr<uint32_t>(c, d, true); }
DISCO_HANDLER(LWR) { load_lr<uint32_t>(c, d, false); }
DISCO_HANDLER(LDL) { if (require_64(c)) load_lr<uint64_t>(c, d, true); }
DISCO_HANDLER(LDR) { if (require_64(c)) load_lr<uint64_t>(c, d, false); }
DISCO_HANDLER(SWL) { store_lr<uint32_t>(c, d, true); }
DISCO_HANDLER(SWR) { store_lr<uint32_t>(c, d, false); }
DISCO_HANDLER(SDL) { if (require_64(c)) store_lr<uint64_t>(c, d, true); }
DISCO_HANDLER(SDR) { if (require_64(c)) store_lr<uint64_t>(c, d, false); }

// ---- LL/SC -----------------------------------------------------------------
template <typename T>
static void load_linked(Cpu& c, const DecodedInsn& d) {
  const uint64_t vaddr = effective_address(c, d);
  T v;
  if (!mem::load<T>(c, vaddr, v)) return;
  uint64_t paddr = 0;
  mem::translate(c, vaddr, Access::Load, paddr, false);
  c.s.cp0.lladdr = paddr >> 4;
  c.s.llbit = true;
  c.s.ll_vaddr = vaddr;
  c.s.ll_value = v;
  set_gpr(c, f::rt(d.raw), sizeof(T) == 4 ? sext32(v) : static_cast<uint64_t>(v));
}

// SC fails without touching memory unless LLbit is set for this address;
// it then succeeds only if memory still holds what LL read.
template <typename T>
static void store_conditional(Cpu& c, const DecodedInsn& d) {
  const uint64_t vaddr = effective_address(c, d);
  const unsigned rt_ = f::rt(d.raw);
  if (!c.s.llbit || vaddr != c.s.ll_vaddr) {
    if (vaddr & (sizeof(T) - 1)) return raise_address_error(c, vaddr, Access::Store);
    // An SC to another address than the LL's is UNPREDICTABLE; like QEMU,
    // it fails and leaves the link alone.
    set_gpr(c, rt_, 0);
    return;
  }
  // Atomic against other host threads: the store happens only if memory
  // still holds what LL read (the value-based link; see docs/cpu.md).
  bool ok;
  if (!mem::compare_and_swap(c, vaddr, sizeof(T), static_cast<T>(c.s.ll_value), static_cast<T>(c.s.gpr[rt_]), ok))
    return;
  c.s.llbit = false;
  set_gpr(c, rt_, ok ? 1 : 0);
}

DISCO_HANDLER(LL) { load_linked<uint32_t>(c, d); }
DISCO_HANDLER(LLD) { if (require_64(c)) load_linked<uint64_t>(c, d); }
DISCO_HANDLER(SC) { store_conditional<uint32_t>(c, d); }
DISCO_HANDLER(SCD) { if (require_64(c)) store_conditional<uint64_t>(c, d); }

// pref hint, offset(base) — a hint; never faults.
DISCO_HANDLER(PREF) {}

// Coprocessor 2 does not exist: Status.CU2 is always 0.
DISCO_HANDLER(LWC2) { raise_cpu_unusable(c, 2); }
DISCO_HANDLER(LDC2) { raise_cpu_unusable(c, 2); }
DISCO_HANDLER(SWC2) { raise_cpu_unusable(c, 2); }
DISCO_HANDLER(SDC2) { raise_cpu_unusable(c, 2); }
DISCO_HANDLER(COP2) { raise_cpu_unusable(c, 2); }

}  // namespace disco::interp
