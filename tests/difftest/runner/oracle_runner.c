/* oracle_runner: executes dseq records under qemu-mips64el (user mode) and
 * reports the architectural state at the stop.
 *
 * Build (see build.sh):
 *   mips64el-linux-gnuabi64-gcc -static -O2 -march=mips64r2 -mabi=64 \
 *       -I.. oracle_runner.c -o oracle_runner
 * Run:
 *   qemu-mips64el -cpu MIPS64R2-generic ./oracle_runner < in.bin > out.bin
 *
 * How it works (details in README.md):
 *   Every transition into and out of a sequence goes through one signal
 *   handler that runs on a sigaltstack, so nothing the sequence does to $sp,
 *   $gp, $ra, $k0/$k1 or any other register matters to the runner.
 *
 *   - main() installs the handlers and executes a BREAK (code
 *     RUNNER_ENTRY_BREAK_CODE) at the known address dseq_entry_break.
 *   - The SIGTRAP for that BREAK lands in the handler, which reads the first
 *     record, writes the code and data pages, and stores the record's
 *     registers (GPRs, hi/lo, FPRs, FCSR, pc = DSEQ_CODE_ADDR) into the
 *     ucontext. Returning from the handler makes rt_sigreturn load all of
 *     them, so the sequence starts with exactly that state.
 *   - The sequence ends with the end BREAK (SIGTRAP) or some fault (SIGILL,
 *     SIGFPE, SIGBUS, SIGSEGV, SIGTRAP, ...), or the watchdog (SIGALRM) stops
 *     it. The handler copies the state out of the ucontext into a
 *     dseq_result, writes it, loads the next record into the same ucontext
 *     and returns again. One signal delivery + one sigreturn per record.
 *   - After the last record the handler flushes stdout and exits.
 *
 * Exit status: 0 ok, 2 bad input (bad magic/version, short read, bad
 * n_insns), 3 internal error (a fault inside the runner itself, mmap
 * failure, write error).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#include "../seq_format.h"

/* BREAK encodings: SPECIAL opcode 0, function 0x0d, code in bits 25..6. */
#define BREAK_INSN(code) (0x0000000du | ((uint32_t)(code) << 6))
#define END_BREAK_INSN BREAK_INSN(DSEQ_END_BREAK_CODE)
/* Code of the BREAK the runner executes to get into the handler the first
 * time. Any code other than 6/7 (which QEMU/Linux turn into SIGFPE) works;
 * it is told apart from a sequence's BREAK by its address. */
#define RUNNER_ENTRY_BREAK_CODE 0x3f3f3u

#define ALTSTACK_SIZE (256 * 1024)
#define FLUSH_EVERY 256u
/* Watchdog period: a sequence still running after between one and two
 * periods is stopped with signo = SIGALRM. */
#define WATCHDOG_SEC 1

/* The BREAK that gets us into the handler the first time. It never returns
 * (the handler redirects the context into the first sequence). */
extern void dseq_entry_break(void);
__asm__(".text\n"
        ".globl dseq_entry_break\n"
        ".type dseq_entry_break, @function\n"
        ".set push\n"
        ".set noreorder\n"
        "dseq_entry_break:\n"
        "  .word 0x0000000d | (0x3f3f3 << 6)\n"
        "  jr $31\n"
        "  nop\n"
        ".set pop\n"
        ".size dseq_entry_break, .-dseq_entry_break\n");

static uint8_t altstack_mem[ALTSTACK_SIZE] __attribute__((aligned(16)));

static uint8_t *code_page;   /* == DSEQ_CODE_ADDR */
static uint8_t *data_page;   /* == DSEQ_DATA_ADDR */
static size_t page_size;

static uint64_t total_count;  /* records announced in the header */
static uint64_t done_count;   /* results written */

/* Is a sequence running right now? Set just before returning into one. */
static volatile int in_seq;
/* Incremented each time a sequence is entered; the watchdog compares it
 * across ticks. */
static volatile uint64_t seq_serial;
static volatile uint64_t watchdog_seen_serial;

static struct dseq_record cur_rec;
static struct dseq_result cur_res;

/* ---- input: own buffer, so stdout can be flushed before blocking ---- */

static uint8_t in_buf[64 * 1024];
static size_t in_have, in_pos;

static void die(int code, const char *msg)
{
  fflush(stdout);
  fprintf(stderr, "oracle_runner: %s\n", msg);
  fflush(stderr);
  _exit(code);
}

