// CP0 register numbers and bit fields, named as in the MIPS64 Privileged
// Resource Architecture (MD00091).
#pragma once

#include <cstdint>

namespace disco::cp0 {

// (register, select) pairs, packed as reg * 8 + sel.
constexpr unsigned reg(unsigned r, unsigned sel = 0) { return r * 8 + sel; }
enum : unsigned {
  Index = reg(0), Random = reg(1), EntryLo0 = reg(2), EntryLo1 = reg(3),
  Context = reg(4), UserLocal = reg(4, 2), PageMask = reg(5), PageGrain = reg(5, 1),
  Wired = reg(6), HWREna = reg(7), BadVAddr = reg(8), Count = reg(9),
  EntryHi = reg(10), Compare = reg(11), Status = reg(12), IntCtl = reg(12, 1),
  SRSCtl = reg(12, 2), SRSMap = reg(12, 3), Cause = reg(13), EPC = reg(14),
  PRId = reg(15), EBase = reg(15, 1), CMGCRBase = reg(15, 3), Config = reg(16), Config1 = reg(16, 1),
  Config2 = reg(16, 2), Config3 = reg(16, 3), LLAddr = reg(17), WatchLo = reg(18),
  WatchHi = reg(19), XContext = reg(20), Debug = reg(23), DEPC = reg(24),
  PerfCnt = reg(25), ErrCtl = reg(26), CacheErr = reg(27), TagLo = reg(28),
  DataLo = reg(28, 1), TagHi = reg(29), DataHi = reg(29, 1), ErrorEPC = reg(30),
  DESAVE = reg(31),
};

// Status
constexpr uint32_t Status_IE = 1u << 0;
constexpr uint32_t Status_EXL = 1u << 1;
constexpr uint32_t Status_ERL = 1u << 2;
constexpr uint32_t Status_KSU_SHIFT = 3;
constexpr uint32_t Status_KSU = 3u << 3;  // 0 kernel, 1 supervisor, 2 user
constexpr uint32_t Status_UX = 1u << 5;
constexpr uint32_t Status_SX = 1u << 6;
constexpr uint32_t Status_KX = 1u << 7;
constexpr uint32_t Status_IM_SHIFT = 8;
constexpr uint32_t Status_IM = 0xffu << 8;
constexpr uint32_t Status_NMI = 1u << 19;
constexpr uint32_t Status_SR = 1u << 20;
constexpr uint32_t Status_TS = 1u << 21;
constexpr uint32_t Status_BEV = 1u << 22;
constexpr uint32_t Status_PX = 1u << 23;
constexpr uint32_t Status_MX = 1u << 24;
constexpr uint32_t Status_RE = 1u << 25;
constexpr uint32_t Status_FR = 1u << 26;
constexpr uint32_t Status_RP = 1u << 27;
constexpr uint32_t Status_CU0 = 1u << 28;
constexpr uint32_t Status_CU1 = 1u << 29;
constexpr uint32_t Status_CU2 = 1u << 30;
constexpr uint32_t Status_CU3 = 1u << 31;

// Cause
constexpr uint32_t Cause_ExcCode_SHIFT = 2;
constexpr uint32_t Cause_ExcCode = 0x1fu << 2;
constexpr uint32_t Cause_IP_SHIFT = 8;
constexpr uint32_t Cause_IP = 0xffu << 8;
constexpr uint32_t Cause_IP_SW = 0x3u << 8;  // IP1..IP0: software-writable
constexpr uint32_t Cause_WP = 1u << 22;
constexpr uint32_t Cause_IV = 1u << 23;
constexpr uint32_t Cause_PCI = 1u << 26;
constexpr uint32_t Cause_DC = 1u << 27;
constexpr uint32_t Cause_CE_SHIFT = 28;
constexpr uint32_t Cause_CE = 3u << 28;
constexpr uint32_t Cause_TI = 1u << 30;
constexpr uint32_t Cause_BD = 1u << 31;

// EBase: CPUNum (read-only, the processor's number in the system).
constexpr uint32_t EBase_CPUNum = 0x3ffu;

// Config: K0, the kseg0 cacheability attribute (Linux's CPS code writes 5,
// cacheable coherent write-back, and reads it back).
constexpr uint32_t Config_K0 = 7u;

// Config3: CMGCR, the CMGCRBase register is implemented (a Coherence
// Manager is present).
constexpr uint32_t Config3_CMGCR = 1u << 29;
// CMGCRBase holds physical address bits 35..15 of the CM's GCRs in bits
// 31..11: it reads as the physical base >> 4.
constexpr unsigned CMGCRBase_SHIFT = 4;

// Interrupt line of the Count/Compare timer (IntCtl.IPTI).
constexpr unsigned kTimerIrq = 7;

// ExcCode values.
enum ExcCode : uint32_t {
  EXC_Int = 0, EXC_Mod = 1, EXC_TLBL = 2, EXC_TLBS = 3, EXC_AdEL = 4,
  EXC_AdES = 5, EXC_IBE = 6, EXC_DBE = 7, EXC_Sys = 8, EXC_Bp = 9,
  EXC_RI = 10, EXC_CpU = 11, EXC_Ov = 12, EXC_Tr = 13, EXC_FPE = 15,
  EXC_WATCH = 23, EXC_MCheck = 24,
};

// EntryHi / EntryLo / PageMask
constexpr unsigned kSegBits = 40;  // virtual address bits of xuseg/xsseg/xkseg
constexpr unsigned kPaBits = 36;   // physical address bits
constexpr uint64_t EntryHi_ASID = 0xff;
constexpr uint64_t EntryHi_R_SHIFT = 62;
// VPN2 occupies bits SEGBITS-1..13 (EntryHi bits 12..8 read as zero).
constexpr uint64_t EntryHi_VPN2 = ((1ull << kSegBits) - 1) & ~0x1fffull;
constexpr uint64_t EntryHi_WRITABLE = (3ull << 62) | EntryHi_VPN2 | EntryHi_ASID;
constexpr uint64_t EntryLo_G = 1u << 0;
constexpr uint64_t EntryLo_V = 1u << 1;
constexpr uint64_t EntryLo_D = 1u << 2;
constexpr uint64_t EntryLo_C_SHIFT = 3;
constexpr uint64_t EntryLo_PFN_SHIFT = 6;
// PFN: bits (PABITS-12+6-1)..6.
constexpr uint64_t EntryLo_WRITABLE = ((1ull << (kPaBits - 12 + 6)) - 1);
// PageMask: bits 28..13 select 4 KiB (0) up to 256 MiB; we support up to 16 MiB.
constexpr uint64_t PageMask_MASK = 0x01ffe000;

}  // namespace disco::cp0
