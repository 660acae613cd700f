/*
 * physwalk: memory isolation between VMs, seen from one guest.
 *
 * The program walks the whole guest-physical address space it can name
 * (reads only while discovering), fills every RAM page it found with
 * patterns that carry its VM id, gives the monitor's page-sharing scanner
 * time to merge identical pages across VMs, then writes its id into the
 * pages that are identical in every VM (forcing copy-on-write breaks) and
 * walks everything again.  Another VM's private data, another VM's copy of
 * a broken shared page, or anything of the monitor's showing up in this
 * VM's physical address space is reported.
 *
 *  1. VM id: "walkid=N" (decimal) in the DTB's /chosen/bootargs, else 0.
 *     Optional "walkspin=MS" (busy re-reading of the common pages, guest
 *     milliseconds, default 100), "walkwait=MS" (WAIT on the timer, guest
 *     milliseconds, default 300) and "walkcold=MS" (WAIT after step 4,
 *     default 0: the written pages go cold, and a monitor with sub-page
 *     sharing may store them as patches, which step 5 reads back).
 *  2. Probe set: one doubleword load per 4 KiB page for pa in [0, 1 GiB)
 *     except the MMIO window [0x1f000000, 0x20000000), plus one load every
 *     16 MiB from 1 GiB to 64 GiB (PABITS = 36), all through cached xkphys.
 *     A bus error (DBE) marks a hole.
 *  3. Every readable probed page except the exception vectors, the
 *     program image (with bss and stack) and the DTB is filled:
 *       even pfn ("private"): every word 0xD15C000000000000 | id<<32 | pfn
 *       odd pfn ("common"):   every word 0xC033000000000000 | pfn
 *  4. Busy re-reading, then WAIT; then word 0 of each common page becomes
 *     0xC033000000000000 | id<<32 | pfn and is read back.
 *  5. Second walk over the same probe set: a page that appeared or
 *     vanished, or an own page whose content differs from what was written,
 *     counts as "corrupt"; a word tagged 0xD15C with another id, or 0xC033
 *     with an id that is neither 0 nor ours, counts as "foreign".
 *  6. Prints "PHYSWALK id=<id> ram_pages=<n> foreign=<f> corrupt=<c>" and
 *     exits 0 when foreign == corrupt == 0 and ram_pages > 0, else 1.
 *
 * The excluded pages (vectors, image, DTB) are counted as RAM but their
 * content is not checked (the image holds the program's own constants).
 */
#include "disco.h"

/* physwalk_asm.S */
int pw_probe(u64 va);
void pw_wait(void);
extern const u32 pw_probe_insn[], pw_wait_insn[];

/* common/link.ld */
extern char __image_start[], __image_end[];

#define XKPHYS_CACHED   0x9800000000000000UL
#define PAGE_SIZE       4096UL
#define PAGE_WORDS      (PAGE_SIZE / 8)

#define LOW_PROBE_END   (1UL << 30)             /* every page below 1 GiB   */
#define MMIO_LO         0x1f000000UL            /* not probed: devices      */
#define MMIO_HI         0x20000000UL
#define HIGH_STEP       (16UL << 20)            /* then one page per 16 MiB */
#define PROBE_END       (64UL << 30)            /* PABITS = 36              */
#define N_LOW           (LOW_PROBE_END / PAGE_SIZE)
#define N_HIGH          ((PROBE_END - LOW_PROBE_END) / HIGH_STEP)
#define N_PROBES        (N_LOW + N_HIGH)

#define LOW_RAM_LIMIT   0x10000000UL            /* low RAM ends by 256 MiB  */
#define DTB_SLOT        0x10000UL               /* DTB: last 64 KiB of it   */
#define FDT_MAGIC       0xd00dfeedu

#define TAG_PRIVATE     0xD15CUL
#define TAG_COMMON      0xC033UL

#define COUNT_PER_MS    100000u                 /* Count: 100 MHz           */
#define WAIT_TICK       (10u * COUNT_PER_MS)
#define FAR_AWAY        0x40000000u
#define MAX_MS          20000u                  /* Count deltas stay < 2^31 */

#define MAX_REPORTS     8

static u64 readable[(N_PROBES + 63) / 64];      /* walk 1 result */
static u32 vm_id;
static u32 spin_ms = 100, wait_ms = 300, cold_ms = 0;
static u64 vec_lo, vec_hi, img_lo, img_hi, dtb_lo, dtb_hi;
static u64 foreign, corrupt;
static int reports;
static volatile u32 nticks;

/* ------------------------------------------------------------------ */
/* Exceptions: bus errors of pw_probe and the timer during the WAIT.   */

