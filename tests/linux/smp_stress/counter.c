/*
 * counter: a guest-level SMP stress test for disco (tests/linux/smp_stress.py).
 *
 *     counter NTHREADS ITERS
 *
 * NTHREADS pthreads each do ITERS iterations of:
 *   - llsc:   one shared 64-bit counter incremented by an explicit
 *             lld/daddiu/scd loop with a retry branch (inline asm);
 *   - atomic: one shared 64-bit counter incremented by __atomic_fetch_add
 *             (gcc emits its own lld/scd loop with sync barriers);
 *   - mutex:  a plain 64-bit counter incremented under a pthread_mutex
 *             (futex waits and wakes when contended);
 *   - spin:   a plain 64-bit counter incremented under a spinlock written
 *             here with ll/sc on a 32-bit word plus sync.
 * The threads start together at a barrier and sample sched_getcpu() every
 * SAMPLE iterations, so the result line also says on how many distinct
 * CPUs they ran (parallelism, not just correctness).
 *
 * Prints exactly one line on stdout:
 *   COUNTER-RESULT threads=N iters=I llsc=V atomic=V mutex=V spin=V
 *       expect=N*I cpus_seen=K COUNTER-OK      (or COUNTER-BAD)
 * and exits 0 for COUNTER-OK, 1 for COUNTER-BAD, 2 for a usage or setup
 * error.
 *
 * Build: mips64el-linux-gnuabi64-gcc -O2 -static -pthread -o counter counter.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(__mips__) || !defined(__mips64)
#error "counter.c is a MIPS64 guest program (mips64el-linux-gnuabi64-gcc)"
#endif

#define MAX_THREADS 256
#define MAX_CPUS 1024
#define SAMPLE 1024 /* sched_getcpu() every SAMPLE iterations */
#define SPINS_BEFORE_YIELD 256

/* Each shared word on its own cache line: the four counters are four
 * independent contention points (and no accidental ll/sc interference
 * between them on a real machine's line-granular reservation). */
struct line {
	volatile uint64_t v;
	char pad[64 - sizeof(uint64_t)];
} __attribute__((aligned(64)));

static struct line llsc_counter, atomic_counter, mutex_counter, spin_counter;
static struct line spin_word; /* the spinlock: 0 free, 1 held (low 32 bits) */
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start_barrier;
static long iters;

struct worker {
	pthread_t tid;
	unsigned char seen[MAX_CPUS]; /* CPUs this thread was seen on */
	int getcpu_failed;
} __attribute__((aligned(64)));

static struct worker workers[MAX_THREADS];

/* *p += 1 with an explicit LL/SC loop: lld, add, scd, retry when the
 * store-conditional failed (it writes 0 into the register).  The address
 * is in a register (0(%1)) so no assembler macro can expand inside the
 * noreorder block; the nop fills the branch delay slot. */
static inline void llsc_inc64(volatile uint64_t *p)
{
	uint64_t tmp;
	__asm__ __volatile__(
		"	.set	push\n"
		"	.set	noreorder\n"
		"	.set	mips64r2\n"
		"1:	lld	%0, 0(%1)\n"
		"	daddiu	%0, %0, 1\n"
		"	scd	%0, 0(%1)\n"
		"	beqz	%0, 1b\n"
		"	nop\n"
		"	.set	pop\n"
		: "=&r"(tmp)
		: "r"(p)
		: "memory");
}

/* Try once to take the lock: ll the word; if it is 0, sc a 1.  Returns 1
 * when taken (then a sync orders the critical section after it), 0 when
 * the lock was held.  A failed sc (lost reservation) retries at once. */
static inline int spin_trylock(volatile uint64_t *lockp)
{
	volatile uint32_t *l = (volatile uint32_t *)lockp; /* little-endian: low word */
	uint32_t tmp, got;
	__asm__ __volatile__(
		"	.set	push\n"
		"	.set	noreorder\n"
		"	.set	mips64r2\n"
		"1:	ll	%0, 0(%2)\n"
		"	bnez	%0, 2f\n"
		"	move	%1, $0\n"        /* delay slot: got = 0 (held) */
		"	addiu	%0, $0, 1\n"
		"	sc	%0, 0(%2)\n"
		"	beqz	%0, 1b\n"        /* reservation lost: try again */
		"	addiu	%1, $0, 1\n"     /* delay slot: got = 1 (taken) */
		"	sync\n"
		"2:\n"
		"	.set	pop\n"
		: "=&r"(tmp), "=&r"(got)
		: "r"(l)
		: "memory");
	return (int)got;
}

