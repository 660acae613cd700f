/*
 * tlb: the software-managed TLB as seen from kernel mode.
 *
 *  - TLBWI/TLBR round trip (EntryHi/EntryLo0/EntryLo1/PageMask, G bit AND)
 *  - TLBP hit/miss (Index.P), ASID, global entries, masked VPN2 bits, R field
 *  - mapped loads/stores land in the right physical page for 4K..16M pages,
 *    cached (C=3) and uncached (C=2) mappings
 *  - TLB refill through EBase+0x000 or +0x080 depending on the region's
 *    Status.UX/SX/KX bit; EntryHi/Context/XContext/BadVAddr after a refill;
 *    the handler writes the entry (TLBWR) and the access is retried
 *  - address errors for 64-bit segments that are disabled
 *  - TLB invalid (TLBL/TLBS through +0x180), TLB modified (Mod)
 *  - ASID mismatch, global entries
 *  - Wired and Random
 */
#include "disco.h"

#define NTLB            64
#define SENTINEL        0x5e5e5e5e5e5e5e5eUL

/* Physical scratch memory for mappings (RAM is at least 64 MiB). */
#define PA_SCRATCH      0x01000000UL   /* 16 MiB .. 32 MiB: small pages      */
#define PA_BIG_EVEN     0x02000000UL   /* 32 MiB: 16 MiB aligned              */
#define PA_BIG_ODD      0x03000000UL   /* 48 MiB                              */

static int segbits;
static u64 vpn2_mask;                  /* VA bits SEGBITS-1..13 */

/* ------------------------------------------------------------------ */
/* Exception handling                                                  */

enum refill_action { RF_FAIL, RF_MAP, RF_SKIP };
enum general_action { GA_FAIL, GA_FIX, GA_SKIP };

static volatile enum refill_action refill_action;
static volatile enum general_action general_action;
static volatile int nexc;
static volatile int handler_error;
static struct frame last;

/* What the refill handler maps (4K pages, TLBWR). */
static u64 pend_lo0, pend_lo1;

static void handler_fix(struct frame *f)
{
	/* EntryHi was loaded by the hardware with the faulting VPN2 (and the
	 * current ASID): find the entry, set V or D on the faulting half. */
	tlbp();
	u32 idx = read_c0_index();
	if (idx & INDEX_P) {
		handler_error = 1;
		f->epc += 4;
		f->regs[R_V0] = SENTINEL;
		return;
	}
	tlbr();
	u64 pagesize = ((read_c0_pagemask() >> 13) + 1) << 12;
	u64 bit = CAUSE_EXCCODE(f->cause) == EXC_MOD ? ENTRYLO_D : ENTRYLO_V;
	if (f->badvaddr & pagesize)
		write_c0_entrylo1(read_c0_entrylo1() | bit);
	else
		write_c0_entrylo0(read_c0_entrylo0() | bit);
	tlbwi();
}

void exc_handler(struct frame *f)
{
	unsigned code = CAUSE_EXCCODE(f->cause);

	nexc++;
	last = *f;
	if (nexc > 8) {
		dump_frame(f);
		fail("exception loop (ExcCode %u at %016lx, BadVAddr %016lx)", code,
		     f->epc, f->badvaddr);
	}

	if (f->vec == VEC_TLB_REFILL || f->vec == VEC_XTLB_REFILL) {
		if (code != EXC_TLBL && code != EXC_TLBS) {
			dump_frame(f);
			fail("refill vector with ExcCode %u", code);
		}
		switch (refill_action) {
		case RF_MAP:
			write_c0_pagemask(PM_4K);
			write_c0_entrylo0(pend_lo0);
			write_c0_entrylo1(pend_lo1);
			tlbwr();                /* EntryHi as loaded by the hardware */
			break;
		case RF_SKIP:
			f->epc += 4;
			f->regs[R_V0] = SENTINEL;
			break;
		default:
			dump_frame(f);
			fail("unexpected TLB refill for %016lx", f->badvaddr);
		}
		return;
	}

	if (f->vec != VEC_GENERAL) {
		dump_frame(f);
		fail("exception through unexpected vector +0x%lx", f->vec);
	}

	switch (general_action) {
	case GA_FIX:
		if (code == EXC_TLBL || code == EXC_TLBS || code == EXC_MOD) {
			handler_fix(f);
			write_c0_entryhi(f->entryhi);
			return;
		}
		break;
	case GA_SKIP:
		f->epc += 4;
		f->regs[R_V0] = SENTINEL;
		return;
	default:
		break;
	}
	dump_frame(f);
	fail("unexpected exception ExcCode %u at %016lx (BadVAddr %016lx)", code,
	     f->epc, f->badvaddr);
}

