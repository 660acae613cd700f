#include "debug/state_diff.h"

#include <algorithm>
#include <cstdio>

#include "frontend/disasm.h"

namespace disco {

std::string state_differences(const CpuState& a, const CpuState& b) {
  std::string out;
  auto cmp = [&](const std::string& name, uint64_t x, uint64_t y) {
    if (x == y) return;
    char line[96];
    std::snprintf(line, sizeof line, "    %-16s jit %016llx   interp %016llx\n", name.c_str(),
                  static_cast<unsigned long long>(x), static_cast<unsigned long long>(y));
    out += line;
  };
  for (unsigned i = 1; i < 32; ++i) cmp(std::string(gpr_name(i)) + "($" + std::to_string(i) + ")", a.gpr[i], b.gpr[i]);
  cmp("hi", a.hi, b.hi);
  cmp("lo", a.lo, b.lo);
  cmp("pc", a.pc, b.pc);
  cmp("cycles", a.cycles, b.cycles);
  cmp("branch_pending", a.branch_pending, b.branch_pending);
  if (a.branch_pending || b.branch_pending) cmp("branch_target", a.branch_target, b.branch_target);
  cmp("llbit", a.llbit, b.llbit);
  if (a.llbit && b.llbit) {
    cmp("ll_vaddr", a.ll_vaddr, b.ll_vaddr);
    cmp("ll_value", a.ll_value, b.ll_value);
  }
  cmp("Status", a.cp0.status, b.cp0.status);
  cmp("Cause", a.cp0.cause, b.cp0.cause);
  cmp("EPC", a.cp0.epc, b.cp0.epc);
  cmp("BadVAddr", a.cp0.badvaddr, b.cp0.badvaddr);
  cmp("EntryHi", a.cp0.entryhi, b.cp0.entryhi);
  cmp("Context", a.cp0.context, b.cp0.context);
  cmp("XContext", a.cp0.xcontext, b.cp0.xcontext);
  cmp("Compare", a.cp0.compare, b.cp0.compare);
  cmp("FCSR", a.fcsr, b.fcsr);
  for (unsigned i = 0; i < 32; ++i) cmp("$f" + std::to_string(i), a.fpr[i], b.fpr[i]);
  return out;
}

}  // namespace disco
