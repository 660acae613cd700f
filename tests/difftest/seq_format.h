/* Wire format between the host differential harness and the MIPS oracle
 * runner that executes under qemu-mips64el (user mode).
 *
 * Shared by C (the runner, built with mips64el-linux-gnuabi64-gcc) and C++
 * (the harness). Everything is little-endian, naturally aligned, no padding
 * surprises: every struct here is a multiple of 8 bytes.
 *
 * Stream: the runner reads from stdin a dseq_header followed by `count`
 * dseq_record; it writes to stdout one dseq_result per record, in order,
 * flushing at least every 256 results.
 *
 * Memory layout seen by a sequence (both in QEMU and in our interpreter):
 *   code page at DSEQ_CODE_ADDR: insns[0..n_insns) then BREAK (code
 *     DSEQ_END_BREAK_CODE) at insns[n_insns]; rest of the page is zero.
 *   data page at DSEQ_DATA_ADDR: the first DSEQ_DATA_SIZE bytes come from
 *     record.data; the rest of the page is zero. Only the first
 *     DSEQ_DATA_SIZE bytes are compared.
 */
#ifndef DISCO_TESTS_DIFFTEST_SEQ_FORMAT_H
#define DISCO_TESTS_DIFFTEST_SEQ_FORMAT_H

#include <stdint.h>

#define DSEQ_MAGIC 0x51455344u /* "DSEQ" */
#define DSEQ_VERSION 1u
#define DSEQ_MAX_INSNS 32u
#define DSEQ_CODE_ADDR 0x20000000ull
#define DSEQ_DATA_ADDR 0x30000000ull
#define DSEQ_DATA_SIZE 256u
/* BREAK code (20-bit field, bits 25..6) that marks the normal end. */
#define DSEQ_END_BREAK_CODE 0x5a5a5u

struct dseq_header {
  uint32_t magic;
  uint32_t version;
  uint64_t count;
};

struct dseq_state {
  uint64_t gpr[32]; /* gpr[0] is ignored on input, 0 on output */
  uint64_t hi, lo;
  uint64_t fpr[32]; /* raw 64-bit FPRs (Status.FR = 1 under n64) */
  uint32_t fcsr;
  uint32_t reserved;
};

struct dseq_record {
  uint32_t n_insns; /* 1..DSEQ_MAX_INSNS, not counting the end BREAK */
  uint32_t flags;   /* reserved, 0 */
  uint32_t insns[DSEQ_MAX_INSNS];
  struct dseq_state state;
  uint8_t data[DSEQ_DATA_SIZE];
};

/* How a sequence stopped. */
enum dseq_stop {
  DSEQ_STOP_END = 0,      /* reached the end BREAK */
  DSEQ_STOP_SIGNAL = 1,   /* another signal; signo/si_code/pc tell which */
};

struct dseq_result {
  uint32_t stop;     /* enum dseq_stop */
  uint32_t signo;    /* host-visible signal number (SIGTRAP for END) */
  int32_t si_code;
  uint32_t reserved;
  uint64_t pc;       /* PC at the stop: the BREAK or the faulting instruction
                        (the branch, if the fault was in a delay slot) */
  uint64_t badvaddr; /* si_addr for SIGSEGV/SIGBUS, else 0 */
  struct dseq_state state;
  uint8_t data[DSEQ_DATA_SIZE];
};

#endif