static void expect(enum refill_action r, enum general_action g)
{
	nexc = 0;
	handler_error = 0;
	refill_action = r;
	general_action = g;
}

static void expect_done(void)
{
	refill_action = RF_FAIL;
	general_action = GA_FAIL;
}

/* ------------------------------------------------------------------ */
/* TLB helpers                                                         */

static void set_asid(u32 asid)
{
	write_c0_entryhi((read_c0_entryhi() & ~0xffUL) | asid);
}

static void tlb_write_index(int idx, u64 va, u32 asid, u64 mask, u64 lo0, u64 lo1)
{
	write_c0_pagemask(mask);
	write_c0_entryhi((va & ~(mask | 0x1fffUL)) | asid);
	write_c0_entrylo0(lo0);
	write_c0_entrylo1(lo1);
	write_c0_index(idx);
	tlbwi();
}

/* Invalidate every entry with unique, never-matching (ckseg0) VPN2s. */
static void tlb_flush_all(void)
{
	u64 hi = read_c0_entryhi();
	for (int i = 0; i < NTLB; i++)
		tlb_write_index(i, CKSEG0_BASE + ((u64)i << 13), 0, PM_4K, 0, 0);
	write_c0_pagemask(PM_4K);
	write_c0_entryhi(hi);
}

static int tlb_probe(u64 hi)
{
	u64 save = read_c0_entryhi();
	write_c0_entryhi(hi);
	tlbp();
	u32 idx = read_c0_index();
	write_c0_entryhi(save);
	return (idx & INDEX_P) ? -1 : (int)(idx & 0x3f);
}

static u64 lo(u64 pa, int cca, u32 flags)
{
	return ENTRYLO_PFN(pa) | ENTRYLO_C(cca) | flags;
}

static void set_xbits(u32 bits)
{
	write_c0_status((read_c0_status() & ~(ST_UX | ST_SX | ST_KX)) | bits);
}

static void zero_phys(u64 pa, u64 len)
{
	for (u64 o = 0; o < len; o += 8)
		*(volatile u64 *)KSEG0(pa + o) = 0;
}

static u64 peek(u64 pa) { return *(volatile u64 *)KSEG0(pa); }
static void poke(u64 pa, u64 v) { *(volatile u64 *)KSEG0(pa) = v; }

/* ------------------------------------------------------------------ */
/* Tests                                                               */

static void test_config(void)
{
	u32 c1 = read_c0_config1();
	CHECK(((c1 >> 25) & 0x3f) == NTLB - 1, "Config1.MMUSize-1 = %u, expected %d",
	      (c1 >> 25) & 0x3f, NTLB - 1);

	/* SEGBITS: the implemented VPN2 bits of EntryHi read back as ones. */
	write_c0_entryhi(0x3fffffffffffe000UL);
	u64 hi = read_c0_entryhi();
	write_c0_entryhi(0);
	segbits = 13;
	while (segbits < 62 && (hi & (1UL << segbits)))
		segbits++;
	vpn2_mask = ((1UL << segbits) - 1) & ~0x1fffUL;
	printf("  EntryHi all-ones VPN2 reads %016lx: SEGBITS=%d\n", hi, segbits);
	CHECK(segbits >= 40 && segbits < 62, "SEGBITS=%d unsupported (EntryHi %016lx)", segbits, hi);
	CHECK((hi & vpn2_mask) == vpn2_mask && (hi & ~vpn2_mask) == 0,
	      "EntryHi VPN2 write/read back %016lx", hi);

	/* Supported page sizes read back from PageMask. */
	static const u64 masks[] = { PM_4K, PM_16K, PM_64K, PM_256K, PM_1M, PM_4M, PM_16M };
	for (unsigned i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		write_c0_pagemask(masks[i]);
		u64 r = read_c0_pagemask();
		CHECK(r == masks[i], "PageMask %lx reads back %lx", masks[i], r);
	}
	write_c0_pagemask(PM_4K);
	printf("  ok: Config1.MMUSize, EntryHi, PageMask\n");
}

