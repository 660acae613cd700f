// Random instruction sequences for the differential test against QEMU.
//
// Every record is a pure function of (seed, index): record i of a run can be
// regenerated alone, which is how a failure is reproduced. Instructions are
// drawn from disco's instruction table (kInsnTable), never from a hand list:
// the free bits of the chosen pattern are filled randomly and then the
// fields that matter are constrained (see generator.cpp). Anything that must
// not be generated is in ONE list, exclusions(), with its reason.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "frontend/insn.h"
#include "tests/difftest/seq_format.h"

namespace disco::difftest {

// Registers the generated code never writes.
constexpr unsigned kBaseReg = 23;  // s7 = DSEQ_DATA_ADDR + kBaseOffset: every in-window access
constexpr unsigned kJumpReg = 22;  // s6: JR/JALR target, set by LUI/ORI right before the jump
constexpr uint64_t kBaseOffset = 128;
constexpr unsigned kMaxGenInsns = 24;

struct GenOptions {
  bool fpu = false;  // also generate CP1 instructions (FPRs/FCSR compared)
};

// One thing the generator must never produce, and why. `applies` is true for
// an instruction word (or, with `op` set, for every word of that op) that is
// excluded. Checked on every generated word and by the unit test.
struct Exclusion {
  std::string_view what;
  std::string_view reason;
  Op op;                          // Op::RESERVED: not a whole-op exclusion
  bool (*applies)(uint32_t word);  // nullptr: the whole op
};

std::span<const Exclusion> exclusions();
// The first exclusion that covers `word`, or nullptr.
const Exclusion* excluded_by(uint32_t word);
// True if `op` is excluded as a whole (never generated at all).
bool op_excluded(Op op);
// True if `op` is generated with these options (not excluded, FPU only with fpu).
bool op_generated(Op op, const GenOptions& opt);

// Record `index` of the run with `seed`.
void make_record(uint64_t seed, uint64_t index, const GenOptions& opt, dseq_record& rec);

// Helpers shared with the checker and the tests.
bool is_control(uint32_t word);    // branch or jump (has a delay slot)
bool uses_mem_operand(Op op);      // "offset(base)" addressing (loads, stores, PREF, SYNCI, CACHE, ...)
// Forward target index (in instructions from DSEQ_CODE_ADDR) of a branch or
// J/JAL at index i; -1 for register jumps and non-control words.
int static_target(uint32_t word, unsigned i);

}  // namespace disco::difftest