void exc_handler(struct frame *f)
{
	unsigned code = CAUSE_EXCCODE(f->cause);

	if (code == EXC_DBE && f->epc == ADDR(pw_probe_insn) && !(f->cause & CAUSE_BD)) {
		f->regs[R_V0] = 0;              /* hole */
		f->epc += 4;
		return;
	}
	if (code == EXC_INT && (f->cause & CAUSE_IP(7))) {
		write_c0_compare(read_c0_count() + WAIT_TICK);  /* acknowledges */
		nticks++;
		return;
	}
	dump_frame(f);
	fail("unexpected exception ExcCode %u at epc %016lx", code, f->epc);
}

/* ------------------------------------------------------------------ */
/* Probe set                                                            */

static inline u64 probe_pa(u64 i)
{
	return i < N_LOW ? i * PAGE_SIZE : LOW_PROBE_END + (i - N_LOW) * HIGH_STEP;
}

static inline int probed(u64 i)
{
	u64 pa = probe_pa(i);
	return !(pa >= MMIO_LO && pa < MMIO_HI);
}

static inline u64 *page_ptr(u64 pa)
{
	return (u64 *)(XKPHYS_CACHED | pa);
}

static inline int was_readable(u64 i)
{
	return (readable[i / 64] >> (i % 64)) & 1;
}

static inline int overlaps(u64 pa, u64 lo, u64 hi)
{
	return pa < hi && pa + PAGE_SIZE > lo;
}

static int excluded(u64 pa)
{
	return overlaps(pa, vec_lo, vec_hi) || overlaps(pa, img_lo, img_hi) ||
	       overlaps(pa, dtb_lo, dtb_hi);
}

/* ------------------------------------------------------------------ */
/* Patterns                                                             */

static inline u64 private_word(u64 pfn)
{
	return (TAG_PRIVATE << 48) | ((u64)vm_id << 32) | pfn;
}

static inline u64 common_word(u64 pfn)
{
	return (TAG_COMMON << 48) | pfn;
}

static inline u64 common_first(u64 pfn)
{
	return common_word(pfn) | ((u64)vm_id << 32);
}

static void fill_page(u64 *p, u64 v)
{
	for (unsigned i = 0; i < PAGE_WORDS; i += 8) {
		p[i + 0] = v; p[i + 1] = v; p[i + 2] = v; p[i + 3] = v;
		p[i + 4] = v; p[i + 5] = v; p[i + 6] = v; p[i + 7] = v;
	}
}

/* OR of (word ^ expected) over the page: 0 when it holds exactly
 * first, rest, rest, ... */
static u64 page_diff(const u64 *p, u64 first, u64 rest)
{
	u64 acc = (p[0] ^ first) | (p[1] ^ rest) | (p[2] ^ rest) | (p[3] ^ rest) |
		  (p[4] ^ rest) | (p[5] ^ rest) | (p[6] ^ rest) | (p[7] ^ rest);
	for (unsigned i = 8; i < PAGE_WORDS; i += 8)
		acc |= (p[i + 0] ^ rest) | (p[i + 1] ^ rest) | (p[i + 2] ^ rest) |
		       (p[i + 3] ^ rest) | (p[i + 4] ^ rest) | (p[i + 5] ^ rest) |
		       (p[i + 6] ^ rest) | (p[i + 7] ^ rest);
	return acc;
}

static void report(const char *what, u64 pa, unsigned word, u64 got, u64 expected)
{
	if (reports++ < MAX_REPORTS)
		printf("physwalk: %s at pa %09lx word %u: %016lx (expected %016lx)\n",
		       what, pa, word, got, expected);
}

static void report_page(const char *what, u64 pa)
{
	if (reports++ < MAX_REPORTS)
		printf("physwalk: %s at pa %09lx\n", what, pa);
}

/* Counts words tagged with another VM's id. */
static void scan_foreign(const u64 *p, u64 pa)
{
	for (unsigned i = 0; i < PAGE_WORDS; i++) {
		u64 w = p[i];
		u64 tag = w >> 48, id = (w >> 32) & 0xffff;
		if ((tag == TAG_PRIVATE && id != vm_id) ||
		    (tag == TAG_COMMON && id != 0 && id != vm_id)) {
			foreign++;
			if (reports++ < MAX_REPORTS)
				printf("physwalk: foreign word at pa %09lx word %u: %016lx (id %lu)\n",
				       pa, i, w, id);
		}
	}
}

