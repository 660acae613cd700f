#include "debug/lockstep.h"

#include <cstdio>
#include <cstring>

#include "board/elf_loader.h"
#include "debug/state_diff.h"
#include "frontend/disasm.h"
#include "interp/interpreter.h"

namespace disco::debug {

namespace {
std::string hex64(uint64_t v) {
  char b[20];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}
}  // namespace

LockstepChecker::LockstepChecker(Vm& reference, uint64_t ram_check_cycles)
    : ref_(reference), ram_check_cycles_(ram_check_cycles), next_ram_check_(ram_check_cycles) {}

void LockstepChecker::on_console_input(uint8_t byte) { ref_.uart().push_input(byte); }

// The reference executed the same WAIT (after_step compared there): it idles alike.
void LockstepChecker::on_idle_skip(Vm&, uint64_t cycle) { ref_.skip_idle_to(cycle); }

// Brings the reference to the checked VM's cycle count and compares.
bool LockstepChecker::after_step(Vm& vm, uint64_t block_pc) {
  Cpu& d = vm.cpu();
  Cpu& r = ref_.cpu();
  while (r.s.cycles < d.s.cycles) {
    // A reference that stops early (WAIT, power-off) shows up in the
    // comparison below as a cycle or pc difference.
    if (interp::run(r, d.s.cycles) != StopReason::Budget) break;
  }
  // Timer state is sampled at slightly different points by the two run
  // loops; bring both up to date (no instruction runs in between).
  d.update_timer();
  r.update_timer();
  std::string diff = state_differences(d.s, r.s);
  if (diff.empty() && d.s.cycles >= next_ram_check_) {
    next_ram_check_ = d.s.cycles + ram_check_cycles_;
    GuestMemory& a = vm.memory();
    GuestMemory& b = ref_.memory();
    for (uint64_t g = 0; g < a.pages(); ++g) {
      if (std::memcmp(a.peek(g), b.peek(g), kPageSize) != 0) {
        diff += "  RAM page at physical " + hex64(a.paddr_of(g)) + " differs\n";
        break;
      }
    }
  }
  if (diff.empty()) return true;
  report_ = "lockstep: JIT and interpreter differ after the block at " + hex64(block_pc) + " (cycle " +
            std::to_string(d.s.cycles) + ")\n" + diff;
  // The block as the guest sees it (kernel segments only: no translation needed).
  const uint64_t pa = elf_vaddr_to_paddr(block_pc);
  if (pa != block_pc) {
    for (unsigned k = 0; k < 24; ++k) {
      const uint64_t a = pa + 4 * k;
      const uint8_t* page = vm.ram_page(a, false);
      if (!page) break;
      uint32_t w;
      std::memcpy(&w, page + (a & kPageMask), 4);
      if (d.cfg.big_endian) w = __builtin_bswap32(w);
      report_ += "    " + hex64(block_pc + 4 * k) + ": " + disassemble(w, block_pc + 4 * k) + "\n";
    }
  }
  return false;
}

}  // namespace disco::debug