/* Reads exactly n bytes; returns 0 on success, -1 on EOF before n bytes. */
static int read_exact(void *dst, size_t n)
{
  uint8_t *out = dst;
  while (n > 0) {
    if (in_pos == in_have) {
      /* About to block: let the other side see everything produced so far
       * (allows lock-step use over pipes). */
      if (fflush(stdout) != 0) die(3, "write error on stdout");
      in_pos = in_have = 0;
      ssize_t r;
      do {
        r = read(0, in_buf, sizeof in_buf);
      } while (r < 0 && errno == EINTR);
      if (r < 0) die(2, "read error on stdin");
      if (r == 0) return -1;
      in_have = (size_t)r;
    }
    size_t take = in_have - in_pos;
    if (take > n) take = n;
    memcpy(out, in_buf + in_pos, take);
    in_pos += take;
    out += take;
    n -= take;
  }
  return 0;
}

/* ---- pages ---- */

static void map_pages(void)
{
  long ps = getpagesize();
  page_size = ps > 0 ? (size_t)ps : 4096;
  void *c = mmap((void *)(uintptr_t)DSEQ_CODE_ADDR, page_size,
                 PROT_READ | PROT_WRITE | PROT_EXEC,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  void *d = mmap((void *)(uintptr_t)DSEQ_DATA_ADDR, page_size,
                 PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (c == MAP_FAILED || d == MAP_FAILED ||
      (uintptr_t)c != DSEQ_CODE_ADDR || (uintptr_t)d != DSEQ_DATA_ADDR)
    die(3, "cannot map the code/data pages");
  code_page = c;
  data_page = d;
}

static void load_pages(const struct dseq_record *r)
{
  uint32_t *w = (uint32_t *)code_page;
  /* The whole page is rewritten every time: the previous sequence may have
   * stored into it. The first store makes QEMU drop its translations of
   * the page. */
  memcpy(w, r->insns, r->n_insns * sizeof(uint32_t));
  w[r->n_insns] = END_BREAK_INSN;
  memset(w + r->n_insns + 1, 0,
         page_size - (r->n_insns + 1) * sizeof(uint32_t));
  /* A no-op under QEMU (it tracks writes to translated pages itself), but
   * keeps the runner correct on real hardware. */
  __builtin___clear_cache((char *)code_page, (char *)code_page + page_size);

  memcpy(data_page, r->data, DSEQ_DATA_SIZE);
  memset(data_page + DSEQ_DATA_SIZE, 0, page_size - DSEQ_DATA_SIZE);
}

/* ---- ucontext <-> dseq_state ---- */

static void state_to_uc(const struct dseq_state *s, ucontext_t *uc)
{
  mcontext_t *m = &uc->uc_mcontext;
  m->gregs[0] = 0;
  for (int i = 1; i < 32; i++) m->gregs[i] = (greg_t)s->gpr[i];
  m->mdhi = (greg_t)s->hi;
  m->mdlo = (greg_t)s->lo;
  m->hi1 = m->hi2 = m->hi3 = 0;
  m->lo1 = m->lo2 = m->lo3 = 0;
  m->pc = (greg_t)DSEQ_CODE_ADDR;
  memcpy(&m->fpregs, s->fpr, sizeof s->fpr);
  m->fpc_csr = s->fcsr;
  m->used_math = 1;
  m->dsp = 0;
}

static void uc_to_state(const ucontext_t *uc, struct dseq_state *s)
{
  const mcontext_t *m = &uc->uc_mcontext;
  s->gpr[0] = 0;
  for (int i = 1; i < 32; i++) s->gpr[i] = (uint64_t)m->gregs[i];
  s->hi = (uint64_t)m->mdhi;
  s->lo = (uint64_t)m->mdlo;
  memcpy(s->fpr, &m->fpregs, sizeof s->fpr);
  s->fcsr = m->fpc_csr;
  s->reserved = 0;
}

/* ---- the handler ---- */

/* FCSR handling. qemu-mips64el 7.2 neither saves FCSR into the signal
 * frame nor restores it from there (sc_fpc_csr is left untouched), but it
 * does not change the live FCSR either when it delivers a signal or returns
 * from one. So the handler reads the live FCSR with cfc1 before doing
 * anything else and loads the next record's FCSR with ctc1 as the last
 * thing before returning. The value is also put in the ucontext, so a
 * QEMU/kernel that does restore sc_fpc_csr loads the same value. */
static inline uint32_t read_fcsr(void)
{
  uint32_t v;
  __asm__ volatile("cfc1 %0, $31" : "=r"(v));
  return v;
}

static inline void write_fcsr(uint32_t v)
{
  __asm__ volatile("ctc1 %0, $31" : : "r"(v) : "memory");
}

/* A Cause bit whose Enable bit is set (or Cause.E, which cannot be
 * disabled) would make ctc1 raise SIGFPE inside the handler. Such bits are
 * cleared from the input FCSR; see README.md. */
static uint32_t sanitize_fcsr(uint32_t v)
{
  uint32_t cause = (v >> 12) & 0x3fu;
  uint32_t enables = ((v >> 7) & 0x1fu) | 0x20u;
  return v & ~((cause & enables) << 12);
}

static uint32_t next_fcsr;


static void finish(void)
{
  if (fflush(stdout) != 0) die(3, "write error on stdout");
  _exit(0);
}

/* Reads the next record and points the context at it. Finishes the
 * process when there is none. */
static void enter_next(ucontext_t *uc)
{
  if (done_count >= total_count) finish();
  if (read_exact(&cur_rec, sizeof cur_rec) != 0)
    die(2, "short read: input ended before the announced record count");
  if (cur_rec.n_insns < 1 || cur_rec.n_insns > DSEQ_MAX_INSNS)
    die(2, "bad record: n_insns out of range");
  load_pages(&cur_rec);
  next_fcsr = sanitize_fcsr(cur_rec.state.fcsr);
  state_to_uc(&cur_rec.state, uc);
  uc->uc_mcontext.fpc_csr = next_fcsr;
  seq_serial++;
  in_seq = 1;
}

static void on_signal(int sig, siginfo_t *si, void *ucv)
{
  uint32_t live_fcsr = read_fcsr();
  ucontext_t *uc = ucv;
  uint64_t pc = (uint64_t)uc->uc_mcontext.pc;

  if (!in_seq) {
    if (sig == SIGTRAP && pc == (uint64_t)(uintptr_t)dseq_entry_break) {
      enter_next(uc);
      write_fcsr(next_fcsr);
      return;
    }
    if (sig == SIGALRM) return; /* tick before the first sequence */
    char msg[160];
    snprintf(msg, sizeof msg,
             "internal fault outside a sequence: signal %d code %d pc %#llx",
             sig, si->si_code, (unsigned long long)pc);
    die(3, msg);
  }

  if (sig == SIGALRM) {
    /* Watchdog tick: stop the sequence only if it was already running at
     * the previous tick. Returning leaves the live FCSR untouched. */
    if (watchdog_seen_serial != seq_serial) {
      watchdog_seen_serial = seq_serial;
      return;
    }
  }

  struct dseq_result *r = &cur_res;
  memset(r, 0, sizeof *r);
  r->stop = (sig == SIGTRAP &&
             pc == DSEQ_CODE_ADDR + 4ull * cur_rec.n_insns)
                ? DSEQ_STOP_END
                : DSEQ_STOP_SIGNAL;
  r->signo = (uint32_t)sig;
  r->si_code = si->si_code;
  r->pc = pc;
  if (sig == SIGSEGV || sig == SIGBUS)
    r->badvaddr = (uint64_t)(uintptr_t)si->si_addr;
  uc_to_state(uc, &r->state);
  r->state.fcsr = live_fcsr;
  memcpy(r->data, data_page, DSEQ_DATA_SIZE);
  in_seq = 0;

  if (fwrite(r, sizeof *r, 1, stdout) != 1) die(3, "write error on stdout");
  done_count++;
  if (done_count % FLUSH_EVERY == 0 && fflush(stdout) != 0)
    die(3, "write error on stdout");

  enter_next(uc);
  write_fcsr(next_fcsr);
}

static void install_handlers(void)
{
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_sp = altstack_mem;
  ss.ss_size = sizeof altstack_mem;
  ss.ss_flags = 0;
  if (sigaltstack(&ss, NULL) != 0) die(3, "sigaltstack failed");

  static const int sigs[] = {SIGTRAP, SIGILL, SIGFPE, SIGBUS, SIGSEGV,
                             SIGSYS,  SIGALRM, SIGUSR1, SIGUSR2, SIGABRT};
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigfillset(&sa.sa_mask); /* nothing nests inside the handler */
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (sigaction(sigs[i], &sa, NULL) != 0) die(3, "sigaction failed");
}

int main(void)
{
  static char out_buf[1 << 16];
  setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);

  struct dseq_header h;
  if (read_exact(&h, sizeof h) != 0) die(2, "short read: no header");
  if (h.magic != DSEQ_MAGIC) die(2, "bad magic");
  if (h.version != DSEQ_VERSION) die(2, "unsupported version");
  total_count = h.count;
  if (total_count == 0) finish();

  map_pages();
  install_handlers();

  /* Make sure every signal we rely on is unblocked: the sequences run with
   * this mask (rt_sigreturn restores it from the ucontext). */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);

  struct itimerval it;
  it.it_interval.tv_sec = WATCHDOG_SEC;
  it.it_interval.tv_usec = 0;
  it.it_value = it.it_interval;
  if (setitimer(ITIMER_REAL, &it, NULL) != 0) die(3, "setitimer failed");

  dseq_entry_break(); /* never returns: see on_signal */
  die(3, "returned from the entry break");
  return 3;
}