static void test_tlbr_tlbp(void)
{
	tlb_flush_all();

	struct { int idx; u64 va; u32 asid; u64 mask; u64 lo0, lo1; } e[] = {
		{ 17, 0x12340000UL, 0x2a, PM_4K,
		  lo(0x01234000, CCA_CACHED, ENTRYLO_D | ENTRYLO_V),
		  lo(0x05678000, CCA_UNCACHED, ENTRYLO_V) },
		{ 40, 0x20000000UL, 0x11, PM_16K,
		  lo(0x01010000, CCA_CACHED, ENTRYLO_G | ENTRYLO_V),
		  lo(0x01020000, CCA_CACHED, ENTRYLO_G | ENTRYLO_D) },
		{ 41, 0x40000000UL, 0x00, PM_1M,
		  lo(0x01100000, CCA_CACHED, ENTRYLO_V | ENTRYLO_D),
		  lo(0x01300000, CCA_CACHED, ENTRYLO_V) },
		{ 42, 0xc000000050000000UL, 0x07, PM_4K,
		  lo(0x01005000, CCA_CACHED, ENTRYLO_V), 0 },
		{ 43, 0x0000000050000000UL, 0x07, PM_4K,
		  0, lo(0x01006000, CCA_CACHED, ENTRYLO_V) },
	};
	int n = sizeof(e) / sizeof(e[0]);

	for (int i = 0; i < n; i++)
		tlb_write_index(e[i].idx, e[i].va, e[i].asid, e[i].mask, e[i].lo0, e[i].lo1);

	for (int i = 0; i < n; i++) {
		write_c0_entryhi(0);
		write_c0_entrylo0(0x3f);
		write_c0_entrylo1(0x3f);
		write_c0_pagemask(PM_16M);
		write_c0_index(e[i].idx);
		tlbr();
		u64 hi = read_c0_entryhi(), l0 = read_c0_entrylo0(), l1 = read_c0_entrylo1();
		u64 pm = read_c0_pagemask();
		CHECK(hi == (e[i].va | e[i].asid), "TLBR[%d]: EntryHi %016lx, expected %016lx",
		      e[i].idx, hi, e[i].va | e[i].asid);
		CHECK(l0 == e[i].lo0, "TLBR[%d]: EntryLo0 %016lx, expected %016lx", e[i].idx, l0, e[i].lo0);
		CHECK(l1 == e[i].lo1, "TLBR[%d]: EntryLo1 %016lx, expected %016lx", e[i].idx, l1, e[i].lo1);
		CHECK(pm == e[i].mask, "TLBR[%d]: PageMask %lx, expected %lx", e[i].idx, pm, e[i].mask);
	}
	printf("  ok: TLBWI/TLBR round trip\n");

	/* G is the AND of EntryLo0.G and EntryLo1.G; TLBR returns it in both. */
	tlb_write_index(44, 0x60000000UL, 0x3, PM_4K,
			lo(0x01007000, CCA_CACHED, ENTRYLO_G | ENTRYLO_V),
			lo(0x01008000, CCA_CACHED, ENTRYLO_V));
	write_c0_index(44);
	tlbr();
	CHECK(!(read_c0_entrylo0() & ENTRYLO_G), "TLBR: G set although EntryLo1.G was 0");

	struct { u64 hi; int idx; const char *what; } p[] = {
		{ 0x12340000UL | 0x2a, 17, "exact VPN2+ASID" },
		{ 0x12340000UL | 0x2b, -1, "ASID mismatch" },
		{ 0x12342000UL | 0x2a, -1, "next VPN2" },
		{ 0x12341000UL | 0x2a, 17, "odd page of the pair" },
		{ 0x20000000UL | 0x55, 40, "global entry, other ASID" },
		{ 0x20006000UL | 0x55, 40, "16K pair, masked VPN2 bits" },
		{ 0x20008000UL | 0x11, -1, "beyond the 16K pair" },
		{ 0x401fe000UL, 41, "1M pair, masked VPN2 bits" },
		{ 0xc000000050000000UL | 0x07, 42, "xkseg (R=3)" },
		{ 0x0000000050000000UL | 0x07, 43, "xuseg (R=0)" },
		{ 0x4000000050000000UL | 0x07, -1, "xsseg (R=1) not present" },
		{ 0x60000000UL | 0x4, -1, "G only in EntryLo0" },
		{ 0x60000000UL | 0x3, 44, "non-global entry, own ASID" },
	};
	for (unsigned i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		int r = tlb_probe(p[i].hi);
		CHECK(r == p[i].idx, "TLBP %s (EntryHi %016lx): index %d, expected %d",
		      p[i].what, p[i].hi, r, p[i].idx);
	}
	/* Index.P must be bit 31 exactly. */
	write_c0_entryhi(0x7ff00000UL);
	tlbp();
	u32 idx = read_c0_index();
	write_c0_entryhi(0);
	CHECK(idx & INDEX_P, "TLBP miss: Index.P clear (Index %08x)", idx);
	printf("  ok: TLBP hits/misses, Index.P\n");
	tlb_flush_all();
}

