#include "cpu/mmu.h"

#include <cassert>

#include "cpu/code_registry.h"
#include "cpu/exception.h"

namespace disco::mem {
namespace {

using namespace cp0;

constexpr uint64_t kPaMask = (1ull << kPaBits) - 1;
constexpr uint64_t kSegMask = (1ull << kSegBits) - 1;

enum class Seg { Unmapped, Mapped, Bad };

// Decodes the segment of `vaddr` for the current mode (PRA "Address Space").
// For unmapped segments, `paddr` receives the physical address.
Seg segment(const Cpu& c, uint64_t vaddr, uint64_t& paddr) {
  const uint32_t st = c.s.cp0.status;
  const unsigned mode = c.mode();
  if (static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(vaddr))) == vaddr) {
    // 32-bit compatibility segments (sign-extended addresses).
    const uint32_t a = static_cast<uint32_t>(vaddr);
    if (a < 0x80000000u) {  // useg / suseg / kuseg
      if (st & Status_ERL) {  // kuseg unmapped and uncached while ERL = 1
        paddr = a;
        return Seg::Unmapped;
      }
      return Seg::Mapped;
    }
    if (a < 0xc0000000u) {  // kseg0 (cached) / kseg1 (uncached)
      if (mode != 0) return Seg::Bad;
      paddr = a & 0x1fffffffu;
      return Seg::Unmapped;
    }
    if (a < 0xe0000000u) return mode <= 1 ? Seg::Mapped : Seg::Bad;  // sseg / ksseg
    return mode == 0 ? Seg::Mapped : Seg::Bad;                       // kseg3
  }
  switch (vaddr >> 62) {
    case 0:  // xuseg: needs UX whatever the mode
      return ((st & Status_UX) && vaddr <= kSegMask) ? Seg::Mapped : Seg::Bad;
    case 1:  // xsseg
      return (mode <= 1 && (st & Status_SX) && (vaddr & ~(3ull << 62)) <= kSegMask) ? Seg::Mapped
                                                                                    : Seg::Bad;
    case 2:  // xkphys: bits 61..59 are the cache attribute, 58..PABITS must be 0
      if (mode != 0 || !(st & Status_KX) || (vaddr & 0x07ffffffffffffffull) > kPaMask) return Seg::Bad;
      paddr = vaddr & kPaMask;
      return Seg::Unmapped;
    default:  // xkseg (the ckseg compatibility range was handled above)
      return (mode == 0 && (st & Status_KX) && (vaddr & ~(3ull << 62)) <= kSegMask) ? Seg::Mapped
                                                                                     : Seg::Bad;
  }
}

}  // namespace

int tlb_probe(const Cpu& c, uint64_t entryhi) {
  const uint64_t asid = entryhi & EntryHi_ASID;
  for (unsigned i = 0; i < kTlbEntries; ++i) {
    const TlbEntry& e = c.s.cp0.tlb[i];
    const uint64_t cmp = (3ull << 62) | (EntryHi_VPN2 & ~e.pagemask);
    if (((e.entryhi ^ entryhi) & cmp) == 0 && (e.global || (e.entryhi & EntryHi_ASID) == asid))
      return static_cast<int>(i);
  }
  return -1;
}

bool translate(Cpu& c, uint64_t vaddr, Access acc, uint64_t& paddr, bool raise) {
  Seg seg = segment(c, vaddr, paddr);
  if (seg == Seg::Unmapped) return true;
  if (seg == Seg::Bad) {
    if (raise) raise_address_error(c, vaddr, acc);
    return false;
  }
  // Mapped: compare with EntryHi-shaped key (R bits, VPN2, current ASID).
  const uint64_t key = (vaddr & ((3ull << 62) | EntryHi_VPN2)) | (c.s.cp0.entryhi & EntryHi_ASID);
  int i = tlb_probe(c, key);
  if (i < 0) {
    if (raise) raise_tlb_refill(c, vaddr, acc);
    return false;
  }
  const TlbEntry& e = c.s.cp0.tlb[i];
  // The even/odd page is chosen by the address bit just above the page offset.
  const uint64_t page_bytes = ((e.pagemask | 0x1fff) + 1) >> 1;
  const uint64_t lo = (vaddr & page_bytes) ? e.entrylo1 : e.entrylo0;
  if (!(lo & EntryLo_V)) {
    if (raise) raise_tlb_invalid(c, vaddr, acc);
    return false;
  }
  if (acc == Access::Store && !(lo & EntryLo_D)) {
    if (raise) raise_tlb_modified(c, vaddr);
    return false;
  }
  const uint64_t pfn = (lo & EntryLo_WRITABLE) >> EntryLo_PFN_SHIFT;
  paddr = ((pfn << 12) & ~(page_bytes - 1) & kPaMask) | (vaddr & (page_bytes - 1));
  return true;
}

