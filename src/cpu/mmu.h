// Guest memory access for the engines: an inline soft-TLB hit path and an
// out-of-line slow path that walks the segments and the guest TLB, asks the
// bus for the page, raises the guest's exceptions precisely, and refills.
//
// Every accessor returns false when it raised a guest exception; the caller
// (an instruction handler) simply returns.
//
// Every guest load or store that reaches RAM is offered to the memory
// model's sampler (Cpu::sampler, cpu/mem_sampler.h) with its host address,
// after the soft-TLB hit or the refill and before the access; device
// (MMIO) accesses are not memory and are not sampled. Only the engines'
// accesses come through here: the debugger and the monitor read guest
// memory by other ways, and are not sampled.
#pragma once

#include <cstdint>
#include <cstring>

#include "cpu/cpu.h"

namespace disco::mem {

// Virtual → physical through segments and the guest TLB. With `raise`, a
// failure delivers the guest exception (AdE, TLB refill/invalid/modified).
bool translate(Cpu& c, uint64_t vaddr, Access acc, uint64_t& paddr, bool raise = true);

// The debugger's view: `vaddr` translated as the guest would load from it
// now (segments for the current mode, the guest TLB with the current ASID),
// with no side effect at all: no exception, no soft-TLB refill. False when
// the address is unmapped or not accessible in this mode.
bool debug_translate(const Cpu& c, uint64_t vaddr, uint64_t& paddr);

bool load_slow(Cpu& c, uint64_t vaddr, unsigned size, uint64_t& out);
// `sampled`: false for the bytes after the first of SWL/SWR, which the
// sampler sees as one access.
bool store_slow(Cpu& c, uint64_t vaddr, unsigned size, uint64_t value, bool sampled = true);

// The sampler's view of an access to RAM at `host` (see above). Off: one
// predictable branch.
inline void sample_data(Cpu& c, uintptr_t host, bool write) {
  if (__builtin_expect(c.sampler.on, 0) && line_sampled(host, c.sampler.mask))
    c.sampler.push_data(host, write);
}

inline unsigned stlb_index(uint64_t vaddr) { return (vaddr >> 12) & (kSoftTlbSize - 1); }

template <typename T>
inline T to_guest_order(const Cpu& c, T v) {
  if (c.cfg.big_endian) {
    if constexpr (sizeof(T) == 2) return static_cast<T>(__builtin_bswap16(v));
    if constexpr (sizeof(T) == 4) return static_cast<T>(__builtin_bswap32(v));
    if constexpr (sizeof(T) == 8) return static_cast<T>(__builtin_bswap64(v));
  }
  return v;
}

// T is an unsigned integer of 1, 2, 4 or 8 bytes. The address must be
// naturally aligned (misalignment goes to the slow path, which raises AdE).
template <typename T>
inline bool load(Cpu& c, uint64_t vaddr, T& out) {
  const SoftTlbEntry& e = c.stlb_load[stlb_index(vaddr)];
  if (__builtin_expect(e.tag == ((vaddr & ~(kPageMask ^ (sizeof(T) - 1))) | c.mode_key), 1)) {
    // Naturally aligned (the tag keeps the low bits): one relaxed atomic
    // access, as the guest's own access is single-copy atomic against
    // other processors (a plain mov on x86-64).
    const uintptr_t host = e.addend + vaddr;
    sample_data(c, host, false);
    const T v = __atomic_load_n(reinterpret_cast<const T*>(host), __ATOMIC_RELAXED);
    out = to_guest_order(c, v);
    return true;
  }
  uint64_t v;
  if (!load_slow(c, vaddr, sizeof(T), v)) return false;
  out = static_cast<T>(v);
  return true;
}

// kSampled = false: not offered to the sampler (SWL/SWR's later bytes).
template <typename T, bool kSampled = true>
inline bool store(Cpu& c, uint64_t vaddr, T value) {
  const SoftTlbEntry& e = c.stlb_store[stlb_index(vaddr)];
  if (__builtin_expect(e.tag == ((vaddr & ~(kPageMask ^ (sizeof(T) - 1))) | c.mode_key), 1)) {
    const uintptr_t host = e.addend + vaddr;
    if constexpr (kSampled) sample_data(c, host, true);
    __atomic_store_n(reinterpret_cast<T*>(host), to_guest_order(c, value), __ATOMIC_RELAXED);
    return true;
  }
  return store_slow(c, vaddr, sizeof(T), value, kSampled);
}

// SC's store: atomically replaces the `size`-byte value at `vaddr` by
// `desired` if it still equals `expected` (values as numbers, converted to
// the guest's byte order here), against other host threads. Translates as a
// store does (TLB Modified, copy-on-write, self-modifying code). False
// when it raised a guest exception; else `swapped` says whether it stored.
// Sampled as a store whether or not it swaps (the line is fetched for
// writing either way).
// A device (MMIO) target is compared and written without atomicity.
bool compare_and_swap(Cpu& c, uint64_t vaddr, unsigned size, uint64_t expected, uint64_t desired,
                      bool& swapped);

// Drop every soft-TLB entry (load and store).
void flush_soft_tlb(Cpu& c);
// Drop store entries that point into guest-physical page `ppage` (code
// was decoded from it, so stores must take the slow path).
void flush_store_entries(Cpu& c);

// Drops the load and store entries that point into host page `host_page`
// (the monitor is remapping or write-protecting that machine page).
void invalidate_host_page(Cpu& c, const uint8_t* host_page);

// Drops the soft-TLB entries (and the fetch page) that guest TLB entry `e`
// may have produced: same R and VPN2 under its page mask, any ASID.
void invalidate_tlb_entry(Cpu& c, const TlbEntry& e);

// Guest TLB probe: index of the entry matching EntryHi (VPN2, R, ASID/G), or -1.
int tlb_probe(const Cpu& c, uint64_t entryhi);

}  // namespace disco::mem