static void test_mapped_4k(void)
{
	const u64 va = 0x10000000UL;
	const u64 pa_even = PA_SCRATCH, pa_odd = PA_SCRATCH + 0x3000;

	tlb_flush_all();
	set_xbits(0);
	zero_phys(PA_SCRATCH, 0x6000);
	tlb_write_index(1, va, 0, PM_4K,
			lo(pa_even, CCA_CACHED, ENTRYLO_D | ENTRYLO_V),
			lo(pa_odd, CCA_CACHED, ENTRYLO_D | ENTRYLO_V));

	expect(RF_FAIL, GA_FAIL);
	mem_sd(va + 0x10, 0x1111222233334444UL);
	mem_sd(va + 0x1018, 0x5555666677778888UL);
	mem_sw(va + 0xffc, 0xa5a5a5a5);
	CHECK(peek(pa_even + 0x10) == 0x1111222233334444UL, "4K even page: store not at PA %lx", pa_even + 0x10);
	CHECK(peek(pa_odd + 0x18) == 0x5555666677778888UL, "4K odd page: store not at PA %lx", pa_odd + 0x18);
	CHECK(peek(pa_even + 0x1018) == 0, "4K odd page store went to the even PFN + 4K");
	CHECK(peek(pa_even + 0xff8) == (GUEST_BIG_ENDIAN ? 0xa5a5a5a5UL : 0xa5a5a5a5UL << 32),
	      "4K sw at end of page: memory %016lx", peek(pa_even + 0xff8));
	poke(pa_odd + 0x20, 0x0123456789abcdefUL);
	CHECK(mem_ld(va + 0x1020) == 0x0123456789abcdefUL, "4K mapped load mismatch");
	CHECK(mem_lw(va + 0x1024) == (GUEST_BIG_ENDIAN ? 0x89abcdef : 0x01234567), "4K mapped lw mismatch");

	/* Uncached mapping (C=2), checked through the kseg1 alias. */
	tlb_write_index(2, 0x10002000UL, 0, PM_4K,
			lo(PA_SCRATCH + 0x4000, CCA_UNCACHED, ENTRYLO_D | ENTRYLO_V), 0);
	mem_sd(0x10002000UL + 0x40, 0xfeedfacecafebeefUL);
	CHECK(*(volatile u64 *)KSEG1(PA_SCRATCH + 0x4040) == 0xfeedfacecafebeefUL,
	      "uncached mapping: store not visible through kseg1");
	CHECK(nexc == 0, "mapped 4K accesses raised exceptions");
	expect_done();
	printf("  ok: 4K mappings in kuseg (cached and uncached)\n");
}

static void test_pagesize(const char *name, u64 mask, u64 va)
{
	u64 size = ((mask >> 13) + 1) << 12;

	tlb_flush_all();
	tlb_write_index(3, va, 0, mask,
			lo(PA_BIG_EVEN, CCA_CACHED, ENTRYLO_D | ENTRYLO_V),
			lo(PA_BIG_ODD, CCA_CACHED, ENTRYLO_D | ENTRYLO_V));
	poke(PA_BIG_EVEN + size - 8, 0);
	poke(PA_BIG_EVEN + size, 0);
	poke(PA_BIG_ODD + size / 2 + 8, 0);
	poke(PA_BIG_ODD + 8, 0);

	expect(RF_FAIL, GA_FAIL);
	u64 v1 = 0xabcd000000000000UL | mask, v2 = 0xdcba000000000000UL | mask;
	mem_sd(va + size - 8, v1);
	mem_sd(va + size + size / 2 + 8, v2);
	CHECK(peek(PA_BIG_EVEN + size - 8) == v1, "%s page: even store not at PA %lx",
	      name, PA_BIG_EVEN + size - 8);
	CHECK(peek(PA_BIG_ODD + size / 2 + 8) == v2, "%s page: odd store not at PA %lx",
	      name, PA_BIG_ODD + size / 2 + 8);
	CHECK(peek(PA_BIG_EVEN + size) == 0 && peek(PA_BIG_ODD + 8) == 0,
	      "%s page: store went to the wrong place", name);
	poke(PA_BIG_EVEN + 0x18, 0x600d);
	CHECK(mem_ld(va + 0x18) == 0x600d, "%s page: load mismatch", name);
	CHECK(nexc == 0, "%s page: exceptions", name);
	expect_done();
	printf("  ok: %s page pair at %016lx\n", name, va);
}