bool debug_translate(const Cpu& c, uint64_t vaddr, uint64_t& paddr) {
  // translate() changes nothing when it does not raise.
  return translate(const_cast<Cpu&>(c), vaddr, Access::Load, paddr, false);
}

void flush_soft_tlb(Cpu& c) {
  for (auto& e : c.stlb_load) e.tag = 0;
  for (auto& e : c.stlb_store) e.tag = 0;
  for (auto& e : c.stlb_fetch) e.tag = 0;
}

void invalidate_tlb_entry(Cpu& c, const TlbEntry& e) {
  const uint64_t cmp = (3ull << 62) | (EntryHi_VPN2 & ~e.pagemask);
  auto stale = [&](uint64_t vaddr) { return ((vaddr ^ e.entryhi) & cmp) == 0; };
  auto check = [&](unsigned i) {
    if (c.stlb_load[i].tag && stale(c.stlb_load[i].tag & ~kPageMask)) c.stlb_load[i].tag = 0;
    if (c.stlb_store[i].tag && stale(c.stlb_store[i].tag & ~kPageMask)) c.stlb_store[i].tag = 0;
    if (c.stlb_fetch[i].tag && stale(c.stlb_fetch[i].tag & ~kPageMask)) c.stlb_fetch[i].tag = 0;
  };
  // A soft-TLB slot only holds pages of its index: the entry's pair of
  // pages covers `pages` consecutive indices (all of them when large).
  const uint64_t pages = ((e.pagemask | 0x1fff) + 1) >> 12;
  if (pages < kSoftTlbSize) {
    const uint64_t first = (e.entryhi & EntryHi_VPN2 & ~e.pagemask) >> 12;
    for (uint64_t k = 0; k < pages; ++k) check(static_cast<unsigned>((first + k) & (kSoftTlbSize - 1)));
  } else {
    for (unsigned i = 0; i < kSoftTlbSize; ++i) check(i);
  }
  if (c.fetch_vpage != ~0ull && stale(c.fetch_vpage)) c.fetch_vpage = ~0ull;
}

void invalidate_host_page(Cpu& c, const uint8_t* host_page) {
  const uintptr_t hp = reinterpret_cast<uintptr_t>(host_page);
  for (auto* table : {c.stlb_load, c.stlb_store})
    for (unsigned i = 0; i < kSoftTlbSize; ++i)
      if (table[i].tag && (table[i].tag & ~kPageMask) + table[i].addend == hp) table[i].tag = 0;
}

void flush_store_entries(Cpu& c) {
  for (auto& e : c.stlb_store) e.tag = 0;
}

namespace {

// Guest accesses are naturally aligned and single-copy atomic against
// other processors: relaxed atomic accesses (plain movs on x86-64).
template <typename T>
T host_load(const uint8_t* p) {
  return __atomic_load_n(reinterpret_cast<const T*>(p), __ATOMIC_RELAXED);
}
template <typename T>
void host_store(uint8_t* p, T v) {
  __atomic_store_n(reinterpret_cast<T*>(p), v, __ATOMIC_RELAXED);
}

uint64_t read_host(const Cpu& c, const uint8_t* p, unsigned size) {
  switch (size) {
    case 1: return host_load<uint8_t>(p);
    case 2: return to_guest_order(c, host_load<uint16_t>(p));
    case 4: return to_guest_order(c, host_load<uint32_t>(p));
    default: return to_guest_order(c, host_load<uint64_t>(p));
  }
}

void write_host(const Cpu& c, uint8_t* p, unsigned size, uint64_t value) {
  switch (size) {
    case 1: host_store<uint8_t>(p, static_cast<uint8_t>(value)); break;
    case 2: host_store<uint16_t>(p, to_guest_order(c, static_cast<uint16_t>(value))); break;
    case 4: host_store<uint32_t>(p, to_guest_order(c, static_cast<uint32_t>(value))); break;
    default: host_store<uint64_t>(p, to_guest_order(c, value)); break;
  }
}

// Whether a store into `ppage` must retire decoded code: this processor's
// own, or (with a registry) any processor's.
bool holds_code(const Cpu& c, uint64_t ppage) {
  if (!c.code_pages.empty() && c.code_pages.count(ppage)) return true;
  return c.code_registry && c.code_registry->contains(ppage);
}

}  // namespace

