#include "frontend/disasm.h"

#include <cctype>
#include <cstdio>

#include "frontend/decoder.h"

namespace disco {

namespace {
const char* const kGprNames[32] = {"zero", "at", "v0", "v1", "a0", "a1", "a2", "a3", "a4", "a5", "a6",
                                   "a7",   "t0", "t1", "t2", "t3", "s0", "s1", "s2", "s3", "s4", "s5",
                                   "s6",   "s7", "t8", "t9", "k0", "k1", "gp", "sp", "s8", "ra"};
const char* const kCondNames[16] = {"f",  "un",  "eq",  "ueq", "olt", "ult", "ole", "ule",
                                    "sf", "ngle", "seq", "ngl", "lt",  "nge", "le",  "ngt"};

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string mnemonic(std::string_view name, uint32_t w, Op op) {
  std::string m;
  for (char ch : name) m += ch == '_' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (op == Op::C_S || op == Op::C_D) m = std::string("c.") + kCondNames[w & 15] + (op == Op::C_S ? ".s" : ".d");
  return m;
}

// One operand token of the template.
std::string operand(std::string_view tok, uint32_t w, uint64_t pc) {
  using namespace field;
  auto fpr = [](unsigned r) { return "$f" + std::to_string(r); };
  if (tok == "rd") return kGprNames[rd(w)];
  if (tok == "rs") return kGprNames[rs(w)];
  if (tok == "rt") return kGprNames[rt(w)];
  if (tok == "sa") return std::to_string(sa(w));
  if (tok == "simm") return std::to_string(simm(w));
  if (tok == "uimm") return hex(uimm(w));
  if (tok == "btarget") return hex(pc + 4 + (static_cast<uint64_t>(simm(w)) << 2));
  if (tok == "jtarget") return hex(((pc + 4) & ~0x0fffffffull) | (static_cast<uint64_t>(target(w)) << 2));
  if (tok == "mem") return std::to_string(simm(w)) + "(" + kGprNames[rs(w)] + ")";
  if (tok == "index") return std::string(kGprNames[rt(w)]) + "(" + kGprNames[rs(w)] + ")";
  if (tok == "code20") return hex(code20(w));
  if (tok == "stype" ) return std::to_string(sa(w));
  if (tok == "cc") return "$fcc" + std::to_string(cc_branch(w));
  if (tok == "ccond") return "$fcc" + std::to_string(cc_compare(w));
  if (tok == "hwr") return "$" + std::to_string(rd(w));
  if (tok == "cp0reg") return "$" + std::to_string(rd(w)) + (sel(w) ? ", " + std::to_string(sel(w)) : "");
  if (tok == "pos") return std::to_string(sa(w));
  if (tok == "pos32") return std::to_string(sa(w) + 32);
  if (tok == "extsize") return std::to_string(rd(w) + 1);
  if (tok == "extsize32") return std::to_string(rd(w) + 33);
  if (tok == "inssize") return std::to_string(static_cast<int>(rd(w)) - static_cast<int>(sa(w)) + 1);
  if (tok == "inssize32") return std::to_string(static_cast<int>(rd(w)) + 32 - static_cast<int>(sa(w)) + 1);
  if (tok == "inssize32u") return std::to_string(static_cast<int>(rd(w)) - static_cast<int>(sa(w)) + 1);
  if (tok == "cacheop" || tok == "hint") return hex(rt(w));
  if (tok == "fs") return fpr(fs(w));
  if (tok == "ft") return fpr(ft(w));
  if (tok == "fd") return fpr(fd(w));
  if (tok == "fr") return fpr(fr(w));
  if (tok == "fcr") return "$" + std::to_string(fs(w));
  if (tok == "raw") return hex(w);
  return "?" + std::string(tok);
}
}  // namespace

const char* gpr_name(unsigned r) { return kGprNames[r & 31]; }

std::string disassemble(uint32_t w, uint64_t pc) {
  if (w == 0) return "nop";
  if (w == 0x40) return "ssnop";
  if (w == 0xc0) return "ehb";
  const Op op = decode(w);
  const InsnInfo& in = info(op);
  std::string out = op == Op::RESERVED ? std::string("reserved") : mnemonic(in.name, w, op);
  std::string_view ops = in.operands;
  bool first = true;
  while (!ops.empty()) {
    size_t comma = ops.find(',');
    std::string_view tok = ops.substr(0, comma);
    while (!tok.empty() && tok.front() == ' ') tok.remove_prefix(1);
    if (!tok.empty()) {
      if (first) out.resize(std::max<size_t>(out.size() + 1, 8), ' ');
      else out += ", ";
      out += operand(tok, w, pc);
      first = false;
    }
    if (comma == std::string_view::npos) break;
    ops.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace disco