/*
 * Access an unmapped address; the refill handler maps it to PA_SCRATCH+0x40000
 * (even) / +0x41000 (odd) and the access is retried.
 */
static void test_refill(u32 xbits, u64 va, int store, u64 want_vec)
{
	const u64 pa_even = PA_SCRATCH + 0x40000, pa_odd = PA_SCRATCH + 0x41000;
	const u64 ptebase = 0x0000000012800000UL;           /* Context bits 63:23 */
	const u64 xptebase = 0x1234000000000000UL;          /* XContext high bits */
	const u32 asid = 0x33;
	u64 pa = ((va & 0x1000) ? pa_odd : pa_even) + (va & 0xfff);
	const char *what = store ? "store" : "load";

	tlb_flush_all();
	set_xbits(xbits);
	set_asid(asid);
	write_c0_context(ptebase);
	write_c0_xcontext(xptebase);
	pend_lo0 = lo(pa_even, CCA_CACHED, ENTRYLO_D | ENTRYLO_V);
	pend_lo1 = lo(pa_odd, CCA_CACHED, ENTRYLO_D | ENTRYLO_V);
	poke(pa, store ? 0 : 0x7e57da7a00000000UL | (va & 0xffffffff));

	expect(RF_MAP, GA_FAIL);
	if (store) {
		mem_sd(va, 0x57023d0000000000UL | xbits);
		CHECK(peek(pa) == (0x57023d0000000000UL | xbits),
		      "refill %016lx: retried store did not reach PA %lx", va, pa);
	} else {
		u64 v = mem_ld(va);
		CHECK(v == (0x7e57da7a00000000UL | (va & 0xffffffff)),
		      "refill %016lx: retried load returned %016lx", va, v);
	}
	expect_done();

	CHECK(nexc == 1, "refill %016lx: %d exceptions, expected 1", va, nexc);
	CHECK(last.vec == want_vec, "refill %016lx (UX=%d SX=%d KX=%d): vector +0x%03lx, expected +0x%03lx",
	      va, !!(xbits & ST_UX), !!(xbits & ST_SX), !!(xbits & ST_KX), last.vec, want_vec);
	CHECK(CAUSE_EXCCODE(last.cause) == (store ? EXC_TLBS : EXC_TLBL),
	      "refill %016lx: ExcCode %u", va, (unsigned)CAUSE_EXCCODE(last.cause));
	CHECK(last.epc == (store ? ADDR(mem_sd_insn) : ADDR(mem_ld_insn)),
	      "refill %016lx: EPC %016lx", va, last.epc);
	CHECK(last.badvaddr == va, "refill %016lx: BadVAddr %016lx", va, last.badvaddr);

	u64 want_hi = (va & (0xc000000000000000UL | vpn2_mask)) | asid;
	CHECK(last.entryhi == want_hi, "refill %016lx: EntryHi %016lx, expected %016lx",
	      va, last.entryhi, want_hi);

	u64 ctx = last.context;
	CHECK((ctx >> 23) == (ptebase >> 23), "refill %016lx: Context.PTEBase changed (%016lx)", va, ctx);
	CHECK(((ctx >> 4) & 0x7ffff) == ((va >> 13) & 0x7ffff) && (ctx & 0xf) == 0,
	      "refill %016lx: Context %016lx, BadVPN2 expected %05lx", va, ctx, (va >> 13) & 0x7ffff);

	u64 xctx = last.xcontext;
	u64 bvpn2_mask = (1UL << (segbits - 13)) - 1;
	CHECK(((xctx >> 4) & bvpn2_mask) == ((va >> 13) & bvpn2_mask) && (xctx & 0xf) == 0,
	      "refill %016lx: XContext %016lx, BadVPN2 expected %lx", va, xctx, (va >> 13) & bvpn2_mask);
	CHECK(((xctx >> (segbits - 9)) & 3) == (va >> 62),
	      "refill %016lx: XContext.R = %lu, expected %lu", va, (xctx >> (segbits - 9)) & 3, va >> 62);
	CHECK((xctx >> (segbits - 7)) == (xptebase >> (segbits - 7)),
	      "refill %016lx: XContext.PTEBase changed (%016lx)", va, xctx);

	/* The entry written by TLBWR from the hardware-loaded EntryHi is found. */
	CHECK(tlb_probe(want_hi) >= 0, "refill %016lx: TLBWR entry not found by TLBP", va);

	set_asid(0);
	set_xbits(0);
	printf("  ok: refill %-5s %016lx UX=%d SX=%d KX=%d -> +0x%03lx\n", what, va,
	       !!(xbits & ST_UX), !!(xbits & ST_SX), !!(xbits & ST_KX), want_vec);
}