namespace {

// The soft-TLB entry of `vaddr`'s page at host `page`, in the current mode.
void refill(const Cpu& c, SoftTlbEntry& e, uint64_t vaddr, uint8_t* page) {
  // (PhysBus::ram_page: what the JIT's sampling relies on.)
  assert(!c.sampler.on || (reinterpret_cast<uintptr_t>(page) & kPageMask) == 0);
  e.tag = (vaddr & ~kPageMask) | c.mode_key;
  e.addend = reinterpret_cast<uintptr_t>(page) - (vaddr & ~kPageMask);
}

// Where a store to `vaddr` goes, as the slow path finds it: AdES when
// misaligned, the TLB's exceptions, copy-on-write (the bus's page for
// writing). False when it raised. `host` is the byte in RAM, or null for a
// device at `paddr`; `code` says the page holds decoded code, in which case
// no store entry is filled (every store to it comes back here), else the
// entry is refilled.
bool store_target(Cpu& c, uint64_t vaddr, unsigned size, uint64_t& paddr, uint8_t*& host, bool& code) {
  if (vaddr & (size - 1)) {
    raise_address_error(c, vaddr, Access::Store);
    return false;
  }
  if (!translate(c, vaddr, Access::Store, paddr)) return false;
  host = nullptr;
  code = false;
  uint8_t* page = c.bus->ram_page(paddr & ~kPageMask, true);
  if (!page) return true;
  code = holds_code(c, paddr & ~kPageMask);
  if (!code) refill(c, c.stlb_store[stlb_index(vaddr)], vaddr, page);
  host = page + (paddr & kPageMask);
  return true;
}

}  // namespace

bool load_slow(Cpu& c, uint64_t vaddr, unsigned size, uint64_t& out) {
  if (vaddr & (size - 1)) {
    raise_address_error(c, vaddr, Access::Load);
    return false;
  }
  uint64_t paddr;
  if (!translate(c, vaddr, Access::Load, paddr)) return false;
  if (uint8_t* page = c.bus->ram_page(paddr & ~kPageMask, false)) {
    refill(c, c.stlb_load[stlb_index(vaddr)], vaddr, page);
    const uint8_t* host = page + (paddr & kPageMask);
    sample_data(c, reinterpret_cast<uintptr_t>(host), false);
    out = read_host(c, host, size);
    return true;
  }
  if (!c.bus->mmio_read(paddr, size, out)) {
    raise_bus_error(c, Access::Load);
    return false;
  }
  return true;
}

bool store_slow(Cpu& c, uint64_t vaddr, unsigned size, uint64_t value, bool sampled) {
  uint64_t paddr;
  uint8_t* host;
  bool code;
  if (!store_target(c, vaddr, size, paddr, host, code)) return false;
  if (host) {
    if (sampled) sample_data(c, reinterpret_cast<uintptr_t>(host), true);
    write_host(c, host, size, value);
    // Self-modifying (or cross-modifying) code: the store goes through,
    // then the decoded page is retired here and in the other holders
    // (after the write: a holder re-decoding it must read the new value).
    if (code) c.code_written(paddr & ~kPageMask);
    return true;
  }
  if (!c.bus->mmio_write(paddr, size, value)) {
    raise_bus_error(c, Access::Store);
    return false;
  }
  return true;
}

namespace {
template <typename T>
bool cas_host(const Cpu& c, uint8_t* p, uint64_t expected, uint64_t desired) {
  T want = to_guest_order(c, static_cast<T>(expected));
  const T put = to_guest_order(c, static_cast<T>(desired));
  // The guest's data is naturally aligned (checked by the caller), so the
  // host pointer is too.
  return __atomic_compare_exchange_n(reinterpret_cast<T*>(p), &want, put, false, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST);
}
}  // namespace

bool compare_and_swap(Cpu& c, uint64_t vaddr, unsigned size, uint64_t expected, uint64_t desired,
                      bool& swapped) {
  uint8_t* host = nullptr;
  uint64_t paddr = 0;
  bool code = false;
  const SoftTlbEntry& hit = c.stlb_store[stlb_index(vaddr)];
  if (hit.tag == ((vaddr & ~(kPageMask ^ (size - 1))) | c.mode_key)) {
    host = reinterpret_cast<uint8_t*>(hit.addend + vaddr);  // a store entry: RAM without code
  } else {
    if (!store_target(c, vaddr, size, paddr, host, code)) return false;
    if (!host) {
      uint64_t cur;
      if (!c.bus->mmio_read(paddr, size, cur)) {
        raise_bus_error(c, Access::Store);
        return false;
      }
      const uint64_t mask = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
      swapped = (cur & mask) == (expected & mask);
      if (swapped && !c.bus->mmio_write(paddr, size, desired)) {
        raise_bus_error(c, Access::Store);
        return false;
      }
      return true;
    }
  }
  sample_data(c, reinterpret_cast<uintptr_t>(host), true);  // RAM (a device returned above)
  swapped = size == 4 ? cas_host<uint32_t>(c, host, expected, desired) : cas_host<uint64_t>(c, host, expected, desired);
  if (swapped && code) c.code_written(paddr & ~kPageMask);  // as store_slow does
  return true;
}

}  // namespace disco::mem
