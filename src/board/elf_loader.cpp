#include "board/elf_loader.h"

#include <elf.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "cpu/phys_bus.h"

namespace disco {

namespace {

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

// Field reader honouring the file's byte order.
struct Reader {
  const std::vector<uint8_t>& b;
  bool be;
  uint64_t get(size_t off, unsigned n) const {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; ++i) {
      const uint64_t byte = b[off + i];
      v |= be ? byte << (8 * (n - 1 - i)) : byte << (8 * i);
    }
    return v;
  }
};

}  // namespace

uint64_t elf_vaddr_to_paddr(uint64_t a) {
  if (a >= 0xffffffff80000000ull && a < 0xffffffffc0000000ull) return a & 0x1fffffffull;
  if ((a >> 62) == 2) return a & ((1ull << 36) - 1);  // xkphys
  return a;
}

bool load_elf(const std::vector<uint8_t>& b, const RamLookup& ram, bool want_be, ElfImage& out,
              std::string& err) {
  if (b.size() < EI_NIDENT || std::memcmp(b.data(), ELFMAG, SELFMAG) != 0) {
    err = "not an ELF file (bad magic)";
    return false;
  }
  if (b[EI_CLASS] != ELFCLASS64) {
    err = b[EI_CLASS] == ELFCLASS32 ? "32-bit ELF files are not supported (need ELF64 for MIPS64)"
                                    : "invalid ELF class";
    return false;
  }
  if (b[EI_DATA] != ELFDATA2LSB && b[EI_DATA] != ELFDATA2MSB) {
    err = "invalid ELF byte order";
    return false;
  }
  const bool be = b[EI_DATA] == ELFDATA2MSB;
  if (be != want_be) {
    err = be ? "ELF is big-endian but the guest is little-endian (use --big-endian)"
             : "ELF is little-endian but the guest is big-endian";
    return false;
  }
  if (b.size() < sizeof(Elf64_Ehdr)) {
    err = "truncated ELF header";
    return false;
  }
  const Reader r{b, be};
  const uint64_t machine = r.get(offsetof(Elf64_Ehdr, e_machine), 2);
  if (machine != EM_MIPS) {
    err = "not a MIPS ELF (e_machine " + std::to_string(machine) + ")";
    return false;
  }
  const uint64_t type = r.get(offsetof(Elf64_Ehdr, e_type), 2);
  if (type != ET_EXEC && type != ET_DYN) {
    err = "ELF is not an executable (e_type " + std::to_string(type) + ")";
    return false;
  }
  const uint64_t phoff = r.get(offsetof(Elf64_Ehdr, e_phoff), 8);
  const uint64_t phentsize = r.get(offsetof(Elf64_Ehdr, e_phentsize), 2);
  const uint64_t phnum = r.get(offsetof(Elf64_Ehdr, e_phnum), 2);
  if (phnum == 0) {
    err = "ELF has no program headers";
    return false;
  }
  if (phentsize != sizeof(Elf64_Phdr) || phoff > b.size() || phnum * phentsize > b.size() - phoff) {
    err = "ELF program header table lies outside the file";
    return false;
  }
  out = ElfImage{};
  out.entry = r.get(offsetof(Elf64_Ehdr, e_entry), 8);
  out.big_endian = be;
  unsigned loaded = 0;
  for (uint64_t i = 0; i < phnum; ++i) {
    const size_t ph = phoff + i * phentsize;
    if (r.get(ph + offsetof(Elf64_Phdr, p_type), 4) != PT_LOAD) continue;
    const uint64_t off = r.get(ph + offsetof(Elf64_Phdr, p_offset), 8);
    const uint64_t vaddr = r.get(ph + offsetof(Elf64_Phdr, p_vaddr), 8);
    const uint64_t paddr_field = r.get(ph + offsetof(Elf64_Phdr, p_paddr), 8);
    const uint64_t filesz = r.get(ph + offsetof(Elf64_Phdr, p_filesz), 8);
    const uint64_t memsz = r.get(ph + offsetof(Elf64_Phdr, p_memsz), 8);
    const std::string seg = "segment " + std::to_string(i) + " (vaddr " + hex(vaddr) + ")";
    if (filesz > memsz) {
      err = seg + ": file size exceeds memory size";
      return false;
    }
    if (filesz && (off > b.size() || filesz > b.size() - off)) {
      err = seg + ": data lies outside the file";
      return false;
    }
    if (memsz == 0) continue;
    const uint64_t paddr = elf_vaddr_to_paddr(paddr_field ? paddr_field : vaddr);
    if (paddr + memsz < paddr) {
      err = seg + ": address range wraps";
      return false;
    }
    // Every page of the segment must be RAM.
    for (uint64_t p = paddr & ~kPageMask; p < paddr + memsz; p += kPageSize) {
      if (!ram(p)) {
        err = seg + ": physical range " + hex(paddr) + ".." + hex(paddr + memsz) +
              " is not inside guest RAM (first bad page " + hex(p) + ")";
        return false;
      }
    }
    for (uint64_t k = 0; k < memsz;) {
      const uint64_t pa = paddr + k;
      const uint64_t chunk = std::min<uint64_t>(memsz - k, kPageSize - (pa & kPageMask));
      uint8_t* dst = ram(pa) + (pa & kPageMask);
      for (uint64_t j = 0; j < chunk; ++j) dst[j] = (k + j < filesz) ? b[off + k + j] : 0;
      k += chunk;
    }
    out.lowest_paddr = std::min(out.lowest_paddr, paddr);
    out.highest_paddr = std::max(out.highest_paddr, paddr + memsz);
    ++loaded;
  }
  if (!loaded) {
    err = "ELF has no loadable segments";
    return false;
  }
  return true;
}

bool read_file(const std::string& path, std::vector<uint8_t>& out, std::string& err) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    err = path + ": " + std::strerror(errno);
    return false;
  }
  out.clear();
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
  const bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) {
    err = path + ": read error";
    return false;
  }
  return true;
}

}  // namespace disco
