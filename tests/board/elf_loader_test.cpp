// The ELF loader must accept what the toolchain makes and reject every
// malformed file with a message, never crash or write outside RAM.
#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "board/elf_loader.h"
#include "cpu/phys_bus.h"
#include "tests/support/make_elf.h"

namespace disco {
namespace {

// 1 MiB of "RAM" at physical 0.
struct Ram {
  std::vector<uint8_t> mem = std::vector<uint8_t>(1 << 20, 0xee);
  RamLookup lookup() {
    return [this](uint64_t pa) -> uint8_t* { return pa < mem.size() ? mem.data() + (pa & ~kPageMask) : nullptr; };
  }
};

using disco::test::make_elf;

Elf64_Phdr* phdr(std::vector<uint8_t>& f) { return reinterpret_cast<Elf64_Phdr*>(f.data() + sizeof(Elf64_Ehdr)); }
Elf64_Ehdr* ehdr(std::vector<uint8_t>& f) { return reinterpret_cast<Elf64_Ehdr*>(f.data()); }

TEST(ElfLoader, LoadsKseg0SegmentAtPhysicalAddressAndZeroFillsBss) {
  Ram ram;
  auto f = make_elf(0xffffffff80001000ull, {1, 2, 3, 4}, 0x2000);
  ElfImage img;
  std::string err;
  ASSERT_TRUE(load_elf(f, ram.lookup(), false, img, err)) << err;
  EXPECT_EQ(img.entry, 0xffffffff80001000ull);
  EXPECT_EQ(ram.mem[0x1000], 1);
  EXPECT_EQ(ram.mem[0x1003], 4);
  EXPECT_EQ(ram.mem[0x1004], 0);   // bss zeroed
  EXPECT_EQ(ram.mem[0x2fff], 0);
  EXPECT_EQ(ram.mem[0x3000], 0xee);  // untouched beyond memsz
  EXPECT_EQ(img.lowest_paddr, 0x1000u);
  EXPECT_EQ(img.highest_paddr, 0x3000u);
}

TEST(ElfLoader, TranslatesXkphysAddresses) {
  Ram ram;
  auto f = make_elf(0x9800000000004000ull, {7}, 1);
  ElfImage img;
  std::string err;
  ASSERT_TRUE(load_elf(f, ram.lookup(), false, img, err)) << err;
  EXPECT_EQ(ram.mem[0x4000], 7);
}

TEST(ElfLoader, RejectsMalformedFilesWithMessages) {
  Ram ram;
  ElfImage img;
  std::string err;
  const auto good = make_elf(0xffffffff80001000ull, {1, 2, 3, 4}, 4);

  EXPECT_FALSE(load_elf({}, ram.lookup(), false, img, err));
  EXPECT_NE(err.find("not an ELF"), std::string::npos);

  auto f = good;
  f[EI_CLASS] = ELFCLASS32;
  EXPECT_FALSE(load_elf(f, ram.lookup(), false, img, err));
  EXPECT_NE(err.find("32-bit"), std::string::npos);

  f = good;
  ehdr(f)->e_machine = EM_X86_64;
  EXPECT_FALSE(load_elf(f, ram.lookup(), false, img, err));
  EXPECT_NE(err.find("not a MIPS"), std::string::npos);

  EXPECT_FALSE(load_elf(good, ram.lookup(), true, img, err));
  EXPECT_NE(err.find("little-endian"), std::string::npos);

  f = good;
  ehdr(f)->e_phoff = 1ull << 40;
  EXPECT_FALSE(load_elf(f, ram.lookup(), false, img, err));
  EXPECT_NE(err.find("program header"), std::string::npos);

  f = good;
  phdr(f)->p_offset = f.size() - 2;  // data runs past the end of the file
  EXPECT_FALSE(load_elf(f, ram.lookup(), false, img, err));
  EXPECT_NE(err.find("outside the file"), std::string::npos);

  f = good;
  phdr(f)->p_paddr = phdr(f)->p_vaddr = 0xffffffff80200000ull;  // beyond 1 MiB of RAM
  EXPECT_FALSE(load_elf(f, ram.lookup(), false, img, err));
  EXPECT_NE(err.find("not inside guest RAM"), std::string::npos);

  f = good;
  phdr(f)->p_memsz = ~0ull;  // wraps
  EXPECT_FALSE(load_elf(f, ram.lookup(), false, img, err));

  f = good;
  phdr(f)->p_filesz = 100;
  phdr(f)->p_memsz = 10;
  EXPECT_FALSE(load_elf(f, ram.lookup(), false, img, err));

  f = good;
  f.resize(sizeof(Elf64_Ehdr) - 1);
  EXPECT_FALSE(load_elf(f, ram.lookup(), false, img, err));
}

TEST(ElfLoader, SurvivesRandomCorruption) {
  // Flip random bytes of a valid file many times: the loader either loads
  // inside RAM or reports an error; it never crashes (ASan checks writes).
  const auto good = make_elf(0xffffffff80001000ull, std::vector<uint8_t>(300, 0x5a), 600);
  std::mt19937 rng(1234);
  for (int iter = 0; iter < 20000; ++iter) {
    Ram ram;
    auto f = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) f[rng() % f.size()] = static_cast<uint8_t>(rng());
    if (rng() % 8 == 0) f.resize(rng() % f.size());
    ElfImage img;
    std::string err;
    if (!load_elf(f, ram.lookup(), false, img, err)) {
      EXPECT_FALSE(err.empty());
    }
  }
}

}  // namespace
}  // namespace disco