static void test_refills(void)
{
	const u64 xuseg = 0x0000001000400000UL;         /* needs SEGBITS > 36 */
	const u64 xsseg = 0x4000000000400000UL;
	const u64 xkseg = 0xc000000000400000UL;
	const u64 kuseg = 0x10400000UL, ckseg2 = 0xffffffffc0400000UL;

	test_refill(0, kuseg, 0, VEC_TLB_REFILL);
	test_refill(0, kuseg + 0x2008, 1, VEC_TLB_REFILL);
	test_refill(0, ckseg2, 0, VEC_TLB_REFILL);
	test_refill(0, ckseg2 + 0x1010, 1, VEC_TLB_REFILL);
	test_refill(ST_UX, kuseg, 0, VEC_XTLB_REFILL);
	test_refill(ST_UX, xuseg + 0x1008, 0, VEC_XTLB_REFILL);
	test_refill(ST_UX, xuseg, 1, VEC_XTLB_REFILL);
	test_refill(ST_UX, ckseg2, 0, VEC_TLB_REFILL);
	test_refill(ST_KX, kuseg, 1, VEC_TLB_REFILL);
	test_refill(ST_KX, ckseg2, 0, VEC_XTLB_REFILL);
	test_refill(ST_KX, xkseg, 0, VEC_XTLB_REFILL);
	test_refill(ST_KX, xkseg + 0x1000, 1, VEC_XTLB_REFILL);
	test_refill(ST_SX, xsseg, 0, VEC_XTLB_REFILL);
	test_refill(ST_SX, ckseg2, 0, VEC_TLB_REFILL);
	test_refill(ST_UX | ST_SX | ST_KX, kuseg, 0, VEC_XTLB_REFILL);
	test_refill(ST_UX | ST_SX | ST_KX, ckseg2, 1, VEC_XTLB_REFILL);

	/* 64-bit segments that are disabled give address errors, not refills. */
	struct { u32 xbits; u64 va; } ae[] = {
		{ 0, xuseg }, { ST_KX | ST_SX, xuseg },
		{ 0, xkseg }, { ST_UX | ST_SX, xkseg },
		{ 0, xsseg }, { ST_UX | ST_KX, xsseg },
	};
	for (unsigned i = 0; i < sizeof(ae) / sizeof(ae[0]); i++) {
		tlb_flush_all();
		set_xbits(ae[i].xbits);
		expect(RF_FAIL, GA_SKIP);
		u64 v = mem_ld(ae[i].va);
		expect_done();
		set_xbits(0);
		CHECK(nexc == 1 && last.vec == VEC_GENERAL && CAUSE_EXCCODE(last.cause) == EXC_ADEL,
		      "load %016lx with UX/SX/KX=%d%d%d: expected AdEL (nexc %d, vec +0x%lx, ExcCode %u)",
		      ae[i].va, !!(ae[i].xbits & ST_UX), !!(ae[i].xbits & ST_SX),
		      !!(ae[i].xbits & ST_KX), nexc, last.vec, (unsigned)CAUSE_EXCCODE(last.cause));
		CHECK(last.badvaddr == ae[i].va && v == SENTINEL, "AdEL %016lx: BadVAddr %016lx",
		      ae[i].va, last.badvaddr);
	}
	printf("  ok: disabled 64-bit segments raise AdEL\n");
}

