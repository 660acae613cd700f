// Loading an ELF64 MIPS executable (kernel or bare-metal guest) into guest
// physical memory. Every header field is checked against the file size and
// the guest's RAM; a bad file yields an error message, never a crash.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace disco {

struct ElfImage {
  uint64_t entry = 0;
  uint64_t lowest_paddr = ~0ull;  // physical extent of the loaded segments
  uint64_t highest_paddr = 0;     // one past the end
  bool big_endian = false;
};

// Host pointer for guest-physical `paddr` if it is RAM (page granular), else null.
using RamLookup = std::function<uint8_t*(uint64_t paddr)>;

// Physical address of a kernel-segment virtual address: ckseg0/ckseg1 and
// xkphys translate; anything else is taken as physical already.
uint64_t elf_vaddr_to_paddr(uint64_t addr);

// Parses and loads `bytes` (the file's contents). On failure returns false
// and sets `error` to a one-line description naming the problem.
bool load_elf(const std::vector<uint8_t>& bytes, const RamLookup& ram, bool want_big_endian, ElfImage& out,
              std::string& error);

// Reads a whole file; false with `error` naming the path on failure.
bool read_file(const std::string& path, std::vector<uint8_t>& out, std::string& error);

}  // namespace disco
