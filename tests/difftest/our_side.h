// Our side of the differential test: runs a dseq_record on disco's
// interpreter in guest user mode and reports it as the QEMU runner would
// (a dseq_result with the Linux signal QEMU delivers for the exception).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tests/difftest/seq_format.h"

namespace disco::difftest {

// MIPS Linux signal numbers (not the host's).
enum MipsSignal : uint32_t {
  kSIGILL = 4, kSIGTRAP = 5, kSIGFPE = 8, kSIGBUS = 10, kSIGSEGV = 11, kSIGALRM = 14,
};
// Our own stop kind when the step cap is reached (QEMU reports SIGALRM).
constexpr uint32_t kStopTimeout = 2;
constexpr unsigned kStepCap = 4096;

class OurSide {
 public:
  explicit OurSide(bool fpu);
  ~OurSide();
  void run(const dseq_record& rec, dseq_result& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

const char* signal_name(uint32_t signo);

// Differences between two results, as a readable report (empty: they agree).
// `fpu` includes FPRs/FCSR in the comparison.
struct CompareOptions {
  bool fpu = false;
};
bool results_equal(const dseq_result& ours, const dseq_result& qemu, const CompareOptions& opt);
std::string describe_mismatch(const dseq_record& rec, const dseq_result& ours, const dseq_result& qemu,
                              const CompareOptions& opt);
// The sequence, disassembled with addresses (and a marker at `mark_pc`s).
std::string disassemble_record(const dseq_record& rec, uint64_t mark_a = 0, const char* label_a = nullptr,
                               uint64_t mark_b = 0, const char* label_b = nullptr);

}  // namespace disco::difftest