/* Checks an own page (filled in step 3/4) word by word. */
static void check_page(u64 pa)
{
	const u64 *p = page_ptr(pa);
	u64 pfn = pa / PAGE_SIZE;
	u64 first = (pfn & 1) ? common_first(pfn) : private_word(pfn);
	u64 rest = (pfn & 1) ? common_word(pfn) : private_word(pfn);

	if (!page_diff(p, first, rest))
		return;
	corrupt++;
	for (unsigned i = 0; i < PAGE_WORDS; i++) {
		u64 e = i ? rest : first;
		if (p[i] != e) {
			report("corrupt page", pa, i, p[i], e);
			break;
		}
	}
	scan_foreign(p, pa);
}

/* ------------------------------------------------------------------ */
/* Discovery                                                            */

static u64 walk_first(void)
{
	u64 n = 0;
	for (u64 i = 0; i < N_PROBES; i++) {
		if (probed(i) && pw_probe(XKPHYS_CACHED | probe_pa(i))) {
			readable[i / 64] |= 1UL << (i % 64);
			n++;
		}
	}
	return n;
}

static void print_ranges(void)
{
	u64 start = 0, pages = 0;
	int in = 0, lines = 0;
	for (u64 i = 0; i <= N_PROBES; i++) {
		int r = i < N_PROBES && was_readable(i) &&
			(!in || probe_pa(i) == probe_pa(i - 1) + PAGE_SIZE);
		if (in && !r) {
			if (lines++ < 8)
				printf("physwalk: ram %09lx-%09lx (%lu pages)\n", start,
				       start + pages * PAGE_SIZE, pages);
			in = 0;
		}
		if (!in && i < N_PROBES && was_readable(i)) {
			in = 1;
			start = probe_pa(i);
			pages = 0;
		}
		if (in)
			pages++;
	}
	if (lines > 8)
		printf("physwalk: ... %d more ranges\n", lines - 8);
}

static u32 be32(const u8 *p)
{
	return ((u32)p[0] << 24) | ((u32)p[1] << 16) | ((u32)p[2] << 8) | p[3];
}

/* Value of "<key>N" (decimal) in [p, p + len), or `dflt`. */
static u32 find_number(const u8 *p, u64 len, const char *key, u32 dflt)
{
	u64 klen = 0;
	while (key[klen])
		klen++;
	for (u64 i = 0; i + klen < len; i++) {
		u64 k = 0;
		while (k < klen && p[i + k] == (u8)key[k])
			k++;
		if (k < klen || p[i + klen] < '0' || p[i + klen] > '9')
			continue;
		u64 v = 0;
		for (u64 j = i + klen; j < len && p[j] >= '0' && p[j] <= '9'; j++)
			v = v * 10 + (p[j] - '0');
		return v > 0xffffffffUL ? 0xffffffffu : (u32)v;
	}
	return dflt;
}

/* The DTB sits in the last 64 KiB of the RAM that starts at 0. */
static void find_dtb(void)
{
	u64 low_end = 0;
	while (low_end < LOW_RAM_LIMIT && was_readable(low_end / PAGE_SIZE))
		low_end += PAGE_SIZE;
	if (low_end < DTB_SLOT) {
		printf("physwalk: no RAM at 0? (low RAM ends at %lx)\n", low_end);
		return;
	}
	for (u64 pa = low_end - DTB_SLOT; pa + 40 <= low_end; pa += 8) {
		const u8 *p = (const u8 *)(XKPHYS_CACHED | pa);
		u32 size = be32(p + 4);
		if (be32(p) != FDT_MAGIC || size < 40 || size > low_end - pa)
			continue;
		dtb_lo = pa;
		dtb_hi = pa + size;
		vm_id = find_number(p, size, "walkid=", 0);
		spin_ms = find_number(p, size, "walkspin=", spin_ms);
		wait_ms = find_number(p, size, "walkwait=", wait_ms);
		cold_ms = find_number(p, size, "walkcold=", cold_ms);
		if (spin_ms > MAX_MS)
			spin_ms = MAX_MS;
		if (wait_ms > MAX_MS)
			wait_ms = MAX_MS;
		if (cold_ms > MAX_MS)
			cold_ms = MAX_MS;
		return;
	}
	printf("physwalk: no DTB found below %lx\n", low_end);
}

/* ------------------------------------------------------------------ */
/* Giving the sharing scanner time                                      */

/* Re-reads the common pages (one word each, round robin) for `ms`
 * guest milliseconds; they must still read as written. */
static void spin_common(u32 ms)
{
	u32 start = read_c0_count(), ticks = ms * COUNT_PER_MS;
	unsigned word = 0;
	while (read_c0_count() - start < ticks) {
		for (u64 i = 1; i < N_LOW; i += 2) {     /* i = pfn below 1 GiB */
			if (!was_readable(i) || excluded(probe_pa(i)))
				continue;
			u64 pa = probe_pa(i);
			u64 w = page_ptr(pa)[word];
			if (w != common_word(pa / PAGE_SIZE)) {
				corrupt++;
				report("common page changed", pa, word, w, common_word(pa / PAGE_SIZE));
			}
			if ((i & 255) == 255 && read_c0_count() - start >= ticks)
				break;
		}
		word = (word + 1) % PAGE_WORDS;
	}
}