static void test_invalid_modified(void)
{
	const u64 va = 0x10800000UL;
	const u64 pa_even = PA_SCRATCH + 0x8000, pa_odd = PA_SCRATCH + 0x9000;

	/* TLB invalid on load: V=0 on the even page. */
	tlb_flush_all();
	tlb_write_index(5, va, 0, PM_4K,
			lo(pa_even, CCA_CACHED, ENTRYLO_D),
			lo(pa_odd, CCA_CACHED, ENTRYLO_D | ENTRYLO_V));
	poke(pa_even + 0x30, 0x1a1a1a1a);
	expect(RF_FAIL, GA_FIX);
	u64 v = mem_ld(va + 0x30);
	mem_sd(va + 0x1000, 0x2b2b);             /* odd page valid: no exception */
	expect_done();
	CHECK(!handler_error, "TLB invalid: TLBP in the handler did not find the entry");
	CHECK(nexc == 1, "TLB invalid (load): %d exceptions", nexc);
	CHECK(last.vec == VEC_GENERAL, "TLB invalid (load): vector +0x%lx, expected +0x180", last.vec);
	CHECK(CAUSE_EXCCODE(last.cause) == EXC_TLBL, "TLB invalid (load): ExcCode %u",
	      (unsigned)CAUSE_EXCCODE(last.cause));
	CHECK(last.badvaddr == va + 0x30, "TLB invalid (load): BadVAddr %016lx", last.badvaddr);
	CHECK(last.entryhi == va, "TLB invalid (load): EntryHi %016lx", last.entryhi);
	CHECK(last.epc == ADDR(mem_ld_insn), "TLB invalid (load): EPC %016lx", last.epc);
	CHECK(v == 0x1a1a1a1a, "TLB invalid (load): retried load returned %lx", v);
	CHECK(peek(pa_odd) == 0x2b2b, "odd page store missing");
	printf("  ok: TLB invalid on load (TLBL via +0x180), fixed and retried\n");

	/* TLB invalid on store: V=0 on the odd page. */
	tlb_write_index(5, va, 0, PM_4K,
			lo(pa_even, CCA_CACHED, ENTRYLO_D | ENTRYLO_V),
			lo(pa_odd, CCA_CACHED, ENTRYLO_D));
	expect(RF_FAIL, GA_FIX);
	mem_sw(va + 0x1044, 0x3c3c3c3c);
	expect_done();
	CHECK(!handler_error, "TLB invalid: TLBP in the handler did not find the entry");
	CHECK(nexc == 1 && last.vec == VEC_GENERAL && CAUSE_EXCCODE(last.cause) == EXC_TLBS,
	      "TLB invalid (store): nexc %d vec +0x%lx ExcCode %u", nexc, last.vec,
	      (unsigned)CAUSE_EXCCODE(last.cause));
	CHECK(last.badvaddr == va + 0x1044, "TLB invalid (store): BadVAddr %016lx", last.badvaddr);
	CHECK((GUEST_BIG_ENDIAN ? (u32)peek(pa_odd + 0x40) : peek(pa_odd + 0x40) >> 32) == 0x3c3c3c3c,
	      "TLB invalid (store): retried store missing");
	printf("  ok: TLB invalid on store (TLBS via +0x180), fixed and retried\n");

	/* TLB modified: D=0, loads work, the first store faults. */
	tlb_write_index(6, va + 0x200000, 0, PM_4K,
			lo(pa_even, CCA_CACHED, ENTRYLO_V),
			lo(pa_odd, CCA_CACHED, ENTRYLO_V));
	poke(pa_even + 0x100, 0x4d4d);
	expect(RF_FAIL, GA_FIX);
	v = mem_ld(va + 0x200000 + 0x100);
	CHECK(nexc == 0, "load from a clean (D=0) page raised an exception");
	CHECK(v == 0x4d4d, "load from D=0 page returned %lx", v);
	mem_sd(va + 0x200000 + 0x108, 0x5e5e);
	expect_done();
	CHECK(!handler_error, "TLB modified: TLBP in the handler did not find the entry");
	CHECK(nexc == 1 && last.vec == VEC_GENERAL && CAUSE_EXCCODE(last.cause) == EXC_MOD,
	      "TLB modified: nexc %d vec +0x%lx ExcCode %u", nexc, last.vec,
	      (unsigned)CAUSE_EXCCODE(last.cause));
	CHECK(last.badvaddr == va + 0x200108, "TLB modified: BadVAddr %016lx", last.badvaddr);
	CHECK(last.entryhi == va + 0x200000, "TLB modified: EntryHi %016lx", last.entryhi);
	CHECK(peek(pa_even + 0x108) == 0x5e5e, "TLB modified: retried store missing");
	printf("  ok: TLB modified (Mod via +0x180), fixed and retried\n");
	tlb_flush_all();
}

