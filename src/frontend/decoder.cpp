#include "frontend/decoder.h"

#include <vector>

namespace disco {
namespace {

// Candidates per primary opcode (bits 31..26). Patterns never overlap (a
// test proves it), so the first match is the only match.
struct DecodeIndex {
  std::vector<Op> by_opcode[64];
  DecodeIndex() {
    for (size_t i = 0; i < kOpCount; ++i) {
      const InsnInfo& in = kInsnTable[i];
      if (in.pattern.empty()) continue;
      unsigned opc = in.match >> 26;
      by_opcode[opc].push_back(static_cast<Op>(i));
    }
  }
};

const DecodeIndex& index() {
  static const DecodeIndex idx;
  return idx;
}

}  // namespace

Op decode(uint32_t word) {
  for (Op op : index().by_opcode[word >> 26]) {
    const InsnInfo& in = info(op);
    if ((word & in.mask) == in.match) return op;
  }
  return Op::RESERVED;
}

}  // namespace disco