/* Sleeps `ms` guest milliseconds in WAIT, woken by timer ticks. */
static void wait_guest(u32 ms)
{
	u32 start = read_c0_count(), ticks = ms * COUNT_PER_MS;
	write_c0_compare(start + WAIT_TICK);
	write_c0_status(read_c0_status() | ST_IM(7));
	irq_enable();
	while (read_c0_count() - start < ticks)
		pw_wait();
	irq_disable();
	write_c0_status(read_c0_status() & ~ST_IM(7));
	write_c0_compare(read_c0_count() + FAR_AWAY);     /* clears Cause.TI */
}

/* ------------------------------------------------------------------ */

int main(void)
{
	/* xkphys needs Status.KX (crt0 clears it); keep the timer quiet. */
	write_c0_compare(read_c0_count() + FAR_AWAY);
	write_c0_status(read_c0_status() | ST_KX);

	vec_lo = exc_vector_base() - CKSEG0_BASE;
	vec_hi = vec_lo + 0x280;
	img_lo = ADDR(__image_start) - CKSEG0_BASE;
	img_hi = ADDR(__image_end) - CKSEG0_BASE;

	/* 1-2: walk, then the DTB (it is at the top of low RAM). */
	u64 found = walk_first();
	find_dtb();
	printf("physwalk: id %u, %lu readable pages, image %lx-%lx, dtb %lx-%lx\n",
	       vm_id, found, img_lo, img_hi, dtb_lo, dtb_hi);
	if (vm_id > 0xffff)
		fail("walkid=%u does not fit in 16 bits", vm_id);
	print_ranges();

	/* 3: fill. */
	u64 filled = 0;
	for (u64 i = 0; i < N_PROBES; i++) {
		u64 pa = probe_pa(i);
		if (!was_readable(i) || excluded(pa))
			continue;
		u64 pfn = pa / PAGE_SIZE;
		fill_page(page_ptr(pa), (pfn & 1) ? common_word(pfn) : private_word(pfn));
		filled++;
	}
	__asm__ __volatile__("sync" ::: "memory");      /* re-read for real below */

	/* 4: let the scanner merge the common pages, then break the sharing. */
	u32 t0 = read_c0_count();
	spin_common(spin_ms);
	u32 t1 = read_c0_count();
	wait_guest(wait_ms);
	u32 t2 = read_c0_count();
	printf("physwalk: filled %lu pages, spun %u ms, waited %u ms (%u ticks)\n", filled,
	       (t1 - t0) / COUNT_PER_MS, (t2 - t1) / COUNT_PER_MS, nticks);
	for (u64 i = 0; i < N_PROBES; i++) {
		u64 pa = probe_pa(i);
		u64 pfn = pa / PAGE_SIZE;
		if (!(pfn & 1) || !was_readable(i) || excluded(pa))
			continue;
		volatile u64 *p = page_ptr(pa);
		p[0] = common_first(pfn);
		u64 back = p[0];
		if (back != common_first(pfn)) {
			corrupt++;
			report("write not read back", pa, 0, back, common_first(pfn));
		}
	}

	/* 4b: leave every page alone for a while. */
	if (cold_ms) {
		u32 t3 = read_c0_count();
		wait_guest(cold_ms);
		printf("physwalk: left the pages alone for %u ms\n", (read_c0_count() - t3) / COUNT_PER_MS);
	}

	/* 5: walk again. */
	u64 ram_pages = 0;
	for (u64 i = 0; i < N_PROBES; i++) {
		if (!probed(i))
			continue;
		u64 pa = probe_pa(i);
		int now = pw_probe(XKPHYS_CACHED | pa);
		int before = was_readable(i);
		if (!now) {
			if (before) {
				corrupt++;
				report_page("page vanished", pa);
			}
			continue;
		}
		ram_pages++;
		if (!before) {
			corrupt++;
			report_page("page appeared", pa);
			scan_foreign(page_ptr(pa), pa);
		} else if (!excluded(pa)) {
			check_page(pa);
		}
	}

	/* 6 */
	printf("PHYSWALK id=%u ram_pages=%lu foreign=%lu corrupt=%lu\n",
	       vm_id, ram_pages, foreign, corrupt);
	return (foreign == 0 && corrupt == 0 && ram_pages > 0) ? 0 : 1;
}