static void test_asid(void)
{
	const u64 pa = PA_SCRATCH + 0xa000;

	tlb_flush_all();
	poke(pa, 0xa51d);
	poke(pa + 0x1000, 0x610ba1);
	poke(pa + 0x1008, 0);
	tlb_write_index(7, 0x10c00000UL, 5, PM_4K,
			lo(pa, CCA_CACHED, ENTRYLO_V), lo(pa, CCA_CACHED, ENTRYLO_V));
	tlb_write_index(8, 0x10e00000UL, 9, PM_4K,
			lo(pa + 0x1000, CCA_CACHED, ENTRYLO_V | ENTRYLO_G),
			lo(pa + 0x1000, CCA_CACHED, ENTRYLO_V | ENTRYLO_G));
	tlb_write_index(9, 0x11000000UL, 9, PM_4K,
			lo(pa, CCA_CACHED, ENTRYLO_V | ENTRYLO_G),
			lo(pa, CCA_CACHED, ENTRYLO_V));

	expect(RF_SKIP, GA_FAIL);
	set_asid(5);
	CHECK(mem_ld(0x10c00000UL) == 0xa51d && nexc == 0, "ASID 5: own entry not matched");
	set_asid(6);
	u64 v = mem_ld(0x10c00000UL);
	CHECK(nexc == 1 && v == SENTINEL && last.vec == VEC_TLB_REFILL,
	      "ASID 6: entry of ASID 5 matched (nexc %d)", nexc);
	CHECK((last.entryhi & 0xff) == 6, "refill: EntryHi.ASID %lx, expected 6", last.entryhi & 0xff);
	nexc = 0;
	CHECK(mem_ld(0x10e00000UL) == 0x610ba1 && nexc == 0, "ASID 6: global entry not matched");
	set_asid(0xff);
	CHECK(mem_ld(0x10e00008UL) == 0 && nexc == 0, "ASID 255: global entry not matched");
	set_asid(6);
	v = mem_ld(0x11000000UL);
	CHECK(nexc == 1 && v == SENTINEL, "entry with G only in EntryLo0 treated as global");
	set_asid(9);
	nexc = 0;
	CHECK(mem_ld(0x11000000UL) == 0xa51d && nexc == 0, "ASID 9: own entry not matched");
	expect_done();
	set_asid(0);
	tlb_flush_all();
	printf("  ok: ASID match/mismatch and global entries\n");
}

static void test_wired_random(void)
{
	const int wired = 8;
	u32 seen_lo = 64, seen_hi = 0;

	tlb_flush_all();
	write_c0_wired(0);
	for (int i = 0; i < 16; i++) {
		u32 r = read_c0_random();
		CHECK(r < NTLB, "Random %u out of range with Wired=0", r);
	}
	write_c0_wired(wired);
	CHECK(read_c0_wired() == (u32)wired, "Wired reads back %u", read_c0_wired());
	printf("  Random after writing Wired=%d: %u\n", wired, read_c0_random());

	for (int i = 0; i < wired; i++)
		tlb_write_index(i, 0x30000000UL + ((u64)i << 13), 0, PM_4K,
				lo(PA_SCRATCH, CCA_CACHED, ENTRYLO_V), 0);
	for (int i = 0; i < 300; i++) {
		u32 r = read_c0_random();
		CHECK(r >= (u32)wired && r < NTLB, "Random %u outside [Wired=%d, %d]", r, wired, NTLB - 1);
		if (r < seen_lo)
			seen_lo = r;
		if (r > seen_hi)
			seen_hi = r;
		write_c0_pagemask(PM_4K);
		write_c0_entryhi(0x31000000UL + ((u64)i << 13));
		write_c0_entrylo0(0);
		write_c0_entrylo1(0);
		tlbwr();
	}
	for (int i = 0; i < wired; i++) {
		write_c0_index(i);
		tlbr();
		u64 hi = read_c0_entryhi();
		CHECK(hi == 0x30000000UL + ((u64)i << 13), "TLBWR overwrote wired entry %d (EntryHi %016lx)", i, hi);
	}
	/* TLBWR must have spread the 300 entries over the non-wired part. */
	int found = 0;
	for (int i = 300 - (NTLB - wired); i < 300; i++)
		found += tlb_probe(0x31000000UL + ((u64)i << 13)) >= 0;
	printf("  Random seen in [%u, %u]; %d of the last %d TLBWR entries present\n",
	       seen_lo, seen_hi, found, NTLB - wired);
	CHECK(seen_lo != seen_hi, "Random never changed");
	CHECK(found >= 2, "TLBWR entries missing (%d found)", found);
	write_c0_entryhi(0);
	write_c0_wired(0);
	tlb_flush_all();
	printf("  ok: Wired and Random\n");
}

int main(void)
{
	printf("tlb test (vectors at %016lx)\n", exc_vector_base());
	test_config();
	test_tlbr_tlbp();
	test_mapped_4k();
	test_pagesize("4K", PM_4K, 0x50000000UL);
	test_pagesize("16K", PM_16K, 0x50000000UL);
	test_pagesize("64K", PM_64K, 0x50000000UL);
	test_pagesize("1M", PM_1M, 0x50000000UL);
	test_pagesize("16M", PM_16M, 0x50000000UL);
	test_refills();
	test_invalid_modified();
	test_asid();
	test_wired_random();
	printf("PASS\n");
	return 0;
}
