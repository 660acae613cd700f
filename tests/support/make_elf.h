// A minimal valid ELF64 little-endian MIPS executable with one PT_LOAD, for
// tests of the ELF loader and of guests built from a few instructions.
#pragma once

#include <elf.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace disco::test {

inline std::vector<uint8_t> make_elf(uint64_t vaddr, const std::vector<uint8_t>& payload, uint64_t memsz) {
  std::vector<uint8_t> f(sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr));
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_MIPS;
  eh.e_version = EV_CURRENT;
  eh.e_entry = vaddr;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  Elf64_Phdr ph{};
  ph.p_type = PT_LOAD;
  ph.p_offset = f.size();
  ph.p_vaddr = vaddr;
  ph.p_paddr = vaddr;
  ph.p_filesz = payload.size();
  ph.p_memsz = memsz;
  std::memcpy(f.data(), &eh, sizeof eh);
  std::memcpy(f.data() + sizeof eh, &ph, sizeof ph);
  const size_t at = f.size();
  f.resize(at + payload.size());
  if (!payload.empty()) std::memcpy(f.data() + at, payload.data(), payload.size());
  return f;
}

}  // namespace disco::test