static inline void spin_lock(volatile uint64_t *lockp)
{
	volatile uint32_t *l = (volatile uint32_t *)lockp;
	while (!spin_trylock(lockp)) {
		/* Wait with plain loads; yield now and then so that a guest
		 * with fewer CPUs than threads does not burn whole time
		 * slices while the holder is preempted. */
		int n = 0;
		while (*l != 0) {
			if (++n == SPINS_BEFORE_YIELD) {
				sched_yield();
				n = 0;
			}
		}
	}
}

static inline void spin_unlock(volatile uint64_t *lockp)
{
	volatile uint32_t *l = (volatile uint32_t *)lockp;
	__asm__ __volatile__("sync" ::: "memory"); /* release: critical section first */
	*l = 0;
}

static void note_cpu(struct worker *w)
{
	int c = sched_getcpu();
	if (c >= 0 && c < MAX_CPUS)
		w->seen[c] = 1;
	else
		w->getcpu_failed = 1;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	int rc = pthread_barrier_wait(&start_barrier);
	if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) {
		fprintf(stderr, "counter: pthread_barrier_wait: %s\n", strerror(rc));
		exit(2);
	}
	note_cpu(w);
	for (long i = 0; i < iters; i++) {
		llsc_inc64(&llsc_counter.v);

		__atomic_fetch_add(&atomic_counter.v, 1, __ATOMIC_SEQ_CST);

		pthread_mutex_lock(&mutex);
		mutex_counter.v = mutex_counter.v + 1;
		pthread_mutex_unlock(&mutex);

		spin_lock(&spin_word.v);
		spin_counter.v = spin_counter.v + 1;
		spin_unlock(&spin_word.v);

		if ((i & (SAMPLE - 1)) == SAMPLE - 1)
			note_cpu(w);
	}
	note_cpu(w);
	return NULL;
}

static long parse(const char *s, const char *what, long max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > max) {
		fprintf(stderr, "counter: bad %s '%s' (1..%ld)\n", what, s, max);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: counter NTHREADS ITERS\n");
		return 2;
	}
	long n = parse(argv[1], "NTHREADS", MAX_THREADS);
	iters = parse(argv[2], "ITERS", 1000000000L);

	int rc = pthread_barrier_init(&start_barrier, NULL, (unsigned)n);
	if (rc) {
		fprintf(stderr, "counter: pthread_barrier_init: %s\n", strerror(rc));
		return 2;
	}
	for (long t = 0; t < n; t++) {
		rc = pthread_create(&workers[t].tid, NULL, run, &workers[t]);
		if (rc) {
			fprintf(stderr, "counter: pthread_create: %s\n", strerror(rc));
			return 2;
		}
	}
	int getcpu_failed = 0;
	static unsigned char seen[MAX_CPUS];
	for (long t = 0; t < n; t++) {
		pthread_join(workers[t].tid, NULL);
		getcpu_failed |= workers[t].getcpu_failed;
		for (int c = 0; c < MAX_CPUS; c++)
			seen[c] |= workers[t].seen[c];
	}
	int cpus = 0;
	for (int c = 0; c < MAX_CPUS; c++)
		cpus += seen[c];

	uint64_t expect = (uint64_t)n * (uint64_t)iters;
	uint64_t a = llsc_counter.v, b = atomic_counter.v, m = mutex_counter.v, s = spin_counter.v;
	int ok = a == expect && b == expect && m == expect && s == expect;
	printf("COUNTER-RESULT threads=%ld iters=%ld llsc=%" PRIu64 " atomic=%" PRIu64
	       " mutex=%" PRIu64 " spin=%" PRIu64 " expect=%" PRIu64 " cpus_seen=%d%s %s\n",
	       n, iters, a, b, m, s, expect, cpus, getcpu_failed ? " getcpu_failed=1" : "",
	       ok ? "COUNTER-OK" : "COUNTER-BAD");
	fflush(stdout);
	return ok ? 0 : 1;
}
